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
    names = sorted({registry.name for registry in registries.values()})
    close = difflib.get_close_matches(wanted, names, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise ReconcilerError(f"{wanted}: no such registry in {where}{hint}")
