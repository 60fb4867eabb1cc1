"""Write reconciler/generated/registries_validator.py from schemas/registries.schema.json.

    python tools/generate_validators.py          # regenerate after editing the schema
    python tools/generate_validators.py --check  # exit 1 if the checked-in file is stale

Why generate: importing jsonschema and walking 2,000 registries with it costs
far more than the CLI's time budget, while fastjsonschema's generated code is
plain Python. The generated module is a yes/no gate: when it says no,
`reconciler.schema` asks jsonschema for the located messages, so messages come
from one place and the two must agree exactly on what is valid. The unit tests
check both that agreement and that the checked-in file is what this script
writes now.

Why the schema is rewritten before fastjsonschema sees it: the schema is draft
2020-12 and fastjsonschema knows drafts 4 to 7 (and 2019-09 in part). Every
keyword the schema uses means the same in draft-07 for the forms used here,
which `_draft07_copy` checks keyword by keyword, so the copy is labelled
draft-07 and loses what only annotates (titles, descriptions, `default`,
`patternErrorMessage`) so that it cannot change anything:
`default` in particular would otherwise be *written into the data* by
fastjsonschema's `use_default`.

Why the code is rewritten after: fastjsonschema is a test/dev dependency, so
the module defines its own exception; and a few of its choices differ from
jsonschema's, which defines what valid means here (see `_postprocess`).
"""

from __future__ import annotations

import argparse
import ast
import copy
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

import fastjsonschema

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "schemas" / "registries.schema.json"
OUTPUT = ROOT / "reconciler" / "generated" / "registries_validator.py"
COMMAND = "python tools/generate_validators.py"
DRAFT_07 = "http://json-schema.org/draft-07/schema#"

# Keywords that only annotate: dropped from the copy (they cannot change validity).
ANNOTATIONS = frozenset({"title", "description", "default", "examples", "$comment", "deprecated",
                         "readOnly", "writeOnly", "patternErrorMessage"})
# Assertions that fastjsonschema's draft-07 and jsonschema's 2020-12 judge alike on what YAML
# yields (str, int, float, bool, None, list, dict); the equivalence tests hold them to it.
SAME_IN_DRAFT_07 = frozenset({"type", "enum", "const", "minLength", "maxLength", "pattern", "minimum",
                              "maximum", "minProperties", "maxProperties", "required", "minItems",
                              "maxItems"})
# Keywords holding one subschema, or a mapping of names to subschemas. `items` with one
# schema is the same in both drafts (the array form became prefixItems: refused below).
ONE_SCHEMA = frozenset({"additionalProperties", "items", "if", "then", "else", "not"})
NAMED_SCHEMAS = frozenset({"properties", "$defs"})


class SchemaNotPortable(Exception):
    """The schema uses something whose draft-07 reading could differ; the generator must be taught."""


