"""Typed settings. Each field is declared once with its context key, parser, allowed values, default and meaning
(``catalog.setting``); ``validate()`` raises one ConfigError naming the key as the user types it."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from ..pod_security import LEVELS as POD_SECURITY_LEVELS
from . import parsers
from .catalog import declared, key_of, setting
from .checks import (
    BUCKET_NAME,
    INSTANCE_TYPE,
    KMS_KEY_ARN,
    MIN_AZS,
    PRINCIPAL_ARN,
    REGION_NAME,
    REGISTRY_PREFIX,
    RESERVED_NAMESPACES,
    ROUTE_TABLE_ID,
    SUBNET_ID,
    VPC_ID,
    check_azs,
    check_cidr,
    check_cluster_name,
    check_ids,
    check_image_source,
    check_labels,
    check_namespace,
    check_ready_timeout,
    check_repository_name,
    check_stage_name,
    check_zones,
    is_zone_id,
    known_interface_services,
)
from .errors import ConfigError
from .images import ImageRef
from .pipeline import SECTION as PIPELINE_SECTION
from .pipeline import PipelineSettings
from .versions import (
    DEFAULT_KUBERNETES_VERSION,
    RELEASES,
    KubernetesRelease,
    allowed_versions,
    check_upgrade,
    resolve_release,
)

#: CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)
AMI_ID = re.compile(r"^ami-([0-9a-f]{8}|[0-9a-f]{17})$")
_TAG_KEY = re.compile(r"^[\w .:/=+\-@]{1,128}$")
_TAG_VALUE = re.compile(r"^[\w .:/=+\-@]{0,256}$")
BASTION_SUBNETS = ("isolated", "public")
#: EKS access policies an admin principal may be given (all cluster-scoped here).
ACCESS_POLICIES = (
    "AmazonEKSClusterAdminPolicy",
    "AmazonEKSAdminPolicy",
    "AmazonEKSEditPolicy",
    "AmazonEKSViewPolicy",
    "AmazonEKSAdminViewPolicy",
)
#: EKS upgrade policies (AWS::EKS::Cluster UpgradePolicy.SupportType).
SUPPORT_TYPES = ("STANDARD", "EXTENDED")
PROFILES_EXAMPLE = '[{"namespace": "custom-space", "labels": {"app": "web"}}]'
POD_SECURITY_EXAMPLE = '{"legacy-app": "baseline"}'
TAGS_EXAMPLE = '{"owner": "team-a"}'
SESSION_EXAMPLE = '{"kmsKeyId": "arn:aws:kms:eu-west-1:111111111111:key/…", "cloudWatchLogGroupName": "/ssm/sessions"}'
#: the inputs of AWS's SSM-SessionManagerRunShell document (Session Manager preferences), and one of ours
SESSION_DOCUMENT_INPUTS = (
    "s3BucketName", "s3KeyPrefix", "s3EncryptionEnabled", "cloudWatchLogGroupName", "cloudWatchEncryptionEnabled",
    "cloudWatchStreamingEnabled", "kmsKeyId", "runAsEnabled", "runAsDefaultUser", "idleSessionTimeout",
    "maxSessionDuration", "shellProfile",
)
SESSION_BUCKET_KEY = "s3BucketKmsKeyArn"
_KMS_KEY_ID = re.compile(r"^(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")
_LOG_GROUP_NAME = re.compile(r"^[\w\-/.#]{1,512}$")


def _session_preferences(key: str, value: Any) -> dict[str, Any]:
    value = parsers.json_value(key, value, f"an object such as {SESSION_EXAMPLE}")
    if not isinstance(value, dict):
        raise ConfigError(key, f"{value!r} is not allowed; give the document's inputs as a JSON object, e.g. {SESSION_EXAMPLE}")
    return value


def check_session_preferences(setting: str, preferences: Mapping[str, Any]) -> None:
    """The inputs the bastion acts on must be usable: a key it can be granted, a log group and bucket name."""
    known = (*SESSION_DOCUMENT_INPUTS, SESSION_BUCKET_KEY)
    for name, value in preferences.items():
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]}?" if close else f" (inputs: {', '.join(known)})"
            raise ConfigError(f"{setting}.{name}", f"not an input of SSM-SessionManagerRunShell{hint}")
    key_id = preferences.get("kmsKeyId")
    if key_id not in (None, "") and not (isinstance(key_id, str) and (KMS_KEY_ARN.match(key_id) or _KMS_KEY_ID.match(key_id))):
        raise ConfigError(
            f"{setting}.kmsKeyId",
            f"{key_id!r} is not a KMS key ARN or key id (an alias cannot be granted to the bastion's role; give the key it names)",
        )
    bucket_key = preferences.get(SESSION_BUCKET_KEY)
    if bucket_key not in (None, "") and not (isinstance(bucket_key, str) and KMS_KEY_ARN.match(bucket_key)):
        raise ConfigError(f"{setting}.{SESSION_BUCKET_KEY}", f"{bucket_key!r} is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)")
    group = preferences.get("cloudWatchLogGroupName")
    if group not in (None, "") and not (isinstance(group, str) and _LOG_GROUP_NAME.match(group)):
        raise ConfigError(f"{setting}.cloudWatchLogGroupName", f"{group!r} is not a CloudWatch Logs group name")
    bucket = preferences.get("s3BucketName")
    if bucket not in (None, "") and not (isinstance(bucket, str) and BUCKET_NAME.match(bucket)):
        raise ConfigError(f"{setting}.s3BucketName", f"{bucket!r} is not an S3 bucket name")
    prefix = preferences.get("s3KeyPrefix")
    if prefix not in (None, "") and not isinstance(prefix, str):
        raise ConfigError(f"{setting}.s3KeyPrefix", f"{prefix!r} is not a key prefix (a string)")


#: keys that choose environments: not allowed inside one (an environment's name is its stage)
ENVIRONMENT_CHOICE_KEYS = ("app.stage", "app.environments", "app.environment")
ENVIRONMENTS_EXAMPLE = '{"Test": {"app.account": "111111111111", "app.region": "eu-west-1"}, "Prod": {…}}'


def _environments(key: str, value: Any) -> dict[str, dict[str, Any]]:
    """name -> that environment's settings (the same keys as the top level; checked by the app's context parsing)."""
    value = parsers.json_value(key, value, f"an object such as {ENVIRONMENTS_EXAMPLE}")
    if not isinstance(value, dict) or not value:
        raise ConfigError(key, f"{value!r} is not allowed; give an object of environment names to settings, such as {ENVIRONMENTS_EXAMPLE}")
    for name, entries in value.items():
        check_stage_name(f"{key}.{name}", name)
        if not isinstance(entries, dict):
            raise ConfigError(f"{key}.{name}", f"{entries!r} is not allowed; give an object of setting keys to values")
        for inner in entries:
            if inner in ENVIRONMENT_CHOICE_KEYS:
                raise ConfigError(f"{key}.{name}.{inner}", f"not allowed inside an environment; its name, {name}, is its stage")
            if inner.startswith(f"{PIPELINE_SECTION}."):
                raise ConfigError(f"{key}.{name}.{inner}", "not allowed inside an environment; one pipeline deploys them all")
    lowered = [name.lower() for name in value]
    if len(set(lowered)) != len(lowered):
        raise ConfigError(key, f"{list(value)!r} has names that differ only in case; ENV=… could not tell them apart")
    return value


@dataclass(frozen=True, kw_only=True)
class AppSettings:
    """Where the app's stages go: one stage (its name and, optionally, account and region) or named environments."""

    stage: str = setting(
        "Dev", key="app.stage", parse=parsers.text, doc="name of the stage; stacks are STAGE/Network, STAGE/Endpoints, STAGE/Cluster",
        allowed="1-64 letters, digits or '-', starting with a letter; not with app.environments",
    )
    account: str | None = setting(
        None, key="app.account", parse=parsers.text, doc="AWS account the stacks are bound to, together with app.region",
        allowed="12-digit account id", default_text="none (environment-agnostic)",
    )
    region: str | None = setting(
        None, key="app.region", parse=parsers.text, doc="AWS region the stacks are bound to",
        allowed="a region name, e.g. eu-west-1; with an account set, lookups are cached in cdk.context.json",
    )
    environments: Mapping[str, Mapping[str, Any]] = setting(
        default_factory=dict, key="app.environments", parse=_environments,
        doc="named environments, one stage each (name = stage); each gives its own settings, e.g. app.account and app.region, over the shared ones",
        allowed=f"JSON object, e.g. {ENVIRONMENTS_EXAMPLE}", default_text="none (one stage, app.stage)",
    )
    environment: str | None = setting(
        None, key="app.environment", parse=parsers.text,
        doc="build only this environment's stage (make's `ENV=name` sets it)", allowed="a declared environment name, in any case",
        default_text="none (every environment)",
    )

    def validate(self) -> None:
        if (self.account is None) != (self.region is None):
            missing = "account" if self.account is None else "region"
            raise ConfigError(key_of(AppSettings, missing), "give app.account and app.region together")
        if self.account is not None and not (self.account.isdigit() and len(self.account) == 12):
            raise ConfigError(key_of(AppSettings, "account"), f"{self.account!r} is not a 12-digit AWS account id")
        if self.region is not None and not REGION_NAME.match(self.region):
            raise ConfigError(key_of(AppSettings, "region"), f"{self.region!r} is not an AWS region name (e.g. eu-west-1)")
        check_stage_name(key_of(AppSettings, "stage"), self.stage)


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


