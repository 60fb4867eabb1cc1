"""One HssClient per target; the targets that share credentials share one connection pool.

Each target authenticates as its ``credentials: {profile: NAME}`` says, or
through the default chain (:mod:`reconciler.hss.credsources.chain`). Every
distinct credential set is resolved once, before any client exists, so a
missing profile or a refused ID token stops the run before anything is sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager

import httpx

from reconciler.config.model import TargetConfig
from reconciler.errors import ReconcilerError
from reconciler.hss.client import HssClient
from reconciler.hss.credsources.chain import Provider, credential_provider
from reconciler.hss.transport import make_http_client
from reconciler.registry import TargetKey


def clients_for(targets: Iterable[TargetConfig], http: httpx.Client) -> dict[TargetKey, HssClient]:
    return {
        t.key: HssClient(http, t.endpoint, t.key.project_id, t.key.enterprise_project_id)
        for t in targets
    }


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
    providers = providers_for(targets, environ, verify=source_verify)
    with ExitStack() as stack:
        clients: dict[TargetKey, HssClient] = {}
        for profile, provider in providers.items():
            http = stack.enter_context(make_http_client(provider, verify=verify,
                                                        max_connections=max_connections))
            clients.update(clients_for([t for t in targets if t.credentials_profile == profile], http))
        yield clients
