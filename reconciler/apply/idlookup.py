"""Learning the ids HSS gave new registries (AddRegistry returns none).

One ListRegistry walk of a target shows every registry in it, so the ids of
all the registries a run added there are learned together, once the target's
last add has returned: one listing per target, not one per add. A registry
that was accepted but is not listed yet (HSS lists new entries after a short
delay) is looked for again in a later listing, a few times with a growing
pause, before it is given up on; the state then holds it without an id and the
next plan adopts it by name.
"""

from __future__ import annotations

import time
from collections.abc import Collection

from reconciler.hss.client import HssClient

LOOKUP_ATTEMPTS = 4
LOOKUP_BACKOFF_SECONDS = 0.2


def learn_ids(client: HssClient, names: Collection[str]) -> dict[str, str]:
    """Id by registry name for those of `names` that HSS lists; raises ApiError if listing fails."""
    wanted = set(names)
    found: dict[str, str] = {}
    for attempt in range(LOOKUP_ATTEMPTS):
        if attempt:
            time.sleep(LOOKUP_BACKOFF_SECONDS * attempt)
        for registry in client.list_registries():
            name = str(registry["registry_name"])
            if name in wanted:
                found[name] = str(registry["id"])
        if len(found) == len(wanted):
            break
    return found
