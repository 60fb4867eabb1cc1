"""Replacing a file so that no reader ever sees half of it: the one atomic writer.

The new bytes go to a temporary file in the target's own directory (so the
rename cannot cross filesystems), which is given its mode, written and fsync'd,
then renamed over the target; the directory is fsync'd last, so the rename
itself survives a crash. A reader sees the old file or the new one, never a
mix. A writer killed half way leaves only a `.NAME.*.tmp` beside the target
(`leftover_temporaries` finds them); a failed write removes its own.

The state file, a saved plan and a file `fmt` rewrites are all written here.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

PRIVATE = 0o600


def _temporary_affixes(path: Path) -> tuple[str, str]:
    return f".{path.name}.", ".tmp"


def leftover_temporaries(path: Path) -> list[Path]:
    """The temporary files writers of `path` left behind (all of them, finished or not)."""
    prefix, suffix = _temporary_affixes(path)
    return sorted(path.parent.glob(f"{prefix}*{suffix}"))


def _fsync_directory(directory: Path) -> None:
    """Make a rename in `directory` durable; a no-op where a directory cannot be opened."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path: Path, payload: bytes, *, mode: int | None = PRIVATE,
                 follow_symlinks: bool = False) -> None:
    """Replace `path` with `payload` so that no reader ever sees a partial file.

    `mode` is the permission bits of the new file, whatever the umask; None keeps
    those of the file being replaced (which must then exist). With
    `follow_symlinks`, a symlink at `path` stays a symlink and the file it points
    to is replaced; without, the symlink itself is replaced by the file.
    Raises OSError, with the old file untouched and no temporary file left.
    """
    target = path.resolve() if follow_symlinks else path
    if mode is None:
        mode = stat.S_IMODE(target.stat().st_mode)
    prefix, suffix = _temporary_affixes(target)
    fd, tmp_name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_directory(target.parent)
