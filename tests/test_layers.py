"""The package's layers, checked by import-linter (contracts in pyproject.toml): imports point down only."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
PACKAGE = ROOT / "private_eks_fargate"


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root, capture_output=True, text=True, timeout=120, env={"PYTHONPATH": str(root), "PATH": ""},
    )


def test_every_contract_is_kept():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 5 kept, 0 broken." in result.stdout


def test_a_building_block_importing_the_composition_breaks_the_layers(tmp_path):
    shutil.copytree(PACKAGE, tmp_path / "private_eks_fargate", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    block = tmp_path / "private_eks_fargate" / "blocks" / "network.py"
    block.write_text(block.read_text() + "\nfrom ..composition import platform  # noqa: E402\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "Contracts: 4 kept, 1 broken." in result.stdout
    assert "private_eks_fargate.blocks.network -> private_eks_fargate.composition.platform" in result.stdout


def test_no_module_imports_the_package_root():
    """The root's names are loaded lazily, which import-linter cannot follow: a module importing them would hide an
    upward import. So no module of the package imports from the root."""
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) > 30
    root_import = re.compile(r"^\s*(from private_eks_fargate import|import private_eks_fargate\s*$|from \.\.+ import)", re.M)
    offenders = [str(m.relative_to(ROOT)) for m in modules if m.name != "__init__.py" and root_import.search(m.read_text())]
    assert offenders == []
