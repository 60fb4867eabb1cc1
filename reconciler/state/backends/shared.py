"""The store a run reads and checkpoints to when the state lives behind a URL.

It keeps the version token of what it read and writes each checkpoint as a
compare-and-swap on it, so a write that would overwrite someone else's is
refused, never done. It also refuses, as a bug, any write that would lower the
serial or change the lineage it read. When a write fails (the store is
unreachable, or someone else wrote), the run's newest state goes to the errored
file, as for a local state, and the error says how to push it back.
"""

from __future__ import annotations

from pathlib import Path

from reconciler.errors import StateError
from reconciler.state.backends.base import Backend, ConcurrentWrite, HeldLock
from reconciler.state.model import State, parse_state
from reconciler.state.store import ErroredFile

# Where a damaged stored state's predecessor is, for parse_state's message (a store has no `.backup`).
HISTORY = "an earlier version from the store's history"


class SharedStore:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._version: str | None = None
        self._lineage: str | None = None
        self._serial = 0
        self._existed = False
        self._next: tuple[int, str] | None = None
        self._fallback = ErroredFile()
        self._failure: StateError | None = None  # the first failed write: every later one goes to the file
        self._writing = False  # a lock was taken: this run means to write

    @property
    def location(self) -> str:
        return self.backend.location

    def load(self) -> State:
        snapshot = self.backend.read()
        if self._writing:  # a run that will write: refuse now a state it could not write back safely
            snapshot.writable(self.location)
        self._version = snapshot.version
        if snapshot.raw is None:
            return State()
        state = parse_state(snapshot.raw, self.location, HISTORY)
        self._existed, self._lineage, self._serial = True, state.lineage, state.serial
        return state

    def exists(self) -> bool:
        return self._existed

    def snapshot(self, state: State) -> bytes:
        state.serial += 1
        self._next = (state.serial, state.lineage)
        return state.serialize()

    def write(self, payload: bytes) -> None:
        if self._next is None:
            raise StateError(f"{self.location}: a write without a snapshot")  # a bug: snapshot comes first
        serial, lineage = self._next
        if serial <= self._serial or (self._lineage is not None and lineage != self._lineage):
            raise StateError(f"{self.location}: refusing to write serial {serial} of lineage {lineage} over "
                             f"serial {self._serial} of lineage {self._lineage}: a state never goes back")
        if self._failure is None:
            try:
                self._version = self.backend.write(payload, self._version, serial=serial, lineage=lineage)
                self._serial, self._lineage, self._existed = serial, lineage, True
                return
            except StateError as exc:  # ConcurrentWrite among them
                self._failure = exc
        push = f"'hss-reconciler state push {{saved}} --state {self.location}'"
        if isinstance(self._failure, ConcurrentWrite):
            raise self._fallback.save(
                payload, f"{self.location}: the stored state changed since this run read it: another run "
                         "wrote it although this run held the lock (someone ran force-unlock, or runs use "
                         "lock=off). Nothing was overwritten",
                f"compare it with 'hss-reconciler state pull --state {self.location}' and run "
                "'hss-reconciler plan': registries this run added that the other run did not record show "
                f"as '<=' (adopt). Push it only if it is the one to keep: {push} --force")
        why = str(self._failure).removeprefix(f"{self.location}: ")
        raise self._fallback.save(payload, f"{self.location}: cannot write the state ({why})",
                                  f"put it back with {push}")

    def acquire(self, operation: str, timeout: float) -> HeldLock:
        lock = self.backend.acquire(operation, timeout)
        self._writing = True
        return lock

    def prepare_locked(self) -> None:
        """Nothing is left behind by a killed writer: each write is one request or transaction."""

    def local_files(self) -> dict[Path, str]:
        return {}

    def close(self) -> None:
        self.backend.close()
