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
versioning; the README says to enable it.

Before the first lock or write of a run, the bucket's versioning is checked
too (GET ?versioning): issue 18 promises that every previous state is kept, and
without versioning a push --force or a bad write loses it for good. A bucket
that does not keep versions is refused unless the URL says versioning=off; one
whose versioning cannot be read (no s3:GetBucketVersioning) is a warning.

Requests go through httpx, signed by sigv4.py (see there why not boto3). Each
one, body included, must be answered within the URL's `timeout=` (60 s), and
its answer is read up to a cap that depends on what is asked (the state: 32
MiB; a lock or an error: 64 KiB): the bounded exchange that HSS calls use
(hss/bounds.py) is handed in by engine/statefile.py, as this layer cannot
import it. A redirect is an answer like any other, never followed. A store
that answers without an ETag cannot be written compare-and-swap, and is
refused before anything changes (shared.py).
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

import httpx

from reconciler.errors import ReconcilerError, StateError
from reconciler.secrets import Secret
from reconciler.state.backends.base import ConcurrentWrite, Snapshot
from reconciler.state.backends.location import S3Location
from reconciler.state.backends.sigv4 import sign
from reconciler.state.jsonshape import ShapeError, load_json
from reconciler.state.lock import MAX_LOCK_BYTES, HeldLock, LockInfo, check_unlock_id, no_lock, wait_for_lock
from reconciler.state.model import MAX_STATE_BYTES

LOG = logging.getLogger(__name__)
MAX_ERROR_BYTES = 64 * 1024
HEAD_LIMIT = 1 << 62
# Per socket operation; the whole exchange is bounded by the URL's timeout= (Exchange below).
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# Per run and store: has it shown that it honours If-None-Match and If-Match? Does it keep versions?
_PROBED: dict[tuple[str, str], bool] = {}
_VERSIONED: dict[tuple[str, str], str | None] = {}
_PROBE_LOCK = threading.Lock()


class RefusedAnswer(Exception):
    """An answer not read: it came too late, or is larger than the call's cap.

    `late` tells which; `response` has the status and headers, if they had arrived.
    """

    def __init__(self, reason: str, *, late: bool, response: httpx.Response | None) -> None:
        super().__init__(reason)
        self.reason, self.late, self.response = reason, late, response


# (client, request, until (time.monotonic()), most bytes) -> the response, its body read.
# Raises httpx.HTTPError, or RefusedAnswer. engine/statefile.py makes it from hss/bounds.py.
Exchange = Callable[[httpx.Client, httpx.Request, float, int], httpx.Response]


