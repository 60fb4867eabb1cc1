"""Issue 17.5: a renamed registry, or one moved to another target, is created first, then deleted.

The order is read from the emulator's own access log (method, path, status per
answer, in the order it answered), so it is HSS's view of the apply, not ours.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from tests.e2e.conftest import Hss
from tests.e2e.stores import ForwardingHandler, misbehaving_proxy
from tests.e2e.test_cli_habits import _validator
from tests.e2e.workspaces import PROJECT, Api, cli, registry, state_of, write_workspace

OTHER_PROJECT = "9f8e7d6c5b4a49382716a5b4c3d2e1f0"
SHARED_ADDR = "harbor.shared.example.com"


@pytest.fixture
def hss(fresh_hss: Hss) -> Hss:
    return fresh_hss  # one emulator for the module, reset for each test


def _answered(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The registry calls that changed something, as the emulator answered them: 'POST p -> 200'."""
    lines = [r.getMessage() for r in caplog.records if r.name == "reconciler.emulator"]
    return [line for line in lines if line.startswith(("POST /v5/", "DELETE /v5/", "PUT /v5/"))]


def _deny_deletes(handler: ForwardingHandler) -> bool:
    """invented: an IAM policy that denies DeleteRegistry (403, HSS's error shape); the rest goes through."""
    if handler.command != "DELETE":
        return False
    body = json.dumps({"error_code": "HSS.1010", "error_msg": "Delete denied by policy"}).encode()
    handler._answer(403, [("Content-Type", "application/json")], body)
    return True


def _applied(ws: Path, names: list[str], project: str = PROJECT) -> dict[str, str]:
    """The state's entries (name -> id); each must be the registry HSS has under that name."""
    entries = state_of(ws)["registries"]
    assert [e["registry_name"] for e in entries] == names
    assert all(e["target"]["project_id"] == project for e in entries)
    return {e["registry_name"]: e["id"] for e in entries}


