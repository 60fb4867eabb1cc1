"""The planner's rules, one row each: what is declared, what the state records, what HSS has -> the changes.

Then the shared per-change view: the text and markdown renderers draw the
same view, so for every action they show the same symbol and the same lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from reconciler.config.model import Desired, DesiredRegistry, Location
from reconciler.engine.applying import UnsafePlanError
from reconciler.errors import ReconcilerError
from reconciler.plan.diff import SAFETY_MAX_DESTROY_SHARE, DiffRules, make_plan
from reconciler.plan.model import Action, Change, Plan, UnsafeTarget, unsafe_reason
from reconciler.registry import TargetKey, registry_address
from reconciler.render.colors import Palette
from reconciler.render.markdown import change_block, render_plan_markdown
from reconciler.render.text import render_plan, render_view
from reconciler.render.view import LineKind, change_view, plan_view
from reconciler.secrets import SecretRef
from reconciler.state.model import State, StateEntry

T = TargetKey("eu-west-101", "project-1")
OTHER = TargetKey("cn-north-4", "project-2", "ep-1")
HERE = Location("registries.yaml", 1)


# --- small builders ---------------------------------------------------------------------------------


def fields(name: str, **overrides: str) -> dict[str, str]:
    """A registry's API fields as HSS, the state and a file hold them."""
    return {"registry_name": name, "registry_type": "Harbor", "api_version": "V2", "protocol": "https",
            "registry_addr": f"{name}.example.com", "registry_username": "robot",
            "connect_cluster_id": "cluster-1", "get_scan_image_channel": "Swr", **overrides}


def declared(name: str, *, target: TargetKey = T, password_version: int | None = None,
             **overrides: str) -> DesiredRegistry:
    return DesiredRegistry(target, name, fields(name, **overrides), SecretRef("env", f"PW_{name.upper()}"),
                           password_version, HERE, HERE, Path("."))


def managed(name: str, registry_id: str | None, *, target: TargetKey = T, password_version: int | None = 1,
            **overrides: str) -> StateEntry:
    return StateEntry(target, name, registry_id, fields(name, **overrides), password_version)


def live(name: str, registry_id: str, **overrides: str) -> dict[str, Any]:
    return {"id": registry_id, "status": "success", **fields(name, **overrides)}


def desired_of(*registries: DesiredRegistry) -> Desired:
    return Desired(registries={r.address: r for r in registries})


def state_of(*entries: StateEntry) -> State:
    state = State()
    for entry in entries:
        state.put(entry)
    return state


@dataclass(frozen=True)
class Row:
    desired: tuple[DesiredRegistry, ...] = ()
    state: tuple[StateEntry, ...] = ()
    live: tuple[dict[str, Any], ...] | None = ()  # None: planned without a refresh
    options: DiffRules = field(default_factory=DiffRules)
    # (action, name, changed fields) for each change, in plan order
    expected: tuple[tuple[Action, str, tuple[str, ...]], ...] = ()
    drift: tuple[str, ...] = ()  # fields that drifted
    unmanaged: int = 0


