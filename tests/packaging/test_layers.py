"""The import-layering contracts in pyproject.toml hold, and would catch an upward import.

`.ci/run` runs `lint-imports`; these tests show the contracts are kept today and
that they are not vacuous: one import against the grain in a copy of the package
breaks them, naming the import.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# By name on PATH: in the sdist's own run the venv borrows its tools from ours.
_SEARCH = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
LINT_IMPORTS = shutil.which("lint-imports", path=_SEARCH) or "lint-imports"


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}  # grimp finds `reconciler` here, not the checkout
    return subprocess.run([LINT_IMPORTS, "--no-cache", str(root / "pyproject.toml")], cwd=root,
                          env=env, capture_output=True, text=True, timeout=120, check=False)


def _copy_of_the_package(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "reconciler", tmp_path / "reconciler",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_contracts_are_kept(tmp_path: Path) -> None:
    result = _lint_imports(_copy_of_the_package(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout and "BROKEN" not in result.stdout


def test_an_upward_import_breaks_the_layers(tmp_path: Path) -> None:
    root = _copy_of_the_package(tmp_path)
    state_model = root / "reconciler" / "state" / "model.py"  # the state layer must not know the engine
    state_model.write_text(state_model.read_text() + "\nfrom reconciler.engine import session  # noqa\n")
    result = _lint_imports(root)
    assert result.returncode == 1, result.stdout
    assert "Imports point down the layers BROKEN" in result.stdout
    assert "reconciler.state.model -> reconciler.engine.session" in result.stdout


def test_the_emulator_may_not_use_the_engine(tmp_path: Path) -> None:
    root = _copy_of_the_package(tmp_path)
    store = root / "reconciler" / "emulator" / "store.py"
    store.write_text(store.read_text() + "\nfrom reconciler.plan import model  # noqa\n")
    result = _lint_imports(root)
    assert result.returncode == 1, result.stdout
    assert "The emulator is independent of the engine: it shares only the signing code BROKEN" in (
        result.stdout)
