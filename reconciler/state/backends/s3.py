"""The state in an S3-compatible object store (AWS S3, MinIO, Huawei OBS...), with its lock.

    state   s3://BUCKET/KEY          written with If-Match: <the ETag read> (If-None-Match: * the first time)
    lock    KEY.lock                 created with If-None-Match: *, holding the same LockInfo as a local lock
    probe   KEY.probe                proves, once per run, that the store honours conditional writes

A store that ignores those headers (OBS documents PutObject as overwriting and
mentions no If-None-Match) would let two runs both "take" the lock and
overwrite each other's state, silently, which is how Terraform's S3 lock fails
on OBS. So before the first lock or write of a run, two writes that an honest
store must refuse are sent to the probe object; if either is accepted, the run
stops and says what to do instead. Previous versions are kept by the bucket's
versioning (`history`); the README says to enable it.

Requests go through httpx, signed by sigv4.py (see there why not boto3).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

import httpx

from reconciler.errors import ReconcilerError, StateError
from reconciler.secrets import Secret
from reconciler.state.backends.base import ConcurrentWrite, Revision, Snapshot
from reconciler.state.backends.location import S3Location
from reconciler.state.backends.sigv4 import sign
from reconciler.state.jsonshape import ShapeError, load_json
from reconciler.state.lock import MAX_LOCK_BYTES, HeldLock, LockInfo, no_lock, wait_for_lock
from reconciler.state.model import MAX_STATE_BYTES

LOG = logging.getLogger(__name__)
MAX_ERROR_BYTES = 64 * 1024
MAX_LISTING_BYTES = 4 * 1024 * 1024
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# Per run and store: has it shown that it honours If-None-Match and If-Match?
_PROBED: dict[tuple[str, str], bool] = {}
_PROBE_LOCK = threading.Lock()


@dataclass(frozen=True)
class S3Credentials:
    access_key: str
    secret_key: Secret
    session_token: Secret | None = None  # temporary credentials: sent, and signed, as x-amz-security-token
    source: str = "AWS_ACCESS_KEY_ID and its secret"  # what to check when the store refuses them


# Called before every request, so temporary credentials are refreshed during a long run
# (engine/statefile.py s3_credentials makes it; the backend never keeps a copy).
S3CredentialProvider = Callable[[], S3Credentials]


class ConditionalWritesIgnored(StateError):
    """The store accepted a write that its conditional header should have refused."""


class S3Backend:
    def __init__(self, where: S3Location, credentials: S3CredentialProvider,
                 client: httpx.Client | None = None) -> None:
        self.where = where
        self.location = where.url
        self.locking = where.lock
        self._credentials = credentials
        self._source = ""  # where the credentials of the last request came from, for a 403's hint
        self._client = client or httpx.Client(timeout=TIMEOUT, follow_redirects=False)

    # --- requests -------------------------------------------------------------------------------

    def _url(self, key: str, query: str = "") -> str:
        encoded = quote(key, safe="/-_.~")
        endpoint = self.where.endpoint
        if self.where.virtual_host:
            scheme, _, host = endpoint.partition("://")
            url = f"{scheme}://{self.where.bucket}.{host}/{encoded}"
        else:
            url = f"{endpoint}/{self.where.bucket}/{encoded}"
        return f"{url}?{query}" if query else url

    @contextmanager
    def _call(self, method: str, key: str, *, body: bytes = b"", headers: dict[str, str] | None = None,
              query: str = "") -> Iterator[httpx.Response]:
        url = self._url(key, query)
        request = self._client.build_request(method, url, content=body, headers=headers or {})
        wanted = {"host": request.headers["host"], **(headers or {})}
        if body:
            wanted["content-length"] = str(len(body))
        try:
            credentials = self._credentials()
        except StateError:
            raise
        except ReconcilerError as exc:  # a failed refresh: a StateError, so a write falls back to a file
            raise StateError(f"{self.location}: no credentials for the store ({exc}); nothing was "
                             "changed by this request") from None
        self._source = credentials.source
        token = credentials.session_token
        request.headers.update(sign(method, url, wanted, body, access_key=credentials.access_key,
                                    secret_key=credentials.secret_key.reveal(),
                                    region=self.where.region, now=datetime.now(UTC),
                                    session_token=token.reveal() if token else None))
        try:
            response = self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise StateError(f"{self.location}: cannot reach the store ({type(exc).__name__}: "
                             f"{exc}); nothing was changed by this request") from None
        try:
            yield response
        finally:
            response.close()

    def _body(self, response: httpx.Response, limit: int, what: str) -> bytes:
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise StateError(f"{self.location}: the {what} is larger than {limit // 1024} KiB; refused "
                                 "unread")
            chunks.append(chunk)
        return b"".join(chunks)

    def _fail(self, response: httpx.Response, doing: str) -> StateError:
        code = _error_code(self._body(response, MAX_ERROR_BYTES, "error answer"))
        status = response.status_code
        hint = ""
        if status == 403:
            hint = f"; check {self._source}, the region ({self.where.region}) and the bucket policy"
        elif code == "NoSuchBucket":
            hint = f"; create the bucket {self.where.bucket} (with versioning) first"
        return StateError(f"{self.location}: {doing} failed: HTTP {status}{f' {code}' if code else ''}{hint}")

    # --- the state ------------------------------------------------------------------------------

    def read(self) -> Snapshot:
        with self._call("GET", self.where.key) as response:
            if response.status_code == 404:
                code = _error_code(self._body(response, MAX_ERROR_BYTES, "error answer"))
                if code == "NoSuchBucket":
                    raise StateError(f"{self.location}: the bucket {self.where.bucket} does not exist; "
                                     "create it (with versioning) first")
                return Snapshot(None, None)
            if response.status_code != 200:
                raise self._fail(response, "reading the state")
            raw = self._body(response, MAX_STATE_BYTES, "state")
            return Snapshot(raw, response.headers.get("etag"))

    def write(self, payload: bytes, expected: str | None, *, serial: int, lineage: str) -> str | None:
        self.check_conditional_writes()
        condition = {"If-Match": expected} if expected else {"If-None-Match": "*"}
        headers = {"Content-Type": "application/json", **condition}
        with self._call("PUT", self.where.key, body=payload, headers=headers) as response:
            if response.status_code in (409, 412):  # 409: a conditional write raced another (AWS)
                raise ConcurrentWrite(f"{self.location}: the stored state changed since this run read it "
                                      "(another run wrote it)")
            if response.status_code != 200:
                raise self._fail(response, f"writing the state (serial {serial})")
            return response.headers.get("etag")

    def history(self, limit: int = 20) -> list[Revision]:
        import xml.etree.ElementTree as ET

        query = f"max-keys={max(1, min(limit, 1000))}&prefix={quote(self.where.key, safe='')}&versions="
        with self._call("GET", "", query=query) as response:
            if response.status_code != 200:
                raise self._fail(response, "listing the state's versions")
            root = ET.fromstring(self._body(response, MAX_LISTING_BYTES, "version listing"))
        found = []
        for element in root:
            if element.tag.rpartition("}")[2] != "Version":
                continue
            fields = {child.tag.rpartition("}")[2]: child.text or "" for child in element}
            if fields.get("Key") == self.where.key:
                found.append(Revision(None, fields.get("LastModified", ""), fields.get("VersionId", "")))
        return found[:limit]

    # --- the lock -------------------------------------------------------------------------------

    @property
    def _lock_key(self) -> str:
        return self.where.key + ".lock"

    def acquire(self, operation: str, timeout: float) -> HeldLock:
        info = LockInfo.new(self.location, operation)
        if not self.locking:
            return no_lock(info)
        self.check_conditional_writes()
        return wait_for_lock(lambda: self._try_lock(info), lambda: self._read_lock()[0], self.location,
                             timeout, vanished=f"{self.location}: cannot take the state lock: it keeps "
                                               "appearing and vanishing")

    def _try_lock(self, info: LockInfo) -> HeldLock | None:
        headers = {"If-None-Match": "*", "Content-Type": "application/json"}
        with self._call("PUT", self._lock_key, body=info.serialize(), headers=headers) as response:
            if response.status_code in (409, 412):
                return None
            if response.status_code != 200:
                raise self._fail(response, "taking the state lock")
            etag = response.headers.get("etag", "")
        return HeldLock(info, lambda: self._release(info, etag))

    def _read_lock(self) -> tuple[LockInfo | None, str]:
        with self._call("GET", self._lock_key) as response:
            if response.status_code == 404:
                return None, ""
            if response.status_code != 200:
                raise self._fail(response, "reading the state lock")
            raw = self._body(response, MAX_LOCK_BYTES, "state lock")
            etag = response.headers.get("etag", "")
        try:
            return LockInfo.from_json(load_json(raw, 1)), etag
        except ShapeError as problem:
            unlock_id = "malformed-" + "".join(c for c in etag if c.isalnum())[:16]
            raise StateError(f"{self.location}.lock: {problem.path + ': ' if problem.path else ''}"
                             f"{problem.message}: the state lock is malformed and was left as it is. If no "
                             "hss-reconciler run is using this state, release it with 'hss-reconciler "
                             f"force-unlock {unlock_id} --state {self.location}'") from None

    def _release(self, info: LockInfo, etag: str) -> None:
        """Delete the lock object only if it is still the one we created; never raises."""
        unlock = f"'hss-reconciler force-unlock {info.id} --state {self.location}'"
        try:
            with self._call("DELETE", self._lock_key, headers={"If-Match": etag}) as response:
                status = response.status_code
            if status in (404, 412):
                LOG.warning("the state lock %s on %s was already removed or replaced (force-unlock?); "
                            "left it as it is", info.id, self.location)
            elif status not in (200, 204):
                LOG.warning("could not release the state lock on %s (HTTP %s); once that is fixed, run %s",
                            self.location, status, unlock)
        except Exception as exc:  # on the way out, maybe during another error: report, never raise
            LOG.warning("could not release the state lock on %s (%s); once that is fixed, run %s",
                        self.location, exc, unlock)

    def force_unlock(self, lock_id: str) -> LockInfo:
        try:
            holder, etag = self._read_lock()
        except StateError:
            holder, etag = self._malformed_lock(lock_id)
        if holder is None:
            raise StateError(f"{self.location}: there is no state lock; nothing to release")
        if holder.id != lock_id.strip():
            raise StateError(f"{self.location}: lock id {lock_id} does not match the lock held by "
                             f"{holder.describe()}; nothing was released")
        with self._call("DELETE", self._lock_key, headers={"If-Match": etag}) as response:
            if response.status_code == 412:
                raise StateError(f"{self.location}: the state lock changed while it was being released "
                                 "(another run took it); nothing was released")
            if response.status_code not in (200, 204, 404):
                raise self._fail(response, "releasing the state lock")
        return holder

    def _malformed_lock(self, lock_id: str) -> tuple[LockInfo, str]:
        with self._call("HEAD", self._lock_key) as response:
            etag = response.headers.get("etag", "")
        unlock_id = "malformed-" + "".join(c for c in etag if c.isalnum())[:16]
        if lock_id.strip() != unlock_id:
            raise StateError(f"{self.location}: lock id {lock_id} does not match the malformed state lock, "
                             f"which 'force-unlock {unlock_id}' releases; nothing was released")
        return LockInfo(unlock_id, "unknown", "unknown", 0, "unknown", "unknown", self.location), etag

    # --- the probe ------------------------------------------------------------------------------

    def check_conditional_writes(self) -> None:
        """Refuse a store that ignores If-None-Match or If-Match (checked once per run and store)."""
        if not self.locking:
            return
        store = (self.where.endpoint, self.where.bucket)
        with _PROBE_LOCK:
            if store not in _PROBED:
                _PROBED[store] = self._probe()
        if not _PROBED[store]:
            raise ConditionalWritesIgnored(
                f"{self.location}: this store ignores conditional writes (it overwrote an object that "
                "'If-None-Match: *' or a wrong 'If-Match' should have protected), so it cannot lock the "
                "state: two runs would both think they hold the lock and overwrite each other's "
                "registries. Huawei OBS is such a store. Either keep the state and its lock in "
                "PostgreSQL (--state postgresql://USER@HOST:PORT/DB?table=T), or add lock=off to the URL "
                "to run without a lock at your own risk (only if a single CI pipeline with "
                "'concurrency' ever writes this state). Nothing was changed.")

    def _probe(self) -> bool:
        key = self.where.key + ".probe"
        body = b"hss-reconciler checks that this store honours If-None-Match and If-Match\n"
        with self._call("HEAD", key) as response:
            exists = response.status_code == 200
        if not exists:
            with self._call("PUT", key, body=body) as response:
                if response.status_code != 200:
                    raise self._fail(response, "checking that the store honours conditional writes")
        refused = []
        for condition in ({"If-None-Match": "*"}, {"If-Match": '"00000000000000000000000000000000"'}):
            with self._call("PUT", key, body=body, headers=condition) as response:
                if response.status_code not in (200, 409, 412):
                    raise self._fail(response, "checking that the store honours conditional writes")
                refused.append(response.status_code != 200)
        LOG.debug("%s: conditional writes honoured: %s", self.location, refused)
        return all(refused)

    def close(self) -> None:
        self._client.close()


def _error_code(body: bytes) -> str:
    """The <Code> of an S3 error document, if it is one."""
    import re

    match = re.search(rb"<Code>([A-Za-z0-9.]{1,64})</Code>", body)
    return match.group(1).decode("ascii") if match else ""