def _profiles(key: str, value: Any) -> tuple[FargateProfileSpec, ...]:
    items = parsers.objects(key, value, required="namespace", optional=("labels",), example=PROFILES_EXAMPLE)
    return tuple(FargateProfileSpec(namespace=item["namespace"], labels=item.get("labels") or {}) for item in items)


@dataclass(frozen=True, kw_only=True)
class ExistingVpcSettings:
    """A VPC that already exists; nothing here is looked up, so synthesis needs no AWS calls."""

    vpc_id: str = setting(
        key="network.existing_vpc_id", parse=parsers.text, doc="use this VPC instead of creating one (no Network stack)",
        allowed="vpc-…", default_text="none (a new VPC)",
    )
    vpc_cidr: str = setting(
        key="network.existing_vpc_cidr", parse=parsers.text, doc="the existing VPC's primary CIDR (the endpoint security group admits 443 from it)",
        allowed="IPv4 CIDR, /16 to /28", default_text="—",
    )
    subnet_ids: Sequence[str] = setting(
        key="network.existing_subnet_ids", parse=parsers.strings,
        doc="private subnets for the cluster, Fargate pods and the kubectl Lambdas", allowed="subnet-… ids in at least 2 zones",
        default_text="—",
    )
    availability_zones: Sequence[str] = setting(
        key="network.existing_availability_zones", parse=parsers.strings, doc="the zone of each subnet, same order",
        allowed="zone names", default_text="—",
    )
    route_table_ids: Sequence[str] = setting(
        (), key="network.existing_route_table_ids", parse=parsers.strings,
        doc="the route table of each subnet, same order (the S3 gateway endpoint is added to them)",
        allowed="rtb-… ids; required while endpoints.create is true",
    )

    def validate(self) -> None:
        key = lambda name: key_of(ExistingVpcSettings, name)  # noqa: E731
        check_ids(key("vpc_id"), [self.vpc_id], VPC_ID, "vpc-0123456789abcdef0")
        check_cidr(key("vpc_cidr"), self.vpc_cidr, smallest_prefix=16, largest_prefix=28)
        check_ids(key("subnet_ids"), list(self.subnet_ids), SUBNET_ID, "subnet-0123456789abcdef0")
        check_azs(key("availability_zones"), list(self.availability_zones))
        if len(self.subnet_ids) < MIN_AZS:
            raise ConfigError(
                key("subnet_ids"),
                f"{len(self.subnet_ids)} subnet(s) given; EKS needs private subnets in at least {MIN_AZS} availability zones",
            )
        if len(self.availability_zones) != len(self.subnet_ids):
            raise ConfigError(
                key("availability_zones"),
                f"{len(self.availability_zones)} zone(s) for {len(self.subnet_ids)} subnet(s); give one zone per subnet",
            )
        if len(set(self.availability_zones)) < MIN_AZS:
            raise ConfigError(
                key("availability_zones"),
                f"the subnets span {len(set(self.availability_zones))} zone(s); EKS needs at least {MIN_AZS}",
            )
        if self.route_table_ids:
            check_ids(key("route_table_ids"), list(self.route_table_ids), ROUTE_TABLE_ID, "rtb-0123456789abcdef0")
            if len(self.route_table_ids) != len(self.subnet_ids):
                raise ConfigError(
                    key("route_table_ids"),
                    f"{len(self.route_table_ids)} route table(s) for {len(self.subnet_ids)} subnet(s); give one per subnet",
                )


