"""The JSON Schemas as package data, and schema errors as located one-liners.

The schema files live in the top-level `schemas/` (they are documentation as
much as code); the wheel carries them as `reconciler/schemas/` (see
pyproject.toml), and a source checkout falls back to the top-level folder.

A registry file is first checked by code generated from its schema
(reconciler/generated, by tools/generate_validators.py): a valid workspace,
the common case, never imports jsonschema, which alone costs more start-up
time than the rest of the command. Only a file the generated code refuses is
walked by jsonschema, whose errors the messages below are made from. A plan
file being read (plan/document.py) gets its messages here too
(`schema_errors`, `describe_error`), in JSON's words and without its values.
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


REFERENCE_KEYS = ("env", "file")
# A registry file is YAML, whose users speak of mappings and lists; a JSON
# document (a plan) keeps JSON's objects and arrays.
_YAML_TYPES = {"object": "mapping", "array": "list"}
_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string",
               list: "array", dict: "object", type(None): "null"}


def _type_words(schema_name: str) -> dict[str, str]:
    return _YAML_TYPES if schema_name == CONFIG_SCHEMA else {}


def _type_name(value: Any, schema_name: str) -> str:
    name = _JSON_TYPES.get(type(value), type(value).__name__)
    return _type_words(schema_name).get(name, name)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _declared_properties(schema: dict[str, Any], schema_name: str) -> list[str]:
    """The property names a schema object declares, itself and through a local $ref."""
    names = set(schema.get("properties", {}))
    ref = schema.get("$ref", "")
    if ref.startswith("#/$defs/"):
        names.update(_declared_properties(load_schema(schema_name)["$defs"][ref.removeprefix("#/$defs/")],
                                          schema_name))
    return sorted(names)


def _type_message(error: ValidationError, schema_name: str) -> str:
    expected, value = error.validator_value, error.instance
    types = [expected] if isinstance(expected, str) else expected
    wanted = " or ".join(_type_words(schema_name).get(t, t) for t in types)
    got = _type_name(value, schema_name)
    if not error.absolute_path and schema_name == CONFIG_SCHEMA and wanted == "mapping":
        return f"a registry file is a mapping of version, target and registries; got {got}"
    message = f"expected {wanted}, got {got}"
    if wanted == "string" and isinstance(value, int | float) and not isinstance(value, bool):
        message += " (quote it to make it a string)"
    return message


def _hint(close: str | None) -> str:
    return f" (did you mean '{close}'?)" if close else ""


def _suggestion(key: str, allowed: list[str]) -> str | None:
    close = difflib.get_close_matches(key, allowed, n=1)
    return close[0] if close else None


def _enum_message(expected: list[Any], value: Any, show_values: bool) -> str:
    said = f"{_json(value)} is not one of" if show_values else "must be one of"
    same_but_case = [e for e in expected if isinstance(value, str) and str(e).lower() == value.lower()]
    close = same_but_case or difflib.get_close_matches(str(value), list(map(str, expected)), n=1)
    return f"{said}: {', '.join(map(str, expected))}{_hint(str(close[0]) if close else None)}"


def _unknown_fields_message(error: ValidationError, schema_name: str) -> str:
    allowed = _declared_properties(error.schema, schema_name)
    extra = sorted(str(key) for key in error.instance if key not in allowed)
    named = ", ".join(f"{key}{_hint(_suggestion(key, allowed))}" for key in extra)
    return f"unknown field{'s' if len(extra) != 1 else ''}: {named}"


def describe_error(error: ValidationError, schema_name: str = CONFIG_SCHEMA, *, show_values: bool = True,
                   typos_of: frozenset[str] = frozenset()) -> str:
    """What is wrong, in one line made from the failing keyword; the caller says where.

    Shared by registry files (YAML: mappings and lists) and plan documents
    (JSON: objects and arrays; `schema_name` says which). A wrong secret field
    is the caller's to word (`validate_document` here, `plan.document` refuses
    it before validating). With `show_values=False` the line holds no value of
    the document at all: in a plan edited by hand any field may hold a pasted
    password. `typos_of`: required fields that an unknown key already names as
    a likely typo, so they are not reported missing too.
    """
    v, expected, value = error.validator, error.validator_value, error.instance
    if v == "type":
        return _type_message(error, schema_name)
    if v == "enum":
        return _enum_message(expected, value, show_values)
    if v == "const":
        return f"must be {_json(expected)}" + (f", got {_json(value)}" if show_values else "")
    if v == "minLength":
        return "must not be empty" if expected == 1 else f"must be at least {expected} characters"
    if v == "maxLength":
        return f"is {len(value)} characters; the maximum is {expected}"
    if v == "minimum":
        return f"must be at least {expected}"
    if v == "pattern":
        form = error.schema.get("patternErrorMessage", f"the pattern {expected}")
        return f"{_json(value)} is not {form}" if show_values else f"is not {form}"
    if v == "uniqueItems":
        return "lists an item more than once"
    if v in ("additionalProperties", "unevaluatedProperties") and isinstance(value, dict):
        return _unknown_fields_message(error, schema_name)
    if v == "required" and "then" in error.absolute_schema_path:
        return str(error.schema.get("description", error.message))
    if v == "required":
        missing = [name for name in expected if name not in value and name not in typos_of]
        return f"missing required field{'s' if len(missing) > 1 else ''}: {', '.join(missing)}"
    return error.message if show_values else f"does not match the schema ({v})"


def schema_errors(data: Any, schema_name: str) -> list[ValidationError]:
    """jsonschema's errors for `data`, in the order of their paths; for a failed oneOf or
    anyOf, the error of the branch that fits best: "matches none of the branches" says
    nothing, the branch that fits the value's type says what is wrong."""
    from jsonschema.exceptions import best_match  # only for a document with errors

    errors = []
    for error in sorted(_validator(schema_name).iter_errors(data),
                        key=lambda e: list(map(str, e.absolute_path))):
        while error.context:
            error = best_match(error.context)
        errors.append(error)
    return errors


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
        hint = _hint(_suggestion(unknown[0], list(REFERENCE_KEYS)))
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


