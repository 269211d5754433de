"""The app's settings from CDK context (`cdk.json` or `-c key=value`), parsed with the setting declarations.

Every key of a platform section must be a declared setting: a typo in a section or a key stops synth with one line
and a "did you mean". Defaults are not repeated here: an absent key leaves the dataclass default in place.

Named environments (``app.environments``): each is one stage, built from the shared settings with the
environment's own on top, and with keys given on the command line (``-c``) on top of both. Nothing here loads
aws-cdk-lib, so ``scripts/cdk.py`` resolves ``make … ENV=name`` with the same code before the CLI starts.
"""

from __future__ import annotations

import difflib
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping

from ..settings import (
    SECTIONS,
    AppSettings,
    ClusterSettings,
    ComplianceSettings,
    ConfigError,
    EndpointSettings,
    ExistingVpcSettings,
    NetworkSettings,
    OperationsSettings,
    PipelineSettings,
    PlatformSettings,
    WorkloadSettings,
)
from ..settings.catalog import MISSING, Setting, declared, default_of, key_of
from ..settings.model import ENVIRONMENT_CHOICE_KEYS, ENVIRONMENTS_EXAMPLE

if TYPE_CHECKING:
    from aws_cdk import Environment

#: the pipeline stack's construct id (app/pipeline.py): no environment of a pipeline may have it as its stage's name
PIPELINE_STACK_ID = "Pipeline"
#: a key of the form `section.name` whose section is a plain word: the platform's, or a typo of one
_SECTION_KEY = re.compile(r"^(?P<section>[a-z][a-z0-9_-]*)\.(?P<name>.+)$")


def _declarations() -> dict[str, tuple[type, str, Setting]]:
    """context key -> (settings class, field name, declaration)."""
    return {spec.key: (cls, f.name, spec) for _, cls in SECTIONS for f, spec in declared(cls)}


