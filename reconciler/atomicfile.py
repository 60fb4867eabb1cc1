"""Replacing a file so that no reader ever sees half of it: the one atomic writer; and the one careful reader.

The new bytes go to a temporary file in the target's own directory (so the
rename cannot cross filesystems), which is given its mode, written and fsync'd,
then renamed over the target; the directory is fsync'd last, so the rename
itself survives a crash. A reader sees the old file or the new one, never a
mix. A writer killed half way leaves only a `.NAME.*.tmp` beside the target
(`leftover_temporaries` finds them); a failed write removes its own.

The state file, a saved plan and a file `fmt` rewrites are all written here.

`read_regular` reads a file a user may have replaced by anything: a FIFO, a
socket or a device is refused from its `stat`, before it is opened (opening a
FIFO waits for a writer; reading /dev/zero never ends), and what is opened is
opened non-blocking and checked again on the descriptor. At most `limit` bytes
are read. Registry files, the state and its lock are read here.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

PRIVATE = 0o600

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISLNK, "a symbolic link"))


class ReadRefused(OSError):
    """read_regular would not read the file; `strerror` says why, in words for a message."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(reason)
        self.strerror = reason
        self.filename = str(path)


class NotRegularFile(ReadRefused):
    """The path names something other than a regular file (`kind`: "a FIFO (named pipe)", ...)."""

    def __init__(self, path: Path, kind: str) -> None:
        super().__init__(path, f"it is {kind}, not a regular file")
        self.kind = kind


class FileTooLarge(ReadRefused):
    """The file holds more than the reader's limit; nothing past the limit was read."""

    def __init__(self, path: Path, limit: int) -> None:
        super().__init__(path, f"larger than {limit} bytes")
        self.limit = limit


def file_kind(mode: int) -> str:
    """'a FIFO (named pipe)', 'a directory', ... for a `st_mode` that is not a regular file's."""
    return next((kind for test, kind in _KINDS if test(mode)), "not a regular file")


def read_regular(path: Path, limit: int, *, follow_symlinks: bool = True) -> bytes:
    """The bytes of the regular file at `path`, at most `limit` of them; never blocks.

    Raises FileNotFoundError, NotRegularFile (a FIFO, socket, device or directory;
    a symlink too without `follow_symlinks`), FileTooLarge, or another OSError.
    """
    info = os.stat(path, follow_symlinks=follow_symlinks)  # refused before open: opening a FIFO blocks
    if not stat.S_ISREG(info.st_mode):
        raise NotRegularFile(path, file_kind(info.st_mode))
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow_symlinks else os.O_NOFOLLOW)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)  # what was opened, should the name have been replaced since the stat
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(path, file_kind(info.st_mode))
        if info.st_size > limit:
            raise FileTooLarge(path, limit)
        chunks: list[bytes] = []
        left = limit + 1  # one byte more than allowed tells a file that grew while being read
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    finally:
        os.close(fd)
    if left <= 0:
        raise FileTooLarge(path, limit)
    return b"".join(chunks)


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
                 follow_symlinks: bool = False, replace: bool = True) -> None:
    """Replace `path` with `payload` so that no reader ever sees a partial file.

    `mode` is the permission bits of the new file, whatever the umask; None keeps
    those of the file being replaced (which must then exist). With
    `follow_symlinks`, a symlink at `path` stays a symlink and the file it points
    to is replaced; without, the symlink itself is replaced by the file. With
    `replace=False`, an existing `path` (whatever made it meanwhile) is never
    replaced: FileExistsError (a hard link, not a rename, puts the file in place).
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
        if replace:
            os.replace(tmp_name, target)
        else:
            os.link(tmp_name, target)
            os.unlink(tmp_name)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_directory(target.parent)
