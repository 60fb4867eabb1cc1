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

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_NODE_VISITS = 1_000_000

_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_TAG}{name}" for name in ("str", "int", "float", "bool", "null")}
_MERGE_TAG = f"{_TAG}merge"
_CONSTRUCTOR = yaml.constructor.SafeConstructor()

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Mark:
    line: int
    column: int


@dataclass
class YamlDocument:
    """Data as plain dicts/lists/scalars, with the mark of each value and key."""

    file: str
    data: Any
    value_marks: dict[Path_, Mark] = field(default_factory=dict)
    key_marks: dict[Path_, Mark] = field(default_factory=dict)

    def mark_of(self, path: Path_, *, key: bool = False) -> Mark:
        """The nearest known mark: the value itself, else its closest parent."""
        table = self.key_marks if key else self.value_marks
        for end in range(len(path), -1, -1):
            mark = table.get(path[:end]) or self.value_marks.get(path[:end])
            if mark:
                return mark
        return Mark(1, 1)

    def problem(self, path: Path_, message: str, *, key: bool = False) -> Problem:
        mark = self.mark_of(path, key=key)
        return Problem(self.file, mark.line, mark.column, format_path(path), message)


def _mark(node: yaml.Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self, doc: YamlDocument) -> None:
        self.doc = doc
        self.problems: list[Problem] = []
        self.visits = 0

    def _fail(self, node: yaml.Node, path: Path_, message: str) -> None:
        mark = _mark(node)
        self.problems.append(Problem(self.doc.file, mark.line, mark.column, format_path(path), message))

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.visits += 1
        if self.visits > MAX_NODE_VISITS:
            raise _TooLarge(node)
        self.doc.value_marks.setdefault(path, _mark(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        if node.tag not in _SCALAR_TAGS:
            self._fail(node, path, f"unsupported YAML tag {node.tag.replace(_TAG, '!!')}")
            return None
        return _CONSTRUCTOR.yaml_constructors[node.tag](_CONSTRUCTOR, node)

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_seen: dict[str, Mark] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged.update(self._merge_source(value_node, path))
                continue
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _SCALAR_TAGS:
                self._fail(key_node, path, "mapping keys must be plain strings")
                continue
            key = str(key_node.value)
            if key in first_seen:
                self._fail(key_node, (*path, key),
                           f"duplicate key '{key}' (first at line {first_seen[key].line})")
                continue
            first_seen[key] = _mark(key_node)
            self.doc.key_marks[(*path, key)] = _mark(key_node)
            result[key] = self.build(value_node, (*path, key))
        for key, value in merged.items():
            result.setdefault(key, value)
        return result

    def _merge_source(self, node: yaml.Node, path: Path_) -> dict[str, Any]:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        merged: dict[str, Any] = {}
        for source in reversed(sources):
            if not isinstance(source, yaml.MappingNode):
                self._fail(source, path, "'<<' merges only mappings")
                continue
            merged.update(self._mapping(source, path))
        return merged


class _TooLarge(Exception):
    def __init__(self, node: yaml.Node) -> None:
        self.node = node


def _decode(file: str, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigProblems([Problem(file, line, column, "", "file is not valid UTF-8")]) from None


def read_yaml(path: Path, display: str | None = None) -> YamlDocument:
    """Parse one file; every problem in it is raised together as ConfigProblems."""
    file = display or str(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigProblems([Problem(file, 0, 0, "", f"cannot read file: {exc.strerror}")]) from None
    if len(raw) > MAX_FILE_BYTES:
        limit = MAX_FILE_BYTES // (1024 * 1024)
        raise ConfigProblems([Problem(file, 0, 0, "", f"file is larger than {limit} MB")])
    return parse_yaml(_decode(file, raw), file)


def parse_yaml(text: str, file: str) -> YamlDocument:
    doc = YamlDocument(file=file, data=None)
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        reason = exc.problem or exc.context or "invalid YAML"
        if mark and 0 <= mark.index < len(text) and text[mark.index] == "\t":
            reason += " (a tab: YAML indents with spaces only)"
        raise ConfigProblems([Problem(file, line, column, "", f"invalid YAML: {reason}")]) from None
    except yaml.YAMLError as exc:
        raise ConfigProblems([Problem(file, 0, 0, "", f"invalid YAML: {exc}")]) from None
    if root is None:
        raise ConfigProblems([Problem(file, 1, 1, "", "file is empty")])
    builder = _Builder(doc)
    try:
        doc.data = builder.build(root, ())
    except _TooLarge as exc:
        where = _mark(exc.node)
        raise ConfigProblems([Problem(file, where.line, where.column, "",
                                      "document expands to too many values (alias bomb?)")]) from None
    except (yaml.constructor.ConstructorError, ValueError) as exc:
        raise ConfigProblems([Problem(file, 0, 0, "", f"invalid YAML value: {exc}")]) from None
    if builder.problems:
        raise ConfigProblems(builder.problems)
    return doc
