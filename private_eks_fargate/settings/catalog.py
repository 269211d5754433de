"""One declaration per setting: its context key, parser, allowed values, default and documentation.

A setting is a dataclass field declared with ``setting(...)``; the field's metadata carries the rest. Context
parsing (``app/context.py``), the one-line errors (``key_of``) and docs/configuration.md's settings table
(``settings/docs.py``) are all derived from these declarations, so a setting is described once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import MISSING, dataclass
from typing import Any, Callable, Iterator

METADATA = "private_eks_fargate.setting"

Parser = Callable[[str, Any], Any]


@dataclass(frozen=True)
class Setting:
    #: the context key as users type it (``cdk.json`` or ``-c key=value``)
    key: str
    #: turns a context value (JSON from cdk.json, or a string from -c) into the field's value; raises ConfigError
    parse: Parser
    #: what is allowed, in a few words (docs and `make help`)
    allowed: str
    #: what the setting does
    doc: str
    #: how the default reads in the docs when its value alone does not say it. default: the value itself
    default_text: str | None = None


def setting(
    default: Any = MISSING,
    *,
    key: str,
    parse: Parser,
    allowed: str,
    doc: str,
    default_text: str | None = None,
    default_factory: Callable[[], Any] | Any = MISSING,
) -> Any:
    """A dataclass field that is also a context setting."""
    meta = {METADATA: Setting(key=key, parse=parse, allowed=allowed, doc=doc, default_text=default_text)}
    return dataclasses.field(default=default, default_factory=default_factory, metadata=meta)


def spec_of(cls: type, name: str) -> Setting:
    return next(f.metadata[METADATA] for f in dataclasses.fields(cls) if f.name == name)


def key_of(cls: type, name: str) -> str:
    """The context key of field `name` of settings class `cls`: errors name the key the user typed."""
    return spec_of(cls, name).key


def declared(cls: type) -> Iterator[tuple[dataclasses.Field, Setting]]:
    """The fields of `cls` that are settings, in declaration order."""
    for f in dataclasses.fields(cls):
        if METADATA in f.metadata:
            yield f, f.metadata[METADATA]


def default_of(f: dataclasses.Field) -> Any:
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    return MISSING
