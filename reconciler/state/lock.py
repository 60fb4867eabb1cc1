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

A lock file is checked against schemas/lock.schema.json like the state
(state/jsonshape.py). One that breaks it (a pid out of range, a field of the
wrong type, a file too large, empty or not JSON) still blocks every run, as a
lock does, and the error names the file and the field, and the id that
releases it: the lock's own id when it holds a usable one, otherwise
`malformed-` and a digest of that file's identity (inode, size, modification
time), so force-unlock removes exactly the file that was looked at. A lock
path that is not a regular file (a FIFO, a directory, a symbolic link: this
tool only ever makes regular files there) is never opened, and has to be
removed by hand. A symbolically linked state is locked beside the file it
leads to, resolved once by the store (state/paths.py) and passed here as
`real`, so the file locked is the file the run reads and writes.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import logging
import os
import socket
import time
import uuid
import weakref
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from reconciler import __version__
from reconciler.atomicfile import FileTooLarge, NotRegularFile, read_regular
from reconciler.errors import StateError
from reconciler.state.jsonshape import ShapeError, integer, load_json, obj, string
from reconciler.state.model import PRINTABLE_ASCII
from reconciler.state.paths import lock_beside, real_state_path

LOCK_MODE = 0o600
LOG = logging.getLogger(__name__)
# Between O_EXCL creating the file and the JSON landing in it, a reader can see
# it empty; a few short retries make that window invisible.
_READ_RETRIES = 5
_READ_RETRY_DELAY = 0.02
# A lock is some 250 bytes; anything near this is not one.
MAX_LOCK_BYTES = 64 * 1024
# A process id is a positive pid_t, a 32-bit signed integer on every POSIX system: a pid outside
# this range names no process anywhere (and os.kill would raise OverflowError on it).
PID_MAX = 2**31 - 1
MAX_WHO = 512
LOCK_FIELDS = ("id", "operation", "who", "pid", "created", "version")
T = TypeVar("T")


def lock_path(state_path: Path, real: Path | None = None) -> Path:
    """`<state>.lock`, beside the file the state path leads to (a symlinked state is locked at its target).

    `real` is that file as the run resolved it when it opened the state; without it the
    path is resolved now (a command that holds no store, such as force-unlock's check).
    """
    return lock_beside(real_state_path(state_path) if real is None else real)


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
    def new(cls, state_path: Path | str, operation: str) -> LockInfo:
        return cls(id=str(uuid.uuid4()), operation=operation, who=_who(), pid=os.getpid(),
                   created=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
                   version=__version__, path=str(state_path))

    @classmethod
    def from_json(cls, data: Any) -> LockInfo:
        """The lock `data` describes; ShapeError naming the field that breaks schemas/lock.schema.json.

        Unknown fields are ignored: a newer hss-reconciler's lock must still read as a lock.
        Strings other than the id are not required to be text: the holder's user name and
        path come from its environment, and the lock is only ever read back for a message.
        """
        obj(data, (), LOCK_FIELDS, closed=False)
        return cls(id=_lock_id(data["id"]),
                   operation=string(data["operation"], ("operation",), max_length=256, text=False),
                   who=string(data["who"], ("who",), max_length=MAX_WHO, text=False),
                   pid=integer(data["pid"], ("pid",), minimum=1, maximum=PID_MAX),
                   created=string(data["created"], ("created",), max_length=64, text=False),
                   version=string(data["version"], ("version",), max_length=256, text=False),
                   path=string(data.get("path", ""), ("path",), max_length=4096, text=False))

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
    # $USER can be anything: kept short enough that our own lock always reads back.
    return f"{user[:MAX_WHO - 256]}@{socket.gethostname()[:255]}"


def _lock_id(value: Any) -> str:
    checked: str = string(value, ("id",), min_length=1, max_length=128, pattern=PRINTABLE_ASCII,
                          like="1 to 128 printable ASCII characters without spaces, such as a UUID")
    return checked


class LockHeld(StateError):
    """Another run holds the state lock; the message names it and how to release it."""

    def __init__(self, message: str, holder: LockInfo | None) -> None:
        super().__init__(message)
        self.holder = holder


class MalformedLock(StateError):
    """A lock file is there but breaks the lock schema; `unlock_id` is what force-unlock takes for it.

    `holder` is what could be read of it, "unknown" (pid 0) for the rest, for force-unlock to report.
    """

    def __init__(self, message: str, unlock_id: str, holder: LockInfo) -> None:
        super().__init__(message)
        self.unlock_id = unlock_id
        self.holder = holder


