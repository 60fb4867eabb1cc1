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
from collections.abc import Mapping
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

# --- what a reference may name ---------------------------------------------------

# Environment variables that hold the credentials of hss-reconciler itself, of
# CI systems or of clouds: a registry file that names one as a registry
# password would hand that credential to whatever registry_addr says. Refused
# by name (ignoring case), before anything is read. The list is in SECURITY.md
# and README.md. Registry-style passwords (DOCKER_PASSWORD and the like) are
# not on it: they may well be the registry's own password.
_REFUSED_ENV_BY_OWNER: dict[str, tuple[str, ...]] = {
    "hss-reconciler's own credentials": ("HSS_AUTH_TOKEN",),
    "Huawei Cloud credentials": ("HW_ACCESS_KEY", "HW_SECRET_KEY", "HW_SECURITY_TOKEN", "OS_PASSWORD"),
    "AWS credentials": ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"),
    "Google Cloud credentials": ("GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CREDENTIALS",
                                 "GOOGLE_OAUTH_ACCESS_TOKEN"),
    "Azure credentials": ("AZURE_CLIENT_SECRET", "ARM_CLIENT_SECRET"),
    "GitHub credentials": ("GITHUB_TOKEN", "GH_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
                           "ACTIONS_RUNTIME_TOKEN"),
    "GitLab CI credentials": ("CI_JOB_TOKEN", "GITLAB_TOKEN", "CI_REGISTRY_PASSWORD"),
    "Azure Pipelines credentials": ("SYSTEM_ACCESSTOKEN",),
    "HashiCorp Vault credentials": ("VAULT_TOKEN",),
    "PostgreSQL credentials": ("PGPASSWORD",),
    "package registry credentials": ("NPM_TOKEN", "NODE_AUTH_TOKEN", "PYPI_TOKEN", "TWINE_PASSWORD"),
}
# Every variable that starts with one of these, whatever follows.
_REFUSED_ENV_PREFIXES: dict[str, str] = {
    "HUAWEICLOUD_SDK_": "hss-reconciler's own credentials",
    "CLOUD_SDK_": "hss-reconciler's own credentials",
    "CI_JOB_JWT": "GitLab CI credentials",
}
REFUSED_ENV_NAMES = frozenset(n for names in _REFUSED_ENV_BY_OWNER.values() for n in names)
REFUSED_ENV_PREFIXES = tuple(_REFUSED_ENV_PREFIXES)

# The directories beyond a registry file's own that {file: PATH} may read from
# (os.pathsep-separated). Unset, a secret file must be at or below the directory
# of the registry file that names it.
SECRETS_DIR_ENV = "HSS_SECRETS_DIR"
_FILE_RULE = (f"secret files are read only at or below the registry file's directory, "
              f"or in a directory {SECRETS_DIR_ENV} names")


def refused_env_reason(name: str) -> str | None:
    """Why `{env: NAME}` may not be a registry password (None: it may)."""
    upper = name.upper()
    owner = next((o for o, names in _REFUSED_ENV_BY_OWNER.items() if upper in names), None)
    owner = owner or next((o for p, o in _REFUSED_ENV_PREFIXES.items() if upper.startswith(p)), None)
    if owner is None:
        return None
    return (f"{name} is reserved for {owner}: hss-reconciler never sends it to a registry; "
            "give the registry password a variable of its own")


def secrets_dirs(environ: Mapping[str, str]) -> tuple[Path, ...]:
    """The directories HSS_SECRETS_DIR adds (relative ones are relative to the working directory)."""
    value = environ.get(SECRETS_DIR_ENV, "")
    return tuple(Path(os.path.abspath(d)) for d in value.split(os.pathsep) if d)


