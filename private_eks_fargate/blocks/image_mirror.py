"""Deploy-time image mirroring: an ECR repository and a CodeBuild copy, outside the VPC, that the deploy waits for.

Nothing in the VPC reaches the internet: the copy runs in CodeBuild's own network (no `vpc` is given). The custom
resource that starts the build and waits for it is one Lambda in the cluster subnets (AWS Control Tower's
CT.LAMBDA.PR.3), behind aws-cdk-lib's Provider (its framework Lambda in the VPC too): it reaches CodeBuild through the
``codebuild`` interface endpoint, and polls the build itself, so there is no waiter state machine. Inside the build every
step that reaches a package mirror or a registry is retried with backoff (``RETRY``); a build that CodeBuild could not
start or run (its fault, not the copy's) is started once more. The deploy fails if the copy still fails or does not
finish within ``COPY_TIMEOUT``.
"""

from __future__ import annotations

import hashlib
import json

from aws_cdk import CustomResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import custom_resources as cr
from constructs import Construct

from ..compliance import (
    HIPAA,
    NIST,
    PCI,
    acknowledge,
    acknowledge_deploy_time_lambda,
    acknowledge_in_packs,
    acknowledge_inline_policies,
    acknowledge_provider_framework,
    logical_id,
    nag_arn,
)
from ..settings import MirroredImage
from .logs import DEFAULT_LOG_RETENTION_DAYS, retained_log_group
from .keys import platform_key
from .security_groups import https_out_only
from .timeouts import service_timeout

#: Images kept per repository: enough to roll back a few releases; older ones are expired by ECR.
KEEP_IMAGES = 10
UNTAGGED_DAYS = 14
#: CodeBuild stops the copy after this; the handler Lambda, which waits for it, may run 14 minutes (Lambda's limit is
#: 15, the provider framework's own Lambda waits for it with that): an image that takes longer fails the deploy.
COPY_TIMEOUT = Duration.minutes(12)
HANDLER_TIMEOUT = Duration.minutes(14)
POLL_SECONDS = 15
RESOURCE_TYPE = "Custom::ImageCopy"

#: A bash function each step that reaches the internet runs under: up to 5 attempts, 10, 20, 40 and 80 s apart (150 s
#: of waiting at most, well inside COPY_TIMEOUT), for a flaky package mirror, registry or network.
RETRY_ATTEMPTS = 5
RETRY = (
    f'retry() {{ for attempt in $(seq {RETRY_ATTEMPTS}); do "$@" && return 0; [ "$attempt" = {RETRY_ATTEMPTS} ] && return 1; '
    'echo "attempt $attempt of $1 failed; again in $((5 * 2 ** attempt)) s" >&2; sleep $((5 * 2 ** attempt)); done; }; '
)

#: Copies one image (linux/amd64, the Fargate platform) registry to registry with skopeo: no Docker daemon, so no
#: privileged build. skopeo comes from Ubuntu's signed archive. A tag already in ECR is left alone (immutable tags; so a
#: retried copy whose first attempt pushed the tag stops there). Then it reads the digest of the tag from ECR (the image
#: pods will run, and the one ECR scanned) and exports it: the custom resource returns it as its Digest attribute.
DIGEST_VARIABLE = "IMAGE_DIGEST"
BUILD_SPEC = {
    "version": "0.2",
    "env": {"shell": "bash", "exported-variables": [DIGEST_VARIABLE]},
    "phases": {
        "install": {"commands": [f"{RETRY}retry apt-get update -qq", f"{RETRY}retry apt-get install -y -qq skopeo"]},
        "build": {
            "commands": [
                f'{RETRY}copy_missing() {{ if aws ecr describe-images --repository-name "$TARGET_REPOSITORY" '
                '--image-ids imageTag="$TARGET_TAG" >/dev/null 2>&1; then echo "$TARGET_REPOSITORY:$TARGET_TAG is already '
                'in ECR"; else skopeo --override-os linux --override-arch amd64 copy '
                '--dest-creds "AWS:$(aws ecr get-login-password)" '
                '"docker://$SOURCE_IMAGE" "docker://$TARGET_REGISTRY/$TARGET_REPOSITORY:$TARGET_TAG"; fi; }; retry copy_missing',
                f'{RETRY}{DIGEST_VARIABLE}="$(retry aws ecr describe-images --repository-name "$TARGET_REPOSITORY" '
                '--image-ids imageTag="$TARGET_TAG" --query "imageDetails[0].imageDigest" --output text)" '
                f'&& [[ "${DIGEST_VARIABLE}" =~ ^sha256:[0-9a-f]{{64}}$ ]] && export {DIGEST_VARIABLE} '
                f'&& echo "$TARGET_REPOSITORY:$TARGET_TAG is ${DIGEST_VARIABLE}"',
            ]
        },
    },
}
#: Part of the custom resource's properties: a changed copy procedure copies (and reports the digest) again.
BUILD_SPEC_HASH = hashlib.sha256(json.dumps(BUILD_SPEC, sort_keys=True).encode()).hexdigest()[:16]

