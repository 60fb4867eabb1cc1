"""The state file: round trip, refusal of what we do not understand, atomic 0600 writes, one backup."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import StateError
from reconciler.registry import TargetKey
from reconciler.state.model import STATE_FORMAT_VERSION, State, StateEntry, parse_state
from reconciler.state.store import StateStore, backup_path

TARGET = TargetKey("ap-southeast-1", "0b5f4c1e9d8a4e2b8c7a6d5e4f3a2b1c", "0")


def entry(name: str, registry_id: str | None = "id-1", password_version: int | None = None,
          **attributes: str) -> StateEntry:
    attrs = {"registry_type": "Harbor", "protocol": "https", **attributes}
    return StateEntry(TARGET, name, registry_id, attrs, password_version=password_version)


def sample_state() -> State:
    state = State()
    state.put(entry("harbor-prod", "id-1", registry_addr="harbor.example.com"))
    state.put(entry("jfrog-build", None, 3, namespace="security-tools"))
    return state


def test_serialize_and_parse_round_trip() -> None:
    state = sample_state()
    state.serial = 7
    again = parse_state(state.serialize(), "s.json")
    assert (again.lineage, again.serial) == (state.lineage, 7)
    assert again.entries == state.entries
    assert again.serialize() == state.serialize()


def test_serialized_form_is_stable_and_versioned() -> None:
    data = json.loads(sample_state().serialize())
    assert data["version"] == STATE_FORMAT_VERSION
    assert [r["address"] for r in data["registries"]] == [f"{TARGET}/harbor-prod", f"{TARGET}/jfrog-build"]
    assert data["registries"][1]["id"] is None
    assert data["registries"][1]["password_version"] == 3
    assert list(data["registries"][0]["attributes"]) == sorted(data["registries"][0]["attributes"])


def test_store_round_trip_counts_serials(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    store = StateStore(path)
    state = store.load()
    assert state.entries == {}
    assert not path.exists()  # loading writes nothing
    state.put(entry("harbor-prod"))
    store.write(store.snapshot(state))
    store.write(store.snapshot(state))
    loaded = StateStore(path).load()
    assert loaded.serial == 2
    assert loaded.lineage == state.lineage
    assert list(loaded.entries) == [f"{TARGET}/harbor-prod"]


def test_newer_format_is_refused_with_upgrade_advice(tmp_path: Path) -> None:
    raw = json.dumps({"version": STATE_FORMAT_VERSION + 1, "serial": 1, "lineage": "x",
                      "registries": []}).encode()
    with pytest.raises(StateError, match=r"version 2 is newer than this hss-reconciler understands "
                                         r"\(1\); upgrade the tool"):
        parse_state(raw, "s.json")


@pytest.mark.parametrize(("raw", "expected"), [
    (b"{not json", "state file is not valid JSON (line 1)"),
    (b"\xff\xfe", "state file is not valid JSON"),
    (b"", "state file is not valid JSON"),
    (b"[]", "not an hss-reconciler state file"),
    (b'{"serial": 1}', "not an hss-reconciler state file"),
    (b'{"version": "1"}', "not an hss-reconciler state file"),
    (b'{"version": true, "serial": 1, "lineage": "x", "registries": []}', "not an hss-reconciler state"),
    (b'{"version": 0, "serial": 1, "lineage": "x", "registries": []}', "not an hss-reconciler state"),
    (b'{"version": 1, "serial": 1, "lineage": "x"}', "registries: missing (a required field) (the state file "
                                                     "is malformed"),
    (b'{"version": 1, "serial": "x", "lineage": "x", "registries": []}', "state file is malformed"),
    (b'{"version": 1, "serial": 1, "lineage": "x", "registries": [{"target": "t"}]}', "malformed"),
    (b'{"version": 1, "serial": 1, "lineage": "x", "registries": {"a": 1}}', "malformed"),
])
def test_corrupt_state_is_refused(raw: bytes, expected: str) -> None:
    with pytest.raises(StateError) as caught:
        parse_state(raw, "s.json")
    assert str(caught.value).startswith("s.json: ")
    assert expected in str(caught.value)


def test_corrupt_state_file_is_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(b'{"version": 1, "serial": ')
    with pytest.raises(StateError, match="left untouched"):
        StateStore(path).load()
    assert path.read_bytes() == b'{"version": 1, "serial": '
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json"]


def test_store_failure_keeps_the_state_file_and_says_so(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)  # where the errored copy may go
    path = tmp_path / "s.json"
    store = StateStore(path)
    state = store.load()
    store.write(store.snapshot(state))
    before = path.read_bytes()
    real_replace = os.replace

    def fail_for_state(src: Any, dst: Any) -> None:
        if Path(dst) == path:
            raise OSError(13, "Permission denied")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", fail_for_state)
    state.put(entry("harbor-prod"))
    with pytest.raises(StateError, match="cannot write state file"):
        store.write(store.snapshot(state))
    assert path.read_bytes() == before


def test_state_and_backup_are_mode_0600_whatever_the_umask(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(State().serialize())
    path.chmod(0o644)
    old_umask = os.umask(0o000)
    try:
        store = StateStore(path)
        store.write(store.snapshot(store.load()))
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(backup_path(path).stat().st_mode) == 0o600


def test_backup_is_the_state_before_the_run_taken_once(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    first = StateStore(path)
    state = first.load()
    first.write(first.snapshot(state))
    assert not backup_path(path).exists()  # nothing to back up on the first run
    before_run = path.read_bytes()

    run = StateStore(path)
    state = run.load()
    for name in ("a", "b", "c"):
        state.put(entry(name, f"id-{name}"))
        run.write(run.snapshot(state))
    assert backup_path(path).read_bytes() == before_run
    assert parse_state(path.read_bytes(), "s").serial == 4

    after_run = path.read_bytes()
    next_run = StateStore(path)
    next_run.write(next_run.snapshot(next_run.load()))
    assert backup_path(path).read_bytes() == after_run
    assert backup_path(path).name == "s.json.backup"


def test_entries_hold_no_secret_field() -> None:
    data = json.loads(sample_state().serialize())
    text = json.dumps(data)
    assert "password\"" not in text.replace("password_version", "")
    assert all(set(r) == {"address", "target", "registry_name", "id", "attributes", "password_version"}
               for r in data["registries"])


def test_serialize_is_exactly_indented_json_as_entries_change() -> None:
    """The cached per-entry encoding must never drift from a full re-encode."""
    state = sample_state()
    for step in range(3):
        expected = (json.dumps(state.to_json(), indent=2, ensure_ascii=False) + "\n").encode()
        assert state.serialize() == expected
        state.put(entry(f"added-{step}"))
        state.remove(sorted(state.entries)[0])
        state.serial += 1
    empty = State()
    assert empty.serialize() == (json.dumps(empty.to_json(), indent=2) + "\n").encode()
