"""The app's stage: three stacks, valid for CloudFormation (the CLI's selector: tests/test_scripts_cdk.py)."""

import json
import re
from pathlib import Path

import pytest

from conftest import stage_builder, synthesize


def test_default_app_has_the_three_stacks_in_a_stage(default_app):
    assert sorted(default_app.templates) == ["Dev/Cluster", "Dev/Endpoints", "Dev/Network"]


def _findings(lint: dict, broken: bool) -> list[dict]:
    return [f for f in lint["findings"] if f["Filename"].endswith("broken.template.json") == broken]


def test_cfn_lint_reports_zero_errors_and_zero_warnings_on_every_template(lint_jobs):
    lint = lint_jobs["cfn-lint"].result(timeout=900)
    files = [f for f in lint["files"] if not f.endswith("broken.template.json")]
    assert len(files) == 11  # default: 3 stacks; existing VPC: Endpoints and Cluster; user stack: 1; public bastion: 3; single zone: Endpoints;
    # the pipeline example's pipeline stack
    problems = [f for f in _findings(lint, broken=False) if f["Level"] in ("Error", "Warning")]
    assert problems == [], json.dumps(problems, indent=1)
    # 2: errors (the broken template's, below); 4 warnings would add to it; 8 informational
    assert lint["result"].returncode in (2, 10), lint["result"].stderr


def test_cfn_lint_catches_a_broken_template(lint_jobs):
    """The lint step can fail: the broken copy of the default Cluster template, linted in the same run, is reported."""
    lint = lint_jobs["cfn-lint"].result(timeout=900)
    assert any(f["Level"] == "Error" and "EndpointPublicAccess" in json.dumps(f) for f in _findings(lint, broken=True))


def test_stack_dependencies_order_deploy_and_destroy(default_app):
    ids = {s.hierarchical_id: s.id for s in default_app.assembly.nested_assemblies[0].nested_assembly.stacks}
    assert default_app.dependencies["Dev/Network"] == []
    assert default_app.dependencies["Dev/Endpoints"] == [ids["Dev/Network"]]
    assert sorted(default_app.dependencies["Dev/Cluster"]) == sorted([ids["Dev/Endpoints"], ids["Dev/Network"]])


def test_cluster_stack_outputs(default_app):
    outputs = default_app.template("Dev/Cluster")["Outputs"]
    (cluster_id,) = default_app.resources("Dev/Cluster", "AWS::EKS::Cluster")
    assert outputs["ClusterName"]["Value"] == {"Ref": cluster_id}
    assert outputs["ClusterArn"]["Value"] == {"Fn::GetAtt": [cluster_id, "Arn"]}
    assert outputs["ClusterEndpoint"]["Value"] == {"Fn::GetAtt": [cluster_id, "Endpoint"]}
    assert "VpcId" not in outputs  # the Network stack outputs it; re-exporting an import is a cfn-lint warning
    network_outputs = default_app.template("Dev/Network")["Outputs"]
    (vpc_id,) = default_app.resources("Dev/Network", "AWS::EC2::VPC")
    assert network_outputs["VpcId"]["Value"] == {"Ref": vpc_id}


def without_cli_metadata(template: dict) -> dict:
    """The template without the construct-path and asset metadata the CLI asks aws-cdk-lib for (and the tests' synth
    does not)."""
    copy = json.loads(json.dumps(template))
    for resource in copy.get("Resources", {}).values():
        metadata = {k: v for k, v in resource.get("Metadata", {}).items() if not k.startswith(("aws:cdk:path", "aws:asset:"))}
        resource.pop("Metadata", None)
        if metadata:
            resource["Metadata"] = metadata
    return copy


@pytest.mark.background
def test_resynth_is_stable(default_app):
    """The CLI's synth behind `make deploy` (another process, another output directory) writes the templates of the
    tests' synth, but for the metadata it asks for: a re-deploy with the same settings changes nothing."""
    from test_scripts_cdk import finished, make_deploy

    files = {path.name: path for path in (finished(make_deploy).home / "cdk.out").rglob("*.template.json")}
    assert len(files) == len(default_app.templates) == 3
    for stack, path in default_app.template_files.items():
        cli_template = json.loads(files[path.name].read_text())
        assert any("aws:cdk:path" in r.get("Metadata", {}) for r in cli_template["Resources"].values())
        assert without_cli_metadata(cli_template) == without_cli_metadata(default_app.templates[stack]), stack


def test_checkov_reports_zero_failed_checks_on_every_template(lint_jobs):
    checkov_results = lint_jobs["checkov"].result(timeout=900)
    assert len(checkov_results["files"]) == 12  # 11 templates and the sample app's manifests (tests/test_composition_sample_app.py)
    reports = [r for r in checkov_results["reports"] if r["check_type"] == "cloudformation"]
    summaries = [report["summary"] for report in reports]
    failed = [
        (check["check_id"], check["resource"], Path(check["file_path"]).name)
        for report in reports
        for check in report["results"]["failed_checks"]
    ]
    assert failed == []
    assert sum(s["passed"] for s in summaries) > 100  # it really checked the templates
    assert sum(s["parsing_errors"] for s in summaries) == 0
    kubernetes_failed = sum(r["summary"]["failed"] for r in checkov_results["reports"] if r["check_type"] == "kubernetes")
    assert checkov_results["result"].returncode == (1 if kubernetes_failed else 0), checkov_results["result"].stderr


