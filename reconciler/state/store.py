"""Reading and atomically writing the state file.

Terraform rewrites its state in place; a crash mid-write leaves a torn file.
We write a temporary file beside the target, fsync it, rename it over the old
one and fsync the directory: a reader sees the old state or the new one, never
a mix. The state as it was before this run is kept once as `<name>.backup`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from reconciler.errors import StateError
from reconciler.state.model import State, parse_state

DEFAULT_STATE_NAME = "hss-reconciler.state.json"
FILE_MODE = 0o600


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + ".backup")


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a directory be opened
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path: Path, payload: bytes) -> None:
    """Replace `path` with `payload` so that no reader ever sees a partial file."""
    directory = path.parent
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(directory)


class StateStore:
    """One state file for one run: load it once, back it up once, save often."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._backed_up = False
        self._original: bytes | None = None

    def load(self) -> State:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return State()
        except OSError as exc:
            raise StateError(f"{self.path}: cannot read state file: {exc.strerror}") from None
        self._original = raw
        return parse_state(raw, str(self.path))

    def save(self, state: State) -> None:
        """Write `state` with the next serial; keeps the pre-run file as the backup."""
        self.write(self.snapshot(state))

    @staticmethod
    def snapshot(state: State) -> bytes:
        """The bytes of the next version of `state` (taken under the caller's lock)."""
        state.serial += 1
        return state.serialize()

    def write(self, payload: bytes) -> None:
        try:
            if not self._backed_up and self._original is not None:
                atomic_write(backup_path(self.path), self._original)
            self._backed_up = True
            atomic_write(self.path, payload)
        except OSError as exc:
            raise StateError(self._unwritable_message(payload, exc)) from None

    def _unwritable_message(self, payload: bytes, exc: OSError) -> str:
        errored = Path.cwd() / "errored.hss-reconciler.state.json"
        try:
            atomic_write(errored, payload)
            saved = f"the new state was written to {errored}"
        except OSError:
            saved = "the new state could not be saved anywhere"
        return (f"{self.path}: cannot write state file ({exc.strerror}); {saved}. "
                f"Fix the cause, then copy it over {self.path} before the next run.")
