"""Where the platform can run: the regions AWS has, their partitions and availability-zone IDs, and what each offers.

Facts only, and nothing of the platform is imported: the settings check a stage's region and zones with them, the
building blocks write the per-region choices and the region rule into the templates, the review reads prices.

- Which CloudFormation resource types and EC2 instance types each region offers is generated from cfn-lint's own
  region data (``region_data.py``, written by ``scripts/region_catalog.py``; a test keeps it identical).
- Zone IDs are AWS's table (AWS Global Infrastructure User Guide, "AWS Availability Zones"); the zones EKS refuses
  for control-plane subnets are from the EKS User Guide (cluster VPC and subnet requirements).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from .region_data import CFN_LINT_VERSION, INSTANCE_TYPE_REGIONS, INSTANCE_TYPES, MISSING_TYPES, REGION_PARTITIONS

__all__ = ["CFN_LINT_VERSION", "REGION_PARTITIONS"]

#: Every resource type the platform's templates can hold (custom resources aside). cfn-lint's data says per region
#: which of them exist; a test checks that every type in every synthesized configuration is listed here.
PLATFORM_RESOURCE_TYPES = (
    "AWS::CodeBuild::Project", "AWS::EC2::FlowLog", "AWS::EC2::Instance", "AWS::EC2::InternetGateway",
    "AWS::EC2::LaunchTemplate", "AWS::EC2::Route", "AWS::EC2::RouteTable", "AWS::EC2::SecurityGroup",
    "AWS::EC2::SecurityGroupEgress", "AWS::EC2::SecurityGroupIngress", "AWS::EC2::Subnet",
    "AWS::EC2::SubnetRouteTableAssociation", "AWS::EC2::VPC", "AWS::EC2::VPCEndpoint", "AWS::EC2::VPCGatewayAttachment",
    "AWS::ECR::Repository", "AWS::EKS::AccessEntry", "AWS::EKS::Addon", "AWS::EKS::Cluster",
    "AWS::EKS::FargateProfile", "AWS::IAM::InstanceProfile", "AWS::IAM::ManagedPolicy", "AWS::IAM::OIDCProvider",
    "AWS::IAM::Policy", "AWS::IAM::Role", "AWS::KMS::Alias", "AWS::KMS::Key", "AWS::Lambda::Function",
    "AWS::Lambda::LayerVersion", "AWS::Lambda::Permission", "AWS::Logs::LogGroup", "AWS::SSM::Association",
    "AWS::SSM::Parameter",
)  # fmt: skip

#: What a resource type is for, and what a user can change when a region lacks it (``None``: nothing; the platform
#: cannot run there).
RESOURCE_PURPOSES: Mapping[str, tuple[str, str | None]] = {
    "AWS::EKS::FargateProfile": ("Fargate profiles, which every pod of this platform runs on", None),
    "AWS::EKS::Cluster": ("the EKS cluster", None),
    "AWS::CodeBuild::Project": (
        "the image copy's build",
        "set workloads.sample_app=false and give workloads no images to copy (put images into ECR yourself)",
    ),
}

#: Partitions the platform is not built for, whatever a region of theirs offers.
UNSUPPORTED_PARTITIONS: Mapping[str, str] = {
    "aws-cn": (
        "the China partition is not supported: several of its VPC endpoint services are named "
        "cn.com.amazonaws.REGION.SERVICE, which the templates do not write, and none of it can be checked offline"
    ),
    **dict.fromkeys(("aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f"), (
        "the ISO partitions are not supported: cfn-lint's data for them is a copy of us-east-1's, so nothing shows "
        "what exists there"
    )),
    "aws-eusc": (
        "the AWS European Sovereign Cloud partition is not supported: cfn-lint's data for it is a copy of us-east-1's, "
        "so nothing shows what exists there"
    ),
}

#: AWS's availability-zone IDs per region (AWS Global Infrastructure User Guide, "AWS Availability Zones").
ZONE_IDS: Mapping[str, tuple[str, ...]] = {
    "us-east-1": tuple(f"use1-az{n}" for n in range(1, 7)),
    "us-east-2": ("use2-az1", "use2-az2", "use2-az3"),
    "us-west-1": ("usw1-az1", "usw1-az2", "usw1-az3"),
    "us-west-2": ("usw2-az1", "usw2-az2", "usw2-az3", "usw2-az4"),
    "ca-central-1": ("cac1-az1", "cac1-az2", "cac1-az4"),
    "ca-west-1": ("caw1-az1", "caw1-az2", "caw1-az3"),
    "mx-central-1": ("mxc1-az1", "mxc1-az2", "mxc1-az3"),
    "af-south-1": ("afs1-az1", "afs1-az2", "afs1-az3"),
    "ap-east-1": ("ape1-az1", "ape1-az2", "ape1-az3"),
    "ap-east-2": ("ape2-az1", "ape2-az2", "ape2-az3"),
    "ap-northeast-1": ("apne1-az1", "apne1-az2", "apne1-az3", "apne1-az4"),
    "ap-northeast-2": ("apne2-az1", "apne2-az2", "apne2-az3", "apne2-az4"),
    "ap-northeast-3": ("apne3-az1", "apne3-az2", "apne3-az3"),
    "ap-south-1": ("aps1-az1", "aps1-az2", "aps1-az3"),
    "ap-south-2": ("aps2-az1", "aps2-az2", "aps2-az3"),
    "ap-southeast-1": ("apse1-az1", "apse1-az2", "apse1-az3"),
    "ap-southeast-2": ("apse2-az1", "apse2-az2", "apse2-az3"),
    "ap-southeast-3": ("apse3-az1", "apse3-az2", "apse3-az3"),
    "ap-southeast-4": ("apse4-az1", "apse4-az2", "apse4-az3"),
    "ap-southeast-5": ("apse5-az1", "apse5-az2", "apse5-az3"),
    "ap-southeast-6": ("apse6-az1", "apse6-az2", "apse6-az3"),
    "ap-southeast-7": ("apse7-az1", "apse7-az2", "apse7-az3"),
    "eu-central-1": ("euc1-az1", "euc1-az2", "euc1-az3"),
    "eu-central-2": ("euc2-az1", "euc2-az2", "euc2-az3"),
    "eu-north-1": ("eun1-az1", "eun1-az2", "eun1-az3"),
    "eu-south-1": ("eus1-az1", "eus1-az2", "eus1-az3"),
    "eu-south-2": ("eus2-az1", "eus2-az2", "eus2-az3"),
    "eu-west-1": ("euw1-az1", "euw1-az2", "euw1-az3"),
    "eu-west-2": ("euw2-az1", "euw2-az2", "euw2-az3", "euw2-az4"),
    "eu-west-3": ("euw3-az1", "euw3-az2", "euw3-az3"),
    "il-central-1": ("ilc1-az1", "ilc1-az2", "ilc1-az3"),
    "me-central-1": ("mec1-az1", "mec1-az2", "mec1-az3"),
    "me-south-1": ("mes1-az1", "mes1-az2", "mes1-az3"),
    "sa-east-1": ("sae1-az1", "sae1-az2", "sae1-az3"),
}

#: Zones EKS does not accept control-plane subnets in (EKS User Guide, cluster VPC and subnet requirements).
EKS_REFUSED_ZONE_IDS: Mapping[str, str] = {"use1-az3": "us-east-1", "usw1-az2": "us-west-1", "cac1-az3": "ca-central-1"}
#: Zones AWS lists but does not offer to newer accounts; never a default (a user may still name one).
CONSTRAINED_ZONE_IDS: Mapping[str, str] = {
    "usw1-az2": "newer accounts have two zones in us-west-1 (usw1-az1, usw1-az3)",
    "apne1-az3": "newer accounts have three zones in ap-northeast-1 (apne1-az1, apne1-az2, apne1-az4)",
}
ZONE_ID = re.compile(r"^(?P<prefix>[a-z]+\d+)-az(?P<number>\d+)$")

#: The bastion's default instance types: x86_64 types AWS Control Tower's CT.EC2.PR.19 accepts (Nitro, encryption in
#: transit between instances), cheapest first by their Linux on-demand price in us-east-1 (USD per hour, Amazon EC2
#: On-Demand pricing); a region gets the first one it offers. Prices in other regions differ (not known offline).
BASTION_CANDIDATES: tuple[tuple[str, float], ...] = (
    ("c7a.medium", 0.05131), ("m7a.medium", 0.05796), ("c6a.large", 0.0765), ("c5a.large", 0.077),
    ("c6i.large", 0.085), ("m6a.large", 0.0864), ("c7i.large", 0.08925), ("m7i-flex.large", 0.09576),
    ("m6i.large", 0.096), ("c6id.large", 0.1008), ("m7i.large", 0.1008), ("c7a.large", 0.10262),
    ("c5n.large", 0.108), ("c6in.large", 0.1134),
)  # fmt: skip
#: us-east-1 Linux on-demand prices (USD per hour) of the bastion types a user is likely to choose besides those.
OTHER_INSTANCE_PRICES = {
    "t3.nano": 0.0052, "t3.micro": 0.0104, "t3.small": 0.0208, "t3.medium": 0.0416,
    "t4g.nano": 0.0042, "t4g.micro": 0.0084, "t4g.small": 0.0168, "t4g.medium": 0.0336,
}  # fmt: skip
US_EAST_1_PRICES: Mapping[str, float] = {**OTHER_INSTANCE_PRICES, **dict(BASTION_CANDIDATES)}


def partition_of(region: str) -> str:
    """The partition of a region name (``aws`` unless its prefix says otherwise)."""
    for prefix, partition in (("cn-", "aws-cn"), ("us-gov-", "aws-us-gov"), ("us-isob-", "aws-iso-b"),
                              ("us-isof-", "aws-iso-f"), ("eu-isoe-", "aws-iso-e"), ("us-iso-", "aws-iso"),
                              ("eusc-", "aws-eusc")):  # fmt: skip
        if region.startswith(prefix):
            return partition
    return "aws"


def commercial_and_govcloud_regions() -> list[str]:
    """The regions of the aws and aws-us-gov partitions that cfn-lint has resource data for."""
    return sorted(r for r, p in REGION_PARTITIONS.items() if p in ("aws", "aws-us-gov"))


def offers_instance_type(region: str, instance_type: str) -> bool:
    """cfn-lint's data: the region offers `instance_type` (False for a region or type it does not know)."""
    if region not in INSTANCE_TYPE_REGIONS:
        return False
    return bool(INSTANCE_TYPES.get(instance_type, 0) >> INSTANCE_TYPE_REGIONS.index(region) & 1)