class _Malformed(Exception):
    """One reading's verdict on a lock file that breaks the schema (read_lock may look again)."""

    def __init__(self, problem: ShapeError, unlock_id: str, holder: LockInfo) -> None:
        super().__init__(str(problem))
        self.problem = problem
        self.unlock_id = unlock_id
        self.holder = holder


def read_lock(path: Path, state_path: Path | None = None) -> LockInfo | None:
    """The lock at `path`, or None when there is none.

    Raises MalformedLock when a file is there but breaks the lock schema (a run
    may have died between creating it and writing it, or it was edited), after
    a few short retries: a lock being written is briefly empty. Raises
    StateError when the name is taken by something other than a regular file,
    which is never opened. `state_path` is only for the message.
    """
    state = state_path or path.with_name(path.name.removesuffix(".lock"))
    for attempt in range(_READ_RETRIES):
        try:
            return _read_once(path)
        except FileNotFoundError:
            return None
        except _Malformed as exc:
            if attempt + 1 == _READ_RETRIES:
                where = f"{exc.problem.path}: " if exc.problem.path else ""
                raise MalformedLock(
                    f"{path}: {where}{exc.problem.message}: the state lock file is malformed and was left as "
                    "it is. If no hss-reconciler run is using this state, release it with "
                    f"'hss-reconciler force-unlock {exc.unlock_id} --state {state}'", exc.unlock_id,
                    exc.holder) from None
            time.sleep(_READ_RETRY_DELAY)
        except NotRegularFile as exc:
            raise StateError(f"{path}: the state lock is {exc.kind}, not a lock file hss-reconciler made; "
                             "if no hss-reconciler run is using this state, remove it by hand") from None
        except OSError as exc:
            raise StateError(f"{path}: cannot read the state lock ({exc.strerror or exc})") from None
    raise AssertionError("not reached")  # pragma: no cover - the last attempt returns or raises


def _read_once(path: Path) -> LockInfo:
    try:
        raw = read_regular(path, MAX_LOCK_BYTES, follow_symlinks=False)
    except FileTooLarge:
        problem = ShapeError((), f"larger than {MAX_LOCK_BYTES // 1024} KiB, which no lock is")
        raise _Malformed(problem, _unlock_id(path, None), _readable(None)) from None
    data: Any = None
    try:
        if not raw.strip():
            raise ShapeError((), "empty (a run may have died while taking the lock)")
        data = load_json(raw, 1)
        return LockInfo.from_json(data)
    except ShapeError as problem:
        raise _Malformed(problem, _unlock_id(path, data), _readable(data)) from None


def _unlock_id(path: Path, data: Any) -> str:
    """The id that releases a malformed lock: its own, if usable; else one naming this very file.

    The digest of the file's identity (inode, size, modification time) changes
    if the file is replaced or rewritten, so force-unlock removes only the file
    whose error was read.
    """
    if isinstance(data, dict):
        with contextlib.suppress(ShapeError):
            return _lock_id(data.get("id"))
    try:
        info = os.stat(path, follow_symlinks=False)
    except OSError:
        return "malformed"
    identity = f"{info.st_dev}:{info.st_ino}:{info.st_size}:{info.st_mtime_ns}".encode()
    return "malformed-" + hashlib.sha256(identity).hexdigest()[:16]


def _readable(data: Any) -> LockInfo:
    """What can be shown of a malformed lock: its fields that are strings and a pid that is an int."""
    fields = data if isinstance(data, dict) else {}

    def text(name: str) -> str:
        value = fields.get(name)
        return value[:256] if isinstance(value, str) else "unknown"

    pid = fields.get("pid")
    return LockInfo(id=text("id"), operation=text("operation"), who=text("who"),
                    pid=pid if type(pid) is int else 0, created=text("created"), version=text("version"),
                    path=text("path"))


def _holder_running(holder: LockInfo) -> bool | None:
    """Whether the holder's process is alive: None when we cannot tell (another host)."""
    if holder.who.rpartition("@")[2] != socket.gethostname() or not 1 <= holder.pid <= PID_MAX:
        return None  # from_json refuses such a pid; os.kill(0 or -1) would signal a whole group
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):  # EPERM: it exists, it is just not ours
        return True
    return True


