"""Operator access and observability: access entries, Fargate logging, OIDC provider and IRSA, outputs, settings."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from private_eks_fargate import (
    ConfigError,
    FargateProfileSpec,
    OperationsSettings,
)
from private_eks_fargate.blocks.fargate_logging import (
    MAX_CONFIG_CHARS,
)

from conftest import ADMIN, CLUSTER, fargate_log_group, find_one, synthesize


def policy_name(entry: dict) -> list[str]:
    return [p["PolicyArn"]["Fn::Join"][1][-1].split("/")[-1] for p in entry["Properties"]["AccessPolicies"]]




def test_bastion_role_gets_cluster_admin_and_nothing_else_new(default_app):
    entries = default_app.resources(CLUSTER, "AWS::EKS::AccessEntry")
    principals = {json.dumps(e["Properties"]["PrincipalArn"]): e for e in entries.values()}
    bastion_id, _ = find_one(default_app.resources(CLUSTER, "AWS::IAM::Role"), lambda r: r["Properties"].get("Description", "").startswith("SSM bastion"))
    bastion = principals.pop(json.dumps({"Fn::GetAtt": [bastion_id, "Arn"]}))
    assert policy_name(bastion) == ["AmazonEKSClusterAdminPolicy"]
    assert bastion["Properties"]["AccessPolicies"][0]["AccessScope"] == {"Type": "cluster"}
    # the only other entry is CDK's own for the kubectl handler
    assert [json.loads(p)["Fn::GetAtt"][0] for p in principals] == [
        k for k in default_app.resources(CLUSTER, "AWS::IAM::Role") if k.startswith("ClusterKubectlProviderHandlerServiceRole")
    ]


def test_configured_admins_and_policy(public_bastion_app):
    entries = public_bastion_app.resources("Seed/Cluster", "AWS::EKS::AccessEntry").values()
    literal = {e["Properties"]["PrincipalArn"]: policy_name(e) for e in entries if isinstance(e["Properties"]["PrincipalArn"], str)}
    assert literal == {
        ADMIN: ["AmazonEKSAdminPolicy"],
        "arn:aws:iam::123456789012:user/breakglass": ["AmazonEKSAdminPolicy"],
    }
    bastion = [e for e in entries if "OperationsBastionRole" in json.dumps(e["Properties"]["PrincipalArn"])]
    assert [policy_name(e) for e in bastion] == [["AmazonEKSAdminPolicy"]]


def test_bastion_and_logging_can_be_turned_off(bare_platform_app):
    kinds = {r["Type"] for r in bare_platform_app.resources("Bare").values()}
    assert not kinds & {"AWS::EC2::Instance", "AWS::EC2::VPCEndpoint"}
    groups = [r["Properties"].get("LogGroupName", "") for r in bare_platform_app.resources("Bare", "AWS::Logs::LogGroup").values()]
    assert not [name for name in groups if name.endswith("/fargate")]
    assert "aws-observability" not in json.dumps(bare_platform_app.template("Bare"))
    assert "AWS::IAM::OIDCProvider" in kinds  # IRSA stays available


def join(*parts):
    return {"Fn::Join": ["", list(parts)]}


def test_outputs_give_the_exact_commands(default_app):
    outputs = default_app.template(CLUSTER)["Outputs"]
    (cluster_id,) = default_app.resources(CLUSTER, "AWS::EKS::Cluster")
    instance_id, _ = find_one(default_app.resources(CLUSTER), lambda r: r["Type"] == "AWS::EC2::Instance")
    region = {"Ref": "AWS::Region"}
    assert outputs["BastionSessionCommand"]["Value"] == join(
        "aws ssm start-session --region ", region, " --target ", {"Ref": instance_id}
    )
    assert outputs["UpdateKubeconfigCommand"]["Value"] == join(
        "aws eks update-kubeconfig --region ", region, " --name ", {"Ref": cluster_id}
    )
    assert outputs["VerifyCommand"]["Value"] == "private-eks-verify --namespace custom-space --deployment sample-app --replicas 3"
    assert outputs["BastionInstanceId"]["Value"] == {"Ref": instance_id}
    group_id, _ = fargate_log_group(default_app, CLUSTER)
    assert outputs["FargateLogGroup"]["Value"] == {"Ref": group_id}
    (provider_id,) = default_app.resources(CLUSTER, "AWS::IAM::OIDCProvider")
    assert outputs["OidcProviderArn"]["Value"] == {"Ref": provider_id}


def test_verify_command_output_runs_the_shipped_cli_with_valid_options(default_app):
    """The output is the console script's name with options the real argument parser accepts and uses."""
    import contextlib
    import io
    import tomllib

    from private_eks_fargate.bastion_tools import verify

    from conftest import ROOT

    command, *args = default_app.template(CLUSTER)["Outputs"]["VerifyCommand"]["Value"].split()
    assert command in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    calls = []

    def kubectl(argv, stdin):
        calls.append(list(argv))
        raise verify.KubectlError("offline")

    with contextlib.redirect_stdout(io.StringIO()):
        assert verify.main(args, kubectl=kubectl, resolve=lambda host: []) == 1
    assert ["get", "deployment", "sample-app", "-n", "custom-space", "-o", "json"] in calls


