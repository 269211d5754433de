"""Log groups the platform owns: KMS-encrypted, retained on destroy, all with the one configured retention; Lambda
functions pointed at them (``log_to``), so no Lambda creates a log group of its own."""

from __future__ import annotations

from aws_cdk import Aws, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from ..compliance import user_choice
from ..settings import key_of
from ..settings.model import LOG_RETENTION_DAYS, ComplianceSettings
from .keys import platform_key

DEFAULT_LOG_RETENTION_DAYS = ComplianceSettings().log_retention_days

_RETENTION = dict(
    zip(
        LOG_RETENTION_DAYS,
        (
            logs.RetentionDays.ONE_DAY, logs.RetentionDays.THREE_DAYS, logs.RetentionDays.FIVE_DAYS,
            logs.RetentionDays.ONE_WEEK, logs.RetentionDays.TWO_WEEKS, logs.RetentionDays.ONE_MONTH,
            logs.RetentionDays.TWO_MONTHS, logs.RetentionDays.THREE_MONTHS, logs.RetentionDays.FOUR_MONTHS,
            logs.RetentionDays.FIVE_MONTHS, logs.RetentionDays.SIX_MONTHS, logs.RetentionDays.ONE_YEAR,
            logs.RetentionDays.THIRTEEN_MONTHS, logs.RetentionDays.EIGHTEEN_MONTHS, logs.RetentionDays.TWO_YEARS,
            logs.RetentionDays.THREE_YEARS, logs.RetentionDays.FIVE_YEARS, logs.RetentionDays.SIX_YEARS,
            logs.RetentionDays.SEVEN_YEARS, logs.RetentionDays.EIGHT_YEARS, logs.RetentionDays.NINE_YEARS,
            logs.RetentionDays.TEN_YEARS,
        ),
        strict=True,
    )
)
LOG_KEY_ID = "LogsKey"
#: the same in every stack: what each stack's key encrypts is the log groups that name it (the review report lists them)
LOG_KEY_DESCRIPTION = "Encryption of CloudWatch Logs log groups of this stack (those whose KmsKeyId is this key)"


def retention(days: int) -> logs.RetentionDays:
    """CDK's enum member for a retention in days (ComplianceSettings.validate admits only these)."""
    return _RETENTION[days]


def log_key(scope: Construct) -> kms.Key:
    """The stack's one KMS key for CloudWatch Logs (created on first use): rotating, retained on destroy.

    The key policy lets the CloudWatch Logs service of this region use the key, only for log groups of this
    account and region (``kms:EncryptionContext:aws:logs:arn``).
    """
    stack = Stack.of(scope)
    existing = stack.node.try_find_child(LOG_KEY_ID)
    if existing is not None:
        return existing
    key = platform_key(stack, LOG_KEY_ID, description=LOG_KEY_DESCRIPTION)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="CloudWatchLogsOfThisAccount",
            principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            resources=["*"],
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": (
                        f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:*"
                    )
                }
            },
        )
    )
    return key


def retained_log_group(
    scope: Construct, construct_id: str, *, retention_days: int, log_group_name: str | None = None
) -> logs.LogGroup:
    """A log group encrypted with the stack's log key, kept on destroy (logs are evidence), with this retention.

    :param retention_days: one of config.LOG_RETENTION_DAYS
    :param log_group_name: default: none, CloudFormation generates one
    """
    group = logs.LogGroup(
        scope,
        construct_id,
        log_group_name=log_group_name,
        retention=retention(retention_days),
        encryption_key=log_key(scope),
        removal_policy=RemovalPolicy.RETAIN,
    )
    retention_is_the_users_choice(group)
    return group


#: The provider framework's lines are console.log, which Lambda's JSON log format files under INFO: aws-cdk-lib's
#: default level for it, FATAL, drops every one of them, also the failed call and the answer sent to CloudFormation.
FRAMEWORK_LOG_LEVEL = "INFO"


def log_to(group: logs.ILogGroup, function: IConstruct, *, framework: bool = False) -> None:
    """Point a Lambda function aws-cdk-lib creates (without a log group option) at `group` (``LoggingConfig``);
    `framework`: it is a custom-resource provider framework's function, which then also logs at INFO."""
    resource = function.node.default_child
    resource.add_property_override("LoggingConfig.LogGroup", group.log_group_name)
    if framework:
        resource.add_property_override("LoggingConfig.ApplicationLogLevel", FRAMEWORK_LOG_LEVEL)


def retention_is_the_users_choice(group: logs.LogGroup) -> None:
    """AWS Control Tower's CT.CLOUDWATCH.PR.2 (a year of retention or more) is met by the retention setting alone."""
    user_choice(
        group.node.default_child,
        "CT.CLOUDWATCH.PR.2",
        key_of(ComplianceSettings, "log_retention_days"),
        f"365 days or more meets it (the default is {DEFAULT_LOG_RETENTION_DAYS})",
    )
