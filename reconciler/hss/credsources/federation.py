"""IdP (OIDC) federation: an ID token exchanged at IAM for temporary AK/SK and a security token.

As huaweicloudsdkcore ``FederalAccessor`` and ``IamHelper`` do it, in two calls:

1. ``POST {iam}/v3.0/OS-AUTH/id-token/tokens`` with header ``X-Idp-Id`` and body
   ``{"auth": {"id_token": {"id": ID_TOKEN}}}``; the (unscoped) IAM token comes
   back in the ``X-Subject-Token`` header.
2. ``POST {iam}/v3.0/OS-CREDENTIAL/securitytokens`` with body
   ``{"auth": {"identity": {"methods": ["token"], "token": {"id": TOKEN,
   "duration_seconds": 21600}}}}``; the answer's ``credential`` holds
   ``access``, ``secret``, ``securitytoken`` and ``expires_at``.

The IAM endpoint is the profile's ``iam_endpoint``, else
``HUAWEICLOUD_SDK_IAM_ENDPOINT``, else the SDK's default
``https://iam.myhuaweicloud.com`` (what the SDK uses when the project id is
known, as a target's always is). Plain http only to loopback. The ID token
file is read again at every refresh, since CI runners and Kubernetes rotate it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from reconciler.errors import ReconcilerError
from reconciler.hss.credentials import Credentials, Federation, is_header_token
from reconciler.hss.credsources.answer import json_object, send, status_text, temporary_credentials
from reconciler.hss.credsources.endpoints import checked_url
from reconciler.hss.credsources.files import read_token
from reconciler.secrets import Secret

SOURCE = "IdP federation"
IAM_ENDPOINT_VARIABLE = "HUAWEICLOUD_SDK_IAM_ENDPOINT"
DEFAULT_IAM_ENDPOINT = "https://iam.myhuaweicloud.com"  # huaweicloudsdkcore IamHelper.DEFAULT_ENDPOINT
TOKEN_PATH = "/v3.0/OS-AUTH/id-token/tokens"
SECURITY_TOKEN_PATH = "/v3.0/OS-CREDENTIAL/securitytokens"
DURATION_SECONDS = 6 * 60 * 60  # FederalAccessor._DEFAULT_DURATION_SECONDS
JSON = "application/json;charset=UTF-8"


def iam_endpoint(federation: Federation, environ: Mapping[str, str]) -> str:
    named = federation.iam_endpoint or environ.get(IAM_ENDPOINT_VARIABLE) or DEFAULT_IAM_ENDPOINT
    return checked_url(named, SOURCE, "the IAM endpoint")


def exchange(federation: Federation, environ: Mapping[str, str], http: httpx.Client) -> Credentials:
    """Temporary credentials for the ID token in ``federation.id_token_file``."""
    if not is_header_token(federation.idp_id):
        raise ReconcilerError(f"{SOURCE}: the IdP id holds characters other than printable ASCII")
    base = iam_endpoint(federation, environ).rstrip("/")
    id_token = read_token(federation.id_token_file, SOURCE, "the ID token file")
    body: dict[str, Any] = {"auth": {"id_token": {"id": id_token.reveal()}}}
    answer = send(http, http.build_request(
        "POST", base + TOKEN_PATH, content=json.dumps(body).encode(),
        headers={"X-Idp-Id": federation.idp_id, "Content-Type": JSON}), SOURCE, f"IAM at {base}")
    if not answer.is_success:
        raise ReconcilerError(f"{SOURCE}: IAM refused the ID token ({status_text(answer)})")
    token_text = answer.headers.get("X-Subject-Token", "")
    token = Secret(token_text) if token_text else None
    if token is None or not is_header_token(token_text) or len(token_text) > 64 * 1024:
        raise ReconcilerError(f"{SOURCE}: IAM's answer to the ID token has no usable X-Subject-Token header")
    body = {"auth": {"identity": {"methods": ["token"],
                                  "token": {"id": token.reveal(), "duration_seconds": DURATION_SECONDS}}}}
    answer = send(http, http.build_request(
        "POST", base + SECURITY_TOKEN_PATH, content=json.dumps(body).encode(),
        headers={"Content-Type": JSON}), SOURCE, f"IAM at {base}")
    if not answer.is_success:
        raise ReconcilerError(f"{SOURCE}: IAM refused to issue temporary credentials ({status_text(answer)})")
    return temporary_credentials(json_object(answer, SOURCE, "IAM's security-token answer"), SOURCE)
