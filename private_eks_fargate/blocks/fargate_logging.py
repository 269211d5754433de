"""Fargate container logs to a CloudWatch log group the stack owns, through Fargate's built-in Fluent Bit."""

from __future__ import annotations

from typing import Mapping

from aws_cdk import Aws, RemovalPolicy, Stack, Token
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from ..compliance import HIPAA, NIST, PCI, acknowledge_in_packs
from ..settings import OperationsSettings, key_of
from ..settings.errors import ConfigError
from .keys import platform_key
from .manifests import retained_manifest
from .logs import DEFAULT_LOG_RETENTION_DAYS, retention, retention_is_the_users_choice

NAMESPACE = "aws-observability"
CONFIG_MAP = "aws-logging"
#: The only data keys the Fargate log router reads, and the section each may contain.
SECTIONS = {"filters.conf": "[FILTER]", "output.conf": "[OUTPUT]", "parsers.conf": "[PARSER]"}
#: EKS rejects a larger aws-logging ConfigMap ("can't exceed 5300 characters").
MAX_CONFIG_CHARS = 5300

#: Kubernetes metadata (namespace, pod, labels) on every record; the values AWS documents for Fargate.
KUBERNETES_FILTER = """[FILTER]
    Name kubernetes
    Match kube.*
    Merge_Log On
    Keep_Log Off
    Buffer_Size 0
    Kube_Meta_Cache_TTL 300s
"""


def logging_config(*, region: str, log_group_name: str, extra_filters: str = "", parsers: str = "") -> dict[str, str]:
    """The aws-logging ConfigMap's data: CloudWatch output to an existing group, Kubernetes metadata filter."""
    data = {
        "output.conf": (
            "[OUTPUT]\n"
            "    Name cloudwatch_logs\n"
            "    Match kube.*\n"
            f"    region {region}\n"
            f"    log_group_name {log_group_name}\n"
            "    log_stream_prefix fargate-\n"
            # the group is the stack's (retention, KMS): the router must not create one of its own
            "    auto_create_group false\n"
        ),
        "filters.conf": KUBERNETES_FILTER + (extra_filters.rstrip("\n") + "\n" if extra_filters.strip() else ""),
    }
    if parsers.strip():
        data["parsers.conf"] = parsers.rstrip("\n") + "\n"
    return data


_KEY = {name: key_of(OperationsSettings, name) for name in ("fargate_logging", "log_extra_filters", "log_parsers")}


def check_logging_config(data: Mapping[str, str], *, setting: str = _KEY["log_extra_filters"]) -> int:
    """Raise ConfigError unless `data` is a ConfigMap the Fargate log router accepts; return its size in characters.

    Unresolved tokens (the region of an environment-agnostic stack) count with their placeholder text, which is
    longer than any region name, so the size is never underestimated. `setting` is named when the data is too large.
    """
    for key, text in data.items():
        if key not in SECTIONS:
            raise ConfigError(_KEY["fargate_logging"], f"ConfigMap key {key!r} is not one of {', '.join(SECTIONS)}")
        section_setting = _KEY["log_parsers"] if key == "parsers.conf" else _KEY["log_extra_filters"]
        for line in text.splitlines():
            header = line.strip()
            if header.startswith("[") and header.upper() != SECTIONS[key]:
                raise ConfigError(section_setting, f"{key} may only contain {SECTIONS[key]} sections, not {header}")
    size = sum(len(key) + len(text) for key, text in data.items())
    if size > MAX_CONFIG_CHARS:
        raise ConfigError(
            setting,
            f"the aws-logging ConfigMap would be {size} characters; Fargate accepts at most {MAX_CONFIG_CHARS}",
        )
    return size