#: Starts the build, polls it until it ends (CodeBuild stops it after COPY_TIMEOUT) and raises, failing the deploy, when
#: it did not succeed or exported no digest. A build that ended in CodeBuild's fault, or failed before the copy's own
#: commands ran (queueing, provisioning), is started again while there is time for it. CodeBuild API calls retry
#: throttling and transient errors (botocore's standard mode). Delete does nothing: images are data and the repository
#: is retained.
HANDLER = '''
import re
import time

import boto3
from botocore.config import Config

codebuild = boto3.client("codebuild", config=Config(retries={"mode": "standard", "max_attempts": 8}))
POLL_SECONDS = %d
BUILDS = 2
#: a second build only when it can still finish before this Lambda must stop
RESTART_SECONDS = 6 * 60
ENVIRONMENT_PHASES = {"SUBMITTED", "QUEUED", "PROVISIONING"}


def environment_failed(build):
    """CodeBuild's fault, or a failure before the buildspec ran: not the copy's."""
    if build["buildStatus"] == "FAULT":
        return True
    failed = [p["phaseType"] for p in build.get("phases", []) if p.get("phaseStatus") not in (None, "SUCCEEDED")]
    return bool(failed) and failed[0] in ENVIRONMENT_PHASES


def run_build(project, source, context):
    build = codebuild.start_build(projectName=project)["build"]
    while build["buildStatus"] == "IN_PROGRESS":
        if context.get_remaining_time_in_millis() < 2 * POLL_SECONDS * 1000:
            raise RuntimeError(f"copy of {source} still running when this Lambda had to stop: build {build['id']}")
        time.sleep(POLL_SECONDS)
        build = codebuild.batch_get_builds(ids=[build["id"]])["builds"][0]
    return build


def on_event(event, context):
    properties = event["ResourceProperties"]
    if event["RequestType"] == "Delete":
        return {"PhysicalResourceId": event["PhysicalResourceId"]}
    source = properties["SourceImage"]
    for attempt in range(1, BUILDS + 1):
        build = run_build(properties["ProjectName"], source, context)
        link = build.get("logs", {}).get("deepLink", "")
        retry = attempt < BUILDS and environment_failed(build)
        if not retry or context.get_remaining_time_in_millis() < RESTART_SECONDS * 1000:
            break
        print(f"build {build['id']} ended {build['buildStatus']} before the copy ran ({link}); starting another")
    if build["buildStatus"] != "SUCCEEDED":
        raise RuntimeError(f"copy of {source} ended {build['buildStatus']}: {link}")
    exported = {v["name"]: v.get("value", "") for v in build.get("exportedEnvironmentVariables", [])}
    digest = exported.get("IMAGE_DIGEST", "")
    if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        raise RuntimeError(f"copy of {source} reported no image digest ({digest!r}): {link}")
    return {"PhysicalResourceId": properties["TargetImage"], "Data": {"BuildId": build["id"], "Digest": digest}}
''' % POLL_SECONDS


