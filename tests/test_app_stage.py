"""The app as users run it: three stacks in a stage, reached by the CLI selector, valid for CloudFormation."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, stage_builder, synthesize

BIN = Path(sys.executable).parent


def test_default_app_has_the_three_stacks_in_a_stage(default_app):
    assert sorted(default_app.templates) == ["Dev/Cluster", "Dev/Endpoints", "Dev/Network"]


@pytest.fixture(scope="module")
def cfn_lint_results(lint_files):
    files = lint_files
    result = subprocess.run(
        [str(BIN / "cfn-lint"), "--format", "json", "--", *files], capture_output=True, text=True, timeout=600
    )
    return files, json.loads(result.stdout or "[]"), result


def test_cfn_lint_reports_zero_errors_and_zero_warnings_on_every_template(cfn_lint_results):
    files, findings, result = cfn_lint_results
    assert len(files) == 10  # default: 3 stacks; existing VPC: Endpoints and Cluster; user stack: 1; public bastion: 3; single zone: Endpoints
    problems = [f for f in findings if f["Level"] in ("Error", "Warning")]
    assert problems == [], json.dumps(problems, indent=1)
    assert result.returncode in (0, 8), result.stderr  # 2 would mean errors, 4 warnings; 8 informational


def test_cfn_lint_catches_a_broken_template(tmp_path, default_app):
    """The lint step can fail: a cluster without its required Version type is reported."""
    template = json.loads(json.dumps(default_app.template("Dev/Cluster")))
    (cluster_id,) = [k for k, v in template["Resources"].items() if v["Type"] == "AWS::EKS::Cluster"]
    template["Resources"][cluster_id]["Properties"]["ResourcesVpcConfig"]["EndpointPublicAccess"] = "no"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(template))
    result = subprocess.run([str(BIN / "cfn-lint"), "--format", "json", "--", str(broken)], capture_output=True, text=True, timeout=300)
    assert any(f["Level"] == "Error" for f in json.loads(result.stdout))


def test_cdk_cli_reaches_the_stage_stacks_with_the_documented_selector(tmp_path):
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", CDK_DISABLE_CLI_TELEMETRY="true")
    cdk = [str(BIN / "node"), str(ROOT / "node_modules" / "aws-cdk" / "bin" / "cdk"), "--no-notices", "--output", str(tmp_path / "out")]
    listed = subprocess.run([*cdk, "ls", "Dev/*"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == [
        "Dev/Network (Dev-Network)", "Dev/Endpoints (Dev-Endpoints)", "Dev/Cluster (Dev-Cluster)"
    ]
    assert "end-of-life" not in listed.stderr + listed.stdout
    # the synth behind every CLI command writes the review report and diagram
    assert (tmp_path / "out" / "review" / "REVIEW.md").is_file() and (tmp_path / "out" / "review" / "architecture.png").is_file()
    # `--all` selects no stack inside a stage (DESIGN-NOTES §1), which is why the README deploys 'Dev/*'.
    # It fails while selecting, before any AWS call.
    # The assembly `ls` just wrote is reused (--app DIR), so the app is not synthesized a second time.
    reuse = [str(BIN / "node"), str(ROOT / "node_modules" / "aws-cdk" / "bin" / "cdk"), "--no-notices", "--app", str(tmp_path / "out")]
    everything = subprocess.run([*reuse, "deploy", "--all"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert everything.returncode != 0
    assert "No stack found in the main cloud assembly" in everything.stderr


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


def test_resynth_is_stable(tmp_path, default_app):
    from conftest import stage_builder, synthesize

    again = synthesize(tmp_path, stage_builder({}))
    assert again.templates == default_app.templates


def test_checkov_reports_zero_failed_checks_on_every_template(checkov_run):
    checkov_results = checkov_run.result()
    assert len(checkov_results["files"]) == 11  # 10 templates and the sample app's manifests (tests/test_composition_sample_app.py)
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


def test_with_account_and_region_the_zone_lookup_is_left_to_the_cli_and_cdk_context_json(tmp_path):
    synth = synthesize(tmp_path, stage_builder(ACCOUNT_REGION), ACCOUNT_REGION)
    (lookup,) = missing_context(synth)
    # the CDK CLI resolves this with the lookup role and caches it in cdk.context.json, then synthesizes again
    assert lookup["provider"] == "availability-zones"
    assert lookup["key"] == "availability-zones:account=111122223333:region=eu-west-1"
    stacks = synth.assembly.nested_assemblies[0].nested_assembly.stacks
    assert {(s.environment.account, s.environment.region) for s in stacks} == {("111122223333", "eu-west-1")}


def test_production_turns_on_termination_protection(default_app, existing_vpc_app):
    def protection(synth):
        return {s.hierarchical_id: s.termination_protection for s in synth.assembly.nested_assemblies[0].nested_assembly.stacks}

    assert protection(default_app) == {"Dev/Network": False, "Dev/Endpoints": False, "Dev/Cluster": False}
    assert protection(existing_vpc_app) == {"Prod/Endpoints": True, "Prod/Cluster": True}