def checked_logging_config(scope: Construct, log_group_name: str, settings: OperationsSettings) -> dict[str, str]:
    """The aws-logging ConfigMap data for a log group in `scope`'s stack; ConfigError if Fargate would reject it."""
    settings.validate()
    if Token.is_unresolved(log_group_name):
        raise ConfigError(_KEY["fargate_logging"], "the log group name must be known at synth")
    data = logging_config(
        region=Stack.of(scope).region,
        log_group_name=log_group_name,
        extra_filters=settings.log_extra_filters,
        parsers=settings.log_parsers,
    )
    only_parsers = settings.log_parsers and not settings.log_extra_filters
    check_logging_config(data, setting=_KEY["log_parsers"] if only_parsers else _KEY["log_extra_filters"])
    return data


class FargateLogging(Construct):
    """Namespace ``aws-observability`` and ConfigMap ``aws-logging`` sending container logs to a CloudWatch log group.

    The group is owned by the stack (retention from the settings, retained on destroy) and encrypted with a KMS key
    whose policy admits the logs service for this group only. The pod execution role may create streams and put
    events in this group and nowhere else. Fargate applies the configuration to pods started after it exists.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: eks.ICluster,
        pod_execution_role: iam.IRole,
        log_group_name: str,
        settings: OperationsSettings | None = None,
        retention_days: int = DEFAULT_LOG_RETENTION_DAYS,
        namespace_labels: Mapping[str, str] | None = None,
    ) -> None:
        """
        :param cluster: the cluster the manifests are applied to
        :param pod_execution_role: the Fargate profiles' pod execution role (the log router writes with it)
        :param log_group_name: the CloudWatch log group's name (a plain string: the ConfigMap's size is checked at synth)
        :param settings: KMS key and extra Fluent Bit sections. default: ``OperationsSettings()``
        :param retention_days: the log group's retention (``compliance.log_retention_days``). default: 365
        :param namespace_labels: further labels of the ``aws-observability`` namespace, e.g. its Pod Security labels
            (``PrivateCluster.pod_security_labels``: it runs no pods, so restricted costs nothing). default: none
        """
        settings = settings or OperationsSettings()
        self.data = checked_logging_config(scope, log_group_name, settings)
        super().__init__(scope, construct_id)
        region = Stack.of(self).region
        group_arn = f"arn:{Aws.PARTITION}:logs:{region}:{Aws.ACCOUNT_ID}:log-group:{log_group_name}"
        if settings.log_kms_key_arn:
            self.key: kms.IKey = kms.Key.from_key_arn(self, "Key", settings.log_kms_key_arn)
        else:
            key = platform_key(self, "Key", description="Encryption of the Fargate container log group")
            # the logs service encrypts on the group's behalf; scoped to this group by the encryption context
            key.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal(f"logs.{region}.amazonaws.com")],
                    actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                    resources=["*"],
                    conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": group_arn}},
                )
            )
            self.key = key
        self.log_group = logs.LogGroup(
            self,
            "LogGroup",
            log_group_name=log_group_name,
            retention=retention(retention_days),
            encryption_key=self.key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        retention_is_the_users_choice(self.log_group)
        self.log_group.grant(pod_execution_role, "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams")
        inline = pod_execution_role.node.try_find_child("DefaultPolicy")
        if inline is not None:
            acknowledge_in_packs(
                inline.node.default_child,
                "IAMNoInlinePolicy",
                (NIST, HIPAA, PCI),
                "The Fargate pod execution role's inline policy only lets the Fargate log router create streams and "
                "put events in the Fargate container log group; it lives and dies with the role.",
            )

        # retained like every namespace the platform creates: turning logging off deletes the ConfigMap (new pods no
        # longer log), not the namespace and whatever else was put into it
        self.namespace = retained_manifest(
            cluster,
            "AwsObservabilityNamespace",
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": NAMESPACE, "labels": {NAMESPACE: "enabled", **(namespace_labels or {})}},
            },
        )
        self.config_map = cluster.add_manifest(
            "AwsLoggingConfigMap",
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": CONFIG_MAP, "namespace": NAMESPACE},
                "data": self.data,
            },
        )
        self.config_map.node.add_dependency(self.namespace, self.log_group)
