"""Where the platform can run (private_eks_fargate/regions.py): the data is cfn-lint's, the choices follow from it."""

import re
import sys

import pytest
from private_eks_fargate import regions
from private_eks_fargate.regions import (
    BASTION_CANDIDATES,
    CONSTRAINED_ZONE_IDS,
    EKS_REFUSED_ZONE_IDS,
    MISSING_TYPES,
    PLATFORM_RESOURCE_TYPES,
    ZONE_IDS,
    Needs,
    bastion_default,
    commercial_and_govcloud_regions,
    default_zone_ids,
    missing,
    offers_instance_type,
    partition_of,
    region_of_zone_id,
    supported_regions,
    usable_zone_ids,
)

from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import region_catalog  # noqa: E402  scripts/region_catalog.py

EVERYTHING = Needs(resource_types=frozenset(PLATFORM_RESOURCE_TYPES), default_bastion=True, default_zones=2)
WITHOUT_IMAGE_COPY = Needs(resource_types=frozenset(PLATFORM_RESOURCE_TYPES) - {"AWS::CodeBuild::Project"},
                           default_bastion=True, default_zones=2)


def test_region_data_is_what_the_installed_cfn_lint_says():
    assert region_catalog.TARGET.read_text() == region_catalog.region_data_text(), "run: make docs"


def test_the_data_shows_what_the_issue_found_with_cfn_lint():
    """cfn-lint 1.58's data, read through the catalog: 33 commercial and 2 GovCloud regions; c7a.medium missing in 24 of
    them; Fargate profiles missing in both GovCloud regions; CodeBuild in three commercial ones."""
    known = commercial_and_govcloud_regions()
    assert len(known) == 35 and sum(partition_of(r) == "aws-us-gov" for r in known) == 2
    assert sum(not offers_instance_type(r, "c7a.medium") for r in known) == 24
    assert {r for r, types in MISSING_TYPES.items() if "AWS::EKS::FargateProfile" in types} == {"us-gov-east-1", "us-gov-west-1"}
    assert {r for r, types in MISSING_TYPES.items() if "AWS::CodeBuild::Project" in types} == {"ap-east-2", "ca-west-1", "mx-central-1"}


def _pr19_patterns() -> list[re.Pattern]:
    from private_eks_fargate.review.control_tower import unpacked

    rules, _ = unpacked()
    text = (rules / "rules" / "control-tower" / "cfn-guard" / "ec2" / "ct-ec2-pr-19.guard").read_text()
    block = text.split("let NITRO_ENCRYPTION_IN_TRANSIT_INSTANCE_TYPES = [")[1].split("]")[0]
    patterns = [re.compile(p) for p in re.findall(r"/(\^[^/]+\$)/", block)]
    assert len(patterns) > 50
    return patterns


def test_bastion_candidates_are_x86_64_types_ct_ec2_pr_19_accepts_cheapest_first():
    import aws_cdk.aws_ec2 as ec2

    patterns = _pr19_patterns()
    assert BASTION_CANDIDATES
    for kind, _ in BASTION_CANDIDATES:
        assert any(p.match(kind) for p in patterns), f"{kind} is not a type CT.EC2.PR.19 accepts"
        assert ec2.InstanceType(kind).architecture == ec2.InstanceArchitecture.X86_64, kind
    prices = [price for _, price in BASTION_CANDIDATES]
    assert prices == sorted(prices)
    assert not [kind for kind, _ in BASTION_CANDIDATES if kind.startswith("t3")]  # t3 fails PR.19: the user's choice


@pytest.mark.parametrize("region", commercial_and_govcloud_regions())
def test_every_region_gets_an_offered_default_type_and_usable_zones(region):
    kind = bastion_default(region)
    assert kind is not None and offers_instance_type(region, kind)
    cheaper = [k for k, _ in BASTION_CANDIDATES[: [k for k, _ in BASTION_CANDIDATES].index(kind)]]
    assert not [k for k in cheaper if offers_instance_type(region, k)]  # nothing cheaper is offered there
    if partition_of(region) == "aws":
        zones = default_zone_ids(region, 2)
        assert zones and not set(zones) & (set(EKS_REFUSED_ZONE_IDS) | set(CONSTRAINED_ZONE_IDS))
        assert all(region_of_zone_id(zone) == region for zone in zones)


