"""Reading one YAML file into plain data plus the line of every value.

PyYAML's constructors forget where values came from and keep the last of two
duplicate keys; both are wrong for a config tool. We build the data ourselves
from libyaml's C parser, so every value keeps its mark, duplicate keys are
errors, only plain YAML types are accepted (no `!!python/object`), and aliases
cannot expand without bound. Ordinary files take one pass over the parser's
events (yamlevents.py); a file with aliases or merge keys goes through the
node graph (yamlgraph.py). yamldoc.py holds what both share.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import yaml

from reconciler.atomicfile import FileTooLarge, read_regular
from reconciler.config.problems import ConfigProblems, Problem
from reconciler.config.yamldoc import LIBYAML_TOO_DEEP, MAX_DEPTH, MAX_VALUES, TOO_DEEP, Mark, YamlDocument
from reconciler.config.yamlevents import NeedsGraph, parse_events
from reconciler.config.yamlgraph import parse_graph

__all__ = ["MAX_DEPTH", "MAX_FILE_BYTES", "MAX_VALUES", "Mark", "YamlDocument", "decode_text", "parse_yaml",
           "read_capped", "read_yaml"]

# A registry file is one target with about 100 registries (~40 KB); a 1 MiB cap
# is 25 times that and keeps even a hostile file's parse well under a second.
MAX_FILE_BYTES = 1024 * 1024


def decode_text(raw: bytes, file: str) -> str:
    """A registry file's text (UTF-8, a BOM dropped); ConfigProblems at the first bad byte if it is not."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigProblems([Problem(file, line, column, "", "file is not valid UTF-8")]) from None


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n % (1024 * 1024) == 0 else f"{n // 1024} KiB"


def read_capped(path: Path, file: str) -> bytes:
    """The file's bytes, reading at most one byte past the cap: a huge file costs nothing.

    A FIFO, socket or device named like a registry file is refused without being
    opened (atomicfile.read_regular): skipping it instead would drop its registries
    from the plan, which then destroys them.
    """
    try:
        return read_regular(path, MAX_FILE_BYTES)
    except FileTooLarge:
        raise ConfigProblems([Problem(file, 0, 0, "", f"file is larger than {_size(MAX_FILE_BYTES)}; "
                                                      "a registry file is far smaller")]) from None
    except OSError as exc:
        raise ConfigProblems([Problem(file, 0, 0, "", f"cannot read file: {exc.strerror}")]) from None


def read_yaml(path: Path, display: str | None = None) -> YamlDocument:
    """Parse one file; every problem in it is raised together as ConfigProblems."""
    file = display or str(path)
    raw = read_capped(path, file)
    return parse_yaml(decode_text(raw, file), file)


def _syntax_problem(exc: yaml.MarkedYAMLError, text: str, file: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
    if exc.problem == LIBYAML_TOO_DEEP:
        return Problem(file, line, column, "", TOO_DEEP)  # _raise_our_depth_problem found none
    reason = exc.problem or exc.context or "invalid YAML"
    # "while parsing a block mapping" adds nothing; "expected a single document" does.
    if exc.problem and exc.context and not exc.context.startswith("while "):
        reason = f"{exc.context}, {exc.problem}"
    if mark and 0 <= mark.index < len(text) and text[mark.index] == "\t":
        reason += " (a tab: YAML indents with spaces only)"
    return Problem(file, line, column, "", f"invalid YAML: {reason}")


def parse_yaml(text: str, file: str) -> YamlDocument:
    """Parse YAML text; every problem in it is raised together as ConfigProblems."""
    try:
        try:
            doc = YamlDocument(file=file, data=None)
            parse_events(text, doc)
        except NeedsGraph:
            doc = YamlDocument(file=file, data=None)
            parse_graph(text, doc)
    except yaml.MarkedYAMLError as exc:
        if exc.problem == LIBYAML_TOO_DEEP and exc.problem_mark is not None:
            _raise_our_depth_problem(text[: exc.problem_mark.index], file)
        raise ConfigProblems([_syntax_problem(exc, text, file)]) from None
    except yaml.reader.ReaderError as exc:
        raise ConfigProblems([_character_problem(exc, text, file)]) from None
    except yaml.YAMLError as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigProblems([Problem(file, 0, 0, "", f"invalid YAML: {first_line}")]) from None
    return doc


def _raise_our_depth_problem(prefix: str, file: str) -> None:
    """Raise our own depth problem, found in the text before libyaml's nesting limit stopped it.

    libyaml refused the file while reading ahead, before its events reached our
    check. The prefix holds no more than libyaml's limit and ends early, so its
    events stream and our check names the same place on every PyYAML release.
    """
    # An alias or a syntax error may come first: then libyaml's place is reported instead.
    with contextlib.suppress(NeedsGraph, yaml.YAMLError):
        parse_events(prefix, YamlDocument(file=file, data=None))


def _character_problem(exc: yaml.reader.ReaderError, text: str, file: str) -> Problem:
    """A character YAML does not allow (NUL, most control characters), at its line and column.

    The reader reports an offset, and its own message runs over two lines.
    """
    position = max(0, min(exc.position, len(text)))
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    code = exc.character if isinstance(exc.character, int) else ord(exc.character or "\0")
    return Problem(file, line, column, "", f"invalid YAML: character U+{code:04X} is not allowed "
                                            "(control characters must be escaped in a quoted string)")
