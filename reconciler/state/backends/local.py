"""The local state file as a Backend, for `state pull/push/migrate` (runs use StateStore directly).

Its version token is the SHA-256 of the file's bytes: a write re-reads the file
under the lock and refuses if someone replaced it meanwhile (a `cp` over it),
then writes exactly as a run does (atomically, keeping `.backup`). A symlinked
path is resolved once, by its StateStore, for the lock and the writes alike.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from reconciler.state.backends.base import ConcurrentWrite, Snapshot
from reconciler.state.lock import LockInfo, StateLock, force_unlock
from reconciler.state.store import StateStore


def _digest(raw: bytes | None) -> str | None:
    return None if raw is None else hashlib.sha256(raw).hexdigest()


class LocalBackend:
    locking = True

    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = str(path)
        self._store = StateStore(path)

    def read(self) -> Snapshot:
        raw = self._store.read_raw()
        return Snapshot(raw, _digest(raw))

    def write(self, payload: bytes, expected: str | None, *, serial: int, lineage: str) -> str | None:
        current = self._store.read_raw()
        if _digest(current) != expected:
            raise ConcurrentWrite(f"{self.location}: the state file changed since it was read")
        self._store.keep_as_backup(current)  # kept once as .backup, as a run does
        self._store.write(payload)
        return _digest(payload)

    def acquire(self, operation: str, timeout: float) -> StateLock:
        return self._store.acquire(operation, timeout)  # beside the file the store resolved, once

    def force_unlock(self, lock_id: str) -> LockInfo:
        return force_unlock(self.path, lock_id, self._store.real)

    def close(self) -> None:
        """Nothing to close."""
