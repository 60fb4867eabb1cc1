"""The plan as a terminal shows it, shaped like Terraform's so reviewers read it at a glance."""

from __future__ import annotations

import json
from typing import Any

from reconciler.config.model import FILE_FIELDS
from reconciler.plan.diff import REPLACE_ON
from reconciler.plan.model import Action, Change, Plan
from reconciler.render.colors import Palette
from reconciler.secrets import MASK

SYMBOL = {
    Action.CREATE: ("+", "green"),
    Action.UPDATE: ("~", "yellow"),
    Action.REPLACE: ("-/+", "red"),
    Action.DELETE: ("-", "red"),
    Action.ADOPT: ("<=", "cyan"),
    Action.FORGET: ("~", "dim"),
}
HEADLINE = {
    Action.CREATE: "will be created",
    Action.UPDATE: "will be updated in-place",
    Action.REPLACE: "must be replaced",
    Action.DELETE: "will be destroyed",
    Action.ADOPT: "will be adopted (it already exists in HSS)",
    Action.FORGET: "will be removed from the state only (left in HSS)",
}
ORDER = FILE_FIELDS
WIDTH = max(len(f) for f in ORDER)


def _value(field: str, value: Any) -> str:
    if field == "registry_password":
        return MASK
    return json.dumps(value, ensure_ascii=False)


def _line(mark: str, field: str, text: str, palette: Palette, color: str) -> str:
    return f"      {palette.paint(mark, color) if mark.strip() else mark} {field.ljust(WIDTH)} = {text}"


def _changed_text(change: Change, field: str, old: Any, new: Any, palette: Palette) -> str:
    if field == "registry_password":
        versions = f"{change.before_password_version} -> {change.password_version}"
        return f"{MASK} (re-sent: password_version {versions})"
    text = f"{_value(field, old) if old is not None else '(none)'} -> {_value(field, new)}"
    if change.action is Action.REPLACE and field in REPLACE_ON:
        text += palette.paint("  # forces replacement", "red")
    return text


def _body(change: Change, palette: Palette) -> list[str]:
    before, after = change.before or {}, change.after or {}
    lines: list[str] = []
    if change.registry_id and change.action is not Action.CREATE:
        lines.append(_line(" ", "id", json.dumps(change.registry_id), palette, "dim"))
    hidden = 0
    for field in ORDER:
        old, new = before.get(field), after.get(field)
        if change.action in (Action.CREATE,) and new is not None:
            lines.append(_line("+", field, _value(field, new), palette, "green"))
        elif change.action in (Action.DELETE, Action.FORGET) and old is not None:
            lines.append(_line("-", field, _value(field, old), palette, "red"))
        elif field in change.changed:
            lines.append(_line("~", field, _changed_text(change, field, old, new, palette),
                               palette, "yellow"))
        elif new is not None or old is not None:
            hidden += 1
    if change.action is Action.REPLACE or (change.action is Action.UPDATE and change.send_password
                                            and "registry_password" not in change.changed):
        lines.append(_line("~", "registry_password", f"{MASK} (re-sent with the update)", palette, "yellow"))
    if hidden and change.action not in (Action.CREATE, Action.DELETE, Action.FORGET):
        lines.append(palette.paint(f"        # ({hidden} unchanged attributes hidden)", "dim"))
    return lines


def render_change(change: Change, palette: Palette, status: str | None = None) -> list[str]:
    symbol, color = SYMBOL[change.action]
    headline = f"  # {change.address} {HEADLINE[change.action]}"
    out = [palette.paint(headline, "bold")]
    if change.reason:
        out.append(f"  # ({change.reason})")
    if status:
        out.append(f"  # (HSS access status: {status})")
    out.append(f"  {palette.paint(symbol, color)} registry \"{change.name}\" {{")
    out.extend(_body(change, palette))
    out.append("    }")
    return out


def summary_line(plan: Plan) -> str:
    if not plan.has_changes:
        return "No changes. Your registries match the configuration."
    parts = []
    if plan.to_import:
        parts.append(f"{plan.to_import} to import")
    parts += [f"{plan.to_add} to add", f"{plan.to_change} to change", f"{plan.to_destroy} to destroy"]
    if plan.to_forget:
        parts.append(f"{plan.to_forget} to forget")
    return f"Plan: {', '.join(parts)}."


def render_plan(plan: Plan, palette: Palette) -> str:
    out: list[str] = []
    statuses = {s.address: s for s in plan.statuses}
    for warning in plan.warnings:
        out += [palette.paint(f"Warning: {warning}", "yellow"), ""]
    if plan.partial:
        out += [palette.paint("Warning: resource targeting is in effect; this plan may be partial.",
                              "yellow"), ""]
    if plan.drift:
        out.append(palette.paint("Changed outside of hss-reconciler since the last apply:", "bold"))
        for d in plan.drift:
            out.append(f"  ~ {d.address}: {d.field} {json.dumps(d.recorded)} -> {json.dumps(d.live)}")
        out.append("")
    failing = [s for s in plan.statuses if s.status == "fail"]
    for s in failing:
        out.append(palette.paint(f"Warning: {s.address}: HSS cannot access this registry "
                                 f"(status fail, {s.fail_reason or 'no reason given'})", "yellow"))
    if failing:
        out.append("")
    for reason in plan.unsafe_reasons:
        out.append(palette.paint(f"Unsafe plan: {reason}", "red"))
    if plan.unsafe_reasons:
        out.append("")
    if plan.has_changes:
        out.append("hss-reconciler will perform the following actions:")
        out.append("")
        for change in plan.changes:
            live = statuses.get(change.address)
            status = f"{live.status}{f', {live.fail_reason}' if live.fail_reason else ''}" if live else None
            out += render_change(change, palette, status)
            out.append("")
    if plan.unmanaged:
        out.append(f"{plan.unmanaged} registr{'y' if plan.unmanaged == 1 else 'ies'} in HSS "
                   "not managed by hss-reconciler (left untouched).")
    if not plan.refreshed:
        out.append("Note: planned from the state file only (--refresh=false); HSS was not read.")
    out.append(palette.paint(summary_line(plan), "bold"))
    return "\n".join(out)