def _draft07_copy(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema as draft-07 with the same meaning, or SchemaNotPortable saying what is in the way."""
    def walk(node: Any, where: str, root: bool = False) -> Any:
        if isinstance(node, bool):
            return node
        if not isinstance(node, dict):
            raise SchemaNotPortable(f"{where}: a schema must be an object or a boolean")
        if "$ref" in node:
            ref = node["$ref"]
            if not (isinstance(ref, str) and ref.startswith("#/")):
                raise SchemaNotPortable(f"{where}: only local '#/...' references are handled")
            # Draft-07 (and fastjsonschema) ignore the siblings of $ref; 2020-12 applies them.
            # They agree only if the siblings do not assert anything.
            asserting = sorted(set(node) - ANNOTATIONS - {"$ref", "$defs", "$schema", "$id"})
            if asserting:
                raise SchemaNotPortable(f"{where}: $ref next to {asserting}")
        out: dict[str, Any] = {}
        for key, value in node.items():
            at = f"{where}/{key}"
            if key in ANNOTATIONS:
                continue
            if key in ("$schema", "$id") and root:
                continue  # replaced below; every $ref is local, so the base URI changes nothing
            if key in ("minimum", "maximum") and node.get("type") not in ("integer", "number"):
                raise SchemaNotPortable(f"{at}: {key} without a numeric type (see _postprocess)")
            if key in SAME_IN_DRAFT_07 or key == "$ref":
                out[key] = copy.deepcopy(value)
            elif key in ONE_SCHEMA:
                out[key] = walk(value, at)
            elif key in NAMED_SCHEMAS and isinstance(value, dict):
                out[key] = {name: walk(sub, f"{at}/{name}") for name, sub in value.items()}
            else:
                raise SchemaNotPortable(f"{at}: keyword '{key}' is not known to mean the same in draft-07")
        return out

    converted: dict[str, Any] = walk(schema, "#", root=True)
    return {"$schema": DRAFT_07, **converted}


_EXCEPTION = '''class JsonSchemaValueException(ValueError):
    """The data breaks the schema (the first violation found); jsonschema then says where and why."""

    def __init__(self, message, value=None, name=None, definition=None, rule=None):
        super().__init__(message)
        self.message = message
        self.value = value
        self.name = name
        self.definition = definition
        self.rule = rule


class JsonSchemaValuesException(ValueError):
    """Never raised with fast_fail (the default), but named by the generated code."""
'''


def _replace(pattern: str, replacement: Any, text: str, what: str, required: bool = True) -> str:
    """re.subn that fails loudly when a fastjsonschema upgrade changes the code it expects."""
    new, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    if required and not count:
        raise SystemExit(f"generate_validators: cannot find {what} in fastjsonschema's output "
                         f"(fastjsonschema {fastjsonschema.VERSION}); update _postprocess")
    return new


def _postprocess(code: str, patterns: list[str]) -> str:
    """fastjsonschema's code, made standalone and made to agree with jsonschema."""
    code = _replace(r"^from fastjsonschema import .*\n", "", code, "the fastjsonschema import")
    code = _replace(r"^VERSION = .*\n", "", code, "the VERSION line")
    # Decimal only widens minimum/maximum, which _draft07_copy allows only next to a numeric
    # `type` that refuses a Decimal first; importing decimal would cost more than the rest.
    code = _replace(r"^from decimal import Decimal\n", "", code, "the decimal import")
    code = _replace(r"\(int, float, Decimal\)", "(int, float)", code, "numeric checks", required=False)
    code = _replace(r"^NoneType = ", lambda m: "\n" + _EXCEPTION + "\n\n" + m[0], code, "NoneType")

    # fastjsonschema turns `$` into `\Z`; jsonschema runs each pattern as written with re.search,
    # where `$` also matches before a final newline. Compile each pattern as written.
    entries = "".join(f"    {p!r}: re.compile({p!r}),\n" for p in patterns)
    code = _replace(r"^REGEX_PATTERNS = \{\n(?:    .*\n)*?\}$", lambda _: f"REGEX_PATTERNS = {{\n{entries}}}",
                    code, "REGEX_PATTERNS")

    # Each raise carries the repr of its whole subschema, which nobody reads (jsonschema writes the
    # messages) and which nearly doubles the module: some 10 ms more to compile where
    # bytecode is not cached (PYTHONDONTWRITEBYTECODE=1 in containers). detailed_exceptions=False
    # would drop it, but fastjsonschema 2.22.3 fails on `const` with it.
    code = _replace(r", definition=.*, rule=('[^']*')\)$", r", rule=\1)", code, "definition arguments")
    if re.search(r"^ *raise .*, definition=", code, flags=re.MULTILINE):
        raise SystemExit("generate_validators: a definition= argument is left in the generated code")

    # fastjsonschema also takes a tuple for an array; jsonschema takes only a list.
    code = _replace(r"isinstance\((\w+), \(list, tuple\)\)", r"isinstance(\1, list)", code, "array checks",
                    required=False)
    if "(list, tuple)" in code:
        raise SystemExit("generate_validators: an array check still takes tuples")
    return code


def _patterns(node: Any) -> list[str]:
    """Every `pattern` in the (draft-07) schema, in document order, once each."""
    found: list[str] = []
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            found.append(node["pattern"])
        for key, value in node.items():
            if key in ONE_SCHEMA:
                found += _patterns(value)
            elif key in NAMED_SCHEMAS:
                for sub in value.values():
                    found += _patterns(sub)
    return list(dict.fromkeys(found))


def _self_check(text: str, patterns: list[str]) -> None:
    """The module runs with the standard library alone, and looks up only the patterns it compiles."""
    namespace: dict[str, Any] = {"__name__": "generated"}
    exec(compile(text, str(OUTPUT), "exec"), namespace)
    keys = re.findall(r"REGEX_PATTERNS\[('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")\]", text)
    looked_up = {ast.literal_eval(key) for key in keys}
    if not looked_up == set(namespace["REGEX_PATTERNS"]) == set(patterns):
        raise SystemExit("generate_validators: the generated pattern table does not match its lookups")
    if re.search(r"^(from|import) (fastjsonschema|decimal)", text, flags=re.MULTILINE) or "Decimal" in text:
        raise SystemExit("generate_validators: the generated module still imports fastjsonschema or decimal")


def render(schema_path: Path = SCHEMA) -> str:
    """The whole generated module, deterministically, as text."""
    raw = schema_path.read_bytes()
    schema = json.loads(raw)
    portable = _draft07_copy(schema)
    patterns = _patterns(portable)
    code = fastjsonschema.compile_to_code(copy.deepcopy(portable), use_default=False)
    relative = schema_path.relative_to(ROOT) if schema_path.is_relative_to(ROOT) else schema_path
    header = (
        f"# GENERATED by tools/generate_validators.py from {relative.as_posix()}: do not edit.\n"
        f"# Regenerate with: {COMMAND}\n"
        f"# Schema sha256 {hashlib.sha256(raw).hexdigest()}; fastjsonschema {fastjsonschema.VERSION}.\n"
        "# Imports only the standard library: fastjsonschema is a test/dev dependency.\n"
        '"""Yes/no validation of a registry file against the registry schema, fast."""\n\n'
    )
    footer = ("\n\n# The entry point: raises JsonSchemaValueException at the first violation.\n"
              "validate_registry_file = validate\n")
    text = header + _postprocess(code, patterns).rstrip("\n") + "\n" + footer
    _self_check(text, patterns)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the checked-in file is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT.relative_to(ROOT)} is stale; run: {COMMAND}", file=sys.stderr)
            return 1
        return 0
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8", newline="\n")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