ROWS = {
    "create: declared, unknown to the state and to HSS":
        Row(desired=(declared("a"),), expected=((Action.CREATE, "a", ()),)),
    "nothing: declared, managed and HSS agrees":
        Row(desired=(declared("a"),), state=(managed("a", "1"),), live=(live("a", "1"),)),
    "update: a declared field differs from HSS":
        Row(desired=(declared("a", protocol="http"),), state=(managed("a", "1"),), live=(live("a", "1"),),
            expected=((Action.UPDATE, "a", ("protocol",)),)),
    "update: a new password_version re-sends the password":
        Row(desired=(declared("a", password_version=2),), state=(managed("a", "1"),), live=(live("a", "1"),),
            expected=((Action.UPDATE, "a", ("registry_password",)),)),
    "update: the same password_version sends nothing":
        Row(desired=(declared("a", password_version=1),), state=(managed("a", "1"),), live=(live("a", "1"),)),
    "replace: registry_type cannot change in place":
        Row(desired=(declared("a", registry_type="Jfrog"),), state=(managed("a", "1"),),
            live=(live("a", "1"),), expected=((Action.REPLACE, "a", ("registry_type",)),)),
    "replace: other differences ride along, in API order":
        Row(desired=(declared("a", registry_type="Jfrog", protocol="http"),), state=(managed("a", "1"),),
            live=(live("a", "1"),), expected=((Action.REPLACE, "a", ("registry_type", "protocol")),)),
    "adopt: declared, not in the state, HSS has that name":
        Row(desired=(declared("a"),), live=(live("a", "9"),), expected=((Action.ADOPT, "a", ()),)),
    "adopt: and update what differs":
        Row(desired=(declared("a", protocol="http"),), live=(live("a", "9"),),
            expected=((Action.ADOPT, "a", ("protocol",)),)),
    "adopt: an add accepted whose id was never learned is found by name":
        Row(desired=(declared("a"),), state=(managed("a", None),), live=(live("a", "9"),),
            expected=((Action.ADOPT, "a", ()),)),
    "adopt: deleted outside, then made again by someone under the same name":
        Row(desired=(declared("a"),), state=(managed("a", "1"),), live=(live("a", "2"),),
            expected=((Action.ADOPT, "a", ()),)),
    "create: managed, declared, but gone from HSS":
        Row(desired=(declared("a"),), state=(managed("a", "1"),), expected=((Action.CREATE, "a", ()),)),
    "delete: managed, no longer declared":
        Row(state=(managed("a", "1"),), live=(live("a", "1"),), expected=((Action.DELETE, "a", ()),)),
    "forget: no longer declared, with --no-destroy":
        Row(state=(managed("a", "1"),), live=(live("a", "1"),), options=DiffRules(destroy=False),
            expected=((Action.FORGET, "a", ()),)),
    "forget: no longer declared and already gone from HSS":
        Row(state=(managed("a", "1"),), expected=((Action.FORGET, "a", ()),)),
    "drift: HSS changed outside, the plan puts back what is declared":
        Row(desired=(declared("a"),), state=(managed("a", "1"),),
            live=(live("a", "1", registry_addr="elsewhere.example.com"),),
            expected=((Action.UPDATE, "a", ("registry_addr",)),), drift=("registry_addr",)),
    "drift: HSS changed outside to what is now declared: drift, no change":
        Row(desired=(declared("a", protocol="http"),), state=(managed("a", "1"),),
            live=(live("a", "1", protocol="http"),), drift=("protocol",)),
    "unmanaged: in HSS, neither declared nor managed, never touched":
        Row(desired=(declared("a"),), state=(managed("a", "1"),),
            live=(live("a", "1"), live("stranger", "7")), unmanaged=1),
    "namespace: not reported for the Swr channel, so not compared":
        Row(desired=(declared("a", namespace="ns"),), state=(managed("a", "1"),), live=(live("a", "1"),)),
    "namespace: compared for the Other channel":
        Row(desired=(declared("a", namespace="ns", get_scan_image_channel="Other"),),
            state=(managed("a", "1", get_scan_image_channel="Other"),),
            live=(live("a", "1", get_scan_image_channel="Other"),),
            expected=((Action.UPDATE, "a", ("namespace",)),)),
    "no refresh: compared with what the state recorded":
        Row(desired=(declared("a", protocol="http"),), state=(managed("a", "1"), managed("b", "2")),
            live=None,
            expected=((Action.UPDATE, "a", ("protocol",)), (Action.DELETE, "b", ()))),
    "targeting: only the selected registries are planned":
        Row(desired=(declared("a"), declared("b")), options=DiffRules(only=("b",)),
            expected=((Action.CREATE, "b", ()),)),
    "targets: the same name in two targets is two registries":
        Row(desired=(declared("a"), declared("a", target=OTHER)), state=(managed("a", "1"),),
            live=(live("a", "1"),), expected=((Action.CREATE, "a", ()),)),
}


def _plan(row: Row) -> Plan:
    listing = None if row.live is None else {T: list(row.live)}
    return make_plan(desired_of(*row.desired), state_of(*row.state), listing, row.options)


@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
def test_planner_rules(row: Row) -> None:
    plan = _plan(row)
    assert [(c.action, c.name, c.changed) for c in plan.changes] == list(row.expected)
    assert tuple(d.field for d in plan.drift) == row.drift
    assert plan.unmanaged == row.unmanaged
    assert plan.refreshed is (row.live is not None)
    assert not plan.unsafe


def test_what_each_action_carries() -> None:
    row = Row(desired=(declared("new"), declared("rep", registry_type="Jfrog"),
                       declared("upd", protocol="http")),
              state=(managed("rep", "1"), managed("upd", "2"), managed("old", "3")),
              live=(live("rep", "1"), live("upd", "2"), live("old", "3")))
    create, delete, replace, update = _plan(row).changes
    assert (create.send_password, create.before, create.reason) == (True, None, "")
    assert create.after is not None and create.after["registry_password"] == {"env": "PW_NEW"}
    assert (replace.send_password, replace.registry_id, replace.reason) == \
        (True, "1", "registry_type cannot be changed in place")
    assert (update.send_password, update.registry_id) == (True, "2")
    assert (delete.registry_id, delete.after, delete.reason) == ("3", None, "it is no longer declared")
    assert delete.before is not None and "registry_name" not in delete.before  # compared fields only


