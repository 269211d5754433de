"""The private EKS cluster on Fargate: native AWS::EKS::Cluster, KMS-encrypted secrets, Fargate profiles."""

from __future__ import annotations

import hashlib
import importlib
import json
from typing import Any, Callable, Mapping, Sequence

from aws_cdk import Annotations, Aws, CfnOutput, CfnResource, Duration, Names, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct, IDependable

from ..compliance import (
    MANAGED_POLICY_FINDING,
    acknowledge,
    acknowledge_deploy_time_lambda,
    acknowledge_provider_framework,
    logical_id,
)
from ..pod_security import namespace_labels
from ..settings import ClusterSettings, FargateProfileSpec, MirroredImage, key_of
from ..settings.checks import RESERVED_NAMESPACES, check_cluster_name
from ..settings.model import check_cluster_rename, check_registries
from ..settings.versions import KubernetesRelease
from .coredns import COREDNS_SELECTOR, PROFILE_LABEL, CoreDnsOnFargate
from .image_guard import ImageGuard, ImagePolicy
from .irsa import NATIVE_OIDC_PROVIDER_FLAG
from .keys import platform_key
from .logs import DEFAULT_LOG_RETENTION_DAYS, log_to, retained_log_group
from .manifests import retained_manifest
from .network import selected_subnets
from .security_groups import HTTPS, https_out_only
from .timeouts import time_out_kubectl_resources
from .workload import Workload

ALL_LOG_TYPES = (
    eks.ClusterLoggingTypes.API,
    eks.ClusterLoggingTypes.AUDIT,
    eks.ClusterLoggingTypes.AUTHENTICATOR,
    eks.ClusterLoggingTypes.CONTROLLER_MANAGER,
    eks.ClusterLoggingTypes.SCHEDULER,
)
FARGATE_POD_EXECUTION_POLICY = "AmazonEKSFargatePodExecutionRolePolicy"
ISOLATED_SUBNETS_WARNING = "@aws-cdk/aws-eks:isolatedSubnetsForKubectlPrivateSubnets"
COREDNS_PROFILE = FargateProfileSpec(
    namespace=COREDNS_SELECTOR["namespace"], labels=COREDNS_SELECTOR["labels"]
)
#: Pods name their profile in a label (PROFILE_LABEL), so profile names are valid label values.
LABEL_VALUE_LIMIT = 63
#: The cluster resource's template metadata: where its Kubernetes version stands in the EKS support calendar, for the
#: review report's cost table (which reads templates only).
SUPPORT_METADATA = "private-eks-fargate:kubernetes-support"


def profile_name(prefix: str, identity: Any) -> str:
    """Readable, and new whenever CloudFormation would replace the profile.

    `identity` holds every create-only property of the profile (cluster, pod execution role, subnets, selectors) as
    CloudFormation sees them, and its construct path: a change of any of them replaces the profile (or moves it to
    another logical id), and CloudFormation cannot create the replacement while the old profile holds the name. At most
    63 characters (pods name their profile in a label), the digest always whole.
    """
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:8]
    return f"{prefix[: LABEL_VALUE_LIMIT - len(digest) - 1]}-{digest}"


def profile_construct_id(spec: FargateProfileSpec) -> str:
    """An application profile's construct id, so its logical id, from what it selects (never its position in a list):
    ``AppProfile-<namespace>`` for a whole namespace, plus a digest of the labels for a labelled selector."""
    if not spec.labels:
        return f"AppProfile-{spec.namespace}"
    labels = hashlib.sha256(json.dumps(sorted(spec.labels.items())).encode()).hexdigest()[:8]
    return f"AppProfile-{spec.namespace}-{labels}"


def default_cluster_name(scope: Construct) -> str:
    """Deterministic and unique per account and region: stack name, construct path and a hash of the path."""
    return Names.unique_resource_name(scope, max_length=100, separator="-")


def control_plane_log_group_name(cluster_name: str) -> str:
    """The log group EKS writes control-plane logs to (fixed by EKS)."""
    return f"/aws/eks/{cluster_name}/cluster"


def kubectl_layer(scope: Construct, construct_id: str, release: KubernetesRelease) -> lambda_.ILayerVersion:
    """The kubectl layer matching the cluster version (CDK does not check this, aws-cdk #24580)."""
    module = importlib.import_module(release.layer_module)
    return getattr(module, release.layer_class)(scope, construct_id)


