"""Check requests against schemas/hss-api.schema.json and name the bad field.

The schema is the only place the documented ranges live. Messages are built
here from the failing keyword, never from jsonschema's default text, because
that text quotes the offending value, and the value may be a password.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from jsonschema.exceptions import best_match

from reconciler.emulator.errors import invalid
from reconciler.emulator.schemas import load_schema

_INTEGER = re.compile(r"[+-]?[0-9]{1,12}")
_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "array": "a list",
    "object": "a JSON object",
}


def definition(name: str) -> dict[str, Any]:
    found: dict[str, Any] = load_schema()["$defs"][name]
    return found


_DEFS_REF = "#/$defs/"


def _inlined(node: Any, defs: Mapping[str, Any], within: tuple[str, ...] = ()) -> Any:
    """`node` with every local `$ref` replaced by the definition it names.

    jsonschema resolves a `$ref` on every validation (a registry lookup and a
    pointer walk each time), which was two thirds of the emulator's CPU per
    request; the wire schema is not recursive, so the references can go once.
    Every `$ref` in it stands alone (siblings are annotations only), so a
    replacement means the same thing.
    """
    if isinstance(node, list):
        return [_inlined(item, defs, within) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith(_DEFS_REF):
        name = ref[len(_DEFS_REF):]
        if name in within:
            raise ValueError(f"recursive $ref to {name}: cannot inline")
        return _inlined(defs[name], defs, (*within, name))
    return {key: _inlined(value, defs, within) for key, value in node.items()}


@cache
def _validator(name: str) -> Draft202012Validator:
    root = load_schema()
    schema = {"$schema": root["$schema"], **_inlined(root["$defs"][name], root["$defs"], (name,))}
    return Draft202012Validator(schema)


def check(name: str, instance: object, where: str = "request body") -> None:
    """Raise a 400 HSS.0001 naming the first field that breaks ``$defs/name``."""
    error = best_match(_validator(name).iter_errors(instance))
    if error is not None:
        raise invalid(describe(error, where))


def parse_body(body: bytes, name: str) -> dict[str, Any]:
    """The JSON object in ``body``, valid against ``$defs/name``."""
    if not body.strip():
        raise invalid("request body: must be a JSON object")
    try:
        data = json.loads(body)
    except ValueError:  # UnicodeDecodeError is one too
        raise invalid("request body: is not valid JSON") from None
    check(name, data)
    result: dict[str, Any] = data
    return result


def parse_query(pairs: Iterable[tuple[str, str]], name: str) -> dict[str, Any]:
    """Typed query values (schema defaults filled in); unknown parameters are ignored.

    A repeated parameter keeps its last value.
    """
    properties: dict[str, Any] = definition(name).get("properties", {})
    values: dict[str, Any] = {}
    for key, raw in pairs:
        if key in properties:
            values[key] = _coerce(key, raw, properties[key])
    check(name, values, where="query")
    for key, prop in properties.items():
        if "default" in prop:
            values.setdefault(key, prop["default"])
    return values


def _coerce(key: str, raw: str, prop: Mapping[str, Any]) -> object:
    kind = prop.get("type")
    if kind == "integer":
        if not _INTEGER.fullmatch(raw):
            raise invalid(f"{key}: must be an integer")
        return int(raw)
    if kind == "array":
        return raw.split(",")
    return raw


def describe(error: ValidationError, where: str = "request body") -> str:
    """``field: what is wrong``, without the offending value."""
    path: list[str | int] = list(error.absolute_path)
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    instance = error.instance
    keyword = error.validator
    if keyword == "required":
        path.append(next(n for n in error.validator_value if n not in instance))
        text = schema.get("x-required-message", "is required")
    elif keyword == "additionalProperties":
        allowed = schema.get("properties", {})
        path.append(sorted(k for k in instance if k not in allowed)[0])
        text = "unknown field"
    elif keyword in ("minLength", "maxLength"):
        text = "length must be " + _bounds(schema.get("minLength"), schema.get("maxLength"))
    elif keyword in ("minimum", "maximum"):
        text = "must be " + _bounds(schema.get("minimum"), schema.get("maximum"))
    elif keyword in ("minItems", "maxItems"):
        text = "number of items must be " + _bounds(schema.get("minItems"), schema.get("maxItems"))
    elif keyword == "enum":
        text = "must be one of " + ", ".join(str(v) for v in error.validator_value)
    elif keyword == "type":
        text = "must be " + _TYPE_NAMES.get(str(error.validator_value), str(error.validator_value))
    else:
        text = "is invalid"
    return f"{_field(path, where)}: {text}"


def _bounds(low: object, high: object) -> str:
    if low is not None and high is not None:
        return f"{low}-{high}"
    return f"at least {low}" if low is not None else f"at most {high}"


def _field(path: list[str | int], where: str) -> str:
    if not path:
        return where
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text