class AnswerTooLarge(StateError):
    """The store's answer was larger than the call's cap; `response` has its status and headers."""

    def __init__(self, message: str, response: httpx.Response | None) -> None:
        super().__init__(message)
        self.response = response


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
    def __init__(self, where: S3Location, credentials: S3CredentialProvider, exchange: Exchange,
                 client: httpx.Client | None = None) -> None:
        self.where = where
        self.location = where.url
        self.locking = where.lock
        self._credentials = credentials
        self._exchange = exchange
        self._source = ""  # where the credentials of the last request came from, for a 403's hint
        # identity: stored state arrives as it was put; a compressed answer is still decoded, and capped after
        self._client = client or httpx.Client(timeout=TIMEOUT, follow_redirects=False,
                                              headers={"Accept-Encoding": "identity"})

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

    def _call(self, method: str, key: str, *, limit: int, doing: str, body: bytes = b"",
              headers: dict[str, str] | None = None, query: str = "") -> httpx.Response:
        """One signed request, its answer read whole within the URL's timeout and `limit` bytes."""
        if method == "HEAD":  # no body comes; its Content-Length is the object's size, not a threat
            limit = HEAD_LIMIT
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
        # A write whose answer was lost may have been done; a read changed nothing either way.
        unchanged = "; nothing was changed by this request" if method in ("GET", "HEAD") else ""
        try:
            return self._exchange(self._client, request, time.monotonic() + self.where.timeout, limit)
        except RefusedAnswer as exc:
            status = f"HTTP {exc.response.status_code}: " if exc.response is not None else ""
            if exc.late:
                raise StateError(f"{self.location}: {doing}: {status}no complete answer within "
                                 f"{self.where.timeout:g} s (timeout= in the URL){unchanged}") from None
            raise AnswerTooLarge(f"{self.location}: {doing}: {status}{exc.reason}; refused unread",
                                 exc.response) from None
        except httpx.TimeoutException as exc:
            raise StateError(f"{self.location}: {doing}: the store did not answer in time "
                             f"({type(exc).__name__}){unchanged}") from None
        except httpx.HTTPError as exc:
            raise StateError(f"{self.location}: {doing}: cannot reach the store ({type(exc).__name__}: "
                             f"{str(exc)[:200]}){unchanged}") from None

    def _fail(self, response: httpx.Response, doing: str) -> StateError:
        code = _error_code(response.content)
        status = response.status_code
        hint = ""
        if status == 403:
            hint = f"; check {self._source}, the region ({self.where.region}) and the bucket policy"
        elif code == "NoSuchBucket":
            hint = f"; create the bucket {self.where.bucket} (with versioning) first"
        elif 300 <= status < 400:
            hint = "; redirects are not followed: check the endpoint and region (and style=virtual)"
        return StateError(f"{self.location}: {doing} failed: HTTP {status}{f' {code}' if code else ''}{hint}")

    # --- the state ------------------------------------------------------------------------------

    def read(self) -> Snapshot:
        doing = "reading the state"
        response = self._call("GET", self.where.key, limit=MAX_STATE_BYTES, doing=doing)
        if response.status_code == 404:
            if _error_code(response.content) == "NoSuchBucket":
                raise StateError(f"{self.location}: the bucket {self.where.bucket} does not exist; "
                                 "create it (with versioning) first")
            return Snapshot(None, None)
        if response.status_code != 200:
            raise self._fail(response, doing)
        return Snapshot(response.content, response.headers.get("etag"))

    def write(self, payload: bytes, expected: str | None, *, serial: int, lineage: str) -> str | None:
        self.check_store()
        condition = {"If-Match": expected} if expected else {"If-None-Match": "*"}
        headers = {"Content-Type": "application/json", **condition}
        doing = f"writing the state (serial {serial})"
        response = self._call("PUT", self.where.key, body=payload, headers=headers, limit=MAX_ERROR_BYTES,
                              doing=doing)
        if response.status_code in (409, 412):  # 409: a conditional write raced another (AWS)
            raise ConcurrentWrite(f"{self.location}: the stored state changed since this run read it "
                                  "(another run wrote it)")
        if response.status_code != 200:
            raise self._fail(response, doing)
        return response.headers.get("etag")

    # --- the lock -------------------------------------------------------------------------------

    @property
    def _lock_key(self) -> str:
        return self.where.key + ".lock"

    def acquire(self, operation: str, timeout: float) -> HeldLock:
        info = LockInfo.new(self.location, operation)
        self.check_store()
        if not self.locking:
            return no_lock(info)
        return wait_for_lock(lambda: self._try_lock(info), lambda: self._read_lock()[0], self.location,
                             timeout, vanished=f"{self.location}: cannot take the state lock: it keeps "
                                               "appearing and vanishing")

    def _try_lock(self, info: LockInfo) -> HeldLock | None:
        headers = {"If-None-Match": "*", "Content-Type": "application/json"}
        doing = "taking the state lock"
        response = self._call("PUT", self._lock_key, body=info.serialize(), headers=headers,
                              limit=MAX_ERROR_BYTES, doing=doing)
        if response.status_code in (409, 412):
            return None
        if response.status_code != 200:
            raise self._fail(response, doing)
        etag = response.headers.get("etag")
        if not etag:  # without it the release could not be made conditional on this lock being ours
            with contextlib.suppress(StateError):
                self._call("DELETE", self._lock_key, limit=MAX_ERROR_BYTES, doing="removing the lock again")
            raise StateError(f"{self.location}: the store made the state lock but answered without "
                             "an ETag, so it cannot be released safely; the lock was removed again. "
                             "Use a store that returns ETags (S3, MinIO) or PostgreSQL. Nothing was "
                             "changed.")
        return HeldLock(info, lambda: self._release(info, etag))

    def _read_lock(self) -> tuple[LockInfo | None, str]:
        try:
            response = self._call("GET", self._lock_key, limit=MAX_LOCK_BYTES, doing="reading the state lock")
        except AnswerTooLarge as exc:
            if exc.response is None or exc.response.status_code != 200:
                raise
            raise self._malformed(f"larger than {MAX_LOCK_BYTES // 1024} KiB, which no lock is",
                                  exc.response.headers.get("etag", "")) from None
        if response.status_code == 404:
            return None, ""
        if response.status_code != 200:
            raise self._fail(response, "reading the state lock")
        etag = response.headers.get("etag", "")
        try:
            return LockInfo.from_json(load_json(response.content, 1)), etag
        except ShapeError as problem:
            raise self._malformed(f"{problem.path + ': ' if problem.path else ''}{problem.message}",
                                  etag) from None

    def _malformed(self, problem: str, etag: str) -> StateError:
        return StateError(f"{self.location}.lock: {problem}: the state lock is malformed and was left as it "
                          "is. If no hss-reconciler run is using this state, release it with "
                          f"'hss-reconciler force-unlock {_malformed_id(etag)} --state {self.location}'")

    def _release(self, info: LockInfo, etag: str) -> None:
        """Delete the lock object only if it is still the one we created; never raises."""
        unlock = f"'hss-reconciler force-unlock {info.id} --state {self.location}'"
        try:
            status = self._call("DELETE", self._lock_key, headers={"If-Match": etag}, limit=MAX_ERROR_BYTES,
                                doing="releasing the state lock").status_code
            if status in (404, 412):
                LOG.warning("the state lock %s on %s was already removed or replaced (force-unlock?); "
                            "left it as it is", info.id, self.location)
            elif status not in (200, 204):
                LOG.warning("could not release the state lock on %s (HTTP %s); once that is fixed, run %s",
                            self.location, status, unlock)
        except Exception as exc:  # on the way out, maybe during another error: report, never raise
            LOG.warning("could not release the state lock on %s (%s); once that is fixed, run %s",
                        self.location, str(exc).removeprefix(f"{self.location}: "), unlock)

    def force_unlock(self, lock_id: str) -> LockInfo:
        try:
            holder, etag = self._read_lock()
        except StateError:
            holder, etag = self._malformed_lock(lock_id)
        if holder is None:
            raise StateError(f"{self.location}: there is no state lock; nothing to release")
        check_unlock_id(self.location, lock_id, holder.id, holder)
        doing = "releasing the state lock"
        response = self._call("DELETE", self._lock_key, headers={"If-Match": etag}, limit=MAX_ERROR_BYTES,
                              doing=doing)
        if response.status_code == 412:
            raise StateError(f"{self.location}: the state lock changed while it was being released "
                             "(another run took it); nothing was released")
        if response.status_code not in (200, 204, 404):
            raise self._fail(response, doing)
        return holder

    def _malformed_lock(self, lock_id: str) -> tuple[LockInfo, str]:
        response = self._call("HEAD", self._lock_key, limit=MAX_ERROR_BYTES,
                              doing="looking at the state lock")
        etag = response.headers.get("etag", "")
        unlock_id = _malformed_id(etag)
        if lock_id.strip() != unlock_id:
            raise StateError(f"{self.location}: lock id {lock_id} does not match the malformed state lock, "
                             f"which 'force-unlock {unlock_id}' releases; nothing was released")
        return LockInfo(unlock_id, "unknown", "unknown", 0, "unknown", "unknown", self.location), etag

    # --- what a store must do before it is written ------------------------------------------------

    def check_store(self) -> None:
        """Before the first lock or write: refuse a store that ignores If-None-Match or If-Match
        (unless lock=off), or whose bucket keeps no previous versions (unless versioning=off).
        Each is asked once per run and store."""
        store = (self.where.endpoint, self.where.bucket)
        if self.locking:
            with _PROBE_LOCK:
                if store not in _PROBED:
                    _PROBED[store] = self._probe()
            if not _PROBED[store]:
                raise ConditionalWritesIgnored(
                    f"{self.location}: this store ignores conditional writes (it overwrote an object that "
                    "'If-None-Match: *' or a wrong 'If-Match' should have protected), so it cannot lock the "
                    "state: two runs would both think they hold the lock and overwrite each other's "
                    "registries. Huawei OBS is such a store. Either keep the state and its lock in "
                    "PostgreSQL (--state postgresql://USER@HOST:PORT/DB?table=T), or add lock=off to the "
                    "URL to run without a lock at your own risk (only if a single CI pipeline with "
                    "'concurrency' ever writes this state). Nothing was changed.")
        if self.where.versioning:
            with _PROBE_LOCK:
                if store not in _VERSIONED:
                    _VERSIONED[store] = self._versioning()
            status = _VERSIONED[store]
            if status is not None and status != "Enabled":
                raise StateError(
                    f"{self.location}: the bucket {self.where.bucket} keeps no previous versions (its "
                    f"versioning is {status.lower() if status else 'not enabled'}), so a bad write or a "
                    "'state push --force' would lose the state before it for good. Enable versioning on "
                    f"the bucket (aws s3api put-bucket-versioning --bucket {self.where.bucket} "
                    "--versioning-configuration Status=Enabled, or the store's console), or add "
                    "versioning=off to the URL to go on without previous versions at your own risk. "
                    "Nothing was changed.")

    def _probe(self) -> bool:
        key = self.where.key + ".probe"
        body = b"hss-reconciler checks that this store honours If-None-Match and If-Match\n"
        doing = "checking that the store honours conditional writes"
        exists = self._call("HEAD", key, limit=MAX_ERROR_BYTES, doing=doing).status_code == 200
        if not exists:
            response = self._call("PUT", key, body=body, limit=MAX_ERROR_BYTES, doing=doing)
            if response.status_code != 200:
                raise self._fail(response, doing)
        refused = []
        for condition in ({"If-None-Match": "*"}, {"If-Match": '"00000000000000000000000000000000"'}):
            response = self._call("PUT", key, body=body, headers=condition, limit=MAX_ERROR_BYTES,
                                  doing=doing)
            if response.status_code not in (200, 409, 412):
                raise self._fail(response, doing)
            refused.append(response.status_code != 200)
        LOG.debug("%s: conditional writes honoured: %s", self.location, refused)
        return all(refused)

    def _versioning(self) -> str | None:
        """The bucket's versioning status ("Enabled", "Suspended", "" never set); None: it cannot be read."""
        doing = "checking that the bucket keeps previous versions"
        response = self._call("GET", "", query="versioning=", limit=MAX_ERROR_BYTES, doing=doing)
        if response.status_code != 200:
            LOG.warning("%s: could not check that the bucket %s keeps previous versions (%s); make sure its "
                        "versioning is enabled, or add versioning=off to the URL to skip this check",
                        self.location, self.where.bucket,
                        str(self._fail(response, doing)).removeprefix(f"{self.location}: "))
            return None
        match = re.search(rb"<Status>\s*(Enabled|Suspended)\s*</Status>", response.content)
        return match.group(1).decode("ascii") if match else ""

    def close(self) -> None:
        self._client.close()


def _malformed_id(etag: str) -> str:
    """The id force-unlock takes for a malformed lock: from its ETag, so only that very object goes."""
    return "malformed-" + "".join(c for c in etag if c.isalnum())[:16]


def _error_code(body: bytes) -> str:
    """The <Code> of an S3 error document, if it is one."""
    match = re.search(rb"<Code>([A-Za-z0-9.]{1,64})</Code>", body[:MAX_ERROR_BYTES])
    return match.group(1).decode("ascii") if match else ""
