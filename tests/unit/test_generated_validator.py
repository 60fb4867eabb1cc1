"""The generated registry-file validator: up to date with the schema, and what keeps jsonschema unloaded.

What it accepts is compared with jsonschema in test_generated_equivalence.py.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
GENERATOR = REPO / "tools" / "generate_validators.py"
QUICKSTART = REPO / "examples" / "quickstart"
LOWERCASE_ENUM_CASE = REPO / "tests" / "cases" / "invalid" / "enum-registry-type-lowercase"

# Loads a workspace the way `validate`, `plan` and `apply` do, in a fresh interpreter.
LOAD = """
import sys
from pathlib import Path
from reconciler.config.problems import ConfigProblems
from reconciler.config.workspace import load_workspace
try:
    load_workspace([Path(sys.argv[1])], {})
    print("valid")
except ConfigProblems as exc:
    print(exc)
print("jsonschema imported:", "jsonschema" in sys.modules)
"""


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_validators", GENERATOR)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_in_subprocess(path: Path, cwd: Path = REPO) -> list[str]:
    proc = subprocess.run([sys.executable, "-c", LOAD, str(path)], cwd=cwd, capture_output=True, text=True,
                          check=True, timeout=60)
    return proc.stdout.splitlines()


def test_the_checked_in_validator_is_what_the_generator_writes_now() -> None:
    gen = generator()
    expected = gen.render()
    current = gen.OUTPUT.read_text(encoding="utf-8")
    assert current == expected, (f"{gen.OUTPUT.relative_to(REPO)} is stale (the schema or fastjsonschema "
                                 f"changed); run: {gen.COMMAND}")


def test_rendering_twice_gives_the_same_bytes() -> None:
    gen = generator()
    assert gen.render() == gen.render()


def test_the_generated_module_needs_only_the_standard_library() -> None:
    source = (REPO / "reconciler" / "generated" / "registries_validator.py").read_text(encoding="utf-8")
    imports = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert imports == ["import re"]


@pytest.mark.parametrize(("schema", "complaint"), [
    ({"$ref": "#/$defs/a", "type": "string", "$defs": {"a": {}}}, "$ref next to ['type']"),
    ({"$ref": "https://example.com/other.json"}, "only local"),
    ({"prefixItems": [{"type": "string"}]}, "prefixItems"),
    ({"items": [{"type": "string"}]}, "a schema must be an object"),
    ({"unevaluatedProperties": False}, "unevaluatedProperties"),
    ({"dependentRequired": {"a": ["b"]}}, "dependentRequired"),
    ({"minimum": 0}, "minimum without a numeric type"),
])
def test_the_generator_refuses_what_draft_07_could_read_differently(schema: dict[str, Any],
                                                                     complaint: str) -> None:
    gen = generator()
    with pytest.raises(gen.SchemaNotPortable, match=re.escape(complaint)):
        gen._draft07_copy(schema)


def test_annotations_are_dropped_so_defaults_are_never_written_into_the_data() -> None:
    gen = generator()
    field = {"type": "string", "default": "0", "title": "A", "patternErrorMessage": "x"}
    schema = {"properties": {"a": field}}
    assert gen._draft07_copy(schema) == {"$schema": gen.DRAFT_07, "properties": {"a": {"type": "string"}}}


def test_a_valid_workspace_is_validated_without_importing_jsonschema() -> None:
    assert load_in_subprocess(QUICKSTART) == ["valid", "jsonschema imported: False"]


def test_an_invalid_workspace_still_gets_the_located_messages_from_jsonschema() -> None:
    expected = (LOWERCASE_ENUM_CASE / "expected.txt").read_text(encoding="utf-8").splitlines()
    lines = load_in_subprocess(Path("."), cwd=LOWERCASE_ENUM_CASE)
    assert lines == [*expected, "jsonschema imported: True"]
