"""HSS enumerations (status, registry_type): a new value is read, never a refused answer; it decides
nothing unless the plan would compare it.

A new HSS release may add a type or a status. Refusing the ListRegistry answer would break every plan
for one registry nobody here manages, so the client reads it; the planner stops only when it would
compare an unknown registry_type with a declared one (which would plan a replace nobody meant), and
shows an unknown status as it is, with a warning.
"""

from __future__ import annotations

import httpx
import pytest

from reconciler.errors import ReconcilerError
from reconciler.hss import shapes
from reconciler.plan.diff import make_plan
from reconciler.plan.model import Action
from reconciler.schema import load_schema
from reconciler.state.model import State
from tests.unit.test_hss_answers import REQUEST_ID, Recorder
from tests.unit.test_plan_rules import T, declared, desired_of, live, managed


def _listed(*items: dict[str, object]) -> list[dict[str, object]]:
    """The items as HssClient reads them from a ListRegistry answer."""
    answer = Recorder(lambda request: httpx.Response(
        200, json={"data_list": list(items), "total_num": len(items)}, headers={"X-Request-Id": REQUEST_ID}))
    return answer.client().list_registries()


def test_an_unknown_type_and_status_in_a_listing_are_read_not_refused() -> None:
    listed = _listed(live("new-kind", "id-1", registry_type="Quay", status="paused"))
    assert (listed[0]["registry_type"], listed[0]["status"]) == ("Quay", "paused")


@pytest.mark.parametrize("in_state", [True, False], ids=["managed", "adopted"])
def test_an_unknown_type_the_plan_would_compare_stops_it_naming_the_registry_and_the_value(
        in_state: bool) -> None:
    state = State()
    if in_state:
        state.put(managed("app", "id-1"))
    listed = _listed(live("app", "id-1", registry_type="Quay"))
    with pytest.raises(ReconcilerError) as caught:
        make_plan(desired_of(declared("app")), state, {T: listed})
    message = str(caught.value)
    assert message.startswith(f"{T}/app: HSS reports registry_type 'Quay', which this version of "
                              "hss-reconciler does not know")
    assert "would plan a replace. Nothing was planned" in message and "\n" not in message


def test_a_missing_type_is_refused_like_an_unknown_one() -> None:
    listed = _listed({k: v for k, v in live("app", "id-1").items() if k != "registry_type"})
    with pytest.raises(ReconcilerError, match=r"/app: HSS reports no registry_type"):
        make_plan(desired_of(declared("app")), State(), {T: listed})


def test_an_unknown_type_nobody_declared_or_manages_plans_as_usual() -> None:
    listed = _listed(live("theirs", "id-9", registry_type="Quay"), live("app", "id-1"))
    plan = make_plan(desired_of(declared("app")), State(), {T: listed})
    assert [(c.action, c.name) for c in plan.changes] == [(Action.ADOPT, "app")]


def test_an_unknown_value_is_cut_in_the_message() -> None:
    problem = shapes.unknown_type({"registry_type": "x" * 5000})
    assert problem is not None and len(problem) < 200


def test_an_unknown_status_is_shown_as_it_is_with_a_warning() -> None:
    state = State()
    state.put(managed("app", "id-1"))
    plan = make_plan(desired_of(declared("app")), state, {T: _listed(live("app", "id-1", status="paused"))})
    assert [(s.address, s.status) for s in plan.statuses] == [(f"{T}/app", "paused")]
    assert plan.warnings == [f"{T}/app: HSS reports access status 'paused', which this version of "
                             "hss-reconciler does not know (success, fail, accessing); shown as it is"]
    assert not plan.changes


def test_the_known_values_are_the_schemas() -> None:
    defs = load_schema("hss-api.schema.json")["$defs"]
    assert list(shapes.REGISTRY_TYPES) == defs["listed_registry_type"]["enum"]
    assert list(shapes.STATUSES) == defs["status"]["enum"]
