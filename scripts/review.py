#!/usr/bin/env python3
"""`make review`: cfn-lint and checkov on every template of the cloud assembly, their results recorded where the
review summary reads them (``cdk.out/results/<tool>.json``, ``review.summary.record_results``), then the review
report written again. Exits 1 when either tool reports a failed finding (the report lists them first).

The test suite runs cfn-lint and checkov with these functions too (tests/conftest.py), over every configuration at
once, and records the default app's share of those runs: one command line per tool, run once per suite.
Both are test tools (``make setup-test``): cfn-lint from the project venv, checkov from its own (``.venv/checkov``).
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Iterable, Mapping

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from private_eks_fargate.review.assembly import checkov_skips, load_stacks  # noqa: E402
from private_eks_fargate.review.summary import record_results, result_line  # noqa: E402

BIN = Path(sys.executable).parent
CFN_LINT = BIN / "cfn-lint"
CHECKOV = BIN.parent / "checkov" / "bin" / "checkov"
CHECKOV_CONFIG = ROOT / ".checkov.yaml"
#: cfn-lint levels that fail (informational findings do not)
FAILING_LEVELS = ("Error", "Warning")


def run_cfn_lint(files: list[str]) -> dict:
    """cfn-lint over `files` in one run: the files, its JSON findings and the finished process."""
    result = subprocess.run([str(CFN_LINT), "--format", "json", "--", *files], capture_output=True, text=True, timeout=600)
    return {"files": files, "findings": json.loads(result.stdout or "[]"), "result": result}


def run_checkov(files: list[str], frameworks: Iterable[str] = ("cloudformation",), *, only: Iterable[str] = ()) -> dict:
    """checkov over `files` in one run with the project's config (its skips and reasons): the files, one report per
    framework and the finished process.

    :param only: run these checks alone, without the config (so without its skips): whether a skip is still needed
    """
    only = list(only)
    setup = ["--check", ",".join(only), "--skip-download"] if only else ["--config-file", str(CHECKOV_CONFIG)]
    args = [str(CHECKOV), *setup, "--output", "json", "--compact", "--framework", *frameworks]
    for file in files:
        args += ["--file", file]
    # checkov also reads a .checkov.yaml in its working directory: the project's only when asked for
    result = subprocess.run(args, capture_output=True, text=True, timeout=600, cwd=CHECKOV.parent if only else None)
    reports = json.loads(result.stdout) if result.stdout else []
    return {"files": files, "reports": reports if isinstance(reports, list) else [reports], "result": result}


def _last_line(text: str) -> str:
    """The last line of a tool's error output (a traceback's is the exception), for a one-line error."""
    lines = text.strip().splitlines()
    return lines[-1] if lines else "no output"


def _same_file(path: str, files: Iterable[str]) -> bool:
    return Path(path).resolve() in {Path(f).resolve() for f in files}


def cfn_lint_record(run: Mapping, files: list[str]) -> dict:
    """What record_results writes for cfn-lint: its errors and warnings on `files` (a run may have linted more)."""
    if run["result"].returncode not in (0, 2, 4, 6, 8, 10, 12, 14) or not isinstance(run["findings"], list):
        raise RuntimeError(f"cfn-lint did not run: {_last_line(run['result'].stderr)}")
    findings = [
        {"rule": f["Rule"]["Id"], "resource": "/".join(map(str, f["Location"]["Path"][1:2])) or "-",
         "message": f["Message"], "template": Path(f["Filename"]).name, "level": f["Level"]}
        for f in run["findings"] if f["Level"] in FAILING_LEVELS and _same_file(f["Filename"], files)
    ]
    return {"version": version("cfn-lint"), "checked": len(files), "findings": findings, "unit": "templates"}


def checkov_record(run: Mapping, files: list[str]) -> dict:
    """What record_results writes for checkov: its failed CloudFormation checks and parsing errors on `files`."""
    reports = [r for r in run["reports"] if isinstance(r, Mapping) and r.get("check_type") == "cloudformation"]
    if not reports:
        raise RuntimeError(f"checkov did not run: {_last_line(run['result'].stderr)}")
    findings = [
        {"rule": c["check_id"], "resource": c["resource"], "message": c["check_name"], "template": Path(c["file_path"]).name}
        for report in reports for c in report["results"]["failed_checks"]
        if _same_file(c.get("file_abs_path", c["file_path"]), files)
    ]
    errors = sum(r["summary"]["parsing_errors"] for r in reports)
    findings += [{"rule": "parsing error", "resource": "-", "message": f"{errors} templates not parsed"}] if errors else []
    return {"version": reports[0]["summary"].get("checkov_version", ""), "checked": len(files), "findings": findings,
            "unit": "templates"}


def record(assembly_dir: Path, cfn_lint_run: Mapping, checkov_run: Mapping) -> tuple[list[str], int]:
    """Record both tools' results on the assembly's templates: the summary's line for each, and how many failed."""
    files = [str(stack.template_file) for stack in load_stacks(assembly_dir)]
    lines, failed = [], 0
    for tool, data in (("cfn-lint", cfn_lint_record(cfn_lint_run, files)), ("checkov", checkov_record(checkov_run, files))):
        record_results(assembly_dir, tool, **data)
        lines.append(result_line(tool, {**data, "failed": len(data["findings"])}))
        failed += len(data["findings"])
    return lines, failed


def output_dir(args: list[str]) -> Path:
    """The cloud assembly the CDK CLI wrote with these arguments (make's ARGS): ``--output DIR`` / ``-o DIR``."""
    for i, arg in enumerate(args):
        if arg in ("--output", "-o") and i + 1 < len(args):
            return Path(args[i + 1])
        if arg.startswith("--output="):
            return Path(arg.split("=", 1)[1])
    return Path("cdk.out")


def main(argv: list[str] | None = None) -> int:
    """``scripts/review.py [ARGS]``: ARGS as given to the CDK CLI's synth (only ``--output`` matters here); default:
    make's ARGS from the environment, as ``make synth`` read them."""
    from cdk import split_args  # scripts/cdk.py
    from private_eks_fargate.review.approval import write_reviews

    args = (sys.argv[1:] if argv is None else argv) or split_args(os.environ.get("ARGS", ""))
    assembly_dir = output_dir(args)
    files = [str(stack.template_file) for stack in load_stacks(assembly_dir)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        lint, scan = pool.submit(run_cfn_lint, files), pool.submit(run_checkov, files)
        try:
            lines, failed = record(assembly_dir, lint.result(), scan.result())
        except RuntimeError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    report, *stage_reports = write_reviews(assembly_dir, CHECKOV_CONFIG)
    print("\n".join(lines))
    print(f"review report: {report} (diagram: {report.parent / 'architecture.svg'})")
    for stage_report in stage_reports:
        print(f"review report: {stage_report}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
