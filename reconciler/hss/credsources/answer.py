"""One bounded exchange with a credential service, and the temporary credentials it answers.

Every source that fetches (IAM, the ECS metadata service, the pod identity
agent) goes through here, so each answer is bounded in time and size
(:mod:`reconciler.hss.bounds`), its shape checked, every secret in it wrapped
in :class:`Secret` before anything else sees it, and every failure one line
that names the source and never a token.
"""

from __future__ import annotations

import json
import os
import ssl
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from reconciler.errors import ReconcilerError
from reconciler.hss import bounds
from reconciler.hss.credentials import Credentials, is_header_token
from reconciler.secrets import REDACTOR, Secret

FETCH_SECONDS = 10.0  # one exchange, connect to last byte (the SDK waits 3-5 s a socket operation)
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
    """``request``, answered in full within FETCH_SECONDS and MAX_ANSWER_BYTES.

    Raises ReconcilerError naming ``source`` and ``where`` ("cannot reach" when
    no connection was made).
    """
    until = time.monotonic() + FETCH_SECONDS
    try:
        return bounds.exchange(http, request, until=until, max_bytes=MAX_ANSWER_BYTES,
                               late=f"no complete answer within {FETCH_SECONDS:g} s")
    except bounds.AnswerRefused as refused:
        raise ReconcilerError(f"{source}: {where}: {refused.reason}") from None
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise ReconcilerError(f"{source}: cannot reach {where} ({type(exc).__name__})") from None
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
    return Credentials(access_key=access, secret_key=secret, security_token=token,
                       expires_at=expires_at, source=source)
