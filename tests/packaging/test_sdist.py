"""The sdist is complete: unpacked and installed on its own, it passes its own test suite.

A file the tests read but the sdist leaves out (`.pre-commit-hooks.yaml`,
SECURITY.md, a bad-input case, an example) fails here, not on a packager's
machine. The sdist is built by hatchling, the locked build backend, unpacked in
a temporary directory and installed from there, without the checkout, into a
venv of its own that borrows the already-installed dependencies. The suite then
runs from the unpacked tree against that install; only this test is left out
of the inner run, which would otherwise build the sdist again, without end.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tarfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
THIS_TEST = "tests/packaging/test_sdist.py"
# What the sdist must hold beyond the code: the files the tests and the docs point at.
REQUIRED = ("pyproject.toml", "README.md", "LICENSE", "SECURITY.md", ".pre-commit-hooks.yaml", ".ci/run",
            "docs/ARCHITECTURE.md", "requirements/runtime.txt", "requirements/test.txt",
            "reconciler/__init__.py", "schemas/registries.schema.json", "examples/quickstart/registries.yaml",
            "tests/cases/invalid", "tools/generate_validators.py")


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


def test_unpacked_sdist_installs_and_passes_its_own_suite(tmp_path: Path) -> None:
    sdist = _build_sdist(tmp_path / "dist")
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
        archive.extractall(tmp_path / "unpacked", filter="data")
    (root,) = (tmp_path / "unpacked").iterdir()
    missing = [name for name in REQUIRED if not (root / name).exists()]
    assert not missing, f"the sdist leaves out {missing}"
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
    pytest = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--deselect", THIS_TEST]
    inner = subprocess.run(pytest, cwd=root, env=env, capture_output=True, text=True, timeout=900,
                           check=False)
    summary = inner.stdout.strip().splitlines()[-1] if inner.stdout.strip() else inner.stderr[-2000:]
    print(f"the unpacked sdist's own suite: {summary}")
    assert inner.returncode == 0, inner.stdout[-6000:] + inner.stderr[-2000:]
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary
