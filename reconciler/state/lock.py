"""The state lock: one writer per state file at a time.

Two applies against one state file would each start from the same serial and
the second save would silently drop the first one's registries. So every run
that writes the state first creates `<state>.lock` beside it. The file is made
with O_CREAT|O_EXCL, which the kernel makes atomic: of two racing runs exactly
one succeeds. It says who holds it (never anything secret) so the loser can
name the holder.

As in Terraform, a lock is never judged stale automatically: a run on another
machine (a CI runner sharing the directory) can look dead from here while it
is still writing. A lock left by a run that died is removed on purpose with
`hss-reconciler force-unlock LOCK_ID`, which checks the id so that nobody
releases a lock they have not looked at.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import logging
import os
import socket
import time
import uuid
import weakref
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from reconciler import __version__
from reconciler.errors import StateError

LOCK_MODE = 0o600
LOG = logging.getLogger(__name__)
# Between O_EXCL creating the file and the JSON landing in it, a reader can see
# it empty; a few short retries make that window invisible.
_READ_RETRIES = 5
_READ_RETRY_DELAY = 0.02


def lock_path(state_path: Path) -> Path:
    return state_path.with_name(state_path.name + ".lock")


@dataclass(frozen=True)
class LockInfo:
    """What a lock file holds: enough to find the holder, nothing secret."""

    id: str
    operation: str
    who: str
    pid: int
    created: str
    version: str
    path: str

    @classmethod
    def new(cls, state_path: Path, operation: str) -> LockInfo:
        return cls(id=str(uuid.uuid4()), operation=operation, who=_who(), pid=os.getpid(),
                   created=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
                   version=__version__, path=str(state_path))

    @classmethod
    def from_json(cls, data: Any) -> LockInfo:
        if not isinstance(data, dict):
            raise ValueError("not an object")
        return cls(id=str(data["id"]), operation=str(data["operation"]), who=str(data["who"]),
                   pid=int(data["pid"]), created=str(data["created"]), version=str(data["version"]),
                   path=str(data.get("path", "")))

    def serialize(self) -> bytes:
        return (json.dumps(asdict(self), indent=2) + "\n").encode("utf-8")

    def describe(self) -> str:
        """'alice@ci-7 (pid 4242) running 'apply' since 2024-05-01T10:00:00Z, lock id ...'."""
        return (f"{self.who} (pid {self.pid}) running '{self.operation}' since {self.created}, "
                f"lock id {self.id}")


def _who() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # a container uid with no passwd entry and no $USER
        user = f"uid{os.getuid()}"
    return f"{user}@{socket.gethostname()}"


class LockHeld(StateError):
    """Another run holds the state lock; the message names it and how to release it."""

    def __init__(self, message: str, holder: LockInfo | None) -> None:
        super().__init__(message)
        self.holder = holder


class _Unreadable(Exception):
    """The lock file exists but does not hold a lock we can read."""


def read_lock(path: Path) -> LockInfo | None:
    """The lock at `path`, or None when there is none.

    Raises StateError when a file is there but is not a readable lock (for
    example a run died between creating it and writing it).
    """
    for attempt in range(_READ_RETRIES):
        try:
            return _read_once(path)
        except FileNotFoundError:
            return None
        except _Unreadable:
            if attempt + 1 < _READ_RETRIES:
                time.sleep(_READ_RETRY_DELAY)
        except OSError as exc:
            raise StateError(f"{path}: cannot read the state lock ({exc.strerror})") from None
    raise StateError(f"{path}: the state lock file holds no readable lock (a run may have died while "
                     "taking it); if no hss-reconciler run is using this state, delete that file by hand")


def _read_once(path: Path) -> LockInfo:
    raw = path.read_bytes()
    try:
        return LockInfo.from_json(json.loads(raw))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise _Unreadable from None


def _holder_running(holder: LockInfo) -> bool | None:
    """Whether the holder's process is alive: None when we cannot tell (another host)."""
    if holder.who.rpartition("@")[2] != socket.gethostname():
        return None
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, it is just not ours
        return True
    return True


def _held_message(state_path: Path, holder: LockInfo, waited: float) -> str:
    after = f" (waited {waited:g}s)" if waited > 0 else ""
    stale = (f" No process {holder.pid} runs on this host, so the lock looks stale."
             if _holder_running(holder) is False else "")
    wait = "wait longer with --lock-timeout" if waited > 0 else "pass --lock-timeout 5m to wait for it"
    return (f"{state_path}: the state is locked by {holder.describe()}{after}.{stale} To go on, {wait}; "
            f"if that run died, release the lock with "
            f"'hss-reconciler force-unlock {holder.id} --state {state_path}'.")


def _release_file(path: Path, lock_id: str, owner_pid: int, state_path: str) -> None:
    """Remove the lock file if it still holds our lock (also run by the finalizer).

    It cannot raise: it runs on the way out, often while another error is
    being reported, and a lock left behind is recoverable with force-unlock.
    """
    if os.getpid() != owner_pid:  # a forked child must not release its parent's lock
        return
    unlock = f"'hss-reconciler force-unlock {lock_id} --state {state_path}'"
    try:
        current = read_lock(path)
        if current is None or current.id != lock_id:
            LOG.warning("the state lock %s was already removed (force-unlock?); left %s as it is",
                        lock_id, path)
            return
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        LOG.warning("could not remove the state lock %s (%s); once that is fixed, run %s",
                    path, exc.strerror, unlock)
    except StateError as exc:
        LOG.warning("could not release the state lock: %s; once that is fixed, run %s", exc, unlock)


class StateLock:
    """A held lock. Release it with `release()` or by leaving a `with` block.

    A lock that is never released explicitly is released when it is garbage
    collected or when the interpreter exits (KeyboardInterrupt included), so a
    command that forgets `with` does not strand it. Only SIGKILL and the like
    leave a lock behind; `force-unlock` is for those.
    """

    def __init__(self, path: Path, info: LockInfo) -> None:
        self.path = path
        self.info = info
        self._finalizer = weakref.finalize(self, _release_file, path, info.id, info.pid, info.path)

    def release(self) -> None:
        """Remove the lock file if it is still ours; calling it twice is harmless."""
        self._finalizer()

    def __enter__(self) -> StateLock:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def _try_create(path: Path, info: LockInfo) -> StateLock | None:
    """Create the lock file atomically; None when someone else has one."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, LOCK_MODE)
    except FileExistsError:
        return None
    except OSError as exc:
        raise StateError(f"{info.path}: cannot create the state lock {path} ({exc.strerror}); a run "
                         "that changes the state needs its directory to be writable. Nothing was changed."
                         ) from None
    try:
        os.fchmod(fd, LOCK_MODE)  # the umask may have narrowed it; never wider than 0600 either way
        os.write(fd, info.serialize())
        os.fsync(fd)
        os.close(fd)
        return StateLock(path, info)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.close(fd)
        with contextlib.suppress(OSError):
            path.unlink()
        if isinstance(exc, OSError):
            raise StateError(f"{info.path}: cannot write the state lock {path} ({exc.strerror}). "
                             "Nothing was changed.") from None
        raise


def acquire(state_path: Path, operation: str, timeout: float = 0.0, *,
            poll: float = 0.1, max_poll: float = 1.0) -> StateLock:
    """Take the lock on `state_path` for `operation`, waiting up to `timeout` seconds.

    With timeout 0 a held lock fails at once. Raises LockHeld naming the holder.
    """
    path = lock_path(state_path)
    info = LockInfo.new(state_path, operation)
    deadline = time.monotonic() + timeout
    delay = poll
    vanished = 0
    while True:
        lock = _try_create(path, info)
        if lock is not None:
            return lock
        holder = read_lock(path)
        if holder is None:  # released between our attempt and our look: try again now
            vanished += 1
            if vanished > _READ_RETRIES:  # e.g. a dangling symlink: O_EXCL says taken, read says absent
                raise StateError(f"{path}: cannot take the state lock: the name is taken by something "
                                 "that is not a lock file; remove it by hand")
            continue
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise LockHeld(_held_message(state_path, holder, timeout), holder)
        LOG.info("waiting for the state lock held by %s", holder.describe())
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, max_poll)


def force_unlock(state_path: Path, lock_id: str) -> LockInfo:
    """Remove the lock on `state_path` if its id is `lock_id`; returns what was removed."""
    path = lock_path(state_path)
    holder = read_lock(path)
    if holder is None:
        raise StateError(f"{state_path}: there is no state lock ({path} does not exist); nothing to release")
    if holder.id != lock_id.strip():
        raise StateError(f"{state_path}: lock id {lock_id} does not match the lock held by "
                         f"{holder.describe()}; nothing was released")
    try:
        path.unlink()
    except FileNotFoundError:
        pass  # released by its holder meanwhile: the goal is met
    except OSError as exc:
        raise StateError(f"{path}: cannot remove the state lock ({exc.strerror})") from None
    return holder
