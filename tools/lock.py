"""Regenerate the dependency locks in requirements/ from pyproject.toml.

    python3 tools/lock.py            # rewrite requirements/runtime.txt and requirements/test.txt
    python3 tools/lock.py --upgrade  # the same, moving every pin to the newest allowed release

The locks are pip requirement files with a hash for every file of every pinned
release, so plain `pip install -r` (the pip a fresh Python 3.11 already has)
installs exactly them and refuses anything else. They are resolved by
`uv pip compile --universal`: one lock that holds on every Python >= 3.11 and
every platform, with markers where a dependency differs (pip-tools resolves
only for the interpreter that runs it). uv is installed, at the pinned version
below, into a throwaway venv, so regenerating needs nothing but Python.

Each lock also pins the build backend (pyproject's [build-system]) so the
project itself installs with `--no-build-isolation`, from locked packages only.
Without --upgrade, existing pins are kept where they still satisfy
pyproject.toml, so a new dependency does not move the others.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import tomllib
import venv
from pathlib import Path

UV = "uv==0.13.9"
ROOT = Path(__file__).resolve().parents[1]
LOCKS = {"runtime.txt": [], "test.txt": ["--extra", "test"]}
COMMAND = "python3 tools/lock.py"


def _install_uv(scratch: Path) -> Path:
    venv.create(scratch / "uv", with_pip=True)
    bindir = scratch / "uv" / ("Scripts" if sys.platform == "win32" else "bin")
    subprocess.run([str(bindir / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", UV],
                   check=True)
    return bindir / "uv"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upgrade", action="store_true", help="move every pin to the newest allowed release")
    args = parser.parse_args()

    build_requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        uv = _install_uv(scratch)
        build_in = scratch / "build-system.in"
        build_in.write_text("".join(f"{requirement}\n" for requirement in build_requires))
        for name, extras in LOCKS.items():
            output = ROOT / "requirements" / name
            output.parent.mkdir(exist_ok=True)
            subprocess.run(
                [str(uv), "pip", "compile", "--quiet", "pyproject.toml", str(build_in), *extras,
                 "--universal", "--generate-hashes", "--index-url", "https://pypi.org/simple",
                 "--custom-compile-command", COMMAND, "--output-file", str(output),
                 *(["--upgrade"] if args.upgrade else [])],
                cwd=ROOT, check=True)
            # uv names the temporary build-system file in "# via" comments; name pyproject's table instead.
            text = output.read_text().replace(str(build_in), "pyproject.toml [build-system]")
            output.write_text(text)
            print(f"wrote {output.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
