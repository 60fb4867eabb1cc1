"""Issue 15: a registry is touched only if HSS has the state's id under the state's name.

A state merged or edited by hand can point a managed name at someone else's
registry; an HSS answer can name two registries alike. In each case the run
stops, naming both, and the other registry is left exactly as it was.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.e2e.conftest import Hss, run_cli
from tests.e2e.fakehss import FakeHss, fake_hss, listing  # noqa: F401  (fake_hss is a fixture)
from tests.e2e.workspaces import (
    PASSWORD,
    PASSWORD_ENV,
    PROJECT,
    TARGET,
    Api,
    cli,
    registry,
    state_of,
    write_workspace,
)


def _point_state_at(ws: Path, name: str, registry_id: str) -> None:
    """As a bad merge of the state file leaves it: `name` recorded with another registry's id."""
    path = ws / "hss-reconciler.state.json"
    data = state_of(ws)
    for entry in data["registries"]:
        if entry["registry_name"] == name:
            entry["id"] = registry_id
    path.write_text(json.dumps(data))


def _managed_pair_and_theirs(hss: Hss, tmp_path: Path) -> tuple[Path, Api, str, dict[str, Any]]:
    ws = write_workspace(tmp_path / "ws", [registry("mine-a"), registry("mine-b")])
    assert cli(hss, "apply", str(ws), "--auto-approve").code == 0
    api = Api(hss)
    theirs = api.add("someone-elses", registry_addr="theirs.example.com", registry_username="their-robot")
    _point_state_at(ws, "mine-b", theirs)
    return ws, api, theirs, api.by_name()["someone-elses"]


def test_a_state_id_of_someone_elses_registry_stops_the_plan(hss: Hss, tmp_path: Path) -> None:
    ws, api, theirs, before = _managed_pair_and_theirs(hss, tmp_path)
    write_workspace(ws, [registry("mine-a"), registry("mine-b", registry_addr="moved.example.com")])
    for command in (["plan", str(ws)], ["apply", str(ws), "--auto-approve"]):
        result = cli(hss, *command)
        assert result.code == 1, result.output
        assert (f"{TARGET}/mine-b: the state records id {theirs}, but in HSS that id is the registry "
                "'someone-elses', not 'mine-b'") in result.stderr
    assert api.by_name()["someone-elses"] == before


def test_a_state_id_of_someone_elses_registry_is_never_deleted(hss: Hss, tmp_path: Path) -> None:
    ws, api, _, before = _managed_pair_and_theirs(hss, tmp_path)
    write_workspace(ws, [registry("mine-a")])  # mine-b no longer declared: would be destroyed
    result = cli(hss, "apply", str(ws), "--auto-approve")
    assert result.code == 1, result.output
    assert "Destruction complete" not in result.stdout
    assert api.by_name()["someone-elses"] == before


def test_without_refresh_the_id_is_checked_right_before_the_call(hss: Hss, tmp_path: Path) -> None:
    ws, api, theirs, before = _managed_pair_and_theirs(hss, tmp_path)
    write_workspace(ws, [registry("mine-a"), registry("mine-b", registry_addr="moved.example.com")])
    result = cli(hss, "apply", str(ws), "--auto-approve", "--refresh=false")
    assert result.code == 1, result.output
    assert (f"the state records id {theirs}, but in HSS that id is the registry 'someone-elses', "
            "not 'mine-b'; it was left untouched") in result.stderr
    assert api.by_name()["someone-elses"] == before
    write_workspace(ws, [registry("mine-a")])
    deleted = cli(hss, "apply", str(ws), "--auto-approve", "--refresh=false")
    assert deleted.code == 1, deleted.output
    assert api.by_name()["someone-elses"] == before


def _live(name: str, registry_id: str) -> dict[str, Any]:
    item = registry(name)
    item.pop("registry_password")
    return {**item, "id": registry_id, "status": "success"}


def test_duplicate_ids_in_a_listing_stop_the_run(fake_hss: FakeHss, tmp_path: Path) -> None:  # noqa: F811
    ws = write_workspace(tmp_path / "ws", [registry("alpha"), registry("beta")])
    fake_hss.script = lambda method, path: listing([_live("alpha", "same-id"), _live("beta", "same-id")])
    env = {"HSS_ENDPOINT": fake_hss.url, "HSS_AUTH_TOKEN": "t", PASSWORD_ENV: PASSWORD, "PATH": "/usr/bin"}
    result = run_cli("apply", str(ws), "--auto-approve", env=env)
    assert result.code == 1, result.output
    assert f"{TARGET}: HSS listed the registry id 'same-id' twice" in result.stderr
    assert fake_hss.writes == []
    assert all(path.startswith(f"/v5/{PROJECT}/image/registries") for _, path in fake_hss.requests)
