"""Issue 19.11: fmt keeps an unused anchor, its comment's column, and comments after `...`."""

from __future__ import annotations

import yaml

from reconciler.fmt import format_text
from tests.unit.test_fmt import QUICK_SECRET, QUICKSTART, _quickstart_with

ANCHORED = "registry_password: &pw {env: PW}  # c"


def test_an_anchor_no_alias_uses_is_kept() -> None:
    # ruamel writes an anchor on a mapping only when an alias refers to it
    text = _quickstart_with(QUICK_SECRET, "registry_password: &pw {env: PW}").replace(
        "target:", "target: &where", 1)
    assert format_text(text, "f") == text


def test_a_comment_beside_an_unused_anchored_reference_keeps_its_column() -> None:
    text = _quickstart_with(QUICK_SECRET, ANCHORED)
    assert format_text(text, "f") == text
    # list items at column 0: fmt indents them by two, and the comment moves with its value
    flush = text.replace("\n  - ", "\n- ").replace("\n    ", "\n  ")
    assert f"  {ANCHORED}" in flush.splitlines()
    assert format_text(flush, "f") == text


def test_comments_after_the_document_end_marker_are_kept() -> None:
    text = QUICKSTART.read_text() + "... # end of the registries\n# reviewed by the platform team\n"
    result = format_text(text, "f")
    assert result == text
    untidy = text.replace("\n...", "\n\n\n...").replace("registries\n", "registries   \n\n")
    assert format_text(untidy, "f") == text  # no blank lines, no trailing spaces
    assert yaml.safe_load(result) == yaml.safe_load(QUICKSTART.read_text())
    # a bare marker is still dropped, as before
    assert format_text(QUICKSTART.read_text() + "...\n", "f") == QUICKSTART.read_text()
