"""Where the state lives: a local file (state/store.py) or a shared store behind a URL.

A `--state` (or `HSS_STATE`) that starts with `s3://` or `postgresql://` names a
shared store; anything else is a local path, handled exactly as before. Each
store is one module here, imported only when a URL names it, so a plan on a
local state never pays for an S3 signer, an XML parser or libpq.

    base.py      the interface every store implements (read, compare-and-swap write, lock)
    location.py  parsing and checking the URLs (no network, no client imports)
    local.py     the local file as a backend, for `state push/pull/migrate`
    s3.py        any S3-compatible store, over httpx, signed by sigv4.py
    postgres.py  PostgreSQL through psycopg 3 (libpq)
    shared.py    the store a run reads and checkpoints to, on top of a backend
"""

from __future__ import annotations

import re

from reconciler.errors import StateError

REMOTE_SCHEMES = ("s3://", "postgresql://", "postgres://")
# SCHEME:/ at the start (two letters at least: C:/ is a Windows drive), maybe after blanks.
_URL_LIKE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.-]+):/")


def is_remote(location: str) -> bool:
    """True when `location` names a shared store rather than a local file."""
    return location.lower().startswith(REMOTE_SCHEMES)


def check_local(location: str) -> None:
    """Refuse a would-be local path that is really a URL we do not serve, or ours mistyped.

    Without this, `gs://b/k`, `s3:/b/k` or ' s3://b/k' (a stray blank) would be a
    file path: a plan would find no state there and plan every registry as new,
    and an apply would create them all before failing to write that "file".
    """
    match = _URL_LIKE.match(location)
    if match is None:
        return
    if is_remote(location.strip()):
        raise StateError(f"{location!r}: the state URL has blanks around it; remove them")
    known = ", ".join(s + "..." for s in REMOTE_SCHEMES[:2])
    raise StateError(f"{location}: not a state location hss-reconciler knows: a shared state is {known} "
                     "(two slashes after the colon), anything else a file path")
