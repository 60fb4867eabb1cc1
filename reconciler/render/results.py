"""What an apply ends with: access statuses, upload-command outputs, the result document."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from reconciler.apply.outputs import UploadCommands
from reconciler.apply.result import ApplyResult
from reconciler.apply.waiting import WaitResult
from reconciler.errors import ReconcilerError
from reconciler.plan.model import Change, Plan
from reconciler.registry import UPLOAD_COMMAND_FIELDS
from reconciler.render.colors import Palette
from reconciler.render.managed import STATUS_COLOR


def render_wait(waited: WaitResult, palette: Palette) -> str:
    lines = []
    for address, status in sorted(waited.statuses.items()):
        reason = f" ({status.fail_reason})" if status.fail_reason else ""
        painted = palette.paint(status.status, STATUS_COLOR.get(status.status, "bold"))
        lines.append(f"{address}: HSS access {painted}{reason}")
    lines += [f"{address}: still accessing when --wait-timeout ran out" for address in waited.timed_out]
    lines += [f"{address}: no longer in HSS" for address in waited.missing]
    return "\n".join(lines)


def render_outputs(outputs: UploadCommands) -> str:
    """Terraform's `Outputs:` block: one entry per `Other` registry."""
    lines = ["Outputs:", ""]
    for address, commands in sorted(outputs.commands.items()):
        lines.append(f'upload_commands["{address}"] = {{')
        width = max(len(f) for f in UPLOAD_COMMAND_FIELDS)
        lines += [f"  {name.ljust(width)} = {json.dumps(commands[name], ensure_ascii=False)}"
                  for name in UPLOAD_COMMAND_FIELDS if name in commands]
        lines.append("}")
    return "\n".join(lines)


def applied_counts(result: ApplyResult) -> str:
    """What an apply did, as "1 imported, 1 moved, 2 added, 0 changed, 0 destroyed" (ours only when not 0).

    The one wording of what an apply did, shared by the text summary and the markdown comment.
    """
    imported = f"{result.imported} imported, " if result.imported else ""
    moved = f"{result.moved} moved, " if result.moved else ""
    return f"{imported}{moved}{result.added} added, {result.changed} changed, {result.destroyed} destroyed"


def _failures(result: ApplyResult) -> list[tuple[Change, str]]:
    """The changes that failed, and those HSS accepted that the state file could not record.

    The counts (added, changed, ...) include the second kind, since HSS has them (issue 19.4).
    """
    where = f"recorded only in {result.saved_to}" if result.saved_to else "saved nowhere"
    unrecorded = f"HSS accepted it, but the state file could not be written; {where}"
    return [*result.failed, *((change, unrecorded) for change, _ in result.unrecorded)]


def _result_json(result: ApplyResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {
        "added": result.added, "changed": result.changed, "destroyed": result.destroyed,
        "imported": result.imported, "moved": result.moved, "stopped": result.stopped,
        "done": [c.address for c in result.done],
        "failed": [{"address": c.address, "error": message} for c, message in _failures(result)],
    }


def _wait_json(waited: WaitResult | None) -> dict[str, Any] | None:
    if waited is None:
        return None
    return {
        "statuses": {a: {"status": s.status, "fail_reason": s.fail_reason}
                     for a, s in sorted(waited.statuses.items())},
        "timed_out": waited.timed_out, "missing": waited.missing, "ok": waited.ok,
    }


def render_apply_json(plan: Plan, result: ApplyResult | None, outputs: UploadCommands | None,
                      waited: WaitResult | None) -> str:
    """One document for machines: the plan document, the result, the outputs and the wait."""
    from reconciler.plan.document import plan_to_document

    document = {"plan": plan_to_document(plan), "result": _result_json(result),
                "outputs": {"upload_commands": outputs.commands if outputs else {}},
                "wait": _wait_json(waited)}
    return json.dumps(document, indent=2, ensure_ascii=False)


def render_apply_markdown(plan: Plan, result: ApplyResult | None, outputs: UploadCommands | None,
                          waited: WaitResult | None) -> str:
    """A pull-request comment: the plan, then how the apply went and the upload commands."""
    from reconciler.render.markdown import GITHUB_COMMENT_LIMIT, render_plan_markdown

    parts: list[str] = []
    if result is not None:
        failures = _failures(result)
        status = "failed" if failures else "complete"
        parts.append(f"**Apply {status}:** {applied_counts(result)}, {len(failures)} failed.")
    for address, item in sorted((outputs.commands if outputs else {}).items()):
        body = "\n".join(f"{k}: {v}" for k, v in item.items()).replace("```", "'''")
        parts.append(f"Upload commands for `{address}`:\n\n```\n{body}\n```")
    tail = "\n\n".join(parts)
    # The whole comment must fit GitHub's limit, so the plan gets what the tail leaves.
    head = render_plan_markdown(plan, limit=GITHUB_COMMENT_LIMIT - len(tail) - 2)
    return f"{head}\n\n{tail}" if tail else head


ResultRenderer = Callable[[Plan, "ApplyResult | None", "UploadCommands | None", "WaitResult | None"], str]
# Text has no result document: the CLI prints the wait statuses, the outcome and the outputs in turn.
RESULT_RENDERERS: dict[str, ResultRenderer] = {"json": render_apply_json, "markdown": render_apply_markdown}


def render_apply_result(fmt: str, plan: Plan, result: ApplyResult | None, outputs: UploadCommands | None,
                        waited: WaitResult | None) -> str:
    """The one document an apply ends with, in the format named (render.formats.render_result_as)."""
    if fmt not in RESULT_RENDERERS:
        raise ReconcilerError(f"--format {fmt}: no apply result renderer of that name "
                              f"(known: {', '.join(RESULT_RENDERERS)})")
    return RESULT_RENDERERS[fmt](plan, result, outputs, waited)
