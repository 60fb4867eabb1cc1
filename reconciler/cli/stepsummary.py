"""GitHub Actions' job summary: `plan` appends its markdown when the runner asks for it."""

from __future__ import annotations

import os

from reconciler.cli.output import Output
from reconciler.plan.model import Plan
from reconciler.secrets import REDACTOR

STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


def append_step_summary(plan: Plan, out: Output) -> None:
    path = os.environ.get(STEP_SUMMARY_ENV)
    if not path:
        return
    from reconciler.render.markdown import render_plan_markdown

    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(REDACTOR.redact(render_plan_markdown(plan)) + "\n")
    except OSError as exc:
        out.warn(f"{STEP_SUMMARY_ENV}: cannot append the plan to {path}: {exc.strerror}")
