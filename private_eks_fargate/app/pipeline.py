"""The app's pipeline mode: a CDK pipeline (CodePipeline V2) in a tooling account that deploys the environments of
``app.environments`` in order, each the same ``PrivateEksFargateStage`` that ``make deploy ENV=…`` deploys.

The synth step runs the project's make targets: the test suite, the synth with the compliance packs and AWS Control
Tower controls, cfn-lint and checkov (``make review``: any finding fails the build, and nothing is deployed), then
publishes each stage's review report next to the artifacts. A production environment (``compliance.production``) is
approved by a person before anything of it is deployed; the approval's message is that stage's review summary with a
link to its full report, both made by this execution's synth step from the cloud assembly that is then deployed.

The pipeline does not mutate itself: a commit cannot change the pipeline, its gates or its approvals. A change of the
pipeline's settings, environments or code is deployed by a person with ``make pipeline``; until then the synth step
stops with one line (``definition_digest``).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import asdict
from importlib.metadata import version
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from aws_cdk import App, CfnOutput, Duration, Environment, Stack
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import pipelines
from constructs import Construct

from ..blocks.artifact_store import ArtifactStore
from ..blocks.logs import retained_log_group
from ..compliance import (
    HIPAA,
    NIST,
    PCI,
    REDUNDANT_ROLE_DEPENDENCY,
    acknowledge,
    acknowledge_in_packs,
    apply_tags,
    enable_compliance_checks,
    ignore_cfn_lint,
    logical_id,
    nag_arn,
    skip_checkov,
)
from ..settings import ComplianceSettings, ConfigError, PipelineSettings, key_of
from .context import (
    PIPELINE_STACK_ID,
    PipelineEnvironment,
    pipeline_environments,
    settings_from_context,
    stage_from_context,
)
from .stage import SOURCE_REVISION_VARIABLE, PrivateEksFargateStage

#: the pipeline stack's CloudFormation name (its construct id: PIPELINE_STACK_ID, ``cdk deploy Pipeline``)
STACK_NAME = "PrivateEksFargate-Pipeline"
PIPELINE_NAME = "PrivateEksFargate"
#: the managed policy the approvers' role is given (docs/pipeline.md attaches it by this name)
APPROVER_POLICY = "PrivateEksFargateApprovers"
#: the stack metadata the review tooling reads: the stages in order, which are approved, the variables of each approval
PIPELINE_RECORD = "private-eks-fargate:pipeline"
SYNTH_STEP = "Synth"
#: the synth step's commands: the project's own make targets, then the one shell line that hands the approval
#: messages to CodePipeline (a make target cannot export variables into the build's shell)
INSTALL_COMMANDS = ("make setup-test",)
SYNTH_COMMANDS = ("make test", "make review", "make publish-review", ". cdk.out/review/approvals.env")
#: where the synth step publishes each stage's review report in the artifact bucket: reviews/<execution id>/<stage>/
REVIEWS_PREFIX = "reviews"
#: variables the synth step sets for the app (the definition it was deployed from) and scripts/publish_review.py
DEFINITION_VARIABLE = "PEF_PIPELINE_DEFINITION"
REVIEW_BUCKET_VARIABLE = "PEF_REVIEW_BUCKET"
REVIEW_PREFIX_VARIABLE = "PEF_REVIEW_PREFIX"
#: CodeBuild's Ubuntu image and the Python it runs the project with (pyproject.toml: >= 3.11)
BUILD_IMAGE = codebuild.LinuxBuildImage.STANDARD_7_0
PYTHON_RUNTIME = "3.11"
#: the cdk-assets release the asset publishing steps install (aws-cdk-lib's default is "latest")
CDK_ASSETS_VERSION = "4.7.3"
#: the test suite, the synth of every stage and the scans take minutes; a hung download should not take an hour
SYNTH_TIMEOUT = Duration.minutes(60)


def variable_name(prefix: str, stage: str) -> str:
    """A CodeBuild variable name for a stage (stage names may hold '-', variable names may not)."""
    return f"{prefix}_{stage.upper().replace('-', '_')}"


def approval_variable(stage: str) -> str:
    return variable_name("APPROVAL", stage)


def review_key(execution: str, stage: str) -> str:
    """The object key of a stage's review report in the artifact bucket (scripts/publish_review.py writes it there)."""
    return f"{REVIEWS_PREFIX}/{execution}/{stage}/REVIEW.md"


