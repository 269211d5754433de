#!/usr/bin/env python3
"""docs/costs.md's generated parts: the default app's cost table and the single-zone line, priced from the templates
of the two configurations (``review/costs.py``, as the review report prices them).

``make docs`` runs ``scripts/cost_docs.py --write docs/costs.md``; the test suite renders the same sections from its
own synths of the two configurations and keeps the page identical.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Iterable, Mapping

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from private_eks_fargate.review.costs import cost_lines, cost_summary, cost_table_markdown  # noqa: E402
from private_eks_fargate.settings.docs import replace_between_markers  # noqa: E402

DOC = ROOT / "docs" / "costs.md"
TABLE = ("<!-- cost-table:begin -->", "<!-- cost-table:end -->")
SINGLE_ZONE = ("<!-- cost-single-zone:begin -->", "<!-- cost-single-zone:end -->")
#: the non-production cost profile the page prices beside the default
SINGLE_ZONE_CONTEXT = {"endpoints.single_zone": "true"}


def sections(default: Iterable[Mapping], single_zone: Iterable[Mapping]) -> dict[tuple[str, str], str]:
    """The page's generated sections from the templates of the default app and of the single-zone one."""
    return {
        TABLE: cost_table_markdown(cost_lines(default)),
        SINGLE_ZONE: f"With `endpoints.single_zone=true`: {cost_summary(cost_lines(single_zone))}.",
    }


def _templates(outdir: Path) -> list[dict]:
    from private_eks_fargate.review.assembly import load_stacks

    return [stack.template for stack in load_stacks(outdir)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", type=Path, default=DOC, help="the page to rewrite between its markers")
    args = parser.parse_args(argv)
    from private_eks_fargate.app.changes import synthesize_configuration

    project = json.loads((ROOT / "cdk.json").read_text())["context"]
    with tempfile.TemporaryDirectory(prefix="cost-docs-") as tmp:
        synthesize_configuration(Path(tmp) / "default", project)
        synthesize_configuration(Path(tmp) / "single-zone", {**project, **SINGLE_ZONE_CONTEXT})
        generated = sections(_templates(Path(tmp) / "default"), _templates(Path(tmp) / "single-zone"))
    text = args.write.read_text()
    for (begin, end), body in generated.items():
        text = replace_between_markers(text, body, begin, end)
    args.write.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
