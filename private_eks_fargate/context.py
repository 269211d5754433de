"""The app's settings from CDK context (`cdk.json` or `-c key=value`), parsed into PlatformSettings.

Context values from `cdk.json` keep their JSON types; `-c` values arrive as strings, so every parser accepts
both. Defaults are not repeated here: a key that is absent leaves the dataclass default in place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from aws_cdk import Environment

from .config import (
    ClusterSettings,
    ComplianceSettings,
    EndpointSettings,
    ExistingVpcSettings,
    FargateProfileSpec,
    NetworkSettings,
    OperationsSettings,
    PlatformSettings,
    WorkloadSettings,
)
from .errors import ConfigError

SECTIONS = ("app.", "network.", "endpoints.", "cluster.", "workloads.", "operations.", "compliance.")


def _text(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(key, f"{value!r} is not allowed; give a non-empty string")
    return value


def _integer(key: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ConfigError(key, f"{value!r} is not allowed; give a whole number")
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise ConfigError(key, f"{value!r} is not allowed; give a whole number") from None


def _boolean(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return text == "true"
    raise ConfigError(key, f"{value!r} is not allowed; give true or false")


def _json(key: str, value: Any, expected: str) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        raise ConfigError(key, f"{value!r} is not valid JSON; give {expected}") from None


def _optional_text(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(key, f"{value!r} is not allowed; give a string")
    return value


def _strings(key: str, value: Any) -> tuple[str, ...]:
    """A JSON list of strings, or a comma-separated string (handy with -c)."""
    if isinstance(value, str) and not value.strip().startswith("["):
        value = [part.strip() for part in value.split(",") if part.strip()]
    value = _json(key, value, "a list of strings")
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(key, f"{value!r} is not allowed; give a list of strings (JSON, or comma-separated)")
    return tuple(value)


def _profiles(key: str, value: Any) -> tuple[FargateProfileSpec, ...]:
    value = _json(key, value, 'a list such as [{"namespace": "custom-space", "labels": {"app": "web"}}]')
    if not isinstance(value, list):
        raise ConfigError(key, f"{value!r} is not allowed; give a list of {{namespace, labels}} objects")
    profiles = []
    for index, item in enumerate(value):
        if not isinstance(item, dict) or "namespace" not in item or set(item) - {"namespace", "labels"}:
            raise ConfigError(
                f"{key}[{index}]", f"{item!r} is not allowed; give an object with 'namespace' and optional 'labels'"
            )
        profiles.append(FargateProfileSpec(namespace=item["namespace"], labels=item.get("labels") or {}))
    return tuple(profiles)


def _tags(key: str, value: Any) -> dict[str, str]:
    value = _json(key, value, 'an object such as {"owner": "platform-team"}')
    if not isinstance(value, dict):
        raise ConfigError(key, f"{value!r} is not allowed; give a JSON object of tag keys to values")
    return value


@dataclass(frozen=True)
class Setting:
    key: str
    parse: Callable[[str, Any], Any]
    allowed: str


#: Every context key the app reads (the README's configuration table lists the same keys).
SETTINGS: dict[str, Setting] = {
    s.key: s
    for s in (
        Setting("app.stage", _text, "stage name; stacks are STAGE/Network, STAGE/Endpoints, STAGE/Cluster"),
        Setting("app.account", _text, "12-digit AWS account id; with app.region, stacks are bound to it"),
        Setting("app.region", _text, "AWS region, e.g. eu-west-1"),
        Setting("network.vpc_cidr", _text, "private IPv4 CIDR, /16 to /24"),
        Setting("network.az_count", _integer, "2 to 6 (more than 2 needs zone names or an account and region)"),
        Setting("network.availability_zones", _strings, "az_count zone names, e.g. eu-west-1a,eu-west-1b"),
        Setting("network.existing_vpc_id", _text, "vpc-…; use an existing VPC instead of creating one"),
        Setting("network.existing_vpc_cidr", _text, "the existing VPC's primary CIDR"),
        Setting("network.existing_subnet_ids", _strings, "subnet-… ids, private, at least 2 zones"),
        Setting("network.existing_availability_zones", _strings, "the zone of each subnet, same order"),
        Setting("network.existing_route_table_ids", _strings, "rtb-… of each subnet, same order"),
        Setting("endpoints.create", _boolean, "true or false"),
        Setting("endpoints.extra_services", _strings, "interface endpoint short names aws-cdk-lib knows"),
        Setting("cluster.kubernetes_version", _text, "1.32 to 1.36 (its kubectl layer package installed)"),
        Setting("cluster.name", _text, "EKS cluster name, 1-100 of [A-Za-z0-9-_]"),
        Setting("cluster.app_profiles", _profiles, 'JSON list of {"namespace": …, "labels": {…}}'),
        Setting("cluster.coredns_ready_timeout_minutes", _integer, "1 to 14"),
        Setting("compliance.log_retention_days", _integer, "a CloudWatch Logs retention in days, e.g. 365"),
        Setting("compliance.tags", _tags, 'JSON object of tags for every resource, e.g. {"owner": "team-a"}'),
        Setting("compliance.required_tags", _strings, "tag keys compliance.tags must give"),
        Setting("compliance.production", _boolean, "true or false; true turns on termination protection"),
        Setting("compliance.strict_data_perimeter", _boolean, "true or false"),
        Setting("operations.bastion", _boolean, "true or false"),
        Setting("operations.bastion_subnet", _text, "isolated or public"),
        Setting("operations.bastion_instance_type", _text, "an x86_64 EC2 instance type"),
        Setting("operations.admin_access_policy", _text, "an EKS access policy name"),
        Setting("operations.admin_principal_arns", _strings, "IAM role/user ARNs"),
        Setting("operations.fargate_logging", _boolean, "true or false"),
        Setting("operations.log_kms_key_arn", _text, "a KMS key ARN"),
        Setting("operations.log_extra_filters", _optional_text, "Fluent Bit [FILTER] sections"),
        Setting("operations.log_parsers", _optional_text, "Fluent Bit [PARSER] sections"),
        Setting("workloads.sample_app", _boolean, "true or false"),
        Setting("workloads.sample_namespace", _text, "Kubernetes namespace name, not default or kube-system"),
        Setting("workloads.sample_image", _text, "upstream image with a pinned tag, not latest"),
        Setting("workloads.sample_repository", _text, "ECR repository name, e.g. sample-app/nginx"),
        Setting("workloads.ready_timeout_minutes", _integer, "1 to 14"),
        Setting("workloads.allowed_registries", _strings, "registry hosts or host/path prefixes the image guard accepts"),
    )
}

_EXISTING_VPC_KEYS = {
    "network.existing_vpc_id": "vpc_id",
    "network.existing_vpc_cidr": "vpc_cidr",
    "network.existing_subnet_ids": "subnet_ids",
    "network.existing_availability_zones": "availability_zones",
    "network.existing_route_table_ids": "route_table_ids",
}


def parse_context(context: Mapping[str, Any]) -> dict[str, Any]:
    """Parse every platform key present in `context`; reject unknown keys in the platform's sections."""
    values = {}
    for key, raw in context.items():
        if not key.startswith(SECTIONS):
            continue  # CDK's own feature flags and other tools' keys
        setting = SETTINGS.get(key)
        if setting is None:
            raise ConfigError(key, f"unknown setting; known settings: {', '.join(SETTINGS)}")
        values[key] = setting.parse(key, raw)
    return values


