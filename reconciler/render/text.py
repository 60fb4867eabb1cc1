"""The plan as a terminal shows it, shaped like Terraform's so reviewers read it at a glance."""

from __future__ import annotations

import json
from typing import Any

from reconciler.plan.model import Plan
from reconciler.render.colors import Palette
from reconciler.render.view import WIDTH, ChangeView, Role, plan_view, summary_counts, unsafe_text

COLOR = {Role.ADD: "green", Role.CHANGE: "yellow", Role.DESTROY: "red", Role.READ: "cyan",
         Role.NEUTRAL: "dim"}


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def render_view(view: ChangeView, palette: Palette) -> list[str]:
    """One change as Terraform prints it: headline comments, then the block of attribute lines."""
    out = [palette.paint(f"  # {view.headline}", "bold")]
    if view.reason:
        out.append(f"  # ({view.reason})")
    if view.status:
        out.append(f"  # (HSS access status: {view.status})")
    moved = view.new_address_text(_value)
    if moved:
        out.append(palette.paint(f"  # Warning: {moved}", "red"))
    out.append(f"  {palette.paint(view.symbol, COLOR[view.role])} registry {_value(view.change.name)} {{")
    for line in view.lines:
        mark = palette.paint(line.mark, COLOR[line.role]) if line.mark else " "
        text = line.text(_value, lambda note: palette.paint(note, "red"))
        out.append(f"      {mark} {line.field.ljust(WIDTH)} = {text}")
    if view.hidden_note:
        out.append(palette.paint(f"        # {view.hidden_note}", "dim"))
    out.append("    }")
    return out


REFRESH_ONLY_NOTE = ("This is a refresh-only plan: nothing in HSS will change. 'hss-reconciler apply "
                     "--refresh-only' records these values in the state, so they stop being reported.")


def summary_line(plan: Plan) -> str:
    if plan.refresh_only:
        recorded = len({d.address for d in plan.drift})
        return (f"Refresh-only plan: {recorded} registr{'y' if recorded == 1 else 'ies'} to record in the "
                "state, nothing to change in HSS." if recorded
                else "No changes. The state records what HSS has.")
    if not plan.has_changes:
        return "No changes. Your registries match the configuration."
    return f"Plan: {', '.join(f'{count} {what}' for count, what in summary_counts(plan))}."


def render_plan(plan: Plan, palette: Palette) -> str:
    out: list[str] = []
    for warning in plan.warnings:
        out += [palette.paint(f"Warning: {warning}", "yellow"), ""]
    if plan.partial:
        out += [palette.paint("Warning: resource targeting is in effect; this plan may be partial.",
                              "yellow"), ""]
    if plan.drift:
        out.append(palette.paint("Changed outside of hss-reconciler since the last apply:", "bold"))
        for d in plan.drift:
            if d.field == "registry_id" and d.live is None:  # a refresh-only plan's forgotten registry
                out.append(f"  - {d.address}: no longer exists in HSS (leaves the state)")
            else:
                out.append(f"  ~ {d.address}: {d.field} {json.dumps(d.recorded)} -> {json.dumps(d.live)}")
        out.append("")
        if plan.refresh_only:
            out += [REFRESH_ONLY_NOTE, ""]
    failing = [s for s in plan.statuses if s.status == "fail"]
    for s in failing:
        out.append(palette.paint(f"Warning: {s.address}: HSS cannot access this registry "
                                 f"(status fail, {s.fail_reason or 'no reason given'})", "yellow"))
    if failing:
        out.append("")
    for unsafe in plan.unsafe_targets:
        out.append(palette.paint(f"Unsafe plan: {unsafe_text(unsafe)}; apply needs --force", "red"))
    if plan.unsafe:
        out.append("")
    if plan.changes:
        out.append("hss-reconciler will perform the following actions:")
        out.append("")
        for view in plan_view(plan):
            out += render_view(view, palette)
            out.append("")
    if plan.unmanaged:
        out.append(f"{plan.unmanaged} registr{'y' if plan.unmanaged == 1 else 'ies'} in HSS "
                   "not managed by hss-reconciler (left untouched).")
    if not plan.refreshed:
        out.append("Note: planned from the state file only (--refresh=false); HSS was not read.")
    out.append(palette.paint(summary_line(plan), "bold"))
    return "\n".join(out)