def bastion_default(region: str) -> str | None:
    """The first of ``BASTION_CANDIDATES`` that `region` offers (None: none does)."""
    return next((kind for kind, _ in BASTION_CANDIDATES if offers_instance_type(region, kind)), None)


def region_of_zone_id(zone_id: str) -> str | None:
    """The region a zone ID belongs to (None: not an ID of ``ZONE_IDS``)."""
    return next((region for region, ids in ZONE_IDS.items() if zone_id in ids), None)


def usable_zone_ids(region: str) -> tuple[str, ...]:
    """The zone IDs of `region` a default may use: neither refused by EKS nor constrained for newer accounts."""
    return tuple(z for z in ZONE_IDS.get(region, ()) if z not in EKS_REFUSED_ZONE_IDS and z not in CONSTRAINED_ZONE_IDS)


def default_zone_ids(region: str, count: int) -> tuple[str, ...] | None:
    """The first `count` usable zone IDs of `region` (None: it has fewer)."""
    usable = usable_zone_ids(region)
    return usable[:count] if len(usable) >= count else None


@dataclass(frozen=True)
class Needs:
    """What a configuration needs from a region: read from its resources and settings."""

    #: CloudFormation resource types of the templates (custom resources are left out: they exist everywhere)
    resource_types: frozenset[str] = frozenset()
    #: instance types written literally into the templates (a user's choice)
    instance_types: tuple[str, ...] = ()
    #: the bastion's type is chosen per region (``bastion_default``)
    default_bastion: bool = False
    #: the region's first usable zone IDs are used, this many (0: zones are given or not placed by ID)
    default_zones: int = 0
    #: zone IDs given in the settings (they name their one region)
    zone_ids: tuple[str, ...] = ()
    #: the setting that chose the instance types / zones, for the messages
    instance_type_setting: str = "operations.bastion_instance_type"
    zone_setting: str = "network.availability_zones"

    def merged(self, other: Needs) -> Needs:
        return Needs(
            resource_types=self.resource_types | other.resource_types,
            instance_types=tuple(dict.fromkeys((*self.instance_types, *other.instance_types))),
            default_bastion=self.default_bastion or other.default_bastion,
            default_zones=max(self.default_zones, other.default_zones),
            zone_ids=tuple(dict.fromkeys((*self.zone_ids, *other.zone_ids))),
        )


