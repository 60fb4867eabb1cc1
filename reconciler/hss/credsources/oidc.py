"""OIDC at STS: an ID token exchanged for temporary AK/SK in one call, first in the SDK's chain.

As huaweicloudsdkcore 3.1.219 ``OidcStsCredentialProvider`` and ``OidcStsAccessor`` do it:
``POST {sts}/v5/agencies/assume-with-oidc``, unsigned, with the JSON body
``{"provider_urn", "agency_urn", "agency_session_name", "id_token",
"duration_seconds"}`` (+ ``policy``, ``policy_ids`` when set); the answer's
``credentials`` hold ``access_key_id``, ``secret_access_key``,
``security_token`` and ``expiration`` (STS's ``CredentialsDto``).

Variables, the SDK's names and defaults: ``HUAWEICLOUD_OIDC_PROVIDER_URN``,
``HUAWEICLOUD_OIDC_AGENCY_URN``; the token in ``HUAWEICLOUD_OIDC_ID_TOKEN``,
else in the file ``HUAWEICLOUD_OIDC_TOKEN_FILE`` (re-read at every refresh:
CI runners and Kubernetes rotate it); ``HUAWEICLOUD_OIDC_SESSION_NAME``
(``oidc-sts-session``), ``HUAWEICLOUD_OIDC_DURATION_SECONDS`` (3600),
``HUAWEICLOUD_OIDC_POLICY``, ``HUAWEICLOUD_OIDC_POLICY_IDS`` (comma-separated).
The STS endpoint is ``HUAWEICLOUD_SDK_STS_ENDPOINT``, else the SDK's default
``https://sts.cn-north-4.myhuaweicloud.com`` (``StsHelper.get_sts_endpoint()``,
called without a region); plain http only to loopback.

Deviation, as for every source here: the SDK's chain goes on to the next
provider when any required variable is missing; here the source counts as
configured once either URN is set, and then a missing token is an error
naming the variable, never a silent switch to other keys.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from reconciler.errors import ReconcilerError
from reconciler.hss.credentials import Credentials, is_header_token
from reconciler.hss.credsources.answer import json_object, send, status_text, temporary_credentials
from reconciler.hss.credsources.endpoints import checked_url
from reconciler.hss.credsources.files import read_token
from reconciler.secrets import Secret

SOURCE = "OIDC at STS"
PROVIDER_URN_VARIABLE = "HUAWEICLOUD_OIDC_PROVIDER_URN"
AGENCY_URN_VARIABLE = "HUAWEICLOUD_OIDC_AGENCY_URN"
ID_TOKEN_VARIABLE = "HUAWEICLOUD_OIDC_ID_TOKEN"
TOKEN_FILE_VARIABLE = "HUAWEICLOUD_OIDC_TOKEN_FILE"
SESSION_NAME_VARIABLE = "HUAWEICLOUD_OIDC_SESSION_NAME"
DURATION_VARIABLE = "HUAWEICLOUD_OIDC_DURATION_SECONDS"
POLICY_VARIABLE = "HUAWEICLOUD_OIDC_POLICY"
POLICY_IDS_VARIABLE = "HUAWEICLOUD_OIDC_POLICY_IDS"
STS_ENDPOINT_VARIABLE = "HUAWEICLOUD_SDK_STS_ENDPOINT"  # huaweicloudsdkcore StsHelper.STS_ENDPOINT_ENV_NAME
VARIABLES = (PROVIDER_URN_VARIABLE, AGENCY_URN_VARIABLE, ID_TOKEN_VARIABLE, TOKEN_FILE_VARIABLE,
             SESSION_NAME_VARIABLE, DURATION_VARIABLE, POLICY_VARIABLE, POLICY_IDS_VARIABLE,
             STS_ENDPOINT_VARIABLE)
DEFAULT_STS_ENDPOINT = "https://sts.cn-north-4.myhuaweicloud.com"  # StsHelper.DEFAULT_STS_ENDPOINT
DEFAULT_SESSION_NAME = "oidc-sts-session"
DEFAULT_DURATION_SECONDS = 3600
ASSUME_PATH = "/v5/agencies/assume-with-oidc"
# STS's documented ranges (AssumeAgencyWithOidcReqBody): checked here so a typo is one line, not a 400.
DURATION_RANGE = (900, 43200)
MAX_URN_CHARS = 1500
SESSION_NAME_CHARS = (2, 128)
ID_TOKEN_CHARS = (4, 20000)
MAX_POLICY_CHARS = 2048
JSON = "application/json;charset=UTF-8"


@dataclass(frozen=True)
class OidcSts:
    """What the variables say, checked; the token itself is read at each fetch."""

    provider_urn: str
    agency_urn: str
    session_name: str
    duration_seconds: int
    policy: str | None
    policy_ids: tuple[str, ...]
    sts_endpoint: str
    id_token: Secret | None  # HUAWEICLOUD_OIDC_ID_TOKEN, else read from token_file
    token_file: str | None


def _text(environ: Mapping[str, str], name: str, low: int, high: int) -> str:
    value = environ.get(name, "")
    if not low <= len(value) <= high or not value.isprintable():
        raise ReconcilerError(f"{SOURCE}: {name} must be {low}-{high} printable characters")
    return value


def from_env(environ: Mapping[str, str]) -> OidcSts | None:
    """The settings when either URN is set (None: this source is not configured); one line when bad."""
    if not (environ.get(PROVIDER_URN_VARIABLE) or environ.get(AGENCY_URN_VARIABLE)):
        return None
    for name in (PROVIDER_URN_VARIABLE, AGENCY_URN_VARIABLE):
        if not environ.get(name):
            raise ReconcilerError(f"{SOURCE}: {name} is required with the other HUAWEICLOUD_OIDC_* URN")
    token_text = environ.get(ID_TOKEN_VARIABLE) or None
    id_token = Secret(token_text) if token_text else None
    token_file = environ.get(TOKEN_FILE_VARIABLE) or None
    if token_text is not None:
        if not ID_TOKEN_CHARS[0] <= len(token_text) <= ID_TOKEN_CHARS[1] or not is_header_token(token_text):
            raise ReconcilerError(f"{SOURCE}: {ID_TOKEN_VARIABLE} must be {ID_TOKEN_CHARS[0]}-"
                                  f"{ID_TOKEN_CHARS[1]} printable ASCII characters")
    elif token_file is None:
        raise ReconcilerError(f"{SOURCE}: set {ID_TOKEN_VARIABLE} or {TOKEN_FILE_VARIABLE} "
                              f"(the ID token) with {PROVIDER_URN_VARIABLE}")
    duration_text = environ.get(DURATION_VARIABLE) or str(DEFAULT_DURATION_SECONDS)
    low, high = DURATION_RANGE
    if not (duration_text.isascii() and duration_text.isdigit() and low <= int(duration_text) <= high):
        raise ReconcilerError(f"{SOURCE}: {DURATION_VARIABLE} must be a whole number of seconds, "
                              f"{low}-{high}")
    policy = _text(environ, POLICY_VARIABLE, 2, MAX_POLICY_CHARS) if environ.get(POLICY_VARIABLE) else None
    ids = tuple(part.strip() for part in environ.get(POLICY_IDS_VARIABLE, "").split(",") if part.strip())
    if any(len(item) > 128 or not item.isprintable() for item in ids):
        raise ReconcilerError(f"{SOURCE}: {POLICY_IDS_VARIABLE} must be comma-separated policy ids")
    return OidcSts(
        provider_urn=_text(environ, PROVIDER_URN_VARIABLE, 1, MAX_URN_CHARS),
        agency_urn=_text(environ, AGENCY_URN_VARIABLE, 1, MAX_URN_CHARS),
        session_name=(_text(environ, SESSION_NAME_VARIABLE, *SESSION_NAME_CHARS)
                      if environ.get(SESSION_NAME_VARIABLE) else DEFAULT_SESSION_NAME),
        duration_seconds=int(duration_text), policy=policy, policy_ids=ids,
        sts_endpoint=checked_url(environ.get(STS_ENDPOINT_VARIABLE) or DEFAULT_STS_ENDPOINT, SOURCE,
                                 "the STS endpoint"),
        id_token=id_token, token_file=token_file)


def exchange(settings: OidcSts, http: httpx.Client) -> Credentials:
    """Temporary credentials for the ID token (the variable's, or the file's as it is now)."""
    id_token = settings.id_token
    if id_token is None:
        assert settings.token_file is not None  # from_env requires one of them
        id_token = read_token(settings.token_file, SOURCE, "the ID token file")
    body: dict[str, Any] = {"provider_urn": settings.provider_urn, "agency_urn": settings.agency_urn,
                            "agency_session_name": settings.session_name, "id_token": id_token.reveal(),
                            "duration_seconds": settings.duration_seconds}
    if settings.policy:
        body["policy"] = settings.policy
    if settings.policy_ids:
        body["policy_ids"] = list(settings.policy_ids)
    base = settings.sts_endpoint.rstrip("/")
    answer = send(http, http.build_request("POST", base + ASSUME_PATH, content=json.dumps(body).encode(),
                                           headers={"Content-Type": JSON}), SOURCE, f"STS at {base}")
    if not answer.is_success:
        raise ReconcilerError(f"{SOURCE}: STS refused the ID token ({status_text(answer)})")
    return temporary_credentials(json_object(answer, SOURCE, "STS's assume-with-oidc answer"), SOURCE)
