"""HSS failures as one readable line each.

Every way a call can fail becomes an :class:`~reconciler.errors.ApiError`
whose message is a single line naming the operation, what HSS said and its
request id (what Huawei support asks for). Messages pass through the redactor
because the service may echo input back, and they never contain a URL: the
ShowImageUploadCommand query carries the registry password.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import httpx

from reconciler.errors import ApiError
from reconciler.secrets import REDACTOR

REGISTRY_NOT_FOUND_CODE = "HSS.0011"
_MAX_DETAIL = 300


class RegistryNotFound(ApiError):
    """HSS does not know the registry id (``HSS.0011``): already deleted, or never created.

    Distinguished so apply can treat a delete of a missing registry as done and
    an update of one as drift.
    """


class AddOutcomeUnknown(ApiError):
    """An AddRegistry was sent, and whether HSS added the registry is unknown.

    Raised for a 5xx, a timeout or a connection lost after the request went
    out. AddRegistry returns no id and is not idempotent, so sending it again
    blindly could create a second registry: the caller must list by name first
    and adopt what it finds, re-sending only if the registry is absent.
    """

    @classmethod
    def from_error(cls, error: ApiError) -> AddOutcomeUnknown:
        return cls(
            f"{error}; HSS may or may not have added the registry",
            status=error.status,
            error_code=error.error_code,
            request_id=error.request_id,
        )


def _one_line(text: str, limit: int = _MAX_DETAIL) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


# The pairs the official SDK's DefaultExceptionHandler looks for, in its order
# (huaweicloudsdkcore/exceptions/exception_handler.py): HSS answers error_code/error_msg,
# older services errorCode/errorMsg, IMS-style gateways {"error": {"code", "message"}}.
_SDK_PAIRS = (("error_code", "error_msg"), ("errorCode", "errorMsg"), ("code", "message"))
ENCODED_AUTHORIZATION = "encoded_authorization_message"  # IAM's policy denial, decodable; not secret
_MAX_NESTING = 16  # the SDK recurses without bound; a body deeper than this has no more to say
_MAX_ENCODED_AUTHORIZATION = 8192  # shown whole or not at all: a cut one cannot be decoded


@dataclass
class ErrorFields:
    """What an error body says: code, message, request id and IAM's encoded authorization message."""

    code: str | None = None
    message: str | None = None
    request_id: str | None = None
    encoded_authorization: str | None = None


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _sdk_walk(node: dict[str, Any], found: ErrorFields, depth: int = 0) -> None:
    """DefaultExceptionHandler._process_sdk_error: the first pair present at a level wins there;
    a level without one is searched through its mapping values, a later find replacing an earlier.
    """
    if ENCODED_AUTHORIZATION in node:
        found.encoded_authorization = _text(node[ENCODED_AUTHORIZATION])
    for code_key, message_key in _SDK_PAIRS:
        if code_key in node and message_key in node:
            found.code, found.message = _text(node[code_key]), _text(node[message_key])
            return
    if depth < _MAX_NESTING:
        for value in node.values():
            if isinstance(value, dict):
                _sdk_walk(value, found, depth + 1)


def _error_fields(body: Any) -> ErrorFields:
    """The fields of an error body: every shape the SDK reads, read as the SDK reads it.

    Where the SDK finds no code or message, a lone ``error_code``/``code`` or
    ``error_msg``/``error_message``/``message`` (at the top or under ``error``)
    still counts: the SDK would show the HTTP status and the raw body instead.
    """
    found = ErrorFields()
    if not isinstance(body, dict):
        return found
    _sdk_walk(body, found)
    flat = {**body, **body["error"]} if isinstance(body.get("error"), dict) else body
    if found.code is None:
        found.code = _text(flat.get("error_code", flat.get("code")))
    if found.message is None:
        found.message = _text(flat.get("error_msg", flat.get("error_message", flat.get("message"))))
    found.request_id = _text(body.get("request_id"))
    return found


def _encoded_authorization_suffix(encoded: str | None) -> str:
    if not encoded:
        return ""
    encoded = re.sub(r"\s+", "", encoded)
    if len(encoded) > _MAX_ENCODED_AUTHORIZATION:
        return f" (an encoded authorization message of {len(encoded)} characters, too long to show)"
    return f" (encoded authorization message: {encoded})"


def _text_detail(response: httpx.Response) -> str | None:
    # A proxy's HTML error page is noise; a short plain-text body is often the
    # only explanation there is.
    if "html" in response.headers.get("Content-Type", "").lower():
        return None
    try:
        text = response.content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    first = next((line for line in text.splitlines() if line.strip()), "")
    return _one_line(first) or None


