"""Small files a credential source reads: bounded, regular files only, never shown."""

from __future__ import annotations

from pathlib import Path

from reconciler.atomicfile import read_regular
from reconciler.errors import ReconcilerError
from reconciler.hss.credentials import is_header_token
from reconciler.secrets import Secret

MAX_TOKEN_FILE_BYTES = 64 * 1024  # an OIDC ID token is a JWT of a few KB


def read_text(path: str, limit: int, source: str, what: str) -> str:
    """The file's UTF-8 text; a FIFO, a device, a directory or an oversized file is refused by name."""
    if "\0" in path:  # from a profile file: no such path can exist
        raise ReconcilerError(f"{source}: {what} {path!r} holds a NUL character")
    try:
        data = read_regular(Path(path), limit)
    except FileNotFoundError:
        raise ReconcilerError(f"{source}: {what} {path} does not exist") from None
    except OSError as exc:  # read_regular's refusals (a FIFO, a directory, too large) say why in strerror
        raise ReconcilerError(f"{source}: cannot read {what} {path} ({exc.strerror or exc})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ReconcilerError(f"{source}: {what} {path} is not UTF-8 text") from None


def read_token(path: str, source: str, what: str) -> Secret:
    """A token file's content without surrounding white space (as the SDK strips it), as a Secret.

    Re-read at every refresh: Kubernetes and CI runners rotate these files.
    """
    text = read_text(path, MAX_TOKEN_FILE_BYTES, source, what).strip()
    token = Secret(text) if text else None
    if token is None:
        raise ReconcilerError(f"{source}: {what} {path} is empty")
    if not is_header_token(text):
        raise ReconcilerError(f"{source}: {what} {path} holds characters other than printable ASCII")
    return token
