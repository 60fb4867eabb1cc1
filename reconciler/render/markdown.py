"""The plan as a pull-request comment (and GitHub job summary).

What matters to a reviewer comes first and is never hidden: the counts, a
warning when anything is destroyed, the safety flag, drift, registries HSS
cannot access, a partial or unrefreshed plan. The field-level details follow
in a collapsed `<details>` block holding a ```diff fence, which GitHub colours
(a change in place is marked `!` there, where the text output writes `~`).

Two hard rules shape the code:
- GitHub refuses a comment longer than 65,536 characters, so the output is
  built to a budget: whole changes are dropped from the end of the details and
  a note says how many, and how to see them all.
- Registry names, addresses, values and HSS's fail reasons are not ours. They
  must not be able to close the fence or the `<details>` block, start HTML,
  or smuggle in new lines. Inside the fence every line starts with our own
  marker and line breaks in values are escaped; outside it user text goes in
  code spans (fenced with more backticks than it contains) or is
  backslash-escaped.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable
from typing import Any

from reconciler.plan.model import Action, Plan
from reconciler.registry import SECRET_FIELDS
from reconciler.render.view import WIDTH, ChangeView, move_text, plan_view, summary_counts, unsafe_text
from reconciler.secrets import MASK

GITHUB_COMMENT_LIMIT = 65_536
_INLINE_MAX = 300  # characters of foreign text in one line outside the details
_VALUE_MAX = 512  # characters of one value inside the details
_LIST_MAX = 10  # items of one list outside the details


# --- escaping ----------------------------------------------------------------

_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# What can start markup in the middle of a line in GitHub markdown: emphasis,
# code, links and images, HTML and entities, tables, strikethrough, math,
# mentions, emoji and bare-URL autolinks (the colon of "https:").
_MARKUP = frozenset("\\`*_[]<>&!|~$@:")


def one_line(text: str) -> str:
    """Control, format (bidi) and line/paragraph-separator characters as visible escapes.

    A line break is how foreign text would leave a fence or start a block of
    its own; a bidi override is how it would show reviewers something else.
    """
    out = []
    for char in text:
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            out.append(_NAMED_ESCAPES.get(char, f"\\u{ord(char):04x}"))
        else:
            out.append(char)
    return "".join(out)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def code(text: str, limit: int = _INLINE_MAX) -> str:
    """An inline code span that shows `text` literally, whatever backticks or HTML it holds."""
    body = clip(one_line(text), limit)
    fence = "`" * (_longest_backtick_run(body) + 1)
    if body.startswith(("`", " ")) or body.endswith(("`", " ")):
        body = f" {body} "  # CommonMark strips one space each side
    return f"{fence}{body}{fence}"


def prose(text: str, limit: int = _INLINE_MAX) -> str:
    """Foreign text as plain words in a list item: each character that could start markup is escaped."""
    body = clip(one_line(text), limit)
    return "".join(f"\\{c}" if c in _MARKUP else c for c in body)


def _longest_backtick_run(text: str) -> int:
    longest = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    return longest


def comment_length(text: str) -> int:
    """Length as GitHub counts it, conservatively: UTF-16 code units (an emoji counts 2)."""
    return len(text.encode("utf-16-le")) // 2


# --- the details: one diff block per change ----------------------------------


def _shown(value: Any) -> str:
    return clip(one_line(json.dumps(value, ensure_ascii=False)), _VALUE_MAX)


def _value(field: str, value: Any) -> str:
    return MASK if field in SECRET_FIELDS else _shown(value)


# GitHub colours a ```diff line by its first character only: `+` green, `-` red, `!` orange
# (the diff grammar's "changed"); `~`, the text output's mark for a change in place, gets
# no colour. So in markdown a `~` mark is written `!` (issue 19.7); the text output keeps `~`.
# A move's `→` is no diff mark either: it is written `!` too.
_DIFF_MARKS = {"~": "!", "→": "!"}


def _diff_mark(mark: str) -> str:
    return _DIFF_MARKS.get(mark, mark)


def change_block(view: ChangeView) -> str:
    """One change as diff lines; every line starts with our marker, never with foreign text."""
    out = [f"# {one_line(view.headline)}"]
    if view.reason:
        out.append(f"# ({clip(one_line(view.reason), _VALUE_MAX)})")
    if view.status:
        out.append(f"# (HSS access status: {clip(one_line(view.status), _VALUE_MAX)})")
    moved = view.new_address_text(_shown)
    if moved:
        out.append(f"# Warning: {moved}")
    out.append(f"{_diff_mark(view.symbol)} registry {_shown(view.change.name)} {{")
    out += [f"{_diff_mark(line.mark).ljust(3)}   {line.field.ljust(WIDTH)} = {line.text(_shown)}"
            for line in view.lines]
    if view.hidden_note:
        out.append(f"      # {view.hidden_note}")
    out.append("  }")
    return "\n".join(out)


# --- the part above the details -----------------------------------------------


def _plural(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"


def counts_text(plan: Plan) -> str:
    if plan.refresh_only:
        recorded = len({d.address for d in plan.drift})
        return f"refresh-only, {_plural(recorded, 'registry', 'registries')} to record in the state"
    if not plan.has_changes:
        return "no changes"
    return ", ".join(f"{count:,} {what}" for count, what in summary_counts(plan))


def _capped(items: list[str], more: str) -> list[str]:
    shown = items[:_LIST_MAX]
    if len(items) > len(shown):
        shown.append(f"… and {len(items) - len(shown):,} more {more}")
    return shown


def _alert(kind: str, lines: Iterable[str]) -> str:
    return "\n".join([f"> [!{kind}]", *(f"> {line}" for line in lines)])


def _destroy_warning(plan: Plan) -> str | None:
    destroyed = [c for c in plan.changes if c.action.destroys]
    if not destroyed:
        return None
    names = [code(c.address) + (" (replaced: deleted, then created again)"
                                if c.action is Action.REPLACE else "") for c in destroyed]
    shown = _capped(names, "(see the details)")
    return _alert("WARNING", [f"This plan **destroys {_plural(len(destroyed), 'registry', 'registries')}** "
                              "in HSS:", *(f"- {n}" for n in shown)])


def _move_note(plan: Plan) -> str | None:
    """Moves above the details: each deletes a registry, so a reviewer sees where each one goes."""
    moves = [c for c in plan.changes if c.moved_from is not None]
    if not moves:
        return None
    items = [f"{code(str(c.moved_from))} → {code(c.address)} ({prose(move_text(c))})" for c in moves]
    kind = "NOTE" if all(c.creates_first for c in moves) else "WARNING"
    return _alert(kind, [f"This plan **moves {_plural(len(moves), 'registry', 'registries')}** (same "
                         "registry_addr, new name or target):", *(f"- {i}" for i in _capped(items, "moves"))])


def _new_address_warning(views: list[ChangeView]) -> str | None:
    """Passwords sent to a new registry_addr, above the details: a reviewer must not have to expand them."""
    items = [f"{code(v.change.address)}: {v.new_address_text(code)}" for v in views if v.new_address]
    if not items:
        return None
    count = _plural(len(items), "registry password", "registry passwords")
    return _alert("WARNING", [f"This plan **sends {count} to a new address**; check each one:",
                              *(f"- {item}" for item in _capped(items, "(see the details)"))])


def _top(plan: Plan, views: list[ChangeView]) -> list[str]:
    blocks = [f"### hss-reconciler plan: {counts_text(plan)}"]
    warning = _destroy_warning(plan)
    if warning:
        blocks.append(warning)
    moves = _move_note(plan)
    if moves:
        blocks.append(moves)
    moved = _new_address_warning(views)
    if moved:
        blocks.append(moved)
    if plan.unsafe:
        reasons = [prose(unsafe_text(u)) for u in plan.unsafe_targets]
        blocks.append(_alert("CAUTION", ["**Flagged as unsafe**: `apply` refuses this plan unless `--force`.",
                                         *(f"- {r}" for r in _capped(reasons, "reasons"))]))
    if plan.partial:
        blocks.append(_alert("NOTE", ["Resource targeting is in effect (`--target`): this plan may be "
                                      "partial; registries not targeted were not planned."]))
    if not plan.refreshed:
        blocks.append(_alert("NOTE", ["Planned from the state file only (`--refresh=false`): HSS was not "
                                      "read, so drift and access status are unknown."]))
    if plan.drift:
        items = [f"- {code(d.address)}: {code(d.field)} {code(_value(d.field, d.recorded))} → "
                 f"{code(_value(d.field, d.live))}" for d in plan.drift]
        blocks.append("\n".join([f"**Changed outside hss-reconciler** since the last apply "
                                 f"({_plural(len(plan.drift), 'field', 'fields')}):", "",
                                 *_capped(items, "fields")]))
    failing = [s for s in plan.statuses if s.status == "fail"]
    if failing:
        items = [f"- {code(s.address)}: status `fail`, {code(s.fail_reason or 'no reason given')}"
                 for s in failing]
        blocks.append("\n".join([f"**HSS cannot access {_plural(len(failing), 'registry', 'registries')}:**",
                                 "", *_capped(items, "registries")]))
    if plan.warnings:
        blocks.append("\n".join(["**Warnings:**", "",
                                 *_capped([f"- {prose(w)}" for w in plan.warnings], "warnings")]))
    if plan.unmanaged:
        verb = "is" if plan.unmanaged == 1 else "are"
        blocks.append(f"{_plural(plan.unmanaged, 'registry', 'registries')} in HSS {verb} not managed "
                      "by hss-reconciler (left untouched).")
    if not plan.has_changes:
        blocks.append("Your registries match the configuration.")
    return blocks


# --- assembly within the budget ----------------------------------------------


def _details(blocks: list[str], total: int, fence: str) -> str:
    shown = len(blocks)
    summary = (f"Show {_plural(total, 'change', 'changes')}" if shown == total
               else f"Show the first {shown:,} of {total:,} changes")
    body = "\n\n".join(blocks)
    return f"<details><summary>{summary}</summary>\n\n{fence}diff\n{body}\n{fence}\n\n</details>"


def _truncation_note(omitted: int, total: int, plan_file: str | None) -> str:
    how = (f"run {code(f'hss-reconciler show {plan_file}')}" if plan_file
           else "save the plan with `hss-reconciler plan -out plan.json` and run "
                "`hss-reconciler show plan.json`")
    return (f"> [!NOTE]\n> **{omitted:,} of {total:,} changes are not shown**: the comment would pass "
            f"GitHub's {GITHUB_COMMENT_LIMIT:,}-character limit. To see every change, {how}.")


def render_plan_markdown(plan: Plan, *, plan_file: str | None = None,
                         limit: int = GITHUB_COMMENT_LIMIT) -> str:
    """The plan as GitHub-flavoured markdown, at most `limit` characters (UTF-16 units).

    `plan_file` names the saved plan in the truncation note; callers that add
    their own text after the plan lower `limit` to leave room for it.
    """
    views = plan_view(plan)
    top = "\n\n".join(_top(plan, views))
    if not plan.changes:
        return top
    blocks = [change_block(view) for view in views]
    fence = "`" * max(3, max(_longest_backtick_run(b) for b in blocks) + 1)
    total = len(blocks)
    full = f"{top}\n\n{_details(blocks, total, fence)}"
    if comment_length(full) <= limit:
        return full
    # Reserve room for the frame with the widest numbers it can show, then fill with whole changes.
    frame = f"{top}\n\n{_details([], total, fence)}\n\n{_truncation_note(total, total, plan_file)}"
    budget = limit - comment_length(frame) - len(f"Show the first {total:,}")
    shown = 0
    for block in blocks:
        cost = comment_length(block) + 2
        if cost > budget:
            break
        budget -= cost
        shown += 1
    note = _truncation_note(total - shown, total, plan_file)
    if shown == 0:
        text = f"{top}\n\n{note}"
    else:
        text = f"{top}\n\n{_details(blocks[:shown], total, fence)}\n\n{note}"
    if comment_length(text) > limit:  # only when the summary alone is too long for `limit`
        text = f"### hss-reconciler plan: {counts_text(plan)}\n\n{note}"
    return text
