"""Which state a command uses, opened as a store; and the state commands that move it between stores.

engine/locate.py chooses the location (`--state`, else `HSS_STATE`, else the
file beside the registry files). A URL opens a shared store (state/backends/),
importing its client only then; a path opens the local file exactly as before.

`push`, `pull` and `migrate` work on any two locations through the Backend
interface, so local -> S3 -> PostgreSQL -> local are all one code path. Each
refuses to move a state backwards (a lower serial of the same lineage, or
another lineage) unless forced, and never writes a lower serial than the
store holds.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.errors import ReconcilerError, StateError
from reconciler.state.backends import check_local, is_remote
from reconciler.state.backends.shared import HISTORY
from reconciler.state.model import State, parse_state
from reconciler.state.store import StateStore

__all__ = ["Moved", "force_unlock", "is_remote", "migrate", "open_backend", "open_store", "pull", "push"]

if TYPE_CHECKING:
    import httpx

    from reconciler.state.backends.base import Backend, Store
    from reconciler.state.backends.s3 import S3CredentialProvider
    from reconciler.state.lock import LockInfo


def open_store(location: str) -> Store:
    """The store a run reads and checkpoints to."""
    if not is_remote(location):
        check_local(location)
        return StateStore(Path(location))
    from reconciler.state.backends.shared import SharedStore

    return SharedStore(open_backend(location))


def open_backend(location: str, environ: Mapping[str, str] = os.environ) -> Backend:
    if not is_remote(location):
        from reconciler.state.backends.local import LocalBackend

        check_local(location)
        return LocalBackend(Path(location))
    if location.lower().startswith("s3://"):
        from reconciler.state.backends.location import parse_s3
        from reconciler.state.backends.s3 import S3Backend

        where = parse_s3(location)
        return S3Backend(where, s3_credentials(environ), s3_exchange)
    from reconciler.state.backends.location import parse_postgresql

    where_pg = parse_postgresql(location)
    try:
        from reconciler.state.backends.postgres import PostgresBackend
    except ImportError:
        raise StateError(f"{location}: PostgreSQL state needs psycopg: pip install "
                         "'hss-reconciler[postgresql]'") from None
    return PostgresBackend(where_pg)


def s3_exchange(client: httpx.Client, request: httpx.Request, until: float, limit: int) -> httpx.Response:
    """One S3 request within the bounds an HSS call has (hss/bounds.py): every socket wait cut to the
    time left before `until`, so a dripping or silent store cannot hold a run; the answer read up to
    `limit` bytes (after decompression), a larger declared Content-Length refused unread."""
    import time

    import httpx

    from reconciler.hss import bounds
    from reconciler.state.backends.s3 import RefusedAnswer

    late = "no complete answer in time"
    try:
        return bounds.exchange(client, request, until=until, max_bytes=limit, late=late)
    except bounds.AnswerRefused as exc:
        raise RefusedAnswer(exc.reason, late=exc.reason == late, response=exc.response) from None
    except httpx.TimeoutException:
        if time.monotonic() < until:
            raise  # a socket timeout of its own, before the deadline
        raise RefusedAnswer(late, late=True, response=None) from None


def s3_credentials(environ: Mapping[str, str]) -> S3CredentialProvider:
    """Who signs the S3 requests: a provider the backend calls before every request.

    AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) when set; else the
    Huawei credential chain that HSS uses (hss/credsources/chain.py: IdP federation,
    HUAWEICLOUD_SDK_AK/SK, the profile file, ECS metadata, pod identity), whose AK/SK and
    security token OBS takes for S3 requests (the token as x-amz-security-token, as its S3
    API documents for temporary credentials). A provider rather than a snapshot: temporary
    credentials are refreshed before they expire, however long the apply. An IAM token
    (HSS_AUTH_TOKEN) cannot sign S3 requests, so it is refused here, before anything is sent.
    """
    from reconciler.hss.credentials import both_or_neither, credential_variable
    from reconciler.secrets import Secret
    from reconciler.state.backends.s3 import S3Credentials

    # Checked as the Huawei variables are: printable ASCII, both of a pair or neither, never shown.
    access = credential_variable(environ, "AWS_ACCESS_KEY_ID")
    secret = credential_variable(environ, "AWS_SECRET_ACCESS_KEY")
    secret_key = Secret(secret) if secret else None
    if not both_or_neither(("AWS_ACCESS_KEY_ID", access), ("AWS_SECRET_ACCESS_KEY", secret)):
        return _from_chain(environ)
    assert access is not None and secret_key is not None
    token = credential_variable(environ, "AWS_SESSION_TOKEN")
    fixed = S3Credentials(access, secret_key, Secret(token) if token else None,
                          source="AWS_ACCESS_KEY_ID and its secret")
    return lambda: fixed


def _from_chain(environ: Mapping[str, str]) -> S3CredentialProvider:
    from reconciler.hss.credsources.chain import credential_provider
    from reconciler.state.backends.s3 import S3Credentials

    try:
        chain = credential_provider(environ)  # fetches temporary credentials once: a broken source stops here
    except ReconcilerError as exc:
        raise ReconcilerError(f"an s3:// state needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or Huawei "
                              f"AK/SK from the credential chain: {exc}") from None

    def current() -> S3Credentials:
        found = chain()
        if found.access_key is None or found.secret_key is None:
            raise ReconcilerError(
                "an s3:// state needs an AK/SK to sign its requests, and the Huawei credentials found are "
                "an IAM token (HSS_AUTH_TOKEN), which cannot sign S3 requests: set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY (or HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK) for the state")
        source = ("HUAWEICLOUD_SDK_AK (or CLOUD_SDK_AK) and its SK" if found.source == "environment"
                  else f"the credentials from {found.source}")
        return S3Credentials(found.access_key, found.secret_key, found.security_token, source=source)

    current()  # an IAM token is refused before anything is sent
    return current


def force_unlock(location: str, lock_id: str) -> LockInfo:
    backend = open_backend(location)
    try:
        return backend.force_unlock(lock_id)
    finally:
        backend.close()


def pull(location: str) -> bytes:
    """The stored state's bytes, checked to be a state first."""
    backend = open_backend(location)
    try:
        raw = backend.read().raw
    finally:
        backend.close()
    if raw is None:
        raise StateError(f"{location}: there is no state there yet")
    parse_state(raw, location, None if not is_remote(location) else HISTORY)
    return raw


