"""The app's settings from cdk.json / -c: parsing, and the one-line error a user sees from `cdk synth`."""

from __future__ import annotations

import json
import sys

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
    assert len(SECTIONS) == 9
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
        "network.zones_by_name": "true",
        "endpoints.create": "false", "endpoints.extra_services": "kms", "endpoints.single_zone": "true",
        "cluster.kubernetes_version": "1.35", "cluster.deployed_kubernetes_version": "1.34", "cluster.name": "x",
        "cluster.deployed_name": "y", "cluster.replace_deployed_cluster": "true", "cluster.support_type": "EXTENDED",
        "cluster.app_profiles": '[{"namespace": "n"}]',
        "cluster.coredns_ready_timeout_minutes": "5", "cluster.pod_security_levels": '{"n": "baseline"}',
        "compliance.log_retention_days": "90", "compliance.tags": '{"a": "b"}', "compliance.required_tags": "a",
        "compliance.production": "true", "compliance.strict_data_perimeter": "true",
        "operations.bastion": "false", "operations.bastion_subnet": "public", "operations.bastion_instance_type": "t3.small",
            "operations.bastion_ami": "ami-0123456789abcdef0",
        "operations.admin_access_policy": "AmazonEKSViewPolicy", "operations.admin_principal_arns": "arn:x",
        "operations.fargate_logging": "false", "operations.log_kms_key_arn": "arn:k", "operations.log_extra_filters": "f",
        "operations.log_parsers": "p", "operations.session_manager_preferences": '{"kmsKeyId": "mrk-0123456789abcdef0123456789abcdef"}',
        "workloads.sample_app": "false", "workloads.sample_namespace": "shop", "workloads.sample_image": "i:1",
        "workloads.sample_repository": "r/s", "workloads.ready_timeout_minutes": "4", "workloads.allowed_registries": "h.x",
    }
    settings = settings_from_context(context)
    defaults = PlatformSettings()
    platform_keys = [k for k in ALL_KEYS if not k.startswith(("app.", "network.existing_", "pipeline."))]
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
        ({"netwrok.az_count": "3"}, "netwrok.az_count: unknown section 'netwrok'; did you mean network? (sections: app, cluster, compliance, endpoints, network, operations, pipeline, workloads)"),
        ({"cluster.zzz": "x"}, "cluster.zzz: unknown setting; see `make help` or docs/configuration.md for the cluster.* keys"),
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
               "aws:cdk:enable-path-metadata": True, "acknowledged-issue-numbers": [32775]}
    assert settings_from_context(context) == PlatformSettings()


@pytest.mark.parametrize(
    "context, message",
    [
        ({"az_count": "3"}, "az_count: unknown key; did you mean network.az_count? (every setting is section.name)"),
        ({"cluster_name": "x"}, "cluster_name: unknown key; did you mean cluster.name? (every setting is section.name)"),
        ({"network": {"az_count": 3}}, 'network: a section is not a key: write each setting in full, e.g. "network.az_count": 3'),
        ({"compliance": {"tags": {"owner": "a"}}},
         'compliance: a section is not a key: write each setting in full, e.g. "compliance.tags": {"owner": "a"}'),
    ],
)
def test_a_key_without_its_section_is_an_error_that_says_what_to_write(context, message):
    with pytest.raises(ConfigError) as error:
        settings_from_context(context)
    assert str(error.value) == message


@pytest.mark.parametrize(
    "context, message",
    [
        ({"cluster.kubernetes_version": 1.36},
         'cluster.kubernetes_version: 1.36 is a JSON number; write the version as a string, "1.36" (as a number, 1.30 reads 1.3)'),
        ({"cluster.deployed_kubernetes_version": 1.35},
         'cluster.deployed_kubernetes_version: 1.35 is a JSON number; write the version as a string, "1.35" (as a number, '
         '1.30 reads 1.3)'),
        ({"cluster.pod_security_levels": "{custom-space: baseline}"},
         "cluster.pod_security_levels: '{custom-space: baseline}' is not valid JSON; give an object such as "
         '{"legacy-app": "baseline"}'),
        ({"cluster.pod_security_levels": '["custom-space"]'},
         "cluster.pod_security_levels: ['custom-space'] is not allowed; give a JSON object such as {\"legacy-app\": \"baseline\"}"),
        ({"compliance.tags": "{owner: a}"}, "compliance.tags: '{owner: a}' is not valid JSON; give an object such as {\"owner\": \"team-a\"}"),
        ({"cluster.app_profiles": "[{namespace: a}]"},
         "cluster.app_profiles: '[{namespace: a}]' is not valid JSON; give a list such as "
         '[{"namespace": "custom-space", "labels": {"app": "web"}}]'),
        ({"app.environments": "{Test: {}}"},
         "app.environments: '{Test: {}}' is not valid JSON; give an object such as "
         '{"Test": {"app.account": "111111111111", "app.region": "eu-west-1"}, "Prod": {…}}'),
    ],
)
def test_each_json_setting_shows_its_own_example_and_a_version_number_the_string_hint(context, message):
    with pytest.raises(ConfigError) as error:
        settings_from_context(context)
        environments_from_context(context)
    assert str(error.value) == message


