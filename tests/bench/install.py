"""hss-reconciler as a user has it: built from this checkout, in a venv of its own.

The development venv is the wrong thing to time. Its editable install leaves
bytecode to the first import, which this machine's PYTHONDONTWRITEBYTECODE
never keeps. Its test extras also bring click and pygments, and when those are
present httpx's optional command line module imports them on every
`import httpx`. An install from the wheel has neither cost. The harness builds
that install once per benchmark.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def install_from_checkout(venv: Path, source: Path = REPO) -> str:
    """Create `venv` with the locked runtime and this checkout (a wheel, byte-compiled); its CLI's path.

    `source` is another tree of this repository instead (throttle.py's baseline revision).
    """
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    # The locked runtime (as README's first command installs it), then the checkout as a wheel.
    for args in (["-r", str(source / "requirements" / "runtime.txt")],
                 ["--no-deps", "--no-build-isolation", str(source)]):
        result = subprocess.run([*pip, *args], capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"installing the checkout into {venv} failed:\n{result.stderr[-2000:]}")
    cli = venv / "bin" / "hss-reconciler"
    version = subprocess.run([str(cli), "--version"], capture_output=True, text=True, check=True)
    if not version.stdout.startswith("hss-reconciler "):
        raise RuntimeError(f"{cli} --version printed {version.stdout!r}")
    return str(cli)


def compile_development_copy() -> None:
    """For --dev-venv: byte-compile the package, as pip does for a wheel."""
    import compileall

    compileall.compile_dir(str(REPO / "reconciler"), quiet=1)
