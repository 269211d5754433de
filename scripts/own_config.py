#!/usr/bin/env python3
"""`make test` runs the suite through this: `scripts/own_config.py -- COMMAND…` runs COMMAND on the project's own
configuration, the settings the suite checks.

A checkout that deploys somewhere declares where in cdk.json (``app.*``: its environments, account and region;
``pipeline.*``: its pipeline) and caches its lookups in cdk.context.json. The suite tests the project, not one
deployment, so with any of those present COMMAND runs in a copy of the project without them (the venv and
node_modules linked, not copied), and one line says so. Without them it runs in place, as it always did. The
variables the pipeline's synth step sets for the app are not passed on either.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: cdk.json context keys that say where a checkout deploys, by section
DEPLOYMENT_SECTIONS = ("app.", "pipeline.")
CONTEXT_CACHE = "cdk.context.json"
#: what is not copied: built or installed things (the venv and node_modules are linked instead) and the git metadata
NOT_COPIED = (".git", ".venv", "node_modules", "cdk.out", "cdk.out.*", "__pycache__", ".pytest_cache", "*.egg-info",
              "build", CONTEXT_CACHE)
LINKED = (".venv", "node_modules")
#: what the pipeline's synth step sets for the app and its scripts (app/pipeline.py, app/stage.py): not for the suite
PIPELINE_VARIABLES = ("PEF_SOURCE_REVISION", "PEF_PIPELINE_DEFINITION", "PEF_REVIEW_BUCKET", "PEF_REVIEW_PREFIX")


def deployment_keys(context: dict) -> list[str]:
    return [key for key in context if key.startswith(DEPLOYMENT_SECTIONS)]


def own_copy(root: Path, target: Path, context: dict | None = None) -> Path:
    """`root` copied into `target` without the deployment's keys and lookups, plus `context` (an example's settings)
    in its cdk.json; the copy's directory."""
    copy = target / root.name
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(*NOT_COPIED), symlinks=True)
    for name in LINKED:
        if (root / name).exists():
            (copy / name).symlink_to(root / name)
    project = json.loads((root / "cdk.json").read_text())
    project["context"] = {k: v for k, v in project.get("context", {}).items() if k not in deployment_keys(project["context"])}
    project["context"].update(context or {})
    (copy / "cdk.json").write_text(json.dumps(project, indent=2) + "\n")
    shutil.copystat(root / "cdk.json", copy / "cdk.json")
    return copy


def offline_environment(home: Path, *, path_first: Path | None = None) -> dict[str, str]:
    """What a user's shell without AWS has: no AWS credentials, profile or instance metadata, no outer make, no
    pipeline variables, not a CI runner (with CI set, the CDK CLI writes its messages to stdout), a HOME of its own but
    the user's caches (the Control Tower rules and jsii's unpacked packages, hundreds of MB, are unpacked there once),
    and the machine's PATH without the venv (`path_first` before it)."""
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "CDK_", "PEF_")) and k not in ("CI", "MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES")}
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    jsii_cache = os.environ.get("JSII_RUNTIME_PACKAGE_CACHE_ROOT") or str(Path.home() / ".cache" / "aws" / "jsii" / "package-cache")
    return env | {
        "HOME": str(home), "XDG_CACHE_HOME": cache, "JSII_RUNTIME_PACKAGE_CACHE_ROOT": jsii_cache,
        "PATH": f"{path_first}:/usr/local/bin:/usr/bin:/bin" if path_first else "/usr/local/bin:/usr/bin:/bin",
        "AWS_EC2_METADATA_DISABLED": "true", "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-credentials"),
        "AWS_CONFIG_FILE": str(home / "no-config"), "CDK_DISABLE_CLI_TELEMETRY": "true",
    }


def main(argv: list[str]) -> int:
    command = argv[argv.index("--") + 1:] if "--" in argv else argv
    if not command:
        print("usage: own_config.py -- COMMAND…", file=sys.stderr)
        return 2
    env = {k: v for k, v in os.environ.items() if k not in PIPELINE_VARIABLES}
    context = json.loads((ROOT / "cdk.json").read_text()).get("context", {})
    keys = deployment_keys(context)
    if not keys and not (ROOT / CONTEXT_CACHE).exists():
        return subprocess.run(command, cwd=ROOT, env=env).returncode
    with tempfile.TemporaryDirectory(prefix="own-config-") as target:
        copy = own_copy(ROOT, Path(target))
        left = ", ".join(keys + ([CONTEXT_CACHE] if (ROOT / CONTEXT_CACHE).exists() else []))
        print(f"{' '.join(Path(c).name for c in command[:1])} runs on the project's own configuration, in {copy} "
              f"(without {left})", file=sys.stderr)
        return subprocess.run(command, cwd=copy, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
