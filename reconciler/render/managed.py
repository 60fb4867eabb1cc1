"""`show`: what the state manages, with the access status HSS reports for each registry."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from reconciler.render.colors import Palette
from reconciler.state.model import State, StateEntry

STATUS_COLOR = {"success": "green", "fail": "red", "accessing": "yellow"}


@dataclass(frozen=True)
class Managed:
    entry: StateEntry
    status: str | None  # None: not refreshed
    fail_reason: str | None = None
    missing: bool = False  # refreshed, and HSS no longer has it


def managed_view(state: State, live: dict[str, dict[str, Any]] | None) -> list[Managed]:
    """Pair each state entry with its live registry (by id), when HSS was read."""
    view = []
    for address in sorted(state.entries):
        entry = state.entries[address]
        item = live.get(str(entry.registry_id)) if live is not None else None
        view.append(Managed(entry, item.get("status") if item else None,
                            item.get("fail_reason") if item else None,
                            missing=live is not None and item is None))
    return view


def _status_text(item: Managed) -> str:
    if item.missing:
        return "missing (no longer in HSS)"
    if item.status is None:
        return "unknown (not refreshed)"
    return item.status + (f", {item.fail_reason}" if item.fail_reason else "")


def render_managed_text(view: list[Managed], palette: Palette) -> str:
    if not view:
        return "The state manages no registries."
    lines = []
    for item in view:
        entry = item.entry
        color = "red" if item.missing else STATUS_COLOR.get(item.status or "", "dim")
        lines.append(palette.paint(f"# {entry.address}", "bold"))
        lines.append(f'registry "{entry.name}" {{')
        attributes = {k: v for k, v in sorted(entry.attributes.items()) if k != "registry_name"}
        fields: dict[str, object] = {"id": entry.registry_id, **attributes}
        if entry.password_version is not None:
            fields["password_version"] = entry.password_version
        width = max(len(k) for k in (*fields, "status"))
        lines += [f"    {k.ljust(width)} = {json.dumps(v, ensure_ascii=False)}" for k, v in fields.items()]
        lines.append(f"    {'status'.ljust(width)} = {palette.paint(_status_text(item), color)}")
        lines += ["}", ""]
    failing = sum(1 for item in view if item.status == "fail")
    lines.append(f"{len(view)} managed registr{'y' if len(view) == 1 else 'ies'}"
                 + (f", {failing} that HSS cannot access." if failing else "."))
    return "\n".join(lines)


def _managed_json(item: Managed) -> dict[str, Any]:
    return {**item.entry.to_json(), "status": item.status, "fail_reason": item.fail_reason,
            "missing": item.missing}


def render_managed_json(view: list[Managed]) -> str:
    return json.dumps({"registries": [_managed_json(item) for item in view]}, indent=2, ensure_ascii=False)


def render_managed_markdown(view: list[Managed]) -> str:
    lines = [f"### hss-reconciler: {len(view)} managed registries", "",
             "| registry | id | type | address | status |", "|---|---|---|---|---|"]
    for item in view:
        entry = item.entry
        cells = [entry.address, str(entry.registry_id), entry.attributes.get("registry_type", ""),
                 entry.attributes.get("registry_addr", ""), _status_text(item)]
        lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return "\n".join(lines)
