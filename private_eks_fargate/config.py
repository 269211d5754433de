"""Typed settings for the constructs. Defaults are written here once and validated on construction."""

from __future__ import annotations

import difflib
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from .errors import ConfigError
from .images import ImageRef
from .versions import DEFAULT_KUBERNETES_VERSION, KubernetesRelease, resolve_release

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_VPC_ID = re.compile(r"^vpc-([0-9a-f]{8}|[0-9a-f]{17})$")
_SUBNET_ID = re.compile(r"^subnet-([0-9a-f]{8}|[0-9a-f]{17})$")
_ROUTE_TABLE_ID = re.compile(r"^rtb-([0-9a-f]{8}|[0-9a-f]{17})$")
_AZ = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d+[a-z]$")
_CLUSTER_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$")
_PRINCIPAL_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]{1,512}$")
_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]{36}$")
_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")

MIN_AZS = 2
#: Fargate profiles allow at most 5 selectors and 5 labels per selector; we use one selector per profile.
MAX_PROFILE_LABELS = 5
#: Namespaces a Fargate profile must not take whole: all of kube-system would also move add-ons that
#: cannot run on Fargate, and `default` is where stray workloads land.
RESERVED_NAMESPACES = ("kube-system", "default")


def check_namespace(setting: str, namespace: str) -> None:
    if not isinstance(namespace, str) or len(namespace) > 63 or not _DNS1123_LABEL.match(namespace):
        raise ConfigError(
            setting,
            f"{namespace!r} is not a valid Kubernetes namespace name (lower-case letters, digits and '-', "
            "starting and ending with a letter or digit, at most 63 characters)",
        )


def check_labels(setting: str, labels: Mapping[str, str]) -> None:
    if not isinstance(labels, Mapping):
        raise ConfigError(setting, f"{labels!r} is not a mapping of label names to values")
    if len(labels) > MAX_PROFILE_LABELS:
        raise ConfigError(setting, f"{len(labels)} labels given; a Fargate profile selector allows at most {MAX_PROFILE_LABELS}")
    for key, value in labels.items():
        prefix, _, name = key.rpartition("/") if isinstance(key, str) else ("", "", "")
        if (
            not name
            or len(name) > 63
            or not _LABEL_NAME.match(name)
            or (prefix and (len(prefix) > 253 or not _DNS1123_SUBDOMAIN.match(prefix)))
        ):
            raise ConfigError(
                setting,
                f"{key!r} is not a valid Kubernetes label key ([prefix/]name; name of letters, digits, '-', '_', '.', "
                "at most 63 characters, starting and ending with a letter or digit)",
            )
        if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.match(value):
            raise ConfigError(
                setting,
                f"label {key!r} has value {value!r}, not a valid Kubernetes label value (letters, digits, '-', '_', "
                "'.', at most 63 characters, starting and ending with a letter or digit)",
            )


def check_cluster_name(setting: str, name: str) -> None:
    if not (isinstance(name, str) and _CLUSTER_NAME.match(name)):
        raise ConfigError(
            setting,
            f"{name!r} is not a valid EKS cluster name (1-100 letters, digits, '-' or '_', starting with a letter or digit)",
        )


def check_ready_timeout(setting: str, minutes: int) -> None:
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 14:
        raise ConfigError(setting, f"{minutes!r} is not allowed; use 1 to 14 (the kubectl Lambda stops after 15 minutes)")


def _check_ids(setting: str, values: Sequence[str], pattern: re.Pattern[str], example: str) -> None:
    for value in values:
        if not isinstance(value, str) or not pattern.match(value):
            raise ConfigError(setting, f"{value!r} is not a valid id (expected the form {example})")
    if len(set(values)) != len(values):
        raise ConfigError(setting, f"{list(values)!r} lists the same id more than once")


def _check_azs(setting: str, zones: Sequence[str]) -> None:
    for zone in zones:
        if not isinstance(zone, str) or not _AZ.match(zone):
            raise ConfigError(setting, f"{zone!r} is not an availability zone name (expected the form eu-west-1a)")
    if len(set(zones)) != len(zones):
        raise ConfigError(setting, f"{list(zones)!r} lists the same availability zone more than once")