@dataclass(frozen=True)
class Missing:
    """One thing a region lacks for a configuration: the setting that asks for it, what is missing, and what the user
    can do (None: nothing but another region)."""

    setting: str
    what: str
    remedy: str | None = None

    @property
    def problem(self) -> str:
        return self.what + (f"; {self.remedy}" if self.remedy else "")

    @property
    def line(self) -> str:
        """One line, as a synth error prints it (``setting: what; remedy``)."""
        return f"{self.setting}: {self.problem}"


REGION_SETTING = "app.region"


def missing(region: str, needs: Needs) -> list[Missing]:
    """What `region` lacks for `needs`, each named; empty: the configuration can be deployed there. When the platform
    cannot run there at all (a partition, Fargate), only that is said."""
    partition = partition_of(region)
    if partition in UNSUPPORTED_PARTITIONS:
        return [Missing(REGION_SETTING, f"{region}: {UNSUPPORTED_PARTITIONS[partition]}")]
    if region not in REGION_PARTITIONS:
        return [Missing(REGION_SETTING, f"{region} is not a region cfn-lint {CFN_LINT_VERSION} has resource data for, "
                                        "so nothing shows that what the templates use exists there")]
    found = []
    for kind in sorted(needs.resource_types & set(MISSING_TYPES.get(region, ()))):
        purpose, remedy = RESOURCE_PURPOSES.get(kind, (None, None))
        found.append(Missing(REGION_SETTING, f"{kind} ({purpose or 'a resource of the templates'}) does not exist in "
                                             f"{region}", remedy))
    fatal = [m for m in found if m.remedy is None]
    if fatal:
        return fatal
    for kind in needs.instance_types:
        if not offers_instance_type(region, kind):
            instead = bastion_default(region)
            found.append(Missing(needs.instance_type_setting, f"{kind!r} is not offered in {region}",
                                 f"use a type it offers, e.g. {instead}" if instead else None))
    if needs.default_bastion and bastion_default(region) is None:
        found.append(Missing(needs.instance_type_setting, f"{region} offers none of the x86_64 types CT.EC2.PR.19 "
                             f"accepts ({', '.join(kind for kind, _ in BASTION_CANDIDATES)})", "name a type it offers"))
    if needs.default_zones:
        usable = usable_zone_ids(region)
        if len(usable) < needs.default_zones:
            found.append(Missing(
                "network.az_count", f"{needs.default_zones} zones asked for, but {region} has {len(usable)} that EKS "
                f"accepts and every account has ({', '.join(usable) or 'none known'})",
                f"set it to at most {len(usable)}" if len(usable) >= 2 else None,
            ))
    regions = {region_of_zone_id(zone) for zone in needs.zone_ids}
    if needs.zone_ids and regions != {region}:
        named = ", ".join(sorted(r or "?" for r in regions))
        found.append(Missing(needs.zone_setting, f"the zone IDs {', '.join(needs.zone_ids)} are zones of {named}, not of "
                                                 f"{region}", f"name zones of {region}"))
    return found


