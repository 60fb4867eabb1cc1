"""Renderers picked by name (`--format`), imported only when chosen."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.plan.model import Plan
from reconciler.render.colors import Palette


def render_plan_as(fmt: str, plan: Plan, palette: Palette, meta: Mapping[str, Any] | None = None,
                   plan_file: str | None = None) -> str:
    if fmt == "json":
        from reconciler.render.json_ import render_plan_json

        return render_plan_json(plan, meta)
    if fmt == "markdown":
        from reconciler.render.markdown import render_plan_markdown

        return render_plan_markdown(plan, plan_file=plan_file)
    from reconciler.render.text import render_plan

    return render_plan(plan, palette)