def settings_from_context(context: Mapping[str, Any]) -> PlatformSettings:
    values = parse_context(context)

    def section(prefix: str, renames: Mapping[str, str] = {}) -> dict[str, Any]:
        """The keys of one section as dataclass fields (the prefix dropped; a few keys renamed)."""
        fields = {}
        for key, value in values.items():
            if key.startswith(prefix) and key not in _EXISTING_VPC_KEYS:
                name = key[len(prefix):]
                fields[renames.get(name, name)] = value
        return fields

    existing = {field: values[key] for key, field in _EXISTING_VPC_KEYS.items() if key in values}
    existing_vpc = None
    if existing:
        missing = [key for key in _EXISTING_VPC_KEYS if key not in values and key != "network.existing_route_table_ids"]
        if missing:
            raise ConfigError(missing[0], "required when any network.existing_* setting is given")
        existing_vpc = ExistingVpcSettings(**existing)
    return PlatformSettings(
        network=NetworkSettings(existing_vpc=existing_vpc, **section("network.")),
        endpoints=EndpointSettings(**section("endpoints.")),
        cluster=ClusterSettings(**section("cluster.", renames={"name": "cluster_name"})),
        compliance=ComplianceSettings(**section("compliance.")),
        operations=OperationsSettings(**section("operations.")),
        workloads=WorkloadSettings(**section("workloads.")),
    )


def stage_from_context(context: Mapping[str, Any]) -> tuple[str, Environment | None]:
    """Stage name and environment. No account/region: environment-agnostic, synth makes no AWS calls."""
    values = parse_context(context)
    account, region = values.get("app.account"), values.get("app.region")
    if (account is None) != (region is None):
        raise ConfigError("app.account" if account is None else "app.region", "give app.account and app.region together")
    if account is not None and not (account.isdigit() and len(account) == 12):
        raise ConfigError("app.account", f"{account!r} is not a 12-digit AWS account id")
    env = Environment(account=account, region=region) if account else None
    return values.get("app.stage", "Dev"), env