ACCOUNT_REGION = {"app.account": "111122223333", "app.region": "eu-west-1"}


def missing_context(synth) -> list[dict]:
    stage_dir = Path(synth.assembly.nested_assemblies[0].nested_assembly.directory)
    return json.loads((stage_dir / "manifest.json").read_text()).get("missing", [])


def test_default_app_is_environment_agnostic_and_needs_no_lookup(default_app):
    assert missing_context(default_app) == []
    for template in default_app.templates.values():
        assert "111122223333" not in json.dumps(template)


def test_with_account_and_region_only_the_bastion_ami_is_left_to_the_cli_and_cdk_context_json(tmp_path):
    """The region's zone IDs are known at synth (no zone lookup); the AMI is looked up once by the CLI."""
    synth = synthesize(tmp_path, stage_builder(ACCOUNT_REGION), ACCOUNT_REGION)
    lookups = {lookup["provider"]: lookup["key"] for lookup in missing_context(synth)}
    # the CDK CLI resolves it with the lookup role and caches it in cdk.context.json, then synthesizes again, so a new
    # Amazon Linux release does not replace the bastion
    assert re.fullmatch(
        r"ssm:account=111122223333:parameterName=/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-[\w.]+-x86_64"
        r":region=eu-west-1",
        lookups.pop("ssm"),
    )
    assert lookups == {}
    stacks = synth.assembly.nested_assemblies[0].nested_assembly.stacks
    assert {(s.environment.account, s.environment.region) for s in stacks} == {("111122223333", "eu-west-1")}
    subnets = synth.resources("Dev/Network", "AWS::EC2::Subnet").values()
    assert sorted(s["Properties"]["AvailabilityZoneId"] for s in subnets) == ["euw1-az1", "euw1-az2"]
    (instance,) = synth.resources("Dev/Cluster", "AWS::EC2::Instance").values()
    assert instance["Properties"]["InstanceType"] == "c7a.medium"  # eu-west-1's, written out


def test_placing_by_name_with_account_and_region_leaves_the_zone_lookup_to_the_cli(tmp_path):
    context = {**ACCOUNT_REGION, "network.zones_by_name": "true", "operations.bastion_ami": "ami-0123456789abcdef0"}
    synth = synthesize(tmp_path, stage_builder(context), context)
    assert [(m["provider"], m["key"]) for m in missing_context(synth)] == [
        ("availability-zones", "availability-zones:account=111122223333:region=eu-west-1")]


def test_production_turns_on_termination_protection(default_app, existing_vpc_app):
    def protection(synth):
        return {s.hierarchical_id: s.termination_protection for s in synth.assembly.nested_assemblies[0].nested_assembly.stacks}

    assert protection(default_app) == {"Dev/Network": False, "Dev/Endpoints": False, "Dev/Cluster": False}
    assert protection(existing_vpc_app) == {"Prod/Endpoints": True, "Prod/Cluster": True}


def test_a_relaxed_level_for_a_namespace_the_stage_does_not_create_is_one_error():
    import aws_cdk as cdk
    from private_eks_fargate import ClusterSettings, PlatformSettings
    from private_eks_fargate.app.stage import PrivateEksFargateStage
    from private_eks_fargate.settings import ConfigError

    settings = PlatformSettings(cluster=ClusterSettings(pod_security_levels={"legacy": "baseline"}))
    with pytest.raises(ConfigError) as caught:
        PrivateEksFargateStage(cdk.App(), "Dev", settings=settings, compliance_checks=False)
    assert str(caught.value) == ("cluster.pod_security_levels: 'legacy' is not a namespace this stage creates "
                                 "(aws-observability, custom-space); add it with cluster.app_profiles or remove it")


def test_without_fargate_logging_aws_observability_is_not_a_namespace_to_relax():
    import aws_cdk as cdk
    from private_eks_fargate import ClusterSettings, OperationsSettings, PlatformSettings
    from private_eks_fargate.app.stage import PrivateEksFargateStage
    from private_eks_fargate.settings import ConfigError

    settings = PlatformSettings(
        cluster=ClusterSettings(pod_security_levels={"aws-observability": "baseline"}),
        operations=OperationsSettings(fargate_logging=False),
    )
    with pytest.raises(ConfigError) as caught:
        PrivateEksFargateStage(cdk.App(), "Dev", settings=settings, compliance_checks=False)
    assert str(caught.value) == ("cluster.pod_security_levels: 'aws-observability' is not a namespace this stage "
                                 "creates (custom-space); add it with cluster.app_profiles or remove it")
