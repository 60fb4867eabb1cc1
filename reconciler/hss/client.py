"""HssClient: the HSS image-registry operations for one target.

A target is one endpoint (with the rest of its region's list to fail over
to), project and enterprise project. The client's one mutable part is which
endpoint is in use (:class:`Failover`, locked, shared by its copies), so apply
may share one across threads (``httpx.Client`` is thread-safe). Every call
goes through :meth:`HssClient._send`, the single seam where the retry policy
(:mod:`reconciler.hss.retry`) applies.

Paths, parameters and ranges are the HSS API reference's (Huawei Cloud Help
Center, Host Security Service, API Reference), one page per operation:

- AddRegistry, ``POST /v5/{project_id}/image/registries``:
  https://support.huaweicloud.com/intl/en-us/api-hss2.0/AddRegistry.html
- ListRegistry, ``GET /v5/{project_id}/image/registries`` (``offset`` 0-2,000,000,
  ``limit`` 10-200): https://support.huaweicloud.com/intl/en-us/api-hss2.0/ListRegistry.html
- UpdateRegistry, ``PUT /v5/{project_id}/image/registries/{id}``:
  https://support.huaweicloud.com/intl/en-us/api-hss2.0/UpdateRegistry.html
- DeleteRegistry, ``DELETE /v5/{project_id}/image/registries/{id}``:
  https://support.huaweicloud.com/intl/en-us/api-hss2.0/DeleteRegistry.html
- ShowImageUploadCommand, ``GET /v5/{project_id}/image/registries/image-upload-command``:
  https://support.huaweicloud.com/intl/tr-tr/api-hss2.0/ShowImageUploadCommand.html
"""

from __future__ import annotations

import copy
import json
import logging
import threading
import time
from typing import Any
from urllib.parse import quote

import httpx

from reconciler.errors import ReconcilerError
from reconciler.hss import bounds, shapes
from reconciler.hss.errors import (
    AddOutcomeUnknown,
    ApiError,
    api_error_from_response,
    api_error_from_transport,
    invalid_answer,
    refused_answer,
    unreadable_response,
)
from reconciler.hss.retry import (
    DEFAULT_RETRY,
    OPEN,
    THROTTLED,
    Admission,
    RetryPolicy,
    Verdict,
    classify,
    is_connect_failure,
    retry_after_seconds,
)
from reconciler.hss.transport import quiet_third_party_loggers
from reconciler.registry import UPLOAD_COMMAND_FIELDS
from reconciler.secrets import REDACTOR, Secret

logger = logging.getLogger("reconciler.hss")

JSON_CONTENT_TYPE = "application/json;charset=UTF-8"
PAGE_SIZE = 200  # the documented maximum of ``limit`` (ListRegistry, see the module docstring)
# The most registries one listing may claim (``total_num``): a hundred times the documented quota
# of 100 per project (the SDK's ListRegistryResponse documents total_num as 0-100), room for an
# all_granted_eps target. An answer claiming more is refused: a lying total costs a request a page.
MAX_LISTED = 10_000
# The most pages one listing may take: HSS pages hold at most 100 registries (the SDK documents
# data_list as 0-100 items, although ``limit`` goes to 200), so an honest walk to MAX_LISTED takes 100.
MAX_PAGES = 100
LIST_FILTERS = frozenset(
    {"registry_name", "registry_id", "registry_type", "registry_addr", "status"}
)
IDEMPOTENT_METHODS = frozenset({"GET", "PUT", "DELETE"})

Params = list[tuple[str, str]]