def _suggested_fields(errors: list[ValidationError], schema_name: str
                      ) -> dict[tuple[str | int, ...], set[str]]:
    """Per mapping, the known fields that an unknown key there looks like a typo of."""
    suggested: dict[tuple[str | int, ...], set[str]] = {}
    for error in errors:
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = _declared_properties(error.schema, schema_name)
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
    suggested = _suggested_fields(errors, schema_name)
    for error in errors:
        path = tuple(error.absolute_path)
        if _secret_field(path):
            secret_path = path[: next(i for i, p in enumerate(path) if p in SECRET_FIELDS) + 1]
            if (secret_path, "secret") not in reported:
                reported.add((secret_path, "secret"))
                problems.append(_reference_problem(doc, secret_path))
            continue
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = _declared_properties(error.schema, schema_name)
            problems += [doc.problem((*path, key), f"unknown field{_hint(_suggestion(key, allowed))}",
                                     key=True) for key in error.instance if key not in allowed]
            continue
        if error.validator == "required" and path == () and not isinstance(doc.data, dict):
            continue  # the type error on the root says it better
        if error.validator == "required" and isinstance(error.instance, dict):
            missing = {n for n in error.validator_value if n not in error.instance}
            if missing <= suggested.get(path, set()):
                continue  # "unknown field 'protocl' (did you mean 'protocol'?)" already says it
        message = describe_error(error, schema_name, typos_of=frozenset(suggested.get(path, ())))
        # jsonschema reports each missing field apart, each time naming them all: keep one.
        if (path, message) in reported:
            continue
        reported.add((path, message))
        problems.append(doc.problem(path, message))
    return problems
