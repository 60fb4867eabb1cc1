"""A refresh-only plan: what HSS has now, to be recorded in the state; nothing sent to HSS.

After a run killed between HSS accepting an update and the state recording
it, or a change someone made by hand and the team accepts, every plan shows
the same drift again, since no change would ever rewrite those entries.
Terraform's answer is `-refresh-only`; ours is the same: the plan lists the
drift of every managed registry (declared or not), and applying it records
it (engine/applying.py), after the same review as any apply.

The drift is the whole plan, so apply needs nothing else: a field HSS holds
differently takes HSS's value; a registry gone from HSS (`registry_id` ->
None) leaves the state; an id never learned (`registry_id` None -> id) is
recorded. Identity is the planner's: an id HSS has under another name stops
the plan (`diff.live_matcher`).
"""

from __future__ import annotations

from collections.abc import Collection

from reconciler.config.model import Desired
from reconciler.plan.diff import Live, live_matcher, selects
from reconciler.plan.model import Drift, LiveStatus, Plan
from reconciler.registry import changed_fields
from reconciler.state.model import State, StateEntry

ID_FIELD = "registry_id"


def refresh_only_plan(desired: Desired, state: State, live: Live, only: Collection[str] = ()) -> Plan:
    """The drift of every managed registry (those `only` names, when given), as a plan."""
    plan = Plan(refreshed=True, partial=bool(only), refresh_only=True)
    matching = live_matcher(desired, state, live)
    for address in sorted(state.entries):
        entry = state.entries[address]
        if not selects(only, entry.name, address):
            continue
        found = matching(entry)
        if found is None:
            plan.drift.append(Drift(address, ID_FIELD, entry.registry_id, None))
            continue
        if "status" in found:
            plan.statuses.append(LiveStatus(address, found["status"], found.get("fail_reason")))
        if entry.registry_id is None:
            plan.drift.append(Drift(address, ID_FIELD, None, str(found["id"])))
        plan.drift += [Drift(address, name, entry.attributes.get(name), found.get(name))
                       for name in changed_fields(entry.attributes, found)]
    plan.warnings.extend(desired.warnings)
    return plan


def refreshed_entries(plan: Plan, state: State) -> tuple[list[StateEntry], list[str]]:
    """What applying `plan` records: the entries to put, and the addresses to remove."""
    by_address: dict[str, list[Drift]] = {}
    for drift in plan.drift:
        by_address.setdefault(drift.address, []).append(drift)
    put: list[StateEntry] = []
    removed: list[str] = []
    for address, drifts in sorted(by_address.items()):
        entry = state.entries.get(address)
        if entry is None:
            continue
        if any(d.field == ID_FIELD and d.live is None for d in drifts):
            removed.append(address)
            continue
        attributes = dict(entry.attributes)
        registry_id = entry.registry_id
        for drift in drifts:
            if drift.field == ID_FIELD:
                registry_id = str(drift.live)
            elif drift.live is None:
                attributes.pop(drift.field, None)
            else:
                attributes[drift.field] = str(drift.live)
        put.append(StateEntry(entry.target, entry.name, registry_id, attributes, entry.password_version,
                              entry.endpoint))
    return put, removed
