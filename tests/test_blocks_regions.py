"""The region rule (blocks/regions.py): every template refuses the regions it cannot be deployed in, before any resource
is created, and a stage bound to such a region stops at synth with one line."""

import json

import aws_cdk as cdk
import pytest
from private_eks_fargate.regions import (
    MISSING_TYPES,
    PLATFORM_RESOURCE_TYPES,
    REGION_PARTITIONS,
    commercial_and_govcloud_regions,
)

from conftest import CDK_JSON_CONTEXT, USER_IMAGE, stage_builder, user_deployment


def _rule(template: dict) -> tuple[list[str], str]:
    (assertion,) = template["Rules"]["SupportedRegion"]["Assertions"]
    regions, region = assertion["Assert"]["Fn::Contains"]
    assert region == {"Ref": "AWS::Region"}
    return regions, assertion["AssertDescription"]


def _lacking(*types: str) -> set[str]:
    return {region for region, missing in MISSING_TYPES.items() if set(missing) & set(types)}


@pytest.mark.parametrize("config", ["default", "existing-vpc", "user-stack", "public-bastion"])
def test_every_template_admits_the_same_regions_and_names_them_for_cfn_lint(all_synths, config):
    synth = all_synths[config]
    assert synth.templates
    rules = {name: _rule(template)[0] for name, template in synth.templates.items()}
    (regions,) = {tuple(r) for r in rules.values()}
    for template in synth.templates.values():
        assert template["Metadata"]["cfn-lint"]["config"]["regions"] == list(regions)
    # every configuration here copies images (CodeBuild) and runs on Fargate: the commercial regions that have both
    expected = {r for r in commercial_and_govcloud_regions() if REGION_PARTITIONS[r] == "aws"} - _lacking(
        "AWS::CodeBuild::Project", "AWS::EKS::FargateProfile")
    assert set(regions) == expected and len(regions) == 30


def test_without_an_image_copy_the_codebuild_regions_are_admitted(bare_platform_app):
    (template,) = bare_platform_app.templates.values()
    regions, description = _rule(template)
    assert not [r for r in bare_platform_app.all_resources().values() if r["Type"] == "AWS::CodeBuild::Project"]
    assert {"ap-east-2", "ca-west-1", "mx-central-1"} <= set(regions)
    assert len(regions) == 33
    assert "us-gov-east-1, us-gov-west-1: AWS::EKS::FargateProfile (Fargate profiles" in description


def test_the_description_says_what_each_refused_region_lacks(default_app):
    _, description = _rule(default_app.template("Dev/Cluster"))
    assert description.startswith(
        "private-eks-fargate: this configuration cannot be deployed in this region (docs/regions.md). ")
    assert ("ap-east-2, ca-west-1, mx-central-1: AWS::CodeBuild::Project (the image copy's build) does not exist; set "
            "workloads.sample_app=false and give workloads no images to copy (put images into ECR yourself).") in description
    assert "cn-north-1, cn-northwest-1: the China partition is not supported" in description
    assert description.endswith(
        "Regions cfn-lint 1.58.0 has no data for: nothing shows that what the templates use exists there.")


def test_every_resource_type_the_configurations_use_is_one_the_region_data_covers(all_synths, bare_platform_app, single_zone_app):
    """A type missing from PLATFORM_RESOURCE_TYPES would never be checked per region."""
    types = {r["Type"] for synth in [*all_synths.values(), bare_platform_app, single_zone_app] for r in synth.all_resources().values()}
    own = {t for t in types if not t.startswith("Custom::") and t != "AWS::CloudFormation::CustomResource"}
    assert len(own) > 20
    assert own <= set(PLATFORM_RESOURCE_TYPES), sorted(own - set(PLATFORM_RESOURCE_TYPES))