#: the settings of a new VPC, and what an existing VPC has instead
EXISTING_VPC_INSTEAD = {
    "vpc_cidr": "its CIDR is network.existing_vpc_cidr",
    "az_count": "its zones are those of network.existing_availability_zones",
    "availability_zones": "its zones are network.existing_availability_zones",
    "zones_by_name": "its subnets are given by ID in network.existing_subnet_ids",
}


@dataclass(frozen=True, kw_only=True)
class NetworkSettings:
    """The VPC: a new isolated one (default) or `existing_vpc`."""

    vpc_cidr: str = setting(
        "10.0.0.0/16", key="network.vpc_cidr", parse=parsers.text, doc="CIDR of the new VPC", allowed="private IPv4 CIDR, /16 to /24",
    )
    az_count: int = setting(
        2, key="network.az_count", parse=parsers.integer, doc="availability zones (and isolated subnets) of the new VPC",
        allowed="2 to 6, at most the zones the region has (docs/regions.md)",
    )
    availability_zones: Sequence[str] = setting(
        (), key="network.availability_zones", parse=parsers.strings,
        doc="availability zones of the new VPC: zone IDs, the same physical zones in every account; zone names only in "
        "a stage bound to app.account and app.region, or with network.zones_by_name",
        allowed="exactly az_count zone IDs of one region that EKS accepts, e.g. euw1-az1,euw1-az2",
        default_text="the region's first az_count zone IDs that EKS accepts and every account has (docs/regions.md)",
    )
    zones_by_name: bool = setting(
        False, key="network.zones_by_name", parse=parsers.boolean,
        doc="place the subnets by zone name, as stages deployed before zone IDs did (Fn::GetAZs, or the names given or "
        "looked up): set it on such a stage, or its subnets would be replaced (docs/regions.md)",
        allowed="true or false",
    )
    #: use this VPC instead of creating one (the network.existing_* settings). default: none
    existing_vpc: ExistingVpcSettings | None = None

    def validate(self) -> None:
        key = lambda name: key_of(NetworkSettings, name)  # noqa: E731
        if self.existing_vpc is not None:
            defaults = NetworkSettings()
            for name, instead in EXISTING_VPC_INSTEAD.items():
                if getattr(self, name) != getattr(defaults, name):
                    raise ConfigError(
                        key(name), f"not used with an existing VPC (network.existing_vpc_id): {instead}; remove {key(name)}"
                    )
            self.existing_vpc.validate()
            return
        check_cidr(key("vpc_cidr"), self.vpc_cidr)
        if isinstance(self.az_count, bool) or not isinstance(self.az_count, int) or not MIN_AZS <= self.az_count <= 6:
            raise ConfigError(key("az_count"), f"{self.az_count!r} is not allowed; use a whole number from {MIN_AZS} to 6")
        if not isinstance(self.zones_by_name, bool):
            raise ConfigError(key("zones_by_name"), f"{self.zones_by_name!r} is not allowed; give true or false")
        zones = list(self.availability_zones)
        check_zones(key("availability_zones"), zones)
        if self.zones_by_name and any(is_zone_id(zone) for zone in zones):
            raise ConfigError(
                key("availability_zones"),
                f"{zones!r} are zone IDs, but network.zones_by_name places subnets by zone name: give the names the stage "
                "was deployed with, or set network.zones_by_name false",
            )
        if self.availability_zones and len(self.availability_zones) != self.az_count:
            raise ConfigError(
                key("availability_zones"),
                f"{len(self.availability_zones)} zone(s) named but az_count is {self.az_count}; name exactly az_count zones",
            )


