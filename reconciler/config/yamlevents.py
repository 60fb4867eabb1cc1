"""Ordinary files in one pass over libyaml's events, straight to plain data.

Composing libyaml's node graph and then walking it costs two passes and a
Python object per node and mark; most registry files use neither aliases nor
merge keys, so nothing needs the graph. This builder consumes the event
stream once, keeps a stack instead of recursing (no input can exhaust it),
and checks depth and size as it goes, exactly as the graph path's event pass
does. On the first alias or merge key it gives up (NeedsGraph) and the file
is read by yamlgraph.py. Both must produce the same document and the same
problems; tests/unit/test_config_yamlevents.py compares them.
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
    STR_TAG,
    TOO_DEEP,
    TOO_MANY,
    Loader,
    Path_,
    RawMark,
    YamlDocument,
    duplicate_key,
    is_empty,
    problem_at,
    read_scalar,
    unsupported_tag,
)

_NO_KEY = object()  # a mapping frame waiting for its next key


class NeedsGraph(Exception):
    """An alias or a merge key: this file must be read through the node graph."""


class _Frame:
    """One open collection: where its values go, and what its mapping is waiting for."""

    __slots__ = ("container", "first_seen", "is_map", "key", "muted", "path")

    def __init__(self, container: dict[str, Any] | list[Any] | None, path: Path_, *, is_map: bool,
                 muted: bool) -> None:
        self.container: Any = container
        self.path = path
        self.is_map = is_map
        self.muted = muted  # a refused subtree: read to its end, nothing recorded
        self.key: Any = _NO_KEY  # mapping: _NO_KEY, a str key, or None (the value is skipped)
        self.first_seen: dict[str, RawMark] = {}

    def expects_key(self) -> bool:
        return self.is_map and self.key is _NO_KEY and not self.muted


class _EventBuilder:
    def __init__(self, doc: YamlDocument, loader: Any) -> None:
        self.doc = doc
        self.loader = loader
        self.problems: list[Problem] = []
        self.stack: list[_Frame] = []
        self.top: _Frame | None = None  # the innermost open collection
        self.root_tag: str | None = None
        self.root_text: str | None = None

    def fail(self, event: yaml.Event, path: Path_, message: str) -> None:
        self.problems.append(problem_at(self.doc.file, event, path, message))

    def run(self) -> None:
        loader = self.loader
        depth = 0
        events = 0
        document_mark: RawMark = None
        another_document: Any = None
        while True:
            event = loader.get_event()
            if event is None:
                break
            events += 1
            if events > MAX_VALUES:
                raise ConfigProblems([problem_at(self.doc.file, event, (), TOO_MANY)])
            kind = type(event)
            if kind is yaml.ScalarEvent:
                if another_document is None:
                    self.scalar(event)
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                depth += 1
                if depth > MAX_DEPTH:
                    raise ConfigProblems([problem_at(self.doc.file, event, (), TOO_DEEP)])
                if another_document is None:
                    self.open(event, kind is yaml.MappingStartEvent)
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                depth -= 1
                if another_document is None:
                    self.close()
            elif kind is yaml.AliasEvent:
                raise NeedsGraph()
            elif kind is yaml.DocumentStartEvent:
                if document_mark is None:
                    document_mark = event.start_mark
                elif another_document is None:
                    another_document = event  # reported once the whole stream has parsed
        if another_document is not None:
            raise yaml.composer.ComposerError("expected a single document in the stream",
                                              document_mark, "but found another document",
                                              another_document.start_mark)

    def _value_path(self, parent: _Frame | None, event: yaml.Event) -> Path_ | None:
        """Where the value `event` starts goes (its mark recorded); None: it is not kept."""
        if parent is None:
            path: Path_ = ()
        elif parent.muted:
            return None
        elif not parent.is_map:
            path = (*parent.path, len(parent.container))
        elif parent.key is None:  # the value of a refused or duplicate key
            parent.key = _NO_KEY
            return None
        else:
            path = (*parent.path, parent.key)
        self.doc.value_marks.setdefault(path, event.start_mark)
        return path

    def _put(self, parent: _Frame | None, value: Any) -> None:
        if parent is None:
            self.doc.data = value
        elif parent.is_map:
            parent.container[parent.key] = value
            parent.key = _NO_KEY
        else:
            parent.container.append(value)

    def scalar(self, event: yaml.ScalarEvent) -> None:
        parent = self.top
        tag = event.tag
        if tag is None or tag == "!":
            # Only a plain scalar's type comes from its text; quoted and block ones are strings.
            tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit) \
                if event.implicit[0] else STR_TAG
        if parent is not None and parent.expects_key():
            self.key(parent, event, tag)
            return
        path = self._value_path(parent, event)
        if parent is None:
            self.root_tag, self.root_text = tag, event.value
        if path is None:
            return
        value, refused = read_scalar(tag, event.value, event)
        if refused is not None:
            self.fail(event, path, refused)
        self._put(parent, value)

    def key(self, frame: _Frame, event: yaml.ScalarEvent, tag: str) -> None:
        if tag == MERGE_TAG:
            raise NeedsGraph()
        if tag not in SCALAR_TAGS:
            self.fail(event, frame.path, KEYS_MUST_BE_STRINGS)
            frame.key = None
            return
        key = str(event.value)
        if key in frame.first_seen:
            self.fail(event, (*frame.path, key), duplicate_key(key, frame.first_seen[key]))
            frame.key = None
            return
        frame.first_seen[key] = event.start_mark
        self.doc.key_marks[(*frame.path, key)] = event.start_mark
        frame.key = key

    def _push(self, frame: _Frame) -> None:
        self.stack.append(frame)
        self.top = frame

    def open(self, event: yaml.CollectionStartEvent, mapping: bool) -> None:
        parent = self.top
        tag = event.tag
        if tag is None or tag == "!":
            tag = MAP_TAG if mapping else SEQ_TAG
        if parent is not None and parent.expects_key():  # a collection as a key: refused, all of it
            self.fail(event, parent.path, KEYS_MUST_BE_STRINGS)
            parent.key = None  # its value, after the key's end, is skipped too
            self._push(_Frame(None, parent.path, is_map=mapping, muted=True))
            return
        path = self._value_path(parent, event)
        if parent is None:
            self.root_tag = tag
        if path is None:
            self._push(_Frame(None, (), is_map=mapping, muted=True))
            return
        if tag != (MAP_TAG if mapping else SEQ_TAG):
            self.fail(event, path, unsupported_tag(tag))
            self._put(parent, None)
            self._push(_Frame(None, path, is_map=mapping, muted=True))
            return
        container: dict[str, Any] | list[Any] = {} if mapping else []
        self._put(parent, container)
        self._push(_Frame(container, path, is_map=mapping, muted=False))

    def close(self) -> None:
        self.stack.pop()
        self.top = self.stack[-1] if self.stack else None


def parse_events(text: str, doc: YamlDocument) -> None:
    """Fill `doc` from `text`; raises NeedsGraph, YAML errors, or ConfigProblems."""
    loader = Loader(text)
    builder = _EventBuilder(doc, loader)
    try:
        builder.run()
    finally:
        loader.dispose()
    if is_empty(builder.root_tag, builder.root_text):
        raise ConfigProblems([Problem(doc.file, 1, 1, "", "file is empty")])
    if builder.problems:
        raise ConfigProblems(builder.problems)
