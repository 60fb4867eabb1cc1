"""The pre-commit hooks, installed by pre-commit itself from a git repository of this checkout.

pre-commit installs a hook repository at a commit, so the hook repository is a
temporary git repository holding this working tree's package files, committed.
pre-commit builds its own virtualenv and pip-installs the package into it (from
the configured package index): that is the slow part, about 8 s each time, and
`try-repo` always starts from a fresh store, so the test does it twice only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import QUICKSTART, REPO, Result

PACKAGE_FILES = ("pyproject.toml", "README.md", "LICENSE", ".pre-commit-hooks.yaml", "reconciler", "schemas",
                 "examples/quickstart")
SAMPLE_CONFIG = REPO / "examples" / "pre-commit" / ".pre-commit-config.yaml"
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "PRE_COMMIT_HOME": str(home), "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1", "PRE_COMMIT_COLOR": "never"}


def _pre_commit(*args: str, cwd: Path, home: Path) -> Result:
    proc = subprocess.run(["pre-commit", *args], cwd=cwd, env=_env(home), capture_output=True, text=True,
                          timeout=300, check=False)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def _git_repo(path: Path) -> str:
    subprocess.run(["git", "init", "--quiet", "-b", "main", str(path)], check=True, env=_env(path))
    subprocess.run([*GIT, "add", "."], cwd=path, check=True, env=_env(path))
    subprocess.run([*GIT, "commit", "--quiet", "-m", "init"], cwd=path, check=True, env=_env(path))
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=path, check=True, capture_output=True,
                          text=True, env=_env(path)).stdout.strip()


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    repo = tmp_path_factory.mktemp("hook-repo")
    for name in PACKAGE_FILES:
        source, target = REPO / name, repo / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
    yield repo, _git_repo(repo)


def _sample(tmp_path: Path, files: dict[str, str]) -> Path:
    sample = tmp_path / "sample"
    (sample / "registries").mkdir(parents=True)
    for name, text in files.items():
        (sample / "registries" / name).write_text(text)
    _git_repo(sample)
    return sample


GOOD = QUICKSTART.joinpath("registries.yaml").read_text()
BAD = GOOD.replace("protocol: https", "protocol: ftp", 1)
MESSY = GOOD.replace("version: 1\n", "").replace("registries:\n", "version: 1\nregistries:\n")


def test_manifest_and_sample_config_are_valid(tmp_path: Path) -> None:
    assert _pre_commit("validate-manifest", str(REPO / ".pre-commit-hooks.yaml"), cwd=tmp_path,
                       home=tmp_path).code == 0
    assert _pre_commit("validate-config", str(SAMPLE_CONFIG), cwd=tmp_path, home=tmp_path).code == 0
    broken = tmp_path / "hooks.yaml"
    manifest = (REPO / ".pre-commit-hooks.yaml").read_text()
    broken.write_text(manifest.replace("language: python", "language: 3"))
    assert _pre_commit("validate-manifest", str(broken), cwd=tmp_path, home=tmp_path).code != 0


def test_try_repo_validate_fails_naming_only_the_bad_file(
        hook_repo: tuple[Path, str], tmp_path: Path) -> None:
    repo, _ = hook_repo
    sample = _sample(tmp_path, {"good.yaml": GOOD, "bad.yaml": BAD})
    result = _pre_commit("try-repo", str(repo), "hss-reconciler-validate", "--all-files", cwd=sample,
                         home=tmp_path / "store")
    assert result.code == 1, result.output
    assert "hss-reconciler validate" in result.stdout and "Failed" in result.stdout
    errors = [line for line in result.stdout.splitlines() if line.startswith("Error: ")]
    assert errors and all(line.startswith("Error: registries/bad.yaml:") for line in errors), errors
    assert "registries/bad.yaml:14:15: registries[0].protocol: " in result.stdout


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One pre-commit store for the tests that run the sample config: the hook's virtualenv is built once."""
    return tmp_path_factory.mktemp("store")


def _renamed(text: str, names: dict[str, str]) -> str:
    for old, new in names.items():
        text = text.replace(old, new)
    return text


def _with_sample_config(sample: Path, hook_repo: tuple[Path, str]) -> None:
    repo, rev = hook_repo
    config = SAMPLE_CONFIG.read_text()
    config = config.replace("https://github.com/your-org/hss-reconciler", str(repo)).replace("v0.1.0", rev)
    (sample / ".pre-commit-config.yaml").write_text(config)


def test_sample_config_formats_then_validates(hook_repo: tuple[Path, str], tmp_path: Path,
                                              store: Path) -> None:
    # Other names: the validate hook reads the whole workspace, where a repeated name is an error.
    renamed = {"harbor-prod": "harbor-2", "jfrog-build": "jfrog-2"}
    sample = _sample(tmp_path, {"good.yaml": GOOD, "messy.yaml": _renamed(MESSY, renamed)})
    _with_sample_config(sample, hook_repo)

    good = _pre_commit("run", "--files", "registries/good.yaml", cwd=sample, home=store)
    assert good.code == 0, good.output
    assert good.stdout.count("Passed") == 2

    messy = _pre_commit("run", "--files", "registries/messy.yaml", cwd=sample, home=store)
    assert messy.code == 1, messy.output
    assert "files were modified by this hook" in messy.stdout
    assert (sample / "registries" / "messy.yaml").read_text() == _renamed(GOOD, renamed)
    again = _pre_commit("run", "--files", "registries/messy.yaml", cwd=sample, home=store)
    assert again.code == 0, again.output


def test_validate_hook_finds_a_registry_declared_again_in_an_unstaged_file_of_the_workspace(
        hook_repo: tuple[Path, str], tmp_path: Path, store: Path) -> None:
    # Issue 19.6: only the new file is staged; the registry it repeats is in a committed one.
    sample = _sample(tmp_path, {"committed.yaml": GOOD})
    _with_sample_config(sample, hook_repo)
    (sample / "registries" / "Copy.YAML").write_text(GOOD)
    subprocess.run([*GIT, "add", "registries/Copy.YAML"], cwd=sample, check=True, env=_env(sample))

    result = _pre_commit("run", "hss-reconciler-validate", cwd=sample, home=store)

    assert result.code == 1, result.output
    assert "registry 'harbor-prod' is declared twice in target" in result.stdout
    assert "registries/Copy.YAML" in result.stdout and "registries/committed.yaml" in result.stdout