def _check_cidr(setting: str, cidr: str, *, smallest_prefix: int = 16, largest_prefix: int = 24) -> None:
    try:
        network = ipaddress.IPv4Network(cidr, strict=True)
    except (ValueError, TypeError):
        raise ConfigError(setting, f"{cidr!r} is not an IPv4 network in CIDR form (e.g. 10.0.0.0/16)") from None
    if not smallest_prefix <= network.prefixlen <= largest_prefix:
        raise ConfigError(
            setting, f"{cidr!r} has prefix /{network.prefixlen}; a VPC CIDR must be /{smallest_prefix} to /{largest_prefix}"
        )
    if not network.is_private:
        raise ConfigError(setting, f"{cidr!r} is not a private (RFC 1918) range; a private cluster needs one")


@dataclass(frozen=True, kw_only=True)
class FargateProfileSpec:
    """Pods in `namespace` (optionally only those carrying all `labels`) run on Fargate."""

    namespace: str
    #: default: no labels, every pod in the namespace
    labels: Mapping[str, str] = field(default_factory=dict)

    def validate(self, setting: str) -> None:
        check_namespace(f"{setting}.namespace", self.namespace)
        check_labels(f"{setting}.labels", self.labels)
        if self.namespace in RESERVED_NAMESPACES and not self.labels:
            raise ConfigError(
                f"{setting}.labels",
                f"a profile for all of namespace {self.namespace!r} is not allowed; give labels that select the pods "
                "meant for Fargate",
            )

    @property
    def selector_key(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        return (self.namespace, tuple(sorted(self.labels.items())))


@dataclass(frozen=True, kw_only=True)
class ExistingVpcSettings:
    """A VPC that already exists; nothing here is looked up, so synthesis needs no AWS calls."""

    vpc_id: str
    #: the VPC's primary CIDR: the endpoint security group admits 443 from it
    vpc_cidr: str
    #: private subnets for the cluster, Fargate pods and the kubectl Lambdas, one per availability zone
    subnet_ids: Sequence[str]
    #: the availability zone of each subnet, in the same order
    availability_zones: Sequence[str]
    #: the route table of each subnet, in the same order (the S3 gateway endpoint is added to them).
    #: default: none, allowed only when `endpoints.create` is false
    route_table_ids: Sequence[str] = ()

    def validate(self, setting: str) -> None:
        _check_ids(f"{setting}.vpc_id", [self.vpc_id], _VPC_ID, "vpc-0123456789abcdef0")
        _check_cidr(f"{setting}.vpc_cidr", self.vpc_cidr, smallest_prefix=16, largest_prefix=28)
        _check_ids(f"{setting}.subnet_ids", list(self.subnet_ids), _SUBNET_ID, "subnet-0123456789abcdef0")
        _check_azs(f"{setting}.availability_zones", list(self.availability_zones))
        if len(self.subnet_ids) < MIN_AZS:
            raise ConfigError(
                f"{setting}.subnet_ids",
                f"{len(self.subnet_ids)} subnet(s) given; EKS needs private subnets in at least {MIN_AZS} availability zones",
            )
        if len(self.availability_zones) != len(self.subnet_ids):
            raise ConfigError(
                f"{setting}.availability_zones",
                f"{len(self.availability_zones)} zone(s) for {len(self.subnet_ids)} subnet(s); give one zone per subnet",
            )
        if len(set(self.availability_zones)) < MIN_AZS:
            raise ConfigError(
                f"{setting}.availability_zones",
                f"the subnets span {len(set(self.availability_zones))} zone(s); EKS needs at least {MIN_AZS}",
            )
        if self.route_table_ids:
            _check_ids(f"{setting}.route_table_ids", list(self.route_table_ids), _ROUTE_TABLE_ID, "rtb-0123456789abcdef0")
            if len(self.route_table_ids) != len(self.subnet_ids):
                raise ConfigError(
                    f"{setting}.route_table_ids",
                    f"{len(self.route_table_ids)} route table(s) for {len(self.subnet_ids)} subnet(s); give one per subnet",
                )


@dataclass(frozen=True, kw_only=True)
class NetworkSettings:
    """The VPC: a new isolated one (default) or `existing_vpc`."""

    #: CIDR of the new VPC
    vpc_cidr: str = "10.0.0.0/16"
    #: number of availability zones (and isolated subnets) of the new VPC; at least 2
    az_count: int = 2
    #: availability zones of the new VPC by name. default: none, the stack's first `az_count` zones
    #: (environment-agnostic stacks can only address 2 zones without an AWS lookup)
    availability_zones: Sequence[str] = ()
    #: use this VPC instead of creating one. default: none
    existing_vpc: ExistingVpcSettings | None = None

    def validate(self, setting: str = "network") -> None:
        if self.existing_vpc is not None:
            self.existing_vpc.validate(f"{setting}.existing_vpc")
            return
        _check_cidr(f"{setting}.vpc_cidr", self.vpc_cidr)
        if isinstance(self.az_count, bool) or not isinstance(self.az_count, int) or not MIN_AZS <= self.az_count <= 6:
            raise ConfigError(f"{setting}.az_count", f"{self.az_count!r} is not allowed; use a whole number from {MIN_AZS} to 6")
        _check_azs(f"{setting}.availability_zones", list(self.availability_zones))
        if self.availability_zones and len(self.availability_zones) != self.az_count:
            raise ConfigError(
                f"{setting}.availability_zones",
                f"{len(self.availability_zones)} zone(s) named but az_count is {self.az_count}; name exactly az_count zones",
            )


@dataclass(frozen=True, kw_only=True)
class EndpointSettings:
    """VPC endpoints. The required set is derived from the enabled features (see endpoints.ENDPOINT_CATALOG)."""

    #: create the endpoints; false for an existing VPC that already has them
    create: bool = True
    #: further interface endpoint services by short name (e.g. "secretsmanager"). default: none
    extra_services: Sequence[str] = ()

    def validate(self, setting: str = "endpoints") -> None:
        from .endpoints import known_interface_services  # the catalog is CDK's own list; loaded on demand

        known = known_interface_services()
        for service in self.extra_services:
            if service not in known:
                close = difflib.get_close_matches(str(service), sorted(known), n=3, cutoff=0.8)
                hint = f" (did you mean {', '.join(close)}?)" if close else ""
                raise ConfigError(
                    f"{setting}.extra_services",
                    f"{service!r} is not an interface endpoint service aws-cdk-lib knows{hint}; use short names "
                    "such as 'secretsmanager' or 'ecr.api'",
                )
        if len(set(self.extra_services)) != len(self.extra_services):
            raise ConfigError(f"{setting}.extra_services", f"{list(self.extra_services)!r} lists a service more than once")


@dataclass(frozen=True, kw_only=True)
class ClusterSettings:
    """The EKS cluster and its Fargate profiles."""

    #: Kubernetes minor version; its kubectl layer package must be installed (versions.RELEASES)
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION
    #: EKS cluster name. default: none, derived from the construct path (``cluster.default_cluster_name``: stack
    #: name, construct path and a hash, e.g. ``Dev-Cluster-Cluster-1A2B3C4D``), so the control-plane log group
    #: ``/aws/eks/<name>/cluster`` can be created before the cluster
    cluster_name: str | None = None
    #: Fargate profiles for workloads (the CoreDNS profile is always added)
    app_profiles: Sequence[FargateProfileSpec] = (FargateProfileSpec(namespace="custom-space"),)
    #: how long the deploy waits for CoreDNS to report ready replicas before failing
    coredns_ready_timeout_minutes: int = 10

    def validate(self, setting: str = "cluster") -> KubernetesRelease:
        release = resolve_release(self.kubernetes_version)
        if self.cluster_name is not None:
            check_cluster_name(f"{setting}.cluster_name", self.cluster_name)
        seen: dict[tuple, int] = {}
        for index, profile in enumerate(self.app_profiles):
            profile.validate(f"{setting}.app_profiles[{index}]")
            if profile.selector_key in seen:
                raise ConfigError(
                    f"{setting}.app_profiles[{index}]",
                    f"selects the same pods as app_profiles[{seen[profile.selector_key]}] "
                    f"(namespace {profile.namespace!r}, labels {dict(profile.labels)!r}); each selector once",
                )
            seen[profile.selector_key] = index
        check_ready_timeout(f"{setting}.coredns_ready_timeout_minutes", self.coredns_ready_timeout_minutes)
        return release


#: CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)
_TAG_KEY = re.compile(r"^[\w .:/=+\-@]{1,128}$")
_TAG_VALUE = re.compile(r"^[\w .:/=+\-@]{0,256}$")


@dataclass(frozen=True, kw_only=True)
class ComplianceSettings:
    """Governance: log retention, mandatory tags, production protection and the optional strict data perimeter."""

    #: retention of every log group the platform creates (VPC flow logs, EKS control plane, Fargate container
    #: logs, image copy builds), in days
    log_retention_days: int = 365
    #: tags put on every taggable resource. default: none
    tags: Mapping[str, str] = field(default_factory=dict)
    #: tag keys that `tags` must give (non-empty values); synth stops if one is missing. default: none
    required_tags: Sequence[str] = ()
    #: a production environment: stacks get termination protection
    production: bool = False
    #: endpoint policies that admit only this account's principals, and an S3 gateway policy that admits only the
    #: buckets the platform needs (unverified until deployed; see the README)
    strict_data_perimeter: bool = False

    def validate(self, setting: str = "compliance") -> None:
        days = self.log_retention_days
        if isinstance(days, bool) or days not in LOG_RETENTION_DAYS:
            raise ConfigError(
                f"{setting}.log_retention_days",
                f"{days!r} is not a CloudWatch Logs retention; use one of {', '.join(map(str, LOG_RETENTION_DAYS))}",
            )
        if not isinstance(self.tags, Mapping):
            raise ConfigError(f"{setting}.tags", f"{self.tags!r} is not a mapping of tag keys to values")
        for key, value in self.tags.items():
            if not isinstance(key, str) or not _TAG_KEY.match(key) or key.lower().startswith("aws:"):
                raise ConfigError(
                    f"{setting}.tags",
                    f"{key!r} is not an allowed tag key (1-128 letters, digits, spaces and _ . : / = + - @; not aws:)",
                )
            if not isinstance(value, str) or not _TAG_VALUE.match(value):
                raise ConfigError(
                    f"{setting}.tags",
                    f"tag {key!r} has value {value!r}; use up to 256 letters, digits, spaces and _ . : / = + - @",
                )
        for key in self.required_tags:
            if not self.tags.get(key):
                raise ConfigError(
                    f"{setting}.tags",
                    f"required tag {key!r} is missing; give a value for each of {', '.join(self.required_tags)}",
                )
        for name in ("production", "strict_data_perimeter"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{setting}.{name}", f"{getattr(self, name)!r} is not allowed; give true or false")
BASTION_SUBNETS = ("isolated", "public")
PUBLIC_BASTION_NEEDS_NEW_VPC = (
    "'public' needs a new VPC (the bastion's public subnet is created with it); with an existing VPC use 'isolated'"
)
#: EKS access policies an admin principal may be given (all cluster-scoped here).
ACCESS_POLICIES = (
    "AmazonEKSClusterAdminPolicy",
    "AmazonEKSAdminPolicy",
    "AmazonEKSEditPolicy",
    "AmazonEKSViewPolicy",
    "AmazonEKSAdminViewPolicy",
)


@dataclass(frozen=True, kw_only=True)
class OperationsSettings:
    """Operator access and observability: SSM bastion, admin access entries, Fargate logging to CloudWatch."""

    #: create the SSM-managed bastion (kubectl, AWS CLI v2 and the verify command installed at boot)
    bastion: bool = True
    #: "isolated": in the cluster subnets, reached through the ssm/ssmmessages/ec2messages endpoints;
    #: "public": in a bastion-only public subnet with an internet gateway (new VPC only)
    bastion_subnet: str = "isolated"
    #: EC2 instance type; its architecture must match the kubectl that can be shipped offline (bastion.py checks)
    bastion_instance_type: str = "t3.micro"
    #: EKS access policy for the bastion's role and every admin principal
    admin_access_policy: str = "AmazonEKSClusterAdminPolicy"
    #: further IAM role/user ARNs (e.g. an SSO role) given an access entry. default: none
    admin_principal_arns: Sequence[str] = ()
    #: ship Fargate container logs to a CloudWatch log group the stack owns
    fargate_logging: bool = True
    #: KMS key for the log group; its key policy must admit the logs service. default: none, a new key (rotating)
    log_kms_key_arn: str | None = None
    #: further [FILTER] sections for the Fargate log router's filters.conf. default: none
    log_extra_filters: str = ""
    #: [PARSER] sections for parsers.conf. default: none
    log_parsers: str = ""

    def validate(self, setting: str = "operations") -> None:
        if self.bastion_subnet not in BASTION_SUBNETS:
            raise ConfigError(
                f"{setting}.bastion_subnet", f"{self.bastion_subnet!r} is not allowed; use {' or '.join(BASTION_SUBNETS)}"
            )
        if not isinstance(self.bastion_instance_type, str) or not _INSTANCE_TYPE.match(self.bastion_instance_type):
            raise ConfigError(
                f"{setting}.bastion_instance_type", f"{self.bastion_instance_type!r} is not an EC2 instance type (e.g. t3.micro)"
            )
        if self.admin_access_policy not in ACCESS_POLICIES:
            raise ConfigError(
                f"{setting}.admin_access_policy", f"{self.admin_access_policy!r} is not allowed; use one of {', '.join(ACCESS_POLICIES)}"
            )
        for arn in self.admin_principal_arns:
            if not isinstance(arn, str) or not _PRINCIPAL_ARN.match(arn):
                raise ConfigError(
                    f"{setting}.admin_principal_arns",
                    f"{arn!r} is not an IAM role or user ARN (arn:aws:iam::123456789012:role/NAME)",
                )
        if len(set(self.admin_principal_arns)) != len(self.admin_principal_arns):
            raise ConfigError(f"{setting}.admin_principal_arns", f"{list(self.admin_principal_arns)!r} lists a principal more than once")
        if self.log_kms_key_arn is not None and not (
            isinstance(self.log_kms_key_arn, str) and _KMS_KEY_ARN.match(self.log_kms_key_arn)
        ):
            raise ConfigError(
                f"{setting}.log_kms_key_arn", f"{self.log_kms_key_arn!r} is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)"
            )
_ECR_REPOSITORY = re.compile(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")
_IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_REGISTRY_PREFIX = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]+)?(/[a-z0-9._/-]+)?$")


def check_image_source(setting: str, source: str) -> None:
    ref = ImageRef.parse(source)
    if ref is None or ref.digest is not None or ref.tag is None or ref.tag == "latest" or not _IMAGE_TAG.match(ref.tag):
        raise ConfigError(
            setting,
            f"{source!r} is not allowed; give an upstream image with an explicit tag other than latest "
            "(e.g. public.ecr.aws/nginx/nginx:1.28.0), so that a deploy copies a known image",
        )


def check_repository_name(setting: str, name: str) -> None:
    if not isinstance(name, str) or not 2 <= len(name) <= 256 or not _ECR_REPOSITORY.match(name):
        raise ConfigError(
            setting,
            f"{name!r} is not a valid ECR repository name (2-256 lower-case letters, digits and "
            "'.', '_', '-', '/' between them, e.g. team/nginx)",
        )


@dataclass(frozen=True, kw_only=True)
class MirroredImage:
    """An upstream image that a deploy copies into this account's ECR repository `repository`, same tag."""

    #: upstream reference with an explicit tag other than `latest`, e.g. public.ecr.aws/nginx/nginx:1.28.0
    source: str
    #: ECR repository name (created KMS-encrypted, scanned on push, immutable tags, retained), e.g. team/nginx
    repository: str

    def validate(self, setting: str) -> None:
        check_image_source(f"{setting}.source", self.source)
        check_repository_name(f"{setting}.repository", self.repository)

    @property
    def tag(self) -> str:
        return ImageRef.parse(self.source).tag


@dataclass(frozen=True, kw_only=True)
class WorkloadSettings:
    """Workload images and the sample application (see workload.py, sample_app.py)."""

    #: deploy the sample application (nginx, 3 replicas) and wait until it is available
    sample_app: bool = True
    #: the sample application's namespace (a Fargate profile for it is ensured)
    sample_namespace: str = "custom-space"
    #: the upstream image the sample application runs, copied into ECR at deploy; a registry without
    #: anonymous rate limits and a pinned tag, never `latest`
    sample_image: str = "public.ecr.aws/nginx/nginx:1.28.0"
    #: ECR repository the sample image is copied into
    sample_repository: str = "sample-app/nginx"
    #: how long the deploy waits for a workload's Deployment to be available before failing
    ready_timeout_minutes: int = 10
    #: registries (host, or host/path prefix) the image guard also accepts, e.g. another account's ECR that
    #: grants this account pull access. default: none, only this account's ECR in this region
    allowed_registries: Sequence[str] = ()

    def validate(self, setting: str = "workloads") -> None:
        if not isinstance(self.sample_app, bool):
            raise ConfigError(f"{setting}.sample_app", f"{self.sample_app!r} is not allowed; give true or false")
        check_namespace(f"{setting}.sample_namespace", self.sample_namespace)
        if self.sample_namespace in RESERVED_NAMESPACES:
            raise ConfigError(
                f"{setting}.sample_namespace", f"{self.sample_namespace!r} is not allowed; use a namespace of its own"
            )
        check_image_source(f"{setting}.sample_image", self.sample_image)
        check_repository_name(f"{setting}.sample_repository", self.sample_repository)
        check_ready_timeout(f"{setting}.ready_timeout_minutes", self.ready_timeout_minutes)
        for entry in self.allowed_registries:
            if not isinstance(entry, str) or not _REGISTRY_PREFIX.match(entry) or "." not in entry.split("/")[0]:
                raise ConfigError(
                    f"{setting}.allowed_registries",
                    f"{entry!r} is not a registry host or host/path prefix (e.g. 123456789012.dkr.ecr.eu-west-1."
                    "amazonaws.com or registry.corp.example:5000/platform), without a scheme",
                )


@dataclass(frozen=True, kw_only=True)
class PlatformSettings:
    """Everything the composite construct and the app's stacks need."""

    network: NetworkSettings = field(default_factory=NetworkSettings)
    endpoints: EndpointSettings = field(default_factory=EndpointSettings)
    cluster: ClusterSettings = field(default_factory=ClusterSettings)
    compliance: ComplianceSettings = field(default_factory=ComplianceSettings)
    operations: OperationsSettings = field(default_factory=OperationsSettings)
    workloads: WorkloadSettings = field(default_factory=WorkloadSettings)

    def validate(self) -> KubernetesRelease:
        self.compliance.validate("compliance")
        self.network.validate("network")
        self.workloads.validate("workloads")
        self.endpoints.validate("endpoints")
        self.operations.validate("operations")
        if self.operations.bastion and self.operations.bastion_subnet == "public" and self.network.existing_vpc:
            raise ConfigError("operations.bastion_subnet", PUBLIC_BASTION_NEEDS_NEW_VPC)
        existing = self.network.existing_vpc
        if existing is not None and self.endpoints.create and not existing.route_table_ids:
            raise ConfigError(
                "network.existing_vpc.route_table_ids",
                "required while endpoints.create is true (the S3 gateway endpoint is added to these route tables); "
                "give one per subnet, or set endpoints.create to false if the VPC already has its endpoints",
            )
        return self.cluster.validate("cluster")

    @property
    def public_bastion_subnet(self) -> bool:
        """The new VPC gets the bastion-only public subnets."""
        return self.operations.bastion and self.operations.bastion_subnet == "public"
