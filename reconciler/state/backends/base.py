"""The interface of a state backend, whatever stores the bytes.

A backend knows nothing of the state's meaning: it reads the bytes with a
version token, writes new bytes only if the token still matches
(compare-and-swap), and takes and releases the lock. The versions it keeps
(object versioning, a history table, `.backup`) are the store's own affair.
The meaning (lineage, serial, never going backwards) is checked above it, in
shared.py and engine/statefile.py, once for every backend.

The version token is opaque: an S3 ETag, a PostgreSQL serial, a local file's
digest. `None` means "no state yet": writing with `expected=None` creates the
state only if there is still none.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from reconciler.errors import StateError

if TYPE_CHECKING:
    from pathlib import Path

    from reconciler.state.lock import LockInfo
    from reconciler.state.model import State


@dataclass(frozen=True)
class Snapshot:
    raw: bytes | None  # None: the store holds no state yet
    version: str | None

    def writable(self, location: str) -> Snapshot:
        """This snapshot, if a write can be made conditional on it; else the error, before anything changes.

        A store that returned a state without a version (an S3 answer without an ETag)
        would turn the next write into a blind overwrite, or into a refusal that blames a
        concurrent run after HSS was already changed.
        """
        if self.raw is not None and not self.version:
            raise StateError(f"{location}: the store returned the state without a version (no ETag), so a "
                             "write could not be made conditional on it and a concurrent writer would be "
                             "overwritten; use a store that returns ETags, or PostgreSQL. Nothing was "
                             "changed.")
        return self


class ConcurrentWrite(StateError):
    """The stored state is no longer the version this run read: someone else wrote it."""


class HeldLock(Protocol):
    info: LockInfo

    def release(self) -> None: ...

    def __enter__(self) -> HeldLock: ...

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None: ...


class Backend(Protocol):
    location: str  # how messages name the store: the path or the URL as given (never a secret)
    locking: bool  # False only when the user asked for lock=off

    def read(self) -> Snapshot:
        """The stored bytes (at most MAX_STATE_BYTES) and their version."""
        ...

    def write(self, payload: bytes, expected: str | None, *, serial: int, lineage: str) -> str | None:
        """Store `payload` if the stored version is still `expected`; its new version.

        Raises ConcurrentWrite otherwise, and StateError when the store cannot be
        reached. Returns only once the store has made the write durable.
        """
        ...

    def acquire(self, operation: str, timeout: float) -> HeldLock:
        """Take the lock, waiting up to `timeout` seconds; LockHeld names the holder."""
        ...

    def force_unlock(self, lock_id: str) -> LockInfo:
        """Remove the lock if its id is `lock_id`; what was removed."""
        ...

    def close(self) -> None: ...


class Store(Protocol):
    """What a run reads the state from and checkpoints to: state/store.py's StateStore for a
    local file (unchanged), shared.py's SharedStore for a backend behind a URL."""

    @property
    def location(self) -> str: ...

    def load(self) -> State: ...

    def snapshot(self, state: State) -> bytes:
        """The bytes of the next version of `state` (its serial raised), taken under the caller's lock."""
        ...

    def write(self, payload: bytes) -> None:
        """Make `payload` the state, durably; StateUnwritable says where it went instead."""
        ...

    def exists(self) -> bool: ...

    def acquire(self, operation: str, timeout: float) -> HeldLock: ...

    def prepare_locked(self) -> None: ...

    def local_files(self) -> dict[Path, str]: ...

    def close(self) -> None: ...
