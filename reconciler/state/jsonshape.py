"""Reading a small JSON file that a person may have edited: parsed with bounds, checked field by field.

The state file and its lock are JSON that hss-reconciler writes and people
sometimes edit. Their schemas (schemas/state.schema.json, schemas/lock.schema.json)
say what they may hold; the checks that enforce them are the typed functions
below, called by state/model.py and state/lock.py, because a plan reads the
state on every run and jsonschema alone costs more start-up time than the rest
of `plan` (tests/unit/test_state_files.py holds the checks and the schemas to
one verdict). A refusal is a `ShapeError`: the field's path (`registries[3].id`)
and what was wrong with it, in JSON's words, never echoing a long or
unprintable value.

Parsing refuses what Python's json accepts but a reader cannot trust: UTF-16 or
UTF-32 text (json detects and reads it; the file is UTF-8), the same
key twice in one object (json keeps the last), NaN and Infinity, a number with
more digits than int() converts, and nesting deeper than the interpreter's
recursion limit (json raises RecursionError), which is reported at its line.
"""

from __future__ import annotations

import json
import re
from typing import Any

# What a field's value is, in JSON's words ("got an object").
_KINDS: tuple[tuple[type, str], ...] = ((bool, "a boolean"), (int, "an integer"), (float, "a number"),
                                        (str, "a string"), (list, "an array"), (dict, "an object"))
# A JSON string, or a bracket: for the line of a too-deep file (compiled only then, by re's cache).
_TOKENS = rb'"(?:[^"\\]|\\.)*"|[\[\]{}]'


Where = tuple[str | int, ...]  # a field's path, ("registries", 3, "id"), joined only for a message


class ShapeError(Exception):
    """A JSON value that breaks its schema: where (`path`, "" for the whole file) and what was wrong."""

    def __init__(self, where: Where, message: str) -> None:
        self.path = dotted(where)
        self.message = message
        super().__init__(f"{self.path}: {message}" if self.path else message)


def dotted(where: Where) -> str:
    """`registries[3].id`: the form jq and editors use; an odd key is shown JSON-escaped and bounded."""
    out = ""
    for part in where:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            shown = part if re.fullmatch(_PLAIN_KEY, part) else json.dumps(part[:64])
            out += f".{shown}" if out else shown
    return out


_PLAIN_KEY = r"[A-Za-z_][A-Za-z0-9_]{0,63}"  # compiled on a refusal only


class _Duplicated(dict[str, Any]):
    """An object in which `key` appeared twice: refused when its path is known (see `obj`)."""

    def __init__(self, pairs: list[tuple[str, Any]], key: str) -> None:
        super().__init__(pairs)
        self.key = key


def _object_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) == len(pairs):
        return data
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            return _Duplicated(pairs, key)
        seen.add(key)
    return data  # not reached: fewer keys than pairs means one came twice


def _constant(name: str) -> Any:
    raise ShapeError((), f"not valid JSON: {name} is not a JSON number")


