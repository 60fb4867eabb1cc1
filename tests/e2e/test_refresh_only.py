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


def test_refresh_only_needs_the_refresh(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    no_refresh = cli(hss, "plan", str(ws), "--refresh-only", "--refresh=false")
    assert no_refresh.code == 1 and "--refresh-only records what HSS has now" in no_refresh.stderr


def test_a_saved_refresh_only_plan_records_exactly_the_reviewed_drift_or_nothing(
        hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha", registry_username="robot"), registry("beta")])
    assert cli(hss, "apply", str(ws), "--auto-approve").code == 0
    api = Api(hss)
    ids = {name: item["id"] for name, item in api.by_name().items()}
    api.update(ids["alpha"], registry_username="robot2")  # changed by hand; the team accepts it

    reviewed = tmp_path / "refresh.json"
    saved = cli(hss, "plan", str(ws), "--refresh-only", "-out", str(reviewed))
    assert saved.code == 0, saved.output
    assert "To record exactly this drift in the state, run:" in saved.stdout
    document = json.loads(reviewed.read_text())
    assert document["refresh_only"] is True and document["changes"] == []
    assert [(d["address"], d["field"], d["live"]) for d in document["drift"]] == \
        [(f"{TARGET}/alpha", "registry_username", "robot2")]

    # A refresh-only plan file is never applied as a normal one, nor with options that re-plan it.
    before = state_of(ws)
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps({k: v for k, v in document.items() if k != "refresh_only"}))
    as_normal = cli(hss, "apply", str(forged))
    assert as_normal.code == 1 and "summary: the counts do not match the changes" in as_normal.stderr
    with_option = cli(hss, "apply", "--refresh-only", str(reviewed))
    assert with_option.code == 1 and f"--refresh-only: {reviewed} is a saved plan" in with_option.stderr
    assert state_of(ws) == before

    # More drift since the review: a fresh refresh-only plan would record more than was reviewed.
    api.update(ids["beta"], registry_username="robot3")
    requests = api.stats()["requests"]
    stale = cli(hss, "apply", str(reviewed))
    assert stale.code == 4, stale.output
    assert f"{TARGET}/beta: a fresh plan would record registry_username ('robot3'); the plan file does not" \
        in stale.stderr
    assert state_of(ws) == before
    assert {op for op, n in api.stats()["requests"].items() if requests.get(op) != n} == {"ListRegistry"}

    assert cli(hss, "plan", str(ws), "--refresh-only", "-out", str(reviewed)).code == 0
    applied = cli(hss, "apply", str(reviewed))
    assert applied.code == 0, applied.output
    assert "Recorded what HSS has now for 2 registries in the state; nothing was changed in HSS." \
        in applied.stdout
    after = state_of(ws)
    assert after["serial"] == before["serial"] + 1
    assert [(e["registry_name"], e["attributes"]["registry_username"]) for e in after["registries"]] == \
        [("alpha", "robot2"), ("beta", "robot3")]
    assert api.by_name()["alpha"]["registry_username"] == "robot2"  # HSS was left as it was
