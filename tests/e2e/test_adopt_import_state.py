"""Issue 3.5: adopting what exists, explicit import, and the state subcommands."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import Hss
from tests.e2e.workspaces import TARGET, Api, cli, registry, state_of, write_workspace


def test_declared_registry_already_in_hss_is_adopted_not_added_twice(hss: Hss, tmp_path: Path) -> None:
    api = Api(hss)
    existing = api.add("alpha", registry_addr="old.example.com")
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])

    plan = cli(hss, "plan", str(ws))
    assert "will be adopted (it already exists in HSS)" in plan.stdout
    assert '"old.example.com" -> "alpha.example.com"' in plan.stdout
    assert "Plan: 1 to import, 0 to add, 1 to change, 0 to destroy." in plan.stdout
    apply = cli(hss, "apply", str(ws), "--auto-approve")
    assert apply.code == 0, apply.output
    assert [(r["id"], r["registry_addr"]) for r in api.list()] == [(existing, "alpha.example.com")]
    assert state_of(ws)["registries"][0]["id"] == existing


def test_import_then_plan_shows_the_differences(hss: Hss, tmp_path: Path) -> None:
    api = Api(hss)
    existing = api.add("alpha", registry_username="someone-else")
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    target_file = str(ws / "registries.yaml")

    wrong = cli(hss, "import", target_file, "alpha", "no-such-id")
    assert wrong.code == 1 and "no registry with this id" in wrong.stderr
    result = cli(hss, "import", target_file, "alpha", existing)
    assert result.code == 0, result.output
    assert f"{TARGET}/alpha: Import complete [id={existing}]" in result.stdout
    assert state_of(ws)["registries"][0]["id"] == existing
    again = cli(hss, "import", target_file, "alpha", existing)
    assert again.code == 1 and "already managed" in again.stderr

    plan = cli(hss, "plan", str(ws))
    assert "will be updated in-place" in plan.stdout
    assert '"someone-else" -> "robot-hss"' in plan.stdout


def test_state_list_show_rm(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha"), registry("beta")])
    assert cli(hss, "apply", str(ws), "--auto-approve").code == 0
    state = str(ws / "hss-reconciler.state.json")

    listing = cli(hss, "state", "list", "--state", state)
    assert listing.stdout.splitlines() == [f"{TARGET}/alpha", f"{TARGET}/beta"]
    show = cli(hss, "state", "show", "beta", "--state", state)
    assert '"registry_addr": "beta.example.com"' in show.stdout
    typo = cli(hss, "state", "show", "betta", "--state", state)
    assert typo.code == 1 and "did you mean 'beta'" in typo.stderr

    removed = cli(hss, "state", "rm", "beta", "--state", state)
    assert removed.code == 0 and "stays in HSS" in removed.stdout
    assert cli(hss, "state", "list", "--state", state).stdout.splitlines() == [f"{TARGET}/alpha"]
    assert sorted(Api(hss).by_name()) == ["alpha", "beta"]
    plan = cli(hss, "plan", str(ws))
    assert "will be adopted" in plan.stdout  # still declared: the next apply takes it back
