"""A state file that cannot be written: the new state goes to an errored file, the run stops starting changes.

(Named test_lock_* to sit with the lock tests: both guard the state file.)
"""

from __future__ import annotations

import errno
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.apply.executor import apply_plan
from reconciler.config.model import Desired, DesiredRegistry, Location
from reconciler.plan.model import Action, Change, Plan
from reconciler.registry import TargetKey, registry_address
from reconciler.secrets import SecretRef
from reconciler.state.checkpoint import Checkpointer
from reconciler.state.model import State, StateEntry
from reconciler.state.store import ERRORED_NAME, StateStore, StateUnwritable

TARGET = TargetKey("ap-southeast-1", "0b5f4c1e9d8a4e2b8c7a6d5e4f3a2b1c", "0")


def _entry(name: str) -> StateEntry:
    return StateEntry(TARGET, name, f"id-{name}", {"registry_name": name})


def _disk_full_for(directory: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[bool], None]:
    """os.replace into `directory` fails with ENOSPC, as on a full disk; returns a switch."""
    real_replace = os.replace
    full = {"on": True}

    def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        if full["on"] and Path(dst).parent == directory:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)

    def switch(on: bool) -> None:
        full["on"] = on
    return switch


@pytest.fixture
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(state file with one saved registry, current directory) on different 'disks'."""
    state_dir, cwd = tmp_path / "state", tmp_path / "cwd"
    state_dir.mkdir()
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    path = state_dir / "hss-reconciler.state.json"
    state = State()
    state.put(_entry("existing"))
    StateStore(path).write(StateStore.snapshot(state))
    return path, cwd


def _names(path: Path) -> set[str]:
    return {item["registry_name"] for item in json.loads(path.read_bytes())["registries"]}


def test_disk_full_sends_the_new_state_to_the_errored_file(
        layout: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    path, cwd = layout
    before = path.read_bytes()
    disk = _disk_full_for(path.parent, monkeypatch)
    store = StateStore(path)
    state = store.load()
    state.put(_entry("new-one"))
    with pytest.raises(StateUnwritable) as caught:
        store.write(store.snapshot(state))
    errored = cwd / ERRORED_NAME
    message = str(caught.value)
    assert caught.value.saved_to == errored
    assert "\n" not in message
    assert os.strerror(errno.ENOSPC) in message
    assert f"cp {errored} {path}" in message and "every change HSS accepted" in message
    assert path.read_bytes() == before
    assert _names(errored) == {"existing", "new-one"}
    assert not [p for p in path.parent.iterdir() if p.suffix == ".tmp"], "temporary files are removed"

    # Space comes back mid-run: later writes still go to the errored file only,
    # so the file the message named stays the newest copy.
    disk(False)
    state.put(_entry("newer"))
    with pytest.raises(StateUnwritable):
        store.write(store.snapshot(state))
    assert path.read_bytes() == before
    assert _names(errored) == {"existing", "new-one", "newer"}


def test_an_unrecovered_errored_file_is_not_overwritten(
        layout: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    path, cwd = layout
    (cwd / ERRORED_NAME).write_text("from an earlier run")
    _disk_full_for(path.parent, monkeypatch)
    store = StateStore(path)
    with pytest.raises(StateUnwritable) as caught:
        store.write(store.snapshot(store.load()))
    assert (cwd / ERRORED_NAME).read_text() == "from an earlier run"
    assert caught.value.saved_to == cwd / "errored.hss-reconciler.state.1.json"
    assert str(caught.value.saved_to) in str(caught.value)


def test_falls_back_to_the_temporary_directory_then_says_how_to_recover(
        layout: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path, cwd = layout
    spare = tmp_path / "spare"
    spare.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(spare))
    _disk_full_for(path.parent, monkeypatch)
    _disk_full_for(cwd, monkeypatch)
    store = StateStore(path)
    with pytest.raises(StateUnwritable) as caught:
        store.write(store.snapshot(store.load()))
    assert caught.value.saved_to == spare / ERRORED_NAME

    _disk_full_for(spare, monkeypatch)
    store = StateStore(path)
    with pytest.raises(StateUnwritable) as caught:
        store.write(store.snapshot(store.load()))
    assert caught.value.saved_to is None
    assert "could not be saved anywhere" in str(caught.value) and "adopt" in str(caught.value)


def test_checkpointer_stops_the_run_and_keeps_recording(
        layout: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    path, cwd = layout
    store = StateStore(path)
    state = store.load()
    stop = threading.Event()
    checkpointer = Checkpointer(store, state, stop=stop)
    checkpointer.commit(lambda s: s.put(_entry("ok")))
    assert _names(path) == {"existing", "ok"} and not stop.is_set()

    _disk_full_for(path.parent, monkeypatch)
    for name in ("lost-1", "lost-2"):
        with pytest.raises(StateUnwritable):
            checkpointer.commit(lambda s, n=name: s.put(_entry(n)))  # type: ignore[misc]
        assert stop.is_set() and checkpointer.failed
        # Each change that fails to reach the state file still reaches the errored file.
        assert name in _names(cwd / ERRORED_NAME)
    assert _names(path) == {"existing", "ok"}


def test_concurrent_commits_after_a_failure_all_reach_the_errored_file(
        layout: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    path, cwd = layout
    store = StateStore(path)
    checkpointer = Checkpointer(store, store.load())
    _disk_full_for(path.parent, monkeypatch)
    raised: list[BaseException] = []

    def commit(name: str) -> None:
        try:
            checkpointer.commit(lambda s: s.put(_entry(name)))
        except StateUnwritable as exc:
            raised.append(exc)

    threads = [threading.Thread(target=commit, args=(f"r{i}",)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(raised) == 20, "no change may count as done once the state file is unwritable"
    assert _names(cwd / ERRORED_NAME) == {"existing"} | {f"r{i}" for i in range(20)}


def _desired(names: list[str]) -> Desired:
    where = Location("registries.yaml", 1)
    desired = Desired()
    for name in names:
        registry = DesiredRegistry(TARGET, name, {"registry_name": name, "registry_type": "Harbor"},
                                   SecretRef("env", "UNIT_PASSWORD"), None, where, where, Path("."))
        desired.registries[registry.address] = registry
    return desired


class _FakeHss:
    def __init__(self) -> None:
        self.added: list[str] = []

    def add_registry(self, body: dict[str, Any]) -> None:
        self.added.append(str(body["registry_name"]))

    def list_registries(self, **filters: str) -> list[dict[str, Any]]:
        return [{"registry_name": n, "id": f"id-{n}"} for n in self.added]

    def with_admission(self, admission: object) -> _FakeHss:  # apply paces each endpoint's client
        return self

    endpoint = "https://hss.example.com"


class _SlowSecondAdd(_FakeHss):
    """The second add is still in flight when the first add's record fails to reach the disk."""

    def __init__(self, stop: threading.Event) -> None:
        super().__init__()
        self._stop = stop

    def add_registry(self, body: dict[str, Any]) -> None:
        if self.added:
            assert self._stop.wait(10), "the failed write never set stop"
        super().add_registry(body)