def load_json(raw: bytes, max_depth: int) -> Any:
    """Parse `raw`; a ShapeError about the whole file when it is not JSON this tool can read.

    `max_depth` is how deep a valid file nests: only used to say where a file
    nested deeper than the parser can follow starts going wrong.
    """
    # Decoded here, not by json.loads: given bytes, it guesses UTF-16 and UTF-32 from the
    # first bytes and reads them, so a state file saved as UTF-16 would load (issue 19.9).
    # A UTF-8 byte order mark, which editors on Windows add, is dropped.
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in raw[:4]:
        raise ShapeError((), "not valid JSON: UTF-16 or UTF-32 text, where it must be UTF-8; "
                             "save it as UTF-8")
    try:
        return json.loads(raw.decode("utf-8-sig"), object_pairs_hook=_object_pairs, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise ShapeError((), f"not valid JSON (line {exc.lineno}): {exc.msg} at column {exc.colno}") from None
    except UnicodeDecodeError:
        raise ShapeError((), "not valid JSON: not UTF-8 text") from None
    except RecursionError:
        line, column = _too_deep_at(raw, max_depth)
        raise ShapeError((), f"not readable JSON (line {line}, column {column}): nested deeper than the "
                             f"parser follows, where a valid one nests {max_depth} levels") from None
    except ValueError as exc:  # a number longer than sys.get_int_max_str_digits()
        if "digits" in str(exc):
            raise ShapeError((), "not readable JSON: a number has more digits than this tool reads") from None
        raise ShapeError((), "not valid JSON") from None


def _too_deep_at(raw: bytes, max_depth: int) -> tuple[int, int]:
    """Line and column of the first bracket deeper than `max_depth` (only run on a refused file)."""
    depth = 0
    for token in re.finditer(_TOKENS, raw):
        if token[0] in (b"[", b"{"):
            depth += 1
            if depth > max_depth:
                offset = token.start()
                return raw.count(b"\n", 0, offset) + 1, offset - (raw.rfind(b"\n", 0, offset) + 1) + 1
        elif token[0] in (b"]", b"}"):
            depth -= 1
    return 1, 1


def kind(value: Any) -> str:
    if value is None:
        return "null"
    return next((name for cls, name in _KINDS if isinstance(value, cls)), type(value).__name__)


def obj(value: Any, path: Where, required: tuple[str, ...], optional: tuple[str, ...] = (), *,
        closed: bool = True) -> dict[str, Any]:
    """An object holding every `required` key; with `closed`, no key outside `required` and `optional`."""
    if not isinstance(value, dict):
        raise ShapeError(path, f"expected an object, got {kind(value)}")
    if isinstance(value, _Duplicated):
        raise ShapeError((*path, value.key), "appears twice in one object")
    for key in required:
        if key not in value:
            raise ShapeError((*path, key), "missing (a required field)")
    if closed and len(value) > len(required):
        for key in value:
            if key not in required and key not in optional:
                raise ShapeError((*path, key), "unknown field")
    return value


def array(value: Any, path: Where) -> list[Any]:
    if not isinstance(value, list):
        raise ShapeError(path, f"expected an array, got {kind(value)}")
    return value


def string(value: Any, path: Where, *, min_length: int = 0, max_length: int | None = None,
           pattern: re.Pattern[str] | None = None, like: str = "", nullable: bool = False,
           text: bool = True) -> Any:
    """A string within the bounds (or None if `nullable`).

    `pattern` is searched as JSON Schema does (re.search); `like` says in words
    what it wants. With `text`, a lone surrogate (json reads "\\ud800") is refused:
    it is not text, and the file could not be written again.
    """
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        raise ShapeError(path, f"expected a string{' or null' if nullable else ''}, got {kind(value)}")
    if len(value) < min_length or (max_length is not None and len(value) > max_length):
        bounds = f"{min_length} to {max_length}" if max_length is not None else f"at least {min_length}"
        raise ShapeError(path, f"expected {bounds} characters, got {len(value)}")
    if pattern is not None and not pattern.search(value):
        raise ShapeError(path, f"expected {like}")
    if text and not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ShapeError(path, f"holds U+{ord(value[exc.start]):04X}, a lone surrogate, "
                                   "which is not text") from None
    return value


def integer(value: Any, path: Where, *, minimum: int, maximum: int | None = None,
            nullable: bool = False) -> Any:
    """An integer (not a boolean, not 1.0) within the bounds (or None if `nullable`)."""
    if value is None and nullable:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ShapeError(path, f"expected an integer{' or null' if nullable else ''}, got {kind(value)}")
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
        digits = len(str(abs(value)))
        shown = str(value) if digits <= 24 else f"a {digits}-digit {'negative ' if value < 0 else ''}number"
        raise ShapeError(path, f"expected an integer {bounds}, got {shown}")
    return value
