"""Operator access and observability: access entries, Fargate logging, OIDC provider and IRSA, outputs, settings."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam

from private_eks_fargate import (
    FargateProfileSpec,
    ConfigError,
    EndpointSettings,
    ExistingVpcSettings,
    NetworkSettings,
    OperationsSettings,
    PlatformSettings,
    settings_from_context,
)
from private_eks_fargate.blocks.endpoints import BASTION, DEFAULT_FEATURES, LOGGING, platform_features
from private_eks_fargate.blocks.fargate_logging import (
    MAX_CONFIG_CHARS,
    FargateLogging,
    check_logging_config,
    logging_config,
)
from private_eks_fargate.blocks.irsa import irsa_service_account

from conftest import EXISTING_VPC, PUBLIC_BASTION_CONTEXT, find_one, synthesize
from private_eks_fargate.blocks.image_guard import render

CLUSTER = "Dev/Cluster"
ADMIN = "arn:aws:iam::123456789012:role/PlatformAdmins"
LOG_KEY = PUBLIC_BASTION_CONTEXT["operations.log_kms_key_arn"]


def policy_name(entry: dict) -> list[str]:
    return [p["PolicyArn"]["Fn::Join"][1][-1].split("/")[-1] for p in entry["Properties"]["AccessPolicies"]]


def cluster_name(synth, stack=CLUSTER) -> str:
    (cluster,) = synth.resources(stack, "AWS::EKS::Cluster").values()
    return cluster["Properties"]["Name"]


def fargate_log_group(synth, stack) -> tuple[str, dict]:
    """The Fargate container log group (the stack also owns the control-plane log group)."""
    return find_one(
        synth.resources(stack, "AWS::Logs::LogGroup"), lambda g: g["Properties"].get("LogGroupName", "").endswith("/fargate")
    )


def manifest(synth, stack, kind, name) -> tuple[str, dict]:
    found = []
    for key, resource in synth.resources(stack, "Custom::AWSCDK-EKS-KubernetesResource").items():
        for document in json.loads(render(resource["Properties"]["Manifest"])):
            if (document["kind"], document["metadata"]["name"]) == (kind, name):
                found.append((key, document))
    (only,) = found
    return only


# --- access entries -------------------------------------------------------------------------------------------


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


# --- Fargate logging -------------------------------------------------------------------------------------------


def test_observability_namespace_and_logging_config_map(default_app):
    _, namespace = manifest(default_app, CLUSTER, "Namespace", "aws-observability")
    assert namespace["metadata"]["labels"]["aws-observability"] == "enabled"
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
    (patch,) = default_app.resources(CLUSTER, "Custom::AWSCDK-EKS-KubernetesPatch").values()
    assert key in patch["DependsOn"]


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
    assert [d for d in descriptions if "log" in d.lower()] == [
        "Encryption of the platform's CloudWatch Logs log groups (VPC flow logs, EKS control plane)"
    ]


def test_bastion_and_logging_can_be_turned_off(bare_platform_app):
    kinds = {r["Type"] for r in bare_platform_app.resources("Bare").values()}
    assert not kinds & {"AWS::EC2::Instance", "AWS::EC2::VPCEndpoint"}
    groups = [r["Properties"].get("LogGroupName", "") for r in bare_platform_app.resources("Bare", "AWS::Logs::LogGroup").values()]
    assert not [name for name in groups if name.endswith("/fargate")]
    assert "aws-observability" not in json.dumps(bare_platform_app.template("Bare"))
    assert "AWS::IAM::OIDCProvider" in kinds  # IRSA stays available


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


# --- OIDC provider and IRSA ------------------------------------------------------------------------------------


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


# --- outputs ---------------------------------------------------------------------------------------------------


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

    from conftest import ROOT
    from private_eks_fargate.bastion_tools import verify

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
    from conftest import stage_builder, synthesize

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


# --- settings --------------------------------------------------------------------------------------------------


def test_features_follow_the_settings():
    assert platform_features(PlatformSettings()) == DEFAULT_FEATURES | {BASTION}
    public = PlatformSettings(operations=OperationsSettings(bastion_subnet="public"))
    assert platform_features(public) == DEFAULT_FEATURES
    bare = PlatformSettings(operations=OperationsSettings(bastion=False, fargate_logging=False))
    assert platform_features(bare) == DEFAULT_FEATURES - {LOGGING}


def test_context_keys_reach_the_settings():
    settings = settings_from_context(PUBLIC_BASTION_CONTEXT | {"operations.bastion": "false", "operations.fargate_logging": False})
    assert settings.operations == OperationsSettings(
        bastion=False,
        bastion_subnet="public",
        admin_access_policy="AmazonEKSAdminPolicy",
        admin_principal_arns=(ADMIN, "arn:aws:iam::123456789012:user/breakglass"),
        fargate_logging=False,
        log_kms_key_arn=LOG_KEY,
    )
    assert settings.compliance.log_retention_days == 90


@pytest.mark.parametrize(
    ("operations", "message"),
    [
        ({"bastion_subnet": "private"}, "operations.bastion_subnet: 'private' is not allowed; use isolated or public"),
        ({"bastion_instance_type": "t3micro"},
         "operations.bastion_instance_type: 't3micro' is not an EC2 instance type (e.g. t3.micro)"),
        ({"admin_access_policy": "AdministratorAccess"},
         "operations.admin_access_policy: 'AdministratorAccess' is not allowed; use one of AmazonEKSClusterAdminPolicy, "
         "AmazonEKSAdminPolicy, AmazonEKSEditPolicy, AmazonEKSViewPolicy, AmazonEKSAdminViewPolicy"),
        ({"admin_principal_arns": ("arn:aws:iam::123456789012:group/admins",)},
         "operations.admin_principal_arns: 'arn:aws:iam::123456789012:group/admins' is not an IAM role or user ARN "
         "(arn:aws:iam::123456789012:role/NAME)"),
        ({"admin_principal_arns": (ADMIN, ADMIN)},
         f"operations.admin_principal_arns: ['{ADMIN}', '{ADMIN}'] lists a principal more than once"),
        ({"log_kms_key_arn": "alias/logs"},
         "operations.log_kms_key_arn: 'alias/logs' is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)"),
    ],
)
def test_bad_operations_settings_are_one_line_errors(operations, message):
    with pytest.raises(ConfigError) as error:
        PlatformSettings(operations=OperationsSettings(**operations)).validate()
    assert str(error.value) == message


def test_public_bastion_needs_a_new_vpc():
    settings = PlatformSettings(
        network=NetworkSettings(existing_vpc=EXISTING_VPC),
        operations=OperationsSettings(bastion_subnet="public"),
    )
    with pytest.raises(ConfigError) as error:
        settings.validate()
    assert str(error.value) == (
        "operations.bastion_subnet: 'public' needs a new VPC (the bastion's public subnet is created with it); "
        "with an existing VPC use 'isolated'"
    )
    from private_eks_fargate import PrivateNetwork

    stack = cdk.Stack(cdk.App(), "Probe")
    with pytest.raises(ConfigError) as construct_error:
        PrivateNetwork(stack, "Network", settings=settings.network, public_bastion_subnet=True)
    assert str(construct_error.value) == str(error.value)
    assert stack.node.children == []
    # with the bastion off the placement does not matter
    PlatformSettings(
        network=NetworkSettings(existing_vpc=EXISTING_VPC),
        operations=OperationsSettings(bastion=False, bastion_subnet="public"),
    ).validate()


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"operations.bastion": "yes"}, "operations.bastion: 'yes' is not allowed; give true or false"),
        ({"compliance.log_retention_days": "a year"}, "compliance.log_retention_days: 'a year' is not allowed; give a whole number"),
        ({"operations.bastoin": "true"}, "operations.bastoin: unknown setting; did you mean operations.bastion?"),
    ],
)
def test_bad_context_values(context, message):
    with pytest.raises(ConfigError) as error:
        settings_from_context(context)
    assert str(error.value).startswith(message)



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