def test_apply_starts_nothing_new_once_the_state_cannot_be_written(
        layout: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    path, cwd = layout
    names = [f"reg-{i}" for i in range(5)]
    monkeypatch.setenv("UNIT_PASSWORD", "unit-Passw0rd")
    desired = _desired(names)
    plan = Plan(changes=[Change(Action.CREATE, TARGET, n, send_password=True,
                                registry=desired.registries[registry_address(TARGET, n)]) for n in names])
    store = StateStore(path)
    stop = threading.Event()
    checkpointer = Checkpointer(store, store.load(), stop=stop)
    hss = _SlowSecondAdd(stop)
    _disk_full_for(path.parent, monkeypatch)

    result = apply_plan(plan, checkpointer, {TARGET: hss}, parallelism=1,  # type: ignore[dict-item]
                        stop=stop)

    # The add's record is written behind the worker, so the next add may have started
    # before the write failed (here: the one in flight); none starts after.
    assert hss.added in (["reg-0"], ["reg-0", "reg-1"]), hss.added
    assert result.stopped and not result.done
    # Accepted but not in the state file: neither done nor failed, counted as added (issue 19.4)
    assert [c.name for c, _ in result.unrecorded] == hss.added, "no accepted add may count as done"
    assert not result.failed and result.added == len(hss.added)
    assert result.saved_to == cwd / ERRORED_NAME
    assert set(hss.added) <= _names(cwd / ERRORED_NAME), "every accepted add reaches the errored file"
