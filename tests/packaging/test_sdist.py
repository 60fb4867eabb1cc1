"""The sdist is complete: it holds every file in git, installs on its own, and its tests run there.

A file the tests read but the sdist leaves out (`.pre-commit-hooks.yaml`,
SECURITY.md, a bad-input case, an example) fails here, not on a packager's
machine. The sdist is built by hatchling, the locked build backend, unpacked in
a temporary directory and installed from there, without the checkout, into a
venv of its own that borrows the already-installed dependencies.

Completeness is checked file by file against `git ls-files`, which is stronger
than running the suite there: it also catches a file no test happens to read.
The unpacked tree then runs a smoke of its own tests against that install (the
project files, the demo and the walking skeleton), which proves the tests work
from an sdist. Running the whole suite a second time there proved nothing more
and cost half of CI's five minutes on two cores.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tarfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Tests the unpacked sdist runs against its own install: they read the project files and drive the CLI.
SMOKE = ("tests/packaging/test_project_files.py", "tests/e2e/test_walking_skeleton.py")
# What the sdist must hold beyond the code: the files the tests and the docs point at.
REQUIRED = ("pyproject.toml", "README.md", "LICENSE", "SECURITY.md", ".pre-commit-hooks.yaml", ".ci/run",
            "docs/ARCHITECTURE.md", "requirements/runtime.txt", "requirements/test.txt",
            "reconciler/__init__.py", "schemas/registries.schema.json", "examples/quickstart/registries.yaml",
            "tests/cases/invalid", "tools/generate_validators.py")


def _tracked_files() -> set[str]:
    """Every file git tracks in the checkout (the sdist must hold them all)."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, check=True, capture_output=True).stdout
    return {name for name in listed.decode().split("\0") if name}


def _build_sdist(out: Path) -> Path:
    subprocess.run([sys.executable, "-m", "hatchling", "build", "--target", "sdist", "--directory", str(out)],
                   cwd=REPO, check=True, capture_output=True)
    (sdist,) = out.glob("hss_reconciler-*.tar.gz")
    return sdist


def _venv_borrowing_our_dependencies(venv: Path) -> Path:
    """A venv whose own site-packages is empty but for a .pth naming ours: dependencies, not this package."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          check=True, capture_output=True, text=True).stdout.strip()
    # A .pth line adds a directory without processing the .pth files inside it, so the
    # editable install of the checkout (a .pth in our site-packages) stays out.
    Path(site, "borrowed-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return python


def test_unpacked_sdist_holds_every_tracked_file_installs_and_runs_its_tests(tmp_path: Path) -> None:
    sdist = _build_sdist(tmp_path / "dist")
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
        archive.extractall(tmp_path / "unpacked", filter="data")
    (root,) = (tmp_path / "unpacked").iterdir()
    missing = [name for name in REQUIRED if not (root / name).exists()]
    assert not missing, f"the sdist leaves out {missing}"
    if (REPO / ".git").exists():  # built from a checkout (always in CI); from an sdist there is no git
        in_sdist = {name.split("/", 1)[1] for name in names if "/" in name}
        left_out = sorted(_tracked_files() - in_sdist)
        assert not left_out, f"the sdist leaves out files git tracks: {left_out[:20]}"
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]

    python = _venv_borrowing_our_dependencies(tmp_path / "venv")
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--no-deps", "--no-build-isolation", "--no-index", str(root)], check=True,
                   capture_output=True, text=True)
    location = subprocess.run([str(python), "-c", "import reconciler; print(reconciler.__file__)"],
                              cwd=tmp_path, check=True, capture_output=True, text=True).stdout
    assert location.startswith(str(tmp_path / "venv")), location  # the install, not the checkout

    # The tools the suite starts by name (pre-commit, check-jsonschema) are ours, after the new venv's.
    env = {**os.environ, "PATH": os.pathsep.join([str(python.parent), str(Path(sys.executable).parent),
                                                  os.environ.get("PATH", "")])}
    env.pop("PYTHONPATH", None)
    pytest = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--numprocesses", "0", *SMOKE]
    inner = subprocess.run(pytest, cwd=root, env=env, capture_output=True, text=True, timeout=300,
                           check=False)
    summary = inner.stdout.strip().splitlines()[-1] if inner.stdout.strip() else inner.stderr[-2000:]
    print(f"the unpacked sdist's own smoke: {summary}")
    assert inner.returncode == 0, inner.stdout[-6000:] + inner.stderr[-2000:]
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary
