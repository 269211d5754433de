"""blocks/logs.py: every log group KMS-encrypted, retained, with the configured retention; the stack's log key."""

import json

import pytest
from private_eks_fargate.blocks.logs import LOG_KEY_DESCRIPTION

from conftest import ROOT, find_one

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


def test_log_key_admits_only_cloudwatch_logs_of_this_account_and_rotates(default_app):
    for stack in ("Dev/Network", "Dev/Cluster"):
        keys = default_app.resources(stack, "AWS::KMS::Key")
        _, key = find_one(keys, lambda k: "CloudWatch Logs" in k["Properties"]["Description"])
        # the same words in every stack: what it encrypts is the log groups that name it (the review summary lists them)
        assert key["Properties"]["Description"] == LOG_KEY_DESCRIPTION
        assert key["Properties"]["EnableKeyRotation"] is True
        (statement,) = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid") == "CloudWatchLogsOfThisAccount"]
        assert statement["Principal"] == {"Service": {"Fn::Join": ["", ["logs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}}
        assert "kms:EncryptionContext:aws:logs:arn" in statement["Condition"]["ArnLike"]


@pytest.mark.parametrize("config", CONFIGS)
def test_every_lambda_logs_to_a_log_group_the_stack_declares(all_synths, config):
    """No Lambda creates /aws/lambda/<name> on first run (no key, no expiry, not the stack's): each is pointed at a
    group of its template, which the test above holds to the key, retention and retention policy of the others. The
    provider frameworks log at INFO, where their only lines are (the failed call, the answer to CloudFormation)."""
    synth = all_synths[config]
    functions = [(stack, k, r) for stack in synth.templates for k, r in synth.resources(stack, "AWS::Lambda::Function").items()]
    assert functions
    frameworks = 0
    for stack, key, function in functions:
        logging = function["Properties"]["LoggingConfig"]
        group = synth.resources(stack)[logging["LogGroup"]["Ref"]]
        assert group["Type"] == "AWS::Logs::LogGroup" and "LogGroupName" not in group["Properties"], key
        assert group["Properties"]["RetentionInDays"] == RETENTION[config] and group["DeletionPolicy"] == "Retain", key
        if function["Properties"]["Runtime"].startswith("nodejs"):  # aws-cdk-lib's provider framework
            frameworks += 1
            assert (logging["ApplicationLogLevel"], logging["LogFormat"]) == ("INFO", "JSON"), key
    assert frameworks == len(functions) // 2  # each provider: its handler and its framework, one group for both
    groups = {json.dumps(f["Properties"]["LoggingConfig"]["LogGroup"]) for _, _, f in functions}
    assert len(groups) == frameworks


def test_cdk_managed_lambda_log_groups_stay_off():
    """aws-cdk-lib's @aws-cdk/aws-lambda:useCdkManagedLogGroup would add an unencrypted, never-expiring
    /aws/lambda/<name> group to every function (used by none, since each names its own group): it stays off."""
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    assert context["@aws-cdk/aws-lambda:useCdkManagedLogGroup"] is False


def test_the_kubectl_log_group_is_an_output(default_app):
    outputs = default_app.template("Dev/Cluster")["Outputs"]
    group = outputs["KubectlLogGroup"]["Value"]["Ref"]
    assert group.startswith("ClusterKubectlProviderLogs")
