"""Compliance: the four cdk-nag packs and the project's EKS checks are clean, acknowledgements are specific,
cfn-lint and checkov are clean, and a finding stops synth."""

import json
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks as eks_l1
from aws_cdk import aws_iam as iam
from private_eks_fargate.compliance import (
    EKS_LOG_TYPES,
    PrivateEksChecks,
    acknowledge,
    check_eks_cluster,
    check_reason,
    enable_compliance_checks,
)
from private_eks_fargate.review.assembly import load_stacks
from private_eks_fargate.review.report import checkov_skips

from conftest import ROOT, background_job, scratch

CONFIGS = ["default", "existing-vpc", "user-stack", "public-bastion"]


@background_job
def packs_without_acknowledgements() -> dict:
    """The four packs on each configuration built with every acknowledgement withheld from them
    (tests/nag_without_acknowledgements.py, a process of its own)."""
    out = scratch("nag-") / "found.json"
    helper = Path(__file__).parent / "nag_without_acknowledgements.py"
    result = subprocess.run([sys.executable, str(helper), str(out)], cwd=helper.parent, capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stderr
    return json.loads(out.read_text())


def acknowledged_in(synth) -> list[tuple[str, str]]:
    """(rule, construct path) of every acknowledgement in a configuration's templates."""
    return [(rule, stack.construct_path(lid)) for rule, stack, lid in (
        (rule["id"], stack, lid)
        for stack in load_stacks(Path(synth.assembly.directory))
        for lid, resource in stack.resources.items()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []))]


@pytest.mark.background
@pytest.mark.parametrize("config", [*CONFIGS, "pipeline"])
def test_every_acknowledgement_answers_a_finding_and_every_finding_is_acknowledged(all_synths, pipeline_app, config):
    """Without the acknowledgements, the packs find exactly what the templates acknowledge: no acknowledgement is left
    over (each is needed), no finding is open."""
    run = packs_without_acknowledgements.result()[config]
    acknowledged = sorted(acknowledged_in(pipeline_app if config == "pipeline" else all_synths[config]))
    assert acknowledged, "the kubectl provider's findings are acknowledged on their resources"
    assert [tuple(pair) for pair in run["acknowledged"]] == acknowledged  # the same configuration as the session's
    assert [tuple(pair) for pair in run["found"]] == acknowledged


@pytest.mark.parametrize("config", CONFIGS)
def test_own_eks_checks_pass_every_cluster_of_every_configuration(all_synths, config):
    synth = all_synths[config]
    clusters = [r for r in synth.all_resources().values() if r["Type"] == "AWS::EKS::Cluster"]
    assert len(clusters) == 1
    context = SimpleNamespace(template_paths=[str(f) for f in synth.template_files.values()])
    report = PrivateEksChecks().validate(context)
    assert report.success and list(report.violations) == []


@pytest.mark.parametrize("config", CONFIGS)
def test_synth_ran_the_plugins_and_left_no_open_finding(all_synths, config):
    """CDK writes validation-report.json only when validation plugins are registered; it lists open findings, and
    (`@aws-cdk/core:annotationsInValidationReport`) the constructs' warnings in a report of their own."""
    from private_eks_fargate.blocks.bastion import AMI_WARNING

    report = json.loads((Path(all_synths[config].assembly.directory) / "validation-report.json").read_text())
    plugins = [plugin for plugin in report["pluginReports"] if plugin.get("metadata") != {"cdk:annotations": "true"}]
    assert [v for plugin in plugins for v in plugin["violations"]] == []
    warnings = [v["ruleName"] for plugin in report["pluginReports"] if plugin not in plugins for v in plugin["violations"]]
    # the app's stage leaves the AMI note to the review report; a library user's stack gets the warning
    assert warnings == ([f"Annotation::{AMI_WARNING}"] if config == "user-stack" else [])


def _synth_error(build) -> str:
    app = cdk.App()
    build(app)
    with pytest.raises(Exception) as caught:
        app.synth()
    return str(caught.value)


