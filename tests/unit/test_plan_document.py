"""The plan document: lossless both ways, secret-free both ways, and pinned in shape.

The builders here (`every_action_plan`, `realistic_plan`) are shared with the
JSON and markdown renderer tests.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from reconciler.config.workspace import load_workspace
from reconciler.plan.diff import make_plan
from reconciler.plan.document import (
    PlanDocumentError,
    load_plan_schema,
    plan_from_document,
    plan_to_document,
)
from reconciler.plan.model import (
    Action,
    Change,
    Drift,
    LiveStatus,
    MovedFrom,
    Plan,
    UnsafeTarget,
    unsafe_reason,
)
from reconciler.registry import API_FIELDS, TargetKey
from reconciler.secrets import Secret
from reconciler.state.model import State, StateEntry

TARGET = TargetKey("ap-southeast-1", "0b5f4c1e9d8a4e2b8c7a6d5e4f3a2b1c")
OTHER_TARGET = TargetKey("cn-north-4", "p2", "ep-7")


def attributes(name: str, **overrides: str) -> dict[str, str]:
    """What HSS reports for a registry (no registry_name: plans compare without it)."""
    fields = {"registry_type": "Harbor", "api_version": "V2", "protocol": "https",
              "registry_addr": f"{name}.example.com", "registry_username": "robot",
              "connect_cluster_id": "cluster-1", "get_scan_image_channel": "Swr"}
    fields.update(overrides)
    return fields


def desired_after(name: str, password_version: int | None = None, **overrides: str) -> dict[str, Any]:
    after: dict[str, Any] = {"registry_name": name, **attributes(name, **overrides),
                             "registry_password": {"env": f"PW_{name.upper()}"}}
    if password_version is not None:
        after["password_version"] = password_version
    return after


def every_action_plan() -> Plan:
    """Every action and every Plan/Change field set to something other than its default."""
    changes = [
        Change(Action.CREATE, TARGET, "new", after=desired_after("new", 1), send_password=True,
               password_version=1, reason="it no longer exists in HSS (deleted outside hss-reconciler)"),
        Change(Action.UPDATE, TARGET, "upd", "id-1", attributes("upd", protocol="http"),
               desired_after("upd", 3), ("protocol", "registry_password"), send_password=True,
               password_version=3, before_password_version=2),
        Change(Action.REPLACE, TARGET, "rep", "id-2", attributes("rep"),
               desired_after("rep", registry_type="Jfrog"), ("registry_type",), send_password=True,
               reason="registry_type cannot be changed in place"),
        Change(Action.DELETE, OTHER_TARGET, "old", "id-3", attributes("old"), None,
               reason="it is no longer declared"),
        Change(Action.ADOPT, TARGET, "adopted", "id-4", attributes("adopted"),
               {**desired_after("adopted"), "registry_password": {"file": "secrets/adopted.txt"}}),
        Change(Action.FORGET, OTHER_TARGET, "kept", None, attributes("kept", namespace="ns"), None,
               reason="--no-destroy: it stays in HSS, unmanaged"),
        Change(Action.MOVE, TARGET, "moved", "id-5", attributes("moved", protocol="http"),
               desired_after("moved", 2), ("protocol",), send_password=True, password_version=2,
               before_password_version=1, moved_from=MovedFrom(OTHER_TARGET, "moved")),
    ]
    return Plan(
        changes=changes,
        drift=[Drift(f"{TARGET}/upd", "protocol", "https", "http"),
               Drift(f"{TARGET}/upd", "namespace", None, "ns-1")],
        statuses=[LiveStatus(f"{TARGET}/upd", "fail", "REQUEST_API_ERROR"),
                  LiveStatus(f"{TARGET}/adopted", "success", None)],
        unmanaged=3,
        refreshed=False,
        partial=True,
        warnings=["more than 100 registries in one target", "ünïcode — kept as is"],
        unsafe_targets=[UnsafeTarget(TARGET, 4, 10, 0.30)],
    )


META = {"inputs": {"lineage": "4f1c", "serial": 7, "config_digest": "sha256:ab",
                   "options": {"destroy": True, "only": ["a", "b"], "refresh": False}}}

REGISTRY_YAML = """  - registry_name: {name}
    registry_type: {registry_type}
    api_version: V2
    protocol: {protocol}
    registry_addr: {name}.example.com
    registry_username: robot
    registry_password: {{env: PW_{var}}}
    connect_cluster_id: cluster-1
    get_scan_image_channel: Swr