def test_a_renamed_registry_is_created_before_the_old_one_is_deleted(
        hss: Hss, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha", registry_addr=SHARED_ADDR)])
    assert cli(hss, "apply", str(ws), "--auto-approve").code == 0
    old_id = Api(hss).by_name()["alpha"]["id"]

    write_workspace(ws, [registry("beta", registry_addr=SHARED_ADDR)])
    plan_file = tmp_path / "plan.json"
    plan = cli(hss, "plan", str(ws), "-out", str(plan_file))
    assert plan.code == 0, plan.output
    target = f"ap-southeast-1/{PROJECT}/0"
    assert f"# {target}/alpha -> {target}/beta will be moved" in plan.stdout
    assert "# (moved: created first, then the old one deleted)" in plan.stdout
    assert '→ registry "beta" {' in plan.stdout
    assert '~ registry_name          = "alpha" -> "beta"' in plan.stdout
    assert "Plan: 1 to move, 0 to add, 0 to change, 0 to destroy." in plan.stdout
    saved = json.loads(plan_file.read_text())
    assert [(c["action"], c["moved_from"]["address"], c["move_order"]) for c in saved["changes"]] == \
        [("move", f"{target}/alpha", "create_first")]

    with caplog.at_level(logging.DEBUG, logger="reconciler.emulator"):
        apply = cli(hss, "apply", str(plan_file))  # the saved plan carries the move
    assert apply.code == 0, apply.output
    assert f"{target}/beta: Moving..." in apply.output
    assert "Apply complete! Resources: 1 moved, 0 added, 0 changed, 0 destroyed." in apply.stdout
    base = f"/v5/{PROJECT}/image/registries"
    assert _answered(caplog) == [f"POST {base} -> 200", f"DELETE {base}/{old_id} -> 200"]

    live = Api(hss).by_name()
    assert list(live) == ["beta"] and live["beta"]["registry_addr"] == SHARED_ADDR
    assert _applied(ws, ["beta"]) == {"beta": live["beta"]["id"]}
    again = cli(hss, "plan", str(ws), "--detailed-exitcode")
    assert again.code == 0 and "No changes." in again.stdout, again.output


def test_a_registry_moved_to_another_project_is_created_there_first(
        hss: Hss, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha", registry_addr=SHARED_ADDR)])
    assert cli(hss, "apply", str(ws), "--auto-approve").code == 0
    old_id = Api(hss).by_name()["alpha"]["id"]

    write_workspace(ws, [registry("alpha", registry_addr=SHARED_ADDR)], project=OTHER_PROJECT)
    with caplog.at_level(logging.DEBUG, logger="reconciler.emulator"):
        apply = cli(hss, "apply", str(ws), "--auto-approve", "--format", "json")
    assert apply.code == 0, apply.output
    document = json.loads(apply.stdout)
    assert list(_validator("apply-output").iter_errors(document)) == []
    (change,) = document["plan"]["changes"]
    assert (change["action"], change["address"], change["moved_from"]["address"], change["move_order"]) == (
        "move", f"ap-southeast-1/{OTHER_PROJECT}/0/alpha", f"ap-southeast-1/{PROJECT}/0/alpha",
        "create_first")
    assert (document["result"]["moved"], document["result"]["added"], document["result"]["destroyed"]) == \
        (1, 0, 0)
    assert _answered(caplog) == [f"POST /v5/{OTHER_PROJECT}/image/registries -> 200",
                                 f"DELETE /v5/{PROJECT}/image/registries/{old_id} -> 200"]
    assert Api(hss).list() == []
    moved = Api(hss, project=OTHER_PROJECT).by_name()
    assert list(moved) == ["alpha"]
    assert _applied(ws, ["alpha"], OTHER_PROJECT) == {"alpha": moved["alpha"]["id"]}
    assert "No changes." in cli(hss, "plan", str(ws)).stdout


def test_a_failed_create_leaves_the_old_registry_in_hss_and_in_the_state(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha", registry_addr=SHARED_ADDR)])
    assert cli(hss, "apply", str(ws), "--auto-approve").code == 0
    old_id = Api(hss).by_name()["alpha"]["id"]
    state_before = state_of(ws)["registries"]

    write_workspace(ws, [registry("beta", registry_addr=SHARED_ADDR)])
    # A full project refuses the add, the risk of creating first: at most one registry here now.
    Api(hss).configure(max_registries_per_project=1)
    apply = cli(hss, "apply", str(ws), "--auto-approve")
    assert apply.code == 1, apply.output
    assert "registry quota exceeded" in apply.stderr
    assert f"the old registry ap-southeast-1/{PROJECT}/0/alpha was left as it is, in HSS and in the state" \
        in apply.stderr
    assert "Apply failed for 1 of 1 changes." in apply.stderr
    assert [(r["id"], r["registry_name"]) for r in Api(hss).list()] == [(old_id, "alpha")]
    assert state_of(ws)["registries"] == state_before  # still alpha, with its id: what HSS has

    Api(hss).configure(max_registries_per_project=100)
    plan = cli(hss, "plan", str(ws))
    assert "Plan: 1 to move, 0 to add, 0 to change, 0 to destroy." in plan.stdout, plan.output


def test_an_undeletable_old_one_leaves_the_new_one_added_with_its_id_and_the_next_plan_deletes_the_old(
        hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha", registry_addr=SHARED_ADDR)])
    assert cli(hss, "apply", str(ws), "--auto-approve").code == 0
    old_id = Api(hss).by_name()["alpha"]["id"]

    write_workspace(ws, [registry("beta", registry_addr=SHARED_ADDR)])
    with misbehaving_proxy(hss.server.url, _deny_deletes) as denying:
        apply = cli(hss, "apply", str(ws), "--auto-approve", HSS_ENDPOINT=denying)
    assert apply.code == 1, apply.output
    target = f"ap-southeast-1/{PROJECT}/0"
    assert f"created, but deleting the old registry {target}/alpha failed" in apply.stderr
    assert "Apply failed for 1 of 1 changes. Resources: 1 added, 0 changed, 0 destroyed." in apply.stderr
    live = Api(hss).by_name()
    assert sorted(live) == ["alpha", "beta"]
    new_id = live["beta"]["id"]
    assert f"{target}/beta: Recorded [id={new_id}]" in apply.output  # learned in this run
    assert _applied(ws, ["alpha", "beta"]) == {"alpha": old_id, "beta": new_id}

    plan = cli(hss, "plan", str(ws))
    assert "Plan: 0 to add, 0 to change, 1 to destroy." in plan.stdout, plan.output
    assert f"# {target}/alpha will be destroyed" in plan.stdout
    assert "adopt" not in plan.stdout  # nothing left to learn about beta
    finish = cli(hss, "apply", str(ws), "--auto-approve")
    assert finish.code == 0, finish.output
    assert list(Api(hss).by_name()) == ["beta"]
    assert _applied(ws, ["beta"]) == {"beta": new_id}
