"""`fmt`'s comment finder: what counts as a comment, and where it is."""

from __future__ import annotations

import pytest
import yaml

import reconciler.fmt.comments as comments
from reconciler.fmt.comments import find_comments, lift_flow_comments

TEXT = """\
# top
a: 'not # a comment'  # beside a
b: "x#y" # beside b
c: |  # header
  # content, not a comment
  line
d: {e: 1,  # in flow é😀
  f: [g, h]}  # after flow
# end
"""


def test_comments_are_the_hash_runs_outside_every_scalar() -> None:
    assert [(c.text, c.line, c.column) for c in find_comments(TEXT)] == [
        ("# top", 0, 0), ("# beside a", 1, 22), ("# beside b", 2, 9), ("# header", 3, 6),
        ("# in flow é😀", 6, 11), ("# after flow", 7, 14), ("# end", 8, 0)]


def test_positions_are_python_string_indices() -> None:
    for comment in find_comments(TEXT):
        assert TEXT[comment.index:].startswith(comment.text)


def test_libyaml_and_pure_python_find_the_same_comments(monkeypatch: pytest.MonkeyPatch) -> None:
    found = find_comments(TEXT)
    monkeypatch.setattr(comments, "_Loader", yaml.SafeLoader)
    assert find_comments(TEXT) == found


def test_only_comments_inside_flow_collections_are_lifted() -> None:
    lifted, placements = lift_flow_comments(TEXT)
    assert [(p.comment.text, p.path, p.kind) for p in placements] == [("# in flow é😀", ("d", "e"), "eol")]
    assert "# in flow" not in lifted
    assert [c.text for c in find_comments(lifted)] == [c.text for c in find_comments(TEXT)
                                                      if c.text != "# in flow é😀"]
    assert yaml.safe_load(lifted) == yaml.safe_load(TEXT)
