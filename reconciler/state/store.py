"""Reading and atomically writing the state file.

Terraform rewrites its state in place; a crash mid-write leaves a torn file.
We write it with reconciler.atomicfile (a temporary file beside the target,
fsync'd, renamed over the old one, the directory fsync'd), mode 0600: a reader
sees the old state or the new one, never a mix. The state as it was before
this run is kept once as `<name>.backup`.

A state path that is a symbolic link is resolved once, when the store is made
(when the run opens the state): the file it leads to is read, backed up beside
itself and replaced (the link stays a link), and its lock is taken beside it
too (state/lock.py, handed the same resolved path), so two links to one state
share one lock, and a link re-pointed during the run changes nothing: the run
goes on writing the file it locked. A link that leads nowhere is refused
rather than read as an empty state. The file is read by atomicfile.read_regular:
a FIFO or a device is refused without being opened, and at most
MAX_STATE_BYTES are read.

When the state file cannot be written (read-only directory, disk full), the
new state goes to `errored.hss-reconciler.state.json` in the current directory
(or the temporary directory), as Terraform writes `errored.tfstate`, and the
error says where it is and how to put it back.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.atomicfile import FileTooLarge, atomic_write, leftover_temporaries, read_regular
from reconciler.errors import StateError
from reconciler.state.model import MAX_STATE_BYTES, State, parse_state
from reconciler.state.paths import lock_beside, real_state_path

if TYPE_CHECKING:
    from reconciler.state.lock import StateLock

DEFAULT_STATE_NAME = "hss-reconciler.state.json"
ERRORED_NAME = "errored.hss-reconciler.state.json"


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + ".backup")


class StateUnwritable(StateError):
    """The state file could not be written; `saved_to` holds the new state, if anywhere."""

    def __init__(self, message: str, saved_to: Path | None, put_back: str = "") -> None:
        super().__init__(message)
        self.saved_to = saved_to
        # How to make the saved state the store's again: a copy for a file, a push for a URL.
        self.put_back = put_back


def remove_stale_temporaries(real: Path) -> list[Path]:
    """Temporary files a killed writer left beside the state file `real` (StateStore.real). Only
    call this holding the lock: then no other writer can have one in flight."""
    removed = []
    for leftover in leftover_temporaries(real):
        with contextlib.suppress(OSError):
            leftover.unlink()
            removed.append(leftover)
    return removed


class StateStore:
    """One state file for one run: load it once, back it up once, save often.

    Once a write has failed, every later write of this run goes to the errored
    file only. Writing the real file again after a transient failure would
    leave two candidates, and the message already printed would tell the user
    to copy the older one over the newer.
    """

    def __init__(self, path: Path) -> None:
        self.path = path  # as the user named it: what messages say
        self.real = real_state_path(path)  # what is read, backed up and replaced
        self._backed_up = False
        self._original: bytes | None = None
        self._fallback = ErroredFile()
        self._failure: str | None = None

    def read_raw(self) -> bytes | None:
        """The file's bytes; None when there is none (a dangling link is refused)."""
        try:
            return read_regular(self.real, MAX_STATE_BYTES)
        except FileNotFoundError:
            if self.path.is_symlink():
                raise StateError(f"{self.path}: the state file is a symbolic link to {self.real}, which does "
                                 "not exist; refusing to start from an empty state. Restore the file it "
                                 "points to, or remove the link to start afresh.") from None
            return None
        except FileTooLarge:
            raise StateError(f"{self.path}: state file is larger than {MAX_STATE_BYTES // (1024 * 1024)} MiB "
                             "(10,000 registries take about 8 MB); it was left untouched") from None
        except OSError as exc:
            raise StateError(f"{self.path}: cannot read state file: {exc.strerror or exc}") from None

    def load(self) -> State:
        raw = self.read_raw()
        if raw is None:
            return State()
        self.keep_as_backup(raw)
        backup = str(backup_path(self.real)) if self.real != self.path else None
        return parse_state(raw, str(self.path), backup)

    def keep_as_backup(self, raw: bytes | None) -> None:
        """`raw`, the file as read before this run's first write, is what that write keeps as `.backup`.

        `load` says so; so does LocalBackend, which reads the bytes itself (`state push`, `migrate`).
        """
        self._original = raw

    @property
    def location(self) -> str:
        return str(self.path)

    def exists(self) -> bool:
        return self.real.exists()

    def acquire(self, operation: str, timeout: float) -> StateLock:
        """The lock beside the file this store resolved (state/lock.py), imported only by runs that write."""
        from reconciler.state.lock import acquire

        return acquire(self.path, operation, timeout, real=self.real)

    def prepare_locked(self) -> None:
        """Holding the lock: remove what a killed writer left."""
        remove_stale_temporaries(self.real)

    def local_files(self) -> dict[Path, str]:
        """The files this store writes, which nothing else (a plan file) may overwrite."""
        return {self.path: "the state file", self.real: "the state file",
                lock_beside(self.real): "the state's lock file"}

    def close(self) -> None:
        """Nothing to close for a file; a shared store closes its connection."""

    @staticmethod
    def snapshot(state: State) -> bytes:
        """The bytes of the next version of `state` (taken under the caller's lock)."""
        state.serial += 1
        return state.serialize()

    def write(self, payload: bytes) -> None:
        """Write `payload` (a `snapshot`) to the state file, the first time keeping the pre-run file
        as the backup; raises StateUnwritable saying where it went instead."""
        if self._failure is None:
            try:
                if not self._backed_up and self._original is not None:
                    atomic_write(backup_path(self.real), self._original)
                self._backed_up = True
                atomic_write(self.real, payload)
                return
            except OSError as exc:
                self._failure = exc.strerror or str(exc)
        raise self._write_errored(payload)

    def _write_errored(self, payload: bytes) -> StateUnwritable:
        return self._fallback.save(payload, f"{self.path}: cannot write state file ({self._failure})",
                                   f"copy it over the state file ('cp {{saved}} {self.path}')")


class ErroredFile:
    """Where a run's newest state goes when its store cannot take it: `errored.*.state.json` in
    the current directory, else the temporary directory; once chosen, always the same file."""

    def __init__(self) -> None:
        self.saved: Path | None = None

    def save(self, payload: bytes, problem: str, put_back: str) -> StateUnwritable:
        """Write `payload` there; the error to raise, saying where it is and how to `put_back`
        ('{saved}' in it is replaced by the file's name)."""
        for candidate in self._candidates():
            try:
                atomic_write(candidate, payload)
            except OSError:
                continue
            self.saved = candidate
            how = put_back.replace("{saved}", str(candidate))
            return StateUnwritable(
                f"{problem}. The new state, with every change HSS accepted in this run, is in {candidate}. "
                f"Once the cause is fixed, {how} before running again.", candidate, how)
        return StateUnwritable(
            f"{problem}, and the new state could not be saved anywhere else either. Once the cause is "
            "fixed, 'hss-reconciler plan' shows each registry this run added as '<=' (adopt) and 'apply' "
            "records it again.", None)

    def _candidates(self) -> list[Path]:
        if self.saved is not None:  # keep rewriting the file already named to the user
            return [self.saved]
        places = [Path.cwd(), Path(tempfile.gettempdir())]
        return [_free_name(place / ERRORED_NAME) for place in places]


def _free_name(path: Path) -> Path:
    """`path`, or `path` with a counter if an earlier run left one there not yet recovered."""
    candidate, n = path, 1
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}.{n}{path.suffix}")
        n += 1
    return candidate
