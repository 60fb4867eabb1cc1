"""Issue 3.1: refresh reads HSS, reports drift, re-creates what vanished, shows access status."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import Hss
from tests.e2e.workspaces import TARGET, Api, cli, registry, state_of, write_workspace


def _applied(hss: Hss, tmp_path: Path, *names: str) -> Path:
    ws = write_workspace(tmp_path / "ws", [registry(n) for n in names])
    result = cli(hss, "apply", str(ws), "--auto-approve")
    assert result.code == 0, result.output
    return ws


def test_change_made_in_hss_is_reported_as_drift_and_planned_back(hss: Hss, tmp_path: Path) -> None:
    ws = _applied(hss, tmp_path, "alpha", "beta")
    api = Api(hss)
    api.update(api.by_name()["alpha"]["id"], registry_addr="changed.example.com")

    plan = cli(hss, "plan", str(ws), "--detailed-exitcode")
    assert plan.code == 2, plan.output
    assert "Changed outside of hss-reconciler since the last apply:" in plan.stdout
    assert f'~ {TARGET}/alpha: registry_addr "alpha.example.com" -> "changed.example.com"' in plan.stdout
    assert '"changed.example.com" -> "alpha.example.com"' in plan.stdout
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in plan.stdout

    assert cli(hss, "apply", str(ws), "--auto-approve").code == 0
    assert api.by_name()["alpha"]["registry_addr"] == "alpha.example.com"


def test_registry_deleted_in_hss_is_created_again(hss: Hss, tmp_path: Path) -> None:
    ws = _applied(hss, tmp_path, "alpha")
    api = Api(hss)
    api.delete(api.by_name()["alpha"]["id"])

    plan = cli(hss, "plan", str(ws))
    assert "will be created" in plan.stdout and "no longer exists in HSS" in plan.stdout
    assert "Plan: 1 to add, 0 to change, 0 to destroy." in plan.stdout
    assert cli(hss, "apply", str(ws), "--auto-approve").code == 0
    assert list(api.by_name()) == ["alpha"]


def test_failing_access_status_shows_in_plan_and_show(hss: Hss, tmp_path: Path) -> None:
    ws = _applied(hss, tmp_path, "alpha")
    api = Api(hss)
    api.fail(api.by_name()["alpha"]["id"], "REQUEST_API_ERROR")

    plan = cli(hss, "plan", str(ws))
    assert plan.code == 0
    assert f"{TARGET}/alpha: HSS cannot access this registry (status fail, REQUEST_API_ERROR)" in plan.stdout
    show = cli(hss, "show", str(ws))
    assert show.code == 0, show.output
    assert 'status                 = fail, REQUEST_API_ERROR' in show.stdout.replace("  ", " ") or \
        "fail, REQUEST_API_ERROR" in show.stdout
    assert "1 managed registry, 1 that HSS cannot access." in show.stdout


def test_refresh_false_never_contacts_hss(hss: Hss, tmp_path: Path) -> None:
    ws = _applied(hss, tmp_path, "alpha")
    unreachable = {"HSS_ENDPOINT": "http://127.0.0.1:9"}
    plan = cli(hss, "plan", str(ws), "--refresh=false", "--detailed-exitcode", **unreachable)
    assert plan.code == 0, plan.output
    assert "planned from the state file only" in plan.stdout
    refreshed = cli(hss, "plan", str(ws), **unreachable)
    assert refreshed.code == 1 and "Traceback" not in refreshed.output


def test_unmanaged_registries_are_counted_once_and_never_touched(hss: Hss, tmp_path: Path) -> None:
    ws = _applied(hss, tmp_path, "alpha")
    api = Api(hss)
    outsider = api.add("someone-elses")
    plan = cli(hss, "plan", str(ws), "--detailed-exitcode")
    assert plan.code == 0, plan.output
    assert plan.stdout.count("not managed by hss-reconciler") == 1
    assert "1 registry in HSS not managed by hss-reconciler (left untouched)." in plan.stdout
    write_workspace(ws, [])
    destroy = cli(hss, "apply", str(ws), "--auto-approve")
    assert destroy.code == 0, destroy.output
    assert [item["id"] for item in api.list()] == [outsider]


def test_registry_remade_outside_under_the_same_name_is_adopted_not_created(
        hss: Hss, tmp_path: Path) -> None:
    ws = _applied(hss, tmp_path, "alpha")
    api = Api(hss)
    api.delete(api.by_name()["alpha"]["id"])
    theirs = api.add("alpha", registry_addr="colleague.example.com")

    plan = cli(hss, "plan", str(ws))
    assert plan.code == 0, plan.output
    assert "will be created" not in plan.stdout
    assert f"{TARGET}/alpha will be adopted" in plan.stdout, plan.stdout
    assert '"colleague.example.com" -> "alpha.example.com"' in plan.stdout
    assert cli(hss, "apply", str(ws), "--auto-approve").code == 0
    assert [(r["id"], r["registry_addr"]) for r in api.list()] == [(theirs, "alpha.example.com")]
    assert [e["id"] for e in state_of(ws)["registries"]] == [theirs]


def test_saved_create_meeting_someone_elses_registry_of_that_name_leaves_it_alone(
        hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    plan_file = tmp_path / "plan.json"
    assert cli(hss, "plan", str(ws), "-out", str(plan_file)).code == 0
    api = Api(hss)
    theirs = api.add("alpha", registry_type="Jfrog", registry_addr="colleague.example.com")

    applied = cli(hss, "apply", str(plan_file))
    # apply FILE plans afresh, which finds theirs: the reviewed create is no longer what would happen.
    assert applied.code == 4, applied.output
    assert f"{TARGET}/alpha: the plan file would create it; a fresh plan does not" in applied.stderr
    assert theirs in api.by_name()["alpha"]["id"]
    after = api.by_name()["alpha"]
    assert (after["registry_type"], after["registry_addr"]) == ("Jfrog", "colleague.example.com")
    assert not (ws / "hss-reconciler.state.json").exists()  # nothing was recorded


def _forget_ids(ws: Path) -> None:
    """As a run killed after HSS accepted its adds, before it learned their ids, leaves the state."""
    path = ws / "hss-reconciler.state.json"
    data = json.loads(path.read_text())
    for entry in data["registries"]:
        entry["id"] = None
    path.write_text(json.dumps(data))


def test_without_refresh_entries_whose_id_was_never_learned_are_found_by_name(
        hss: Hss, tmp_path: Path) -> None:
    ws = _applied(hss, tmp_path, "alpha", "beta")
    _forget_ids(ws)
    api = Api(hss)
    write_workspace(ws, [registry("alpha", registry_addr="moved.example.com")])

    applied = cli(hss, "apply", str(ws), "--refresh=false", "--auto-approve")
    assert applied.code == 0, applied.output
    assert "1 changed, 1 destroyed" in applied.stdout
    assert [(r["registry_name"], r["registry_addr"]) for r in api.list()] == [
        ("alpha", "moved.example.com")]
    assert [(e["registry_name"], e["id"]) for e in state_of(ws)["registries"]] == [
        ("alpha", api.by_name()["alpha"]["id"])]


def test_without_refresh_an_entry_neither_known_by_id_nor_in_hss_is_a_clear_error(
        hss: Hss, tmp_path: Path) -> None:
    ws = _applied(hss, tmp_path, "alpha")
    _forget_ids(ws)
    api = Api(hss)
    api.delete(api.by_name()["alpha"]["id"])
    write_workspace(ws, [registry("alpha", registry_addr="moved.example.com")])

    applied = cli(hss, "apply", str(ws), "--refresh=false", "--auto-approve")
    assert applied.code == 1, applied.output
    assert f"Error: {TARGET}/alpha: HSS has no registry named 'alpha' and its id was never learned" \
        in applied.stderr
    assert "Traceback" not in applied.output and "bug" not in applied.output