@dataclass(frozen=True, kw_only=True)
class EndpointSettings:
    """VPC endpoints. The required set is derived from the enabled features (blocks/endpoints.py ENDPOINT_CATALOG)."""

    create: bool = setting(
        True, key="endpoints.create", parse=parsers.boolean, doc="create the VPC endpoints the platform needs",
        allowed="true, or false for a VPC that already has them (no Endpoints stack)",
    )
    extra_services: Sequence[str] = setting(
        (), key="endpoints.extra_services", parse=parsers.strings, doc="further interface endpoints",
        allowed="short service names as aws-cdk-lib names them (secretsmanager, kms, ec2, …)",
    )
    single_zone: bool = setting(
        False, key="endpoints.single_zone", parse=parsers.boolean,
        doc="interface endpoints in the first availability zone only, a cost profile for non-production stages "
        "(pods in other zones reach them across zones; if that zone fails the VPC loses the AWS APIs: see the review report)",
        allowed="true or false; not with compliance.production",
    )

    def validate(self) -> None:
        if not isinstance(self.single_zone, bool):
            raise ConfigError(key_of(EndpointSettings, "single_zone"), f"{self.single_zone!r} is not allowed; give true or false")
        key = key_of(EndpointSettings, "extra_services")
        known = known_interface_services() if self.extra_services else frozenset()
        for service in self.extra_services:
            if service not in known:
                close = difflib.get_close_matches(str(service), sorted(known), n=3, cutoff=0.8)
                hint = f" (did you mean {', '.join(close)}?)" if close else ""
                raise ConfigError(
                    key,
                    f"{service!r} is not an interface endpoint service aws-cdk-lib knows{hint}; use short names "
                    "such as 'secretsmanager' or 'ecr.api'",
                )
        if len(set(self.extra_services)) != len(self.extra_services):
            raise ConfigError(key, f"{list(self.extra_services)!r} lists a service more than once")


