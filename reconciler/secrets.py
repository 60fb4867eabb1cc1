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
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus

from reconciler.errors import ConfigError

MASK = "(sensitive)"
MIN_SECRET_LENGTH = 1
MAX_SECRET_LENGTH = 128


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
            forms = {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}
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
        if self.kind == "env":
            value = os.environ.get(self.name)
            if value is None:
                raise ConfigError(f"environment variable {self.name} is not set")
        else:
            path = Path(self.name).expanduser()
            if base_dir is not None and not path.is_absolute():
                path = base_dir / path
            try:
                value = path.read_text(encoding="utf-8").rstrip("\r\n")
            except (OSError, UnicodeDecodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8"
                raise ConfigError(f"cannot read secret file {path}: {reason}") from None
        secret = Secret(value)
        if not MIN_SECRET_LENGTH <= len(value) <= MAX_SECRET_LENGTH:
            raise ConfigError(
                f"{self.describe()} holds {len(value)} characters; "
                f"HSS accepts {MIN_SECRET_LENGTH}-{MAX_SECRET_LENGTH}"
            )
        return secret
