"""A reviewed plan against a fresh one: what differs, change by change and field by field.

A saved plan is an expectation, not an instruction (octodns's `--checksum`):
`apply FILE` plans afresh and runs the fresh plan only if it does exactly what
was reviewed. An edited or forged plan file can then never make apply do more,
or other, than a fresh plan would; at most it makes apply refuse.

A refresh-only plan changes nothing in HSS: what it does is record its drift
in the state, so its drift is compared, entry by entry, where another plan's
(shown, never acted on) is not.
"""

from __future__ import annotations

from typing import Any

from reconciler.plan.model import Change, Drift, MovedFrom, Plan

# Everything a change does, or shows the reviewer; `reason` is prose derived from these.
COMPARED = ("registry_id", "before", "after", "changed", "send_password", "password_version",
            "before_password_version", "moved_from")
MAX_SHOWN = 10


def _key(change: Change) -> tuple[str, str]:
    return change.address, str(change.action)


def _describe(value: Any) -> str:
    return "none" if value is None else str(value) if isinstance(value, MovedFrom) else repr(value)


def _drift_differences(reviewed: list[Drift], fresh: list[Drift]) -> list[str]:
    """What a refresh-only plan would record that the reviewed one would not, or otherwise."""
    old = {(d.address, d.field): d for d in reviewed}
    new = {(d.address, d.field): d for d in fresh}
    found = ["the plan file lists a drift twice"] if len(old) != len(reviewed) else []
    for address, name in sorted(old.keys() - new.keys()):
        found.append(f"{address}: the plan file would record {name} "
                     f"({_describe(old[address, name].live)}); a fresh plan does not")
    for address, name in sorted(new.keys() - old.keys()):
        found.append(f"{address}: a fresh plan would record {name} "
                     f"({_describe(new[address, name].live)}); the plan file does not")
    for key in sorted(old.keys() & new.keys()):
        was, now = old[key], new[key]
        if (was.recorded, was.live) != (now.recorded, now.live):
            found.append(f"{key[0]}: {key[1]} was {_describe(was.recorded)} -> {_describe(was.live)} when "
                         f"reviewed, {_describe(now.recorded)} -> {_describe(now.live)} now")
    return found


def differences(reviewed: Plan, fresh: Plan) -> list[str]:
    """One line per difference (at most MAX_SHOWN, then a count); empty when the plans agree."""
    found: list[str] = []
    old = {_key(c): c for c in reviewed.changes}
    new = {_key(c): c for c in fresh.changes}
    if len(old) != len(reviewed.changes):
        found.append("the plan file lists a change twice")
    for key in sorted(old.keys() - new.keys()):
        found.append(f"{key[0]}: the plan file would {key[1]} it; a fresh plan does not")
    for key in sorted(new.keys() - old.keys()):
        found.append(f"{key[0]}: a fresh plan would {key[1]} it; the plan file does not")
    for key in sorted(old.keys() & new.keys()):
        for field in COMPARED:
            was, now = getattr(old[key], field), getattr(new[key], field)
            if was != now:
                found.append(f"{key[0]}: {key[1]} {field} was {_describe(was)} when reviewed, "
                             f"{_describe(now)} now")
    if reviewed.refresh_only != fresh.refresh_only:
        found.append("the plan file is a refresh-only plan and a fresh plan is not, or the reverse")
    elif reviewed.refresh_only:
        found += _drift_differences(reviewed.drift, fresh.drift)
    if reviewed.unsafe_targets != fresh.unsafe_targets:
        found.append("the safety check (--force) differs from the plan file's")
    if len(found) > MAX_SHOWN:
        found = [*found[:MAX_SHOWN], f"... and {len(found) - MAX_SHOWN} more"]
    return found
