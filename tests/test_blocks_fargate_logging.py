"""blocks/fargate_logging.py: the aws-observability namespace, the aws-logging ConfigMap (its content and Fargate's
5300-character limit), the owned log group and what the pod execution role may do with it."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from private_eks_fargate import (
    ConfigError,
    OperationsSettings,
)
from private_eks_fargate.blocks.fargate_logging import (
    MAX_CONFIG_CHARS,
    FargateLogging,
    check_logging_config,
    logging_config,
)
from private_eks_fargate.blocks.logs import LOG_KEY_DESCRIPTION

from conftest import CLUSTER, LOG_KEY, cluster_name, fargate_log_group, find_one, manifest


def test_observability_namespace_and_logging_config_map(default_app):
    _, namespace = manifest(default_app, CLUSTER, "Namespace", "aws-observability")
    assert namespace["metadata"]["labels"]["aws-observability"] == "enabled"
    # it runs no pods (Fargate only reads its ConfigMap), so "restricted" costs nothing and refuses any pod put there
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce-version"] == "v1.36"
    key, config_map = manifest(default_app, CLUSTER, "ConfigMap", "aws-logging")
    assert config_map["metadata"]["namespace"] == "aws-observability"
    data = config_map["data"]
    assert set(data) == {"output.conf", "filters.conf"}
    assert data["output.conf"].splitlines() == [
        "[OUTPUT]",
        "    Name cloudwatch_logs",
        "    Match kube.*",
        "    region ${AWS::Region}",
        f"    log_group_name /aws/eks/{cluster_name(default_app)}/fargate",
        "    log_stream_prefix fargate-",
        "    auto_create_group false",
    ]
    assert data["filters.conf"].startswith("[FILTER]\n    Name kubernetes\n    Match kube.*\n")
    assert sum(len(k) + len(v) for k, v in data.items()) <= MAX_CONFIG_CHARS
    resources = default_app.resources(CLUSTER)
    group_id, _ = fargate_log_group(default_app, CLUSTER)
    namespace_key, _ = manifest(default_app, CLUSTER, "Namespace", "aws-observability")
    assert {namespace_key, group_id} <= set(resources[key]["DependsOn"])
    # CoreDNS is rolled onto Fargate after the config exists, so its pods log from the start
    (addon,) = default_app.resources(CLUSTER, "AWS::EKS::Addon").values()
    assert key in addon["DependsOn"]


def test_log_group_is_owned_retained_and_encrypted_with_a_key_the_logs_service_may_use(default_app):
    resources = default_app.resources(CLUSTER)
    group_id, group = fargate_log_group(default_app, CLUSTER)
    assert group["Properties"]["LogGroupName"] == f"/aws/eks/{cluster_name(default_app)}/fargate"
    assert group["Properties"]["RetentionInDays"] == 365
    assert group["DeletionPolicy"] == "Retain"
    key = resources[group["Properties"]["KmsKeyId"]["Fn::GetAtt"][0]]
    assert key["Properties"]["EnableKeyRotation"] is True and key["DeletionPolicy"] == "Retain"
    (logs_statement,) = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if "Service" in s["Principal"]]
    assert logs_statement["Principal"]["Service"] == {"Fn::Join": ["", ["logs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}
    context = logs_statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]["Fn::Join"][1]
    assert context[-1] == f":log-group:/aws/eks/{cluster_name(default_app)}/fargate"


def test_pod_execution_role_writes_to_that_log_group_only(default_app):
    role_id, _ = find_one(default_app.resources(CLUSTER, "AWS::IAM::Role"), lambda r: "eks-fargate-pods" in json.dumps(r))
    _, policy = find_one(default_app.resources(CLUSTER, "AWS::IAM::Policy"), lambda p: p["Properties"]["Roles"] == [{"Ref": role_id}])
    group_id, _ = fargate_log_group(default_app, CLUSTER)
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [group_id, "Arn"]},
        }
    ]


def test_configured_retention_and_key(public_bastion_app):
    _, group = fargate_log_group(public_bastion_app, "Seed/Cluster")
    properties = {k: v for k, v in group["Properties"].items() if k != "Tags"}
    # the retention is compliance.log_retention_days, the one retention of every log group
    assert properties == {"KmsKeyId": LOG_KEY, "LogGroupName": "/aws/eks/seed-style/fargate", "RetentionInDays": 90}
    keys = public_bastion_app.resources("Seed/Cluster", "AWS::KMS::Key")
    descriptions = sorted(k["Properties"]["Description"] for k in keys.values())
    # secrets, bastion volume, workload images, and the stack's log key (control-plane logs, image copy builds)
    assert len(descriptions) == 4, descriptions
    # the Fargate log key is the configured one: no key of its own
    assert [d for d in descriptions if "log" in d.lower()] == [LOG_KEY_DESCRIPTION]


def test_logging_config_size_limit_is_exact():
    base = logging_config(region="eu-west-1", log_group_name="/aws/eks/x/fargate")
    base_size = check_logging_config(base)
    room = MAX_CONFIG_CHARS - base_size - 1  # the appended filters get a trailing newline
    fits = logging_config(region="eu-west-1", log_group_name="/aws/eks/x/fargate", extra_filters="[FILTER]\n" + "#" * (room - 9))
    assert check_logging_config(fits) == MAX_CONFIG_CHARS
    too_big = logging_config(region="eu-west-1", log_group_name="/aws/eks/x/fargate", extra_filters="[FILTER]\n" + "#" * (room - 8))
    with pytest.raises(ConfigError) as error:
        check_logging_config(too_big)
    assert str(error.value) == (
        f"operations.log_extra_filters: the aws-logging ConfigMap would be {MAX_CONFIG_CHARS + 1} characters; "
        f"Fargate accepts at most {MAX_CONFIG_CHARS}"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"output.conf": "[OUTPUT]\n", "flb_log_cw": "true"},
         "operations.fargate_logging: ConfigMap key 'flb_log_cw' is not one of filters.conf, output.conf, parsers.conf"),
        ({"filters.conf": "[FILTER]\n    Name grep\n[OUTPUT]\n    Name null\n"},
         "operations.log_extra_filters: filters.conf may only contain [FILTER] sections, not [OUTPUT]"),
        ({"parsers.conf": "[MULTILINE_PARSER]\n"},
         "operations.log_parsers: parsers.conf may only contain [PARSER] sections, not [MULTILINE_PARSER]"),
    ],
)
def test_logging_config_rejects_what_fargate_would(data, message):
    with pytest.raises(ConfigError) as error:
        check_logging_config(data)
    assert str(error.value) == message


def test_oversized_parsers_stop_the_construct_before_any_resource():
    stack = cdk.Stack(cdk.App(), "Probe")
    with pytest.raises(ConfigError) as error:
        FargateLogging(stack, "Logging", cluster=None, pod_execution_role=None, log_group_name="/aws/eks/x/fargate",
                       settings=OperationsSettings(log_parsers="[PARSER]\n" + "x" * MAX_CONFIG_CHARS))
    assert str(error.value).startswith("operations.log_parsers: the aws-logging ConfigMap would be ")
    assert stack.node.children == []
