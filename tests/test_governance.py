"""Governance settings: log groups (KMS, retention, retained), the control-plane log group before the cluster,
mandatory tags on every taggable resource, termination protection in production, the strict data perimeter."""

import json

import aws_cdk as cdk
import pytest
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

from conftest import CDK_JSON_CONTEXT, find_one
from private_eks_fargate import (
    ComplianceSettings,
    ConfigError,
    PlatformSettings,
    PrivateEksFargateStage,
    settings_from_context,
    stage_from_context,
)
from private_eks_fargate.blocks.cluster import default_cluster_name

CONFIGS = ["default", "existing-vpc", "user-stack", "public-bastion"]
RETENTION = {"default": 365, "existing-vpc": 731, "user-stack": 365, "public-bastion": 90}


@pytest.mark.parametrize("config", CONFIGS)
def test_every_log_group_is_kms_encrypted_retained_and_has_the_configured_retention(all_synths, config):
    groups = {k: r for k, r in all_synths[config].all_resources().items() if r["Type"] == "AWS::Logs::LogGroup"}
    assert groups
    for key, group in groups.items():
        assert group["Properties"]["RetentionInDays"] == RETENTION[config], key
        kms_key = group["Properties"]["KmsKeyId"]
        assert "Fn::GetAtt" in kms_key or kms_key.startswith("arn:aws:kms:"), key  # the stack's key or a configured one
        assert group["DeletionPolicy"] == group["UpdateReplacePolicy"] == "Retain", key


def test_control_plane_log_group_exists_before_the_cluster(all_synths):
    for config, stack in (("default", "Dev/Cluster"), ("existing-vpc", "Prod/Cluster"), ("user-stack", "TeamPlatform")):
        synth = all_synths[config]
        cluster_id, cluster = find_one(synth.resources(stack), lambda r: r["Type"] == "AWS::EKS::Cluster")
        name = cluster["Properties"]["Name"]
        group_id, _ = find_one(
            synth.resources(stack, "AWS::Logs::LogGroup"),
            lambda r: r["Properties"].get("LogGroupName") == f"/aws/eks/{name}/cluster",
        )
        assert group_id in cluster["DependsOn"], config


def test_default_cluster_name_is_deterministic_valid_and_derived_from_the_stack(default_app):
    (cluster,) = default_app.resources("Dev/Cluster", "AWS::EKS::Cluster").values()
    name = cluster["Properties"]["Name"]
    assert isinstance(name, str) and name.startswith("DevCluster-") and len(name) <= 100
    construct = default_app.app.node.find_child("Dev").node.find_child("Cluster").node.find_child("Cluster")
    assert default_cluster_name(construct) == name


