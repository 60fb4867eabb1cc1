"""Issue 3.1: refresh reads HSS, reports drift, re-creates what vanished, shows access status."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import Hss
from tests.e2e.workspaces import TARGET, Api, cli, registry, write_workspace


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