def test_an_unacknowledged_nag_finding_stops_synth():
    def build(app):
        stage = cdk.Stage(app, "Bad")
        stack = cdk.Stack(stage, "Stack")
        vpc = ec2.CfnVPC(stack, "Vpc", cidr_block="10.1.0.0/16")
        ec2.CfnSecurityGroup(
            stack, "Open", group_description="open", vpc_id=vpc.ref,
            security_group_ingress=[ec2.CfnSecurityGroup.IngressProperty(ip_protocol="tcp", from_port=22, to_port=22, cidr_ip="0.0.0.0/0")],
        )
        enable_compliance_checks(stage)

    message = _synth_error(build)
    assert "ValidationFailed" in message
    for rule in ("AwsSolutions-EC23", "NIST.800.53.R5-EC2RestrictedSSH", "HIPAA.Security-EC2RestrictedSSH",
                 "PCI.DSS.321-EC2RestrictedSSH", "AwsSolutions-VPC7"):
        assert rule in message


def _bad_cluster_app(app, *, logging_types=("api", "audit"), public=True, encrypted=False):
    stage = cdk.Stage(app, "Bad")
    stack = cdk.Stack(stage, "Stack")
    role = iam.CfnRole(stack, "Role", assume_role_policy_document={
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    eks_l1.CfnCluster(
        stack, "Cluster", role_arn=role.attr_arn,
        resources_vpc_config=eks_l1.CfnCluster.ResourcesVpcConfigProperty(
            subnet_ids=["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
            endpoint_public_access=public, endpoint_private_access=True),
        logging=eks_l1.CfnCluster.LoggingProperty(cluster_logging=eks_l1.CfnCluster.ClusterLoggingProperty(
            enabled_types=[eks_l1.CfnCluster.LoggingTypeConfigProperty(type=t) for t in logging_types])),
        encryption_config=[eks_l1.CfnCluster.EncryptionConfigProperty(
            resources=["secrets"], provider=eks_l1.CfnCluster.ProviderProperty(key_arn="arn:aws:kms:eu-west-1:111122223333:key/x"))]
        if encrypted else None,
    )
    cdk.Validations.of(stage).add_plugins(PrivateEksChecks())


def test_own_eks_checks_stop_synth_of_a_public_unlogged_unencrypted_cluster():
    message = _synth_error(_bad_cluster_app)
    assert "ValidationFailed" in message
    assert "PrivateEks-EndpointPrivateOnly" in message
    assert "PrivateEks-ControlPlaneLogging" in message and "missing: authenticator, controllerManager, scheduler" in message
    assert "PrivateEks-SecretsEncryption" in message


def test_own_eks_checks_pass_a_private_logged_encrypted_cluster():
    app = cdk.App()
    _bad_cluster_app(app, logging_types=EKS_LOG_TYPES, public=False, encrypted=True)
    app.synth()  # no exception: the same cluster fixed passes


@pytest.mark.parametrize(
    "change, rule",
    [
        (lambda p: p["ResourcesVpcConfig"].pop("EndpointPublicAccess"), "EndpointPrivateOnly"),  # EKS default: public
        (lambda p: p["ResourcesVpcConfig"].update(EndpointPrivateAccess=False), "EndpointPrivateOnly"),
        (lambda p: p["Logging"]["ClusterLogging"]["EnabledTypes"].pop(), "ControlPlaneLogging"),
        (lambda p: p.pop("Logging"), "ControlPlaneLogging"),
        (lambda p: p["EncryptionConfig"][0].update(Resources=[]), "SecretsEncryption"),
        (lambda p: p.pop("EncryptionConfig"), "SecretsEncryption"),
    ],
)
def test_each_own_eks_check_catches_its_fault(default_app, change, rule):
    (cluster,) = default_app.resources("Dev/Cluster", "AWS::EKS::Cluster").values()
    assert check_eks_cluster(cluster["Properties"]) == []
    properties = json.loads(json.dumps(cluster["Properties"]))
    change(properties)
    assert [found for found, _ in check_eks_cluster(properties)] == [rule]


def _acknowledgements(synth):
    return [
        (rule["id"], key, rule["reason"])
        for key, resource in synth.all_resources().items()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    ]


@pytest.mark.parametrize("config", CONFIGS)
def test_every_acknowledgement_is_one_finding_on_one_resource_with_a_specific_reason(all_synths, config):
    acks = _acknowledgements(all_synths[config])
    assert acks, "the kubectl provider's findings are acknowledged on their resources"
    rules_by_reason: dict[str, set] = {}
    for rule, resource, reason in acks:
        check_reason(rule, reason)
        assert re.match(r"^(AwsSolutions|NIST\.800\.53\.R5|HIPAA\.Security|PCI\.DSS\.321)-\w+", rule), rule
        if rule.startswith(("AwsSolutions-IAM4", "AwsSolutions-IAM5")):
            assert "[" in rule, f"{rule}: IAM findings are acknowledged one policy or resource at a time"
        # the reason names what it is about: the kind of resource it sits on
        assert re.search(r"role|Lambda|policy|bastion|route|state machine|build|security group", reason), (rule, resource, reason)
        rules_by_reason.setdefault(reason, set()).add(re.sub(r"^[\w.]+?-(\w+).*$", r"\1", rule))
    # no stock reason pasted over unrelated rules: one reason serves one rule (the same rule in several packs)
    assert {reason: rules for reason, rules in rules_by_reason.items() if len(rules) > 1} == {}


def test_default_app_acknowledgement_counts_by_rule(default_app):
    counts: dict[str, int] = {}
    for rule, _, _ in _acknowledgements(default_app):
        counts[rule.split("[")[0]] = counts.get(rule.split("[")[0], 0) + 1
    kubectl, image_copy = 2, 2  # custom-resource Lambdas in the VPC: kubectl handler + framework; image copy + framework
    assert counts == {
        # cluster role, pod execution role, kubectl and image copy Lambdas (Basic, VPC; kubectl handler also ECR
        # read-only, ECR Public), bastion SSM core
        "AwsSolutions-IAM4": 13,
        # kubectl framework → handler; image copy framework → its handler; image copy build role: its log group,
        # report groups, two KMS action wildcards, ecr:GetAuthorizationToken; default-security-group runbook role: 3
        "AwsSolutions-IAM5": 1 + 1 + 5 + 3,
        "AwsSolutions-L1": 1,  # kubectl handler runtime
        "AwsSolutions-EC29": 1,  # bastion (detailed monitoring is on: CT.EC2.PR.13)
        # the bastion is in the VPC through its network interface (CT.EC2.PR.8), which these rules do not read
        **{f"{pack}-EC2InstancesInVPC": 1 for pack in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")},
        # closed by the Systems Manager runbook association instead of a Lambda outside the VPC (CT.LAMBDA.PR.3)
        **{f"{pack}-VPCDefaultSecurityGroupClosed": 1 for pack in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")},
        # inline policies: kubectl handler 1 + framework 2, pod execution role, bastion role, image copy build role,
        # image copy Lambda 1 + framework 2
        **{f"{pack}-IAMNoInlinePolicy": 3 + 1 + 1 + 1 + 3 for pack in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")},
        **{f"{pack}-{rule}": kubectl + image_copy for pack in ("NIST.800.53.R5", "HIPAA.Security") for rule in ("LambdaConcurrency", "LambdaDLQ")},
        "HIPAA.Security-CodeBuildProjectSourceRepoUrl": 1, "PCI.DSS.321-CodeBuildProjectSourceRepoUrl": 1,  # no source
        # the bastion's type is read per region from a mapping (environment-agnostic), which this rule cannot resolve
        **{f"{pack}-EC2EBSOptimizedInstance": 1 for pack in ("NIST.800.53.R5", "HIPAA.Security")},
    }
    assert sum(counts.values()) == 78


@pytest.mark.parametrize("reason", ["", "OK", "n/a", "False positive.", "not needed", "suppressed", "CDK default policy"])
def test_generic_reasons_are_refused(reason):
    with pytest.raises(ValueError, match="too generic"):
        check_reason("AwsSolutions-IAM4", reason)


def test_acknowledge_goes_on_the_resource_itself():
    stack = cdk.Stack(cdk.App(), "S")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    reason = "This role exists only to show that acknowledgements target the resource with the finding."
    with pytest.raises(TypeError, match="on the resource itself"):
        acknowledge(role, "AwsSolutions-IAM4[Policy::x]", reason)
    acknowledge(role.node.default_child, "AwsSolutions-IAM4[Policy::x]", reason)
    assert role.node.default_child.get_metadata("cdk_nag") == {
        "rules_to_suppress": [{"id": "AwsSolutions-IAM4[Policy::x]", "reason": reason}]
    }


# --- checkov (the scan itself is asserted in test_app_stage.py, next to cfn-lint) --------------------------------


def test_every_checkov_skip_has_its_reason_in_the_one_config_file():
    skips = checkov_skips(ROOT / ".checkov.yaml")
    assert skips
    for check, reason in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", check) and len(reason.split()) >= 12, (check, reason)


@pytest.mark.background
def test_every_checkov_skip_is_needed(lint_jobs):
    """Each check .checkov.yaml skips, run alone on every tested template, fails somewhere, and each skip in a
    resource's Metadata fails on that resource: without its skip, checkov would fail."""
    run = lint_jobs["checkov-skipped"].result(timeout=900)
    (report,) = [r for r in run["reports"] if r["check_type"] == "cloudformation"]
    assert report["summary"]["parsing_errors"] == 0 and report["summary"]["resource_count"] > 100
    failed = {(Path(c["file_path"]).name, c["resource"].split(".")[-1], c["check_id"]) for c in report["results"]["failed_checks"]}
    skipped = [check for check, _ in checkov_skips(ROOT / ".checkov.yaml")]
    assert [check for check in skipped if check not in {check for *_, check in failed}] == []
    assert run["inline"], "the pipeline's templates skip checks on single resources"
    assert [skip for skip in run["inline"] if tuple(skip) not in failed] == []
    # it ran those checks and no other
    assert {check for *_, check in failed} <= set(skipped) | {check for *_, check in run["inline"]}


CUSTOM_RESOURCE_LAMBDAS = re.compile(
    r"KubectlProvider(Handler|frameworkonEvent)[0-9A-F]{8}$"
    r"|^ImageCopyProvider(Copy|frameworkonEvent)[0-9A-F]{8}$"
)


@pytest.mark.parametrize("config", CONFIGS)
def test_only_the_public_mode_bastion_has_a_public_address(all_synths, config):
    """What the CKV_AWS_88 skip covers: an instance with a public address exists only in public-bastion mode."""
    public = [
        key for key, r in all_synths[config].all_resources().items()
        if r["Type"] == "AWS::EC2::Instance"
        and any(n.get("AssociatePublicIpAddress") for n in r["Properties"].get("NetworkInterfaces", []))
    ]
    assert len(public) == (1 if config == "public-bastion" else 0)
    assert all("OperationsBastionInstance" in key for key in public)


@pytest.mark.parametrize("config", CONFIGS)
def test_checkov_lambda_skips_cover_only_custom_resource_lambdas(all_synths, config):
    """The skipped Lambda checks hold for Lambdas that run only during deployments: any other Lambda must be
    reconsidered (and the skip list with it)."""
    lambdas = [key for key, r in all_synths[config].all_resources().items() if r["Type"] == "AWS::Lambda::Function"]
    assert lambdas
    for key in lambdas:
        assert CUSTOM_RESOURCE_LAMBDAS.search(key.split(":")[1]), key

import pytest
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER
from private_eks_fargate import (
    ConfigError,
    PrivateEksFargateStage,
    settings_from_context,
    stage_from_context,
)

from conftest import CDK_JSON_CONTEXT


def _tag_keys(resource: dict) -> set:
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource["Type"]).schema
    tags = resource.get("Properties", {}).get(schema["tagging"]["tagProperty"].split("/")[-1])
    if isinstance(tags, list):
        return {tag["Key"] for tag in tags}
    return set(tags or {})


def _taggable(resource: dict) -> bool:
    if resource["Type"].startswith("Custom::"):
        return False
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource["Type"]).schema
    return bool(schema.get("tagging", {}).get("taggable"))


@pytest.mark.parametrize("config", ["default", "existing-vpc"])
def test_every_taggable_resource_carries_the_mandatory_tags(all_synths, config):
    required = set(CDK_JSON_CONTEXT["compliance.required_tags"])
    assert required == {"owner", "cost-center", "data-classification"}
    taggable = {k: r for k, r in all_synths[config].all_resources().items() if _taggable(r)}
    assert len(taggable) > 20
    missing = {k: sorted(required - _tag_keys(r)) for k, r in taggable.items() if not required <= _tag_keys(r)}
    assert missing == {}


def test_missing_required_tag_stops_synth_with_one_line():
    """The stage validates before defining anything; app.py prints such a ConfigError as one line (test_context)."""
    tags = {"owner": "platform-team", "data-classification": "internal"}
    context = {**CDK_JSON_CONTEXT, "compliance.tags": json.dumps(tags)}
    stage_name, env = stage_from_context(context)
    app = cdk.App()
    with pytest.raises(ConfigError) as caught:
        PrivateEksFargateStage(app, stage_name, settings=settings_from_context(context), env=env)
    assert str(caught.value) == (
        "compliance.tags: required tag 'cost-center' is missing; give a value for each of owner, cost-center, "
        "data-classification"
    )
    assert app.node.children == []
