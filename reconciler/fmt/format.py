"""One file through the formatting pipeline, and the atomic write that replaces it."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml
from ruamel.yaml.error import YAMLError as RuamelError

from reconciler.atomicfile import atomic_write
from reconciler.config.problems import ConfigProblems, Problem
from reconciler.config.yamlfile import decode_text, parse_yaml, read_capped
from reconciler.errors import ReconcilerError
from reconciler.fmt.comments import comment_texts, find_comments, flow_spans
from reconciler.fmt.layout import modeline_first, restyle, split_header, split_trailer, tidy
from reconciler.fmt.order import reorder_keys
from reconciler.schema import validate_document

FLOW_COMMENT_LOST = "fmt cannot keep the comment inside this flow collection; write it in block style"


@dataclass(frozen=True)
class FormatResult:
    path: Path
    original: str
    formatted: str

    @property
    def changed(self) -> bool:
        return self.original != self.formatted


def format_text(text: str, file: str) -> str:
    """The canonical layout of one registry file's text.

    Raises ConfigProblems when the file does not validate: a formatter that
    rewrote an invalid file could move the very line an error points at.
    """
    original = parse_yaml(text, file)
    problems = validate_document(original)
    if problems:
        raise ConfigProblems(problems)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    located = text  # lines as the user's editor numbers them, for the error of `_keep_comments`
    text = re.sub(r"\A(?:[ \t]*\n)+", "", text)
    if not text.endswith("\n"):
        text += "\n"
    failure = ReconcilerError(f"{file}: fmt cannot lay this file out without changing what it means "
                              "(YAML anchors and aliases can); nothing was written. Please report it.")
    try:
        header, body = split_header(modeline_first(text))
        body, trailer = split_trailer(body)
        result = tidy(reorder_keys(header + restyle(body)))
        # The trailer holds only the marker and comments: each at column 0, no blank lines.
        result += "".join(f"{line.strip()}\n" for line in trailer.splitlines() if line.strip())
        # Last line of defence: formatting may move and re-indent, never change meaning.
        same = parse_yaml(result, file).data == original.data
    except (yaml.YAMLError, RuamelError, ConfigProblems):
        raise failure from None
    if not same:
        raise failure
    _keep_comments(located, result, file)
    return result


def _keep_comments(before: str, after: str, file: str) -> None:
    """Refuse a layout that lost a comment: README promises comments are kept, and a formatter
    that dropped one silently would have `fmt --check` pass over the loss. ruamel.yaml drops
    comments in more places than `comments` works around, so every comment is counted.

    Raises ConfigProblems (so `fmt` reports it like a validation error and writes nothing)
    at the first comment of `before` whose text `after` has fewer copies of.
    """
    missing = Counter(comment_texts(before)) - Counter(comment_texts(after))
    if not missing:
        return
    flows = flow_spans(before)
    for comment in find_comments(before):
        if missing[comment.text]:
            inside = any(start < comment.index < end for start, end in flows)
            message = (FLOW_COMMENT_LOST if inside
                       else "fmt cannot keep this comment; nothing was written. Please report it")
            raise ConfigProblems([Problem(file, comment.line + 1, comment.column + 1, "", message)])


def format_file(path: Path) -> FormatResult:
    """Read and format one file; writes nothing."""
    file = str(path)
    raw = read_capped(path, file)
    original = decode_text(raw, file)
    # Compare with the raw text, so a BOM or CRLF line ends count as "not formatted".
    return FormatResult(path, raw.decode("utf-8", errors="replace"), format_text(original, file))


def write_atomically(path: Path, text: str) -> None:
    """Replace the file so that a reader (an editor, a concurrent `validate`) never sees half of
    it; keeps its permission bits, and writes through a symlink rather than replacing it."""
    try:
        atomic_write(path, text.encode("utf-8"), mode=None, follow_symlinks=True)
    except OSError as exc:
        raise ReconcilerError(f"{path}: cannot write the formatted file: {exc.strerror or exc}") from None
