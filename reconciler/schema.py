"""The JSON Schemas as package data, and schema errors as located one-liners.

The schema files live in the top-level `schemas/` (they are documentation as
much as code); the wheel carries them as `reconciler/schemas/` (see
pyproject.toml), and a source checkout falls back to the top-level folder.

A registry file is first checked by code generated from its schema
(reconciler/generated, by tools/generate_validators.py): a valid workspace,
the common case, never imports jsonschema, which alone costs more start-up
time than the rest of the command. Only a file the generated code refuses is
walked by jsonschema, whose errors the messages below are made from.
"""

from __future__ import annotations

import difflib
import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from reconciler.generated import registries_validator
from reconciler.registry import SECRET_FIELDS
from reconciler.secrets import REDACTOR

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

CONFIG_SCHEMA = "registries.schema.json"
REFERENCE_HINT = "write a reference, {env: VARIABLE} or {file: PATH}, not the secret itself"
REFERENCE_FORMS = "a reference is {env: VARIABLE} or {file: PATH}"

Problem_co = TypeVar("Problem_co", covariant=True)


class LocatedDocument(Protocol[Problem_co]):
    """What validation needs of a parsed file: its data, and a problem located at a path.

    config's YamlDocument is one; this module knows nothing of YAML or of
    config, so config can validate through it without an import cycle.
    """

    @property
    def data(self) -> Any: ...

    def problem(self, path: tuple[str | int, ...], message: str, *, key: bool = False) -> Problem_co: ...


def schema_text(name: str) -> str:
    # Imported here: only messages for an invalid file and the `schema` command read the
    # text, and importlib.resources brings tempfile and shutil with it.
    from importlib import resources

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
    from jsonschema import Draft202012Validator  # only for a file with errors: see the module doc

    return Draft202012Validator(load_schema(name))


def _generated_accepts(data: Any, schema_name: str) -> bool:
    """True if the generated validator of this schema accepts the data; False if it refuses or there is none.

    It agrees with jsonschema on what is valid (tests/unit/test_generated_validator.py),
    so accepting here is the whole validation, not a shortcut around it.
    """
    if schema_name != CONFIG_SCHEMA:
        return False
    try:
        registries_validator.validate_registry_file(data)
    except registries_validator.JsonSchemaValueException:
        return False
    return True


_TYPE_NAMES = {"object": "mapping", "array": "list"}
REFERENCE_KEYS = ("env", "file")