def test_zones_eks_refuses_are_never_usable_and_us_west_1_has_two():
    assert EKS_REFUSED_ZONE_IDS
    for zone, region in EKS_REFUSED_ZONE_IDS.items():
        assert zone not in usable_zone_ids(region)
    assert usable_zone_ids("us-west-1") == ("usw1-az1", "usw1-az3")
    assert default_zone_ids("us-west-1", 3) is None
    assert default_zone_ids("us-east-1", 3) == ("use1-az1", "use1-az2", "use1-az4")
    assert usable_zone_ids("ap-northeast-1") == ("apne1-az1", "apne1-az2", "apne1-az4")
    assert region_of_zone_id("euw1-az9") is None and region_of_zone_id("euw1-az2") == "eu-west-1"
    assert all(re.fullmatch(regions.ZONE_ID, zone) for ids in ZONE_IDS.values() for zone in ids)


def test_the_default_app_runs_in_30_regions_and_without_the_image_copy_in_33():
    assert len(supported_regions(EVERYTHING)) == 30
    assert set(supported_regions(WITHOUT_IMAGE_COPY)) - set(supported_regions(EVERYTHING)) == {"ap-east-2", "ca-west-1", "mx-central-1"}
    assert {partition_of(r) for r in supported_regions(EVERYTHING)} == {"aws"}


@pytest.mark.parametrize(
    "region, needs, line",
    [
        ("ca-west-1", EVERYTHING,
         "app.region: AWS::CodeBuild::Project (the image copy's build) does not exist in ca-west-1; set "
         "workloads.sample_app=false and give workloads no images to copy (put images into ECR yourself)"),
        ("us-gov-west-1", EVERYTHING,
         "app.region: AWS::EKS::FargateProfile (Fargate profiles, which every pod of this platform runs on) does not "
         "exist in us-gov-west-1"),
        ("cn-north-1", EVERYTHING,
         "app.region: cn-north-1: the China partition is not supported: several of its VPC endpoint services are named "
         "cn.com.amazonaws.REGION.SERVICE, which the templates do not write, and none of it can be checked offline"),
        ("me-south-1", EVERYTHING,
         "app.region: me-south-1 is not a region cfn-lint 1.58.0 has resource data for, so nothing shows that what the "
         "templates use exists there"),
        ("ap-southeast-2", Needs(instance_types=("c7a.medium",)),
         "operations.bastion_instance_type: 'c7a.medium' is not offered in ap-southeast-2; use a type it offers, e.g. "
         "m7a.medium"),
        ("us-west-1", Needs(default_zones=3),
         "network.az_count: 3 zones asked for, but us-west-1 has 2 that EKS accepts and every account has "
         "(usw1-az1, usw1-az3); set it to at most 2"),
        ("eu-west-2", Needs(zone_ids=("euw1-az1", "euw1-az2")),
         "network.availability_zones: the zone IDs euw1-az1, euw1-az2 are zones of eu-west-1, not of eu-west-2; name "
         "zones of eu-west-2"),
    ],
)
def test_what_a_region_lacks_is_one_line_naming_the_setting(region, needs, line):
    assert [m.line for m in missing(region, needs)] == [line]


def test_a_region_with_everything_lacks_nothing():
    assert missing("eu-west-1", EVERYTHING) == []
    assert missing("eu-west-1", Needs(instance_types=("t3.micro",), zone_ids=("euw1-az1", "euw1-az3"))) == []


def test_no_default_type_is_one_cdk_nags_ebs_optimization_rule_checks():
    """The acknowledgement of EC2EBSOptimizedInstance on the per-region bastion type says so: cdk-nag's own list of
    types that are not EBS-optimized by default holds none of them (read from the rule cdk-nag ships)."""
    import tarfile
    from pathlib import Path

    import cdk_nag

    (tgz,) = (Path(cdk_nag.__file__).parent / "_jsii").glob("*.jsii.tgz")
    with tarfile.open(tgz) as archive:
        source = archive.extractfile("package/lib/rules/ec2/EC2EBSOptimizedInstance.js").read().decode()
    listed = set(re.findall(r"'([a-z0-9]+\.[a-z0-9]+)'", source.split("EBS_OPTIMIZED_SUPPORTED = [")[1].split("]")[0]))
    assert "m1.large" in listed and len(listed) > 10
    assert not listed & {kind for kind, _ in BASTION_CANDIDATES}
