"""AWS Control Tower proactive controls (compliance/control_tower.py, review/control_tower.py): AWS's cfn-guard rules
from cdklabs.cdk-validator-cfnguard on every configuration; failures only by the user's choice, named with the setting."""

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from private_eks_fargate.compliance.control_tower import ControlTowerChecks
from private_eks_fargate.review.assembly import load_results
from private_eks_fargate.review.control_tower import hook_views, result_record, resolved, run_controls
from private_eks_fargate.review.summary import result_line

from conftest import CLUSTER, background_job, run_app, summary_items

#: the controls the default app failed before they were met (issue 11), each now evaluated on it
ONCE_FAILING = {"CT.EC2.PR.8", "CT.EC2.PR.10", "CT.EC2.PR.13", "CT.EC2.PR.19", "CT.KMS.PR.3", "CT.LAMBDA.PR.3"}


def test_the_default_app_meets_every_control_that_applies(default_app):
    record = load_results(Path(default_app.assembly.directory))["control-tower"]  # written by the synth's plugin
    assert record["checked"] > 30 and record["checked"] == len(record["evaluated"])
    assert ONCE_FAILING <= set(record["evaluated"])
    assert record["failed"] == 0 and record["findings"] == []
    # the image copy polls CodeBuild itself: no waiter state machine (CT.STEPFUNCTIONS.PR.1 and PR.2 do not apply)
    types = {r["Type"] for r in default_app.all_resources().values()}
    assert "AWS::StepFunctions::StateMachine" not in types
    assert not [t for t in record["evaluated"] if t.startswith("CT.STEPFUNCTIONS")]


def test_the_review_summary_counts_the_controls(default_app, default_review):
    record = load_results(Path(default_app.assembly.directory))["control-tower"]
    summary = summary_items(default_review.read_text())
    assert f"- Control Tower proactive controls 0.0.62: 0 failed, {record['checked']} checked" in summary


def test_intrinsics_read_as_the_deploy_time_hook_sees_them():
    assert resolved({"SubnetIds": [{"Fn::ImportValue": "x"}], "Arn": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":logs:*"]]},
                     "Name": {"Fn::Sub": "${AWS::StackName}-bastion"}, "Flag": True}) == {
        "SubnetIds": ["resolved-at-deploy"], "Arn": "arn:resolved-at-deploy:logs:*", "Name": "resolved-at-deploy-bastion", "Flag": True}


def test_a_per_region_value_is_read_as_the_hook_sees_it_in_each_region():
    mappings = {"Types": {"us-east-1": {"T": "c7a.medium"}, "eu-west-3": {"T": "c5a.large"}, "ap-east-1": {"T": "c5a.large"}}}
    resource = {"Type": "AWS::EC2::Instance", "Properties": {"InstanceType": {"Fn::FindInMap": ["Types", {"Ref": "AWS::Region"}, "T"]}}}
    views = hook_views("Bastion", resource, mappings)
    assert sorted(view["Properties"]["InstanceType"] for view in views.values()) == ["c5a.large", "c7a.medium"]
    assert set(views) == {"BastionHookView0", "BastionHookView1"}
    assert hook_views("Plain", {"Type": "X", "Properties": {"A": 1}}, mappings) == {"Plain": {"Type": "X", "Properties": {"A": 1}}}


def test_a_region_whose_bastion_type_fails_a_control_fails_the_template(default_app):
    """The default app's bastion type comes from a per-region mapping: every region's type is evaluated; one
    region's non-Nitro type is a failure of the one instance."""
    template = json.loads(json.dumps(default_app.template(CLUSTER)))
    mapping = template["Mappings"]["BastionInstanceTypes"]
    assert mapping["us-east-1"] == {"InstanceType": "c7a.medium"}
    mapping["eu-west-3"] = {"InstanceType": "t2.micro"}  # not Nitro, no encryption in transit
    results = run_controls({CLUSTER: template})
    (instance_id,) = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::EC2::Instance"]
    assert sorted((f.control, f.resource) for f in results.findings) == [
        ("CT.EC2.PR.16", instance_id), ("CT.EC2.PR.19", instance_id)]
    assert [f.control for f in results.failing] == ["CT.EC2.PR.16"]  # PR.19 is declared the user's choice