@dataclass(frozen=True)
class Moved:
    """What push or migrate wrote: the state's lineage and serial, and the serial it replaced."""

    lineage: str
    serial: int
    replaced: int | None  # None: there was no state there
    changed: bool = True


def _check_forward(new: State, old: State | None, where: str, force: bool) -> None:
    if old is None or force:
        return
    if new.lineage != old.lineage:
        raise StateError(f"{where} holds another state (lineage {old.lineage}, serial {old.serial}) than "
                         f"this one (lineage {new.lineage}); nothing was written. Pass --force to replace "
                         "it (its versions stay in the store's history)")
    if new.serial < old.serial:
        raise StateError(f"{where} is newer (serial {old.serial}) than this state (serial {new.serial}): "
                         "pushing it would take the state backwards and forget what the newer runs "
                         "recorded; nothing was written. Pull it with 'hss-reconciler state pull', or pass "
                         "--force if the older state is really the one to keep")
    if new.serial == old.serial and new.to_json() != old.to_json():
        raise StateError(f"{where} has serial {old.serial} too but different content: two runs diverged; "
                         "nothing was written. Pass --force to replace it")


def _copy(raw: bytes, source: str, target: Backend, force: bool) -> Moved:
    """Write the state `raw` over whatever `target` holds (its lock held by the caller)."""
    new = parse_state(raw, source)
    snapshot = target.read().writable(target.location)
    old = parse_state(snapshot.raw, target.location, HISTORY) if snapshot.raw is not None else None
    _check_forward(new, old, target.location, force)
    if old is not None and new.to_json() == old.to_json() and new.serial == old.serial:
        return Moved(new.lineage, new.serial, old.serial, changed=False)
    if old is not None and new.serial <= old.serial:  # forced: a store's serial never goes down
        new.serial = old.serial + 1
        raw = new.serialize()
    target.write(raw, snapshot.version, serial=new.serial, lineage=new.lineage)
    return Moved(new.lineage, new.serial, old.serial if old else None)


def push(location: str, file: Path, *, force: bool, lock_timeout: float) -> Moved:
    """Make the state in `file` the stored state at `location`, under its lock."""
    local = StateStore(file)
    raw = local.read_raw()
    if raw is None:
        raise StateError(f"{file}: no such state file")
    backend = open_backend(location)
    try:
        with backend.acquire("state push", lock_timeout):
            return _copy(raw, str(file), backend, force)
    finally:
        backend.close()


def migrate(source: str, destination: str, *, force: bool, lock_timeout: float) -> Moved:
    """Copy the state from `source` to `destination` under both locks, then read it back and compare."""
    from reconciler.state.backends.location import identity

    if identity(source) == identity(destination):
        raise StateError(f"--to {destination}: that is where the state already is ({source}); nothing "
                         "was written")
    origin = open_backend(source)
    try:
        target = open_backend(destination)
        try:
            with origin.acquire("state migrate", lock_timeout), target.acquire("state migrate", lock_timeout):
                raw = origin.read().raw
                if raw is None:
                    raise StateError(f"{source}: there is no state to migrate")
                moved = _copy(raw, source, target, force)
                written = target.read().raw
                expected = parse_state(raw, source)
                expected.serial = moved.serial
                if written is None or parse_state(written, destination).to_json() != expected.to_json():
                    raise StateError(f"{destination}: the state read back differs from what was written; "
                                     f"keep using {source} and check the destination")
                return moved
        finally:
            target.close()
    finally:
        origin.close()
