#!/usr/bin/env python3
"""`make compat`: the library installs beside other CDK v2 apps and works with the versions pyproject.toml allows.

Builds the wheel, installs it into a fresh venv per case, and runs every ```python block of README.md and docs/ in each (as a
user's app: its own process, its own directory), then writes the review report of the first one's assembly:

- lowest: every dependency at its lower bound (aws-cdk-lib==2.269.0, constructs==10.5.1, …);
- newest: whatever pip picks today within the ranges.

Prints the versions installed and one line per example; exits 1 if anything fails. Slow (minutes, PyPI) on the
first run: downloads are cached in .venv/compat/pip-cache, so reruns take about a minute per case. CI runs it
after the test suite (.ci/run).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".venv" / "compat"
#: distributions whose versions the summary names
SHOWN = ("aws-cdk-lib", "constructs", "cdk-nag", "aws-cdk.lambda-layer-kubectl-v36", "jsii")
_LOWER = re.compile(r"^(?P<name>[A-Za-z0-9_.\-\[\]]+)\s*>=\s*(?P<version>[^,\s]+)")


def lower_bounds() -> list[str]:
    """`name==lowest` for every dependency of pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = []
    for requirement in project["dependencies"]:
        match = _LOWER.match(requirement)
        if match is None:
            raise SystemExit(f"compat: {requirement!r} in pyproject.toml has no lower bound (>=)")
        pins.append(f"{match['name']}=={match['version']}")
    return pins


def doc_examples() -> list[str]:
    from doc_pages import python_examples  # scripts/doc_pages.py

    examples = python_examples()
    if not examples:
        raise SystemExit("compat: README.md and docs/ have no ```python example")
    return examples


def run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=1800, **kwargs)


def build_wheel(into: Path) -> Path:
    built = run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(into), str(ROOT)],
                env=dict(os.environ, PIP_CACHE_DIR=str(WORK / "pip-cache")))
    if built.returncode != 0:
        raise SystemExit(f"compat: building the wheel failed: {built.stderr.strip()}")
    (wheel,) = into.glob("private_eks_fargate-*.whl")
    return wheel


def versions(python: Path) -> dict[str, str]:
    code = ("import importlib.metadata as m, json, sys; "
            f"print(json.dumps({{d: m.version(d) for d in {list(SHOWN)!r}}}))")
    return json.loads(run([str(python), "-c", code]).stdout)


def example_stacks(outdir: Path) -> list[str]:
    """Stacks of a synthesized assembly that hold an EKS cluster."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    found = []
    for name, artifact in manifest.get("artifacts", {}).items():
        if artifact["type"] == "aws:cloudformation:stack":
            template = json.loads((outdir / artifact["properties"]["templateFile"]).read_text())
            if any(r["Type"] == "AWS::EKS::Cluster" for r in template["Resources"].values()):
                found.append(name)
    return found


def check_case(label: str, pins: list[str], wheel: Path, examples: list[str]) -> bool:
    venv = WORK / label
    shutil.rmtree(venv, ignore_errors=True)
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel), *pins],
                  env=dict(os.environ, PIP_CACHE_DIR=str(WORK / "pip-cache")))
    if install.returncode != 0:
        print(f"{label}: FAIL install: {install.stderr.strip().splitlines()[-1:]}")
        return False
    installed = versions(python)
    print(f"{label}: " + ", ".join(f"{name} {version}" for name, version in installed.items())
          + f" (venv in {time.monotonic() - started:.0f} s)")
    # a user's app: the compat venv's python, Node from PATH (here the project's Node 24), its own directory
    env = dict(os.environ, PATH=f"{venv / 'bin'}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    ok = True
    with tempfile.TemporaryDirectory(prefix=f"compat-{label}-") as tmp:
        for index, example in enumerate(examples, start=1):
            script, outdir = Path(tmp) / f"example{index}.py", Path(tmp) / f"out{index}"
            script.write_text(example)
            started = time.monotonic()
            result = run([str(python), script.name], cwd=tmp, env=env | {"CDK_OUTDIR": str(outdir)})
            stacks = example_stacks(outdir) if result.returncode == 0 else []
            passed = result.returncode == 0 and bool(stacks)
            ok &= passed
            detail = f"stacks {', '.join(stacks)}" if passed else (result.stderr.strip().splitlines() or ["no EKS cluster"])[-1]
            print(f"{label}: docs example {index}: {'ok' if passed else 'FAIL'} ({time.monotonic() - started:.0f} s; {detail})")
        report = run([str(python), "-c", f"from pathlib import Path; from private_eks_fargate.review.report import write_review; "
                                         f"print(write_review(Path({str(Path(tmp) / 'out1')!r}), None))"], cwd=tmp, env=env)
        passed = report.returncode == 0 and (Path(tmp) / "out1" / "review" / "REVIEW.md").is_file()
        ok &= passed
        print(f"{label}: review report of example 1: {'ok' if passed else 'FAIL ' + report.stderr.strip()[-300:]}")
    return ok


def main() -> int:
    WORK.mkdir(parents=True, exist_ok=True)
    examples = doc_examples()
    with tempfile.TemporaryDirectory(prefix="compat-wheel-") as tmp:
        wheel = build_wheel(Path(tmp))
        print(f"wheel: {wheel.name}; docs examples: {len(examples)}")
        results = {label: check_case(label, pins, wheel, examples) for label, pins in (("lowest", lower_bounds()), ("newest", []))}
    failed = [label for label, ok in results.items() if not ok]
    print("compat: " + ("ok" if not failed else f"FAILED ({', '.join(failed)})"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