def test_t3_micro_bastion_fails_nitro_encryption_in_transit_by_the_users_choice(default_app):
    template = json.loads(json.dumps(default_app.template(CLUSTER)))
    (instance,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::EC2::Instance"]
    assert instance["Properties"]["InstanceType"]["Fn::FindInMap"][0] == "BastionInstanceTypes"
    instance["Properties"]["InstanceType"] = "t3.micro"  # what operations.bastion_instance_type=t3.micro writes
    results = run_controls({CLUSTER: template})
    assert [(f.control, f.setting) for f in results.findings] == [("CT.EC2.PR.19", "operations.bastion_instance_type")]
    assert results.failing == []  # the user's choice: reported, not a synth failure
    assert result_line("Control Tower proactive controls", {**result_record(results), "failed": 1}).endswith(
        f"1 failed, {len(results.evaluated)} checked (CT.EC2.PR.19); the user's choice: CT.EC2.PR.19 by operations.bastion_instance_type")


def test_an_undeclared_failure_fails_the_synth(tmp_path):
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Keys")
    kms.Key(stack, "Key", enable_key_rotation=True)  # no statement limiting grants to AWS services
    cdk.Validations.of(app).add_plugins(ControlTowerChecks.of(app))
    with pytest.raises(RuntimeError, match=r"CT\.KMS\.PR\.3"):
        app.synth()
    record = load_results(tmp_path)["control-tower"]
    assert [(f["rule"], f["resource"].split(":")[0]) for f in record["findings"]] == [("CT.KMS.PR.3", "Keys")]


#: what each other configuration fails, and by which setting (none: it meets every control)
EXPECTED = {
    "existing-vpc": set(),  # production, strict data perimeter, two-year logs
    "user-stack": set(),
    # the seed's design: a public bastion and 90-day logs
    "public-bastion": {("CT.EC2.PR.8", "operations.bastion_subnet"), ("CT.CLOUDWATCH.PR.2", "compliance.log_retention_days")},
}


@pytest.mark.background
@pytest.mark.parametrize("config", sorted(EXPECTED))
def test_other_configurations_fail_only_by_named_settings(control_tower_jobs, config):
    record = control_tower_jobs[config].result()
    assert record["checked"] > 0
    found = {(f["rule"], f.get("setting", "")) for f in record["findings"]}
    assert found == EXPECTED[config]


@pytest.mark.background
def test_the_public_bastion_report_names_each_control_with_its_setting(control_tower_jobs, public_bastion_app):
    from private_eks_fargate.review.report import load_review, render

    control_tower_jobs["public-bastion"].result()
    text = render(load_review(Path(public_bastion_app.assembly.directory)), None)
    summary = "\n".join(summary_items(text))
    assert ("the user's choice: CT.CLOUDWATCH.PR.2 by compliance.log_retention_days, CT.EC2.PR.8 by "
            "operations.bastion_subnet") in summary


def test_a_platform_without_bastion_sample_app_or_fargate_logging_meets_every_control(bare_platform_app):
    templates = {name: json.loads(path.read_text()) for name, path in bare_platform_app.template_files.items()}
    assert templates
    results = run_controls(templates, workers=1)
    assert results.evaluated and results.findings == []


@background_job
def app_with_a_t3_micro_bastion():
    return run_app({"operations.bastion_instance_type": "t3.micro"})


@pytest.mark.background
def test_a_bastion_type_without_encryption_in_transit_synthesizes_and_warns_in_one_line():
    result = app_with_a_t3_micro_bastion.result()
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    report = Path(lines[0].removeprefix("review report: "))
    record = load_results(report.parent.parent)["control-tower"]
    assert [(f["rule"], f["setting"]) for f in record["findings"]] == [("CT.EC2.PR.19", "operations.bastion_instance_type")]
    assert lines[-1] == (
        f"warning: Control Tower proactive controls 0.0.62: 1 failed, {record['checked']} checked (CT.EC2.PR.19); "
        "the user's choice: CT.EC2.PR.19 by operations.bastion_instance_type"
    )


def test_controls_started_beside_the_packs_report_as_controls_run_alone(bare_platform_app, tmp_path):
    """The starter (first plugin) runs the controls in a thread while the packs run; the checks (last plugin) report
    them. Without a starter the checks run them themselves: the same report."""
    from types import SimpleNamespace

    templates = []
    for name, path in bare_platform_app.template_files.items():
        copy = tmp_path / path.name  # results go beside the templates: a copy, not the shared fixture's assembly
        copy.write_text(path.read_text())
        templates.append(SimpleNamespace(stack_construct_path=name, template_path=str(copy)))
    context = SimpleNamespace(stack_templates=templates)
    started = ControlTowerChecks()
    started.starter.validate(context)
    alone = ControlTowerChecks()
    reports = [started.validate(context), alone.validate(context)]
    assert [(r.success, list(r.violations)) for r in reports] == [(True, [])] * 2
    assert load_results(tmp_path)["control-tower"]["checked"] > 0
