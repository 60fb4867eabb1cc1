"""Where the state lives: a local file (state/store.py) or a shared store behind a URL.

A `--state` (or `HSS_STATE`) that starts with `s3://` or `postgresql://` names a
shared store; anything else is a local path, handled exactly as before. Each
store is one module here, imported only when a URL names it, so a plan on a
local state never pays for an S3 signer, an XML parser or libpq.

    base.py      the interface every store implements (read, compare-and-swap write, lock, history)
    location.py  parsing and checking the URLs (no network, no client imports)
    local.py     the local file as a backend, for `state push/pull/migrate`
    s3.py        any S3-compatible store, over httpx, signed by sigv4.py
    postgres.py  PostgreSQL through psycopg 3 (libpq)
    shared.py    the store a run reads and checkpoints to, on top of a backend
"""

from __future__ import annotations

REMOTE_SCHEMES = ("s3://", "postgresql://", "postgres://")


def is_remote(location: str) -> bool:
    """True when `location` names a shared store rather than a local file."""
    return location.lower().startswith(REMOTE_SCHEMES)