def _type_name(value: Any) -> str:
    names = {bool: "boolean", int: "integer", float: "number", str: "string",
             list: "list", dict: "mapping", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _allowed_properties(error: ValidationError) -> list[str]:
    return sorted(error.schema.get("properties", {}))


def _type_message(error: ValidationError) -> str:
    expected, value = error.validator_value, error.instance
    types = [expected] if isinstance(expected, str) else expected
    wanted = " or ".join(_TYPE_NAMES.get(t, t) for t in types)
    message = f"expected {wanted}, got {_type_name(value)}"
    if not error.absolute_path and wanted == "mapping":
        return f"a registry file is a mapping of version, target and registries; got {_type_name(value)}"
    if wanted == "string" and isinstance(value, int | float) and not isinstance(value, bool):
        message += " (quote it to make it a string)"
    return message


def _enum_message(expected: list[Any], value: Any) -> str:
    message = f"{_json(value)} is not one of: {', '.join(map(str, expected))}"
    same_but_case = [e for e in expected if isinstance(value, str) and str(e).lower() == value.lower()]
    close = same_but_case or difflib.get_close_matches(str(value), list(map(str, expected)), n=1)
    return f"{message} (did you mean '{close[0]}'?)" if close else message


def _message(error: ValidationError, typos_of: frozenset[str] = frozenset()) -> str:
    """A message from the failing keyword; never echoes a value that could be a secret."""
    v, expected, value = error.validator, error.validator_value, error.instance
    if v == "type":
        return _type_message(error)
    if v == "enum":
        return _enum_message(expected, value)
    if v == "const":
        return f"must be {_json(expected)}, got {_json(value)}"
    if v == "minLength":
        return "must not be empty" if expected == 1 else f"must be at least {expected} characters"
    if v == "maxLength":
        return f"is {len(value)} characters; the maximum is {expected}"
    if v == "minimum":
        return f"must be at least {expected}"
    if v == "pattern":
        form = error.schema.get("patternErrorMessage", f"the pattern {expected}")
        return f"{_json(value)} is not {form}"
    if v == "required" and "then" in error.absolute_schema_path:
        return str(error.schema.get("description", error.message))
    if v == "required":
        missing = [name for name in expected if name not in value and name not in typos_of]
        return f"missing required field{'s' if len(missing) > 1 else ''}: {', '.join(missing)}"
    return error.message


def _secret_field(path: tuple[str | int, ...]) -> bool:
    return any(part in SECRET_FIELDS for part in path)


def _value_at(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def _reference_problem(doc: LocatedDocument[Problem_co], path: tuple[str | int, ...]) -> Problem_co:
    """What is wrong with a secret field, saying how to write it; never shows what was written."""
    value = _value_at(doc.data, path)
    if not isinstance(value, dict):
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            REDACTOR.register(str(value))  # a pasted password must not show anywhere
        return doc.problem(path, f"must be a reference; {REFERENCE_HINT}")
    unknown = [key for key in value if key not in REFERENCE_KEYS]
    if unknown:
        close = difflib.get_close_matches(unknown[0], REFERENCE_KEYS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return doc.problem((*path, unknown[0]), f"unknown key in a reference{hint}; {REFERENCE_FORMS}",
                           key=True)
    if len(value) != 1:
        what = "names both env and file" if value else "is an empty reference"
        return doc.problem(path, f"{what}; {REFERENCE_FORMS}")
    kind = next(iter(value))
    if kind == "env":
        return doc.problem((*path, kind), "must name an environment variable: letters, digits and _, "
                                          "not starting with a digit")
    return doc.problem((*path, kind), "must be the path of a file holding the password")


def _dedupe_pattern(errors: list[ValidationError]) -> list[ValidationError]:
    """An empty string fails minLength and the pattern; 'must not be empty' says it all."""
    empty = {tuple(e.absolute_path) for e in errors if e.validator == "minLength"}
    return [e for e in errors if not (e.validator == "pattern" and tuple(e.absolute_path) in empty)]


def _suggestion(key: str, allowed: list[str]) -> str | None:
    close = difflib.get_close_matches(key, allowed, n=1)
    return close[0] if close else None


def _suggested_fields(errors: list[ValidationError]) -> dict[tuple[str | int, ...], set[str]]:
    """Per mapping, the known fields that an unknown key there looks like a typo of."""
    suggested: dict[tuple[str | int, ...], set[str]] = {}
    for error in errors:
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = _allowed_properties(error)
            names = {_suggestion(k, allowed) for k in error.instance if k not in allowed}
            suggested.setdefault(tuple(error.absolute_path), set()).update(n for n in names if n)
    return suggested


def validate_document(doc: LocatedDocument[Problem_co], schema_name: str = CONFIG_SCHEMA) -> list[Problem_co]:
    """Every schema violation in the document, each at the line of what is wrong."""
    if _generated_accepts(doc.data, schema_name):
        return []
    problems: list[Problem_co] = []
    reported: set[tuple[tuple[str | int, ...], str]] = set()  # (path, message) already said
    errors = _dedupe_pattern(list(_validator(schema_name).iter_errors(doc.data)))
    suggested = _suggested_fields(errors)
    for error in errors:
        path = tuple(error.absolute_path)
        if _secret_field(path):
            secret_path = path[: next(i for i, p in enumerate(path) if p in SECRET_FIELDS) + 1]
            if (secret_path, "secret") not in reported:
                reported.add((secret_path, "secret"))
                problems.append(_reference_problem(doc, secret_path))
            continue
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = _allowed_properties(error)
            for key in error.instance:
                if key in allowed:
                    continue
                close = _suggestion(key, allowed)
                hint = f" (did you mean '{close}'?)" if close else ""
                problems.append(doc.problem((*path, key), f"unknown field{hint}", key=True))
            continue
        if error.validator == "required" and path == () and not isinstance(doc.data, dict):
            continue  # the type error on the root says it better
        if error.validator == "required" and isinstance(error.instance, dict):
            missing = {n for n in error.validator_value if n not in error.instance}
            if missing <= suggested.get(path, set()):
                continue  # "unknown field 'protocl' (did you mean 'protocol'?)" already says it
        message = _message(error, frozenset(suggested.get(path, ())))
        # jsonschema reports each missing field apart, each time naming them all: keep one.
        if (path, message) in reported:
            continue
        reported.add((path, message))
        problems.append(doc.problem(path, message))
    return problems
