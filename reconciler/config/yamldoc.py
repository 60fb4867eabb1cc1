"""What reading a YAML file produces, and what both ways of reading it share.

A file becomes plain data (dicts, lists, str/int/float/bool/None) plus the
mark of every value and key, so any later problem can name its line. Two
builders produce it (yamlevents.py for ordinary files, yamlgraph.py for files
with aliases or merge keys); the limits, tags and wording of problems live
here so both say exactly the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeAlias

import yaml

from reconciler.config.problems import Problem, format_path

# The format nests 4 levels; libyaml's composer recurses in C and crashes the
# interpreter on ~50,000 open brackets, so depth is checked on the event stream.
MAX_DEPTH = 64
# Newer libyaml (PyYAML 6.0.4's wheels) has a nesting limit of its own (1,000).
# On one long line of flow brackets its scanner reads ahead past our limit
# before the first event arrives, so its refusal reaches us first: it is
# reported as ours, at libyaml's mark (see yamlfile._syntax_problem).
LIBYAML_TOO_DEEP = "exceeded maximum nesting depth"
# Values after alias expansion: far above any real file, far below a billion laughs.
MAX_VALUES = 100_000

TAG = "tag:yaml.org,2002:"
STR_TAG = f"{TAG}str"
NULL_TAG = f"{TAG}null"
SCALAR_TAGS = frozenset(f"{TAG}{name}" for name in ("str", "int", "float", "bool", "null"))
MAP_TAG, SEQ_TAG = f"{TAG}map", f"{TAG}seq"
TIMESTAMP_TAG = f"{TAG}timestamp"
MERGE_TAG = f"{TAG}merge"
_CONSTRUCTOR = yaml.constructor.SafeConstructor()

KEYS_MUST_BE_STRINGS = "mapping keys must be plain strings"
TOO_DEEP = f"nested more than {MAX_DEPTH} levels deep"
TOO_MANY = f"holds more than {MAX_VALUES:,} values"

Path_ = tuple[str | int, ...]
# libyaml's C marks and PyYAML's Python marks have the same fields but unrelated types.
RawMark: TypeAlias = Any

_BaseLoader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Loader(_BaseLoader):
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


@dataclass(frozen=True)
class Mark:
    line: int
    column: int


def position_of(where: yaml.Node | yaml.Event) -> Mark:
    """1-based line and column of a node or an event."""
    start = where.start_mark
    return Mark(start.line + 1, start.column + 1) if start is not None else Mark(1, 1)


@dataclass
class YamlDocument:
    """Data as plain dicts/lists/scalars, with the mark of each value and key.

    Marks are kept as the parser made them (0-based) and turned into a `Mark`
    only when asked for: a file has tens of thousands and few are ever read.
    """

    file: str
    data: Any
    value_marks: dict[Path_, RawMark] = field(default_factory=dict)
    key_marks: dict[Path_, RawMark] = field(default_factory=dict)

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


def problem_at(file: str, where: yaml.Node | yaml.Event, path: Path_, message: str) -> Problem:
    mark = position_of(where)
    return Problem(file, mark.line, mark.column, format_path(path), message)


def unsupported_tag(tag: str) -> str:
    return f"unsupported YAML tag {tag.replace(TAG, '!!')}"


# Problems with a scalar never quote its text: at this layer a password looks
# like any other value, and the problem's line, column and path already point at it.
READS_AS_DATE = "reads as a date; quote it to make it a string"


def duplicate_key(key: str, first: RawMark) -> str:
    return f"duplicate key '{key}' (first at line {first.line + 1})"


def read_scalar(tag: str, text: str, origin: Any) -> tuple[Any, str | None]:
    """A scalar's Python value (str, int, float, bool or None, as safe_load makes it) and None;
    or None and why it is refused.

    `origin` (the scalar's node or event) gives the marks and style its constructor may need.
    """
    if tag == STR_TAG:
        return text, None
    if tag == TIMESTAMP_TAG:
        return None, READS_AS_DATE
    if tag not in SCALAR_TAGS:
        return None, unsupported_tag(tag)
    node = yaml.ScalarNode(tag, text, origin.start_mark, origin.end_mark, getattr(origin, "style", None))
    try:
        return _CONSTRUCTOR.yaml_constructors[tag](_CONSTRUCTOR, node), None
    except (yaml.constructor.ConstructorError, ValueError, LookupError):
        # An explicit tag on text it does not fit (`!!int abc`, `!!bool ""`), or an integer
        # longer than Python converts.
        return None, f"does not read as {tag.replace(TAG, '!!')}; quote it to make it a string"


def is_empty(tag: str | None, text: str | None) -> bool:
    """No document at all, or one that is only an empty null ('---' and nothing else)."""
    return tag is None or (tag == NULL_TAG and not text)
