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

from reconciler.errors import ReconcilerError


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address: never a name that merely starts like one (127.0.0.1.example)."""
    return _host_kind(host)[0]


def _host_kind(host: str) -> tuple[bool, bool]:
    """(loopback, link-local) for a URL's host."""
    if host.lower() == "localhost":
        return True, False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False, False
    return address.is_loopback, address.is_link_local


def checked_url(value: str, source: str, what: str, *, link_local: bool = False) -> str:
    """``value`` if it is an http(s) URL that may carry credentials; one clear line otherwise."""
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL:
        raise ReconcilerError(f"{source}: {what} is not a valid URL") from None
    if url.scheme not in ("http", "https") or not url.host or url.userinfo or url.query or url.fragment:
        raise ReconcilerError(f"{source}: {what} must be an http(s) URL with a host, "
                              "without user, query or fragment")
    loopback, local = _host_kind(url.host)
    if url.scheme == "http" and not (loopback or (link_local and local)):
        allowed = "loopback or link-local" if link_local else "loopback"
        raise ReconcilerError(f"{source}: {what} {url.scheme}://{url.netloc.decode('ascii', 'replace')} "
                              f"is plain http outside {allowed}: use https")
    return value
