"""Keys in API order, by moving whole lines.

A round-trip YAML library can reorder keys, but it files every comment under
the key *before* it (a comment above `registry_name` belongs, for ruamel, to
whatever came last), so reordering its tree moves comments away from what
they describe. Moving lines instead keeps the intuitive attachment: the
comment and blank lines directly above a key, and the comment on its line,
travel with it. Positions come from PyYAML's composer on text that ruamel has
already laid out (block style, canonical indentation), so every entry is a
contiguous run of lines.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import yaml

from reconciler.registry import FILE_FIELDS

# The order the HSS API documents (AddRegistry request body; target = path and
# query parameters). The schema lists properties in the same order, so editor
# completion, `fmt` and the docs agree (tests/unit/test_fmt_order.py checks).
ROOT_ORDER = ("version", "target", "registries")
TARGET_ORDER = ("region", "project_id", "enterprise_project_id", "endpoint", "credentials")
REGISTRY_ORDER = FILE_FIELDS
MERGE_KEY = "<<"

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def key_order(path: tuple[str | int, ...]) -> tuple[str, ...] | None:
    """The canonical order of the mapping at `path`, or None to leave it as written."""
    if path == ():
        return ROOT_ORDER
    if path == ("target",):
        return TARGET_ORDER
    if len(path) == 2 and path[0] == "registries" and isinstance(path[1], int):
        return REGISTRY_ORDER
    return None


def _rank(name: str, order: tuple[str, ...]) -> int:
    if name == MERGE_KEY:
        return -1
    return order.index(name) if name in order else len(order)


def _children(node: yaml.Node) -> Iterator[tuple[int, yaml.Node]]:
    if isinstance(node, yaml.MappingNode):
        for i, (_key, value) in enumerate(node.value):
            yield i, value
    elif isinstance(node, yaml.SequenceNode):
        yield from enumerate(node.value)


def _alias_slots(root: yaml.Node) -> set[tuple[int, int]]:
    """Child positions that hold an alias (`*name`): the composer hands back the anchored
    node itself, whose marks point at the anchor, not at the alias."""
    seen = {id(root)}
    slots: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        for index, child in reversed(list(_children(node))):
            if id(child) in seen:
                slots.add((id(node), index))
            else:
                seen.add(id(child))
                stack.append(child)
    return slots


def _is_block(node: yaml.Node) -> bool:
    return isinstance(node, yaml.MappingNode | yaml.SequenceNode) and not node.flow_style and bool(node.value)


@dataclass
class _Entry:
    name: str
    lead: list[str]
    body: list[str]


class _Reorderer:
    def __init__(self, text: str) -> None:
        self.lines = text.splitlines(keepends=True)
        self.root = yaml.compose(text, Loader=_Loader)
        self.aliases = _alias_slots(self.root) if self.root is not None else set()

    def _last(self, node: yaml.Node, fallback: int) -> int:
        """Index of the last line holding `node`'s own text."""
        if not _is_block(node):
            end = node.end_mark
            return end.line - 1 if end.column == 0 and end.line > node.start_mark.line else end.line
        index, child = list(_children(node))[-1]
        if (id(node), index) in self.aliases:
            if isinstance(node, yaml.MappingNode):
                return max(node.value[index][0].start_mark.line, fallback)
            return fallback
        return self._last(child, child.start_mark.line)

    def run(self) -> str:
        if not isinstance(self.root, yaml.MappingNode) or self.root.flow_style:
            return "".join(self.lines)
        return "".join(self._mapping(self.root, (), 0, len(self.lines) - 1, root=True))

    def _mapping(self, node: yaml.MappingNode, path: tuple[str | int, ...], lo: int, end: int,
                 *, root: bool = False) -> list[str]:
        """Lines lo..end (inclusive) hold the mapping; lines before its first key lead that key
        (at the root they are the file header and stay on top)."""
        entries: list[_Entry] = []
        prefix: list[str] = []
        opening = node.start_mark.line  # an anchor or tag (`- &base`) on a line of its own stays put
        if lo <= opening < node.value[0][0].start_mark.line:
            prefix, lo = self.lines[lo:opening + 1], opening + 1
        start = lo
        for index, (key, value) in enumerate(node.value):
            key_line = key.start_mark.line
            name = str(key.value) if isinstance(key, yaml.ScalarNode) else ""
            alias = (id(node), index) in self.aliases
            last = key_line if alias else max(key_line, self._last(value, key_line))
            body = (self.lines[key_line:last + 1] if alias
                    else self._value(value, (*path, name), key_line, last))
            entries.append(_Entry(name, self.lines[start:key_line], body))
            start = last + 1
        header: list[str] = []
        if root:
            header, entries[0].lead = entries[0].lead, []
        trailer = self.lines[start:end + 1]
        order = key_order(path)
        if order is None:
            return prefix + header + [line for e in entries for line in (*e.lead, *e.body)] + trailer
        dash = self._dash_prefix(node)
        if dash:
            first = entries[0].body
            first[0] = " " * len(dash) + first[0][len(dash):]
        entries.sort(key=lambda e: _rank(e.name, order))
        if dash:
            first = entries[0].body
            first[0] = dash + first[0][len(dash):]
        return prefix + header + [line for e in entries for line in (*e.lead, *e.body)] + trailer

    def _dash_prefix(self, node: yaml.MappingNode) -> str:
        """`  - ` when the mapping is a list item whose first key shares the dash's line."""
        key = node.value[0][0]
        prefix = self.lines[key.start_mark.line][:key.start_mark.column]
        return prefix if prefix.strip() == "-" else ""

    def _value(self, node: yaml.Node, path: tuple[str | int, ...], key_line: int, last: int) -> list[str]:
        if isinstance(node, yaml.MappingNode) and _is_block(node):
            return self.lines[key_line:key_line + 1] + self._mapping(node, path, key_line + 1, last)
        if isinstance(node, yaml.SequenceNode) and _is_block(node):
            out = self.lines[key_line:node.value[0].start_mark.line]
            position = node.value[0].start_mark.line
            for index, item in enumerate(node.value):
                item_line = item.start_mark.line
                out += self.lines[position:item_line]
                alias = (id(node), index) in self.aliases
                item_last = item_line if alias else self._last(item, item_line)
                if isinstance(item, yaml.MappingNode) and _is_block(item) and not alias:
                    out += self._mapping(item, (*path, index), item_line, item_last)
                else:
                    out += self.lines[item_line:item_last + 1]
                position = item_last + 1
            return out + self.lines[position:last + 1]
        return self.lines[key_line:last + 1]


def reorder_keys(text: str) -> str:
    """`text` with the keys of the root, `target` and every registry in API order."""
    return _Reorderer(text).run()