def test_log_key_admits_only_cloudwatch_logs_of_this_account_and_rotates(default_app):
    for stack in ("Dev/Network", "Dev/Cluster"):
        keys = default_app.resources(stack, "AWS::KMS::Key")
        _, key = find_one(keys, lambda k: "CloudWatch Logs" in k["Properties"]["Description"])
        assert key["Properties"]["EnableKeyRotation"] is True
        (statement,) = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid") == "CloudWatchLogsOfThisAccount"]
        assert statement["Principal"] == {"Service": {"Fn::Join": ["", ["logs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}}
        assert "kms:EncryptionContext:aws:logs:arn" in statement["Condition"]["ArnLike"]


def test_vpc_flow_logs_capture_all_traffic_into_the_encrypted_group_without_inline_policies(default_app):
    (flow_log,) = default_app.resources("Dev/Network", "AWS::EC2::FlowLog").values()
    props = flow_log["Properties"]
    assert props["TrafficType"] == "ALL" and props["LogDestinationType"] == "cloud-watch-logs"
    (vpc_id,) = default_app.resources("Dev/Network", "AWS::EC2::VPC")
    assert props["ResourceId"] == {"Ref": vpc_id}
    role_id = props["DeliverLogsPermissionArn"]["Fn::GetAtt"][0]
    role = default_app.resources("Dev/Network")[role_id]
    assert "Policies" not in role["Properties"]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    }
    (policy,) = default_app.resources("Dev/Network", "AWS::IAM::ManagedPolicy").values()
    assert policy["Properties"]["Roles"] == [{"Ref": role_id}]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Resource"] == {"Fn::GetAtt": [props["LogGroupName"]["Ref"], "Arn"]}
    assert not default_app.resources("Dev/Network", "AWS::IAM::Policy")


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


@pytest.mark.parametrize(
    "settings, message",
    [
        (dict(log_retention_days=100), "compliance.log_retention_days: 100 is not a CloudWatch Logs retention; use one of 1, 3,"),
        (dict(tags={"aws:owner": "x"}), "compliance.tags: 'aws:owner' is not an allowed tag key"),
        (dict(tags={"owner": "a" * 257}), "compliance.tags: tag 'owner' has value"),
        (dict(tags={"owner": ""}, required_tags=("owner",)), "compliance.tags: required tag 'owner' is missing"),
        (dict(production="yes"), "compliance.production: 'yes' is not allowed; give true or false"),
    ],
)
def test_bad_compliance_settings_are_refused(settings, message):
    with pytest.raises(ConfigError) as caught:
        PlatformSettings(compliance=ComplianceSettings(**settings)).validate()
    assert str(caught.value).startswith(message)


def test_production_turns_on_termination_protection(default_app, existing_vpc_app):
    def protection(synth):
        return {s.hierarchical_id: s.termination_protection for s in synth.assembly.nested_assemblies[0].nested_assembly.stacks}

    assert protection(default_app) == {"Dev/Network": False, "Dev/Endpoints": False, "Dev/Cluster": False}
    assert protection(existing_vpc_app) == {"Prod/Endpoints": True, "Prod/Cluster": True}


def _endpoints(synth, stack):
    return {
        e["Metadata"]["Purpose"]["Service"]: e["Properties"]
        for e in synth.resources(stack, "AWS::EC2::VPCEndpoint").values()
    }


def test_default_endpoints_keep_the_aws_default_policy(default_app):
    assert all("PolicyDocument" not in props for props in _endpoints(default_app, "Dev/Endpoints").values())


THIS_ACCOUNT = {"StringEquals": {"aws:PrincipalAccount": {"Ref": "AWS::AccountId"}}}


def test_strict_perimeter_interface_endpoints_admit_only_this_accounts_principals(existing_vpc_app):
    endpoints = _endpoints(existing_vpc_app, "Prod/Endpoints")
    interface = {s: p for s, p in endpoints.items() if p["VpcEndpointType"] == "Interface"}
    assert set(interface) == {
        "ecr.api", "ecr.dkr", "sts", "logs", "ec2", "eks", "lambda", "secretsmanager", "ssm", "ssmmessages", "ec2messages"
    }
    for service, props in interface.items():
        statements = {s["Sid"]: s for s in props["PolicyDocument"]["Statement"]}
        only = statements.pop("OnlyPrincipalsOfThisAccount")
        assert (only["Effect"], only["Principal"], only["Action"], only["Resource"]) == ("Allow", {"AWS": "*"}, "*", "*")
        assert only["Condition"] == THIS_ACCOUNT
        if service == "sts":
            web = statements.pop("WebIdentityToRolesOfThisAccount")
            assert web["Action"] == "sts:AssumeRoleWithWebIdentity"
            assert web["Resource"] == {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":role/*"]]}
        assert statements == {}, service


def test_strict_perimeter_s3_gateway_admits_only_the_buckets_the_platform_needs(existing_vpc_app):
    s3 = _endpoints(existing_vpc_app, "Prod/Endpoints")["s3"]
    statements = {s["Sid"]: s for s in s3["PolicyDocument"]["Statement"]}
    assert set(statements) == {"EcrImageLayers", "CloudFormationCustomResourceResponses", "CdkAssetsOfThisAccount"}
    partition, region, account = {"Ref": "AWS::Partition"}, {"Ref": "AWS::Region"}, {"Ref": "AWS::AccountId"}
    layers = statements["EcrImageLayers"]
    assert (layers["Action"], layers["Resource"]) == (
        "s3:GetObject", {"Fn::Join": ["", ["arn:", partition, ":s3:::prod-", region, "-starport-layer-bucket/*"]]}
    )
    responses = statements["CloudFormationCustomResourceResponses"]
    assert (responses["Action"], responses["Resource"]) == ("s3:PutObject", {"Fn::Join": ["", [
        "arn:", partition, ":s3:::cloudformation-custom-resource-response-",
        {"Fn::Join": ["", {"Fn::Split": ["-", region]}]}, "/*"]]})  # fmt: skip
    assets = statements["CdkAssetsOfThisAccount"]
    assert assets["Resource"] == {"Fn::Join": ["", ["arn:", partition, ":s3:::cdk-hnb659fds-assets-", account, "-", region, "/*"]]}
    assert assets["Condition"] == THIS_ACCOUNT
    assert "Condition" not in layers and "Condition" not in responses  # pre-signed by ECR / CloudFormation