def _reveal(value: Any) -> Any:
    """A copy of ``value`` with every Secret replaced by its value: only for the wire."""
    if isinstance(value, Secret):
        return value.reveal()
    if isinstance(value, dict):
        return {key: _reveal(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_reveal(item) for item in value]
    return value


def _segment(value: str) -> str:
    return quote(value, safe="")


def _base_url(endpoint: str) -> str:
    """``endpoint`` checked, without a trailing slash; ReconcilerError when it is no http(s) URL."""
    try:
        url = httpx.URL(endpoint)
    except httpx.InvalidURL:
        raise ReconcilerError(f"HSS endpoint {endpoint!r} is not a valid URL") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ReconcilerError(f"HSS endpoint {endpoint!r} is not an http(s) URL with a host")
    if url.query or url.fragment:
        raise ReconcilerError(
            f"HSS endpoint {url.scheme}://{url.netloc.decode()} must not carry a query"
        )
    return str(url).rstrip("/")


def never_connected(outcome: object) -> bool:
    """No connection was made, so nothing of the request left: refused, unresolvable, TLS handshake, timeout.

    The SDK (huaweicloudsdkcore ``Client.do_http_request``) fails over on an
    unresolvable host and a failed TLS handshake only; a refused or timed-out
    connect is just as certainly nothing sent, and as certainly this host's
    fault, so here it fails over too. A failure after the connection was
    made (a write, a read, a reset) never does: the request may have arrived.
    """
    return isinstance(outcome, httpx.ConnectError | httpx.ConnectTimeout)


class Failover:
    """A target's endpoints and the one in use: the SDK's ``_endpoint_index``.

    An endpoint that cannot be connected to moves every later call to the next
    one; the last one failing starts the list over (at the next call), as in
    the SDK. Shared by a client and its copies, so apply's threads agree.
    """

    def __init__(self, bases: tuple[str, ...]) -> None:
        self.bases = bases
        self._index = 0
        self._lock = threading.Lock()

    def current(self) -> int:
        with self._lock:
            return self._index

    def failed(self, index: int) -> int | None:
        """The endpoint to try after ``index`` could not be reached; None when it was the last."""
        with self._lock:
            following = index + 1 if index + 1 < len(self.bases) else None
            if self._index == index:  # not yet moved by another thread
                self._index = following or 0
                if following is not None:
                    logger.warning("HSS endpoint %s cannot be reached; using %s from now on",
                                   self.bases[index], self.bases[following])
            return following


class HssClient:
    """HSS image-registry API calls, bound to one endpoint, project and enterprise project.

    ``http`` carries authentication, timeouts and TLS settings (see
    :func:`reconciler.hss.transport.make_http_client`). Every failure raises
    :class:`~reconciler.errors.ApiError` with a one-line message;
    :class:`~reconciler.hss.errors.RegistryNotFound` when HSS does not know an id;
    :class:`~reconciler.hss.errors.AddOutcomeUnknown` when an add may or may not
    have happened. ``retry`` says how throttling, 5xx and dropped connections
    are retried (``RetryPolicy(max_attempts=1)`` for one attempt per call).

    Nothing HSS answers is believed unread (:mod:`reconciler.hss.bounds`,
    :mod:`reconciler.hss.shapes`): only a 2xx is success (a 3xx is an error and
    never followed); each call, its retries included, ends within
    ``request_timeout`` seconds; an answer is read up to ``max_answer_bytes``;
    listings are checked against the documented shapes and bounded in size and pages.
    """

    def __init__(
        self,
        http: httpx.Client,
        endpoint: str,
        project_id: str,
        enterprise_project_id: str = "0",
        *,
        fallbacks: tuple[str, ...] = (),
        retry: RetryPolicy = DEFAULT_RETRY,
        request_timeout: float = bounds.DEFAULT_REQUEST_TIMEOUT,
        max_answer_bytes: int = bounds.MAX_ANSWER_BYTES,
    ) -> None:
        failover = Failover(tuple(_base_url(each) for each in (endpoint, *fallbacks)))
        if not project_id:
            raise ReconcilerError("HSS project id is empty")
        # Also here, not only in make_http_client: whatever client we are
        # handed, httpx must not log our URLs (a query may hold a password).
        quiet_third_party_loggers()
        if not request_timeout > 0 or max_answer_bytes < 1:
            raise ValueError("request_timeout and max_answer_bytes must be positive")
        self._http = http
        self._retry = retry
        self._request_timeout = float(request_timeout)
        self._max_answer_bytes = max_answer_bytes
        self._admission: Admission = OPEN
        self._failover = failover
        self.endpoint = endpoint
        self.project_id = project_id
        self.enterprise_project_id = enterprise_project_id
        self._registries = f"/v5/{_segment(project_id)}/image/registries"

    def __repr__(self) -> str:
        return (
            f"HssClient(endpoint={self.endpoint!r}, project_id={self.project_id!r}, "
            f"enterprise_project_id={self.enterprise_project_id!r})"
        )

    def with_request_timeout(self, seconds: float) -> HssClient:
        """This client, its calls bounded by ``seconds`` instead (``--request-timeout``)."""
        if not seconds > 0:
            raise ValueError("the request timeout must be positive")
        bounded = copy.copy(self)
        bounded._request_timeout = float(seconds)
        return bounded

    def with_admission(self, admission: Admission) -> HssClient:
        """This client, each attempt of its calls started when ``admission`` allows (apply's pacing)."""
        paced = copy.copy(self)
        paced._admission = admission
        return paced

    # -- operations -------------------------------------------------------

    def list_registries(self, **filters: str) -> list[dict[str, Any]]:
        """Every registry matching ``filters`` (ListRegistry), across all pages.

        Filters are the API's: registry_name, registry_id, registry_type,
        registry_addr, status. Pages are asked for 200 at a time and read while
        the offset is below ``total_num`` (a page may hold fewer: HSS's hold at
        most 100), until an empty page; an answer without ``total_num`` ends at
        its first short page. A ``total_num`` above MAX_LISTED, or a walk longer
        than MAX_PAGES, is an error: nothing is planned from it.
        """
        unknown = sorted(set(filters) - LIST_FILTERS)
        if unknown:
            raise TypeError(f"unknown ListRegistry filter(s): {', '.join(unknown)}")
        found: list[dict[str, Any]] = []
        offset = pages = 0
        while True:
            params = [("offset", str(offset)), ("limit", str(PAGE_SIZE)), *sorted(filters.items())]
            response = self._send("ListRegistry", "GET", self._registries, params=params)
            pages += 1
            page, total = self._parse_page(response, offset)
            found.extend(page)
            offset += len(page)
            if not page or (offset >= total if total is not None else len(page) < PAGE_SIZE):
                if total is not None and offset < total:
                    logger.info("HSS ListRegistry: an empty page at offset %d of %d; the listing ends there",
                                offset, total)
                return found
            if pages >= MAX_PAGES:
                claimed = f"of the {total} registries total_num claims" if total is not None else "registries"
                raise invalid_answer("ListRegistry", response, f"{pages} pages hold {offset} {claimed}, and "
                                     f"more would follow; a listing takes at most {MAX_PAGES} pages")

    def find_registries(self, registry_name: str) -> list[dict[str, Any]]:
        """Registries named exactly ``registry_name``; the server's filter may match substrings."""
        return [
            registry
            for registry in self.list_registries(registry_name=registry_name)
            if registry.get("registry_name") == registry_name
        ]

    def add_registry(self, body: dict[str, Any]) -> None:
        """AddRegistry. ``body`` may hold Secrets; they are revealed only into the request body.

        HSS returns no id: find the new registry with :meth:`find_registries`.
        Raises AddOutcomeUnknown when the add may have happened without an
        answer; it is never sent twice here, only retried when it certainly did
        nothing (429, no connection).
        """
        self._send("AddRegistry", "POST", self._registries, body=body)

    def update_registry(self, registry_id: str, body: dict[str, Any]) -> None:
        """UpdateRegistry: ``body`` holds only the fields to change (no name or type)."""
        self._send(
            "UpdateRegistry", "PUT", f"{self._registries}/{_segment(registry_id)}", body=body
        )

    def delete_registry(self, registry_id: str) -> None:
        """DeleteRegistry; raises RegistryNotFound when the id is unknown."""
        self._send("DeleteRegistry", "DELETE", f"{self._registries}/{_segment(registry_id)}")

    def image_upload_command(
        self, registry_addr: str, namespace: str, username: str, password: Secret
    ) -> dict[str, str]:
        """ShowImageUploadCommand: the commands to upload the scan component by hand.

        The API takes the password in the query string, so this URL must never
        be logged; ``_send`` logs the path only.
        """
        params = [
            ("registry_addr", registry_addr),
            ("namespace", namespace),
            ("username", username),
            ("password", password.reveal()),
        ]
        path = f"{self._registries}/image-upload-command"
        response = self._send("ShowImageUploadCommand", "GET", path, params=params)
        body = self._json(response, "ShowImageUploadCommand", "a JSON object")
        if not isinstance(body, dict):
            raise unreadable_response("ShowImageUploadCommand", response, "a JSON object")
        problem = shapes.field_problems(body, shapes.UPLOAD_COMMAND_TYPES)
        if problem:
            raise invalid_answer("ShowImageUploadCommand", response, problem)
        return {
            field: str(body[field])
            for field in UPLOAD_COMMAND_FIELDS
            if body.get(field) is not None
        }

    # -- plumbing ---------------------------------------------------------

    def _send(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """One call, retried as the policy allows; raises ApiError on failure. The retry seam.

        GET, PUT and DELETE are idempotent. A call that is not (a POST: AddRegistry)
        and may have been processed raises AddOutcomeUnknown instead of being sent again.
        Only a 2xx is success. The call ends by its deadline, ``request_timeout``
        seconds after it starts: every socket wait is cut to the time left, and no
        retry waits past it. An answer not read in full (late, too large) is never
        retried.
        """
        idempotent = method in IDEMPOTENT_METHODS
        # Uncompressed: the size cap then counts what is kept (bounds.py still caps a compressed one).
        headers = {"X-Project-Id": self.project_id, "Accept-Encoding": "identity"}
        content: bytes | None = None
        if body is not None:
            headers["Content-Type"] = JSON_CONTENT_TYPE
            content = json.dumps(_reveal(body), ensure_ascii=False, separators=(",", ":")).encode(
                "utf-8"
            )
        query = [("enterprise_project_id", self.enterprise_project_id), *(params or [])]
        policy = self._retry
        first_started = policy.clock()
        # Waiting for a first turn is not the call taking long: the deadline starts after it.
        self._admission.admit(time.monotonic() + self._request_timeout)
        until = time.monotonic() + self._request_timeout
        late = (f"no complete answer within the {self._request_timeout:g} s request deadline "
                "(--request-timeout)")
        attempt = 0
        while True:
            attempt += 1
            if attempt > 1:
                self._admission.admit(until)
            url, outcome = self._exchange_failing_over(method, path, query, headers, content, until, late)
            error: ApiError
            if isinstance(outcome, bounds.AnswerRefused):
                # Not read in full, so not believed, and not sent again: an add may have happened.
                error = refused_answer(operation, outcome.reason, outcome.response)
                raise error if idempotent else AddOutcomeUnknown.from_error(error)
            if isinstance(outcome, httpx.Response):
                if outcome.is_success:  # a 3xx is not: it is never followed, nor taken for done
                    self._admission.passed()
                    return outcome
                error = api_error_from_response(operation, outcome)
                retry_after = retry_after_seconds(outcome, policy.now)
                if outcome.status_code == THROTTLED:
                    self._admission.throttled(retry_after)
                else:
                    self._admission.passed()
            elif time.monotonic() >= until:  # a socket wait the deadline cut short
                error, retry_after = refused_answer(operation, late, None), None
            else:
                error = api_error_from_transport(operation, url, outcome)
                retry_after = None
            verdict = classify(outcome, error.error_code)
            if verdict is Verdict.FAIL:
                raise error
            if verdict is Verdict.UNKNOWN and not idempotent:
                raise AddOutcomeUnknown.from_error(error)
            delay = policy.next_delay(attempt, policy.clock() - first_started, retry_after,
                                      connect_failure=is_connect_failure(outcome))
            if delay is not None and time.monotonic() + delay >= until:
                delay = None  # the next attempt would start past the deadline
            if delay is None:
                if attempt > 1:
                    logger.info("%s; gave up after %d attempts", error, attempt)
                raise error
            # The error text names operation, status, code and request id: never a URL.
            logger.info(
                "%s; retrying in %.1f s (attempt %d of %d)",
                error, delay, attempt + 1, policy.max_attempts,
            )
            policy.sleep(delay)

    def _exchange_failing_over(
        self, method: str, path: str, query: Params, headers: dict[str, str], content: bytes | None,
        until: float, late: str,
    ) -> tuple[httpx.URL, httpx.Response | httpx.TransportError | bounds.AnswerRefused]:
        """One exchange at the endpoint in use; at the next ones while a connection cannot be made.

        Only :func:`never_connected` moves on, so a request is sent to a second
        endpoint only when it certainly never reached the first.
        """
        index = self._failover.current()
        while True:
            url = httpx.URL(self._failover.bases[index] + path, params=query)
            outcome = self._exchange(method, url, headers, content, until, late)
            if not never_connected(outcome):
                return url, outcome
            following = self._failover.failed(index)
            if following is None or time.monotonic() >= until:
                return url, outcome
            index = following

    def _exchange(
        self, method: str, url: httpx.URL, headers: dict[str, str], content: bytes | None,
        until: float, late: str,
    ) -> httpx.Response | httpx.TransportError | bounds.AnswerRefused:
        """One HTTP exchange, done by ``until``: the response (any status, body read) or what failed."""
        shown_path = REDACTOR.redact(url.path)
        started = time.perf_counter()
        # bounds.exchange cuts each phase's timeout, and each socket wait, to the time left.
        request = self._http.build_request(method, url, headers=headers, content=content)
        try:
            response = bounds.exchange(self._http, request, until=until,
                                       max_bytes=self._max_answer_bytes, late=late)
        except (httpx.TransportError, bounds.AnswerRefused) as exc:
            logger.debug(
                "HTTP %s %s -> %s (%d ms)", method, shown_path, type(exc).__name__, _ms(started)
            )
            return exc
        logger.debug(
            "HTTP %s %s -> %d (%d ms)", method, shown_path, response.status_code, _ms(started)
        )
        return response

    @staticmethod
    def _json(response: httpx.Response, operation: str, expected: str) -> Any:
        try:
            return response.json()
        except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deep
            raise unreadable_response(operation, response, expected) from None

    def _parse_page(self, response: httpx.Response, offset: int) -> tuple[list[dict[str, Any]], int | None]:
        """The page's registries and ``total_num``, each checked against the documented shape."""
        body = self._json(response, "ListRegistry", "a JSON object with data_list and total_num")
        problem = shapes.page_problem(body, PAGE_SIZE)
        if problem:
            raise invalid_answer("ListRegistry", response, problem)
        total: int | None = body.get("total_num")
        if total is not None and total > MAX_LISTED:
            raise invalid_answer("ListRegistry", response,
                                 f"total_num claims {total} registries, more than the {MAX_LISTED} "
                                 "a listing may hold")
        page: list[dict[str, Any]] = body.get("data_list") or []
        for index, item in enumerate(page):
            problem = shapes.registry_problem(item)
            if problem:
                raise invalid_answer("ListRegistry", response,
                                     f"registry {offset + index + 1} of the listing: {problem}")
        return page, total


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