def _did_you_mean(word: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def parse_context(context: Mapping[str, Any]) -> dict[str, Any]:
    """Parse every platform key present in `context`; reject unknown sections and keys, with a suggestion."""
    known = _declarations()
    sections = sorted({prefix for prefix, _ in SECTIONS})
    values = {}
    for key, raw in context.items():
        match = _SECTION_KEY.match(key)
        if match is None:
            check_plain_key(key, raw, known, sections)
            continue
        section = match["section"]
        if section not in sections:
            raise ConfigError(key, f"unknown section {section!r}{_did_you_mean(section, sections)} (sections: {', '.join(sections)})")
        if key not in known:
            names = [k.split(".", 1)[1] for k in known if k.startswith(f"{section}.")]
            hint = _did_you_mean(match["name"], names).replace("mean ", f"mean {section}.")
            raise ConfigError(key, f"unknown setting{hint or f'; see `make help` or docs/configuration.md for the {section}.* keys'}")
        values[key] = known[key][2].parse(key, raw)
    return values


def check_plain_key(key: str, raw: Any, known: Mapping[str, Any], sections: list[str]) -> None:
    """A key without a section. CDK's own pass: feature flags (@aws-cdk/…), cached lookups and the CLI's keys (all
    with a colon), and keys CDK commands write (acknowledged-issue-numbers). A section written as an object, or a
    setting's name without its section, is an error that says what to write."""
    if key.startswith("@") or ":" in key:
        return
    if key in sections:
        inner, value = next(iter(raw.items())) if isinstance(raw, Mapping) and raw else ("NAME", "…")
        raise ConfigError(
            key, f'a section is not a key: write each setting in full, e.g. "{key}.{inner}": {json.dumps(value)}'
        )
    by_name = {name.split(".", 1)[1]: name for name in known}
    close = difflib.get_close_matches(key, [*by_name, *known], n=1, cutoff=0.8)
    if close:
        raise ConfigError(key, f"unknown key; did you mean {by_name.get(close[0], close[0])}? (every setting is section.name)")


def _section(values: Mapping[str, Any], cls: type) -> dict[str, Any]:
    return {f.name: values[spec.key] for f, spec in declared(cls) if spec.key in values}


def settings_from_context(context: Mapping[str, Any]) -> PlatformSettings:
    values = parse_context(context)
    existing = _section(values, ExistingVpcSettings)
    existing_vpc = None
    if existing:
        required = [spec.key for f, spec in declared(ExistingVpcSettings) if f.name not in existing and default_of(f) is MISSING]
        if required:
            raise ConfigError(required[0], "required when any network.existing_* setting is given")
        existing_vpc = ExistingVpcSettings(**existing)
    return PlatformSettings(
        network=NetworkSettings(existing_vpc=existing_vpc, **_section(values, NetworkSettings)),
        endpoints=EndpointSettings(**_section(values, EndpointSettings)),
        cluster=ClusterSettings(**_section(values, ClusterSettings)),
        compliance=ComplianceSettings(**_section(values, ComplianceSettings)),
        operations=OperationsSettings(**_section(values, OperationsSettings)),
        workloads=WorkloadSettings(**_section(values, WorkloadSettings)),
    )


def app_settings_from_context(context: Mapping[str, Any]) -> AppSettings:
    settings = AppSettings(**_section(parse_context(context), AppSettings))
    settings.validate()
    return settings


def stage_from_context(context: Mapping[str, Any]) -> tuple[str, Environment | None]:
    """Stage name and environment. No account/region: environment-agnostic, synth makes no AWS calls."""
    from aws_cdk import Environment

    app = app_settings_from_context(context)
    env = Environment(account=app.account, region=app.region) if app.account else None
    return app.stage, env


@dataclass(frozen=True)
class NamedEnvironment:
    """One stage the app builds: its name and the context it is built from."""

    name: str
    #: the context of this stage: shared settings, the environment's own, then the command line's
    context: Mapping[str, Any]
    #: declared in app.environments (errors then say which environment); false for the single app.stage
    declared: bool = False

    @contextmanager
    def named_errors(self) -> Iterator[None]:
        """A setting's error inside names a declared environment: ``environment Prod: network.az_count: …``."""
        try:
            yield
        except ConfigError as error:
            if not self.declared or error.setting.startswith("environment "):
                raise
            raise ConfigError(f"environment {self.name}: {error.setting}", error.problem) from None


def command_line_keys(context: Mapping[str, Any], project_file: Path = Path("cdk.json")) -> frozenset[str]:
    """Keys whose value is not the one in cdk.json: given with -c, so they win over an environment's own."""
    try:
        written = json.loads(project_file.read_text()).get("context", {})
    except FileNotFoundError:
        written = {}
    return frozenset(key for key, value in context.items() if key not in written or written[key] != value)


def environments_from_context(
    context: Mapping[str, Any], *, command_line: Iterable[str] = ()
) -> list[NamedEnvironment]:
    """The stages to build: every environment of app.environments (or only app.environment's), else app.stage.

    Every environment's own keys are parsed even when another one is chosen, so a typo anywhere fails.
    """
    values = parse_context(context)
    declared_envs = values.get(key_of(AppSettings, "environments"))
    if not declared_envs:
        found = [NamedEnvironment(values.get(key_of(AppSettings, "stage"), AppSettings().stage), context)]
    else:
        if key_of(AppSettings, "stage") in values:
            raise ConfigError(
                key_of(AppSettings, "stage"),
                "not used with app.environments (each environment's name is its stage); remove one of them",
            )
        shared = {k: v for k, v in context.items() if k not in ENVIRONMENT_CHOICE_KEYS}
        given = {k: shared[k] for k in command_line if k in shared}
        found = []
        for name, own in declared_envs.items():
            try:
                parse_context(own)
            except ConfigError as error:
                raise ConfigError(f"app.environments.{name}.{error.setting}", error.problem) from None
            found.append(NamedEnvironment(name, {**shared, **own, **given, key_of(AppSettings, "stage"): name}, True))
    wanted = values.get(key_of(AppSettings, "environment"))
    return [choose_environment(found, wanted)] if wanted else found


def choose_environment(environments: list[NamedEnvironment], wanted: str) -> NamedEnvironment:
    """The environment named `wanted` (case does not matter: ENV=prod chooses Prod)."""
    for env in environments:
        if env.name.lower() == wanted.lower():
            return env
    names = [env.name for env in environments]
    close = difflib.get_close_matches(wanted.lower(), [n.lower() for n in names], n=1, cutoff=0.6)
    hint = f"; did you mean {names[[n.lower() for n in names].index(close[0])]}?" if close else ""
    raise ConfigError(key_of(AppSettings, "environment"), f"{wanted!r} is not an environment of this app{hint} (environments: {', '.join(names)})")


#: what the CLI puts into the context for a lookup it could not make
_PROVIDER_ERROR = "$providerError"
#: the lookups the platform makes, by context key prefix, and the setting that makes each unnecessary
_LOOKUP_SETTINGS = {
    "availability-zones:": key_of(NetworkSettings, "availability_zones"),
    "ssm:": key_of(OperationsSettings, "bastion_ami"),
}


def failed_lookups(context: Mapping[str, Any]) -> None:
    """Stop with one line if the CLI tried a lookup and failed (no credentials): never synthesize dummy values.

    The CLI runs the app, sees the lookups the stacks need, tries them and runs the app again with each failure
    in the context (``{"$providerError": …}``); aws-cdk-lib would then write placeholder zones ``dummy1a``.
    """
    for key, value in context.items():
        if isinstance(value, Mapping) and _PROVIDER_ERROR in value:
            reason = " ".join(str(value[_PROVIDER_ERROR]).split())
            instead = [f", set {setting}" for prefix, setting in _LOOKUP_SETTINGS.items() if key.startswith(prefix)]
            raise ConfigError(
                key,
                f"lookup failed ({reason}); give AWS credentials for that account{''.join(instead)}, or commit a "
                "cdk.context.json that holds this key (written by a synth with credentials)",
            )


def missing_lookups(assembly_dir: Path) -> list[str]:
    """Context keys the synthesized stacks still need looked up (the CLI does that, then synthesizes again)."""
    manifest = json.loads((assembly_dir / "manifest.json").read_text())
    return [entry["key"] for entry in manifest.get("missing", [])]


def pipeline_from_context(context: Mapping[str, Any]) -> PipelineSettings | None:
    """The pipeline's settings, or None when no ``pipeline.*`` key is given: the app then builds what it builds
    without a pipeline, and nothing else."""
    values = _section(parse_context(context), PipelineSettings)
    if not values:
        return None
    settings = PipelineSettings(**values)
    settings.validate()
    return settings


def pipeline_mode(context: Mapping[str, Any]) -> PipelineSettings | None:
    """The pipeline's settings when the app builds the pipeline: pipeline settings given and no single environment
    chosen (``make … ENV=name`` builds that environment's stage alone, as without a pipeline)."""
    settings = pipeline_from_context(context)
    return None if settings is None or context.get(key_of(AppSettings, "environment")) else settings


@dataclass(frozen=True)
class PipelineEnvironment:
    """One environment as the pipeline deploys it: its stage's name, context and account/region, and whether a person
    approves it first (its ``compliance.production``)."""

    environment: NamedEnvironment
    account: str
    region: str
    production: bool


def pipeline_environments(
    context: Mapping[str, Any], pipeline: PipelineSettings, *, command_line: Iterable[str] = ()
) -> list[PipelineEnvironment]:
    """The environments the pipeline deploys, in its order; each with an account and region of the pipeline's region."""
    declared_envs = {env.name: env for env in environments_from_context(context, command_line=command_line) if env.declared}
    key = key_of(PipelineSettings, "environments")
    if not declared_envs:
        raise ConfigError(
            key_of(AppSettings, "environments"),
            "required with the pipeline settings: the pipeline deploys the environments of app.environments (one stage "
            f"each, with app.account and app.region), e.g. {ENVIRONMENTS_EXAMPLE}",
        )
    names = list(pipeline.environments) or list(declared_envs)
    found = []
    for name in names:
        if name not in declared_envs:
            hint = _did_you_mean(name, list(declared_envs))
            raise ConfigError(key, f"{name!r} is not an environment of app.environments{hint} (environments: "
                              f"{', '.join(declared_envs)})")
        env = declared_envs[name]
        if name.lower() == PIPELINE_STACK_ID.lower():
            raise ConfigError(f"{key_of(AppSettings, 'environments')}.{name}", f"{name!r} is the name of the pipeline's stack; "
                              "name the environment otherwise")
        with env.named_errors():
            app = app_settings_from_context(env.context)
        if app.account is None:
            raise ConfigError(f"environment {name}: {key_of(AppSettings, 'account')}", "required when the pipeline "
                              "deploys it: each environment goes to its own account and region; give app.account and app.region")
        if app.region != pipeline.region:
            raise ConfigError(
                f"environment {name}: {key_of(AppSettings, 'region')}",
                f"{app.region!r} is not the pipeline's region ({pipeline.region}); the pipeline deploys to its own region "
                "(one pipeline per region)",
            )
        with env.named_errors():
            production = settings_from_context(env.context).compliance.production
        found.append(PipelineEnvironment(env, app.account, app.region, production))
    return found
