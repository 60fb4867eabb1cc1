"""Issue 15: mass updates need --force, like mass deletes, through the installed CLI and a saved plan."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import Hss
from tests.e2e.workspaces import TARGET, Api, cli, registry, write_workspace

NAMES = [f"reg-{i:02d}" for i in range(10)]


def _applied(hss: Hss, tmp_path: Path) -> Path:
    ws = write_workspace(tmp_path / "ws", [registry(n) for n in NAMES])
    assert cli(hss, "apply", str(ws), "--auto-approve").code == 0
    return ws


def _rotated(count: int) -> list[dict[str, object]]:
    """Every registry, the first `count` with a new username (an in-place update each)."""
    return [registry(n, registry_username="robot-rotated") if i < count else registry(n)
            for i, n in enumerate(NAMES)]


def test_mass_update_is_flagged_and_needs_force(hss: Hss, tmp_path: Path) -> None:
    ws = _applied(hss, tmp_path)
    write_workspace(ws, _rotated(3))  # 3 of 10: at the limit, allowed
    assert "Unsafe plan" not in cli(hss, "plan", str(ws)).stdout

    write_workspace(ws, _rotated(4))  # 4 of 10: over 30%
    plan = cli(hss, "plan", str(ws))
    assert (f"Unsafe plan: {TARGET}: changes 4 of 10 managed registries (more than 30%): 4 updated in place, "
            "0 deleted or replaced; apply needs --force") in plan.stdout
    refused = cli(hss, "apply", str(ws), "--auto-approve")
    assert refused.code == 1
    assert f"refusing an unsafe plan: {TARGET}: changes 4 of 10 managed registries" in refused.stderr
    assert "--force" in refused.stderr
    assert all(r["registry_username"] == "robot-hss" for r in Api(hss).list()), "nothing was sent"

    forced = cli(hss, "apply", str(ws), "--auto-approve", "--force")
    assert forced.code == 0, forced.output
    rotated = sorted(n for n, r in Api(hss).by_name().items() if r["registry_username"] == "robot-rotated")
    assert rotated == NAMES[:4]


def test_updates_and_deletes_count_together(hss: Hss, tmp_path: Path) -> None:
    ws = _applied(hss, tmp_path)
    write_workspace(ws, _rotated(2)[:8])  # 2 updated, 2 deleted: 20% each, 40% together
    plan = cli(hss, "plan", str(ws))
    assert (f"{TARGET}: changes 4 of 10 managed registries (more than 30%): 2 updated in place, "
            "2 deleted or replaced") in plan.stdout
    assert cli(hss, "apply", str(ws), "--auto-approve").code == 1
    assert len(Api(hss).list()) == 10


def test_a_saved_mass_update_keeps_its_reason_and_applies_only_with_force(hss: Hss, tmp_path: Path) -> None:
    ws = _applied(hss, tmp_path)
    write_workspace(ws, _rotated(5))
    plan_file = tmp_path / "reviewed.plan"
    assert cli(hss, "plan", str(ws), "-out", str(plan_file)).code == 0
    reasons = json.loads(plan_file.read_text())["unsafe"]["reasons"]
    assert reasons == [f"{TARGET}: changes 5 of 10 managed registries (more than 30%): 5 updated in place, "
                       "0 deleted or replaced; apply needs --force"]

    shown = cli(hss, "show", str(plan_file))
    assert "Unsafe plan" in shown.stdout and "changes 5 of 10" in shown.stdout
    refused = cli(hss, "apply", str(plan_file))
    assert refused.code == 1 and "refusing an unsafe plan" in refused.stderr
    forced = cli(hss, "apply", str(plan_file), "--force")
    assert forced.code == 0, forced.output
    assert sum(r["registry_username"] == "robot-rotated" for r in Api(hss).list()) == 5