def _stage(context: dict):
    from private_eks_fargate.app.context import settings_from_context, stage_from_context
    from private_eks_fargate.app.stage import PrivateEksFargateStage

    context = {**CDK_JSON_CONTEXT, **context}
    app = cdk.App(context=context)
    name, env = stage_from_context(context)
    return PrivateEksFargateStage(app, name, settings=settings_from_context(context), env=env, compliance_checks=False)


BOUND = {"app.account": "123456789012", "operations.bastion_ami": "ami-0123456789abcdef0"}


@pytest.mark.parametrize(
    "context, message",
    [
        ({"app.region": "ap-southeast-2", "operations.bastion_instance_type": "c7a.medium"},
         "operations.bastion_instance_type: 'c7a.medium' is not offered in ap-southeast-2; use a type it offers, e.g. "
         "m7a.medium (the regions that have everything: docs/regions.md)"),
        ({"app.region": "us-west-1", "network.az_count": "3"},
         "network.az_count: 3 zones asked for, but us-west-1 has 2 that EKS accepts and every account has "
         "(usw1-az1, usw1-az3); set it to at most 2 (the regions that have everything: docs/regions.md)"),
    ],
)
def test_a_bound_stage_that_its_region_cannot_run_stops_with_one_line(context, message):
    """The default configuration's refusals (a missing resource type, a partition) are the region matrix's
    (test_app_region_matrix.py); these are the settings' own."""
    from private_eks_fargate.settings import ConfigError

    with pytest.raises(ConfigError) as error:
        _stage({**BOUND, **context})
    assert str(error.value) == message


def test_a_bound_stage_writes_its_regions_values_and_admits_its_region(tmp_path):
    from conftest import synthesize

    context = {**BOUND, "app.region": "ap-southeast-2"}
    synth = synthesize(tmp_path, stage_builder(context, compliance_checks=False), context)
    (instance,) = synth.resources("Dev/Cluster", "AWS::EC2::Instance").values()
    assert instance["Properties"]["InstanceType"] == "m7a.medium"  # Sydney has no c7a.medium
    assert len(synth.templates) == 3
    for template in synth.templates.values():
        assert template["Metadata"]["cfn-lint"]["config"]["regions"] == ["ap-southeast-2"]
        assert "ap-southeast-2" in _rule(template)[0]
        assert "Mappings" not in template


def test_a_workload_added_after_the_platform_counts_too(tmp_path):
    """The rule is written when the templates are: a workload with images added to the composite afterwards brings
    the image copy (CodeBuild), and the regions without it are refused, also at synth when the stack is bound there."""
    from private_eks_fargate import PlatformSettings, PrivateEksFargate, WorkloadSettings

    from conftest import synthesize

    def build(app, env=None):
        stack = cdk.Stack(app, "Team", env=env)
        platform = PrivateEksFargate(stack, "Platform", settings=PlatformSettings(workloads=WorkloadSettings(sample_app=False)))
        web = platform.cluster.add_workload("Web", namespace="web", images=[USER_IMAGE])
        web.add_manifests("App", user_deployment(web.image_uri(USER_IMAGE.repository)))

    synth = synthesize(tmp_path, build)
    regions, _ = _rule(synth.template("Team"))
    assert not {"ap-east-2", "ca-west-1", "mx-central-1"} & set(regions) and len(regions) == 30

    app = cdk.App(context={**CDK_JSON_CONTEXT, "availability-zones:account=123456789012:region=ca-west-1": ["ca-west-1a", "ca-west-1b"]})
    build(app, cdk.Environment(account="123456789012", region="ca-west-1"))
    with pytest.raises(RuntimeError) as error:
        app.synth()
    assert ("app.region: AWS::CodeBuild::Project (the image copy's build) does not exist in ca-west-1; set "
            "workloads.sample_app=false") in str(error.value)


def test_the_rule_and_its_metadata_are_valid_cloudformation_json(default_app):
    text = json.dumps(default_app.template("Dev/Network")["Rules"])
    assert "Token[" not in text and "${Token" not in text