@dataclass(frozen=True, kw_only=True)
class ClusterSettings:
    """The EKS cluster and its Fargate profiles."""

    kubernetes_version: str = setting(
        DEFAULT_KUBERNETES_VERSION, key="cluster.kubernetes_version", parse=parsers.version, doc="Kubernetes minor version",
        allowed=f"{allowed_versions()}; other than {DEFAULT_KUBERNETES_VERSION}: pip install aws-cdk.lambda-layer-kubectl-vNN",
    )
    deployed_kubernetes_version: str | None = setting(
        None, key="cluster.deployed_kubernetes_version", parse=parsers.version,
        doc="the version the deployed cluster runs (record it after each deploy): kubernetes_version may then only "
        "stay or move one minor version up, as EKS upgrades",
        allowed="a version, e.g. 1.35", default_text="none (nothing deployed yet: no check)",
    )
    cluster_name: str | None = setting(
        None, key="cluster.name", parse=parsers.text, doc="EKS cluster name",
        allowed="1-100 of [A-Za-z0-9-_], starting with a letter or digit",
        default_text="derived from stack and construct path, e.g. DevCluster-BAA1FB0D",
    )
    deployed_name: str | None = setting(
        None, key="cluster.deployed_name", parse=parsers.text,
        doc="the name of the deployed cluster (record it after the first deploy: output ClusterName): a cluster.name "
        "other than it is then refused, since a new name replaces the cluster",
        allowed="a cluster name, e.g. DevCluster-BAA1FB0D", default_text="none (nothing deployed yet: no check)",
    )
    replace_deployed_cluster: bool = setting(
        False, key="cluster.replace_deployed_cluster", parse=parsers.boolean,
        doc="a cluster.name other than cluster.deployed_name is meant: the deploy creates a new cluster and deletes the "
        "deployed one with its pods, OIDC provider and access entries (see docs/operations.md)",
        allowed="true or false",
    )
    support_type: str = setting(
        "STANDARD", key="cluster.support_type", parse=parsers.text,
        doc="what EKS does when the Kubernetes version's standard support ends: STANDARD upgrades the cluster to the next "
        "version; EXTENDED keeps it on its version up to 12 months more, billed $0.60 instead of $0.10 a cluster-hour "
        "(the review report's cost table shows it)",
        allowed=f"{' or '.join(SUPPORT_TYPES)}; EXTENDED for a version whose standard support has ended",
    )
    app_profiles: Sequence[FargateProfileSpec] = setting(
        (FargateProfileSpec(namespace="custom-space"),), key="cluster.app_profiles", parse=_profiles,
        doc="Fargate profiles for workloads (the CoreDNS profile is always added)",
        allowed='JSON list of {"namespace": …, "labels": {…}}; ≤ 5 labels, no whole default/kube-system, no duplicates',
        default_text='[{"namespace": "custom-space"}]',
    )
    coredns_ready_timeout_minutes: int = setting(
        10, key="cluster.coredns_ready_timeout_minutes", parse=parsers.integer,
        doc="how long the deploy waits for CoreDNS to be ready before failing", allowed="1 to 14 (the kubectl Lambda stops at 15 minutes)",
    )
    pod_security_levels: Mapping[str, str] = setting(
        key="cluster.pod_security_levels", parse=parsers.mapping_like(POD_SECURITY_EXAMPLE), default_factory=dict,
        doc="a Pod Security level other than restricted for a namespace the platform creates (enforce, audit and warn)",
        allowed=f"JSON object of namespace to baseline or privileged, e.g. {POD_SECURITY_EXAMPLE}",
        default_text="none (every namespace the platform creates enforces restricted)",
    )

    def validate(self) -> KubernetesRelease:
        key = lambda name: key_of(ClusterSettings, name)  # noqa: E731
        self._validate_support_type(key("support_type"))
        release = resolve_release(self.kubernetes_version, setting=key("kubernetes_version"))
        if self.deployed_kubernetes_version is not None:
            if not re.fullmatch(r"1\.\d+", str(self.deployed_kubernetes_version)):
                raise ConfigError(
                    key("deployed_kubernetes_version"), f"{self.deployed_kubernetes_version!r} is not a version such as 1.35"
                )
            check_upgrade(self.kubernetes_version, self.deployed_kubernetes_version, setting=key("kubernetes_version"))
        if self.cluster_name is not None:
            check_cluster_name(key("cluster_name"), self.cluster_name)
        if self.deployed_name is not None:
            check_cluster_name(key("deployed_name"), self.deployed_name)
        if not isinstance(self.replace_deployed_cluster, bool):
            raise ConfigError(key("replace_deployed_cluster"), f"{self.replace_deployed_cluster!r} is not allowed; give true or false")
        seen: dict[tuple, int] = {}
        for index, profile in enumerate(self.app_profiles):
            profile.validate(f"{key('app_profiles')}[{index}]")
            if profile.selector_key in seen:
                raise ConfigError(
                    f"{key('app_profiles')}[{index}]",
                    f"selects the same pods as app_profiles[{seen[profile.selector_key]}] "
                    f"(namespace {profile.namespace!r}, labels {dict(profile.labels)!r}); each selector once",
                )
            seen[profile.selector_key] = index
        check_ready_timeout(key("coredns_ready_timeout_minutes"), self.coredns_ready_timeout_minutes)
        self._validate_pod_security_levels(key("pod_security_levels"))
        return release

    def _validate_support_type(self, key: str) -> None:
        if self.support_type not in SUPPORT_TYPES:
            raise ConfigError(key, f"{self.support_type!r} is not allowed; use {' or '.join(SUPPORT_TYPES)}")
        release = RELEASES.get(self.kubernetes_version)
        if self.support_type == "STANDARD" and release is not None and release.extended_support_only:
            raise ConfigError(
                key,
                f"STANDARD is not allowed with Kubernetes {release.version}, whose standard support has ended "
                f"({release.support}); set EXTENDED ($0.60 a cluster-hour), or use a version in standard support",
            )

    def _validate_pod_security_levels(self, key: str) -> None:
        if not isinstance(self.pod_security_levels, Mapping):
            raise ConfigError(key, f"{self.pod_security_levels!r} is not a mapping of namespaces to Pod Security levels")
        for namespace, level in self.pod_security_levels.items():
            check_namespace(key, namespace)
            if namespace in RESERVED_NAMESPACES:
                raise ConfigError(key, f"{namespace!r} is not a namespace the platform creates or labels")
            if level not in POD_SECURITY_LEVELS:
                raise ConfigError(
                    f"{key}[{namespace!r}]", f"{level!r} is not a Pod Security level; use {', '.join(POD_SECURITY_LEVELS)}"
                )

    def pod_security_level(self, namespace: str) -> str:
        """The level a namespace the platform creates enforces: restricted unless relaxed in pod_security_levels."""
        return self.pod_security_levels.get(namespace, "restricted")


