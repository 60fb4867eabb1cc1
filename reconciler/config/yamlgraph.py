"""Files with aliases or merge keys: through libyaml's node graph.

An alias makes the graph a DAG that can expand far beyond the text (a
billion laughs) or refer to itself; a merge key needs the node it merges.
So the text is first walked as events (depth and size, before libyaml's
composer recurses in C), composed, its shape checked, then built. Ordinary
files take the single pass in yamlevents.py instead.
"""

from __future__ import annotations

from typing import Any

import yaml

from reconciler.config.problems import ConfigProblems, Problem
from reconciler.config.yamldoc import (
    KEYS_MUST_BE_STRINGS,
    MAP_TAG,
    MAX_DEPTH,
    MAX_VALUES,
    MERGE_TAG,
    SCALAR_TAGS,
    SEQ_TAG,
    TOO_DEEP,
    TOO_MANY,
    Loader,
    Mark,
    Path_,
    RawMark,
    YamlDocument,
    duplicate_key,
    is_empty,
    position_of,
    problem_at,
    read_scalar,
    unsupported_tag,
)

_OPEN_EVENTS = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE_EVENTS = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


class _Builder:
    """Plain data from a node graph already checked by `_shape_problem` (bounded, acyclic)."""

    def __init__(self, doc: YamlDocument) -> None:
        self.doc = doc
        self.problems: list[Problem] = []
        self.reported: set[tuple[Mark, str]] = set()

    def _fail(self, node: yaml.Node, path: Path_, message: str) -> None:
        mark = position_of(node)
        # A node reached again through an alias is reported once, where it is written.
        if (mark, message) in self.reported:
            return
        self.reported.add((mark, message))
        self.problems.append(problem_at(self.doc.file, node, path, message))

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.doc.value_marks.setdefault(path, node.start_mark)
        if isinstance(node, yaml.MappingNode):
            if node.tag != MAP_TAG:
                self._fail(node, path, unsupported_tag(node.tag))
                return None
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != SEQ_TAG:
                self._fail(node, path, unsupported_tag(node.tag))
                return None
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        value, refused = read_scalar(node.tag, node.value, node)
        if refused is not None:
            self._fail(node, path, refused)
        return value

    def _mapping(self, node: yaml.MappingNode, path: Path_,
                 skip: frozenset[str] = frozenset()) -> dict[str, Any]:
        """Explicit keys first, then `<<` sources (earlier ones win), so marks point at what is used."""
        result: dict[str, Any] = {}
        first_seen: dict[str, RawMark] = {}
        merges: list[yaml.Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                merges.append(value_node)
                continue
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in SCALAR_TAGS:
                self._fail(key_node, path, KEYS_MUST_BE_STRINGS)
                continue
            key = str(key_node.value)
            if key in first_seen:
                self._fail(key_node, (*path, key), duplicate_key(key, first_seen[key]))
                continue
            first_seen[key] = key_node.start_mark
            if key in skip:
                continue
            self.doc.key_marks[(*path, key)] = key_node.start_mark
            result[key] = self.build(value_node, (*path, key))
        for merge in merges:
            sources = merge.value if isinstance(merge, yaml.SequenceNode) else [merge]
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    self._fail(source, path, "'<<' merges only mappings")
                    continue
                result.update(self._mapping(source, path, skip | frozenset(result)))
        return result


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _shape_problem(root: yaml.Node) -> tuple[yaml.Node, str] | None:
    """Refuse recursive aliases and alias bombs before building anything.

    Sizes are memoised per node, so a billion laughs costs as many steps as it
    has distinct nodes; the walk is iterative, so no input can exhaust the stack.
    """
    sizes: dict[int, int] = {}
    heights: dict[int, int] = {}  # aliases can nest what the text does not
    on_path: set[int] = set()
    walk: list[tuple[yaml.Node, list[yaml.Node], int]] = [(root, _children(root), 0)]
    on_path.add(id(root))
    while walk:
        node, children, index = walk[-1]
        if index < len(children):
            walk[-1] = (node, children, index + 1)
            child = children[index]
            if id(child) in on_path:
                return child, "an alias refers to a node that contains it (recursive alias)"
            if len(walk) + heights.get(id(child), 1) > MAX_DEPTH:
                return child, TOO_DEEP
            if id(child) not in sizes:
                walk.append((child, _children(child), 0))
                on_path.add(id(child))
            continue
        walk.pop()
        on_path.discard(id(node))
        size = 1 + sum(sizes[id(child)] for child in children)
        if size > MAX_VALUES:
            return node, f"expands to more than {MAX_VALUES:,} values through aliases (an alias bomb?)"
        sizes[id(node)] = size
        heights[id(node)] = 1 + max((heights[id(child)] for child in children), default=0)
    return None


def _precheck(text: str, file: str) -> bool:
    """Depth and size on the event stream, before the composer (which recurses in C) sees it.

    Returns whether the text uses aliases: without one the node graph is a tree
    no deeper and no bigger than checked here, so the shape walk is not needed.
    """
    depth = 0
    aliases = False
    for events, event in enumerate(yaml.parse(text, Loader=Loader), start=1):
        if isinstance(event, yaml.AliasEvent):
            aliases = True
        elif isinstance(event, _OPEN_EVENTS):
            depth += 1
            if depth > MAX_DEPTH:
                raise ConfigProblems([problem_at(file, event, (), TOO_DEEP)])
        elif isinstance(event, _CLOSE_EVENTS):
            depth -= 1
        if events > MAX_VALUES:
            raise ConfigProblems([problem_at(file, event, (), TOO_MANY)])
    return aliases


def parse_graph(text: str, doc: YamlDocument) -> None:
    """Fill `doc` from `text`; YAML errors propagate, every other problem is raised as ConfigProblems."""
    file = doc.file
    aliases = _precheck(text, file)
    root = yaml.compose(text, Loader=Loader)
    if root is None or (isinstance(root, yaml.ScalarNode) and is_empty(root.tag, root.value)):
        raise ConfigProblems([Problem(file, 1, 1, "", "file is empty")])
    shape = _shape_problem(root) if aliases else None
    if shape is not None:
        raise ConfigProblems([problem_at(file, shape[0], (), shape[1])])
    builder = _Builder(doc)
    doc.data = builder.build(root, ())
    if builder.problems:
        raise ConfigProblems(builder.problems)
