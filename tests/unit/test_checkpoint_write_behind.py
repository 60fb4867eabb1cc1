"""Checkpointer.commit_soon: the caller goes on while a writer thread saves; flush and commit wait."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from reconciler.registry import TargetKey
from reconciler.state.checkpoint import Checkpointer
from reconciler.state.model import StateEntry
from reconciler.state.store import StateStore

TARGET = TargetKey("ap-southeast-1", "0b5f4c1e9d8a4e2b8c7a6d5e4f3a2b1c", "0")


def _entry(name: str) -> StateEntry:
    return StateEntry(TARGET, name, None, {"registry_name": name})


def _names(path: Path) -> set[str]:
    return {item["registry_name"] for item in json.loads(path.read_bytes())["registries"]}


class _GatedStore(StateStore):
    """Each write waits for `gate`: a disk as slow as the test wants."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.gate = threading.Event()
        self.writing = threading.Event()
        self.writers: set[str] = set()

    def write(self, payload: bytes) -> None:
        self.writers.add(threading.current_thread().name)
        self.writing.set()
        assert self.gate.wait(10), "the test never opened the gate"
        super().write(payload)


def test_commit_soon_returns_before_the_write_and_flush_waits_for_it(tmp_path: Path) -> None:
    store = _GatedStore(tmp_path / "state.json")
    checkpointer = Checkpointer(store, store.load())

    checkpointer.commit_soon(lambda s: s.put(_entry("a")))
    assert store.writing.wait(10), "no writer thread picked the change up"
    assert not store.path.exists(), "commit_soon must not wait for the disk"
    checkpointer.commit_soon(lambda s: s.put(_entry("b")))  # queued behind the write in progress

    flushed = threading.Event()
    flusher = threading.Thread(target=lambda: (checkpointer.flush(), flushed.set()))
    flusher.start()
    assert not flushed.wait(0.2), "flush returned while a change was still unsaved"
    store.gate.set()
    flusher.join(10)
    assert flushed.is_set()
    assert _names(store.path) == {"a", "b"}
    assert "state-writer" in store.writers, "the first write is the writer thread's, not the caller's"
    checkpointer.close()


def test_close_saves_what_is_pending_and_stops_the_writer(tmp_path: Path) -> None:
    store = _GatedStore(tmp_path / "state.json")
    store.gate.set()
    checkpointer = Checkpointer(store, store.load())
    for name in ("a", "b", "c"):
        checkpointer.commit_soon(lambda s, n=name: s.put(_entry(n)))  # type: ignore[misc]
    checkpointer.close()
    assert _names(store.path) == {"a", "b", "c"}
    assert not any(t.name == "state-writer" for t in threading.enumerate())


def test_a_failed_write_behind_sets_stop_and_the_next_commit_raises(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = StateStore(tmp_path / "state.json")
    stop = threading.Event()
    checkpointer = Checkpointer(store, store.load(), stop=stop)

    def broken_snapshot(state: object) -> bytes:
        raise RuntimeError("serializer bug")

    monkeypatch.setattr(StateStore, "snapshot", staticmethod(broken_snapshot))
    checkpointer.commit_soon(lambda s: s.put(_entry("a")))
    assert stop.wait(10), "a writer thread that failed must stop the run"
    assert checkpointer.failed
    with pytest.raises(RuntimeError, match="serializer bug"):
        checkpointer.commit(lambda s: s.put(_entry("b")))
    checkpointer.close()  # does not raise: the failure was reported by commit