class ImageCopyProvider(Construct):
    """One per stack: the custom-resource provider that starts copy builds and waits for them, in the VPC."""

    ID = "ImageCopyProvider"

    @classmethod
    def of(
        cls, scope: Construct, *, vpc: ec2.IVpc, subnets: ec2.SubnetSelection, log_retention_days: int = DEFAULT_LOG_RETENTION_DAYS
    ) -> ImageCopyProvider:
        stack = Stack.of(scope)
        return stack.node.try_find_child(cls.ID) or cls(
            stack, cls.ID, vpc=vpc, subnets=subnets, log_retention_days=log_retention_days
        )

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        log_retention_days: int = DEFAULT_LOG_RETENTION_DAYS,
    ) -> None:
        """
        :param vpc: the cluster's VPC
        :param subnets: where the Lambdas run (the cluster subnets: the codebuild, lambda and S3 endpoints serve them)
        :param log_retention_days: retention of the log group both Lambdas write to. default: 365
        """
        super().__init__(scope, construct_id)
        self.security_group = https_out_only(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="Image copy Lambdas: no inbound rules; HTTPS out to the VPC endpoints (CodeBuild, Lambda, S3)",
            egress="HTTPS to the VPC endpoints",
        )
        in_vpc = dict(vpc=vpc, vpc_subnets=subnets, security_groups=[self.security_group])
        #: the handler's and the provider framework's log group (Lambda would otherwise create /aws/lambda/<name>)
        self.log_group = retained_log_group(self, "Logs", retention_days=log_retention_days)
        self.handler = lambda_.Function(
            self,
            "Copy",
            runtime=lambda_.Runtime.PYTHON_3_14,
            code=lambda_.Code.from_inline(HANDLER),
            handler="index.on_event",
            description="Starts an image copy build and waits until it ends",
            timeout=HANDLER_TIMEOUT,
            log_group=self.log_group,
            **in_vpc,
        )
        self.provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=self.handler,
            log_group=self.log_group,
            # its failed calls and the answer it sends CloudFormation are INFO lines (aws-cdk-lib's default: FATAL)
            framework_lambda_logging_level=lambda_.ApplicationLogLevel.INFO,
            **in_vpc,
        )
        acknowledge_deploy_time_lambda(self.handler, **self._handler_words())
        acknowledge_provider_framework(self.provider, name="image copy provider", handlers=[self.handler])

    @staticmethod
    def _handler_words() -> dict:
        return dict(name="image copy Lambda", made_by="ImageCopyProvider",
                    scope_of_policy="starting and reading builds of this stack's image copy projects")

    def allow(self, project: codebuild.IProject) -> None:
        """Let the handler start and read builds of `project`, and nothing else."""
        self.handler.add_to_role_policy(
            iam.PolicyStatement(actions=["codebuild:StartBuild", "codebuild:BatchGetBuilds"], resources=[project.project_arn])
        )
        acknowledge_inline_policies(self.handler, **self._handler_words())


def images_key(scope: Construct) -> kms.Key:
    """One per stack: the KMS key of the workload repositories and of the copy builds."""
    stack = Stack.of(scope)
    return stack.node.try_find_child("WorkloadImagesKey") or platform_key(
        stack, "WorkloadImagesKey", description="Encrypts the workload ECR repositories and the image copy builds"
    )


