"""`validate --workspace-of` (the pre-commit hook's entry): the whole directory of each file named."""

from __future__ import annotations

import os
from pathlib import Path

from tests.e2e.conftest import run_cli
from tests.e2e.workspaces import registry, write_workspace


def test_each_directory_is_one_workspace_and_a_missing_file_is_named(tmp_path: Path) -> None:
    env = dict(os.environ)
    prod = write_workspace(tmp_path / "prod", [registry("same")])
    dev = write_workspace(tmp_path / "dev", [registry("same")])  # another workspace: no duplicate
    write_workspace(prod, [registry("other")], filename="unchanged.yaml")

    both = run_cli("validate", "--workspace-of", str(prod / "registries.yaml"), str(dev / "registries.yaml"),
                   env=env)
    assert both.code == 0, both.output
    assert "The configuration is valid: 3 registries in 2 targets (3 files)." in both.stdout

    write_workspace(prod, [registry("same")], filename="unchanged.yaml")
    again = run_cli("validate", "--workspace-of", str(prod / "registries.yaml"), env=env)
    assert again.code == 1 and "registry 'same' is declared twice" in again.stderr, again.output
    assert "unchanged.yaml" in again.stderr

    gone = run_cli("validate", "--workspace-of", str(dev / "gone.yaml"), env=env)
    assert gone.code == 1 and f"{dev / 'gone.yaml'}: no such file or directory" in gone.stderr, gone.output
