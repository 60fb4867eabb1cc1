"""Comments inside flow collections, which ruamel.yaml cannot keep.

ruamel.yaml's round trip drops a comment written inside `{...}` or `[...]`
(it files a few of them and prints even those in the wrong place), so `fmt`
would silently lose them. They are taken out of the text before ruamel sees
it and put back afterwards, by moving text, the way `order` moves keys:

- `lift_flow_comments` finds each such comment and decides which entry it
  belongs to: the entry whose line it ends (`a: 1,  # about a`), the entry on
  the line after it (a comment on a line of its own), the last entry (a comment
  after it, before the closing bracket) or, for a comment right after the
  opening bracket, the entry that holds the collection;
- `place_comments` writes them back into ruamel's block-style output beside,
  above or below that entry, found by its path (ruamel reorders nothing; the
  keys are put in order afterwards, and the comments move with them).

`find_comments` lists every comment of a text; `format` compares the lists
before and after as the safety net: a comment this module could not place,
or one lost anywhere else, makes `fmt` refuse the file instead of dropping it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import yaml

Path = tuple[str | int, ...]
Kind = Literal["eol", "before", "after"]
# libyaml when built in: marks count characters as Python does (tests/unit/test_fmt_comments.py)
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Block scalar header (`|`, `>-`, `|2+` ...) and the comment that may follow it on its line.
_BLOCK_HEADER = re.compile(r"[|>][-+0-9]*[ \t]+(#.*)")


@dataclass(frozen=True)
class Comment:
    """One `# ...` comment; `index`, `line` and `column` are 0-based positions in the text."""

    text: str
    index: int
    line: int
    column: int


@dataclass(frozen=True)
class Placement:
    """Where a lifted comment goes back: beside (`eol`), above (`before`) or below (`after`)
    the entry at `path` (a key of a mapping or an index in a sequence)."""

    comment: Comment
    path: Path
    kind: Kind


def find_comments(text: str) -> list[Comment]:
    """Every comment in `text`, in order. PyYAML's scanner skips comments, so they are exactly
    the `#...` runs in the gaps between its tokens (a `#` inside a scalar is inside a token);
    the one exception is a comment on a block scalar's header line, inside that scalar's token."""
    comments: list[Comment] = []
    position = 0
    for token in yaml.scan(text, Loader=_Loader):
        start, end = token.start_mark.index, token.end_mark.index
        if start > position:
            comments += _comments_in(text, position, start)
        if isinstance(token, yaml.ScalarToken) and token.style in ("|", ">"):
            line_end = text.find("\n", start)
            header = _BLOCK_HEADER.match(text, start, line_end if line_end >= 0 else len(text))
            if header:
                comments.append(_comment_at(text, header.start(1), header.end(1)))
        position = max(position, end)
    return comments


def _comments_in(text: str, start: int, end: int) -> Iterator[Comment]:
    """Comments in a gap between tokens, which holds nothing but whitespace and comments."""
    index = text.find("#", start, end)
    while index >= 0:
        line_end = text.find("\n", index, end)
        stop = line_end if line_end >= 0 else end
        yield _comment_at(text, index, stop)
        index = text.find("#", stop, end)


def _comment_at(text: str, start: int, end: int) -> Comment:
    line = text.count("\n", 0, start)
    column = start - (text.rfind("\n", 0, start) + 1)
    return Comment(text[start:end].rstrip(), start, line, column)


def comment_texts(text: str) -> list[str]:
    """The comments' texts, for comparing two versions of a file."""
    return [comment.text for comment in find_comments(text)]


@dataclass
class _Flow:
    """A flow collection of the source: its span, its path and its entries."""

    path: Path
    start: int
    end: int
    start_line: int
    entries: list[tuple[Path, int, int, int]]  # path, start index, end index, end line


def _flows(root: yaml.Node | None) -> list[_Flow]:
    """Every flow collection under `root` with the entries in it. An alias (`*name`) composes to
    the node it names, whose marks are elsewhere: its entry is given no span of its own."""
    flows: list[_Flow] = []
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, Path]] = [(root, ())] if root is not None else []
    while stack:
        node, path = stack.pop()
        if id(node) in seen or not isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            continue
        seen.add(id(node))
        pairs: list[tuple[Path, yaml.Node, yaml.Node]] = []
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                name = str(key.value) if isinstance(key, yaml.ScalarNode) else None
                if name is not None:  # a complex key: its comments are not placed (the net refuses)
                    pairs.append(((*path, name), key, value))
        else:
            pairs = [((*path, i), item, item) for i, item in enumerate(node.value)]
        if node.flow_style:
            entries: list[tuple[Path, int, int, int]] = []
            last = node.start_mark.index + 1
            for entry_path, first, value in pairs:
                start = max(first.start_mark.index, last)
                mark = value.end_mark if value.start_mark.index >= start else first.end_mark
                end = max(mark.index, start)
                entries.append((entry_path, start, end, mark.line))
                last = end
            flows.append(_Flow(path, node.start_mark.index, node.end_mark.index, node.start_mark.line,
                               entries))
        # in document order, so an anchored collection is met where it is written, not at an alias
        stack.extend((value, entry_path) for entry_path, _first, value in reversed(pairs))
    return flows