def test_replace_with_no_destroy_is_refused() -> None:
    row = Row(desired=(declared("a", registry_type="Jfrog"),), state=(managed("a", "1"),),
              live=(live("a", "1"),), options=DiffRules(destroy=False))
    with pytest.raises(ReconcilerError, match="registry_type Harbor -> Jfrog replaces the registry"):
        _plan(row)


def _destroying(deleted: int, managed_count: int, *, replaced: int = 0) -> Plan:
    names = [f"r{i:02d}" for i in range(managed_count)]
    kept = names[deleted:]
    row = Row(desired=tuple(declared(n, registry_type="Jfrog" if i < replaced else "Harbor")
                            for i, n in enumerate(kept)),
              state=tuple(managed(n, str(i)) for i, n in enumerate(names)),
              live=tuple(live(n, str(i)) for i, n in enumerate(names)))
    return _plan(row)


@pytest.mark.parametrize(("deleted", "managed_count", "replaced", "unsafe"), [
    (4, 10, 0, True),  # 40% of 10
    (3, 10, 0, False),  # 30% is allowed
    (2, 10, 2, True),  # replaces count as destroys
    (9, 9, 0, False),  # fewer than 10 managed: never guarded
])
def test_unsafe_is_a_share_of_what_a_target_manages(deleted: int, managed_count: int, replaced: int,
                                                    unsafe: bool) -> None:
    plan = _destroying(deleted, managed_count, replaced=replaced)
    destroyed = deleted + replaced
    expected = [UnsafeTarget(T, destroyed, managed_count, SAFETY_MAX_DESTROY_SHARE)] if unsafe else []
    assert plan.unsafe_targets == expected
    assert plan.unsafe is unsafe


def test_unsafe_wording_in_the_document_and_in_apply_s_refusal() -> None:
    targets = _destroying(4, 10).unsafe_targets
    assert [unsafe_reason(t) for t in targets] == [
        f"{T}: deletes or replaces 4 of 10 managed registries (more than 30%); apply needs --force"]
    assert str(UnsafePlanError(targets)) == (
        f"refusing an unsafe plan: {T}: deletes or replaces 4 of 10 managed registries (more than 30%). "
        "Check the plan; pass --force if these changes are intended.")


def test_action_groupings() -> None:
    assert {a for a in Action if a.creates} == {Action.CREATE, Action.REPLACE}
    assert {a for a in Action if a.destroys} == {Action.DELETE, Action.REPLACE}
    assert {a for a in Action if a.leaves_state} == {Action.DELETE, Action.FORGET}
    adopt_only = Change(Action.ADOPT, T, "a")
    adopt_update = Change(Action.ADOPT, T, "a", changed=("protocol",))
    plan = Plan([Change(Action.CREATE, T, "c"), Change(Action.REPLACE, T, "r"), Change(Action.DELETE, T, "d"),
                 Change(Action.UPDATE, T, "u"), adopt_only, adopt_update, Change(Action.FORGET, T, "f")])
    assert (plan.to_add, plan.to_change, plan.to_destroy, plan.to_import, plan.to_forget) == (2, 2, 2, 2, 1)


# --- the shared view ----------------------------------------------------------------------------------


def _every_action() -> Plan:
    row = Row(desired=(declared("new"), declared("upd", protocol="http"), declared("rot", password_version=2),
                       declared("rep", registry_type="Jfrog"), declared("adopted", protocol="http"),
                       declared("renamed", protocol="http")),
              state=(managed("upd", "1"), managed("rot", "2"), managed("rep", "3"), managed("old", "4"),
                     managed("kept", "5", target=OTHER),
                     managed("was", "6", registry_addr="renamed.example.com")),
              live=(live("upd", "1"), live("rot", "2", status="fail", fail_reason="REQUEST_API_ERROR"),
                    live("rep", "3"), live("old", "4"), live("adopted", "9"),
                    live("was", "6", registry_addr="renamed.example.com")))
    plan = _plan(row)
    forget = make_plan(Desired(), state_of(managed("kept", "5", target=OTHER)), {OTHER: []}).changes
    plan.changes += forget
    assert {c.action for c in plan.changes} == set(Action)
    return plan


def _normalised(lines: list[str]) -> list[str]:
    return [" ".join(line.split()) for line in lines]


