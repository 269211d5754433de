"""The app's stage: one deployment of the platform (one account and region) as three stacks."""

from __future__ import annotations

import dataclasses
import os
import subprocess
from typing import Any

from aws_cdk import Annotations, Aws, Environment, Stack, Stage
from constructs import Construct

from ..blocks.bastion import AMI_WARNING
from ..blocks.fargate_logging import NAMESPACE as LOGGING_NAMESPACE
from ..blocks.network import zone_choice
from ..blocks.zoned_stack import ZonedStack
from ..compliance import apply_tags, enable_compliance_checks
from ..composition.platform import Platform, Scopes, compose
from ..settings import SECTIONS, ConfigError, ExistingVpcSettings, PlatformSettings
from ..settings.catalog import MISSING, declared, default_of

#: The stage's record of what it was built from, in the cloud assembly (manifest metadata of the Cluster stack):
#: the review report reads it from there, never from the app.
BUILD_RECORD = "private-eks-fargate:build"


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def settings_record(settings: PlatformSettings) -> dict[str, Any]:
    """What the stage records of its settings for the review report, every declared platform setting by its context
    key, in section order (``keys``): the value of each that applies and is set (``settings``), what applies instead
    of each left unset (``unset``: the assembly's metadata drops nulls), why each that does not apply does not and
    its value (``not_applicable``), and the keys whose value is not the default (``changed``, applying or not)."""
    not_applicable = settings.not_applicable()
    record: dict[str, Any] = {"keys": [], "settings": {}, "unset": {}, "not_applicable": {}, "changed": []}
    platform = {f.name for f in dataclasses.fields(PlatformSettings)}
    for prefix, cls in SECTIONS:
        if prefix not in platform:  # app.* and pipeline.*: where the stage goes, not what it is
            continue
        section = settings.network.existing_vpc if cls is ExistingVpcSettings else getattr(settings, prefix)
        for field, spec in declared(cls):
            value = _plain(getattr(section, field.name)) if section is not None else None
            default = default_of(field)
            record["keys"].append(spec.key)
            if spec.key in not_applicable:
                record["not_applicable"][spec.key] = {"why": not_applicable[spec.key],
                                                      **({"value": value} if value is not None else {})}
            elif value is None:
                record["unset"][spec.key] = spec.default_text or "none"
            else:
                record["settings"][spec.key] = value
            if section is not None and (default is MISSING or value != _plain(default)):
                record["changed"].append(spec.key)
    return record


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
            # zones named in configuration are the stacks' zones: no lookup, also with an account and region; the
            # tags are the stack's own too (CloudFormation stack tags: `@aws-cdk/core:explicitStackTags` leaves them
            # to the stack, Tags.of(stage) below tags the resources)
            return ZonedStack(self, name, zones=zones, termination_protection=settings.compliance.production,
                              tags=dict(settings.compliance.tags) or None)

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
        # the review report's summary says when the bastion's AMI is resolved at every deploy, and how to pin it: the
        # synth stays quiet (a library user without the report still gets the warning)
        Annotations.of(self).acknowledge_warning(AMI_WARNING, "the review report names the AMI the bastion resolves")
        # the one plain CfnResource of the stage is the EKS cluster's kubectl ready barrier (tests check every resource)
        apply_tags(self, settings.compliance.tags, plain_resources_in=[self.platform.cluster.cluster])
        self.cluster_stack.node.add_metadata(
            BUILD_RECORD,
            {"stage": construct_id, "environment": f"{env.account}/{env.region}" if env else "environment-agnostic",
             **settings_record(settings), "commit": source_revision()},
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
