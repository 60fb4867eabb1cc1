"""ECS/CCE metadata: the temporary credentials of the agency attached to this server.

As huaweicloudsdkcore ``MetadataAccessor`` does it, at ``http://169.254.169.254``:

1. ``PUT /meta-data/latest/api/token`` with ``X-Metadata-Token-Ttl-Seconds: 21600``
   for a session token (IMDSv2 style); a 404, 405 or 503 means the service has
   none, and the next call goes without.
2. ``GET /openstack/latest/securitykey`` with ``X-Metadata-Token``; the answer's
   ``credential`` holds ``access``, ``secret``, ``securitytoken``, ``expires_at``.
   A 401 (other than "Please configure Cloud Service Agency first") asks for a
   new session token once, then tries again.

``HSS_METADATA_ENDPOINT`` (ours, not the SDK's) points elsewhere: for tests
and the emulator, and it must be a loopback address.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from reconciler.config.warnings import is_loopback_host
from reconciler.errors import ReconcilerError
from reconciler.hss.credentials import Credentials, is_header_token
from reconciler.hss.credsources.answer import json_object, send, status_text, temporary_credentials
from reconciler.hss.credsources.endpoints import checked_url
from reconciler.secrets import Secret

SOURCE = "ECS metadata"
DEFAULT_ENDPOINT = "http://169.254.169.254"  # MetadataAccessor._METADATA_ENDPOINT
ENDPOINT_VARIABLE = "HSS_METADATA_ENDPOINT"
TOKEN_PATH = "/meta-data/latest/api/token"
SECURITY_KEY_PATH = "/openstack/latest/securitykey"
TOKEN_TTL_SECONDS = 6 * 60 * 60
NO_AGENCY = "Please configure Cloud Service Agency first"
MAX_SESSION_TOKEN_CHARS = 4096  # it goes back in a header (X-Metadata-Token)


def endpoint(environ: Mapping[str, str]) -> str:
    override = environ.get(ENDPOINT_VARIABLE)
    if not override:
        return DEFAULT_ENDPOINT
    checked_url(override, SOURCE, ENDPOINT_VARIABLE)
    if not is_loopback_host(httpx.URL(override).host):
        raise ReconcilerError(f"{SOURCE}: {ENDPOINT_VARIABLE} must name a loopback address (it is for tests)")
    return override.rstrip("/")


def _session_token(http: httpx.Client, base: str) -> Secret | None:
    answer = send(http, http.build_request(
        "PUT", base + TOKEN_PATH, headers={"X-Metadata-Token-Ttl-Seconds": str(TOKEN_TTL_SECONDS)}),
        SOURCE, base)
    if answer.status_code in (404, 405, 503):
        return None
    if answer.status_code == 200:
        text = answer.content.decode("ascii", "replace")
        session = Secret(text) if text else None  # registered before any check, so never shown
        if session is None or len(text) > MAX_SESSION_TOKEN_CHARS or not is_header_token(text):
            raise ReconcilerError(f"{SOURCE}: the session token is not a printable token of at most "
                                  f"{MAX_SESSION_TOKEN_CHARS} characters")
        return session
    raise ReconcilerError(f"{SOURCE}: the session token was refused ({status_text(answer)})")


def fetch(environ: Mapping[str, str], http: httpx.Client) -> Credentials:
    """The agency's temporary credentials; one line naming the metadata service when there are none."""
    base = endpoint(environ)
    token = _session_token(http, base)
    for attempt in (1, 2):
        headers = {"X-Metadata-Token": token.reveal()} if token is not None else {}
        answer = send(http, http.build_request("GET", base + SECURITY_KEY_PATH, headers=headers),
                      SOURCE, base)
        if answer.status_code == 401 and NO_AGENCY not in answer.text and attempt == 1:
            token = _session_token(http, base)
            continue
        break
    if NO_AGENCY in answer.text[:4096]:
        raise ReconcilerError(f"{SOURCE}: this server has no agency ({answer.status_code})")
    if not answer.is_success:
        raise ReconcilerError(f"{SOURCE}: the security key was refused ({status_text(answer)})")
    return temporary_credentials(json_object(answer, SOURCE, "the security-key answer"), SOURCE)