"""


def realistic_plan(workspace: Path) -> Plan:
    """A plan from make_plan on a real YAML workspace, a state and a live listing, with every action."""
    declared = [("new-one", "Harbor", "https", None), ("upd", "Harbor", "http", None),
                ("rep", "Jfrog", "https", None), ("adopted", "Harbor", "http", None),
                ("rotated", "Harbor", "https", 2), ("same", "Harbor", "https", None),
                ("renamed", "Harbor", "https", None)]
    items = []
    for name, registry_type, protocol, version in declared:
        items.append(REGISTRY_YAML.format(name=name, registry_type=registry_type, protocol=protocol,
                                          var=name.upper().replace("-", "_")))
        if version is not None:
            items.append(f"    password_version: {version}\n")
    (workspace / "registries.yaml").write_text(
        f"version: 1\ntarget:\n  region: {TARGET.region}\n  project_id: {TARGET.project_id}\n"
        f"registries:\n{''.join(items)}", encoding="utf-8")
    desired = load_workspace([workspace], {})
    state = State()
    managed = ["upd", "rep", "rotated", "same", "deleted", "vanished"]
    for i, name in enumerate(managed):
        state.put(StateEntry(TARGET, name, f"id-{i}", {"registry_name": name, **attributes(name)},
                             password_version=1))
    # Renamed in the file: the same registry_addr under a new name is a move.
    state.put(StateEntry(TARGET, "was-renamed", "id-6", {"registry_name": "was-renamed",
                                                          **attributes("renamed")}))

    def live(name: str, registry_id: str, **overrides: str) -> dict[str, Any]:
        return {"id": registry_id, "registry_name": name, **attributes(name), "status": "success",
                **overrides}

    listing = [live("upd", "id-0", registry_username="changed-by-hand"), live("rep", "id-1"),
               live("rotated", "id-2", status="fail", fail_reason="REQUEST_API_ERROR"),
               live("same", "id-3"), live("deleted", "id-4"), live("adopted", "id-9"),
               live("stranger", "id-10"),
               {**live("renamed", "id-6"), "registry_name": "was-renamed"}]
    return make_plan(desired, state, {TARGET: listing})


def test_round_trip_is_lossless_for_every_action_and_field() -> None:
    plan = every_action_plan()
    document = plan_to_document(plan, META)
    again, meta = plan_from_document(json.loads(json.dumps(document)))
    assert again == plan
    assert meta == META
    assert {c.action for c in again.changes} == set(Action)
    assert again.changes[3].target == OTHER_TARGET
    assert isinstance(again.changes[1].changed, tuple)
    assert again.unsafe_targets == plan.unsafe_targets == [UnsafeTarget(TARGET, 4, 10, 0.30)]


def test_round_trip_of_a_planned_workspace(tmp_path: Path) -> None:
    plan = realistic_plan(tmp_path)
    assert {c.action for c in plan.changes} == set(Action)
    again, meta = plan_from_document(json.loads(json.dumps(plan_to_document(plan))))
    assert again == plan
    assert meta == {}


def test_document_shape_is_pinned() -> None:
    document = plan_to_document(every_action_plan(), META)
    assert list(document) == ["format_version", "tool", "tool_version", "summary", "changes", "drift",
                              "statuses", "partial", "refreshed", "warnings", "unsafe", "meta"]
    assert document["format_version"] == 1 and document["tool"] == "hss-reconciler"
    assert document["summary"] == {"add": 2, "change": 1, "destroy": 2, "import": 1, "forget": 1,
                                   "unmanaged": 3, "has_changes": True, "move": 1}
    update = document["changes"][1]
    assert list(update) == ["action", "address", "target", "name", "registry_id", "before", "after",
                            "changed", "send_password", "password_version", "before_password_version",
                            "reason"]
    assert update["address"] == f"{TARGET}/upd"
    assert update["target"] == {"region": "ap-southeast-1", "project_id": TARGET.project_id,
                                "enterprise_project_id": "0"}
    assert update["changed"] == ["protocol", "registry_password"]
    assert update["after"]["registry_password"] == {"env": "PW_UPD"}
    assert document["unsafe"] == {"flagged": True, "reasons": [
        f"{TARGET}: deletes or replaces 4 of 10 managed registries (more than 30%); apply needs --force"]}
    assert document["drift"][1] == {"address": f"{TARGET}/upd", "field": "namespace",
                                    "recorded": None, "live": "ns-1"}


def test_document_does_not_share_the_plans_dicts() -> None:
    plan = every_action_plan()
    document = plan_to_document(plan)
    document["changes"][1]["after"]["protocol"] = "edited"
    assert plan.changes[1].after is not None and plan.changes[1].after["protocol"] == "https"


def test_unsafe_targets_are_worded_in_the_document() -> None:
    plan = every_action_plan()
    assert plan_to_document(plan)["unsafe"]["reasons"] == [unsafe_reason(u) for u in plan.unsafe_targets]
    assert plan_to_document(Plan())["unsafe"] == {"flagged": False, "reasons": []} and not Plan().unsafe


@pytest.mark.parametrize("where", ["after", "meta", "drift", "before"])
def test_a_secret_object_anywhere_cannot_be_written(where: str) -> None:
    value = "s3cret-never-shown-1"
    plan = every_action_plan()
    meta: dict[str, Any] = {"options": {}}
    secret = Secret(value)
    if where == "after":
        after = {**desired_after("x"), "registry_password": secret}
        plan.changes.append(Change(Action.CREATE, TARGET, "x", after=after, send_password=True))
    elif where == "meta":
        meta["options"]["extra"] = [secret]
    elif where == "drift":
        plan.drift.append(Drift(f"{TARGET}/x", "protocol", "https", secret))
    else:
        plan.changes.append(Change(Action.DELETE, TARGET, "x", "id", {"registry_addr": secret}))
    with pytest.raises(PlanDocumentError) as raised:
        plan_to_document(plan, meta)
    assert "secret" in str(raised.value) or "reference" in str(raised.value)
    assert value not in str(raised.value)


@pytest.mark.parametrize("literal", ["hunter2-literal", {"env": "A", "file": "B"}, {"value": "x"},
                                     {"env": ""}])
def test_a_password_field_holding_anything_but_a_reference_cannot_be_written(literal: Any) -> None:
    plan = Plan(changes=[Change(Action.CREATE, TARGET, "x",
                                after={**desired_after("x"), "registry_password": literal})])
    with pytest.raises(PlanDocumentError, match=r"changes\[0\]\.after\.registry_password") as raised:
        plan_to_document(plan)
    assert "hunter2-literal" not in str(raised.value)


def test_a_password_in_meta_or_drift_cannot_be_written() -> None:
    with pytest.raises(PlanDocumentError, match=r"meta\.nested\.password"):
        plan_to_document(Plan(), {"nested": {"password": "p4ssw0rd-x"}})
    plan = Plan(drift=[Drift(f"{TARGET}/x", "registry_password", None, "p4ssw0rd-y")])
    with pytest.raises(PlanDocumentError, match=r"drift\[0\]\.live"):
        plan_to_document(plan)


def test_non_json_values_are_refused_rather_than_changed() -> None:
    with pytest.raises(PlanDocumentError, match=r"meta\.only: a tuple is not JSON"):
        plan_to_document(Plan(), {"only": ("a", "b")})


def _document() -> dict[str, Any]:
    return json.loads(json.dumps(plan_to_document(every_action_plan(), META)))


def test_reading_refuses_a_password_value_and_never_repeats_it() -> None:
    document = _document()
    document["changes"][0]["after"]["registry_password"] = "hunter2-in-a-file"
    with pytest.raises(PlanDocumentError) as raised:
        plan_from_document(document)
    assert "changes[0].after.registry_password" in str(raised.value)
    assert "hunter2-in-a-file" not in str(raised.value)
    document = _document()
    document["meta"]["inputs"]["password"] = "hunter3-in-meta"
    with pytest.raises(PlanDocumentError, match=r"meta\.inputs\.password") as raised:
        plan_from_document(document)
    assert "hunter3-in-meta" not in str(raised.value)


def test_reading_refuses_schema_violations_naming_each_place() -> None:
    document = _document()
    document["changes"][2]["action"] = "explode"
    document["changes"][4]["before"]["registry_password"] = {"env": "X"}
    document["statuses"][0]["fail_reason"] = 5
    with pytest.raises(PlanDocumentError) as raised:
        plan_from_document(document)
    message = str(raised.value)
    assert ("changes[2].action: must be one of: create, update, replace, delete, adopt, forget, move"
            in message)
    assert "changes[4].before: unknown field: registry_password" in message
    assert "statuses[0].fail_reason: expected string or null, got integer" in message


@pytest.mark.parametrize(("edit", "complaint"), [
    (lambda d: [d["changes"][0].pop("name"), d["changes"][0].pop("reason")],
     "changes[0]: missing required fields: name, reason"),
    (lambda d: d["changes"][0]["after"].update(protocl="https"),
     "changes[0].after: unknown field: protocl (did you mean 'protocol'?)"),
    (lambda d: d["changes"][0].update(name=""), "changes[0].name: must not be empty"),
    (lambda d: d["changes"][1].update(changed=["protocol", "protocol"]),
     "changes[1].changed: lists an item more than once"),
    (lambda d: d.update(tool="hss-reconciler-hunter2"), 'tool: must be "hss-reconciler"'),
    (lambda d: d["changes"][0].update(action="crate"), "changes[0].action: must be one of: "
     "create, update, replace, delete, adopt, forget, move (did you mean 'create'?)"),
    (lambda d: d["changes"][0].update(action="hunter2"),
     "changes[0].action: must be one of: create, update, replace, delete, adopt, forget, move"),
])
def test_schema_messages_are_worded_as_for_registry_files_without_values(edit: Any, complaint: str) -> None:
    # The wording is reconciler.schema's, as for registry files, in JSON's words (object, array)
    # and without the values: any field of a hand-edited plan may hold a pasted password.
    document = _document()
    edit(document)
    with pytest.raises(PlanDocumentError) as raised:
        plan_from_document(document)
    assert str(raised.value) == f"not a valid plan document: {complaint}"
    assert "hunter2" not in str(raised.value)


def test_reading_refuses_a_newer_format() -> None:
    document = _document()
    document["format_version"] = 2
    with pytest.raises(PlanDocumentError, match="newer than this hss-reconciler"):
        plan_from_document(document)


@pytest.mark.parametrize(("edit", "complaint"), [
    (lambda d: d["changes"][0].update(address="elsewhere/new"), "does not match its target and name"),
    (lambda d: d["summary"].update(destroy=0), "summary: the counts do not match"),
    (lambda d: d["unsafe"].update(flagged=False), "unsafe.flagged"),
    (lambda d: d["unsafe"]["reasons"].append("apply needs --force"), r"unsafe\.reasons\[1\]: not a reason"),
    (lambda d: d["unsafe"].update(reasons=[d["unsafe"]["reasons"][0].replace("ap-southeast-1", "eu-west-0")]),
     r"unsafe\.reasons\[0\]: not a reason hss-reconciler writes about a target of the changes"),
    (lambda d: d["changes"][3].update(after=desired_after("old")), r"changes\[3\]\.after"),
])
def test_reading_refuses_a_hand_edited_plan(edit: Any, complaint: str) -> None:
    document = _document()
    edit(document)
    with pytest.raises(PlanDocumentError, match=complaint):
        plan_from_document(document)


def test_reading_refuses_what_is_not_an_object() -> None:
    with pytest.raises(PlanDocumentError, match=r"\(document\): expected object, got array"):
        plan_from_document([])


def test_reading_does_not_share_the_documents_dicts() -> None:
    document = _document()
    plan, meta = plan_from_document(document)
    document["changes"][1]["after"]["protocol"] = "edited"
    document["meta"]["inputs"]["serial"] = 99
    assert plan.changes[1].after is not None and plan.changes[1].after["protocol"] == "https"
    assert meta["inputs"]["serial"] == 7


def test_schema_is_valid_and_names_every_api_field() -> None:
    schema = load_plan_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$defs"]["field_name"]["enum"] == [*API_FIELDS, "registry_password"]
    assert list(schema["$defs"]["api_fields"]["properties"]) == list(API_FIELDS)
    assert schema["$defs"]["change"]["properties"]["action"]["enum"] == [a.value for a in Action]


def test_document_is_deterministic() -> None:
    first = plan_to_document(every_action_plan(), copy.deepcopy(META))
    second = plan_to_document(every_action_plan(), copy.deepcopy(META))
    assert json.dumps(first) == json.dumps(second)
