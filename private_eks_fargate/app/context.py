"""The app's settings from CDK context (`cdk.json` or `-c key=value`), parsed with the setting declarations.

Every key of a platform section must be a declared setting: a typo in a section or a key stops synth with one line
and a "did you mean". Defaults are not repeated here: an absent key leaves the dataclass default in place.
"""

from __future__ import annotations

import difflib
import re
from typing import Any, Mapping

from aws_cdk import Environment

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
    PlatformSettings,
    WorkloadSettings,
)
from ..settings.catalog import MISSING, Setting, declared, default_of

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
            continue  # CDK's feature flags (@aws-cdk/…), its cached lookups (name:account=…) and the like
        section = match["section"]
        if section not in sections:
            raise ConfigError(key, f"unknown section {section!r}{_did_you_mean(section, sections)} (sections: {', '.join(sections)})")
        if key not in known:
            names = [k.split(".", 1)[1] for k in known if k.startswith(f"{section}.")]
            hint = _did_you_mean(match["name"], names).replace("mean ", f"mean {section}.")
            raise ConfigError(key, f"unknown setting{hint or f'; see `make help` or the README for the {section}.* keys'}")
        values[key] = known[key][2].parse(key, raw)
    return values


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
    app = app_settings_from_context(context)
    env = Environment(account=app.account, region=app.region) if app.account else None
    return app.stage, env