def _inside(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


def file_reference_problem(name: str, base_dir: Path, extra_dirs: tuple[Path, ...] = ()) -> str | None:
    """Why `{file: NAME}`, named by a registry file in `base_dir`, may not be read (None: it may).

    No NUL and no `~`. A relative path, resolved against `base_dir`, must stay
    at or below it (`..` included) or reach an HSS_SECRETS_DIR directory; an
    absolute path must be inside an HSS_SECRETS_DIR directory. The same holds
    once every symlink on the way is resolved. Nothing is read: a file that
    does not exist yet is not a problem here.
    """
    if "\0" in name:
        return "the path holds a NUL character"
    if name.startswith("~"):
        return f"~ is not expanded; {_FILE_RULE}"
    base = os.path.abspath(base_dir)
    extra = [os.path.normpath(d) for d in extra_dirs]
    allowed = extra if os.path.isabs(name) else [base, *extra]
    target = os.path.normpath(os.path.join(base, name))
    if not any(_inside(target, d) for d in allowed):
        what = f"an absolute path outside every {SECRETS_DIR_ENV} directory" if os.path.isabs(name) \
            else ".. leads outside the registry file's directory"
        return f"{what}; {_FILE_RULE}"
    real = os.path.realpath(target)
    if not any(_inside(real, os.path.realpath(d)) for d in allowed):
        return f"a symlink leads outside the registry file's directory; {_FILE_RULE}"
    return None


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

    def problem(self, base_dir: Path, environ: Mapping[str, str]) -> str | None:
        """Why this reference, in a registry file in `base_dir`, may never be read (None: it may).

        A static rule on the reference itself: nothing is read, and a missing
        variable or file is not a problem here.
        """
        if self.kind == "env":
            return refused_env_reason(self.name)
        return file_reference_problem(self.name, base_dir, secrets_dirs(environ))

    def resolve(self, base_dir: Path | None = None, environ: Mapping[str, str] | None = None) -> Secret:
        """Read the value; errors name the reference, never the value.

        `base_dir` is the directory of the registry file that names the
        reference: a `{file: PATH}` is read relative to it and only inside it
        (or an HSS_SECRETS_DIR directory of `environ`, default os.environ).
        Without `base_dir` the path is read as given: only for callers that
        chose the path themselves, never for one from a registry file.
        """
        if self.kind == "env":
            value = _read_env(self.name)
        else:
            value = _read_file(*self._path(base_dir, os.environ if environ is None else environ))
        secret = Secret(value)  # registered before any check, so no later message can show it
        if not MIN_SECRET_LENGTH <= len(value) <= MAX_SECRET_LENGTH:
            raise ConfigError(
                f"{self.describe()} holds {len(value)} characters; "
                f"HSS accepts {MIN_SECRET_LENGTH}-{MAX_SECRET_LENGTH}"
            )
        return secret

    def _path(self, base_dir: Path | None, environ: Mapping[str, str]) -> tuple[Path, Path]:
        """The path to open and the path to name in messages (as the registry file spells it).

        A relative ``{file: ...}`` is relative to the YAML file that names it.
        Within a workspace, the path opened is the one checked, with its
        symlinks already resolved.
        """
        if base_dir is None:
            if "\0" in self.name:
                raise ConfigError("cannot read secret file: the path holds a NUL character")
            return Path(self.name), Path(self.name)
        why = self.problem(base_dir, environ)
        if why:
            raise ConfigError(f"cannot read secret file: {why}")
        shown = base_dir / self.name
        return Path(os.path.realpath(shown)), shown


def _read_env(name: str) -> str:
    """The variable's value, which must be valid UTF-8.

    ``os.environ`` turns bytes that are not UTF-8 into lone surrogates; such a
    value cannot be sent in a JSON body or written to any output, so it is
    refused here, by name, instead of crashing later.
    """
    refused = refused_env_reason(name)
    if refused:
        raise ConfigError(refused)
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


def _read_file(path: Path, shown: Path) -> str:
    """The file's text without one trailing line ending (LF or CRLF); messages name `shown`.

    Only one is removed: the line ending an editor adds is not part of the
    password, but anything beyond it is what the file says.
    """
    data = _read_bounded(path, shown)
    if len(data) > MAX_SECRET_FILE_BYTES:
        raise ConfigError(f"cannot read secret file {shown}: longer than {MAX_SECRET_LENGTH} characters")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"cannot read secret file {shown}: not valid UTF-8") from None
    return _strip_one_line_ending(text)


def _strip_one_line_ending(text: str) -> str:
    # CRLF first: a file saved on Windows ends with both, and both are the line ending.
    for ending in ("\r\n", "\n"):
        if text.endswith(ending):
            return text[: -len(ending)]
    return text


def _read_bounded(path: Path, shown: Path) -> bytes:
    """At most ``MAX_SECRET_FILE_BYTES + 1`` bytes of a regular file (symlinks followed).

    Opened non-blocking and checked on the open descriptor, not by name first:
    a FIFO would block ``open`` and ``read`` forever, a device such as
    /dev/zero never ends, and a check by name could be raced. One byte past the
    bound is enough to tell that the file is too long without reading it all.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise ConfigError(f"cannot read secret file {shown}: {exc.strerror or 'cannot open'}") from None
    try:
        _require_regular_file(fd, shown)
        return _read_at_most(fd, MAX_SECRET_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read secret file {shown}: {exc.strerror or 'read failed'}") from None
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