@background_job
def app_with_a_section_object_in_cdk_json():
    return run_app({"network": {"az_count": 3}})


@pytest.mark.background
def test_a_section_object_in_cdk_json_stops_the_app_with_one_line():
    result = app_with_a_section_object_in_cdk_json.result()
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        'error: network: a section is not a key: write each setting in full, e.g. "network.az_count": 3']


@background_job
def app_with_bad_settings():
    return run_app({"network.az_count": "1"})


@pytest.mark.background
def test_app_prints_one_line_and_exits_1_on_bad_settings():
    result = app_with_bad_settings.result()
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["error: network.az_count: 1 is not allowed; use a whole number from 2 to 6"]
    assert "Traceback" not in result.stderr


@background_job
def app_with_a_bad_environment():
    return run_app({"app.environments": {"Test": {}, "Prod": {"network.az_count": 1}}})


@pytest.mark.background
def test_a_setting_an_environment_gets_wrong_is_one_line_naming_the_environment():
    result = app_with_a_bad_environment.result()
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: environment Prod: network.az_count: 1 is not allowed; use a whole number from 2 to 6"]


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


# --- named environments ---------------------------------------------------------------------------------------------

from private_eks_fargate.app.context import (  # noqa: E402
    NamedEnvironment,
    command_line_keys,
    environments_from_context,
    failed_lookups,
)

TWO_ENVIRONMENTS = {
    "Test": {"app.account": "111111111111", "app.region": "eu-west-1", "network.az_count": 3,
             "network.availability_zones": "eu-west-1a,eu-west-1b,eu-west-1c"},
    "Prod": {"app.account": "222222222222", "app.region": "eu-central-1", "compliance.production": True},
}
SHARED = {"workloads.sample_app": False, "compliance.log_retention_days": 90, "app.environments": TWO_ENVIRONMENTS}


def test_each_environment_is_a_stage_of_shared_and_own_settings():
    test, prod = environments_from_context(SHARED)
    assert (test.name, prod.name) == ("Test", "Prod") and test.declared and prod.declared
    assert stage_from_context(prod.context)[0] == "Prod"
    env = stage_from_context(prod.context)[1]
    assert (env.account, env.region) == ("222222222222", "eu-central-1")
    test_settings, prod_settings = settings_from_context(test.context), settings_from_context(prod.context)
    assert test_settings.network.az_count == 3 and prod_settings.network.az_count == 2
    assert (test_settings.compliance.production, prod_settings.compliance.production) == (False, True)
    assert test_settings.compliance.log_retention_days == prod_settings.compliance.log_retention_days == 90  # shared
    assert prod_settings.workloads.sample_app is False


def test_the_command_line_wins_over_an_environments_own_setting():
    context = SHARED | {"network.az_count": "4", "network.availability_zones": "eu-west-1a,eu-west-1b,eu-west-1c,eu-west-1d"}
    test, prod = environments_from_context(context, command_line={"network.az_count", "network.availability_zones"})
    assert settings_from_context(test.context).network.az_count == 4
    assert settings_from_context(prod.context).network.az_count == 4
    # not on the command line (the value is cdk.json's): the environment's own wins
    test, _ = environments_from_context(context)
    assert settings_from_context(test.context).network.az_count == 3


def test_command_line_keys_are_those_whose_value_is_not_cdk_json_s(tmp_path):
    project = tmp_path / "cdk.json"
    project.write_text(json.dumps({"app": "x", "context": {"network.az_count": 3, "compliance.tags": {"a": "b"}}}))
    context = {"network.az_count": "3", "compliance.tags": {"a": "b"}, "cluster.name": "x"}
    assert command_line_keys(context, project) == {"network.az_count", "cluster.name"}
    assert command_line_keys(context, tmp_path / "absent.json") == set(context)


def test_one_environment_is_chosen_by_name_in_any_case():
    assert [e.name for e in environments_from_context(SHARED | {"app.environment": "prod"})] == ["Prod"]
    assert [e.name for e in environments_from_context(SHARED | {"app.environment": "Test"})] == ["Test"]
    assert environments_from_context({"app.environment": "dev"}) == [NamedEnvironment("Dev", {"app.environment": "dev"})]


