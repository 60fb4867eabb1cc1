"""CCE pod identity: the credentials of the agency bound to this pod's service account.

As huaweicloudsdkcore ``PodIdentityCredentialProvider``/``PodIdentityAccessor``:
``POST`` to ``HC_CONTAINER_CREDENTIALS_FULL_URI`` with body ``{}`` and the
content of ``HC_CONTAINER_AUTHORIZATION_TOKEN_FILE`` as the ``Authorization``
header; the answer is read like every STS answer (``credential`` or
``credentials``, ``access``/``accessKeyId``, ..., ``expires_at``/``expiration``).
Both variables or neither. The URI must be https, or http on a loopback or
link-local address (where the node's pod identity agent listens): the token
must not cross a network in clear.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from reconciler.errors import ReconcilerError
from reconciler.hss.credentials import Credentials, both_or_neither
from reconciler.hss.credsources.answer import json_object, send, status_text, temporary_credentials
from reconciler.hss.credsources.endpoints import checked_url
from reconciler.hss.credsources.files import read_token

SOURCE = "pod identity"
URI_VARIABLE = "HC_CONTAINER_CREDENTIALS_FULL_URI"
TOKEN_FILE_VARIABLE = "HC_CONTAINER_AUTHORIZATION_TOKEN_FILE"


def configured(environ: Mapping[str, str]) -> bool:
    return both_or_neither((URI_VARIABLE, environ.get(URI_VARIABLE)),
                           (TOKEN_FILE_VARIABLE, environ.get(TOKEN_FILE_VARIABLE)))


def fetch(environ: Mapping[str, str], http: httpx.Client) -> Credentials:
    uri = checked_url(environ[URI_VARIABLE], SOURCE, URI_VARIABLE, link_local=True)
    token = read_token(environ[TOKEN_FILE_VARIABLE], SOURCE, TOKEN_FILE_VARIABLE)
    answer = send(http, http.build_request("POST", uri, json={},
                                           headers={"Authorization": token.reveal()}),
                  SOURCE, "the pod identity agent")
    if not answer.is_success:
        raise ReconcilerError(f"{SOURCE}: the agent refused the token ({status_text(answer)})")
    return temporary_credentials(json_object(answer, SOURCE, "the agent's answer"), SOURCE)