@pytest.fixture(scope="module")
def verify_variants(tmp_path_factory) -> dict[str, str]:
    """The VerifyCommand output of the app with the sample app in namespace `shop`, and without the sample app
    (its Fargate profiles: a labelled one first, then a whole namespace), synthesized as the stage (packs off)."""
    from conftest import stage_builder

    variants = {
        "shop": {"workloads.sample_namespace": "shop"},
        "no-sample-app": {
            "workloads.sample_app": "false",
            "cluster.app_profiles": '[{"namespace": "payments", "labels": {"app": "ledger"}}, {"namespace": "batch"}]',
        },
    }
    commands = {}
    for name, context in variants.items():
        synth = synthesize(tmp_path_factory.mktemp(name), stage_builder(context, compliance_checks=False), context)
        commands[name] = synth.template(CLUSTER)["Outputs"]["VerifyCommand"]["Value"]
    return commands


def test_verify_command_names_the_sample_apps_namespace(verify_variants):
    assert verify_variants["shop"] == "private-eks-verify --namespace shop --deployment sample-app --replicas 3"


def test_without_the_sample_app_the_verify_command_checks_the_platform_only(verify_variants):
    assert verify_variants["no-sample-app"] == "private-eks-verify --namespace batch"


@pytest.mark.parametrize(
    "profiles, arguments",
    [
        ((FargateProfileSpec(namespace="a", labels={"x": "1", "w": "2"}),), "--namespace a --probe-labels w=2,x=1"),
        ((FargateProfileSpec(namespace="a", labels={"x": "1"}), FargateProfileSpec(namespace="b")), "--namespace b"),
        ((), "--no-probe"),
    ],
)
def test_platform_only_target_puts_the_probe_where_a_profile_selects_it(profiles, arguments):
    from private_eks_fargate import ClusterSettings, VerifyTarget

    target = VerifyTarget.platform_only(ClusterSettings(app_profiles=profiles))
    assert target.deployment is None
    assert target.arguments == arguments


def test_every_verify_argument_form_is_accepted_by_the_shipped_cli():
    from private_eks_fargate.bastion_tools import verify

    for arguments in ("--namespace a --probe-labels w=2,x=1", "--namespace b", "--no-probe",
                      "--namespace shop --deployment sample-app --replicas 3"):
        calls = []

        def kubectl(argv, stdin):
            calls.append(list(argv))
            raise verify.KubectlError("offline")

        import contextlib
        import io

        with contextlib.redirect_stdout(io.StringIO()) as out:
            assert verify.main(arguments.split(), kubectl=kubectl, resolve=lambda host: []) == 1
        lines = out.getvalue().splitlines()
        assert lines, arguments
        assert any(line.startswith("FAIL deployment") for line in lines) == ("--deployment" in arguments)
        assert any("no-internet-images" in line for line in lines) == ("--no-probe" not in arguments)


@pytest.mark.parametrize(
    ("operations", "setting"),
    [
        (OperationsSettings(bastion_instance_type="m7g.large"), "operations.bastion_instance_type"),
        (OperationsSettings(log_extra_filters="[FILTER]\n" + "#" * MAX_CONFIG_CHARS), "operations.log_extra_filters"),
    ],
)
def test_cluster_operations_checks_everything_before_defining_anything(operations, setting):
    from types import SimpleNamespace

    from private_eks_fargate import ClusterOperations, ClusterSettings
    from private_eks_fargate.settings.versions import RELEASES

    stack = cdk.Stack(cdk.App(), "Probe")
    cluster = SimpleNamespace(settings=ClusterSettings(), release=RELEASES["1.36"], cluster_name="probe")
    with pytest.raises(ConfigError) as error:
        ClusterOperations(stack, "Operations", cluster=cluster, network=None, settings=operations)
    assert str(error.value).startswith(f"{setting}: ")
    assert stack.node.children == []
