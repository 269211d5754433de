"""The app's settings from cdk.json / -c: parsing, and the one-line error a user sees from `cdk synth`."""

import json

import pytest

from private_eks_fargate import ConfigError, settings_from_context, stage_from_context
from private_eks_fargate.context import SETTINGS

from conftest import CDK_JSON_CONTEXT, ROOT, run_app


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
    from private_eks_fargate import PlatformSettings

    assert settings_from_context({}) == PlatformSettings()
    assert stage_from_context({}) == ("Dev", None)


@pytest.mark.parametrize(
    "context, message",
    [
        ({"network.azcount": "3"}, "network.azcount: unknown setting; known settings: app.stage, app.account"),
        ({"network.az_count": "two"}, "network.az_count: 'two' is not allowed; give a whole number"),
        ({"endpoints.create": "yes"}, "endpoints.create: 'yes' is not allowed; give true or false"),
        ({"cluster.app_profiles": "[{"}, "cluster.app_profiles: '[{' is not valid JSON; give a list such as"),
        ({"cluster.app_profiles": '[{"ns": "x"}]'}, "cluster.app_profiles[0]: {'ns': 'x'} is not allowed; give an object with 'namespace'"),
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


def test_app_prints_one_line_and_exits_1_on_bad_settings():
    result = run_app({"network.az_count": "1"})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["error: network.az_count: 1 is not allowed; use a whole number from 2 to 6"]
    assert "Traceback" not in result.stderr


def test_cdk_json_uses_only_known_platform_keys():
    platform_keys = [k for k in CDK_JSON_CONTEXT if not k.startswith("@")]
    assert platform_keys and all(k in SETTINGS for k in platform_keys)


def test_readme_configuration_table_lists_every_setting():
    readme = (ROOT / "README.md").read_text()
    for key in SETTINGS:
        assert f"`{key}`" in readme, key
