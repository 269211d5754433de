"""Validators shared by the settings and the building blocks: each raises one ConfigError naming the setting."""

from __future__ import annotations

import functools
import ipaddress
import re
from typing import Mapping, Sequence

from ..regions import EKS_REFUSED_ZONE_IDS, ZONE_ID, default_zone_ids, region_of_zone_id
from .errors import ConfigError
from .images import ImageRef

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
VPC_ID = re.compile(r"^vpc-([0-9a-f]{8}|[0-9a-f]{17})$")
SUBNET_ID = re.compile(r"^subnet-([0-9a-f]{8}|[0-9a-f]{17})$")
ROUTE_TABLE_ID = re.compile(r"^rtb-([0-9a-f]{8}|[0-9a-f]{17})$")
_AZ = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d+[a-z]$")
#: a stage name: its stacks are STAGE-Network etc. in CloudFormation, whose names start with a letter
_STAGE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,63}$")
_CLUSTER_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$")
PRINCIPAL_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]{1,512}$")
KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]{36}$")
INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
ACCOUNT_ID = re.compile(r"^\d{12}$")
REGION_NAME = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d+$")
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")

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


def check_stage_name(setting: str, name: str) -> None:
    if not (isinstance(name, str) and _STAGE_NAME.match(name)):
        raise ConfigError(
            setting,
            f"{name!r} is not a valid stage name (1-64 letters, digits or '-', starting with a letter; "
            "it begins every CloudFormation stack name of the stage)",
        )


def check_zones_in_region(setting: str, zones: Sequence[str], region: str) -> None:
    """Zones belong to one region (eu-west-1a and euw1-az1 are in eu-west-1); a zone of another cannot be deployed."""
    for zone in zones:
        own = region_of_zone_id(zone) if is_zone_id(zone) else zone[:-1]
        if own != region:
            example = ",".join(default_zone_ids(region, 2) or ()) or f"{region}a"
            raise ConfigError(
                setting, f"{zone!r} is not a zone of {region}, the stacks' region; name zones of {region}, e.g. {example}"
            )


def check_ready_timeout(setting: str, minutes: int) -> None:
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 14:
        raise ConfigError(setting, f"{minutes!r} is not allowed; use 1 to 14 (the kubectl Lambda stops after 15 minutes)")


def check_ids(setting: str, values: Sequence[str], pattern: re.Pattern[str], example: str) -> None:
    for value in values:
        if not isinstance(value, str) or not pattern.match(value):
            raise ConfigError(setting, f"{value!r} is not a valid id (expected the form {example})")
    if len(set(values)) != len(values):
        raise ConfigError(setting, f"{list(values)!r} lists the same id more than once")


def check_azs(setting: str, zones: Sequence[str]) -> None:
    """Zone names only (eu-west-1a), each once."""
    for zone in zones:
        if not isinstance(zone, str) or not _AZ.match(zone):
            raise ConfigError(setting, f"{zone!r} is not an availability zone name (expected the form eu-west-1a)")
    if len(set(zones)) != len(zones):
        raise ConfigError(setting, f"{list(zones)!r} lists the same availability zone more than once")


def is_zone_id(zone: str) -> bool:
    return isinstance(zone, str) and ZONE_ID.match(zone) is not None


def check_zones(setting: str, zones: Sequence[str]) -> None:
    """Zone IDs of one region (euw1-az1) or zone names (eu-west-1a), not both, each once; an ID must be one AWS lists
    and EKS accepts for control-plane subnets."""
    ids = [zone for zone in zones if is_zone_id(zone)]
    if not ids:
        check_azs(setting, zones)
        return
    if len(ids) != len(zones):
        names = [zone for zone in zones if zone not in ids]
        raise ConfigError(setting, f"{list(zones)!r} mixes zone IDs and names ({names[0]!r}); give zone IDs only, e.g. euw1-az1,euw1-az2")
    if len(set(zones)) != len(zones):
        raise ConfigError(setting, f"{list(zones)!r} lists the same availability zone more than once")
    for zone in zones:
        region = region_of_zone_id(zone)
        if region is None:
            raise ConfigError(setting, f"{zone!r} is not a zone ID AWS lists (docs/regions.md has each region's, e.g. euw1-az1)")
        if zone in EKS_REFUSED_ZONE_IDS:
            usable = ",".join(default_zone_ids(region, 2) or ())
            raise ConfigError(
                setting,
                f"{zone!r} is a zone of {region} where EKS does not accept control-plane subnets (EKS User Guide); "
                f"use other zones of {region}, e.g. {usable}",
            )
    regions = sorted({region_of_zone_id(zone) for zone in zones})
    if len(regions) > 1:
        raise ConfigError(setting, f"{list(zones)!r} names zones of {' and '.join(regions)}; a VPC is in one region")


def check_cidr(setting: str, cidr: str, *, smallest_prefix: int = 16, largest_prefix: int = 24) -> None:
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



_ECR_REPOSITORY = re.compile(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")
_IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
REGISTRY_PREFIX = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]+)?(/[a-z0-9._/-]+)?$")


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




@functools.lru_cache(maxsize=1)
def known_interface_services() -> frozenset[str]:
    """Short names of every interface endpoint service aws-cdk-lib knows (its own catalog, not ours)."""
    from aws_cdk import aws_ec2 as ec2  # loads jsii: only when a setting names extra endpoints

    cls = ec2.InterfaceVpcEndpointAwsService
    return frozenset(
        getattr(cls, name).short_name
        for name in dir(cls)
        if name[:1].isupper() and isinstance(getattr(cls, name, None), cls)
    )