def api_error_from_response(operation: str, response: httpx.Response) -> ApiError:
    """``HSS AddRegistry failed: HTTP 400 HSS.0001: <message> (request id <id>)``."""
    try:
        body: Any = json.loads(response.content) if response.content else None
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deep
        body = None
    fields = _error_fields(body)
    code, message = fields.code, fields.message
    request_id = response.headers.get("X-Request-Id") or fields.request_id
    if body is None and response.content:
        message = _text_detail(response)

    parts = [f"HTTP {response.status_code}"]
    redirect = 300 <= response.status_code < 400
    if redirect:  # whatever its body says; never its Location, a URL that may carry anything
        code = message = None
    if code:
        parts.append(f" {_one_line(code, 80)}")
    if message:
        parts.append(f": {_one_line(message)}")
    elif response.reason_phrase:
        parts.append(f" {response.reason_phrase}")
    if redirect:
        parts.append(": a redirect, which is never followed (HSS does not redirect: is the endpoint right?)")
    if response.status_code == 429 and not message:
        parts.append(" (rate limited by the API gateway)")
    parts.append(_request_id_suffix(request_id))
    if not redirect:
        parts.append(_encoded_authorization_suffix(fields.encoded_authorization))
    text = REDACTOR.redact(f"HSS {operation} failed: {''.join(parts)}")

    cls = RegistryNotFound if code == REGISTRY_NOT_FOUND_CODE else ApiError
    return cls(text, status=response.status_code, error_code=code, request_id=request_id)


# In order: the first class an exception is an instance of names it.
_TRANSPORT_KINDS: tuple[tuple[type[httpx.TransportError], str], ...] = (
    (httpx.ConnectTimeout, "connection timed out"),
    (httpx.ReadTimeout, "timed out waiting for the response"),
    (httpx.WriteTimeout, "timed out sending the request"),
    (httpx.PoolTimeout, "timed out waiting for a free connection"),
    (httpx.ProxyError, "the proxy refused or failed the connection"),
    (httpx.UnsupportedProtocol, "unsupported URL scheme (use https:// or http://)"),
    (httpx.RemoteProtocolError, "the server closed the connection or answered with invalid HTTP"),
    (httpx.ReadError, "connection lost while reading the response"),
    (httpx.WriteError, "connection lost while sending the request"),
)
# A ConnectError is told apart by words in the OS error text.
_CONNECT_KINDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("refused",), "connection refused"),
    (("certificate", "ssl", "tls"), "TLS handshake failed (is the certificate trusted?)"),
    (("name or service", "nodename", "name resolution"), "host name not found"),
    (("unreachable", "no route"), "network unreachable"),
)


def _transport_kind(exc: httpx.TransportError) -> str:
    # Classified from the exception type and the OS error text, which is
    # never echoed: some httpx messages include the full URL.
    if isinstance(exc, httpx.ConnectError):
        detail = str(exc).lower()
        return next((kind for words, kind in _CONNECT_KINDS if any(w in detail for w in words)),
                    "connection failed")
    return next((kind for cls, kind in _TRANSPORT_KINDS if isinstance(exc, cls)),
                f"transport error ({type(exc).__name__})")


def api_error_from_transport(operation: str, url: httpx.URL, exc: httpx.TransportError) -> ApiError:
    """``HSS ListRegistry failed: cannot reach hss.example.com:443: connection refused``.

    Names only the host and port of ``url``: never its path or query.
    """
    port = url.port or {"https": 443, "http": 80}.get(url.scheme)
    host = f"{url.host}:{port}" if port else url.host
    return ApiError(
        REDACTOR.redact(f"HSS {operation} failed: cannot reach {host}: {_transport_kind(exc)}")
    )


def _request_id_suffix(request_id: str | None) -> str:
    return f" (request id {_one_line(request_id, 80)})" if request_id else ""


def unreadable_response(operation: str, response: httpx.Response, expected: str) -> ApiError:
    """A 2xx answer that is not what the API documents (a proxy page, a truncated body)."""
    return invalid_answer(operation, response, f"expected {expected}", what="an unreadable")


def invalid_answer(operation: str, response: httpx.Response, problem: str, *,
                   what: str = "an invalid") -> ApiError:
    """``HSS ListRegistry returned an invalid answer: HTTP 200, <problem> (request id <id>)``.

    ``problem`` is ours, never the server's text: it names fields and positions, not values.
    """
    request_id = response.headers.get("X-Request-Id")
    return ApiError(
        f"HSS {operation} returned {what} answer: "
        f"HTTP {response.status_code}, {problem}{_request_id_suffix(request_id)}",
        status=response.status_code,
        request_id=request_id,
    )


def refused_answer(operation: str, reason: str, response: httpx.Response | None) -> ApiError:
    """``HSS ListRegistry failed: HTTP 200: <reason> (request id <id>)``: an answer not read in full.

    ``response`` is None when not even the status line arrived.
    """
    if response is None:
        return ApiError(f"HSS {operation} failed: {reason}")
    request_id = response.headers.get("X-Request-Id")
    return ApiError(
        f"HSS {operation} failed: HTTP {response.status_code}: {reason}{_request_id_suffix(request_id)}",
        status=response.status_code,
        request_id=request_id,
    )
