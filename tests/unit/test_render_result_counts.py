"""The apply's counts read the same in the terminal summary and the markdown comment (adoptions included)."""

from __future__ import annotations

from reconciler.apply.result import ApplyResult
from reconciler.cli.applyview import summary
from reconciler.plan.model import Action, Change, Plan
from reconciler.registry import TargetKey
from reconciler.render.results import render_apply_markdown

TARGET = TargetKey("ap-southeast-1", "p")


def test_markdown_counts_adoptions_as_the_text_summary_does() -> None:
    adopted = Change(action=Action.ADOPT, target=TARGET, name="a")
    created = Change(action=Action.CREATE, target=TARGET, name="b")
    result = ApplyResult(done=[adopted, created])
    assert summary(result) == "Resources: 1 imported, 1 added, 0 changed, 0 destroyed."
    markdown = render_apply_markdown(Plan(changes=[adopted, created]), result, None, None)
    assert "**Apply complete:** 1 imported, 1 added, 0 changed, 0 destroyed, 0 failed." in markdown
