"""The JSON Schemas as package data, and schema errors as located one-liners.

The schema files live in the top-level `schemas/` (they are documentation as
much as code); the wheel carries them as `reconciler/schemas/` (see
pyproject.toml), and a source checkout falls back to the top-level folder.
"""

from __future__ import annotations

import difflib
import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from reconciler.config.problems import Problem
from reconciler.config.yamlfile import YamlDocument
from reconciler.secrets import REDACTOR

CONFIG_SCHEMA = "registries.schema.json"
SECRET_FIELDS = frozenset({"registry_password"})
REFERENCE_HINT = "write a reference, {env: VARIABLE} or {file: PATH}, not the secret itself"


def schema_text(name: str) -> str:
    packaged = resources.files("reconciler") / "schemas" / name
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    checkout = Path(__file__).resolve().parent.parent / "schemas" / name
    return checkout.read_text(encoding="utf-8")


@cache
def load_schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(schema_text(name))
    return schema


@cache
def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(name))


def _type_name(value: Any) -> str:
    names = {bool: "boolean", int: "integer", float: "number", str: "string",
             list: "list", dict: "mapping", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _allowed_properties(error: ValidationError) -> list[str]:
    return sorted(error.schema.get("properties", {}))


def _message(error: ValidationError) -> str:
    """A message from the failing keyword; never echoes a value that could be a secret."""
    v, expected, value = error.validator, error.validator_value, error.instance
    if v == "type":
        return f"expected {expected}, got {_type_name(value)}"
    if v == "enum":
        return f"'{value}' is not one of: {', '.join(map(str, expected))}"
    if v == "const":
        return f"must be {expected!r}, got {value!r}"
    if v == "minLength":
        return "must not be empty" if expected == 1 else f"must be at least {expected} characters"
    if v == "maxLength":
        return f"is {len(value)} characters; the maximum is {expected}"
    if v == "minimum":
        return f"must be at least {expected}"
    if v == "pattern":
        return f"'{value}' does not match the expected form ({error.schema.get('description', expected)})"
    if v == "required" and "then" in error.absolute_schema_path:
        return str(error.schema.get("description", error.message))
    if v == "required":
        missing = [name for name in expected if name not in value]
        return f"missing required field{'s' if len(missing) > 1 else ''}: {', '.join(missing)}"
    return error.message


def _secret_field(path: tuple[str | int, ...]) -> bool:
    return any(part in SECRET_FIELDS for part in path)


def _value_at(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def validate_document(doc: YamlDocument, schema_name: str = CONFIG_SCHEMA) -> list[Problem]:
    """Every schema violation in the document, each at the line of what is wrong."""
    problems: list[Problem] = []
    reported_secret_paths: set[tuple[str | int, ...]] = set()
    for error in _validator(schema_name).iter_errors(doc.data):
        path = tuple(error.absolute_path)
        if _secret_field(path):
            secret_path = path[: next(i for i, p in enumerate(path) if p in SECRET_FIELDS) + 1]
            literal = _value_at(doc.data, secret_path)
            if isinstance(literal, str):
                REDACTOR.register(literal)  # a pasted password must not show anywhere
            if secret_path not in reported_secret_paths:
                reported_secret_paths.add(secret_path)
                problems.append(doc.problem(secret_path, f"must be a reference; {REFERENCE_HINT}"))
            continue
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = _allowed_properties(error)
            for key in error.instance:
                if key in allowed:
                    continue
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                problems.append(doc.problem((*path, key), f"unknown field{hint}", key=True))
            continue
        if error.validator == "required" and path == () and not isinstance(doc.data, dict):
            continue  # the type error on the root says it better
        problems.append(doc.problem(path, _message(error)))
    return problems
