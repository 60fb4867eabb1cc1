"""Indentation, block style and whitespace: everything in the layout but key order.

ruamel.yaml does the re-indentation because it round-trips comments; what it
cannot do well is placed around it: the file header is kept out of its hands
(it drops comments before a `---` line), comments are re-aligned afterwards
(it keeps each comment's old column), a secret reference is made inline
only when that cannot swallow a comment (ruamel would print the comment inside
the braces), and comments inside flow collections, which ruamel drops, are
lifted out before it loads the text and written back after it dumps it.
"""

from __future__ import annotations

import io
import re
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.tokens import CommentToken

from reconciler.fmt.comments import Path, lift_flow_comments, place_comments

MODELINE = re.compile(r"^\s*#\s*yaml-language-server:\s*\$schema=")
# Small references written on one line, `{env: NAME}` and `{profile: NAME}`, as the docs write them.
INLINE_KEYS = frozenset({"registry_password", "credentials"})
# List items indented under their key (`registries:` then `  - registry_name: ...`),
# as in the README and every example.
MAPPING_INDENT, SEQUENCE_INDENT, SEQUENCE_DASH_OFFSET = 2, 4, 2

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _round_tripper() -> YAML:
    rt = YAML(typ="rt")
    rt.preserve_quotes = True
    rt.indent(mapping=MAPPING_INDENT, sequence=SEQUENCE_INDENT, offset=SEQUENCE_DASH_OFFSET)
    rt.width = 4096  # never fold a long value onto two lines
    return rt


def _eol_comment(node: CommentedMap, key: Any) -> CommentToken | None:
    entry = node.ca.items.get(key)
    token = entry[2] if entry and len(entry) > 2 else None
    return token if isinstance(token, CommentToken) and token.value.startswith("#") else None


def _only_parent_comment(node: CommentedMap, parent_token: CommentToken | None) -> bool:
    """True when the only comment ruamel filed under a secret reference is the one on its key's
    line (it files that one twice); such a reference can still be written inline."""
    before, after = [*(node.ca.comment or ()), None, None][:2]
    return not node.ca.items and not after and (before is None or before is parent_token)


class _Styler:
    """Block style everywhere except a secret or credentials reference, written `{env: NAME}` or
    `{profile: NAME}` as the docs do;
    and end-of-line comments kept the same distance from their value after re-indenting.
    (ruamel writes each comment at its old column, which drifts when indentation changes.)"""

    def __init__(self, keep_block: set[int] | None = None) -> None:
        # ids of secret references that get a comment of their own line back (`comments`)
        self.keep_block = keep_block or set()
        # ruamel files the comment beside an anchored value under its aliases' keys too: the
        # same token, to be re-aligned once (after which its mark has no line any more)
        self.aligned: set[int] = set()

    def mapping(self, node: CommentedMap, indent: int) -> None:
        for key, value in node.items():
            token = _eol_comment(node, key)
            was_flow = isinstance(value, CommentedMap | CommentedSeq) and value.fa.flow_style()
            if isinstance(value, CommentedMap) and key in INLINE_KEYS and id(value) not in self.keep_block:
                if _only_parent_comment(value, token):
                    value.ca.comment = None
                    value.fa.set_flow_style()
            elif isinstance(value, CommentedMap):
                value.fa.set_block_style()
                self.mapping(value, indent + MAPPING_INDENT)
            elif isinstance(value, CommentedSeq):
                if value:
                    value.fa.set_block_style()
                for item in value:
                    if isinstance(item, CommentedMap):
                        item.fa.set_block_style()
                        self.mapping(item, indent + SEQUENCE_INDENT)
            if token is None or id(token) in self.aligned:
                continue
            self.aligned.add(id(token))
            key_line, key_column = node.lc.key(key)
            if token.start_mark.line != key_line:
                continue  # after a multi-line value: ruamel's one space is as good as any
            column = token.start_mark.column + indent - key_column
            if was_flow and not value.fa.flow_style():
                column = indent + len(str(key)) + 1 + 2  # `key:  # comment`
            elif isinstance(value, CommentedMap) and value.fa.flow_style() and not was_flow:
                inline = "{" + ", ".join(f"{k}: {v}" for k, v in value.items()) + "}"
                column = indent + len(str(key)) + 2 + len(inline) + 2  # `key: {env: X}  # comment`
            token.start_mark = CommentMark(column)  # type: ignore[assignment]  # what ruamel uses too


