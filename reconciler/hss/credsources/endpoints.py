"""Which URLs a credential source may call: https anywhere, plain http only on this machine.

A credential service is sent an ID token or an authorization token, and
answers secret keys: over plain http anyone on the path reads both. Loopback
(and, for the ECS metadata service and the pod identity agent, link-local
addresses, which never leave the host's network segment) is the exception the
emulator and the real services need.
"""

from __future__ import annotations

import ipaddress

import httpx

from reconciler.config.warnings import is_loopback_host
from reconciler.errors import ReconcilerError


def _is_link_local(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_link_local
    except ValueError:
        return False


def checked_url(value: str, source: str, what: str, *, link_local: bool = False) -> str:
    """``value`` if it is an http(s) URL that may carry credentials; one clear line otherwise."""
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL:
        raise ReconcilerError(f"{source}: {what} is not a valid URL") from None
    if url.scheme not in ("http", "https") or not url.host or url.userinfo or url.query or url.fragment:
        raise ReconcilerError(f"{source}: {what} must be an http(s) URL with a host, "
                              "without user, query or fragment")
    if url.scheme == "http" and not (is_loopback_host(url.host) or (link_local and _is_link_local(url.host))):
        allowed = "loopback or link-local" if link_local else "loopback"
        raise ReconcilerError(f"{source}: {what} {url.scheme}://{url.netloc.decode('ascii', 'replace')} "
                              f"is plain http outside {allowed}: use https")
    return value
