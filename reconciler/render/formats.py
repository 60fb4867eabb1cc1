"""Renderers registered by name (`--format`): one table per kind of output, each imported only when chosen.

`render_plan_as`, `render_result_as` and `render_managed_as` are the entry
points; an unknown name is an error, never a silent fallback to text. The
apply results' table lives beside its renderers (render.results.RESULT_RENDERERS).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from reconciler.errors import ReconcilerError
from reconciler.plan.model import Plan
from reconciler.render.colors import Palette

if TYPE_CHECKING:
    from reconciler.apply.outputs import UploadCommands
    from reconciler.apply.result import ApplyResult
    from reconciler.apply.waiting import WaitResult
    from reconciler.render.managed import Managed

PlanRenderer = Callable[[Plan, Palette, "Mapping[str, Any] | None", "str | None"], str]
ManagedRenderer = Callable[[list["Managed"], Palette], str]
R = TypeVar("R")


# --- plans: `plan`, `show PLANFILE`, the plan part of `apply` -------------------------------------


def _plan_text(plan: Plan, palette: Palette, meta: Mapping[str, Any] | None, plan_file: str | None) -> str:
    from reconciler.render.text import render_plan

    return render_plan(plan, palette)


def _plan_markdown(plan: Plan, palette: Palette, meta: Mapping[str, Any] | None,
                   plan_file: str | None) -> str:
    from reconciler.render.markdown import render_plan_markdown

    return render_plan_markdown(plan, plan_file=plan_file)


def _plan_json(plan: Plan, palette: Palette, meta: Mapping[str, Any] | None, plan_file: str | None) -> str:
    from reconciler.render.json_ import render_plan_json

    return render_plan_json(plan, meta)


RENDERERS: dict[str, PlanRenderer] = {"text": _plan_text, "markdown": _plan_markdown, "json": _plan_json}
FORMATS = tuple(RENDERERS)


# --- `show` of the managed registries ---------------------------------------------------------------


def _managed_text(view: list[Managed], palette: Palette) -> str:
    from reconciler.render.managed import render_managed_text

    return render_managed_text(view, palette)


def _managed_markdown(view: list[Managed], palette: Palette) -> str:
    from reconciler.render.managed import render_managed_markdown

    return render_managed_markdown(view)


def _managed_json(view: list[Managed], palette: Palette) -> str:
    from reconciler.render.managed import render_managed_json

    return render_managed_json(view)


MANAGED_RENDERERS: dict[str, ManagedRenderer] = {"text": _managed_text, "markdown": _managed_markdown,
                                                 "json": _managed_json}


def _chosen(table: Mapping[str, R], fmt: str, what: str) -> R:
    try:
        return table[fmt]
    except KeyError:
        raise ReconcilerError(f"--format {fmt}: no {what} renderer of that name "
                              f"(known: {', '.join(table)})") from None


def render_plan_as(fmt: str, plan: Plan, palette: Palette, meta: Mapping[str, Any] | None = None,
                   plan_file: str | None = None) -> str:
    return _chosen(RENDERERS, fmt, "plan")(plan, palette, meta, plan_file)


def render_result_as(fmt: str, plan: Plan, result: ApplyResult | None, outputs: UploadCommands | None,
                     waited: WaitResult | None) -> str:
    """The apply's closing document; its table is render.results.RESULT_RENDERERS (json, markdown)."""
    from reconciler.render.results import render_apply_result

    return render_apply_result(fmt, plan, result, outputs, waited)


def render_managed_as(fmt: str, view: list[Managed], palette: Palette) -> str:
    return _chosen(MANAGED_RENDERERS, fmt, "managed registries")(view, palette)
