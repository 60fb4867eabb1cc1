"""Issue 19.1: the state records the endpoint a file names for a target, and never a user or password."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.config.model import Desired
from reconciler.config.workspace import ENDPOINT_ENV, without_user
from reconciler.engine.session import Session, recorded_endpoints
from reconciler.errors import ConfigError, ReconcilerError, StateError
from reconciler.registry import TargetKey
from reconciler.state.model import State, StateEntry, parse_state
from reconciler.state.store import StateStore

TARGET = TargetKey("ap-southeast-1", "0b5f4c1e9d8a4e2b8c7a6d5e4f3a2b1c", "0")
PROXY = "https://hss-proxy.internal:8443/hss"


def _state(*entries: StateEntry) -> State:
    state = State(lineage="one")
    for entry in entries:
        state.put(entry)
    return state


def test_an_entry_keeps_its_endpoint_and_an_old_state_without_one_still_loads() -> None:
    state = _state(StateEntry(TARGET, "a", "id-a", {}, None, PROXY), StateEntry(TARGET, "b", "id-b", {}))
    raw = state.serialize()
    again = parse_state(raw, "s.json")
    assert [e.endpoint for e in again.entries.values()] == [PROXY, None]
    assert "endpoint" not in json.loads(raw)["registries"][1]["target"]  # as every older state reads


@pytest.mark.parametrize("endpoint", ["https://robot:secret@hss.example.com", "ftp://hss.example.com",
                                      "https://hss.example.com/?token=x", "https://hss.example.com:0"])
def test_a_recorded_endpoint_with_a_user_or_not_an_http_url_is_refused(endpoint: str) -> None:
    data = json.loads(_state(StateEntry(TARGET, "a", "id-a", {})).serialize())
    data["registries"][0]["target"]["endpoint"] = endpoint
    with pytest.raises(StateError) as caught:
        parse_state(json.dumps(data).encode(), "s.json")
    assert "registries[0].target.endpoint: expected an http or https URL without user" in str(caught.value)
    assert "secret" not in str(caught.value)


def test_what_a_file_names_is_recorded_without_its_user_or_password() -> None:
    assert without_user("https://robot:s3cret@hss.example.com:8443/a@b") == "https://hss.example.com:8443/a@b"
    assert without_user(PROXY) == PROXY


def test_two_endpoints_recorded_for_one_target_are_not_guessed_between() -> None:
    assert recorded_endpoints(_state(StateEntry(TARGET, "a", "i", {}, None, PROXY)), set()) == {TARGET: PROXY}
    other = "https://hss.ap-southeast-1.myhuaweicloud.com"
    with pytest.raises(ReconcilerError) as caught:
        recorded_endpoints(_state(StateEntry(TARGET, "a", "i", {}, None, PROXY),
                                  StateEntry(TARGET, "b", "j", {}, None, other)), set())
    assert "records two endpoints" in str(caught.value) and "set HSS_ENDPOINT" in str(caught.value)
    # a target a file still declares takes the file's endpoint: what the state recorded is not asked
    assert recorded_endpoints(_state(StateEntry(TARGET, "a", "i", {}, None, PROXY),
                                     StateEntry(TARGET, "b", "j", {}, None, other)), {TARGET}) == {}


def test_an_unknown_region_of_a_target_only_the_state_holds_names_the_target(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENDPOINT_ENV, raising=False)
    lost = TargetKey("xx-nowhere-9", TARGET.project_id, "0")
    session = Session(Desired(), StateStore(tmp_path / "s.json"), _state(StateEntry(lost, "a", "id-a", {})))
    with pytest.raises(ConfigError) as caught:
        session.targets()
    assert str(caught.value).startswith(f"target {lost}, which only the state holds (no registry file "
                                        "declares it any more, and its registries record no endpoint): "
                                        "unknown region 'xx-nowhere-9'")
