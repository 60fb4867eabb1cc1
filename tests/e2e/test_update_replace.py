"""Issue 3.2 and 3.3: in-place updates, replacements, password rotation without stored secrets."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import Hss
from tests.e2e.workspaces import PASSWORD, Api, cli, registry, state_of, write_workspace


def test_changed_field_is_an_in_place_update(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    assert cli(hss, "apply", str(ws), "--auto-approve").code == 0
    first_id = Api(hss).by_name()["alpha"]["id"]

    write_workspace(ws, [registry("alpha", registry_addr="new.example.com", api_version="V1")])
    plan = cli(hss, "plan", str(ws))
    assert "will be updated in-place" in plan.stdout
    assert "~ registry \"alpha\"" in plan.stdout
    assert '"alpha.example.com" -> "new.example.com"' in plan.stdout
    assert '"V2" -> "V1"' in plan.stdout
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in plan.stdout

    apply = cli(hss, "apply", str(ws), "--auto-approve")
    assert "Apply complete! Resources: 0 added, 1 changed, 0 destroyed." in apply.stdout, apply.output
    live = Api(hss).by_name()["alpha"]
    assert (live["id"], live["registry_addr"], live["api_version"]) == (first_id, "new.example.com", "V1")
    assert state_of(ws)["registries"][0]["attributes"]["registry_addr"] == "new.example.com"


def test_type_change_is_a_replacement(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    assert cli(hss, "apply", str(ws), "--auto-approve").code == 0
    old_id = Api(hss).by_name()["alpha"]["id"]

    write_workspace(ws, [registry("alpha", registry_type="Jfrog")])
    plan = cli(hss, "plan", str(ws))
    assert "must be replaced" in plan.stdout and "-/+ registry \"alpha\"" in plan.stdout
    assert "# forces replacement" in plan.stdout
    assert "Plan: 1 to add, 0 to change, 1 to destroy." in plan.stdout

    apply = cli(hss, "apply", str(ws), "--auto-approve")
    assert apply.code == 0, apply.output
    live = Api(hss).list()
    assert [(r["registry_name"], r["registry_type"]) for r in live] == [("alpha", "Jfrog")]
    assert live[0]["id"] != old_id
    assert state_of(ws)["registries"][0]["id"] == live[0]["id"]


def test_no_destroy_refuses_a_replacement_instead_of_deleting(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    assert cli(hss, "apply", str(ws), "--auto-approve").code == 0
    old_id = Api(hss).by_name()["alpha"]["id"]
    write_workspace(ws, [registry("alpha", registry_type="Jfrog")])

    for command in (["plan"], ["apply", "--auto-approve"]):
        result = cli(hss, *command, str(ws), "--no-destroy")
        assert result.code == 1, result.output
        assert "registry_type Harbor -> Jfrog replaces the registry (delete, then add), and " \
               "--no-destroy forbids the delete" in result.stderr
    assert [(r["id"], r["registry_type"]) for r in Api(hss).list()] == [(old_id, "Harbor")]


def test_password_version_rotates_without_storing_the_secret(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha", password_version=1)])
    assert cli(hss, "apply", str(ws), "--auto-approve").code == 0
    assert cli(hss, "plan", str(ws), "--detailed-exitcode").code == 0

    write_workspace(ws, [registry("alpha", password_version=2)])
    plan = cli(hss, "plan", str(ws), "--detailed-exitcode")
    assert plan.code == 2
    assert "(sensitive) (re-sent: password_version 1 -> 2)" in plan.stdout
    apply = cli(hss, "apply", str(ws), "--auto-approve")
    assert "0 added, 1 changed, 0 destroyed" in apply.stdout, apply.output
    assert cli(hss, "plan", str(ws), "--detailed-exitcode").code == 0

    state_text = (ws / "hss-reconciler.state.json").read_text()
    assert state_of(ws)["registries"][0]["password_version"] == 2
    assert PASSWORD not in state_text and PASSWORD not in apply.output
