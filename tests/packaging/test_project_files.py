"""The project's own files agree with each other: locks, CI, README, license, package list.

Each of these drifted once without any test noticing: a floor-only dependency
moved under the README's test command, and CI kept passing on an old machine.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
RUNTIME = PYPROJECT["project"]["dependencies"]
LOCKS = {"runtime.txt": RUNTIME, "test.txt": RUNTIME + PYPROJECT["project"]["optional-dependencies"]["test"]}
REGENERATE = "python3 tools/lock.py"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)


def _pins(lock: str) -> dict[str, str]:
    return {canonicalize_name(name): version for name, version in PIN.findall(lock)}


@pytest.mark.parametrize("lock_name", sorted(LOCKS))
def test_every_requirement_is_pinned_in_the_lock_within_its_range(lock_name: str) -> None:
    # pyproject.toml changed without `python3 tools/lock.py`: the lock would install something else.
    pins = _pins((REPO / "requirements" / lock_name).read_text())
    for text in [*LOCKS[lock_name], *PYPROJECT["build-system"]["requires"]]:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"requirements/{lock_name} has no pin for {text}: run {REGENERATE}"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements/{lock_name} pins {name}=={pins[name]}, outside {text}: run {REGENERATE}")


@pytest.mark.parametrize("lock_name", sorted(LOCKS))
def test_every_pin_carries_hashes(lock_name: str) -> None:
    # pip installs a file only if its hash is listed: a replaced upload on the index is refused.
    lock = (REPO / "requirements" / lock_name).read_text()
    pinned = [entry for entry in re.split(r"\n(?=[A-Za-z0-9])", lock) if PIN.match(entry)]
    # One entry per pin line: one package pinned under exclusive markers (networkx) counts twice.
    assert len(pinned) == len(PIN.findall(lock)) > 5
    unhashed = [entry.split()[0] for entry in pinned if "--hash=sha256:" not in entry]
    assert not unhashed


def _readme_command(number: int) -> str:
    readme = (REPO / "README.md").read_text()
    block = readme[readme.index("## Two commands"):]
    commands = [line for line in block.split("```sh", 1)[1].split("```", 1)[0].splitlines()
                if line and not line.startswith("#")]
    return commands[number - 1]


def test_ci_runs_exactly_the_readme_test_command_then_the_gates() -> None:
    test_command = _readme_command(2)
    assert "requirements/test.txt" in test_command and test_command.endswith("python -m pytest")
    ci = [line for line in (REPO / ".ci" / "run").read_text().splitlines()
          if line and not line.startswith("#")]
    assert test_command in ci
    gates = [".venv/bin/ruff check .", ".venv/bin/mypy", ".venv/bin/lint-imports"]
    assert ci[ci.index(test_command) + 1:] == gates


def test_readme_setup_command_installs_the_runtime_lock() -> None:
    assert "-r requirements/runtime.txt" in _readme_command(1)
    assert "requirements/test.txt" not in _readme_command(1)


def test_license_file_is_the_declared_license() -> None:
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]
    text = (REPO / "LICENSE").read_text()
    assert text.split()[:4] == ["Apache", "License", "Version", "2.0,"]
    assert "END OF TERMS AND CONDITIONS" in text


def test_pyproject_names_only_real_packages() -> None:
    packages = PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    assert packages == ["reconciler"]  # tests (and tests.bench) never ship in the wheel
    for package in packages:
        assert (REPO / package.replace(".", "/") / "__init__.py").is_file()
    for package in PYPROJECT["tool"]["mypy"]["packages"]:
        assert (REPO / package.replace(".", "/") / "__init__.py").is_file(), package