def keep_anchors(data: Any) -> None:
    """Mark every anchor on a mapping or list to be written even if no alias uses it.

    ruamel.yaml writes an anchor on a scalar always, but one on a collection only
    when an alias refers to it, so fmt dropped `&defaults` that a file kept for a
    registry not yet added (issue 19.11). Formatting changes layout, never content.
    """
    seen: set[int] = set()
    stack = [data]
    while stack:
        node = stack.pop()
        if not isinstance(node, CommentedMap | CommentedSeq) or id(node) in seen:
            continue
        seen.add(id(node))
        anchor = node.yaml_anchor()
        if anchor is not None:
            node.yaml_set_anchor(anchor.value, always_dump=True)
        stack.extend(node.values() if isinstance(node, CommentedMap) else node)


def split_header(text: str) -> tuple[str, str]:
    """(leading comment, blank and `---` lines, the rest)."""
    lines = text.splitlines(keepends=True)
    count = 0
    for line in lines:
        stripped = line.strip()
        if stripped and not stripped.startswith(("#", "%")) and not re.match(r"^---(\s|$)", stripped):
            break
        count += 1
    return "".join(lines[:count]), "".join(lines[count:])


# YAML's document end marker: at column 0 it ends the document even inside a block scalar.
DOCUMENT_END = re.compile(r"^\.\.\.(?:[ \t].*)?$", re.MULTILINE)


def split_trailer(body: str) -> tuple[str, str]:
    """(the document, the `...` end marker and the comments after it), the second "" if none.

    ruamel.yaml drops comments after `...`; a bare `...` it drops is dropped as before,
    but one with comments is kept as written (issue 19.11). Anything but comments after
    the marker would be a second document, which reading the file already refused.
    """
    end = DOCUMENT_END.search(body)
    if end is None or "#" not in body[end.start():]:
        return body, ""
    return body[: end.start()], body[end.start():]


def _node_at(data: Any, path: Path) -> Any:
    """The ruamel node at `path`, or None."""
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def restyle(body: str) -> str:
    """Re-indent and re-style the document body with ruamel.yaml, comments kept.

    ruamel loses comments inside flow collections, so those are lifted out first and written
    back into its output (`comments`); one it cannot place is left out, and the comparison in
    `format` then refuses the file rather than drop it.
    """
    body, placements = lift_flow_comments(body)
    rt = _round_tripper()
    data = rt.load(body)
    keep_anchors(data)
    if isinstance(data, CommentedMap):
        # A secret reference stays `{env: X}` only if its comments can sit at the end of that line.
        keep_block = {id(node) for p in placements if p.kind != "eol" and p.path[:-1]
                      and p.path[-2] in INLINE_KEYS and (node := _node_at(data, p.path[:-1])) is not None}
        data.fa.set_block_style()
        _Styler(keep_block).mapping(data, 0)
    buffer = io.StringIO()
    rt.dump(data, buffer)
    return place_comments(buffer.getvalue(), placements)


def _last_line(node: yaml.Node) -> int:
    end = node.end_mark
    return end.line - 1 if end.column == 0 and end.line > node.start_mark.line else end.line


def inside_values(text: str) -> set[int]:
    """Lines that continue a multi-line value (block scalar, long quoted string, broken flow
    mapping): they are content, so no comment rule or blank-line rule applies to them."""
    root = yaml.compose(text, Loader=_Loader)
    protected: set[int] = set()
    seen: set[int] = set()
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        block = isinstance(node, yaml.MappingNode | yaml.SequenceNode) and not node.flow_style
        if not block:
            protected.update(range(node.start_mark.line + 1, _last_line(node) + 1))
        elif isinstance(node, yaml.MappingNode):
            stack.extend(part for pair in node.value for part in pair)
        else:
            stack.extend(node.value)
    return protected


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def modeline_first(text: str) -> str:
    """Editors read the `# yaml-language-server: $schema=...` line anywhere; people expect it on top."""
    lines = text.splitlines(keepends=True)
    protected = inside_values(text)
    for index, line in enumerate(lines):
        if index not in protected and MODELINE.match(line):
            if index:
                del lines[index]
                lines.insert(0, line.lstrip())
            break
    return "".join(lines)


def tidy(text: str) -> str:
    """Comments at the indentation of the line they precede, no trailing spaces, no runs of
    blank lines, no blank lines at either end, one final newline."""
    lines = text.splitlines()
    protected = inside_values(text)
    out: list[str] = []
    pending_comments: list[int] = []
    for index, line in enumerate(lines):
        if index in protected:
            out.append(line)
            continue
        line = line.rstrip()
        if not line:
            if out and out[-1] != "":
                out.append("")
            continue
        if _is_comment(line):
            pending_comments.append(len(out))
            out.append(line.lstrip())
            continue
        indent = " " * (len(line) - len(line.lstrip()))
        for position in pending_comments:
            out[position] = indent + out[position]
        pending_comments = []
        out.append(line)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"
