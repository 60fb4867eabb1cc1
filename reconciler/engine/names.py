"""Turning what a user types (a name or a full address) into one registry address.

Names are short and what people remember; addresses are unique across
targets. A bare name that matches in two targets is refused, never guessed.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from reconciler.errors import ReconcilerError


def resolve_address(wanted: str, addresses: Iterable[str], where: str) -> str:
    known = sorted(addresses)
    if wanted in known:
        return wanted
    matches = [a for a in known if a.rsplit("/", 1)[-1] == wanted]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ReconcilerError(f"{wanted}: matches {len(matches)} registries in {where}; give the full "
                              f"address, one of: {', '.join(matches)}")
    names = sorted({a.rsplit("/", 1)[-1] for a in known})
    close = difflib.get_close_matches(wanted, names, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise ReconcilerError(f"{wanted}: no such registry in {where}{hint}")
