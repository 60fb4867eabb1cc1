"""One HssClient per target; the targets that share credentials share one connection pool.

Each target authenticates as its ``credentials: {profile: NAME}`` says, or
through the default chain (:mod:`reconciler.hss.credsources.chain`). Every
distinct credential set is resolved once, before any client exists, so a
missing profile or a refused ID token stops the run before anything is sent.

A target whose endpoint is its region's (no ``HSS_ENDPOINT``, no
``target.endpoint``) gets the region's whole list, as the SDK's client does:
the next endpoint is tried when a connection to one cannot be made. Only the
endpoints of the first's scheme are tried: the run decides once, from the
first endpoints, whether to verify TLS (``engine/session.py``), and an https
endpoint must never be reached unverified because its list began with http.
Each passes the plain-http rule the first passed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager

import httpx

from reconciler.config.endpoints import EndpointResolver
from reconciler.config.model import TargetConfig
from reconciler.config.warnings import plain_http_endpoint
from reconciler.config.workspace import ENDPOINT_ENV
from reconciler.errors import ReconcilerError
from reconciler.hss.client import HssClient
from reconciler.hss.credsources.chain import Provider, credential_provider
from reconciler.hss.transport import make_http_client
from reconciler.registry import TargetKey


def clients_for(targets: Iterable[TargetConfig], http: httpx.Client,
                failover: Mapping[TargetKey, tuple[str, ...]] | None = None) -> dict[TargetKey, HssClient]:
    """A client per target; ``failover``: the endpoints tried after a target's own when it is unreachable."""
    return {
        t.key: HssClient(http, t.endpoint, t.key.project_id, t.key.enterprise_project_id,
                         fallbacks=(failover or {}).get(t.key, ()))
        for t in targets
    }


def failover_endpoints(targets: Iterable[TargetConfig],
                       environ: Mapping[str, str]) -> dict[TargetKey, tuple[str, ...]]:
    """The rest of the region's endpoint list, for each target whose endpoint is that list's first.

    Raises ReconcilerError when one of them is plain http where the first was
    allowed only on loopback (nothing is sent yet).
    """
    if environ.get(ENDPOINT_ENV):
        return {}
    found: dict[TargetKey, tuple[str, ...]] = {}
    resolver = EndpointResolver(environ)  # one for every target: the regions file is read once
    for target in targets:
        if target.named_endpoint is not None:
            continue
        region = resolver.resolve(target.key.region)
        endpoints = region.endpoints if region is not None else ()
        if len(endpoints) < 2 or endpoints[0] != target.endpoint:
            continue
        scheme = target.endpoint.split("://", 1)[0]
        same = tuple(each for each in endpoints[1:] if each.split("://", 1)[0] == scheme)
        first = plain_http_endpoint(target.endpoint, False)
        allowed = first is not None and first.refused  # plain http outside loopback ran: --allow-http
        for endpoint in same:
            verdict = plain_http_endpoint(endpoint, allowed)
            if verdict is not None and verdict.refused:
                raise ReconcilerError(f"target {target.key}: the region's endpoint list: {verdict.message} "
                                      "Nothing was sent.")
        if same:
            found[target.key] = same
    return found


def providers_for(targets: Iterable[TargetConfig], environ: Mapping[str, str], *,
                  verify: bool | str = True) -> dict[str | None, Provider]:
    """One credential provider per profile the targets name (None: the default chain)."""
    providers: dict[str | None, Provider] = {}
    for target in targets:
        profile = target.credentials_profile
        if profile in providers:
            continue
        try:
            providers[profile] = credential_provider(environ, profile, verify=verify)
        except ReconcilerError as exc:
            if profile is None:
                raise
            raise ReconcilerError(f"target {target.key} ({', '.join(target.files[:1])}): {exc}") from None
    return providers


@contextmanager
def open_clients(targets: list[TargetConfig], environ: Mapping[str, str], *, verify: bool | str,
                 source_verify: bool | str = True,
                 max_connections: int) -> Iterator[dict[TargetKey, HssClient]]:
    """A client per target, authenticated per its profile; every pool closed on exit.

    ``verify`` is for HSS, ``source_verify`` for IAM and the other credential services.
    """
    failover = failover_endpoints(targets, environ)
    providers = providers_for(targets, environ, verify=source_verify)
    with ExitStack() as stack:
        clients: dict[TargetKey, HssClient] = {}
        for profile, provider in providers.items():
            http = stack.enter_context(make_http_client(provider, verify=verify,
                                                        max_connections=max_connections))
            clients.update(clients_for([t for t in targets if t.credentials_profile == profile], http,
                                       failover))
        yield clients
