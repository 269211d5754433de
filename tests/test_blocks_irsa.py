"""blocks/irsa.py: the native OIDC provider, and an IRSA service account that trusts only its namespace and name."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from private_eks_fargate import (
    ConfigError,
)
from private_eks_fargate.blocks.irsa import irsa_service_account

from conftest import synthesize


@pytest.mark.parametrize("config", ["default", "existing-vpc", "user-stack", "public-bastion"])
def test_native_oidc_provider_for_the_cluster(all_synths, config):
    synth = all_synths[config]
    providers = {k: v for k, v in synth.all_resources().items() if v["Type"] == "AWS::IAM::OIDCProvider"}
    ((key, provider),) = providers.items()
    cluster_key = next(k for k, v in synth.all_resources().items() if v["Type"] == "AWS::EKS::Cluster")
    assert {k: v for k, v in provider["Properties"].items() if k != "Tags"} == {
        "ClientIdList": ["sts.amazonaws.com"],
        "Url": {"Fn::GetAtt": [cluster_key.split(":")[1], "OpenIdConnectIssuerUrl"]},
    }
    assert not [k for k, v in synth.all_resources().items() if "OpenIdConnectProvider" in v["Type"]]


@pytest.fixture(scope="module")
def irsa_stack(tmp_path_factory):
    """The IRSA helper on an imported cluster (its provider and kubectl provider given), as a library user would."""

    def build(app):
        stack = cdk.Stack(app, "Irsa")
        provider = eks.OidcProviderNative(stack, "Oidc", url="https://oidc.eks.eu-west-1.amazonaws.com/id/0A1B2C3D")
        kubectl = eks.KubectlProvider.from_kubectl_provider_attributes(
            stack, "Kubectl", service_token="arn:aws:lambda:eu-west-1:123456789012:function:kubectl",
            role=iam.Role.from_role_arn(stack, "KubectlRole", "arn:aws:iam::123456789012:role/kubectl"),
        )
        cluster = eks.Cluster.from_cluster_attributes(
            stack, "Cluster", cluster_name="team-a", open_id_connect_provider=provider, kubectl_provider=kubectl
        )
        irsa_service_account(stack, "Reports", cluster=cluster, name="reports", namespace="custom-space")

    return synthesize(tmp_path_factory.mktemp("irsa"), build).template("Irsa")


def test_irsa_service_account_trusts_only_its_namespace_and_name(irsa_stack):
    resources = irsa_stack["Resources"]
    (provider_id,) = [k for k, v in resources.items() if v["Type"] == "AWS::IAM::OIDCProvider"]
    (role,) = [v for v in resources.values() if v["Type"] == "AWS::IAM::Role" and "Federated" in json.dumps(v)]
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {"Federated": {"Ref": provider_id}}
    condition_json = resources[statement["Condition"]["StringEquals"]["Fn::GetAtt"][0]]["Properties"]["Value"]
    assert "system:serviceaccount:custom-space:reports" in json.dumps(condition_json)
    assert "sts.amazonaws.com" in json.dumps(condition_json)
    (role_id,) = [k for k, v in resources.items() if v is role]
    (account,) = [v for v in resources.values() if v["Type"] == "Custom::AWSCDK-EKS-KubernetesResource"]
    head, role_arn, tail = account["Properties"]["Manifest"]["Fn::Join"][1]
    assert role_arn == {"Fn::GetAtt": [role_id, "Arn"]}
    (document,) = json.loads(head + "ROLE-ARN" + tail)
    assert (document["kind"], document["metadata"]["name"], document["metadata"]["namespace"]) == (
        "ServiceAccount", "reports", "custom-space"
    )
    assert document["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": "ROLE-ARN"}


def test_irsa_rejects_bad_names():
    stack = cdk.Stack(cdk.App(), "Probe")
    with pytest.raises(ConfigError) as error:
        irsa_service_account(stack, "Bad", cluster=None, name="Reports_1", namespace="custom-space")
    assert str(error.value) == "irsa.name: 'Reports_1' is not a valid service account name (a DNS-1123 label)"
