"""One bounded exchange with a credential service, and the temporary credentials it answers.

Every source that fetches (IAM, the ECS metadata service, the pod identity
agent) goes through here, so each answer is bounded in time and size
(:mod:`reconciler.hss.bounds`), its shape checked, every secret in it wrapped
in :class:`Secret` before anything else sees it, and every failure one line
that names the source and never a token.

Time: one fetch of credentials is done within FETCH_SECONDS, all its calls
together (IAM's two, the metadata service's two to four), not each call: a
service that answers each call just in time must not hold a run for the sum.
Every socket wait (the connect, the TLS handshake, each header and body read)
is cut to the time left, so headers dripped a byte at a time cannot hold it
either. A refresh in the middle of an apply is such a fetch too.
"""

from __future__ import annotations

import json
import os
import ssl
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx

from reconciler.errors import ReconcilerError
from reconciler.hss import bounds
from reconciler.hss.credentials import Credentials, is_header_token
from reconciler.secrets import REDACTOR, Secret

FETCH_SECONDS = 10.0  # one fetch, every call of it, connect to last byte (the SDK waits 3-5 s a socket wait)
MAX_ANSWER_BYTES = 64 * 1024  # a credential answer is about 2 KB; a security token about 1-2 KB
MAX_KEY_CHARS = 256
MAX_SECURITY_TOKEN_CHARS = 16 * 1024
# The SDK's huaweicloudsdkcore.auth.internal._TIME_FORMAT, and the same without the fraction.
TIME_FORMATS = ("%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ")
# Which names hold what: StsAccessor._process_credential accepts each of these spellings.
WRAPPERS = ("credential", "credentials")
FIELDS = {
    "access": ("access", "accessKeyId", "access_key_id"),
    "secret": ("secret", "secretAccessKey", "secret_access_key"),
    "token": ("securitytoken", "securityToken", "security_token"),
    "expires": ("expires_at", "expiration"),
}

_fetch = threading.local()  # the deadline of the fetch this thread is doing, if any


@contextmanager
def one_fetch() -> Iterator[None]:
    """Every :func:`send` of this thread inside the block shares one FETCH_SECONDS deadline."""
    previous = getattr(_fetch, "until", None)
    _fetch.until = time.monotonic() + FETCH_SECONDS if previous is None else previous
    try:
        yield
    finally:
        _fetch.until = previous


def http_client(verify: bool | str = True, *, trust_env: bool = True,
                connect_seconds: float | None = None) -> httpx.Client:
    """A plain client for credential services: no auth, no redirects (they would carry the token).

    ``verify`` is True, False or a CA bundle path (``--ca-bundle``, ``--insecure``).
    """
    context: bool | ssl.SSLContext
    if isinstance(verify, bool):
        context = verify
    elif os.path.isdir(verify):
        context = ssl.create_default_context(capath=verify)
    else:
        context = ssl.create_default_context(cafile=verify)
    return httpx.Client(verify=context, trust_env=trust_env, follow_redirects=False,
                        timeout=httpx.Timeout(FETCH_SECONDS, connect=connect_seconds or FETCH_SECONDS))


def send(http: httpx.Client, request: httpx.Request, source: str, where: str) -> httpx.Response:
    """``request``, answered in full by the fetch's deadline (see :func:`one_fetch`) and in MAX_ANSWER_BYTES.

    Raises ReconcilerError naming ``source`` and ``where`` ("cannot reach" when
    no connection was made).
    """
    until = getattr(_fetch, "until", None) or time.monotonic() + FETCH_SECONDS
    late = f"no complete answer within {FETCH_SECONDS:g} s"
    if until <= time.monotonic():
        raise ReconcilerError(f"{source}: {where}: {late}")
    try:
        return bounds.exchange(http, request, until=until, max_bytes=MAX_ANSWER_BYTES, late=late)
    except bounds.AnswerRefused as refused:
        raise ReconcilerError(f"{source}: {where}: {refused.reason}") from None
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise ReconcilerError(f"{source}: cannot reach {where} ({type(exc).__name__})") from None
    except httpx.TimeoutException:
        raise ReconcilerError(f"{source}: {where}: {late}") from None
    except httpx.HTTPError as exc:
        raise ReconcilerError(f"{source}: {where}: the exchange failed ({type(exc).__name__})") from None


