"""`--format json`: real plans validate against schemas/plan.schema.json, stably, with no password."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from reconciler.config.envcheck import resolve_passwords
from reconciler.config.workspace import load_workspace
from reconciler.plan.document import load_plan_schema
from reconciler.plan.model import Action
from reconciler.render.json_ import render_plan_json
from tests.unit.test_plan_document import META, every_action_plan, realistic_plan

VALIDATOR = Draft202012Validator(load_plan_schema())


def _errors(document: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(document)]


def test_a_planned_workspace_validates_against_the_schema(tmp_path: Path) -> None:
    document = json.loads(render_plan_json(realistic_plan(tmp_path), META))
    assert _errors(document) == []
    assert {c["action"] for c in document["changes"]} == {a.value for a in Action}
    assert document["meta"] == META
    assert document["summary"]["unmanaged"] == 1


def test_every_field_set_validates_against_the_schema() -> None:
    document = json.loads(render_plan_json(every_action_plan()))
    assert _errors(document) == []
    assert document["unsafe"]["flagged"] is True


@pytest.mark.parametrize(("path", "value"), [
    (("changes", 0, "after", "registry_password"), "hunter2"),
    (("changes", 0, "after", "registry_password"), {"value": "hunter2"}),
    (("changes", 0, "action"), "explode"),
    (("changes", 3, "after"), {"registry_name": "old"}),  # a delete has no after
    (("changes", 0, "before"), {"registry_type": "Harbor"}),  # a create has no before
    (("changes", 1, "after", "colour"), "red"),
    (("summary", "add"), -1),
    (("format_version",), 2),
])
def test_the_schema_rejects_what_a_plan_cannot_hold(path: tuple[str | int, ...], value: Any) -> None:
    document = json.loads(render_plan_json(every_action_plan()))
    node = document
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    assert _errors(document) != []


def test_output_is_stable_sorted_and_keeps_the_apply_order(tmp_path: Path) -> None:
    plan = realistic_plan(tmp_path)
    text = render_plan_json(plan, META)
    assert text == render_plan_json(plan, META)
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False)
    assert [c["address"] for c in json.loads(text)["changes"]] == [c.address for c in plan.changes]
    assert not text.endswith("\n")


def test_password_values_never_appear_only_references(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    plan = realistic_plan(tmp_path)
    environ = {f"PW_{n}": f"value-of-{n.lower()}-0x5f3759df"
               for n in ("NEW_ONE", "UPD", "REP", "ADOPTED", "ROTATED", "SAME", "RENAMED")}
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    desired = load_workspace([tmp_path], environ)
    secrets = resolve_passwords(desired.registries.values())  # apply would hold these
    assert len(secrets) == 7
    text = render_plan_json(plan)
    assert not any(value in text for value in environ.values())
    create = next(c for c in json.loads(text)["changes"] if c["action"] == "create")
    assert create["after"]["registry_password"] == {"env": "PW_NEW_ONE"}
