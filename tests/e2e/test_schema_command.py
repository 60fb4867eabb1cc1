"""`schema` prints the packaged registry file schema, for editors."""

from __future__ import annotations

import json
import os

import yaml
from jsonschema import Draft202012Validator

from tests.e2e.conftest import QUICKSTART, REPO, run_cli


def test_schema_prints_the_registry_file_schema_exactly() -> None:
    result = run_cli("schema", env=dict(os.environ))
    assert result.code == 0, result.output
    assert result.stdout == (REPO / "schemas" / "registries.schema.json").read_text().rstrip("\n") + "\n"
    schema = json.loads(result.stdout)
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    quickstart = yaml.safe_load((QUICKSTART / "registries.yaml").read_text())
    assert list(validator.iter_errors(quickstart)) == []
    quickstart["registries"][0]["registry_password"] = "a literal password"
    assert list(validator.iter_errors(quickstart)), "the printed schema must reject a literal password"
