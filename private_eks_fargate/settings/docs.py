"""The README's configuration table and `make help`'s key list, rendered from the setting declarations.

``python -m private_eks_fargate.settings.docs --write README.md`` rewrites the table between its markers;
a test keeps the README identical to ``configuration_table()``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .catalog import MISSING, declared, default_of
from .model import SECTIONS, FargateProfileSpec

BEGIN, END = "<!-- settings-table:begin -->", "<!-- settings-table:end -->"


def _show(value: Any) -> str:
    if value is None or value == () or value == "" or value == {}:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (tuple, list)) and all(isinstance(v, FargateProfileSpec) for v in value):
        return json.dumps([{"namespace": v.namespace, **({"labels": dict(v.labels)} if v.labels else {})} for v in value])
    return str(value)


def rows() -> list[tuple[str, str, str, str]]:
    """(key, what it sets, default, allowed) of every setting, in section order."""
    out = []
    for _, cls in SECTIONS:
        for f, spec in declared(cls):
            default = default_of(f)
            text = spec.default_text or ("required" if default is MISSING else _show(default))
            out.append((spec.key, spec.doc, text, spec.allowed))
    return out


def configuration_table() -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| key | what it sets | default | allowed |", "|---|---|---|---|"]
    lines += [f"| `{key}` | {cell(doc)} | `{cell(default)}` | {cell(allowed)} |" for key, doc, default, allowed in rows()]
    return "\n".join(lines)


def key_list() -> str:
    """One line per key for `make help`."""
    return "\n".join(f"  {key:<42} {allowed}" for key, _, _, allowed in rows())


def replace_between_markers(text: str, body: str) -> str:
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{body}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", type=Path, help="rewrite the table in this file (between its markers)")
    parser.add_argument("--keys", action="store_true", help="print one line per key")
    args = parser.parse_args(argv)
    if args.write:
        args.write.write_text(replace_between_markers(args.write.read_text(), configuration_table()))
    else:
        print(key_list() if args.keys else configuration_table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