def _resource(construct: Construct) -> CfnResource:
    """The CloudFormation resource of an L2 construct (cdk-nag reports findings on it)."""
    return construct.node.default_child


class PrivateCluster(Construct):
    """An EKS cluster reachable only from inside the VPC, with every pod on Fargate.

    - endpoint private only, all five control-plane log types, secrets envelope-encrypted with a
      customer-managed KMS key (rotation on), authentication through access entries only;
    - the kubectl provider's Lambdas in the cluster subnets, with the kubectl layer of the cluster's version, in a
      security group of their own that the cluster security group admits on 443 (the stack can delete it: nothing
      of EKS uses it), logging to a retained, KMS-encrypted log group of the stack;
    - one pod execution role (scoped to this cluster's profiles by ``aws:SourceArn``), a CoreDNS profile
      (``kube-system`` / ``k8s-app=kube-dns`` only) and the application profiles, keyed by what they select and
      created one after another;
    - CoreDNS as the EKS add-on on Fargate, pinned to its profile and waited for; a namespace manifest for each
      application namespace, left in the cluster when the platform stops managing it;
    - the control-plane log group ``/aws/eks/<name>/cluster`` created before the cluster (KMS-encrypted, retained,
      with the configured retention), so EKS does not create it with infinite retention;
    - an explicit upgrade policy (``settings.support_type``) and deletion protection when asked;
    - a ServiceTimeout on every kubectl custom resource of the stack (``timeouts.py``);
    - the image guard over every manifest in the stack, and workloads (``add_workload``).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        settings: ClusterSettings | None = None,
        endpoints: Sequence[IDependable] = (),
        endpoints_present: bool = True,
        log_retention_days: int = DEFAULT_LOG_RETENTION_DAYS,
        allowed_registries: Sequence[str] = (),
        deletion_protection: bool = False,
    ) -> None:
        """
        :param vpc: the VPC of the cluster
        :param subnets: private subnets for the control-plane ENIs, Fargate pods and the kubectl Lambdas
        :param settings: the cluster settings. default: ``ClusterSettings()``
        :param endpoints: resources that must exist before anything runs kubectl (the VPC endpoints, when they
            live in the same stack). default: none, e.g. when they are in a stack this one depends on
        :param endpoints_present: the VPC has the endpoints the kubectl Lambdas need. It answers CDK's
            isolated-subnets warning; set false only to see that warning again. default: true
        :param log_retention_days: retention of the control-plane log group. default: 365
        :param allowed_registries: registry hosts or host/path prefixes the image guard accepts besides this
            account's ECR in this region (``workloads.allowed_registries``). default: none
        :param deletion_protection: EKS refuses to delete the cluster (``compliance.production``): a stack delete,
            or a change that replaces the cluster, fails until it is turned off. default: false
        """
        settings = settings or ClusterSettings()
        release = settings.validate()
        check_registries("allowed_registries", allowed_registries)
        super().__init__(scope, construct_id)
        # IRSA's OIDC provider as a native AWS::IAM::OIDCProvider a reviewer can read, not a custom-resource Lambda
        self.node.set_context(NATIVE_OIDC_PROVIDER_FLAG, True)
        self.release = release
        self.settings = settings
        self.log_retention_days = log_retention_days
        self.cluster_name = settings.cluster_name or default_cluster_name(self)
        check_cluster_name(key_of(ClusterSettings, "cluster_name"), self.cluster_name)
        check_cluster_rename(settings, self.cluster_name)
        self.control_plane_log_group = retained_log_group(
            self,
            "ControlPlaneLogs",
            retention_days=log_retention_days,
            log_group_name=control_plane_log_group_name(self.cluster_name),
        )
        self.image_policy = ImagePolicy.of(self, allowed_registries)
        # every manifest in the stack, also those added with the L2 cluster's add_manifest, is checked at synth
        self.node.add_validation(ImageGuard(Stack.of(self), self.image_policy))
        self._subnets = subnets
        #: adds the VPC endpoints a feature needs (``PrivateEndpoints.enable``), when this platform creates them
        self.endpoint_enabler: Callable[[str], None] | None = None

        self.secrets_key = platform_key(
            self, "SecretsKey", description="Envelope encryption of Kubernetes secrets in the private EKS cluster"
        )
        self.kubectl_layer = kubectl_layer(self, "KubectlLayer", self.release)
        self.kubectl_security_group = https_out_only(
            self,
            "KubectlSecurityGroup",
            vpc=vpc,
            description="kubectl provider Lambdas: no inbound rules; HTTPS out to the EKS API server and the VPC endpoints",
            egress="HTTPS to the EKS API server and the VPC endpoints",
        )
        self.cluster = eks.Cluster(
            self,
            "Cluster",
            version=self.release.eks_version,
            cluster_name=self.cluster_name,
            vpc=vpc,
            vpc_subnets=[subnets],
            endpoint_access=eks.EndpointAccess.PRIVATE,
            cluster_logging=list(ALL_LOG_TYPES),
            secrets_encryption_key=self.secrets_key,
            bootstrap_cluster_creator_admin_permissions=False,
            # Fargate only: no EKS Auto Mode node pools and no default node group (as FargateCluster does)
            default_capacity=0,
            default_capacity_type=eks.DefaultCapacityType.NODEGROUP,
            # not the cluster security group EKS owns (aws-cdk-lib's default): Lambda releases a function's network
            # interfaces only after the function is gone, and EKS could not delete its group until then
            kubectl_provider_options=eks.KubectlProviderOptions(
                kubectl_layer=self.kubectl_layer, security_groups=[self.kubectl_security_group]
            ),
        )
        cfn_cluster = self.cluster.node.default_child
        cfn_cluster.node.add_dependency(self.control_plane_log_group)
        cfn_cluster.add_property_override("DeletionProtection", deletion_protection)
        cfn_cluster.add_property_override("UpgradePolicy", {"SupportType": settings.support_type})
        cfn_cluster.add_metadata(SUPPORT_METADATA, {
            "version": self.release.version,
            "phase": "extended" if self.release.extended_support_only else "standard",
            "calendar": self.release.support,
        })
        provider = self.cluster.kubectl_provider
        self.kubectl_ingress = ec2.CfnSecurityGroupIngress(
            self,
            "KubectlToApiServer",
            group_id=self.cluster.cluster_security_group_id,
            source_security_group_id=self.kubectl_security_group.security_group_id,
            ip_protocol="tcp",
            from_port=HTTPS,
            to_port=HTTPS,
            description="kubectl from the kubectl provider Lambdas",
        )
        # the Lambdas are created after the rule and deleted before it: every kubectl call, deletes included, gets through
        provider.node.add_dependency(self.kubectl_ingress)
        #: where the kubectl handler and its provider framework log (both; Lambda would otherwise create
        #: /aws/lambda/<name> on first run, unencrypted and never expiring)
        self.kubectl_log_group = retained_log_group(self, "KubectlProviderLogs", retention_days=log_retention_days)
        log_to(self.kubectl_log_group, provider.node.find_child("Handler"))
        log_to(self.kubectl_log_group, provider.node.find_child("Provider").node.find_child("framework-onEvent"), framework=True)
        #: what must exist before anything in this stack calls into the VPC (the endpoints in a single-stack setup)
        self.endpoint_dependencies: list[IDependable] = list(endpoints)
        if endpoints:
            # every kubectl custom resource uses the provider, so none runs (or is deleted) without the endpoints
            provider.node.add_dependency(*endpoints)
        time_out_kubectl_resources(self)
        if endpoints_present:
            Annotations.of(self.cluster).acknowledge_warning(
                ISOLATED_SUBNETS_WARNING,
                "The kubectl Lambdas reach STS, EKS, Lambda, ECR and S3 through the VPC endpoints of this platform",
            )

        self.pod_execution_role = iam.Role(
            self,
            "PodExecutionRole",
            description="Fargate pod execution role: pull images from ECR and write Fargate logs",
            assumed_by=iam.ServicePrincipal(
                "eks-fargate-pods.amazonaws.com",
                conditions={
                    "ArnLike": {
                        "aws:SourceArn": (
                            f"arn:{Aws.PARTITION}:eks:{Aws.REGION}:{Aws.ACCOUNT_ID}:fargateprofile/"
                            f"{self.cluster.cluster_name}/*"
                        )
                    }
                },
            ),
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(FARGATE_POD_EXECUTION_POLICY)],
        )

        # The CoreDNS profile is aws-cdk-lib's L2: its KubectlReadyBarrier puts every kubectl resource after it (no
        # kubectl call while it is CREATING, aws-cdk #8854). Application profiles are L1 (_add_app_profile).
        coredns_profile_name = self._profile_name("CoreDnsProfile", "coredns", COREDNS_PROFILE)
        self.coredns_profile = eks.FargateProfile(
            self,
            "CoreDnsProfile",
            cluster=self.cluster,
            fargate_profile_name=coredns_profile_name,
            selectors=[eks.Selector(namespace=COREDNS_PROFILE.namespace, labels=dict(COREDNS_PROFILE.labels))],
            pod_execution_role=self.pod_execution_role,
            vpc=self.cluster.vpc,
            subnet_selection=subnets,
        )
        #: every profile with what it selects and its name, in the order they are chained (each after the one before),
        #: for pinning pods to one (``pinned_profile``)
        self._profiles: list[tuple[FargateProfileSpec, str, IDependable]] = [
            (COREDNS_PROFILE, coredns_profile_name, self.coredns_profile)
        ]
        # keyed and chained by selector: reordering app_profiles changes nothing, removing one replaces no other
        self.app_profiles = [
            self._add_app_profile(profile_construct_id(spec), f"app-{spec.namespace}", spec)
            for spec in sorted(settings.app_profiles, key=lambda spec: spec.selector_key)
        ]
        self._namespace_profiles = {
            spec.namespace: profile for spec, _, profile in self._profiles[1:] if not spec.labels
        }
        self.namespaces: dict[str, eks.KubernetesManifest] = {}
        for spec in settings.app_profiles:
            if spec.namespace not in RESERVED_NAMESPACES:
                self.ensure_namespace(spec.namespace)
        #: what every pod-creating resource must follow (e.g. the Fargate logging ConfigMap: pods log only if it
        #: existed when they started); ``before_pods`` adds to it
        self._pod_prerequisites: list[IDependable] = []
        self._pod_creators: list[Construct] = []
        self.coredns = CoreDnsOnFargate(
            self,
            "CoreDns",
            cluster=self.cluster,
            release=self.release,
            profile=self.coredns_profile,
            profile_name=coredns_profile_name,
            timeout=Duration.minutes(settings.coredns_ready_timeout_minutes),
            after=endpoints,
        )
        self._pod_creators.append(self.coredns.addon)
        self._acknowledge_findings()

    def before_pods(self, *resources: IDependable) -> None:
        """Make every resource that starts pods (CoreDNS, workload manifests, also those added later) follow
        `resources`."""
        self._pod_prerequisites.extend(resources)
        for creator in self._pod_creators:
            creator.node.add_dependency(*resources)

    def starts_pods(self, creator: Construct) -> None:
        """Register `creator` (a manifest with Deployments): it follows everything given to ``before_pods``."""
        self._pod_creators.append(creator)
        if self._pod_prerequisites:
            creator.node.add_dependency(*self._pod_prerequisites)

    def _acknowledge_findings(self) -> None:
        """Compliance findings on resources whose shape EKS or aws-cdk-lib dictates, each on its resource."""
        acknowledge(
            _resource(self.cluster.role),
            MANAGED_POLICY_FINDING.format("AmazonEKSClusterPolicy"),
            "The EKS cluster service role must carry AmazonEKSClusterPolicy: EKS requires this AWS-managed policy "
            "for the control plane (ENIs in the cluster subnets) and AWS extends it as EKS gains features.",
        )
        acknowledge(
            _resource(self.pod_execution_role),
            MANAGED_POLICY_FINDING.format(FARGATE_POD_EXECUTION_POLICY),
            "The Fargate pod execution role needs AmazonEKSFargatePodExecutionRolePolicy (ECR pulls) as EKS documents; "
            "its trust is limited to this cluster's Fargate profiles by aws:SourceArn.",
        )
        provider = self.cluster.kubectl_provider
        handler = provider.node.find_child("Handler")
        acknowledge_deploy_time_lambda(
            handler,
            name="kubectl handler Lambda",
            made_by="aws-cdk-lib's KubectlProvider",
            scope_of_policy="eks:DescribeCluster on this cluster",
        )
        acknowledge_provider_framework(provider.node.find_child("Provider"), name="kubectl provider", handlers=[handler])
        acknowledge(
            _resource(handler.role),
            MANAGED_POLICY_FINDING.format("AmazonEC2ContainerRegistryReadOnly"),
            "aws-cdk-lib's KubectlProvider gives the kubectl handler role AmazonEC2ContainerRegistryReadOnly so Helm can "
            "pull charts from ECR; read-only, and ECR is reachable only through the VPC endpoints.",
        )
        ecr_public = {"Fn::If": [
            logical_id(handler.node.find_child("HasEcrPublic")),
            {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly"]]},
            {"Ref": "AWS::NoValue"},
        ]}  # fmt: skip
        acknowledge(
            _resource(handler.role),
            f"AwsSolutions-IAM4[Policy::{json.dumps(ecr_public, separators=(',', ':'))}]",
            "aws-cdk-lib's KubectlProvider adds AmazonElasticContainerRegistryPublicReadOnly to the kubectl handler role "
            "only in partitions with ECR Public; read-only, and unreachable from the isolated subnets anyway.",
        )
        acknowledge(
            _resource(handler),
            "AwsSolutions-L1",
            "The kubectl handler Lambda's runtime is chosen by aws-cdk-lib's KubectlProvider to match its kubectl and "
            "AWS CLI layers; it moves forward when aws-cdk-lib is upgraded, not here.",
        )

    def _profile_name(self, construct_id: str, prefix: str, spec: FargateProfileSpec) -> str:
        """The name of profile `construct_id`, from all it is created with (see ``profile_name``)."""
        stack = Stack.of(self)
        return profile_name(prefix, {
            "path": f"{self.node.path}/{construct_id}"[len(stack.node.path) + 1 :],
            "cluster": self.cluster_name,
            "role": stack.resolve(self.pod_execution_role.role_arn),
            "subnets": stack.resolve(selected_subnets(self.cluster.vpc, self._subnets).subnet_ids),
            "selector": spec.selector_key,
        })

    def _add_app_profile(self, construct_id: str, prefix: str, spec: FargateProfileSpec) -> eks.CfnFargateProfile:
        """An application profile as an L1 resource, so that aws-cdk-lib's barrier does not hold every kubectl
        resource (the CoreDNS rollout wait among them) until it exists: the manifests of its namespace wait for it instead
        (``Workload.add_manifests``). Chained after the previous profile: EKS takes one profile operation at a time
        per cluster. Its construct path ends in ``/Resource``, as an L2 profile's would."""
        name = self._profile_name(construct_id, prefix, spec)
        profile = eks.CfnFargateProfile(
            Construct(self, construct_id),
            "Resource",
            cluster_name=self.cluster.cluster_name,
            fargate_profile_name=name,
            pod_execution_role_arn=self.pod_execution_role.role_arn,
            selectors=[
                eks.CfnFargateProfile.SelectorProperty(
                    namespace=spec.namespace,
                    labels=[eks.CfnFargateProfile.LabelProperty(key=k, value=v) for k, v in spec.labels.items()],
                )
            ],
            subnets=selected_subnets(self.cluster.vpc, self._subnets).subnet_ids,
        )
        profile.node.add_dependency(self._profiles[-1][2])
        self._profiles.append((spec, name, profile))
        return profile

    def pinned_profile(self, namespace: str, labels: Mapping[str, str]) -> tuple[str, IDependable] | None:
        """(name, resource) of the profile that schedules pods of `namespace` with `labels`: the most specific one that
        selects them. Pods that carry its name in the ``eks.amazonaws.com/fargate-profile`` label go to it (Fargate
        otherwise picks any matching profile), so a replaced profile rolls them onto its replacement while both exist,
        before CloudFormation deletes the old one. None: no profile of this cluster selects them."""
        matching = [
            (spec, name, profile) for spec, name, profile in self._profiles
            if spec.namespace == namespace and all(labels.get(k) == v for k, v in spec.labels.items())
        ]
        if not matching:
            return None
        _, name, profile = max(matching, key=lambda match: (len(match[0].labels), match[0].selector_key))
        return name, profile

    def build_after(self, *resources: IDependable) -> None:
        """Create (and update) the EKS cluster only after `resources`: a failure of one of them (e.g. an image copy)
        then rolls back a stack whose cluster was never started, instead of one that waits for it and deletes it."""
        self.cluster.node.default_child.node.add_dependency(*resources)

    @property
    def pod_security_version(self) -> str:
        """The Pod Security Standards version the namespaces pin: the cluster's Kubernetes minor."""
        return f"v{self.release.version}"

    def pod_security_level(self, namespace: str) -> str | None:
        """The level `namespace` enforces if this cluster creates it (``cluster.pod_security_levels``), else None."""
        if namespace in RESERVED_NAMESPACES:
            return None
        return self.settings.pod_security_level(namespace)

    def pod_security_labels(self, namespace: str) -> dict[str, str]:
        """The labels that make `namespace` enforce, audit and warn at its level, pinned to the cluster's version."""
        return namespace_labels(self.settings.pod_security_level(namespace), self.pod_security_version)

    def ensure_namespace(self, namespace: str) -> eks.KubernetesManifest:
        """The manifest of `namespace` (with its Pod Security labels), created when the cluster does not apply it yet.

        Retained: when the platform stops managing the namespace (removed from the settings), CloudFormation drops the
        resource without deleting the namespace, which may hold workloads deployed outside this app; delete it
        yourself with ``kubectl delete namespace NAME``."""
        if namespace not in self.namespaces:
            metadata = {"name": namespace, "labels": self.pod_security_labels(namespace)}
            self.namespaces[namespace] = retained_manifest(
                self.cluster, f"Namespace-{namespace}", {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata}
            )
        return self.namespaces[namespace]

    def ensure_profile(self, namespace: str) -> eks.CfnFargateProfile:
        """A Fargate profile selecting every pod of `namespace`: the configured one, or a new one (the same construct
        id as a configured one, so moving a namespace between the two replaces nothing). Whatever creates pods in
        `namespace` must depend on it (``Workload.add_manifests`` does)."""
        if namespace not in self._namespace_profiles:
            spec = FargateProfileSpec(namespace=namespace)
            self._namespace_profiles[namespace] = self._add_app_profile(profile_construct_id(spec), f"app-{namespace}", spec)
        return self._namespace_profiles[namespace]

    @property
    def subnets(self) -> ec2.SubnetSelection:
        """The cluster subnets: control plane, Fargate pods, the kubectl and image copy Lambdas."""
        return self._subnets

    def uses_endpoints_for(self, feature: str) -> None:
        """Something in the cluster needs the VPC endpoints of `feature` (``endpoints.IMAGE_COPY``): add them when
        this platform creates the endpoints (otherwise the VPC is trusted to have them)."""
        if self.endpoint_enabler is not None:
            self.endpoint_enabler(feature)

    def add_workload(
        self, construct_id: str, *, namespace: str, images: Sequence[MirroredImage] = (), ready_timeout: Duration | None = None
    ) -> Workload:
        """A workload in `namespace`: its images mirrored into ECR; see ``Workload`` for manifests and waits."""
        return Workload(self, construct_id, cluster=self, namespace=namespace, images=images, ready_timeout=ready_timeout)

    def add_outputs(self, scope: Construct, vpc: ec2.IVpc) -> None:
        """CfnOutputs an operator needs: cluster name, ARN, private endpoint, the kubectl provider's log group and the
        VPC id (the VPC id only when the VPC is defined or imported in this stack: re-exporting another stack's output
        is a cfn-lint warning)."""
        outputs = [
            ("ClusterName", self.cluster.cluster_name, "EKS cluster name"),
            ("ClusterArn", self.cluster.cluster_arn, "EKS cluster ARN"),
            ("ClusterEndpoint", self.cluster.cluster_endpoint, "Private API server endpoint (resolves inside the VPC only)"),
            ("KubectlLogGroup", self.kubectl_log_group.log_group_name,
             "Log group of the kubectl custom resources (handler and provider framework): why one failed"),
        ]
        if Stack.of(vpc) is Stack.of(scope):
            outputs.append(("VpcId", vpc.vpc_id, "VPC of the cluster"))
        for name, value, description in outputs:
            CfnOutput(scope, name, value=value, description=description)