def flow_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) index of every flow collection in `text`, brackets included."""
    return [(flow.start, flow.end) for flow in _flows(yaml.compose(text, Loader=_Loader))]


def _own_line(text: str, comment: Comment) -> bool:
    return not text[comment.index - comment.column:comment.index].strip()


def _placement(text: str, flow: _Flow, comment: Comment) -> Placement | None:
    """Which entry `comment`, inside `flow`, describes (see the module docstring)."""
    before = [entry for entry in flow.entries if entry[1] < comment.index]
    after = [entry for entry in flow.entries if entry[1] >= comment.index]
    if before:
        path, _start, end, end_line = before[-1]
        if comment.index <= end or end_line == comment.line:
            return Placement(comment, path, "eol")
        if not after:
            return Placement(comment, path, "after")
        if not _own_line(text, comment):  # `,  # about the entry above` on a line of its own
            return Placement(comment, path, "eol")
        return Placement(comment, after[0][0], "before")
    if flow.path and (comment.line == flow.start_line or not after):
        return Placement(comment, flow.path, "eol")
    return Placement(comment, after[0][0], "before") if after else None  # a flow root: no line of its own


def lift_flow_comments(text: str) -> tuple[str, list[Placement]]:
    """`text` without the comments inside flow collections, and where each goes back. A comment
    no entry can be found for is left out all the same: the safety net then refuses the file."""
    comments = find_comments(text)
    flows = _flows(yaml.compose(text, Loader=_Loader))
    placements: list[Placement] = []
    lifted: list[Comment] = []
    for comment in comments:
        holders = [f for f in flows if f.start < comment.index < f.end]
        if not holders:
            continue
        innermost = max(holders, key=lambda f: f.start)
        lifted.append(comment)
        placement = _placement(text, innermost, comment)
        if placement is not None:
            placements.append(placement)
    for comment in reversed(lifted):
        end = comment.index + len(comment.text)
        if _own_line(text, comment):  # the whole line, or ruamel would keep it as a blank line
            text = text[:comment.index - comment.column] + text[text.find("\n", end) + 1 or len(text):]
        else:
            text = text[:comment.index].rstrip(" \t") + text[end:]
    return text, placements


def _last_line(node: yaml.Node) -> int:
    """Last line of `node`'s own text (a block collection: of its last entry)."""
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and not node.flow_style and node.value:
        last = node.value[-1]
        child = last[1] if isinstance(node, yaml.MappingNode) else last
        if child.start_mark.index < node.start_mark.index:  # an alias: its line is the key's
            return last[0].start_mark.line if isinstance(node, yaml.MappingNode) else node.start_mark.line
        return _last_line(child)
    end = node.end_mark
    return end.line - 1 if end.column == 0 and end.line > node.start_mark.line else end.line


def _lines(root: yaml.Node | None, path: Path) -> tuple[int, int, int] | None:
    """(first line, line for a comment beside it, last line) of the entry at `path` in a
    composed document, or None when there is no such entry or it is an alias in a sequence."""
    node = root
    key: yaml.Node | None = None
    for part in path:
        key = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            found = [(k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part]
            if not found:
                return None
            key, node = found[0]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            previous = node.value[part - 1].end_mark.index if part else node.start_mark.index
            node = node.value[part]
            if node.start_mark.index < previous:
                return None  # an alias: nothing says which line holds it
        else:
            return None
    if node is None or not path:
        return None
    first = key if key is not None else node
    if node.start_mark.index < first.start_mark.index:  # an alias value: all on the key's line
        line = first.start_mark.line
        return line, line, line
    block = isinstance(node, yaml.MappingNode | yaml.SequenceNode) and not node.flow_style and node.value
    beside = first.start_mark.line if block else _last_line(node)
    return first.start_mark.line, beside, _last_line(node)


def place_comments(text: str, placements: list[Placement]) -> str:
    """`text` with each placement's comment written back beside, above or below its entry,
    which must be on lines of its own (block style) or a flow collection on one line.
    A comment whose entry is not found is left out (for the safety net to refuse)."""
    root = yaml.compose(text, Loader=_Loader)
    lines = text.splitlines()
    taken = {comment.line for comment in find_comments(text)}
    above: dict[int, list[str]] = {}
    below: dict[int, list[str]] = {}
    beside: dict[int, str] = {}
    for placement in placements:
        where = _lines(root, placement.path)
        if where is None:
            continue
        first, eol, last = where
        if placement.kind == "eol" and eol not in taken:
            taken.add(eol)
            beside[eol] = placement.comment.text
        elif placement.kind == "after":
            below.setdefault(last, []).append(placement.comment.text)
        else:  # before, or beside a line that already has a comment
            above.setdefault(first, []).append(placement.comment.text)
    out: list[str] = []
    for index, line in enumerate(lines):
        out += above.get(index, [])
        out.append(f"{line.rstrip()}  {beside[index]}" if index in beside else line)
        out += below.get(index, [])
    return "\n".join(out) + "\n"
