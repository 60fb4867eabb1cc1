"""Issue 19.5: a registry file named *.YAML or *.YML is read like any other.

Skipped, a rename to upper case (or a file made on a system that upper-cases
names) planned the destruction of every registry it declares.
"""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import Hss
from tests.e2e.workspaces import Api, cli, registry, write_workspace


def test_renaming_a_registry_file_to_upper_case_plans_no_change(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("first")])
    write_workspace(ws, [registry("second")], project="1" * 32, filename="other.yml")
    assert cli(hss, "apply", str(ws), "--auto-approve").code == 0

    (ws / "registries.yaml").rename(ws / "REGISTRIES.YAML")
    (ws / "other.yml").rename(ws / "Other.Yml")

    plan = cli(hss, "plan", str(ws), "--detailed-exitcode")
    assert plan.code == 0, plan.output
    assert "No changes." in plan.stdout
    validated = cli(hss, "validate", str(ws))
    valid = "The configuration is valid: 2 registries in 2 targets (2 files)."
    assert valid in validated.stdout, validated.output
    assert [r["registry_name"] for r in Api(hss).list()] == ["first"]
