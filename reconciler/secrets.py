"""Secret references, a value type that never prints, and the one redactor.

A password is named in YAML as ``{env: NAME}`` or ``{file: PATH}`` and read
only at apply time. Every value read is registered with the redactor, and every
output stream and log handler passes through it, so even a bug that formats a
secret into a message cannot show it.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus

from reconciler.errors import ConfigError

MASK = "(sensitive)"
MIN_SECRET_LENGTH = 1
MAX_SECRET_LENGTH = 128
# The most a secret file may hold, in bytes: the longest value, every character
# at UTF-8's widest (4 bytes), plus the one line ending that is ignored. A file
# larger than this cannot hold a valid value, so it is refused unread.
MAX_SECRET_FILE_BYTES = MAX_SECRET_LENGTH * 4 + len("\r\n")


class Secret:
    """Holds a secret value; ``str``/``repr``/``format`` show only a mask."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        REDACTOR.register(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled")


class Redactor:
    """Replaces every registered secret value in text with a mask."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def register(self, value: str) -> None:
        # Very short values would mask ordinary words; they are still never
        # formatted by our code, this is the belt to the Secret type's braces.
        if len(value) >= 4:
            # The encoded forms a value takes in a URL or JSON text count too.
            # surrogateescape: a value read from undecodable bytes (an environment
            # variable that is not UTF-8) must be registered, not crash the run.
            forms = {value, quote(value, safe="", errors="surrogateescape"),
                     quote_plus(value, errors="surrogateescape"), json.dumps(value)[1:-1]}
            with self._lock:
                self._values.update(forms)

    def redact(self, text: str) -> str:
        if not self._values or not text:
            return text
        # Longest first, so a secret that contains another is masked whole.
        for value in sorted(self._values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, MASK)
        return text


REDACTOR = Redactor()


class RedactingFilter(logging.Filter):
    """Installed on every handler: formats the record, then masks secrets in it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = REDACTOR.redact(message)
        record.args = None
        if record.exc_info:
            record.exc_text = REDACTOR.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


@dataclass(frozen=True)
class SecretRef:
    """Where a secret comes from; this, never the value, is stored and planned."""

    kind: str  # "env" or "file"
    name: str

    def describe(self) -> str:
        return f"{{{self.kind}: {self.name}}}"

    def to_json(self) -> dict[str, str]:
        return {self.kind: self.name}

    def resolve(self, base_dir: Path | None = None) -> Secret:
        """Read the value; errors name the reference, never the value."""
        value = _read_env(self.name) if self.kind == "env" else _read_file(self._path(base_dir))
        secret = Secret(value)  # registered before any check, so no later message can show it
        if not MIN_SECRET_LENGTH <= len(value) <= MAX_SECRET_LENGTH:
            raise ConfigError(
                f"{self.describe()} holds {len(value)} characters; "
                f"HSS accepts {MIN_SECRET_LENGTH}-{MAX_SECRET_LENGTH}"
            )
        return secret

    def _path(self, base_dir: Path | None) -> Path:
        """A relative ``{file: ...}`` is relative to the YAML file that names it."""
        path = Path(self.name).expanduser()
        if base_dir is not None and not path.is_absolute():
            path = base_dir / path
        return path


def _read_env(name: str) -> str:
    """The variable's value, which must be valid UTF-8.

    ``os.environ`` turns bytes that are not UTF-8 into lone surrogates; such a
    value cannot be sent in a JSON body or written to any output, so it is
    refused here, by name, instead of crashing later.
    """
    value = os.environ.get(name)
    if value is None:
        raise ConfigError(f"environment variable {name} is not set")
    if not _is_utf8(value):
        Secret(value)  # registered, though the message below never shows it
        raise ConfigError(f"environment variable {name} is not valid UTF-8")
    return value


def _is_utf8(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _read_file(path: Path) -> str:
    """The file's text without one trailing line ending (LF or CRLF).

    Only one is removed: the line ending an editor adds is not part of the
    password, but anything beyond it is what the file says.
    """
    data = _read_bounded(path)
    if len(data) > MAX_SECRET_FILE_BYTES:
        raise ConfigError(f"cannot read secret file {path}: longer than {MAX_SECRET_LENGTH} characters")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"cannot read secret file {path}: not valid UTF-8") from None
    return _strip_one_line_ending(text)


def _strip_one_line_ending(text: str) -> str:
    # CRLF first: a file saved on Windows ends with both, and both are the line ending.
    for ending in ("\r\n", "\n"):
        if text.endswith(ending):
            return text[: -len(ending)]
    return text


def _read_bounded(path: Path) -> bytes:
    """At most ``MAX_SECRET_FILE_BYTES + 1`` bytes of a regular file (symlinks followed).

    Opened non-blocking and checked on the open descriptor, not by name first:
    a FIFO would block ``open`` and ``read`` forever, a device such as
    /dev/zero never ends, and a check by name could be raced. One byte past the
    bound is enough to tell that the file is too long without reading it all.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise ConfigError(f"cannot read secret file {path}: {exc.strerror or 'cannot open'}") from None
    try:
        _require_regular_file(fd, path)
        return _read_at_most(fd, MAX_SECRET_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read secret file {path}: {exc.strerror or 'read failed'}") from None
    finally:
        os.close(fd)


def _require_regular_file(fd: int, path: Path) -> None:
    mode = os.fstat(fd).st_mode
    if stat.S_ISDIR(mode):
        raise ConfigError(f"cannot read secret file {path}: Is a directory")
    if not stat.S_ISREG(mode):
        raise ConfigError(f"cannot read secret file {path}: not a regular file")


def _read_at_most(fd: int, limit: int) -> bytes:
    # os.read may return less than asked before the end of the file: loop to EOF or the limit.
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = os.read(fd, limit - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
