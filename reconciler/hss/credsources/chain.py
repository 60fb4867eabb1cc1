"""The credential chain, in the official SDK's order (huaweicloudsdkcore ``CredentialProviderChain``).

1. OIDC at STS: ``HUAWEICLOUD_OIDC_PROVIDER_URN`` + ``..._AGENCY_URN`` and an ID
   token (``oidc.py``), the SDK's ``OidcStsCredentialProvider``.
2. Environment: ``HUAWEICLOUD_SDK_IDP_ID`` + ``HUAWEICLOUD_SDK_ID_TOKEN_FILE``
   (federation), else ``HUAWEICLOUD_SDK_AK``/``_SK`` (+ ``_SECURITY_TOKEN``),
   ``CLOUD_SDK_AK``/``_SK``, ``HSS_AUTH_TOKEN``.
3. Profile file, section ``[basic]`` (``profile.py``).
4. ECS/CCE metadata (``metadata.py``), when a metadata service answers.
5. Pod identity (``podidentity.py``).

A target that names a profile uses that profile alone. A source that is
configured but fails stops the run with its error; only a source that is not
there (no variables, no file, no usable metadata service) lets the chain go
on, so a broken credential is never silently replaced by another. The
metadata service needs no configuration, so any failure to get keys from it
at the start means "not on ECS with an agency" (the SDK's chain goes on too);
once it has given keys, a failed refresh is an error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

import httpx

from reconciler.errors import ReconcilerError
from reconciler.hss.credentials import Credentials, Federation, configured_in_env, federation_from_env
from reconciler.hss.credsources import federation, metadata, oidc, podidentity
from reconciler.hss.credsources.answer import http_client, one_fetch
from reconciler.hss.credsources.profile import FILE_VARIABLE, from_profile
from reconciler.hss.credsources.refreshing import RefreshingCredentials

Provider = Callable[[], Credentials]
NO_CREDENTIALS = (
    "no HSS credentials: set HUAWEICLOUD_OIDC_PROVIDER_URN, HUAWEICLOUD_OIDC_AGENCY_URN and "
    "HUAWEICLOUD_OIDC_TOKEN_FILE; or HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK (or CLOUD_SDK_AK and "
    "CLOUD_SDK_SK), HUAWEICLOUD_SDK_IDP_ID and HUAWEICLOUD_SDK_ID_TOKEN_FILE, or HSS_AUTH_TOKEN; "
    f"or write ~/.huaweicloud/credentials ({FILE_VARIABLE}); or run on ECS/CCE with an agency")


# The metadata service answers at once on ECS; elsewhere its address leads nowhere, and
# waiting the SDK's 3 s for that would slow every run that has no credentials at all.
LINK_LOCAL_CONNECT_SECONDS = 1.0


def _fetching(fetch: Callable[[httpx.Client], Credentials], verify: bool | str,
              link_local: bool = False) -> Callable[[], Credentials]:
    """``fetch`` with a fresh short-lived client each time (a refresh is rare; nothing stays open).

    A link-local service (metadata, the pod identity agent) is reached without a proxy.
    All of one fetch's calls share one deadline (``answer.one_fetch``).
    """
    def run() -> Credentials:
        connect = LINK_LOCAL_CONNECT_SECONDS if link_local else None
        with one_fetch(), http_client(verify, trust_env=not link_local, connect_seconds=connect) as http:
            return fetch(http)
    return run


def _provider(found: Credentials | Federation, environ: Mapping[str, str], verify: bool | str) -> Provider:
    if isinstance(found, Credentials):
        return lambda: found
    return RefreshingCredentials(_fetching(partial(federation.exchange, found, environ), verify))


def credential_provider(environ: Mapping[str, str], profile: str | None = None, *,
                        verify: bool | str = True) -> Provider:
    """The provider of the first source configured (or ``profile``'s); one line when none is.

    Temporary credentials (federation, metadata, pod identity) are fetched
    here once, so a broken source stops the run before anything is sent to HSS.
    """
    if profile is not None:
        found = from_profile(environ, profile)
        assert found is not None  # a named profile is there or raises
        provider = _provider(found, environ, verify)
    else:
        provider = _default_chain(environ, verify)
    provider()
    return provider


def _default_chain(environ: Mapping[str, str], verify: bool | str) -> Provider:
    assume = oidc.from_env(environ)
    if assume is not None:
        return RefreshingCredentials(_fetching(partial(oidc.exchange, assume), verify))
    found = federation_from_env(environ) or configured_in_env(environ) or from_profile(environ, None)
    if found is not None:
        return _provider(found, environ, verify)
    metadata.endpoint(environ)  # a malformed HSS_METADATA_ENDPOINT is an error, not an absent service
    # The metadata service is on the link-local network: no proxy stands between.
    fetch_metadata = _fetching(partial(metadata.fetch, environ), verify, link_local=True)
    try:
        first = fetch_metadata()
    except ReconcilerError as exc:  # as the SDK's chain: no usable metadata service here, go on
        no_metadata = str(exc)
    else:
        return RefreshingCredentials(fetch_metadata, first=first)
    if podidentity.configured(environ):
        return RefreshingCredentials(_fetching(partial(podidentity.fetch, environ), verify, link_local=True))
    raise ReconcilerError(f"{NO_CREDENTIALS} ({no_metadata})")
