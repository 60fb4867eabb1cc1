"""Warnings the registry files alone call for: `plan` puts them in every plan, `validate` prints them.

One list, so the two cannot disagree: a registry file that plans with a
warning validates with the same one. What needs the state or HSS (drift, an
adopted registry's unresolvable password) stays with the plan.

The plain-http rule for an HSS endpoint lives here too (`plain_http_endpoint`):
the engine applies it to every endpoint a run connects to, before any client
exists, and `validate` to each `target.endpoint` a file names, with its place.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from reconciler.config.model import Desired
from reconciler.config.problems import Problem


def plain_http(desired: Desired, only: Collection[str] | None = None) -> list[str]:
    """`protocol: http` registries (of the addresses in `only`, if given): HSS sends the password in clear."""
    return [f"{address}: protocol http sends the registry password to {r.attributes.get('registry_addr')} "
            "unencrypted; use https"
            for address, r in sorted(desired.registries.items())
            if r.attributes.get("protocol") == "http" and (only is None or address in only)]


def config_warnings(desired: Desired, only: Collection[str] | None = None) -> list[str]:
    """Every file-only warning: those found while loading (e.g. over 100 registries in a target),
    then plain http. `only`: a partial plan's touched addresses, for the per-registry ones."""
    return [*desired.warnings, *plain_http(desired, only)]


@dataclass(frozen=True)
class PlainHttp:
    """A plain-http HSS endpoint: the credentials and registry passwords would travel unencrypted.

    Refused outside loopback (127.0.0.0/8, ::1, localhost) unless allowed
    (`--allow-http`); a warning wherever it is allowed.
    """

    shown: str  # http://host:port, never a user name or password from the URL
    loopback: bool
    allowed: bool  # --allow-http

    @property
    def refused(self) -> bool:
        return not (self.loopback or self.allowed)

    @property
    def message(self) -> str:
        if self.refused:
            return (f"HSS endpoint {self.shown} is plain http outside loopback: the credentials and "
                    "registry passwords would cross the network unencrypted. Use https, or pass "
                    "--allow-http if this network is trusted.")
        if self.loopback:
            return (f"HSS endpoint {self.shown} is plain http on loopback: credentials are not encrypted "
                    "(fine for the emulator; use https for a real HSS)")
        return (f"--allow-http: HSS endpoint {self.shown} is plain http; anyone on the path can read the "
                "credentials and registry passwords this run sends")


def is_loopback_host(host: str) -> bool:
    """`localhost` or a loopback address (IPv4-mapped too, brackets or not): where plain http stays on
    this machine. Never a name that merely starts like one (127.0.0.1.example). The one test for HSS
    endpoints, credential services and shared-state stores alike."""
    import ipaddress  # imported when an endpoint is checked, not by every plan that imports this module

    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host.lower() == "localhost"
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def plain_http_endpoint(endpoint: str, allow_http: bool) -> PlainHttp | None:
    """What the plain-http rule says of `endpoint`; None for https (or any other scheme)."""
    from urllib.parse import urlsplit

    parts = urlsplit(endpoint)
    if parts.scheme.lower() != "http":
        return None
    loopback = is_loopback_host(parts.hostname or "")
    return PlainHttp(f"http://{parts.netloc.rpartition('@')[2]}", loopback, allow_http)


def declared_endpoint_http(desired: Desired, allow_http: bool) -> tuple[list[str], list[Problem]]:
    """The plain-http rule on each `target.endpoint` the files name: (warnings, refusals), located.

    What plan does with the endpoint at run time, said by `validate` before any
    run: a refusal there is a problem here. A file's endpoint counts even while
    HSS_ENDPOINT overrides it, since the file is what is committed.
    """
    warnings: list[str] = []
    problems: list[Problem] = []
    for key in sorted(desired.targets):
        named = desired.targets[key].named_endpoint
        verdict = plain_http_endpoint(named[0], allow_http) if named else None
        if named is None or verdict is None:
            continue
        problem = named[1].problem(verdict.message)
        if verdict.refused:
            problems.append(problem)
        else:
            warnings.append(str(problem))
    return warnings, problems
