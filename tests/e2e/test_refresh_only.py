"""Issue 17.3: `--refresh-only` records what HSS has in the state, after review; HSS is never changed."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import Hss
from tests.e2e.workspaces import TARGET, Api, cli, registry, state_of, write_workspace

DRIFT = "Changed outside of hss-reconciler"


def test_refresh_only_clears_the_drift_a_killed_run_left(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha", registry_username="robot"), registry("beta")])
    assert cli(hss, "apply", str(ws), "--auto-approve").code == 0
    api = Api(hss)
    # A run killed after HSS accepted `robot -> robot2` and before the state recorded it; and a
    # registry deleted by hand, which the state still manages.
    write_workspace(ws, [registry("alpha", registry_username="robot2"), registry("beta")])
    api.update(api.by_name()["alpha"]["id"], registry_username="robot2")
    gone = api.by_name()["beta"]["id"]
    api.delete(gone)
    write_workspace(ws, [registry("alpha", registry_username="robot2")])

    plan = cli(hss, "plan", str(ws))
    assert f'{DRIFT} since the last apply:\n  ~ {TARGET}/alpha: registry_username "robot" -> "robot2"' \
        in plan.stdout
    assert "Plan: 0 to add, 0 to change, 0 to destroy, 1 to forget." in plan.stdout

    refresh_plan = cli(hss, "plan", str(ws), "--refresh-only", "--detailed-exitcode")
    assert refresh_plan.code == 2, refresh_plan.output
    assert f"  - {TARGET}/beta: no longer exists in HSS (leaves the state)" in refresh_plan.stdout
    assert "Refresh-only plan: 2 registries to record in the state, nothing to change in HSS." \
        in refresh_plan.stdout
    as_json = json.loads(cli(hss, "plan", str(ws), "--refresh-only", "--format", "json").stdout)
    assert as_json["refresh_only"] is True and as_json["changes"] == []
    assert {(d["address"], d["field"], d["live"]) for d in as_json["drift"]} == {
        (f"{TARGET}/alpha", "registry_username", "robot2"), (f"{TARGET}/beta", "registry_id", None)}

    before = state_of(ws)
    unapproved = cli(hss, "apply", str(ws), "--refresh-only", stdin="")
    assert unapproved.code == 1 and "apply needs approval" in unapproved.stderr
    assert state_of(ws) == before
    requests = api.stats()["requests"]
    applied = cli(hss, "apply", str(ws), "--refresh-only", "--auto-approve")
    assert applied.code == 0, applied.output
    assert "Recorded what HSS has now for 2 registries in the state (1 no longer in HSS, forgotten)" \
        in applied.stdout
    assert "Apply complete! Resources: 0 added, 0 changed, 0 destroyed." in applied.stdout
    sent = {op for op, n in api.stats()["requests"].items() if requests.get(op) != n}
    assert sent == {"ListRegistry"}  # HSS was read, never written
    entries = state_of(ws)["registries"]
    assert [(e["registry_name"], e["attributes"]["registry_username"]) for e in entries] == \
        [("alpha", "robot2")]
    assert state_of(ws)["serial"] == before["serial"] + 1

    after = cli(hss, "plan", str(ws), "--detailed-exitcode")
    assert after.code == 0, after.output
    assert DRIFT not in after.stdout and "No changes." in after.stdout
    quiet = cli(hss, "plan", str(ws), "--refresh-only", "--detailed-exitcode")
    assert quiet.code == 0 and "No changes. The state records what HSS has." in quiet.stdout


def test_refresh_only_needs_the_refresh_and_cannot_be_saved(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    no_refresh = cli(hss, "plan", str(ws), "--refresh-only", "--refresh=false")
    assert no_refresh.code == 1 and "--refresh-only records what HSS has now" in no_refresh.stderr
    saved = cli(hss, "plan", str(ws), "--refresh-only", "-out", str(tmp_path / "plan.json"))
    assert saved.code == 1 and "a refresh-only plan cannot be saved" in saved.stderr
    assert not (tmp_path / "plan.json").exists()
