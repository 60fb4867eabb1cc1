"""Issue 17.5: how apply runs a move when a half of it fails (the happy paths run end to end in
tests/e2e/test_moves.py, against the emulator).

HSS is a small fake here because the emulator's faults are drawn per request at
random; these cases need one chosen call to fail.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from reconciler.apply.executor import apply_plan
from reconciler.apply.result import ApplyResult
from reconciler.errors import ApiError
from reconciler.plan.model import Action, Change, MovedFrom, Plan
from reconciler.registry import TargetKey
from reconciler.state.checkpoint import Checkpointer
from reconciler.state.model import State, StateEntry
from reconciler.state.store import StateStore
from tests.unit.test_lock_unwritable_state import TARGET, _desired, _disk_full_for, _names

OLD = StateEntry(TARGET, "alpha", "id-alpha", {"registry_name": "alpha", "registry_type": "Harbor"})


class _Hss:
    """One project's registries; records every call, and fails the calls named in `failing`."""

    endpoint = "https://hss.example.com"

    def __init__(self, calls: list[str], failing: tuple[str, ...] = ()) -> None:
        self.calls = calls
        self.failing = failing
        self.names = {"id-alpha": "alpha"}
        self.listings = 0

    def _call(self, what: str) -> None:
        self.calls.append(what)
        if what.split()[0] in self.failing:
            raise ApiError(f"HSS {what.split()[0]} failed: HTTP 500 (injected)", status=500)

    def add_registry(self, body: dict[str, Any]) -> None:
        self._call(f"add {body['registry_name']}")
        self.names[f"id-{body['registry_name']}"] = str(body["registry_name"])

    def delete_registry(self, registry_id: str) -> None:
        self._call(f"delete {registry_id}")
        del self.names[registry_id]

    def list_registries(self, **filters: str) -> list[dict[str, Any]]:
        self.listings += 1
        return [{"id": i, "registry_name": n} for i, n in self.names.items()]

    def find_registries(self, registry_name: str) -> list[dict[str, Any]]:
        return [r for r in self.list_registries() if r["registry_name"] == registry_name]

    def with_admission(self, admission: object) -> _Hss:
        return self


def _move(target: TargetKey, name: str) -> Plan:
    registry = replace(_desired([name]).registries[f"{TARGET}/{name}"], target=target)
    return Plan([Change(Action.MOVE, target, name, "id-alpha", dict(OLD.attributes), {"registry_name": name},
                        send_password=True, registry=registry, moved_from=MovedFrom(TARGET, "alpha"))])


def _store_holding_old(directory: Path) -> StateStore:
    store = StateStore(directory / "hss-reconciler.state.json")
    state = State()
    state.put(OLD)
    store.write(store.snapshot(state))
    return store


def _run(store: StateStore, plan: Plan, hss: _Hss) -> ApplyResult:
    """Apply `plan` with `hss` serving every target of the plan."""
    clients: dict[TargetKey, Any] = {TARGET: hss, plan.changes[0].target: hss}
    stop = threading.Event()
    return apply_plan(plan, Checkpointer(store, store.load(), stop=stop), clients, parallelism=1, stop=stop)


def _apply(tmp_path: Path, plan: Plan, hss: _Hss) -> tuple[ApplyResult, State]:
    """Apply `plan` from a state holding OLD; the result and the state file after."""
    store = _store_holding_old(tmp_path)
    return _run(store, plan, hss), store.load()


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNIT_PASSWORD", "unit-Passw0rd")


def test_when_the_old_one_cannot_be_deleted_the_new_ones_id_is_learned_and_it_counts_as_added(
        tmp_path: Path) -> None:
    calls: list[str] = []
    hss = _Hss(calls, failing=("delete",))
    result, state = _apply(tmp_path, _move(TARGET, "beta"), hss)
    assert calls == ["add beta", "delete id-alpha"]
    [(change, message)] = result.failed
    assert change.name == "beta" and not result.done and result.moved == 0
    assert message.startswith(f"created, but deleting the old registry {TARGET}/alpha failed (HSS delete")
    assert message.endswith("both are in HSS and in the state, and the next plan deletes the old one")
    # HSS accepted the add: the summary says so, and nothing says the old one went.
    assert [(c.name, accepted) for c, accepted in result.partly] == [("beta", Action.CREATE)]
    assert (result.added, result.moved, result.destroyed) == (1, 0, 0)
    # Both recorded, the new one with the id learned in this run, by one listing as any add's.
    assert hss.listings == 1
    recorded = {(e.name, e.registry_id) for e in state.entries.values()}
    assert recorded == {("alpha", "id-alpha"), ("beta", "id-beta")}


def test_a_move_hss_cannot_hold_twice_deletes_first_and_counts_the_delete_when_the_add_fails(
        tmp_path: Path) -> None:
    other_ep = TargetKey(TARGET.region, TARGET.project_id, "ep-2")
    calls: list[str] = []
    plan = _move(other_ep, "alpha")
    assert not plan.changes[0].creates_first
    result, state = _apply(tmp_path, plan, _Hss(calls, failing=("add",)))
    assert calls == ["delete id-alpha", "add alpha"]
    [(_, message)] = result.failed
    assert f"the old registry {TARGET}/alpha was deleted first" in message
    assert message.endswith("the next plan creates it")
    assert state.entries == {}  # the delete is recorded; nothing else happened
    assert (result.destroyed, result.added, result.moved) == (1, 0, 0)  # HSS accepted the delete


def test_a_move_that_completes_is_counted_as_moved(tmp_path: Path) -> None:
    calls: list[str] = []
    result, state = _apply(tmp_path, _move(TARGET, "beta"), _Hss(calls))
    assert calls == ["add beta", "delete id-alpha"]
    assert (result.moved, result.added, result.destroyed, result.failed) == (1, 0, 0, [])
    assert {(e.name, e.registry_id) for e in state.entries.values()} == {("beta", "id-beta")}


def test_the_old_one_is_not_deleted_while_the_new_ones_record_cannot_be_saved(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state_dir, cwd = tmp_path / "state", tmp_path / "cwd"
    state_dir.mkdir()
    cwd.mkdir()
    monkeypatch.chdir(cwd)  # where the errored state file goes
    store = _store_holding_old(state_dir)
    _disk_full_for(state_dir, monkeypatch)
    calls: list[str] = []
    result = _run(store, _move(TARGET, "beta"), _Hss(calls))
    assert calls == ["add beta"]  # no delete: a kill now must not lose the registry
    assert [(c.name, accepted) for c, accepted in result.unrecorded] == [("beta", Action.CREATE)]
    assert (result.added, result.moved, result.destroyed) == (1, 0, 0)
    assert result.saved_to is not None and _names(result.saved_to) == {"alpha", "beta"}
    assert _names(store.path) == {"alpha"}


def test_without_a_refresh_the_old_id_is_checked_before_anything_is_sent(tmp_path: Path) -> None:
    plan = _move(TARGET, "beta")
    plan.refreshed = False
    calls: list[str] = []
    hss = _Hss(calls)
    hss.names = {"id-alpha": "someone-else"}  # the recorded id names another registry now
    result, state = _apply(tmp_path, plan, hss)
    assert calls == []
    [(_, message)] = result.failed
    assert "in HSS that id is the registry 'someone-else', not 'alpha'; it was left untouched" in message
    assert state.entries == {OLD.address: OLD}
