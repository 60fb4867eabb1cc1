"""The registry file schema: every documented range at its limit and just over, one located line each."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from reconciler.config.problems import Problem
from reconciler.config.yamlfile import parse_yaml
from reconciler.schema import CONFIG_SCHEMA, load_schema, schema_text, validate_document
from reconciler.secrets import MASK, REDACTOR


def registry(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "registry_name": "harbor-prod",
        "registry_type": "Harbor",
        "api_version": "V2",
        "protocol": "https",
        "registry_addr": "harbor.example.com",
        "registry_username": "robot-hss",
        "registry_password": {"env": "HARBOR_PASSWORD"},
        "connect_cluster_id": "6e1c2d3f-0a1b-4c5d-8e9f-0a1b2c3d4e5f",
        "get_scan_image_channel": "Swr",
    }
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


def document(registries: list[dict[str, Any]] | None = None, **target: Any) -> dict[str, Any]:
    return {
        "version": 1,
        "target": {"region": "ap-southeast-1", "project_id": "0b5f4c1e9d8a4e2b8c7a6d5e4f3a2b1c", **target},
        "registries": [registry()] if registries is None else registries,
    }


def check(data: Any) -> list[Problem]:
    """Validate data as if it were a file (block style, so each field has its own line)."""
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10_000)
    return validate_document(parse_yaml(text, "r.yaml"))


def messages(data: Any) -> list[str]:
    return [f"{p.path}: {p.message}" for p in check(data)]


def test_the_quickstart_shape_is_valid() -> None:
    assert check(document()) == []


# (field, documented maximum) for registry fields
REGISTRY_LIMITS = [
    ("registry_name", 128),
    ("registry_addr", 256),
    ("registry_username", 128),
    ("connect_cluster_id", 64),
    ("namespace", 128),
]


@pytest.mark.parametrize(("field", "limit"), REGISTRY_LIMITS)
def test_registry_field_at_limit_is_accepted_and_one_over_is_refused(field: str, limit: int) -> None:
    assert check(document([registry(**{field: "a" * limit})])) == []
    problems = check(document([registry(**{field: "a" * (limit + 1)})]))
    assert [p.path for p in problems] == [f"registries[0].{field}"]
    assert problems[0].message == f"is {limit + 1} characters; the maximum is {limit}"
    assert problems[0].line > 1


@pytest.mark.parametrize(("field", "limit"), [("project_id", 256), ("enterprise_project_id", 256),
                                              ("region", 64)])
def test_target_field_at_limit_is_accepted_and_one_over_is_refused(field: str, limit: int) -> None:
    assert check(document(**{field: "a" * limit})) == []
    assert messages(document(**{field: "a" * (limit + 1)})) == [
        f"target.{field}: is {limit + 1} characters; the maximum is {limit}"]


@pytest.mark.parametrize("field", [f for f, _ in REGISTRY_LIMITS])
def test_empty_registry_strings_are_refused(field: str) -> None:
    assert messages(document([registry(**{field: ""})])) == [f"registries[0].{field}: must not be empty"]


@pytest.mark.parametrize("field", ["region", "project_id", "enterprise_project_id"])
def test_empty_target_strings_are_refused_once(field: str) -> None:
    # region also has a pattern; "must not be empty" alone says it.
    assert messages(document(**{field: ""})) == [f"target.{field}: must not be empty"]


def test_password_version_minimum_is_zero_and_must_be_an_integer() -> None:
    assert check(document([registry(password_version=0)])) == []
    assert messages(document([registry(password_version=-1)])) == [
        "registries[0].password_version: must be at least 0"]
    assert messages(document([registry(password_version="2")])) == [
        "registries[0].password_version: expected integer, got string"]


@pytest.mark.parametrize(("field", "good", "typo", "suggestion"), [
    ("registry_type", ["Harbor", "Jfrog"], "harbor", "Harbor"),
    ("api_version", ["V1", "V2"], "v2", "V2"),
    ("protocol", ["http", "https"], "HTTPS", "https"),
    ("get_scan_image_channel", ["Swr"], "swr", "Swr"),
])
def test_enums_accept_documented_values_and_suggest_on_typos(field: str, good: list[str], typo: str,
                                                             suggestion: str) -> None:
    for value in good:
        assert check(document([registry(**{field: value})])) == []
    assert messages(document([registry(**{field: typo})])) == [
        f"registries[0].{field}: \"{typo}\" is not one of: "
        f"{', '.join(load_schema(CONFIG_SCHEMA)['$defs']['registry']['properties'][field]['enum'])}"
        f" (did you mean '{suggestion}'?)"]


def test_registry_types_the_list_returns_are_not_declarable() -> None:
    assert "is not one of: Harbor, Jfrog" in messages(document([registry(registry_type="SwrPrivate")]))[0]


def test_namespace_is_required_for_other_only() -> None:
    assert messages(document([registry(get_scan_image_channel="Other")])) == [
        "registries[0]: namespace is required when get_scan_image_channel is Other"]
    assert check(document([registry(get_scan_image_channel="Other", namespace="tools")])) == []
    assert check(document([registry(get_scan_image_channel="Swr")])) == []


def test_missing_fields_are_one_line_naming_each() -> None:
    problems = check(document([registry(protocol=None, registry_addr=None)]))
    assert [p.message for p in problems] == ["missing required fields: protocol, registry_addr"]
    empty = check(document([{}]))
    assert len(empty) == 1
    assert empty[0].message.startswith("missing required fields: registry_name, registry_type")


@pytest.mark.parametrize("literal", ["hunter2-Secret!", "12345678", "p@ss word"])
def test_literal_password_is_refused_explained_and_never_shown(literal: str) -> None:
    text = yaml.safe_dump(document([registry(registry_password=literal)]), sort_keys=False)
    problems = validate_document(parse_yaml(text, "r.yaml"))
    assert [p.path for p in problems] == ["registries[0].registry_password"]
    message = str(problems[0])
    assert "must be a reference" in message
    assert "{env: VARIABLE} or {file: PATH}" in message
    assert literal not in message
    assert problems[0].line == text.splitlines().index(
        next(line for line in text.splitlines() if "registry_password" in line)) + 1
    # Whatever else prints it later is masked.
    assert REDACTOR.redact(f"oops {literal}") == f"oops {MASK}"


def test_literal_password_in_other_fields_errors_is_never_echoed() -> None:
    literal = "Zx9-literal-pw"
    data = document([registry(registry_password=literal, protocol="ftp", extra_field=1)])
    output = "\n".join(str(p) for p in check(data))
    assert literal not in output
    assert output.count("\n") == 2  # three problems, three lines


@pytest.mark.parametrize(("reference", "path", "expected"), [
    ({"envv": "X"}, "registry_password.envv", "unknown key in a reference (did you mean 'env'?)"),
    ({"env": "A", "file": "b"}, "registry_password", "names both env and file"),
    ({}, "registry_password", "is an empty reference"),
    ({"env": "BAD NAME"}, "registry_password.env", "must name an environment variable"),
    ({"env": 5}, "registry_password.env", "must name an environment variable"),
    ({"file": ""}, "registry_password.file", "must be the path of a file"),
    (["a"], "registry_password", "must be a reference"),
    (None, "registry_password", "missing required field: registry_password"),
])
def test_malformed_references_say_what_is_wrong(reference: Any, path: str, expected: str) -> None:
    data = document([registry(registry_password=reference)])
    if reference is None:
        path = ""
    problems = check(data)
    assert len(problems) == 1, problems
    assert problems[0].path == f"registries[0].{path}".rstrip(".")
    assert expected in problems[0].message
    assert "BAD NAME" not in problems[0].message


def test_file_reference_is_valid() -> None:
    assert check(document([registry(registry_password={"file": "secrets/harbor.txt"})])) == []


@pytest.mark.parametrize(("data_path", "key", "suggestion"), [
    ((), "registry", "registries"),
    (("target",), "regoin", "region"),
    (("registries", 0), "protocl", "protocol"),
    (("registries", 0), "registry_pasword", "registry_password"),
])
def test_unknown_field_suggests_the_known_one(data_path: tuple[Any, ...], key: str, suggestion: str) -> None:
    data = document()
    node: Any = data
    for part in data_path:
        node = node[part]
    node[key] = "x"
    problems = [p for p in check(data) if "unknown field" in p.message]
    assert len(problems) == 1
    assert problems[0].message == f"unknown field (did you mean '{suggestion}'?)"
    assert problems[0].path.endswith(key)


def test_a_typo_of_a_required_field_is_one_line_not_two() -> None:
    data = document([registry(protocol=None, protocl="https", registry_addr=None)])
    assert sorted(messages(data)) == ["registries[0].protocl: unknown field (did you mean 'protocol'?)",
                                      "registries[0]: missing required field: registry_addr"]
    typo_only = document([registry(namespace=None, get_scan_image_channel="Other", namespce="x")])
    assert messages(typo_only) == ["registries[0].namespce: unknown field (did you mean 'namespace'?)"]


def test_unknown_field_without_close_match_has_no_suggestion() -> None:
    data = document()
    data["zzz"] = 1
    assert messages(data) == ["zzz: unknown field"]


@pytest.mark.parametrize(("data", "expected"), [
    ({**document(), "version": 2}, "version: must be 1, got 2"),
    ({**document(), "version": "1"}, 'version: must be 1, got "1"'),
    ({k: v for k, v in document().items() if k != "version"}, ": missing required field: version"),
    ({**document(), "registries": {"a": 1}}, "registries: expected list, got mapping"),
    ({**document(), "target": ["x"]}, "target: expected mapping, got list"),
    (document(project_id=12345), "target.project_id: expected string, got integer (quote it"),
    (document(region="AP_1"), 'target.region: "AP_1" is not a region name such as ap-southeast-1'),
    (document(endpoint="ftp://x"), 'target.endpoint: "ftp://x" is not an http or https URL'),
    (document([registry(registry_addr=42)]), "registries[0].registry_addr: expected string, got integer"),
])
def test_wrong_values_read_well(data: Any, expected: str) -> None:
    found = messages(data)
    assert len(found) == 1, found
    assert found[0].startswith(expected)


def test_a_list_file_is_one_problem() -> None:
    problems = check([document()])
    assert [p.message for p in problems] == [
        "a registry file is a mapping of version, target and registries; got list"]
    assert (problems[0].line, problems[0].column) == (1, 1)


def test_every_problem_of_a_file_is_reported_in_one_pass() -> None:
    data = document([registry(registry_name="a" * 129), registry(protocol="ftp", registry_password="x")])
    assert [p.path for p in check(data)] == ["registries[0].registry_name", "registries[1].protocol",
                                             "registries[1].registry_password"]


def test_the_schema_text_is_valid_json_with_every_range() -> None:
    schema = json.loads(schema_text(CONFIG_SCHEMA))
    props = schema["$defs"]["registry"]["properties"]
    assert {f: props[f]["maxLength"] for f, _ in REGISTRY_LIMITS} == dict(REGISTRY_LIMITS)
    assert all(props[f]["minLength"] == 1 for f, _ in REGISTRY_LIMITS)