class ImageMirror(Construct):
    """An ECR repository for `image.repository`, and the deploy-time copy of `image.source` into it.

    The repository is KMS-encrypted, scanned on push, has immutable tags and a lifecycle rule, and is retained
    on destroy. The copy is a CodeBuild project (outside the VPC) whose role may push to this repository only,
    started by a custom resource that waits for the build: CloudFormation updates it, and so copies again, only
    when the source image or the target changes.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        image: MirroredImage,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        log_retention_days: int = DEFAULT_LOG_RETENTION_DAYS,
    ) -> None:
        """
        :param image: the upstream image and the ECR repository to copy it into (validated here)
        :param vpc: the VPC the copy's custom-resource Lambdas run in (the copy build itself runs outside it)
        :param subnets: their subnets, which must reach the ``codebuild``, ``lambda`` and S3 endpoints
        :param log_retention_days: retention of the copy build's log group. default: 365
        """
        image.validate("image")
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        key = images_key(self)
        self.image = image
        self.repository = ecr.Repository(
            self,
            "Repository",
            repository_name=image.repository,
            encryption=ecr.RepositoryEncryption.KMS,
            encryption_key=key,
            image_scan_on_push=True,
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,
            lifecycle_rules=[
                ecr.LifecycleRule(
                    rule_priority=1,
                    description=f"expire untagged images after {UNTAGGED_DAYS} days",
                    tag_status=ecr.TagStatus.UNTAGGED,
                    max_image_age=Duration.days(UNTAGGED_DAYS),
                ),
                ecr.LifecycleRule(
                    rule_priority=2, description=f"keep the {KEEP_IMAGES} newest images", max_image_count=KEEP_IMAGES
                ),
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.registry = f"{stack.account}.dkr.ecr.{stack.region}.{stack.url_suffix}"
        #: the tag the copy writes: account and region are the stack's
        self.tagged_uri = f"{self.registry}/{image.repository}:{image.tag}"
        self.project = codebuild.Project(
            self,
            "Copy",
            description=f"Copies {image.source} into ECR {image.repository}:{image.tag} and reports its digest",
            environment=codebuild.BuildEnvironment(
                build_image=codebuild.LinuxBuildImage.STANDARD_7_0,
                compute_type=codebuild.ComputeType.SMALL,
                privileged=False,
            ),
            environment_variables={
                name: codebuild.BuildEnvironmentVariable(value=value)
                for name, value in (
                    ("SOURCE_IMAGE", image.source),
                    ("TARGET_REGISTRY", self.registry),
                    ("TARGET_REPOSITORY", image.repository),
                    ("TARGET_TAG", image.tag),
                )
            },
            build_spec=codebuild.BuildSpec.from_object(BUILD_SPEC),
            encryption_key=key,
            timeout=COPY_TIMEOUT,
            logging=codebuild.LoggingOptions(
                cloud_watch=codebuild.CloudWatchLoggingOptions(
                    log_group=retained_log_group(self, "Logs", retention_days=log_retention_days)
                )
            ),
        )
        self.repository.grant_pull_push(self.project)
        self.repository.grant(self.project, "ecr:DescribeImages")
        provider = ImageCopyProvider.of(self, vpc=vpc, subnets=subnets, log_retention_days=log_retention_days)
        provider.allow(self.project)
        self.copy = CustomResource(
            self,
            "Done",
            service_token=provider.provider.service_token,
            resource_type=RESOURCE_TYPE,
            # a lost answer fails the copy a little after the handler Lambda must have stopped, not after an hour
            service_timeout=service_timeout(HANDLER_TIMEOUT),
            properties={
                "ProjectName": self.project.project_name,
                "SourceImage": image.source,
                "TargetImage": self.tagged_uri,
                "BuildSpecHash": BUILD_SPEC_HASH,
            },
        )
        #: the digest of the copied tag in ECR (known at deploy time), which ECR scanned
        self.digest = self.copy.get_att_string("Digest")
        #: the mirrored image as pods reference it, by digest: exactly the image that was copied and scanned
        self.image_uri = f"{self.registry}/{image.repository}@{self.digest}"
        # the build pushes into the repository with the project's role and its policy, and the handlers start and poll
        # it with policies of their own (separate AWS::IAM::Policy resources): all must exist before it starts
        self.copy.node.add_dependency(self.repository, self.project.role, provider.handler)
        self._acknowledge_findings()

    def _acknowledge_findings(self) -> None:
        """Findings on the copy build that aws-cdk-lib's CodeBuild grants or the rules' reach cause."""
        project = logical_id(self.project.node.default_child)
        policy = self.project.role.node.find_child("DefaultPolicy").node.default_child
        for finding, reason in (
            (
                f"Resource::{nag_arn(self, 'logs', f'log-group:/aws/codebuild/<{project}>:*')}",
                "aws-cdk-lib's CodeBuild project grants its role the project's default log group /aws/codebuild/NAME "
                "and its streams (:*); the build logs to the retained, encrypted group of this construct instead.",
            ),
            (
                f"Resource::{nag_arn(self, 'codebuild', f'report-group/<{project}>-*')}",
                "aws-cdk-lib's CodeBuild project grants its role the test-report groups named after this project "
                "(NAME-*); the image copy build writes no reports, so the grant reaches nothing.",
            ),
            (
                "Action::kms:GenerateDataKey*",
                "The image copy build role may create data keys of the workload images key only (its Resource is that "
                "key) to write encrypted build artifacts and ECR layers; the wildcard covers the key-spec variants.",
            ),
            (
                "Action::kms:ReEncrypt*",
                "The image copy build role may re-encrypt with the workload images key only (its Resource is that key); "
                "aws-cdk-lib's encrypt/decrypt grant names the From/To variants with one wildcard.",
            ),
            (
                "Resource::*",
                "The image copy build role's ecr:GetAuthorizationToken statement: that API takes no resource, so IAM "
                "only accepts *; pushes are limited to this repository by the other statements.",
            ),
        ):
            acknowledge(policy, f"AwsSolutions-IAM5[{finding}]", reason)
        acknowledge_in_packs(
            policy,
            "IAMNoInlinePolicy",
            (NIST, HIPAA, PCI),
            "The image copy build role's inline default policy is written by aws-cdk-lib's grants: push to this "
            "repository, its logs, the images key; it lives and dies with the role.",
        )
        acknowledge_in_packs(
            self.project.node.default_child,
            "CodeBuildProjectSourceRepoUrl",
            (HIPAA, PCI),
            "The image copy build has no source repository at all (inline buildspec, NO_SOURCE), so there is no "
            "repository URL or OAuth connection for this rule to check.",
        )
