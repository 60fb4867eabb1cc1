"""Reading one YAML file into plain data plus the line of every value.

PyYAML's constructors forget where values came from and keep the last of two
duplicate keys; both are wrong for a config tool. We compose the node graph
(libyaml's C parser when present) and build the data ourselves, so every value
keeps its mark, duplicate keys are errors, only plain YAML types are accepted
(no `!!python/object`), and aliases cannot expand without bound.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from reconciler.config.problems import ConfigProblems, Problem, format_path

# A registry file is one target with about 100 registries (~40 KB); a 1 MiB cap
# is 25 times that and keeps even a hostile file's parse well under a second.
MAX_FILE_BYTES = 1024 * 1024
# The format nests 4 levels; libyaml's composer recurses in C and crashes the
# interpreter on ~50,000 open brackets, so depth is checked on the event stream.
MAX_DEPTH = 64
# Values after alias expansion: far above any real file, far below a billion laughs.
MAX_VALUES = 100_000
# The event pass that guards the composer costs a fifth of a parse, so it is
# skipped for text that provably cannot nest deep enough to hurt the composer
# (see _nesting_bound); the builder then enforces MAX_DEPTH and MAX_VALUES itself.
SAFE_COMPOSE_DEPTH = 1_000
FAST_PARSE_CHARS = 256 * 1024

_BaseLoader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):
    """The safe loader, remembering how each plain scalar resolved within one file.

    Resolving a scalar's implicit type runs PyYAML's regexes in Python for every
    key and value; a registry file repeats the same keys and enum values a
    hundred times. The answer depends only on the text (no path resolvers are
    registered), and each file gets a fresh loader, so nothing outlives a parse.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._resolved: dict[tuple[str, tuple[bool, bool]], str] = {}

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is not yaml.ScalarNode:
            return str(super().resolve(kind, value, implicit))
        key = (value, implicit)
        tag = self._resolved.get(key)
        if tag is None:
            tag = self._resolved[key] = super().resolve(kind, value, implicit)
        return tag
_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_TAG}{name}" for name in ("str", "int", "float", "bool", "null")}
_MAP_TAG, _SEQ_TAG = f"{_TAG}map", f"{_TAG}seq"
_TIMESTAMP_TAG = f"{_TAG}timestamp"
_MERGE_TAG = f"{_TAG}merge"
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_OPEN_EVENTS = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE_EVENTS = (yaml.MappingEndEvent, yaml.SequenceEndEvent)

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Mark:
    line: int
    column: int


@dataclass
class YamlDocument:
    """Data as plain dicts/lists/scalars, with the mark of each value and key.

    Marks are kept as the parser made them (0-based) and turned into a `Mark`
    only when asked for: a file has tens of thousands and few are ever read.
    """

    file: str
    data: Any
    value_marks: dict[Path_, yaml.Mark] = field(default_factory=dict)
    key_marks: dict[Path_, yaml.Mark] = field(default_factory=dict)

    def mark_of(self, path: Path_, *, key: bool = False) -> Mark:
        """The nearest known mark: the value itself, else its closest parent."""
        table = self.key_marks if key else self.value_marks
        for end in range(len(path), -1, -1):
            mark = table.get(path[:end]) or self.value_marks.get(path[:end])
            if mark:
                return Mark(mark.line + 1, mark.column + 1)
        return Mark(1, 1)

    def problem(self, path: Path_, message: str, *, key: bool = False) -> Problem:
        mark = self.mark_of(path, key=key)
        return Problem(self.file, mark.line, mark.column, format_path(path), message)


def _mark(node: yaml.Node | yaml.Event) -> Mark:
    start = node.start_mark
    return Mark(start.line + 1, start.column + 1) if start is not None else Mark(1, 1)


def _tag_name(tag: str) -> str:
    return tag.replace(_TAG, "!!")


class _TooBig(Exception):
    def __init__(self, node: yaml.Node, message: str) -> None:
        self.node, self.message = node, message


