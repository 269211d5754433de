#!/usr/bin/env python3
"""docs/pipeline.md's example, run: its offline commands and the pipeline's synth step, as written, in a copy of the
project whose cdk.json holds the example, without AWS credentials (a stand-in `aws` records the synth step's uploads).

``make docs`` runs ``scripts/pipeline_docs.py --write docs/pipeline.md``: the doc's settings table (from the setting
declarations), approval message and cost table (from that run) are rewritten; the test suite makes the same run and
keeps them identical. Only subprocesses and files here
(the suite runs it in a background thread).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import doc_pages  # noqa: E402  scripts/doc_pages.py
from own_config import offline_environment, own_copy  # noqa: E402  scripts/own_config.py

DOC = ROOT / "docs" / "pipeline.md"
APPROVAL = ("<!-- pipeline-approval:begin -->", "<!-- pipeline-approval:end -->")
COST = ("<!-- pipeline-cost:begin -->", "<!-- pipeline-cost:end -->")
SETTINGS = ("<!-- pipeline-settings:begin -->", "<!-- pipeline-settings:end -->")
#: what the example's pipeline passes its synth step: the commit, the artifact bucket, the execution's folder
EXAMPLE_REVISION = "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b (bank/platform main)"
EXAMPLE_BUCKET = "privateeksfargate-pipeline-artifactstoreartifacts-example"
EXAMPLE_PREFIX = "reviews/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
#: the part of the approval message that changes with every template change: a placeholder in the doc
DIGEST = re.compile(r"Templates sha256 [0-9a-f]{12}")
#: the synth step's command that is the test suite itself: not run inside the suite
SUITE = "make test"
STUB_AWS = '#!/bin/sh\necho "$*" >> "$(dirname "$0")/aws-calls.log"\n'


def example(doc: Path = DOC) -> dict:
    """The cdk.json context of the doc's example (its one ```json block)."""
    (block,) = [b.text for b in doc_pages.blocks(doc) if b.language == "json"]
    return json.loads(block)["context"]


def doc_commands(doc: Path = DOC) -> tuple[list[str], list[str]]:
    """The command lines of the doc's `sh` blocks, as written (with their comments, which the shell ignores):
    (those that run offline, those marked as needing AWS)."""
    lines = doc_pages.command_lines(doc)
    return [c.line for c in lines if not c.mark], [c.line for c in lines if c.mark == doc_pages.NEEDS_AWS]


@dataclass
class ExampleRun:
    """What the example's commands did: each command line with its finished process, and what they left."""

    project: Path
    runs: dict[str, subprocess.CompletedProcess] = field(default_factory=dict)
    #: the approval message the synth step exported (its shell's $APPROVAL_PROD after sourcing approvals.env)
    exported: str = ""
    #: the stand-in aws's command lines
    aws_calls: list[str] = field(default_factory=list)


def example_project(workdir: Path) -> Path:
    """A copy of the project (venv and node_modules linked) whose cdk.json holds the doc's example."""
    return own_copy(ROOT, workdir, example())


def run_example(workdir: Path, synth_step: list[str]) -> ExampleRun:
    """The doc's offline commands in its order, each as written, with the pipeline's variables set; the doc's `make
    review` runs inside the synth step's commands (`synth_step`, the pipeline's, but the test suite) in one shell, as
    CodeBuild runs them, and the shell's exported approval message is kept."""
    project = example_project(workdir)
    stub = workdir / "stub-bin"
    stub.mkdir()
    (stub / "aws").write_text(STUB_AWS)
    (stub / "aws").chmod(0o755)
    env = offline_environment(workdir / "home", path_first=stub) | {
        "PEF_SOURCE_REVISION": EXAMPLE_REVISION, "PEF_REVIEW_BUCKET": EXAMPLE_BUCKET, "PEF_REVIEW_PREFIX": EXAMPLE_PREFIX}
    run = ExampleRun(project)
    offline, _ = doc_commands()
    step = [command for command in synth_step if command != SUITE]
    for command in offline:
        script = command
        if command.split("  #")[0].strip() in step:
            script = " && ".join(step) + ' && printf %s "$APPROVAL_PROD" > exported.txt'
        run.runs[command] = subprocess.run(["sh", "-c", script], cwd=project, env=env, capture_output=True, text=True,
                                           timeout=900, stdin=subprocess.DEVNULL)
    exported = project / "exported.txt"
    run.exported = exported.read_text() if exported.exists() else ""
    calls = stub / "aws-calls.log"
    run.aws_calls = calls.read_text().splitlines() if calls.exists() else []
    return run


def settings_table() -> str:
    """The pipeline's settings as docs/configuration.md's table renders them (one declaration each)."""
    from private_eks_fargate.settings.docs import configuration_table

    lines = configuration_table().splitlines()
    return "\n".join(lines[:2] + [line for line in lines[2:] if line.startswith("| `pipeline.")])


def sections(run: ExampleRun) -> dict[tuple[str, str], str]:
    """The doc's generated sections: the settings table, and from the example's run the approval and the costs."""
    costs = run.runs[next(c for c in run.runs if "delivery_costs" in c)].stdout.splitlines()
    return {
        SETTINGS: settings_table(),
        APPROVAL: f"```text\n{DIGEST.sub('Templates sha256 <digest>', run.exported)}\n```",
        COST: "\n".join(costs[1:]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", type=Path, required=True, help="the doc to rewrite between its markers")
    args = parser.parse_args(argv)
    from private_eks_fargate.app.pipeline import INSTALL_COMMANDS, SYNTH_COMMANDS
    from private_eks_fargate.settings.docs import replace_between_markers

    with tempfile.TemporaryDirectory(prefix="pipeline-docs-") as workdir:
        run = run_example(Path(workdir), [*INSTALL_COMMANDS, *SYNTH_COMMANDS])
        failed = [f"{command}: {result.stderr.strip()[-300:]}" for command, result in run.runs.items() if result.returncode]
        if failed:
            print("error: the example's commands failed:\n" + "\n".join(failed), file=sys.stderr)
            return 1
        text = args.write.read_text()
        for (begin, end), body in sections(run).items():
            text = replace_between_markers(text, body, begin, end)
    args.write.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
