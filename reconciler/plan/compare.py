"""A reviewed plan against a fresh one: what differs, change by change and field by field.

A saved plan is an expectation, not an instruction (octodns's `--checksum`):
`apply FILE` plans afresh and runs the fresh plan only if it does exactly what
was reviewed. An edited or forged plan file can then never make apply do more,
or other, than a fresh plan would; at most it makes apply refuse.
"""

from __future__ import annotations

from typing import Any

from reconciler.plan.model import Change, MovedFrom, Plan

# Everything a change does, or shows the reviewer; `reason` is prose derived from these.
COMPARED = ("registry_id", "before", "after", "changed", "send_password", "password_version",
            "before_password_version", "moved_from")
MAX_SHOWN = 10


def _key(change: Change) -> tuple[str, str]:
    return change.address, str(change.action)


def _describe(value: Any) -> str:
    return "none" if value is None else str(value) if isinstance(value, MovedFrom) else repr(value)


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
    if reviewed.unsafe_targets != fresh.unsafe_targets:
        found.append("the safety check (--force) differs from the plan file's")
    if len(found) > MAX_SHOWN:
        found = [*found[:MAX_SHOWN], f"... and {len(found) - MAX_SHOWN} more"]
    return found
