"""Issue 17.3: a refresh-only plan is the drift of every managed registry; applying it is exactly that."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.config.model import Desired
from reconciler.errors import ReconcilerError
from reconciler.plan.document import plan_from_document, plan_to_document
from reconciler.plan.model import Drift
from reconciler.plan.refreshonly import refresh_only_plan, refreshed_entries
from reconciler.registry import TargetKey
from reconciler.state.model import State, StateEntry

KEY = TargetKey("ap-southeast-1", "p1")
FIELDS = {"registry_name": "", "registry_type": "Harbor", "api_version": "V2", "protocol": "https",
          "registry_addr": "h.example.com", "registry_username": "robot", "connect_cluster_id": "c1",
          "get_scan_image_channel": "Swr"}


def _entry(name: str, registry_id: str | None, **changes: str) -> StateEntry:
    return StateEntry(KEY, name, registry_id, {**FIELDS, "registry_name": name, **changes}, 3)


def _live(name: str, registry_id: str, **changes: str) -> dict[str, Any]:
    return {**FIELDS, "registry_name": name, "id": registry_id, "status": "success", **changes}


def _state(*entries: StateEntry) -> State:
    state = State()
    for entry in entries:
        state.put(entry)
    return state


def test_drift_gone_and_learned_ids_are_planned_then_recorded() -> None:
    state = _state(_entry("alpha", "1"), _entry("beta", "2"), _entry("gamma", None), _entry("same", "4"))
    live = {KEY: [_live("alpha", "1", registry_username="robot2"), _live("gamma", "3"), _live("same", "4"),
                  _live("outsider", "9", registry_username="x")]}
    plan = refresh_only_plan(Desired(), state, live)
    a, b, g = (f"{KEY}/{n}" for n in ("alpha", "beta", "gamma"))
    assert plan.drift == [Drift(a, "registry_username", "robot", "robot2"),
                          Drift(b, "registry_id", "2", None), Drift(g, "registry_id", None, "3")]
    assert plan.refresh_only and plan.has_changes and not plan.changes
    assert plan_from_document(plan_to_document(plan))[0] == plan  # the JSON document keeps the kind

    put, removed = refreshed_entries(plan, state)
    assert removed == [b]
    recorded = {e.address: (e.registry_id, e.attributes["registry_username"], e.password_version)
                for e in put}
    assert recorded == {a: ("1", "robot2", 3), g: ("3", "robot", 3)}


def test_target_selection_and_no_drift() -> None:
    state = _state(_entry("alpha", "1"), _entry("beta", "2"))
    live = {KEY: [_live("alpha", "1", protocol="http")]}
    only_beta = refresh_only_plan(Desired(), state, live, only=("beta",))
    assert [d.address for d in only_beta.drift] == [f"{KEY}/beta"] and only_beta.partial
    calm = refresh_only_plan(Desired(), _state(_entry("alpha", "1")), {KEY: [_live("alpha", "1")]})
    assert not calm.drift and not calm.has_changes


def test_an_id_hss_has_under_another_name_stops_the_plan() -> None:
    state = _state(_entry("alpha", "1"))
    with pytest.raises(ReconcilerError, match="the state was edited or merged wrongly"):
        refresh_only_plan(Desired(), state, {KEY: [_live("someone-else", "1")]})