@pytest.mark.parametrize("action", list(Action))
def test_text_and_markdown_show_the_same_symbol_and_lines(action: Action) -> None:
    view = next(v for v in plan_view(_every_action()) if v.change.action is action)
    text = _normalised(render_view(view, Palette(enabled=False)))
    markdown = _normalised(change_block(view).split("\n"))
    # The one difference: markdown marks a change in place (and a move) "!", which GitHub colours
    # (issue 19.7).
    assert ["!" + line[1:] if line.startswith(("~", "→")) else line for line in text] == markdown
    assert text[0] == f"# {view.headline}"
    assert f"{view.symbol} registry \"{view.change.name}\" {{" in text


def test_both_renderers_draw_the_view_of_a_whole_plan() -> None:
    plan = _every_action()
    text = render_plan(plan, Palette(enabled=False))
    markdown = render_plan_markdown(plan)
    for view in plan_view(plan):
        block = "\n".join(render_view(view, Palette(enabled=False)))
        assert block in text
        assert change_block(view) in markdown


def _view(plan: Plan, action: Action) -> list[tuple[str, str, str]]:
    view = next(v for v in plan_view(plan) if v.change.action is action)
    return [(line.mark, line.field, line.text(str)) for line in view.lines]


def test_a_forget_is_neutral_not_a_destroy() -> None:
    plan = _every_action()
    lines = _view(plan, Action.FORGET)
    assert lines and all(mark == "" for mark, _, _ in lines)
    view = next(v for v in plan_view(plan) if v.change.action is Action.FORGET)
    assert view.headline.endswith("will be removed from the state only (left in HSS)")
    coloured = "\n".join(render_view(view, Palette(enabled=True)))
    assert "\033[31m" not in coloured  # no red anywhere
    assert "\033[33m~\033[0m registry" in coloured  # a yellow ~, like a change of the state


def test_a_replace_shows_why_and_the_password_it_sends() -> None:
    lines = _view(_every_action(), Action.REPLACE)
    assert ("~", "registry_type", "Harbor -> Jfrog  # forces replacement") in lines
    assert ("~", "registry_password", "(sensitive) (sent to the new registry)") in lines


def test_password_lines_never_show_the_reference() -> None:
    plan = _every_action()
    assert ("+", "registry_password", "(sensitive)") in _view(plan, Action.CREATE)
    assert ("~", "registry_password", "(sensitive) (re-sent: password_version 1 -> 2)") in \
        [line for v in plan_view(plan) if v.change.name == "rot"
         for line in [(x.mark, x.field, x.text(str)) for x in v.lines]]
    assert ("~", "registry_password", "(sensitive) (re-sent with the update)") in _view(plan, Action.ADOPT)
    assert "PW_" not in render_plan(plan, Palette()) + render_plan_markdown(plan)


@pytest.mark.parametrize(("unchanged", "note"), [(0, ""), (1, "(1 unchanged attribute hidden)"),
                                                 (2, "(2 unchanged attributes hidden)")])
def test_hidden_attributes_are_counted_in_good_grammar(unchanged: int, note: str) -> None:
    same = {f: "x" for f in ("registry_addr", "registry_username")[:unchanged]}
    view = change_view(Change(Action.UPDATE, T, "a", "1", {**same, "protocol": "https"},
                              {**same, "protocol": "http"}, ("protocol",)))
    assert (view.hidden, view.hidden_note) == (unchanged, note)
    assert ("hidden" in "\n".join(render_view(view, Palette()))) is bool(note)
    assert ("hidden" in change_block(view)) is bool(note)
    if note:
        assert f"# {note}" in change_block(view) and f"        # {note}" in render_view(view, Palette())


def test_the_id_is_shown_unmarked_except_for_a_create() -> None:
    plan = _every_action()
    for view in plan_view(plan):
        ids = [line for line in view.lines if line.field == "id"]
        if view.change.action in (Action.CREATE, Action.MOVE) or view.change.registry_id is None:
            assert ids == []
        else:
            assert [(line.kind, line.old) for line in ids] == [(LineKind.UNCHANGED, view.change.registry_id)]


def test_the_status_hss_reported_is_in_the_view() -> None:
    view = next(v for v in plan_view(_every_action()) if v.change.name == "rot")
    assert view.status == "fail, REQUEST_API_ERROR"
    assert view.change.address == registry_address(T, "rot")


def test_a_registry_listed_by_two_targets_of_a_project_is_unmanaged_once() -> None:
    # Issue 19.3: an `all_granted_eps` target lists the registries of every enterprise project.
    everything = TargetKey(T.region, T.project_id, "all_granted_eps")
    live_registries = {T: [live("mine", "1"), live("theirs", "2")],
                       everything: [live("mine", "1"), live("theirs", "2"), live("other-ep", "3")]}
    plan = make_plan(desired_of(declared("mine")), state_of(managed("mine", "1")), live_registries)
    assert plan.unmanaged == 2  # theirs and other-ep, once each
