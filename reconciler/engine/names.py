"""Turning what a user types (a name or a full address) into one registry address.

Names are short and what people remember; addresses are unique across
targets. A bare name that matches in two targets is refused, never guessed.
A name is matched as a whole, never cut out of an address, so names holding
`/`, spaces or quotes are found like any other.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Protocol

from reconciler.errors import ReconcilerError


class Named(Protocol):
    @property
    def name(self) -> str: ...


def resolve_address(wanted: str, registries: Mapping[str, Named], where: str) -> str:
    """The address of the registry `wanted` names (its address, or its name if unique)."""
    if wanted in registries:
        return wanted
    matches = sorted(address for address, registry in registries.items() if registry.name == wanted)
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ReconcilerError(f"{wanted}: matches {len(matches)} registries in {where}; give the full "
                              f"address, one of: {', '.join(matches)}")
    raise ReconcilerError(f"{wanted}: no such registry in {where}{did_you_mean(wanted, registries)}")


def did_you_mean(wanted: str, registries: Mapping[str, Named]) -> str:
    """' (did you mean ...?)' naming the registry nearest to `wanted`, by name or address; '' if none is near.

    A near name is shown with its address, which is what to type when the
    name is declared in more than one target.
    """
    names: dict[str, list[str]] = {}
    for address, registry in registries.items():
        names.setdefault(registry.name, []).append(address)
    close = difflib.get_close_matches(wanted, sorted({*names, *registries}), n=1)
    if not close:
        return ""
    if close[0] in registries:
        return f" (did you mean '{close[0]}'?)"
    addresses = sorted(names[close[0]])
    if len(addresses) == 1:
        return f" (did you mean '{close[0]}', address '{addresses[0]}'?)"
    return f" (did you mean '{close[0]}'? it names {len(addresses)} registries: {', '.join(addresses)})"


def unknown_selection(wanted: str, registries: Mapping[str, Named]) -> ReconcilerError:
    """The error for a --target that selects nothing: a typo there would plan, and apply, nothing."""
    hint = did_you_mean(wanted, registries) or " (see 'hss-reconciler state list')"
    return ReconcilerError(f"--target {wanted}: no declared or managed registry has this name or "
                           f"address{hint}")
