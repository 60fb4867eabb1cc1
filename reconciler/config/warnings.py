"""Warnings the registry files alone call for: `plan` puts them in every plan, `validate` prints them.

One list, so the two cannot disagree: a registry file that plans with a
warning validates with the same one. What needs the state or HSS (drift, an
adopted registry's unresolvable password) stays with the plan.
"""

from __future__ import annotations

from collections.abc import Collection

from reconciler.config.model import Desired


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
