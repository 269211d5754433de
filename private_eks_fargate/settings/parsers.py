"""Context value parsers. `cdk.json` values keep their JSON types; `-c` values arrive as strings, so each parser
accepts both and raises a one-line ConfigError naming the key."""

from __future__ import annotations

import functools
import json
from typing import Any, Callable

from .errors import ConfigError


def text(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(key, f"{value!r} is not allowed; give a non-empty string")
    return value


def version(key: str, value: Any) -> str:
    """A Kubernetes version such as "1.36": a string, since a JSON number loses trailing zeros (1.30 reads 1.3)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ConfigError(key, f'{value!r} is a JSON number; write the version as a string, "{value}" (as a number, 1.30 reads 1.3)')
    return text(key, value)


def optional_text(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(key, f"{value!r} is not allowed; give a string")
    return value


def integer(key: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ConfigError(key, f"{value!r} is not allowed; give a whole number")
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise ConfigError(key, f"{value!r} is not allowed; give a whole number") from None


def boolean(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in ("true", "false"):
        return word == "true"
    raise ConfigError(key, f"{value!r} is not allowed; give true or false")


def json_value(key: str, value: Any, expected: str) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        raise ConfigError(key, f"{value!r} is not valid JSON; give {expected}") from None


def strings(key: str, value: Any) -> tuple[str, ...]:
    """A JSON list of strings, or a comma-separated string (handy with -c)."""
    if isinstance(value, str) and not value.strip().startswith("["):
        value = [part.strip() for part in value.split(",") if part.strip()]
    value = json_value(key, value, "a list of strings")
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(key, f"{value!r} is not allowed; give a list of strings (JSON, or comma-separated)")
    return tuple(value)


def mapping(key: str, value: Any, *, example: str) -> dict[str, str]:
    """A JSON object; `example` (the setting's own) is shown when the value is not one."""
    value = json_value(key, value, f"an object such as {example}")
    if not isinstance(value, dict):
        raise ConfigError(key, f"{value!r} is not allowed; give a JSON object such as {example}")
    return value


def mapping_like(example: str) -> Callable[[str, Any], dict[str, str]]:
    """The parser of a JSON-object setting whose errors show `example`."""
    return functools.partial(mapping, example=example)


def objects(key: str, value: Any, *, required: str, optional: tuple[str, ...], example: str) -> list[dict]:
    """A JSON list of objects with `required` and `optional` keys (checked; nothing else allowed)."""
    value = json_value(key, value, f"a list such as {example}")
    if not isinstance(value, list):
        raise ConfigError(key, f"{value!r} is not allowed; give a list such as {example}")
    for index, item in enumerate(value):
        if not isinstance(item, dict) or required not in item or set(item) - {required, *optional}:
            allowed = f"'{required}'" + "".join(f" and optional '{name}'" for name in optional)
            raise ConfigError(f"{key}[{index}]", f"{item!r} is not allowed; give an object with {allowed}")
    return value
