"""IAM's IdP federation calls, as the official SDK's FederalAccessor makes them.

- ``POST /v3.0/OS-AUTH/id-token/tokens``, header ``X-Idp-Id``, body
  ``{"auth": {"id_token": {"id": ...}}}``: 201, the unscoped token in
  ``X-Subject-Token`` (https://support.huaweicloud.com/intl/en-us/api-iam/iam_13_0605.html).
- ``POST /v3.0/OS-CREDENTIAL/securitytokens``, body ``{"auth": {"identity":
  {"methods": ["token"], "token": {"id", "duration_seconds"}}}}``: 201,
  ``{"credential": {"access", "secret", "securitytoken", "expires_at"}}``
  (https://support.huaweicloud.com/intl/en-us/api-iam/iam_04_0002.html;
  ``duration_seconds`` 900-86400).

The emulator accepts the ID tokens its config lists for its ``idp_id``; it
does not parse JWTs. Errors use IAM's Keystone shape ``{"error": {"code",
"message", "title"}}``; invented: the messages.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Mapping
from typing import Any

from reconciler.emulator.answer import Answer, json_answer

TOKEN_PATH = "/v3.0/OS-AUTH/id-token/tokens"
SECURITY_TOKEN_PATH = "/v3.0/OS-CREDENTIAL/securitytokens"
PATHS = frozenset({TOKEN_PATH, SECURITY_TOKEN_PATH})
TOKEN_LIFETIME_SECONDS = 24 * 3600  # an IAM token's documented validity
MAX_KEPT = 10_000  # unscoped tokens remembered; the oldest half is dropped past this
_unscoped: dict[str, float] = {}  # token -> expiry, for every emulator in the process (tokens are random)
_lock = threading.Lock()


def _error(status: int, title: str, message: str) -> Answer:
    return json_answer(status, {"error": {"code": status, "title": title, "message": message}})


def _body(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def handle(app: Any, method: str, path: str, headers: Mapping[str, str], raw: bytes) -> Answer:
    if method != "POST":
        return _error(405, "Method Not Allowed", "use POST")
    config = app.config
    body = _body(raw)
    if path == TOKEN_PATH:
        given = body.get("auth", {}).get("id_token", {}).get("id") if isinstance(body, dict) else None
        if not isinstance(given, str):
            return _error(400, "Bad Request", "auth.id_token.id is required")
        if config.idp_id is None or headers.get("x-idp-id") != config.idp_id:
            return _error(404, "Not Found", "the identity provider in X-Idp-Id does not exist")
        if given not in config.id_tokens:
            return _error(401, "Unauthorized", "the ID token is invalid or has expired")
        token = "MII" + secrets.token_urlsafe(48)
        with _lock:
            if len(_unscoped) >= MAX_KEPT:
                for old in list(_unscoped)[: MAX_KEPT // 2]:
                    del _unscoped[old]
            _unscoped[token] = time.time() + TOKEN_LIFETIME_SECONDS
        return json_answer(201, {"token": {"methods": ["mapped"]}}, {"X-Subject-Token": token})
    identity = body.get("auth", {}).get("identity", {}) if isinstance(body, dict) else {}
    token_part = identity.get("token", {}) if isinstance(identity, dict) else {}
    token_id = token_part.get("id") if isinstance(token_part, dict) else None
    duration = token_part.get("duration_seconds", 900) if isinstance(token_part, dict) else None
    if not isinstance(token_id, str) or identity.get("methods") != ["token"]:
        return _error(400, "Bad Request", "auth.identity.methods must be [\"token\"] with token.id")
    if isinstance(duration, bool) or not isinstance(duration, int) or not 900 <= duration <= 86400:
        return _error(400, "Bad Request", "token.duration_seconds must be 900-86400")
    with _lock:
        valid = _unscoped.get(token_id, 0.0) > time.time()
    if not valid:
        return _error(401, "Unauthorized", "the token is invalid or has expired")
    key = app.auth.temporary.issue(min(float(duration), config.credential_lifetime_seconds))
    return json_answer(201, {"credential": key.as_credential()})
