"""Synth needs no AWS calls by default; with an account and region, lookups go through CDK's context cache."""

import json
from pathlib import Path

from conftest import stage_builder, synthesize

ACCOUNT_REGION = {"app.account": "111122223333", "app.region": "eu-west-1"}


def missing_context(synth) -> list[dict]:
    stage_dir = Path(synth.assembly.nested_assemblies[0].nested_assembly.directory)
    return json.loads((stage_dir / "manifest.json").read_text()).get("missing", [])


def test_default_app_is_environment_agnostic_and_needs_no_lookup(default_app):
    assert missing_context(default_app) == []
    for template in default_app.templates.values():
        assert "111122223333" not in json.dumps(template)


def test_with_account_and_region_the_zone_lookup_is_left_to_the_cli_and_cdk_context_json(tmp_path):
    synth = synthesize(tmp_path, stage_builder(ACCOUNT_REGION), ACCOUNT_REGION)
    (lookup,) = missing_context(synth)
    # the CDK CLI resolves this with the lookup role and caches it in cdk.context.json, then synthesizes again
    assert lookup["provider"] == "availability-zones"
    assert lookup["key"] == "availability-zones:account=111122223333:region=eu-west-1"
    stacks = synth.assembly.nested_assemblies[0].nested_assembly.stacks
    assert {(s.environment.account, s.environment.region) for s in stacks} == {("111122223333", "eu-west-1")}


def test_a_cached_zone_lookup_is_used(tmp_path):
    import aws_cdk as cdk

    from private_eks_fargate import NetworkSettings, PrivateNetwork

    cached = {"availability-zones:account=111122223333:region=eu-west-1": ["eu-west-1a", "eu-west-1b", "eu-west-1c"]}

    def build(app):
        stack = cdk.Stack(app, "Net", env=cdk.Environment(account="111122223333", region="eu-west-1"))
        PrivateNetwork(stack, "Network", settings=NetworkSettings(az_count=3))

    synth = synthesize(tmp_path, build, cached)
    assert json.loads((Path(synth.assembly.directory) / "manifest.json").read_text()).get("missing", []) == []
    zones = sorted(s["Properties"]["AvailabilityZone"] for s in synth.resources("Net", "AWS::EC2::Subnet").values())
    assert zones == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
