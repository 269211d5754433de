"""The app's stage: one deployment of the platform (one account and region) as three stacks."""

from __future__ import annotations

import dataclasses
import os
import subprocess
from typing import Any

from aws_cdk import Aws, Environment, Stack, Stage
from constructs import Construct

from ..blocks.fargate_logging import NAMESPACE as LOGGING_NAMESPACE
from ..blocks.network import zone_choice
from ..blocks.zoned_stack import ZonedStack
from ..compliance import apply_tags, enable_compliance_checks
from ..composition.platform import Platform, Scopes, compose
from ..settings import SECTIONS, ConfigError, PlatformSettings
from ..settings.catalog import declared

#: The stage's record of what it was built from, in the cloud assembly (manifest metadata of the Cluster stack):
#: the review report reads it from there, never from the app.
BUILD_RECORD = "private-eks-fargate:build"
_PLATFORM_SECTIONS = {"network": "network", "endpoints": "endpoints", "cluster": "cluster", "operations": "operations",
                      "compliance": "compliance", "workloads": "workloads"}  # fmt: skip


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return "not set" if value is None else value  # the assembly's metadata drops nulls


def effective_settings(settings: PlatformSettings) -> dict[str, Any]:
    """Every declared platform setting by its context key, as this stage uses it (defaults included)."""
    values: dict[str, Any] = {}
    for prefix, cls in SECTIONS:
        section = getattr(settings, _PLATFORM_SECTIONS.get(prefix, ""), None)
        if cls.__name__ == "ExistingVpcSettings":
            section = settings.network.existing_vpc
        if section is None or not isinstance(section, cls):
            continue
        for field, spec in declared(cls):
            values[spec.key] = _plain(getattr(section, field.name))
    return values


def _changed(settings: PlatformSettings) -> list[str]:
    """The keys whose value differs from the declared default (what the summary lists)."""
    defaults = effective_settings(PlatformSettings(network=settings.network))
    return [key for key, value in effective_settings(settings).items() if defaults.get(key) != value]


#: set by the pipeline's synth step, whose source has no git metadata: the commit (or S3 object version) it built
SOURCE_REVISION_VARIABLE = "PEF_SOURCE_REVISION"


def source_revision() -> str:
    """The git commit the app was synthesized from (with a note when the work tree has changes), if any; in the
    pipeline's synth step, the revision its source action passed on."""
    if os.environ.get(SOURCE_REVISION_VARIABLE):
        return os.environ[SOURCE_REVISION_VARIABLE]
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "not a git checkout"
    return f"{commit} (with uncommitted changes)" if dirty else commit


class PrivateEksFargateStage(Stage):
    """Stacks ``Network``, ``Endpoints`` and ``Cluster``, filled by the one composition (``compose``).

    The cluster stack depends on the endpoints stack, so ``cdk deploy 'STAGE/*'`` creates the endpoints first
    and ``cdk destroy 'STAGE/*'`` deletes the cluster (and its kubectl custom resources) while the endpoints
    the kubectl Lambdas use still exist. For an existing VPC there is no Network stack; with
    ``endpoints.create`` false there is no Endpoints stack.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: PlatformSettings,
        env: Environment | None = None,
        compliance_checks: bool = True,
        control_tower: bool = True,
    ) -> None:
        """
        :param settings: all settings (validated here, before any stack is defined)
        :param env: account and region. default: none, environment-agnostic stacks (synth needs no AWS calls)
        :param compliance_checks: run the cdk-nag packs and the project's EKS checks on every synth
            (``compliance.enable_compliance_checks``). default: true
        :param control_tower: with them, the AWS Control Tower proactive controls (results in
            ``<outdir>/results/control-tower.json``). default: true
        """
        settings.validate()
        super().__init__(scope, construct_id, env=env)
        self.settings = settings

        existing = settings.network.existing_vpc
        if existing:
            zones = existing.availability_zones
        else:
            # the zones (IDs or names) the subnets go to when they are known at synth: nothing is looked up
            zones = zone_choice(settings.network, env.region if env and env.region else Aws.REGION).zones

        def stack(name: str) -> Stack:
            # zones named in configuration are the stacks' zones: no lookup, also with an account and region
            return ZonedStack(self, name, zones=zones, termination_protection=settings.compliance.production)

        self.network_stack = stack("Network") if settings.network.existing_vpc is None else None
        self.endpoints_stack = stack("Endpoints") if settings.endpoints.create else None
        self.cluster_stack = stack("Cluster")
        self.platform: Platform = compose(
            settings,
            Scopes(
                network=self.network_stack,
                endpoints=self.endpoints_stack or self.cluster_stack,
                cluster=self.cluster_stack,
            ),
        )
        check_relaxed_namespaces(self.platform)
        apply_tags(self, settings.compliance.tags)
        self.cluster_stack.node.add_metadata(
            BUILD_RECORD,
            {"stage": construct_id, "environment": f"{env.account}/{env.region}" if env else "environment-agnostic",
             "settings": effective_settings(settings), "changed": _changed(settings), "commit": source_revision()},
        )
        if compliance_checks:
            enable_compliance_checks(self, control_tower=control_tower)


def check_relaxed_namespaces(platform: Platform) -> None:
    """A relaxed Pod Security level for a namespace the stage does not create would pass silently: refuse it.
    (The library's composite allows it: its user may add that namespace's workload afterwards.)"""
    created = set(platform.cluster.namespaces) | ({LOGGING_NAMESPACE} if platform.settings.operations.fargate_logging else set())
    unknown = sorted(set(platform.settings.cluster.pod_security_levels) - created)
    if unknown:
        raise ConfigError(
            "cluster.pod_security_levels",
            f"{unknown[0]!r} is not a namespace this stage creates ({', '.join(sorted(created))}); "
            "add it with cluster.app_profiles or remove it",
        )
