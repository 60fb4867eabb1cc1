"""Issue 3.4: destroys, --no-destroy, and the safety threshold."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import Hss
from tests.e2e.workspaces import TARGET, Api, cli, registry, state_of, write_workspace


def test_undeclared_registry_is_destroyed(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha"), registry("beta")])
    assert cli(hss, "apply", str(ws), "--auto-approve").code == 0
    write_workspace(ws, [registry("alpha")])

    plan = cli(hss, "plan", str(ws))
    assert f"# {TARGET}/beta will be destroyed" in plan.stdout
    assert "- registry \"beta\"" in plan.stdout
    assert "Plan: 0 to add, 0 to change, 1 to destroy." in plan.stdout
    apply = cli(hss, "apply", str(ws), "--auto-approve")
    assert "0 added, 0 changed, 1 destroyed" in apply.stdout, apply.output
    assert list(Api(hss).by_name()) == ["alpha"]
    assert [e["registry_name"] for e in state_of(ws)["registries"]] == ["alpha"]


def test_no_destroy_forgets_instead(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha"), registry("beta")])
    assert cli(hss, "apply", str(ws), "--auto-approve").code == 0
    write_workspace(ws, [registry("alpha")])

    plan = cli(hss, "plan", str(ws), "--no-destroy")
    assert "will be removed from the state only" in plan.stdout
    assert "0 to destroy, 1 to forget" in plan.stdout
    assert cli(hss, "apply", str(ws), "--auto-approve", "--no-destroy").code == 0
    assert sorted(Api(hss).by_name()) == ["alpha", "beta"]
    assert [e["registry_name"] for e in state_of(ws)["registries"]] == ["alpha"]
    again = cli(hss, "plan", str(ws))
    assert "1 registry in HSS not managed by hss-reconciler" in again.stdout


def test_mass_delete_is_flagged_and_needs_force(hss: Hss, tmp_path: Path) -> None:
    names = [f"reg-{i:02d}" for i in range(10)]
    ws = write_workspace(tmp_path / "ws", [registry(n) for n in names])
    assert cli(hss, "apply", str(ws), "--auto-approve").code == 0

    write_workspace(ws, [registry(n) for n in names[:7]])  # 3 of 10: at the limit, allowed
    plan = cli(hss, "plan", str(ws))
    assert "Unsafe plan" not in plan.stdout

    write_workspace(ws, [registry(n) for n in names[:6]])  # 4 of 10: over 30%
    plan = cli(hss, "plan", str(ws))
    assert f"Unsafe plan: {TARGET}: deletes or replaces 4 of 10 managed registries" in plan.stdout
    refused = cli(hss, "apply", str(ws), "--auto-approve")
    assert refused.code == 1
    assert "refusing an unsafe plan" in refused.stderr and "--force" in refused.stderr
    assert len(Api(hss).list()) == 10

    forced = cli(hss, "apply", str(ws), "--auto-approve", "--force")
    assert forced.code == 0, forced.output
    assert sorted(Api(hss).by_name()) == names[:6]
