"""The app's settings from cdk.json / -c: parsing, and the one-line error a user sees from `cdk synth`."""

from __future__ import annotations

import json

import pytest
from private_eks_fargate import (
    ConfigError,
    OperationsSettings,
    PlatformSettings,
    settings_from_context,
    stage_from_context,
)
from private_eks_fargate.settings import SECTIONS
from private_eks_fargate.settings.catalog import declared

from conftest import ADMIN, CDK_JSON_CONTEXT, LOG_KEY, PUBLIC_BASTION_CONTEXT, background_job, run_app

ALL_KEYS = [spec.key for _, cls in SECTIONS for _, spec in declared(cls)]


def test_every_section_declares_settings():
    assert len(SECTIONS) == 8
    for _, cls in SECTIONS:
        assert list(declared(cls)), cls


def test_cli_strings_and_json_types_parse_the_same():
    as_strings = settings_from_context({
        "network.az_count": "3",
        "network.availability_zones": "eu-west-1a, eu-west-1b,eu-west-1c",
        "endpoints.create": "true",
        "cluster.app_profiles": '[{"namespace": "web", "labels": {"app": "x"}}]',
    })
    as_json = settings_from_context({
        "network.az_count": 3,
        "network.availability_zones": ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
        "endpoints.create": True,
        "cluster.app_profiles": [{"namespace": "web", "labels": {"app": "x"}}],
    })
    assert as_strings == as_json
    assert as_json.network.az_count == 3
    assert as_json.cluster.app_profiles[0].labels == {"app": "x"}


def test_absent_keys_keep_the_dataclass_defaults():
    assert settings_from_context({}) == PlatformSettings()
    assert stage_from_context({}) == ("Dev", None)


def test_every_declared_key_reaches_its_field():
    """A value given under each key arrives in the settings (no key is parsed and then dropped)."""
    context = {
        "network.vpc_cidr": "10.9.0.0/16", "network.az_count": "3", "network.availability_zones": "a1,b1,c1",
        "endpoints.create": "false", "endpoints.extra_services": "kms", "endpoints.single_zone": "true",
        "cluster.kubernetes_version": "1.35", "cluster.deployed_kubernetes_version": "1.34", "cluster.name": "x",
        "cluster.app_profiles": '[{"namespace": "n"}]',
        "cluster.coredns_ready_timeout_minutes": "5", "cluster.pod_security_levels": '{"n": "baseline"}',
        "compliance.log_retention_days": "90", "compliance.tags": '{"a": "b"}', "compliance.required_tags": "a",
        "compliance.production": "true", "compliance.strict_data_perimeter": "true",
        "operations.bastion": "false", "operations.bastion_subnet": "public", "operations.bastion_instance_type": "t3.small",
            "operations.bastion_ami": "ami-0123456789abcdef0",
        "operations.admin_access_policy": "AmazonEKSViewPolicy", "operations.admin_principal_arns": "arn:x",
        "operations.fargate_logging": "false", "operations.log_kms_key_arn": "arn:k", "operations.log_extra_filters": "f",
        "operations.log_parsers": "p",
        "workloads.sample_app": "false", "workloads.sample_namespace": "shop", "workloads.sample_image": "i:1",
        "workloads.sample_repository": "r/s", "workloads.ready_timeout_minutes": "4", "workloads.allowed_registries": "h.x",
    }
    settings = settings_from_context(context)
    defaults = PlatformSettings()
    platform_keys = [k for k in ALL_KEYS if not k.startswith(("app.", "network.existing_"))]
    assert sorted(context) == sorted(platform_keys)
    assert SECTIONS
    for _, cls in SECTIONS:
        section = {"NetworkSettings": "network", "EndpointSettings": "endpoints", "ClusterSettings": "cluster",
                   "ComplianceSettings": "compliance", "OperationsSettings": "operations",
                   "WorkloadSettings": "workloads"}.get(cls.__name__)
        if section is None:
            continue
        fields = list(declared(cls))
        assert fields
        for field, spec in fields:
            assert getattr(getattr(settings, section), field.name) != getattr(getattr(defaults, section), field.name), spec.key


def test_existing_vpc_keys_build_the_existing_vpc():
    settings = settings_from_context({
        "network.existing_vpc_id": "vpc-0a1b2c3d4e5f60718", "network.existing_vpc_cidr": "10.20.0.0/16",
        "network.existing_subnet_ids": "subnet-0aaaaaaaaaaaaaaa1,subnet-0bbbbbbbbbbbbbbb2",
        "network.existing_availability_zones": "eu-west-1a,eu-west-1b",
        "network.existing_route_table_ids": "rtb-0aaaaaaaaaaaaaaa1,rtb-0bbbbbbbbbbbbbbb2",
    })
    assert settings.network.existing_vpc.vpc_id == "vpc-0a1b2c3d4e5f60718"
    assert settings.network.existing_vpc.route_table_ids == ("rtb-0aaaaaaaaaaaaaaa1", "rtb-0bbbbbbbbbbbbbbb2")