def test_without_environments_the_app_builds_the_one_agnostic_dev_stage():
    (only,) = environments_from_context(CDK_JSON_CONTEXT)
    assert (only.name, only.declared) == ("Dev", False)
    assert stage_from_context(only.context) == ("Dev", None)


@pytest.mark.parametrize(
    "context, message",
    [
        (SHARED | {"app.environment": "prdo"},
         "app.environment: 'prdo' is not an environment of this app; did you mean Prod? (environments: Test, Prod)"),
        ({"app.environment": "prod"}, "app.environment: 'prod' is not an environment of this app (environments: Dev)"),
        ({"app.environments": {"Prod": {"netwrok.az_count": 3}}},
         "app.environments.Prod.netwrok.az_count: unknown section 'netwrok'; did you mean network? (sections: app, cluster, compliance, endpoints, network, operations, pipeline, workloads)"),
        ({"app.environments": {"Prod": {"network.azcount": 3}}},
         "app.environments.Prod.network.azcount: unknown setting; did you mean network.az_count?"),
        ({"app.environments": {"Prod": {"network.az_count": "three"}}},
         "app.environments.Prod.network.az_count: 'three' is not allowed; give a whole number"),
        ({"app.environments": {"Prod": {"app.stage": "P"}}},
         "app.environments.Prod.app.stage: not allowed inside an environment; its name, Prod, is its stage"),
        ({"app.environments": {"prod": {}, "Prod": {}}},
         "app.environments: ['prod', 'Prod'] has names that differ only in case; ENV=… could not tell them apart"),
        ({"app.environments": {"2prod": {}}},
         "app.environments.2prod: '2prod' is not a valid stage name (1-64 letters, digits or '-', starting with a letter;"),
        ({"app.environments": {"Prod": "eu-west-1"}},
         "app.environments.Prod: 'eu-west-1' is not allowed; give an object of setting keys to values"),
        ({"app.environments": "[1]"}, "app.environments: [1] is not allowed; give an object of environment names to settings"),
        ({"app.environments": {"Prod": {}}, "app.stage": "Dev"},
         "app.stage: not used with app.environments (each environment's name is its stage); remove one of them"),
    ],
)
def test_bad_environments_fail_with_one_line(context, message):
    with pytest.raises(ConfigError) as error:
        environments_from_context(context)
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "context, message",
    [
        ({"app.account": "111122223333", "app.region": "eu-west1"}, "app.region: 'eu-west1' is not an AWS region name (e.g. eu-west-1)"),
        ({"app.stage": "dev stage"}, "app.stage: 'dev stage' is not a valid stage name"),
    ],
)
def test_bad_stage_and_region_fail_with_one_line(context, message):
    with pytest.raises(ConfigError) as error:
        stage_from_context(context)
    assert str(error.value).startswith(message)


def test_a_lookup_the_cli_could_not_make_stops_synth_with_one_line():
    key = "availability-zones:account=111122223333:region=eu-west-1"
    reason = "Need to perform AWS calls for account 111122223333, but no credentials have been configured"
    failed_lookups({"network.az_count": 3, key: ["eu-west-1a"]})  # a cached lookup is fine
    with pytest.raises(ConfigError) as error:
        failed_lookups({key: {"$providerError": reason, "$dontSaveContext": True}})
    assert str(error.value) == (
        f"{key}: lookup failed ({reason}); give AWS credentials for that account, set network.availability_zones, "
        "or commit a cdk.context.json that holds this key (written by a synth with credentials)"
    )


def test_the_docs_environments_example_is_valid_configuration():
    from conftest import ROOT

    sys.path.insert(0, str(ROOT / "scripts"))
    import doc_pages  # noqa: PLC0415  scripts/doc_pages.py

    context = doc_pages.configuration_example()
    test, prod = environments_from_context(context)
    for env in (test, prod):
        settings_from_context(env.context).validate()
    assert stage_from_context(prod.context)[1].account == "222222222222"
    assert settings_from_context(prod.context).network.az_count == 3


def test_a_failed_ami_lookup_names_the_setting_that_pins_the_ami():
    key = "ssm:account=111122223333:parameterName=/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-x86_64:region=eu-west-1"
    with pytest.raises(ConfigError) as error:
        failed_lookups({key: {"$providerError": "Need to perform AWS calls", "$dontSaveContext": True}})
    assert str(error.value) == (
        f"{key}: lookup failed (Need to perform AWS calls); give AWS credentials for that account, set "
        "operations.bastion_ami, or commit a cdk.context.json that holds this key (written by a synth with credentials)"
    )