@dataclass(frozen=True, kw_only=True)
class ComplianceSettings:
    """Governance: log retention, mandatory tags, production protection and the optional strict data perimeter."""

    log_retention_days: int = setting(
        365, key="compliance.log_retention_days", parse=parsers.integer,
        doc="retention of every log group the platform creates (flow logs, control plane, Fargate containers, image copies)",
        allowed=f"a CloudWatch Logs retention in days: {', '.join(map(str, LOG_RETENTION_DAYS))}",
    )
    tags: Mapping[str, str] = setting(
        key="compliance.tags", parse=parsers.mapping_like(TAGS_EXAMPLE), default_factory=dict, doc="tags for every taggable resource",
        allowed=f"JSON object, e.g. {TAGS_EXAMPLE}", default_text="none",
    )
    required_tags: Sequence[str] = setting(
        (), key="compliance.required_tags", parse=parsers.strings, doc="tag keys compliance.tags must give; synth stops if one is missing",
        allowed="tag keys",
    )
    production: bool = setting(
        False, key="compliance.production", parse=parsers.boolean,
        doc="a production environment: termination protection on every stack and deletion protection on the EKS "
        "cluster (destroy takes two steps: docs/operations.md)",
        allowed="true or false",
    )
    strict_data_perimeter: bool = setting(
        False, key="compliance.strict_data_perimeter", parse=parsers.boolean,
        doc="restrictive endpoint policies (see Data perimeter); unverified until deployed", allowed="true or false",
    )

    def validate(self) -> None:
        key = lambda name: key_of(ComplianceSettings, name)  # noqa: E731
        days = self.log_retention_days
        if isinstance(days, bool) or days not in LOG_RETENTION_DAYS:
            raise ConfigError(
                key("log_retention_days"),
                f"{days!r} is not a CloudWatch Logs retention; use one of {', '.join(map(str, LOG_RETENTION_DAYS))}",
            )
        if not isinstance(self.tags, Mapping):
            raise ConfigError(key("tags"), f"{self.tags!r} is not a mapping of tag keys to values")
        for tag, value in self.tags.items():
            if not isinstance(tag, str) or not _TAG_KEY.match(tag) or tag.lower().startswith("aws:"):
                raise ConfigError(
                    key("tags"),
                    f"{tag!r} is not an allowed tag key (1-128 letters, digits, spaces and _ . : / = + - @; not aws:)",
                )
            if not isinstance(value, str) or not _TAG_VALUE.match(value):
                raise ConfigError(
                    key("tags"),
                    f"tag {tag!r} has value {value!r}; use up to 256 letters, digits, spaces and _ . : / = + - @",
                )
        for tag in self.required_tags:
            if not self.tags.get(tag):
                raise ConfigError(
                    key("tags"),
                    f"required tag {tag!r} is missing; give a value for each of {', '.join(self.required_tags)}",
                )
        for name in ("production", "strict_data_perimeter"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(key(name), f"{getattr(self, name)!r} is not allowed; give true or false")


@dataclass(frozen=True, kw_only=True)
class OperationsSettings:
    """Operator access and observability: SSM bastion, admin access entries, Fargate logging to CloudWatch."""

    bastion: bool = setting(
        True, key="operations.bastion", parse=parsers.boolean,
        doc="an SSM-managed bastion with kubectl, AWS CLI v2 and the verify command", allowed="true, or false (no bastion and no SSM endpoints)",
    )
    bastion_subnet: str = setting(
        "isolated", key="operations.bastion_subnet", parse=parsers.text, doc="where the bastion runs",
        allowed="isolated (cluster subnets, SSM endpoints added) or public (a bastion-only public subnet with an internet gateway; new VPC only)",
    )
    bastion_instance_type: str | None = setting(
        None, key="operations.bastion_instance_type", parse=parsers.text,
        doc="the bastion's EC2 instance type (x86_64); t3.micro costs less and fails AWS Control Tower's CT.EC2.PR.19",
        allowed="an x86_64 type the region offers: the kubectl that can be installed offline is x86_64, so Graviton "
        "types are rejected",
        default_text="per region, the cheapest x86_64 type CT.EC2.PR.19 accepts that the region offers (c7a.medium in "
        "us-east-1; docs/regions.md)",
    )
    bastion_ami: str | None = setting(
        None, key="operations.bastion_ami", parse=parsers.text,
        doc="the bastion's AMI, pinned so that a new Amazon Linux release does not replace the bastion",
        allowed="ami-… of the stage's region",
        default_text="none: an account-bound stage looks up the newest AL2023 once and keeps it in cdk.context.json; "
        "an environment-agnostic one resolves it at every deploy",
    )
    admin_access_policy: str = setting(
        "AmazonEKSClusterAdminPolicy", key="operations.admin_access_policy", parse=parsers.text,
        doc="EKS access policy (cluster scope) of the bastion's role and every admin principal", allowed=", ".join(ACCESS_POLICIES),
    )
    admin_principal_arns: Sequence[str] = setting(
        (), key="operations.admin_principal_arns", parse=parsers.strings,
        doc="further IAM roles or users given an access entry (e.g. your SSO role)", allowed="IAM role/user ARNs",
    )
    fargate_logging: bool = setting(
        True, key="operations.fargate_logging", parse=parsers.boolean, doc="Fargate container logs to a CloudWatch log group of the stack",
        allowed="true, or false (no aws-observability namespace, no log group, no logs endpoint)",
    )
    session_manager_preferences: Mapping[str, Any] = setting(
        default_factory=dict, key="operations.session_manager_preferences", parse=_session_preferences,
        doc="the account's Session Manager preferences, as the SSM-SessionManagerRunShell document's inputs hold them "
        "(a landing zone often sets them): the bastion gets the kms endpoint, the logs endpoint and the permissions a "
        "session then needs (docs/regions.md has the command that reads them)",
        allowed=f"JSON object of the document's inputs, e.g. {SESSION_EXAMPLE}; used: kmsKeyId (key ARN or id), "
        "cloudWatchLogGroupName, s3BucketName, s3KeyPrefix, and s3BucketKmsKeyArn (the log bucket's own key)",
        default_text="none (sessions unencrypted by Session Manager, not logged)",
    )
    log_kms_key_arn: str | None = setting(
        None, key="operations.log_kms_key_arn", parse=parsers.text, doc="KMS key of the Fargate log group",
        allowed="a KMS key ARN whose policy lets logs.REGION.amazonaws.com use it", default_text="none (a new rotating key)",
    )
    log_extra_filters: str = setting(
        "", key="operations.log_extra_filters", parse=parsers.optional_text, doc="Fluent Bit [FILTER] sections appended to filters.conf",
        allowed="[FILTER] sections", default_text="none",
    )
    log_parsers: str = setting(
        "", key="operations.log_parsers", parse=parsers.optional_text, doc="Fluent Bit [PARSER] sections for parsers.conf",
        allowed="[PARSER] sections; the aws-logging ConfigMap must stay ≤ 5300 characters", default_text="none",
    )

    def validate(self) -> None:
        key = lambda name: key_of(OperationsSettings, name)  # noqa: E731
        for name in ("bastion", "fargate_logging"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(key(name), f"{getattr(self, name)!r} is not allowed; give true or false")
        if self.bastion_subnet not in BASTION_SUBNETS:
            raise ConfigError(
                key("bastion_subnet"), f"{self.bastion_subnet!r} is not allowed; use {' or '.join(BASTION_SUBNETS)}"
            )
        if self.bastion_instance_type is not None and (
            not isinstance(self.bastion_instance_type, str) or not INSTANCE_TYPE.match(self.bastion_instance_type)
        ):
            raise ConfigError(
                key("bastion_instance_type"), f"{self.bastion_instance_type!r} is not an EC2 instance type (e.g. t3.micro)"
            )
        if self.bastion_ami is not None and not (isinstance(self.bastion_ami, str) and AMI_ID.match(self.bastion_ami)):
            raise ConfigError(key("bastion_ami"), f"{self.bastion_ami!r} is not an AMI id (ami- and 8 or 17 hex digits)")
        if self.admin_access_policy not in ACCESS_POLICIES:
            raise ConfigError(
                key("admin_access_policy"), f"{self.admin_access_policy!r} is not allowed; use one of {', '.join(ACCESS_POLICIES)}"
            )
        for arn in self.admin_principal_arns:
            if not isinstance(arn, str) or not PRINCIPAL_ARN.match(arn):
                raise ConfigError(
                    key("admin_principal_arns"),
                    f"{arn!r} is not an IAM role or user ARN (arn:aws:iam::123456789012:role/NAME)",
                )
        if len(set(self.admin_principal_arns)) != len(self.admin_principal_arns):
            raise ConfigError(key("admin_principal_arns"), f"{list(self.admin_principal_arns)!r} lists a principal more than once")
        check_session_preferences(key("session_manager_preferences"), self.session_manager_preferences)
        if self.log_kms_key_arn is not None and not (
            isinstance(self.log_kms_key_arn, str) and KMS_KEY_ARN.match(self.log_kms_key_arn)
        ):
            raise ConfigError(
                key("log_kms_key_arn"), f"{self.log_kms_key_arn!r} is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)"
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
    """Workload images and the sample application."""

    sample_app: bool = setting(
        True, key="workloads.sample_app", parse=parsers.boolean, doc="the sample application (nginx, 3 replicas) and a wait until it is available",
        allowed="true, or false (no repository, copy build or Deployment)",
    )
    sample_namespace: str = setting(
        "custom-space", key="workloads.sample_namespace", parse=parsers.text,
        doc="namespace of the sample application (a Fargate profile for it is ensured)", allowed="a namespace name, not default or kube-system",
    )
    sample_image: str = setting(
        "public.ecr.aws/nginx/nginx-unprivileged:1.28.0", key="workloads.sample_image", parse=parsers.text,
        doc="the upstream image the sample application runs, copied into ECR at deploy",
        allowed="an image with a pinned tag, never latest; it must run as uid 101 on port 8080 (an nginx-unprivileged tag)",
    )
    sample_repository: str | None = setting(
        None, key="workloads.sample_repository", parse=parsers.text,
        doc="ECR repository the sample image is copied into (retained on destroy, adopted by the next deploy)",
        allowed="an ECR repository name, unique per account and region",
        default_text="CLUSTER-NAME/sample-app in lower case, e.g. devcluster-baa1fb0d/sample-app (one per stage)",
    )
    ready_timeout_minutes: int = setting(
        10, key="workloads.ready_timeout_minutes", parse=parsers.integer,
        doc="how long the deploy waits for the sample Deployment to be available", allowed="1 to 14",
    )
    allowed_registries: Sequence[str] = setting(
        (), key="workloads.allowed_registries", parse=parsers.strings,
        doc="registries the image guard also accepts (e.g. a shared account's ECR that grants this account pull access)",
        allowed="registry hosts or host/path prefixes, without a scheme", default_text="none (only this account's ECR in this region)",
    )

    def validate(self) -> None:
        key = lambda name: key_of(WorkloadSettings, name)  # noqa: E731
        if not isinstance(self.sample_app, bool):
            raise ConfigError(key("sample_app"), f"{self.sample_app!r} is not allowed; give true or false")
        check_namespace(key("sample_namespace"), self.sample_namespace)
        if self.sample_namespace in RESERVED_NAMESPACES:
            raise ConfigError(key("sample_namespace"), f"{self.sample_namespace!r} is not allowed; use a namespace of its own")
        check_image_source(key("sample_image"), self.sample_image)
        if self.sample_repository is not None:
            check_repository_name(key("sample_repository"), self.sample_repository)
        check_ready_timeout(key("ready_timeout_minutes"), self.ready_timeout_minutes)
        check_registries(key("allowed_registries"), self.allowed_registries)


def check_cluster_rename(settings: ClusterSettings, name: str) -> None:
    """Refuse `name` (the cluster's effective name, also a derived one) when it is not the deployed cluster's, unless a
    new cluster is intended: CloudFormation replaces a cluster whose name changes."""
    deployed = settings.deployed_name
    if deployed is None or name == deployed or settings.replace_deployed_cluster:
        return
    raise ConfigError(
        key_of(ClusterSettings, "cluster_name"),
        f"{name!r} is not the deployed cluster {deployed!r} (cluster.deployed_name): a new name replaces the cluster, "
        "its pods, log groups, image repository and IRSA OIDC provider; keep the name, or set "
        "cluster.replace_deployed_cluster=true if a new cluster is intended",
    )


def check_registries(setting: str, registries: Sequence[str]) -> None:
    for entry in registries:
        if not isinstance(entry, str) or not REGISTRY_PREFIX.match(entry) or "." not in entry.split("/")[0]:
            raise ConfigError(
                setting,
                f"{entry!r} is not a registry host or host/path prefix (e.g. 123456789012.dkr.ecr.eu-west-1."
                "amazonaws.com or registry.corp.example:5000/platform), without a scheme",
            )


PUBLIC_BASTION_NEEDS_NEW_VPC = (
    "'public' needs a new VPC (the bastion's public subnet is created with it); with an existing VPC use 'isolated'"
)


@dataclass(frozen=True, kw_only=True)
class PlatformSettings:
    """Everything the composition needs: one section per part of the platform."""

    network: NetworkSettings = field(default_factory=NetworkSettings)
    endpoints: EndpointSettings = field(default_factory=EndpointSettings)
    cluster: ClusterSettings = field(default_factory=ClusterSettings)
    compliance: ComplianceSettings = field(default_factory=ComplianceSettings)
    operations: OperationsSettings = field(default_factory=OperationsSettings)
    workloads: WorkloadSettings = field(default_factory=WorkloadSettings)

    def validate(self) -> KubernetesRelease:
        self.compliance.validate()
        self.network.validate()
        self.workloads.validate()
        self.endpoints.validate()
        self.operations.validate()
        if self.endpoints.single_zone and self.compliance.production:
            raise ConfigError(
                key_of(EndpointSettings, "single_zone"),
                "not allowed with compliance.production: a production VPC keeps its endpoints in every zone of the "
                "cluster; set endpoints.single_zone false, or compliance.production false for a non-production stage",
            )
        existing = self.network.existing_vpc
        if self.operations.bastion and self.operations.bastion_subnet == "public" and existing:
            raise ConfigError(key_of(OperationsSettings, "bastion_subnet"), PUBLIC_BASTION_NEEDS_NEW_VPC)
        if existing is not None and self.endpoints.create and not existing.route_table_ids:
            raise ConfigError(
                key_of(ExistingVpcSettings, "route_table_ids"),
                "required while endpoints.create is true (the S3 gateway endpoint is added to these route tables); "
                "give one per subnet, or set endpoints.create to false if the VPC already has its endpoints",
            )
        return self.cluster.validate()

    def not_applicable(self) -> dict[str, str]:
        """The settings this configuration does not use, by key, each with why (the review report lists them so)."""
        unused: dict[str, str] = {}

        def mark(cls: type, names: Sequence[str], why: str) -> None:
            unused.update({key_of(cls, name): why for name in names})

        if self.network.existing_vpc is not None:
            mark(NetworkSettings, list(EXISTING_VPC_INSTEAD), "an existing VPC is used (network.existing_vpc_id)")
            if not self.endpoints.create:
                mark(ExistingVpcSettings, ["route_table_ids"], "endpoints.create is false (no S3 gateway endpoint to add)")
        else:
            mark(ExistingVpcSettings, [f.name for f, _ in declared(ExistingVpcSettings)], "a new VPC is created")
        if not self.endpoints.create:
            mark(EndpointSettings, ["extra_services", "single_zone"], "endpoints.create is false (no Endpoints stack)")
        if not self.operations.bastion:
            mark(OperationsSettings, ["bastion_subnet", "bastion_instance_type", "bastion_ami", "session_manager_preferences"],
                 "operations.bastion is false")
            if not self.operations.admin_principal_arns:
                mark(OperationsSettings, ["admin_access_policy"], "no bastion and no operations.admin_principal_arns")
        if not self.operations.fargate_logging:
            mark(OperationsSettings, ["log_kms_key_arn", "log_extra_filters", "log_parsers"], "operations.fargate_logging is false")
        if not self.workloads.sample_app:
            mark(WorkloadSettings, ["sample_namespace", "sample_image", "sample_repository", "ready_timeout_minutes"],
                 "workloads.sample_app is false")
        return unused

    @property
    def public_bastion_subnet(self) -> bool:
        """The new VPC gets the bastion-only public subnets."""
        return self.operations.bastion and self.operations.bastion_subnet == "public"


#: The context sections in the order docs/configuration.md lists them: (prefix, settings class).
SECTIONS: tuple[tuple[str, type], ...] = (
    ("app", AppSettings),
    ("network", NetworkSettings),
    ("network", ExistingVpcSettings),
    ("endpoints", EndpointSettings),
    ("cluster", ClusterSettings),
    ("operations", OperationsSettings),
    ("compliance", ComplianceSettings),
    ("workloads", WorkloadSettings),
    ("pipeline", PipelineSettings),
)