@pytest.mark.parametrize(
    "context, message",
    [
        ({"network.azcount": "3"}, "network.azcount: unknown setting; did you mean network.az_count?"),
        ({"netwrok.az_count": "3"}, "netwrok.az_count: unknown section 'netwrok'; did you mean network? (sections: app, cluster, compliance, endpoints, network, operations, workloads)"),
        ({"cluster.zzz": "x"}, "cluster.zzz: unknown setting; see `make help` or the README for the cluster.* keys"),
        ({"network.az_count": "two"}, "network.az_count: 'two' is not allowed; give a whole number"),
        ({"endpoints.create": "yes"}, "endpoints.create: 'yes' is not allowed; give true or false"),
        ({"cluster.app_profiles": "[{"}, "cluster.app_profiles: '[{' is not valid JSON; give a list such as"),
        ({"cluster.app_profiles": '[{"ns": "x"}]'}, "cluster.app_profiles[0]: {'ns': 'x'} is not allowed; give an object with 'namespace' and optional 'labels'"),
        ({"network.existing_vpc_id": "vpc-0a1b2c3d4e5f60718"}, "network.existing_vpc_cidr: required when any network.existing_* setting is given"),
        ({"app.account": "123"}, "app.region: give app.account and app.region together"),
        ({"app.account": "123", "app.region": "eu-west-1"}, "app.account: '123' is not a 12-digit AWS account id"),
    ],
)
def test_bad_context_values(context, message):
    with pytest.raises(ConfigError) as error:
        stage_from_context(context)
        settings_from_context(context)
    assert str(error.value).startswith(message)


@pytest.mark.parametrize(
    "context, message",
    [
        ({"cluster.name": "-bad"}, "cluster.name: '-bad' is not a valid EKS cluster name"),
        ({"network.existing_vpc_id": "vpc-0a1b2c3d4e5f60718", "network.existing_vpc_cidr": "10.20.0.0/16",
          "network.existing_subnet_ids": "subnet-0aaaaaaaaaaaaaaa1,subnet-0bbbbbbbbbbbbbbb2",
          "network.existing_availability_zones": "eu-west-1a,eu-west-1b"},
         "network.existing_route_table_ids: required while endpoints.create is true"),
        ({"cluster.kubernetes_version": "1.30"}, "cluster.kubernetes_version: '1.30' is past EKS extended support"),
    ],
)
def test_validation_errors_name_the_key_as_typed(context, message):
    with pytest.raises(ConfigError) as error:
        settings_from_context(context).validate()
    assert str(error.value).startswith(message)


def test_cdk_context_keys_of_other_tools_are_left_alone():
    context = {"@aws-cdk/core:checkSecretUsage": True, "availability-zones:account=1:region=eu-west-1": ["a"],
               "aws:cdk:enable-path-metadata": True}
    assert settings_from_context(context) == PlatformSettings()


@background_job
def app_with_bad_settings():
    return run_app({"network.az_count": "1"})


@pytest.mark.background
def test_app_prints_one_line_and_exits_1_on_bad_settings():
    result = app_with_bad_settings.result()
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["error: network.az_count: 1 is not allowed; use a whole number from 2 to 6"]
    assert "Traceback" not in result.stderr


def test_cdk_json_uses_only_known_platform_keys():
    platform_keys = [k for k in CDK_JSON_CONTEXT if not k.startswith("@")]
    assert platform_keys
    assert all(k in ALL_KEYS for k in platform_keys)
    settings_from_context(CDK_JSON_CONTEXT).validate()
    assert json.loads(json.dumps(CDK_JSON_CONTEXT)) == CDK_JSON_CONTEXT


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
    ("context", "message"),
    [
        ({"operations.bastion": "yes"}, "operations.bastion: 'yes' is not allowed; give true or false"),
        ({"compliance.log_retention_days": "a year"}, "compliance.log_retention_days: 'a year' is not allowed; give a whole number"),
        ({"operations.bastoin": "true"}, "operations.bastoin: unknown setting; did you mean operations.bastion?"),
    ],
)
def test_bad_operations_context_values(context, message):
    with pytest.raises(ConfigError) as error:
        settings_from_context(context)
    assert str(error.value).startswith(message)
