"""Issue 17.5: which deletes and creates are one registry moved, and how a move reads and saves.

Pairing is conservative: only a delete and a create that are each the only one
of their identity (registry_type, registry_addr, namespace where HSS reports it)
become a move; anything ambiguous stays a delete and a create, as before.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from reconciler.errors import ReconcilerError
from reconciler.plan.compare import differences
from reconciler.plan.diff import SAFETY_MAX_DESTROY_SHARE, DiffRules, make_plan
from reconciler.plan.document import PlanDocumentError, plan_from_document, plan_to_document
from reconciler.plan.model import Action, Change, MovedFrom, Plan, UnsafeTarget
from reconciler.registry import TargetKey
from reconciler.render.colors import Palette
from reconciler.render.markdown import render_plan_markdown
from reconciler.render.text import render_plan
from tests.unit.test_plan_rules import OTHER, T, declared, desired_of, live, managed, state_of

SHARED = "harbor.example.com"
SAME_PROJECT_OTHER_EP = TargetKey(T.region, T.project_id, "ep-2")


def _plan(desired: tuple[Any, ...], state: tuple[Any, ...], listing: dict[TargetKey, list[Any]] | None,
          options: DiffRules | None = None) -> Plan:
    return make_plan(desired_of(*desired), state_of(*state), listing, options)


def _renamed(old: str = "alpha", new: str = "beta", protocol: str = "https") -> Plan:
    """`old` managed and live at SHARED; the file now declares `new` there."""
    return _plan((declared(new, registry_addr=SHARED, protocol=protocol),),
                 (managed(old, "1", registry_addr=SHARED),), {T: [live(old, "1", registry_addr=SHARED)]})


def _actions(plan: Plan) -> list[tuple[Action, str]]:
    return [(c.action, c.address) for c in plan.changes]


def test_a_rename_in_one_target_is_one_move_created_first() -> None:
    plan = _renamed(protocol="http")
    (move,) = plan.changes
    assert (move.action, move.address, move.registry_id) == (Action.MOVE, f"{T}/beta", "1")
    assert move.moved_from == MovedFrom(T, "alpha") and str(move.moved_from) == f"{T}/alpha"
    assert move.creates_first and move.send_password
    assert move.changed == ("protocol",)  # the name is not a compared field; the view shows it
    assert move.registry is not None and move.registry.name == "beta"
    assert (plan.to_move, plan.to_add, plan.to_destroy, plan.to_change) == (1, 0, 0, 0)
    assert not plan.unsafe


@pytest.mark.parametrize(("target", "name", "first"), [
    (OTHER, "alpha", True),  # another region and project: the name is free there
    (SAME_PROJECT_OTHER_EP, "beta", True),  # renamed as well: no clash of names
    (SAME_PROJECT_OTHER_EP, "alpha", False),  # one name twice in one project: HSS would refuse the add
    (TargetKey(T.region, T.project_id, "all_granted_eps"), "alpha", False),  # adds land in ep "0"
])
def test_a_move_to_another_target_creates_first_unless_hss_refuses_the_name(
        target: TargetKey, name: str, first: bool) -> None:
    plan = _plan((declared(name, target=target, registry_addr=SHARED),),
                 (managed("alpha", "1", registry_addr=SHARED),),
                 {T: [live("alpha", "1", registry_addr=SHARED)], target: []})
    (move,) = plan.changes
    assert (move.action, move.target, move.moved_from) == (Action.MOVE, target, MovedFrom(T, "alpha"))
    assert move.creates_first is first


def test_without_a_refresh_the_state_pairs_them() -> None:
    plan = _plan((declared("beta", registry_addr=SHARED),), (managed("alpha", "1", registry_addr=SHARED),),
                 None)
    assert _actions(plan) == [(Action.MOVE, f"{T}/beta")]
    assert plan.changes[0].registry_id == "1"


AMBIGUOUS = {
    "two deletes share the address": (
        (declared("new", registry_addr=SHARED),),
        (managed("old1", "1", registry_addr=SHARED), managed("old2", "2", registry_addr=SHARED))),
    "two creates share the address": (
        (declared("new1", registry_addr=SHARED), declared("new2", registry_addr=SHARED)),
        (managed("old", "1", registry_addr=SHARED),)),
    "another registry_type is another registry": (
        (declared("new", registry_addr=SHARED, registry_type="Jfrog"),),
        (managed("old", "1", registry_addr=SHARED),)),
    "another namespace on the Other channel is another registry": (
        (declared("new", registry_addr=SHARED, get_scan_image_channel="Other", namespace="b"),),
        (managed("old", "1", registry_addr=SHARED, get_scan_image_channel="Other", namespace="a"),)),
    "another address is another registry": (
        (declared("new", registry_addr="new.example.com"),), (managed("old", "1", registry_addr=SHARED),)),
}


@pytest.mark.parametrize("case", AMBIGUOUS.values(), ids=AMBIGUOUS.keys())
def test_anything_ambiguous_stays_a_delete_and_a_create(
        case: tuple[tuple[Any, ...], tuple[Any, ...]]) -> None:
    desired, state = case
    listing = {T: [live(e.name, str(e.registry_id), **e.attributes) for e in state]}
    plan = _plan(desired, state, listing)
    assert {c.action for c in plan.changes} == {Action.CREATE, Action.DELETE}
    assert plan.to_move == 0 and all(c.moved_from is None for c in plan.changes)


def test_a_namespace_hss_does_not_report_does_not_tell_registries_apart() -> None:
    plan = _plan((declared("new", registry_addr=SHARED, namespace="b"),),
                 (managed("old", "1", registry_addr=SHARED, namespace="a"),),
                 {T: [live("old", "1", registry_addr=SHARED)]})
    assert _actions(plan) == [(Action.MOVE, f"{T}/new")]


def test_no_destroy_keeps_the_old_registry_so_nothing_moves() -> None:
    plan = _plan((declared("beta", registry_addr=SHARED),), (managed("alpha", "1", registry_addr=SHARED),),
                 {T: [live("alpha", "1", registry_addr=SHARED)]}, DiffRules(destroy=False))
    assert _actions(plan) == [(Action.FORGET, f"{T}/alpha"), (Action.CREATE, f"{T}/beta")]


def test_an_old_registry_already_gone_is_forgotten_not_moved() -> None:
    plan = _plan((declared("beta", registry_addr=SHARED),), (managed("alpha", "1", registry_addr=SHARED),),
                 {T: []})
    assert _actions(plan) == [(Action.FORGET, f"{T}/alpha"), (Action.CREATE, f"{T}/beta")]


def test_a_registry_made_again_after_vanishing_is_not_a_move() -> None:
    # "again" is managed but gone from HSS: creating it restores it; "old" is deleted on its own.
    plan = _plan((declared("again", registry_addr=SHARED),),
                 (managed("again", "1", registry_addr=SHARED), managed("old", "2", registry_addr=SHARED)),
                 {T: [live("old", "2", registry_addr=SHARED)]})
    assert _actions(plan) == [(Action.CREATE, f"{T}/again"), (Action.DELETE, f"{T}/old")]


def test_target_must_select_both_halves_of_a_move_or_neither() -> None:
    """Terraform's rule for moved resources: one half alone would delete with nothing created
    first (or create beside the old one), although the files say the registry moved."""
    def planned(*only: str) -> Plan:
        return _plan((declared("beta", registry_addr=SHARED), declared("gamma")),
                     (managed("alpha", "1", registry_addr=SHARED), managed("gamma", "2")),
                     {T: [live("alpha", "1", registry_addr=SHARED), live("gamma", "2")]},
                     DiffRules(only=only))

    assert _actions(planned("alpha", "beta")) == [(Action.MOVE, f"{T}/beta")]
    assert _actions(planned(f"{T}/alpha", "beta")) == [(Action.MOVE, f"{T}/beta")]
    assert _actions(planned("gamma")) == []  # a selection without a move half plans as before
    with pytest.raises(ReconcilerError, match=rf"--target: {T}/alpha is one half of a move, {T}/alpha -> "
                                              rf"{T}/beta .* deleted with nothing created first\. "
                                              rf"Add --target {T}/beta"):
        planned("alpha")
    with pytest.raises(ReconcilerError, match=rf"{T}/beta is one half .* created beside the old one\. "
                                              rf"Add --target {T}/alpha"):
        planned("beta", "gamma")


def test_the_delete_half_counts_in_the_mass_delete_guard_of_the_target_it_leaves() -> None:
    names = [f"r{i}" for i in range(10)]
    state = tuple(managed(n, str(i)) for i, n in enumerate(names))
    # Four of ten move to another target under the same addresses: 40% of T is deleted.
    desired = (*(declared(n) for n in names[4:]), *(declared(n, target=OTHER) for n in names[:4]))
    plan = _plan(desired, state, {T: [live(n, str(i)) for i, n in enumerate(names)], OTHER: []})
    assert plan.to_move == 4 and plan.to_destroy == 0
    assert plan.unsafe_targets == [UnsafeTarget(T, 4, 10, SAFETY_MAX_DESTROY_SHARE)]


def test_a_move_survives_the_plan_document_and_a_forged_one_is_refused() -> None:
    plan = _renamed()
    document = json.loads(json.dumps(plan_to_document(plan)))
    (change,) = document["changes"]
    assert change["action"] == "move" and change["move_order"] == "create_first"
    assert change["moved_from"] == {"address": f"{T}/alpha", "target": T.to_json(), "name": "alpha"}
    assert document["summary"]["move"] == 1 and document["summary"]["add"] == 0
    again, _ = plan_from_document(document)
    assert again == plan and again.changes[0].moved_from == MovedFrom(T, "alpha")

    for edit, complaint in [
        (lambda c: c.update(move_order="delete_first"), "move_order: is not the order this move must run in"),
        (lambda c: c["moved_from"].update(address=f"{T}/other"), "moved_from.address: does not match"),
        (lambda c: c.pop("moved_from"), "changes[0]"),  # the schema: a move says where from
    ]:
        forged = json.loads(json.dumps(document))
        edit(forged["changes"][0])
        with pytest.raises(PlanDocumentError, match=complaint.replace(".", r"\.").replace("[", r"\[")):
            plan_from_document(forged)


def test_only_a_move_may_say_where_from() -> None:
    document = plan_to_document(Plan([Change(Action.CREATE, T, "a", after={"registry_name": "a"})]))
    document["changes"][0]["moved_from"] = {"address": f"{T}/b", "target": T.to_json(), "name": "b"}
    with pytest.raises(PlanDocumentError, match=r"changes\[0\]"):
        plan_from_document(document)


def test_a_reviewed_delete_and_create_is_not_a_fresh_move() -> None:
    """A plan saved before moves existed (or with them split) differs from a fresh plan: apply refuses it."""
    fresh = _renamed()
    split = Plan([Change(Action.CREATE, T, "beta", after=fresh.changes[0].after, send_password=True),
                  Change(Action.DELETE, T, "alpha", "1", before=fresh.changes[0].before)])
    assert differences(split, fresh) == [f"{T}/alpha: the plan file would delete it; a fresh plan does not",
                                         f"{T}/beta: the plan file would create it; a fresh plan does not",
                                         f"{T}/beta: a fresh plan would move it; the plan file does not"]
    other_origin = Plan([Change(**{**fresh.changes[0].__dict__, "moved_from": MovedFrom(OTHER, "alpha")})])
    assert differences(other_origin, fresh) == [
        f"{T}/beta: move moved_from was {OTHER}/alpha when reviewed, {T}/alpha now"]


def test_text_and_markdown_say_what_moves_where_and_in_which_order() -> None:
    plan = _renamed()
    text = render_plan(plan, Palette(enabled=False))
    assert f"  # {T}/alpha -> {T}/beta will be moved\n" \
           "  # (moved: created first, then the old one deleted)\n" \
           '  → registry "beta" {\n      ~ registry_name          = "alpha" -> "beta"\n' in text
    assert "(sensitive) (sent to the new registry)" in text
    assert text.endswith("Plan: 1 to move, 0 to add, 0 to change, 0 to destroy.")
    markdown = render_plan_markdown(plan)
    assert markdown.startswith("### hss-reconciler plan: 1 to move, 0 to add, 0 to change, 0 to destroy\n")
    assert f"> [!NOTE]\n> This plan **moves 1 registry** (same registry_addr, new name or target):\n" \
           f"> - `{T}/alpha` → `{T}/beta` (moved\\: created first, then the old one deleted)" in markdown
    assert "[!WARNING]" not in markdown and '! registry "beta" {' in markdown

    delete_first = _plan((declared("alpha", target=SAME_PROJECT_OTHER_EP, registry_addr=SHARED),),
                         (managed("alpha", "1", registry_addr=SHARED),),
                         {T: [live("alpha", "1", registry_addr=SHARED)], SAME_PROJECT_OTHER_EP: []})
    said = ("moved: the old one deleted first, then created: HSS may refuse two registries named 'alpha' "
            "in one project")
    assert f"  # ({said})" in render_plan(delete_first, Palette(enabled=False))
    assert "> [!WARNING]\n> This plan **moves 1 registry**" in render_plan_markdown(delete_first)
