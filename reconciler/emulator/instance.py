"""What a server or a pod asks for its own credentials: the ECS metadata service and a pod identity agent.

Metadata, as the official SDK's MetadataAccessor calls it (the real service is
at http://169.254.169.254;
https://support.huaweicloud.com/intl/en-us/usermanual-ecs/ecs_03_0166.html):

- ``PUT /meta-data/latest/api/token`` with ``X-Metadata-Token-Ttl-Seconds``: a
  session token, as text.
- ``GET /openstack/latest/securitykey`` with ``X-Metadata-Token``: the
  agency's ``{"credential": {...}}``. Without an agency: 404 "Please configure
  Cloud Service Agency first" (the text the SDK looks for).

Pod identity, as the SDK's PodIdentityAccessor calls it: ``POST`` with the
service account token as ``Authorization``; the same credential object.
invented: the path ``/v1/pod-identity/credentials`` (the CCE agent's own URI
reaches the pod in HC_CONTAINER_CREDENTIALS_FULL_URI, and is not documented),
and the 401 bodies.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections.abc import Mapping
from typing import Any

from reconciler.emulator.answer import Answer, json_answer

TOKEN_PATH = "/meta-data/latest/api/token"
SECURITY_KEY_PATH = "/openstack/latest/securitykey"
POD_IDENTITY_PATH = "/v1/pod-identity/credentials"
PATHS = frozenset({TOKEN_PATH, SECURITY_KEY_PATH, POD_IDENTITY_PATH})
NO_AGENCY = "Please configure Cloud Service Agency first"
_sessions: set[str] = set()
_lock = threading.Lock()


def _same(given: str | None, known: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode("utf-8", "surrogateescape"), known.encode())


def handle(app: Any, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Answer:
    config = app.config
    if path == POD_IDENTITY_PATH:
        if method != "POST":
            return Answer(405)
        if config.pod_identity_token is None or not _same(headers.get("authorization"),
                                                           config.pod_identity_token):
            return json_answer(401, {"error_code": "CCE.01400001", "error_msg": "invalid token"})
        key = app.auth.temporary.issue(config.credential_lifetime_seconds)
        return json_answer(200, {"credential": key.as_credential()})
    if path == TOKEN_PATH:
        if method != "PUT":
            return Answer(405)
        session = secrets.token_urlsafe(32)
        with _lock:
            if len(_sessions) >= 10_000:  # a long test run stays small; a dropped session asks again
                _sessions.clear()
            _sessions.add(session)
        return Answer(200, session.encode(), "text/plain")
    if method != "GET":
        return Answer(405)
    with _lock:
        known = headers.get("x-metadata-token") in _sessions
    if not known:
        return Answer(401, b"the metadata token is missing or invalid", "text/plain")
    if not config.metadata_agency:
        return Answer(404, NO_AGENCY.encode(), "text/plain")
    key = app.auth.temporary.issue(config.credential_lifetime_seconds)
    return json_answer(200, {"credential": key.as_credential()})
