"""STS's AssumeAgencyWithOIDC, as the official SDK's ``OidcStsAccessor`` calls it.

``POST /v5/agencies/assume-with-oidc``, unsigned, JSON body (the STS SDKs'
``AssumeAgencyWithOidcReqBody``): ``provider_urn``, ``agency_urn`` (each at
most 1500 characters), ``agency_session_name`` (2-128), ``id_token``
(4-20000), optional ``duration_seconds`` (900-43200, default 3600),
``policy`` (2-2048) and ``policy_ids``. The answer (``AssumeAgencyWithOidcResponse``)
holds ``source_identity``, ``assumed_agency`` {``urn``, ``id``} and
``credentials`` {``access_key_id``, ``secret_access_key``, ``security_token``,
``expiration``}.

The emulator accepts the ID tokens its config lists (``id_tokens``, shared
with IAM federation) for its one ``oidc_provider_urn`` and ``oidc_agency_urn``;
it does not parse JWTs. invented: the status 200 (not published in what we
could read), the error codes and messages (v5 services answer
``{"error_code", "error_msg"}``), the ``source_identity`` and ``assumed_agency``
values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from reconciler.emulator.answer import Answer, json_answer

ASSUME_PATH = "/v5/agencies/assume-with-oidc"
PATHS = frozenset({ASSUME_PATH})
_TEXT_LIMITS = {"provider_urn": (1, 1500), "agency_urn": (1, 1500), "agency_session_name": (2, 128),
                "id_token": (4, 20000)}


def _error(status: int, code: str, message: str) -> Answer:
    return json_answer(status, {"error_code": code, "error_msg": message})


def _problem(body: Any) -> str | None:
    """Why the body is not a valid request (None when it is)."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    for name, (low, high) in _TEXT_LIMITS.items():
        value = body.get(name)
        if not isinstance(value, str) or not low <= len(value) <= high:
            return f"{name} must be a string of {low}-{high} characters"
    duration = body.get("duration_seconds", 3600)
    if isinstance(duration, bool) or not isinstance(duration, int) or not 900 <= duration <= 43200:
        return "duration_seconds must be 900-43200"
    policy = body.get("policy")
    if policy is not None and (not isinstance(policy, str) or not 2 <= len(policy) <= 2048):
        return "policy must be a string of 2-2048 characters"
    ids = body.get("policy_ids")
    if ids is not None and (not isinstance(ids, list) or not all(isinstance(i, str) for i in ids)):
        return "policy_ids must be a list of strings"
    return None


def handle(app: Any, method: str, path: str, headers: Mapping[str, str], raw: bytes) -> Answer:
    del path, headers  # one path; the call is not signed
    if method != "POST":
        return _error(405, "STS.0405", "use POST")  # invented
    config = app.config
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        body = None
    problem = _problem(body)
    if problem:
        return _error(400, "STS.0400", problem)  # invented
    if config.oidc_provider_urn is None or body["provider_urn"] != config.oidc_provider_urn:
        return _error(404, "STS.0404", "the OIDC provider does not exist")  # invented
    if body["agency_urn"] != config.oidc_agency_urn:
        return _error(403, "STS.0403", "the agency does not trust this OIDC provider")  # invented
    if body["id_token"] not in config.id_tokens:
        return _error(401, "STS.0401", "the ID token is invalid or has expired")  # invented
    duration = float(body.get("duration_seconds", 3600))
    key = app.auth.temporary.issue(min(duration, config.credential_lifetime_seconds))
    session = body["agency_session_name"]
    return json_answer(200, {
        "source_identity": "emulated-subject",  # invented: the ID token's claimed identity
        "assumed_agency": {"urn": f"{config.oidc_agency_urn}/{session}", "id": f"emulated:{session}"},
        "credentials": {"access_key_id": key.access, "secret_access_key": key.secret,
                        "security_token": key.security_token,
                        "expiration": key.as_credential()["expires_at"]},
    })