def definition_digest(settings: PipelineSettings, environments: Sequence[PipelineEnvironment]) -> str:
    """What the deployed pipeline was built from: its settings, its environments (order, account, region, approval),
    the code that defines it (this module, its settings and its artifact store) and aws-cdk-lib. The synth step
    compares it with the commit's: a pipeline that is not what the commit describes would deploy with gates or
    approvals the commit does not have."""
    from ..blocks import artifact_store
    from ..settings import pipeline as settings_module

    record = {
        "settings": asdict(settings),
        "environments": [[e.environment.name, e.account, e.region, e.production] for e in environments],
        "code": [hashlib.sha256(Path(module.__file__).read_bytes()).hexdigest()
                 for module in (sys.modules[__name__], settings_module, artifact_store)],
        "aws-cdk-lib": version("aws-cdk-lib"),
    }
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=list).encode()).hexdigest()


class DeliveryPipelineStack(Stack):
    """The pipeline, its artifact store, its build logs and the approvers' policy, in the tooling account.

    :param settings: the pipeline's settings (validated)
    :param compliance: the shared compliance settings: log retention and tags of the pipeline's own resources
    :param definition: ``definition_digest`` of this pipeline, given to the synth step
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: PipelineSettings,
        compliance: ComplianceSettings,
        definition: str,
    ) -> None:
        super().__init__(
            scope, construct_id, stack_name=STACK_NAME, termination_protection=True,
            env=Environment(account=settings.account, region=settings.region),
            description="The delivery pipeline of private-eks-fargate: gates, approvals and deployments of every environment",
        )
        self.settings = settings
        self.store = ArtifactStore(
            self, "ArtifactStore", retention_days=compliance.log_retention_days,
            access_log_bucket=settings.access_log_bucket, access_log_setting=key_of(PipelineSettings, "access_log_bucket"),
        )
        self.build_logs = retained_log_group(self, "BuildLogs", retention_days=compliance.log_retention_days)
        self.source = self._source()
        self.synth = pipelines.CodeBuildStep(
            SYNTH_STEP,
            input=self.source,
            install_commands=list(INSTALL_COMMANDS),
            commands=list(SYNTH_COMMANDS),
            primary_output_directory="cdk.out",
            env={
                SOURCE_REVISION_VARIABLE: self._revision(),
                DEFINITION_VARIABLE: definition,
                REVIEW_BUCKET_VARIABLE: self.store.bucket.bucket_name,
                REVIEW_PREFIX_VARIABLE: f"{REVIEWS_PREFIX}/#{{codepipeline.PipelineExecutionId}}",
            },
            build_environment=codebuild.BuildEnvironment(compute_type=codebuild.ComputeType.MEDIUM),
            partial_build_spec=codebuild.BuildSpec.from_object(
                {"phases": {"install": {"runtime-versions": {"python": PYTHON_RUNTIME}}}}
            ),
            timeout=SYNTH_TIMEOUT,
        )
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name=PIPELINE_NAME,
            pipeline_type=codepipeline.PipelineType.V2,
            synth=self.synth,
            artifact_bucket=self.store.bucket,
            cross_account_keys=True,
            self_mutation=False,
            publish_assets_in_parallel=False,
            cdk_assets_cli_version=CDK_ASSETS_VERSION,
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(
                    build_image=BUILD_IMAGE, compute_type=codebuild.ComputeType.SMALL, privileged=False
                ),
                logging=codebuild.LoggingOptions(cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=self.build_logs)),
            ),
        )
        self.topic = (
            sns.Topic.from_topic_arn(self, "ApprovalTopic", settings.approval_topic_arn) if settings.approval_topic_arn else None
        )
        self.stages: list[dict[str, Any]] = []

    def _source(self) -> pipelines.CodePipelineSource:
        settings = self.settings
        if settings.uses_connection:
            return pipelines.CodePipelineSource.connection(
                settings.repository, settings.branch, connection_arn=settings.connection_arn, trigger_on_push=True,
                action_name="Source",
            )
        bucket = s3.Bucket.from_bucket_name(self, "SourceBucket", settings.source_bucket)
        return pipelines.CodePipelineSource.s3(bucket, settings.source_key, trigger=actions.S3Trigger.EVENTS, action_name="Source")

    def _revision(self) -> str:
        """What the build record names as the commit: the source action's commit, or the zip's S3 version."""
        if self.settings.uses_connection:
            return f"{self.source.source_attribute('CommitId')} ({self.settings.repository} {self.settings.branch})"
        where = f"s3://{self.settings.source_bucket}/{self.settings.source_key}"
        return f"{where} version {self.source.source_attribute('VersionId')}"

    def add_environment(self, stage: PrivateEksFargateStage, environment: PipelineEnvironment) -> None:
        """Deploy `stage` after the stages added before it; a production one only after a person approved it."""
        name = stage.stage_name
        pre: list[pipelines.Step] = []
        if environment.production:
            pre.append(pipelines.ManualApprovalStep(
                "Approve",
                comment=self.synth.exported_variable(approval_variable(name)),
                review_url=self._review_url(name),
                notification_topic=self.topic,
            ))
        self.pipeline.add_stage(stage, pre=pre)
        self.stages.append({
            "name": name, "account": environment.account, "region": environment.region,
            "production": environment.production,
            **({"approval": approval_variable(name)} if environment.production else {}),
        })

    def _review_url(self, stage: str) -> str:
        """The S3 console's page of the stage's review report of this execution (the execution id is a CodePipeline
        variable, resolved when the approval starts)."""
        key = review_key("#{codepipeline.PipelineExecutionId}", stage)
        return (f"https://{self.region}.console.aws.amazon.com/s3/object/{self.store.bucket.bucket_name}"
                f"?region={self.region}&prefix={key}")

    def finish(self) -> None:
        """Build the pipeline, record it for the review tooling, add the approvers' policy and the outputs, and
        acknowledge what aws-cdk-lib's CDK Pipelines builds that the packs flag."""
        self.pipeline.build_pipeline()
        self.node.add_metadata(PIPELINE_RECORD, {
            "pipeline": PIPELINE_NAME, "region": self.settings.region, "stages": self.stages,
            "reviews": REVIEWS_PREFIX, "synth": SYNTH_STEP,
        })
        approvers = self._approver_policy()
        self._use_connection_by_either_name()
        CfnOutput(self, "PipelineConsole", value=f"https://{self.region}.console.aws.amazon.com/codesuite/codepipeline/"
                  f"pipelines/{PIPELINE_NAME}/view?region={self.region}")
        CfnOutput(self, "ArtifactBucket", value=self.store.bucket.bucket_name)
        CfnOutput(self, "ApproverPolicyArn", value=approvers.managed_policy_arn)
        _acknowledge_pipeline(self)
        _fix_for_cfn_lint(self)

    def _use_connection_by_either_name(self) -> None:
        """aws-cdk-lib grants the source action codestar-connections:UseConnection; a connection created under the
        service's new name (arn:aws:codeconnections:…) is also granted under that name."""
        if not self.settings.uses_connection:
            return
        source = self.pipeline.pipeline.node.find_child("Source").node.find_child("Source")
        source.node.find_child("CodePipelineActionRole").add_to_principal_policy(iam.PolicyStatement(
            actions=["codeconnections:UseConnection"], resources=[self.settings.connection_arn],
        ))

    def _approver_policy(self) -> iam.ManagedPolicy:
        """What an approver needs and nothing more: see the pipeline, read the review reports, approve or reject the
        production stages' approvals. Attach it to the approvers' role; the developers who push get none of it."""
        pipeline_arn = self.pipeline.pipeline.pipeline_arn
        approvals = [f"{pipeline_arn}/{stage['name']}/Approve" for stage in self.stages if stage["production"]]
        statements = [
            iam.PolicyStatement(
                sid="SeeThePipeline",
                actions=["codepipeline:GetPipeline", "codepipeline:GetPipelineState", "codepipeline:GetPipelineExecution",
                         "codepipeline:ListPipelineExecutions", "codepipeline:ListActionExecutions"],
                resources=[pipeline_arn],
            ),
            iam.PolicyStatement(
                sid="ListTheReviewReports", actions=["s3:ListBucket"], resources=[self.store.bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{REVIEWS_PREFIX}/*"]}},
            ),
            iam.PolicyStatement(
                sid="ReadTheReviewReports", actions=["s3:GetObject"],
                resources=[self.store.bucket.arn_for_objects(f"{REVIEWS_PREFIX}/*")],
            ),
            iam.PolicyStatement(
                sid="DecryptTheReviewReports", actions=["kms:Decrypt"], resources=[self.store.key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"s3.{self.region}.amazonaws.com"}},
            ),
        ]
        if approvals:
            statements.append(iam.PolicyStatement(sid="ApproveProduction", actions=["codepipeline:PutApprovalResult"],
                                                  resources=approvals))
        return iam.ManagedPolicy(
            self, "ApproverPolicy", managed_policy_name=APPROVER_POLICY, description="Approvers of the private-eks-fargate pipeline: read the review reports, "
            "approve or reject production deployments", statements=statements,
        )


def build_delivery(
    app: App, context: Mapping[str, Any], settings: PipelineSettings, *, command_line: Iterable[str] = ()
) -> DeliveryPipelineStack:
    """The pipeline stack and every stage it deploys, in the pipeline's order, with the compliance packs and the
    Control Tower controls run once over all of them (the stages' own registration is off: same templates).

    :param command_line: context keys given with -c (they win over an environment's own)
    """
    environments = pipeline_environments(context, settings, command_line=command_line)
    definition = definition_digest(settings, environments)
    deployed = os.environ.get(DEFINITION_VARIABLE)
    if deployed and deployed != definition:
        raise ConfigError(
            "pipeline",
            "this commit changes the pipeline (its settings, environments or code) and the pipeline running it was "
            "deployed from another definition; deploy the pipeline first (make pipeline, with the tooling account's "
            "credentials), then release this commit again",
        )
    shared = settings_from_context(context)
    shared.compliance.validate()
    stack = DeliveryPipelineStack(app, PIPELINE_STACK_ID, settings=settings, compliance=shared.compliance, definition=definition)
    apply_tags(stack, shared.compliance.tags)
    for environment in environments:
        env = environment.environment
        with env.named_errors():
            name, aws_env = stage_from_context(env.context)
            stage = PrivateEksFargateStage(app, name, settings=settings_from_context(env.context), env=aws_env,
                                           compliance_checks=False)
        stack.add_environment(stage, environment)
    stack.finish()
    enable_compliance_checks(app)
    return stack


#: the asset publishing role's statements CDK Pipelines writes for every CodeBuild project and report group; the role
#: is the asset project's service role only (the pipeline starts that project with its CodeBuild action role)
ASSET_ROLE_UNUSED_ACTIONS = (
    "codebuild:StartBuild", "codebuild:StopBuild", "codebuild:BatchGetBuilds", "codebuild:CreateReportGroup",
    "codebuild:CreateReport", "codebuild:UpdateReport", "codebuild:BatchPutTestCases", "codebuild:BatchPutCodeCoverages",
)
LOG_ACTIONS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")
ARTIFACT_BUCKET_ACTIONS = ("s3:Abort*", "s3:DeleteObject*", "s3:GetBucket*", "s3:GetObject*", "s3:List*")
ARTIFACT_KEY_ACTIONS = ("kms:GenerateDataKey*", "kms:ReEncrypt*")


def _narrow_asset_role(stack: DeliveryPipelineStack) -> iam.Role:
    """Take from CDK Pipelines' asset publishing role what it gives every such role and this one never uses: starting
    and reading builds and reports of any project, writing any CodeBuild log group (its project logs to BuildLogs).
    A managed policy of its own: the role's default policy drops statements whose actions equal its stock ones."""
    role = stack.pipeline.node.find_child("Assets").node.find_child("FileRole")
    iam.ManagedPolicy(
        stack, "AssetRoleLimits", roles=[role],
        description="What CDK Pipelines' asset publishing role may not do: start builds or write reports or other logs",
        statements=[
            iam.PolicyStatement(sid="NoBuildsOrReportsByTheAssetRole", effect=iam.Effect.DENY,
                                actions=list(ASSET_ROLE_UNUSED_ACTIONS), resources=["*"]),
            iam.PolicyStatement(sid="NoLogsButTheBuildLogs", effect=iam.Effect.DENY, actions=list(LOG_ACTIONS),
                                not_resources=[stack.build_logs.log_group_arn]),
        ],
    )
    return role


def _fix_for_cfn_lint(stack: DeliveryPipelineStack) -> None:
    """CDK Pipelines writes each deploy action's CloudFormation role ARN as a Fn::Join, whose ARN format cfn-lint's
    E3703 cannot read; the same ARN as a Fn::Sub it checks. And the pipeline's DependsOn on its role is redundant."""
    pipeline = stack.pipeline.pipeline.node.default_child
    # the L1 property as aws-cdk-lib holds it (camelCase keys); the override is written in the template's names
    for i, stage in enumerate(stack.resolve(pipeline.stages)):
        for j, action in enumerate(stage["actions"]):
            role = (action.get("configuration") or {}).get("RoleArn")
            substituted = _join_as_sub(role)
            if substituted is not None:
                pipeline.add_property_override(f"Stages.{i}.Actions.{j}.Configuration.RoleArn", {"Fn::Sub": substituted})
    ignore_cfn_lint(pipeline, REDUNDANT_ROLE_DEPENDENCY)


def _join_as_sub(value: Any) -> str | None:
    """``{"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::…"]]}`` as the Fn::Sub string, or None."""
    if not (isinstance(value, dict) and list(value) == ["Fn::Join"] and value["Fn::Join"][0] == ""):
        return None
    parts = []
    for part in value["Fn::Join"][1]:
        if isinstance(part, str) and "${" not in part:
            parts.append(part)
        elif isinstance(part, dict) and list(part) == ["Ref"] and str(part["Ref"]).startswith("AWS::"):
            parts.append(f"${{{part['Ref']}}}")
        else:
            return None
    return "".join(parts)


def _acknowledge_pipeline(stack: DeliveryPipelineStack) -> None:
    """One acknowledgement per finding the packs raise on what CDK Pipelines builds, each with its reason."""
    bucket = f"<{logical_id(stack.store.bucket.node.default_child)}.Arn>"
    pipeline = stack.pipeline.pipeline
    roles = {
        "pipeline's service role": pipeline.role,
        "source action's role": pipeline.node.find_child("Source").node.find_child("Source").node.find_child("CodePipelineActionRole"),
        "synth step's CodeBuild role": stack.pipeline.synth_project.role,
    }
    for who, role in roles.items():
        _acknowledge_artifact_access(role, who, bucket, read_only=False)
    asset_role = _narrow_asset_role(stack)
    _acknowledge_artifact_access(asset_role, "asset publishing role", bucket, read_only=True)
    policy = asset_role.node.find_child("DefaultPolicy").node.default_child
    acknowledge(policy, "AwsSolutions-IAM5[Resource::*]", "CDK Pipelines gives its asset publishing role codebuild:StartBuild, "
                "StopBuild and BatchGetBuilds on every project; the role's AssetRoleLimits policy denies all three: the "
                "role is only the asset project's service role.")
    acknowledge(policy, f"AwsSolutions-IAM5[Resource::{nag_arn(stack, 'codebuild', 'report-group/*')}]",
                "CDK Pipelines lets its asset publishing role write every CodeBuild report group; the role's "
                "AssetRoleLimits policy denies that: cdk-assets publishes files and writes no test reports.")
    acknowledge(policy, f"AwsSolutions-IAM5[Resource::{nag_arn(stack, 'logs', 'log-group:/aws/codebuild/*')}]",
                "CDK Pipelines lets its asset publishing role write every CodeBuild log group; the role's AssetRoleLimits "
                "policy limits it to the pipeline's BuildLogs group, where its project logs.")
    skip_checkov(policy, "CKV_AWS_111", "The Allow statements CDK Pipelines writes for its asset publishing role on every "
                 "CodeBuild project, report group and log group are denied again by the role's AssetRoleLimits policy.")
    project = stack.pipeline.synth_project
    synth_policy = project.role.node.find_child("DefaultPolicy").node.default_child
    name = f"<{logical_id(project.node.default_child)}>"
    acknowledge(synth_policy, f"AwsSolutions-IAM5[Resource::{nag_arn(stack, 'logs', f'log-group:/aws/codebuild/{name}:*')}]",
                "aws-cdk-lib lets a CodeBuild project's role write that one project's default log group and its streams; "
                "the synth step's project writes to the pipeline's BuildLogs group instead.")
    acknowledge(synth_policy, f"AwsSolutions-IAM5[Resource::{nag_arn(stack, 'codebuild', f'report-group/{name}-*')}]",
                "aws-cdk-lib lets a CodeBuild project's role create test report groups named after that one project; the "
                "synth step's build publishes its results as files and creates none.")
    for build in (project, stack.pipeline.node.find_child("Assets").node.find_child("FileAsset")):
        acknowledge_in_packs(
            build.node.default_child, "CodeBuildProjectSourceRepoUrl", (HIPAA, PCI),
            "This CodeBuild project's source is the pipeline's own artifact (source type CODEPIPELINE): there is no "
            "repository URL to carry credentials; the source action reaches the repository through CodeConnections.",
        )
    for policy in [c for c in stack.pipeline.node.find_all() if isinstance(c, iam.CfnPolicy)]:
        role = policy.node.scope.node.scope  # Role/DefaultPolicy/Resource
        acknowledge_in_packs(
            policy, "IAMNoInlinePolicy", (NIST, HIPAA, PCI),
            f"This inline policy of the role {role.node.path.removeprefix(stack.node.path + '/')} is written by aws-cdk-lib's "
            "CDK Pipelines from the pipeline's actions and grants; it lives and dies with the role, which nothing else uses.",
        )
    approvers = stack.node.find_child("ApproverPolicy").node.default_child
    acknowledge(approvers, f"AwsSolutions-IAM5[Resource::{bucket}/{REVIEWS_PREFIX}/*]",
                f"The approvers' policy reads the review reports under {REVIEWS_PREFIX}/ of the artifact bucket, one folder "
                "per execution and stage, and nothing else of the bucket.")


def _acknowledge_artifact_access(role: iam.IRole, who: str, bucket: str, *, read_only: bool) -> None:
    policy = role.node.find_child("DefaultPolicy").node.default_child
    verbs = "read" if read_only else "read and write"
    for action in ARTIFACT_BUCKET_ACTIONS if not read_only else ARTIFACT_BUCKET_ACTIONS[2:]:
        acknowledge(policy, f"AwsSolutions-IAM5[Action::{action}]",
                    f"aws-cdk-lib grants the pipeline's {who} {verbs} of its artifact bucket with its grant action groups "
                    "(such as s3:GetObject*); limited to that one bucket, which holds only this pipeline's artifacts.")
    acknowledge(policy, f"AwsSolutions-IAM5[Resource::{bucket}/*]",
                f"The pipeline's {who} {verbs}s the objects of the artifact bucket: each execution writes its artifacts "
                "under keys of its own, so no narrower prefix exists; the bucket holds only this pipeline's artifacts.")
    if not read_only:
        for action in ARTIFACT_KEY_ACTIONS:
            acknowledge(policy, f"AwsSolutions-IAM5[Action::{action}]",
                        f"aws-cdk-lib lets the pipeline's {who} encrypt artifacts with the artifact bucket's KMS key "
                        "(kms:GenerateDataKey*, kms:ReEncrypt*); limited to that one key.")
