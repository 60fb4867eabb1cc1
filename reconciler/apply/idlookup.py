"""Finding registries in HSS by name or id: the ids of new registries, and the checks around a call.

AddRegistry returns no id. One ListRegistry walk of a target shows every registry in it, so the ids of
all the registries a run added there are learned together, once the target's
last add has returned: one listing per target, not one per add. A registry
that was accepted but is not listed yet (HSS lists new entries after a short
delay) is looked for again in a later listing, a few times with a growing
pause, before it is given up on; the state then holds it without an id and the
next plan adopts it by name.

The rest look one registry up right before a call touches it (`by_id`,
`still_ours`, `named`, `find_id`): a query, never a whole walk of the target.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from typing import Any

from reconciler.errors import ApiError, ReconcilerError
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


def by_id(client: HssClient, registry_id: str) -> dict[str, Any] | None:
    """The registry HSS has under exactly `registry_id`, or None (the query may match more)."""
    listed = client.list_registries(registry_id=registry_id)
    return next((item for item in listed if str(item.get("id")) == registry_id), None)


def still_ours(client: HssClient, name: str, registry_id: str, *, gone_ok: bool) -> str | None:
    """The recorded id, if HSS still has it under the recorded `name`; None if it is gone (`gone_ok`).

    A plan made without a refresh never saw HSS: a state edited or merged by hand
    could send this update or delete to someone else's registry. So the id is
    looked up, in this target, right before anything touches it.
    """
    found = by_id(client, registry_id)
    if found is None:
        if gone_ok:
            return None  # already gone: the goal of a delete is met
        raise ReconcilerError(f"HSS has no registry with the recorded id {registry_id} any more; "
                              "run plan (with refresh) again")
    listed_name = found.get("registry_name")
    if listed_name != name:
        raise ReconcilerError(f"the state records id {registry_id}, but in HSS that id is the registry "
                              f"{listed_name!r}, not {name!r}; it was left untouched. Fix the state "
                              f"('hss-reconciler state rm {name}') and plan again.")
    return registry_id


def named(client: HssClient, name: str) -> dict[str, Any] | None:
    """The registry named exactly `name`, or None if HSS has none."""
    found = client.find_registries(name)
    return found[0] if found else None


def find_id(client: HssClient, name: str) -> str | None:
    """The id of the registry named exactly `name`, or None if HSS has none."""
    found = named(client, name)
    return str(found["id"]) if found else None


def found_after_refusal(client: HssClient, name: str, refusal: ApiError) -> dict[str, Any] | None:
    """After a 400 on add: the same-named registry HSS has, if there is one (else None)."""
    if refusal.status != 400:  # throttled, auth, unreachable: not about this name
        return None
    try:
        return named(client, name)
    except ApiError:
        return None  # the refusal is the better message