class _Builder:
    """Plain data from a node graph that is acyclic and bounded in expansion (`_shape_problem`).

    Depth and size are checked again as it goes, so it is safe on a tree the
    event pass never saw.
    """

    def __init__(self, doc: YamlDocument) -> None:
        self.doc = doc
        self.problems: list[Problem] = []
        self.reported: set[tuple[Mark, str]] = set()
        self.values = 0

    def _fail(self, node: yaml.Node, path: Path_, message: str) -> None:
        mark = _mark(node)
        # A node reached again through an alias is reported once, where it is written.
        if (mark, message) in self.reported:
            return
        self.reported.add((mark, message))
        self.problems.append(Problem(self.doc.file, mark.line, mark.column, format_path(path), message))

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.doc.value_marks.setdefault(path, node.start_mark)
        self.values += 1
        if self.values > MAX_VALUES:
            raise _TooBig(node, f"holds more than {MAX_VALUES:,} values")
        if len(path) >= MAX_DEPTH and isinstance(node, yaml.CollectionNode):
            raise _TooBig(node, f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, yaml.MappingNode):
            if node.tag != _MAP_TAG:
                self._fail(node, path, f"unsupported YAML tag {_tag_name(node.tag)}")
                return None
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ_TAG:
                self._fail(node, path, f"unsupported YAML tag {_tag_name(node.tag)}")
                return None
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        if node.tag == _TIMESTAMP_TAG:
            self._fail(node, path, f"'{node.value}' reads as a date; quote it to make it a string")
            return None
        if node.tag not in _SCALAR_TAGS:
            self._fail(node, path, f"unsupported YAML tag {_tag_name(node.tag)}")
            return None
        return _CONSTRUCTOR.yaml_constructors[node.tag](_CONSTRUCTOR, node)

    def _mapping(self, node: yaml.MappingNode, path: Path_,
                 skip: frozenset[str] = frozenset()) -> dict[str, Any]:
        """Explicit keys first, then `<<` sources (earlier ones win), so marks point at what is used."""
        result: dict[str, Any] = {}
        first_seen: dict[str, yaml.Mark] = {}
        merges: list[yaml.Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merges.append(value_node)
                continue
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _SCALAR_TAGS:
                self._fail(key_node, path, "mapping keys must be plain strings")
                continue
            key = str(key_node.value)
            if key in first_seen:
                self._fail(key_node, (*path, key),
                           f"duplicate key '{key}' (first at line {first_seen[key].line + 1})")
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
                return child, f"nested more than {MAX_DEPTH} levels deep"
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


def _decode(file: str, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigProblems([Problem(file, line, column, "", "file is not valid UTF-8")]) from None


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n % (1024 * 1024) == 0 else f"{n // 1024} KiB"


def read_capped(path: Path, file: str) -> bytes:
    """The file's bytes, reading at most one byte past the cap: a huge file costs nothing."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigProblems([Problem(file, 0, 0, "", f"cannot read file: {exc.strerror}")]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigProblems([Problem(file, 0, 0, "", f"file is larger than {_size(MAX_FILE_BYTES)}; "
                                                      "a registry file is far smaller")])
    return raw


def read_yaml(path: Path, display: str | None = None) -> YamlDocument:
    """Parse one file; every problem in it is raised together as ConfigProblems."""
    file = display or str(path)
    raw = read_capped(path, file)
    return parse_yaml(_decode(file, raw), file)


def _nesting_bound(text: str) -> int:
    """How deep `text` can nest at most, from its line widths and brackets alone.

    A block collection inside another starts further right, except a sequence
    that is a mapping's value (same column): at most two levels per column.
    Each flow collection needs its own bracket, plus at most one implicit
    single-pair mapping per '['. Splitting on \\n alone can only overstate widths.
    """
    widest = max(map(len, text.split("\n")))
    return 2 * (widest + 1) + 2 * text.count("[") + text.count("{") + 1


def _needs_precheck(text: str) -> bool:
    return len(text) > FAST_PARSE_CHARS or _nesting_bound(text) > SAFE_COMPOSE_DEPTH


def _precheck(text: str, file: str) -> bool:
    """Depth and size on the event stream, before the composer (which recurses in C) sees it.

    Returns whether the text uses aliases: without one the node graph is a tree
    no deeper and no bigger than checked here, so the shape walk is not needed.
    """
    depth = 0
    aliases = False
    for events, event in enumerate(yaml.parse(text, Loader=_Loader), start=1):
        if isinstance(event, yaml.AliasEvent):
            aliases = True
        elif isinstance(event, _OPEN_EVENTS):
            depth += 1
            if depth > MAX_DEPTH:
                where = _mark(event)
                raise ConfigProblems([Problem(file, where.line, where.column, "",
                                              f"nested more than {MAX_DEPTH} levels deep")])
        elif isinstance(event, _CLOSE_EVENTS):
            depth -= 1
        if events > MAX_VALUES:
            where = _mark(event)
            raise ConfigProblems([Problem(file, where.line, where.column, "",
                                          f"holds more than {MAX_VALUES:,} values")])
    return aliases


def _syntax_problem(exc: yaml.MarkedYAMLError, text: str, file: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
    reason = exc.problem or exc.context or "invalid YAML"
    # "while parsing a block mapping" adds nothing; "expected a single document" does.
    if exc.problem and exc.context and not exc.context.startswith("while "):
        reason = f"{exc.context}, {exc.problem}"
    if mark and 0 <= mark.index < len(text) and text[mark.index] == "\t":
        reason += " (a tab: YAML indents with spaces only)"
    return Problem(file, line, column, "", f"invalid YAML: {reason}")


def parse_yaml(text: str, file: str) -> YamlDocument:
    """Parse YAML text; every problem in it is raised together as ConfigProblems."""
    doc = YamlDocument(file=file, data=None)
    try:
        aliases = _precheck(text, file) if _needs_precheck(text) else "*" in text
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        raise ConfigProblems([_syntax_problem(exc, text, file)]) from None
    except yaml.YAMLError as exc:
        raise ConfigProblems([Problem(file, 0, 0, "", f"invalid YAML: {exc}")]) from None
    if root is None or (isinstance(root, yaml.ScalarNode) and root.tag == f"{_TAG}null" and not root.value):
        raise ConfigProblems([Problem(file, 1, 1, "", "file is empty")])
    shape = _shape_problem(root) if aliases else None
    if shape is not None:
        where = _mark(shape[0])
        raise ConfigProblems([Problem(file, where.line, where.column, "", shape[1])])
    builder = _Builder(doc)
    try:
        doc.data = builder.build(root, ())
    except _TooBig as exc:
        where = _mark(exc.node)
        raise ConfigProblems([Problem(file, where.line, where.column, "", exc.message)]) from None
    except (yaml.constructor.ConstructorError, ValueError) as exc:
        raise ConfigProblems([Problem(file, 0, 0, "", f"invalid YAML value: {exc}")]) from None
    if builder.problems:
        raise ConfigProblems(builder.problems)
    return doc