def status_text(response: httpx.Response) -> str:
    """``401 IAM.0002: message`` from an error answer: status, then code and message when readable.

    Huawei services answer ``{"error_code","error_msg"}``, Keystone-style IAM
    calls ``{"error": {"code","message"}}``. The text is cut short and passes
    the redactor, so an echoed token (registered as a Secret) never shows.
    """
    code = message = ""
    try:
        body = json.loads(response.content) if len(response.content) <= 4096 else None
    except (ValueError, UnicodeDecodeError, RecursionError):
        body = None
    if isinstance(body, dict):
        inner: dict[str, Any] = body["error"] if isinstance(body.get("error"), dict) else body
        code = str(inner.get("error_code") or inner.get("code") or "")[:40]
        code = "" if code == str(response.status_code) else code  # Keystone repeats the status
        message = str(inner.get("error_msg") or inner.get("message") or "")[:160]
    text = " ".join(part for part in (str(response.status_code), code) if part)
    if response.is_redirect:  # never followed: it would carry the token to wherever it points
        message = message or "a redirect, not followed"
    text = f"{text}: {message}" if message else text
    return REDACTOR.redact("".join(ch if " " <= ch <= "~" else "?" for ch in text))


def json_object(response: httpx.Response, source: str, what: str) -> dict[str, Any]:
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ReconcilerError(f"{source}: {what} is not JSON") from None
    if not isinstance(body, dict):
        raise ReconcilerError(f"{source}: {what} is not a JSON object")
    return body


def _pick(fields: Mapping[str, Any], names: tuple[str, ...]) -> Any:
    return next((fields[name] for name in names if fields.get(name)), None)


def _key(fields: Mapping[str, Any], kind: str, source: str, limit: int) -> str:
    value = _pick(fields, FIELDS[kind])
    if not isinstance(value, str) or not 1 <= len(value) <= limit or not is_header_token(value):
        if isinstance(value, str):
            Secret(value)  # registered, never shown
        raise ReconcilerError(f"{source}: the answer's {FIELDS[kind][0]} is missing or not a "
                              f"printable token of at most {limit} characters")
    return value


def expiry(value: Any, source: str) -> float:
    """``expires_at`` as seconds since the epoch (always UTC, whatever the local zone)."""
    if isinstance(value, str) and len(value) <= 40:
        for form in TIME_FORMATS:
            try:
                return datetime.strptime(value, form).replace(tzinfo=UTC).timestamp()
            except ValueError:
                continue
    raise ReconcilerError(f"{source}: the answer's expires_at is missing or not a time such as "
                          "2026-01-31T12:00:00.000000Z")


def temporary_credentials(body: Mapping[str, Any], source: str) -> Credentials:
    """AK, SK, security token and expiry, as the SDK's ``StsAccessor._process_credential`` reads them."""
    fields: Any = next((body[name] for name in WRAPPERS if name in body), body)
    if not isinstance(fields, dict):
        raise ReconcilerError(f"{source}: the answer's credential is not a JSON object")
    secret = Secret(_key(fields, "secret", source, MAX_KEY_CHARS))
    token = Secret(_key(fields, "token", source, MAX_SECURITY_TOKEN_CHARS))
    access = _key(fields, "access", source, MAX_KEY_CHARS)
    expires_at = expiry(_pick(fields, FIELDS["expires"]), source)
    if expires_at <= time.time():
        # Taken, they would be fetched again for every request and refused by HSS each time.
        shown = datetime.fromtimestamp(expires_at, UTC).strftime(TIME_FORMATS[1])
        raise ReconcilerError(f"{source}: the answer's expires_at {shown} is already past "
                              "(or this machine's clock is wrong)")
    return Credentials(access_key=access, secret_key=secret, security_token=token,
                       expires_at=expires_at, source=source)