def _held_message(state_path: Path | str, holder: LockInfo, waited: float) -> str:
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
        if current is None and not path.parent.is_dir():  # issue 19.12: not a force-unlock at all
            LOG.warning("the state lock %s could not be released: its directory %s no longer exists "
                        "(moved or deleted during the run?); nothing is left to unlock there",
                        lock_id, path.parent)
            return
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


def acquire(state_path: Path, operation: str, timeout: float = 0.0, *, real: Path | None = None,
            poll: float = 0.1, max_poll: float = 1.0) -> StateLock:
    """Take the lock on `state_path` for `operation`, waiting up to `timeout` seconds.

    With timeout 0 a held lock fails at once. Raises LockHeld naming the holder.
    `real` is the file the run resolved `state_path` to (StateStore.real): the lock goes
    beside it, whatever a link in the path leads to by now.
    """
    path = lock_path(state_path, real)
    info = LockInfo.new(state_path, operation)
    return wait_for_lock(lambda: _try_create(path, info), lambda: read_lock(path, state_path),
                         str(state_path), timeout, poll=poll, max_poll=max_poll,
                         vanished=f"{path}: cannot take the state lock: the name is taken by something "
                                  "that is not a lock file; remove it by hand")


def wait_for_lock(take: Callable[[], T | None], look: Callable[[], LockInfo | None], where: str,
                  timeout: float, *, poll: float = 0.1, max_poll: float = 1.0, vanished: str) -> T:
    """Call `take` until it returns a lock, for up to `timeout` seconds; any store's lock loop.

    `look` reads who holds it (None: nobody, it was released meanwhile: try again
    at once, a few times; then `vanished` is the error). LockHeld names the holder.
    """
    deadline = time.monotonic() + timeout
    delay = poll
    gone = 0
    while True:
        lock = take()
        if lock is not None:
            return lock
        holder = look()
        if holder is None:  # released between our attempt and our look: try again now
            gone += 1
            if gone > _READ_RETRIES:  # e.g. a dangling symlink: O_EXCL says taken, read says absent
                raise StateError(vanished)
            continue
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise LockHeld(_held_message(where, holder, timeout), holder)
        LOG.info("waiting for the state lock held by %s", holder.describe())
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, max_poll)


class HeldLock:
    """A lock held in a shared store; released like StateLock (explicitly, by `with`, or at exit).

    `release` is the store's own removal of exactly this lock; it must not raise.
    """

    def __init__(self, info: LockInfo, release: Callable[[], None]) -> None:
        self.info = info
        owner = os.getpid()
        self._finalizer = weakref.finalize(self, _release_if_owner, owner, release)

    def release(self) -> None:
        self._finalizer()

    def __enter__(self) -> HeldLock:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def no_lock(info: LockInfo) -> HeldLock:
    """What a shared store with lock=off in its URL holds: nothing, said once as a warning."""
    LOG.warning("%s: lock=off: this run takes no lock; a run started meanwhile can overwrite its changes",
                info.path)
    return HeldLock(info, lambda: None)


def _release_if_owner(owner: int, release: Callable[[], None]) -> None:
    if os.getpid() == owner:  # a forked child must not release its parent's lock
        release()


def check_unlock_id(where: str, lock_id: str, held_id: str, holder: LockInfo) -> None:
    """Refuse force-unlock of `where` with an id that is not the lock's; one wording for every store."""
    if held_id != lock_id.strip():
        raise StateError(f"{where}: lock id {lock_id} does not match the lock held by "
                         f"{holder.describe()}; nothing was released")


def force_unlock(state_path: Path, lock_id: str, real: Path | None = None) -> LockInfo:
    """Remove the lock on `state_path` if its id is `lock_id`; returns what was removed."""
    path = lock_path(state_path, real)
    try:
        holder = read_lock(path, state_path)
    except MalformedLock as exc:  # it must stay removable: by the id its error printed
        if lock_id.strip() != exc.unlock_id:
            raise StateError(f"{state_path}: lock id {lock_id} does not match the malformed state lock "
                             f"{path}, which 'force-unlock {exc.unlock_id}' releases; nothing was released"
                             ) from None
        holder = replace(exc.holder, id=exc.unlock_id)
    else:
        if holder is None:
            raise StateError(f"{state_path}: there is no state lock ({path} does not exist); "
                             "nothing to release")
        check_unlock_id(str(state_path), lock_id, holder.id, holder)
    try:
        path.unlink()
    except FileNotFoundError:
        pass  # released by its holder meanwhile: the goal is met
    except OSError as exc:
        raise StateError(f"{path}: cannot remove the state lock ({exc.strerror})") from None
    return holder