def supported_regions(needs: Needs, regions: Iterable[str] | None = None) -> list[str]:
    """The regions (of those cfn-lint knows, or `regions`) where nothing is missing for `needs`."""
    return [r for r in (sorted(REGION_PARTITIONS) if regions is None else regions) if not missing(r, needs)]


def refusals(needs: Needs, regions: Iterable[str] | None = None) -> dict[str, list[str]]:
    """Regions where something is missing, grouped by what is missing (said without the region's name):
    text -> regions."""
    grouped: dict[str, list[str]] = {}
    for region in sorted(REGION_PARTITIONS) if regions is None else regions:
        lacking = missing(region, needs)
        if lacking:
            text = "; ".join(m.line for m in lacking).replace(f"{REGION_SETTING}: {region}: ", "")
            text = text.replace(f"{REGION_SETTING}: ", "").replace(f" in {region}", "").replace(f"{region} ", "it ")
            grouped.setdefault(text, []).append(region)
    return grouped


@dataclass(frozen=True)
class ZoneChoice:
    """How a new VPC's subnets are placed: by zone ID (``ids``, literal or per region) or by name."""

    by_name: bool
    #: literal zones (IDs or names); empty with ``per_region``
    zones: tuple[str, ...] = ()
    #: the first usable zone IDs of the deploying region, this many (environment-agnostic default)
    per_region: int = 0

    @property
    def needs(self) -> Needs:
        if self.by_name:
            return Needs()
        return Needs(default_zones=self.per_region, zone_ids=self.zones)


def zone_mapping(count: int, regions: Sequence[str] | None = None) -> dict[str, dict[str, str]]:
    """region -> {"Zone1": id, …} of the first `count` usable zone IDs, for every region that has that many."""
    mapping = {}
    for region in sorted(r for r in ZONE_IDS if partition_of(r) not in UNSUPPORTED_PARTITIONS) if regions is None else regions:
        ids = default_zone_ids(region, count)
        if ids:
            mapping[region] = {f"Zone{i + 1}": zone for i, zone in enumerate(ids)}
    return mapping


def bastion_mapping(regions: Sequence[str] | None = None) -> dict[str, dict[str, str]]:
    """region -> {"InstanceType": …} for every region that offers one of ``BASTION_CANDIDATES``."""
    mapping = {}
    for region in sorted(r for r in INSTANCE_TYPE_REGIONS if partition_of(r) not in UNSUPPORTED_PARTITIONS) if regions is None else regions:
        kind = bastion_default(region)
        if kind:
            mapping[region] = {"InstanceType": kind}
    return mapping
