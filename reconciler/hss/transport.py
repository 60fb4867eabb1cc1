"""The one place an ``httpx.Client`` for HSS is configured.

Callers (the CLI, the e2e tests) build the client here and hand it to
:class:`~reconciler.hss.client.HssClient`; unit tests build their own around an
``httpx.MockTransport`` instead.
"""

from __future__ import annotations

import logging
import os
import re
import ssl
from collections.abc import Callable

import httpx

import reconciler
from reconciler.errors import ReconcilerError
from reconciler.hss.auth import auth_from_credentials
from reconciler.hss.credentials import Credentials

USER_AGENT = f"hss-reconciler/{reconciler.__version__}"


_QUERY = re.compile(r"(https?://[^\s?#\"']*)\?[^\s#\"']*")


class _StripQueryFilter(logging.Filter):
    """Cuts query strings out of URLs in httpx's own log records.

    The level alone is not enough: anyone may turn httpx back up to INFO, and
    the redactor cannot catch the password there because httpx logs it
    percent-encoded.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        stripped = _QUERY.sub(r"\1?(query hidden)", message)
        if stripped != message:
            record.msg, record.args = stripped, None
        return True


_STRIP_QUERY = _StripQueryFilter()


def quiet_third_party_loggers() -> None:
    """Raise httpx and httpcore loggers to WARNING, and hide query strings in httpx's records.

    httpx logs every request's full URL at INFO, and the
    ShowImageUploadCommand URL carries the registry password in its query.
    Our own ``reconciler.hss`` logger records the path only. Idempotent.
    """
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    httpx_logger = logging.getLogger("httpx")
    if _STRIP_QUERY not in httpx_logger.filters:
        httpx_logger.addFilter(_STRIP_QUERY)


def _ssl_verify(verify: bool | str) -> bool | ssl.SSLContext:
    # httpx 0.28 deprecates verify=<path>; build the context ourselves.
    # A CA bundle is added to the system's trust store, not put in its place, so
    # a private CA for one endpoint does not break the public ones.
    if isinstance(verify, bool):
        return verify
    context = ssl.create_default_context()
    try:
        if os.path.isdir(verify):
            context.load_verify_locations(capath=verify)
        else:
            context.load_verify_locations(cafile=verify)
    except (OSError, ssl.SSLError) as exc:
        raise ReconcilerError(f"{verify}: cannot load the CA bundle ({exc.__class__.__name__}: "
                              f"{getattr(exc, 'strerror', None) or exc})") from None
    return context


def make_http_client(
    credentials: Credentials | Callable[[], Credentials],
    *,
    verify: bool | str = True,
    timeout: float = 30.0,
    max_connections: int = 20,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """An ``httpx.Client`` that authenticates with ``credentials`` (or a provider of them).

    ``verify`` is True, False, or a CA bundle file (or directory) path.
    ``max_connections`` bounds the pool, and so the parallelism apply can use.
    ``transport`` replaces the network (tests); ``verify`` then does nothing.
    Redirects are not followed: HSS never redirects, and following one would
    resend signed headers to another host.
    """
    quiet_third_party_loggers()
    return httpx.Client(
        auth=auth_from_credentials(credentials),
        verify=_ssl_verify(verify),
        timeout=httpx.Timeout(timeout),
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        ),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
        transport=transport,
    )
