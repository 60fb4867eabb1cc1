"""A reviewed plan against a fresh one: every difference named, none missed."""

from __future__ import annotations

import dataclasses

from reconciler.plan.compare import MAX_SHOWN, differences
from reconciler.plan.model import Action, Change, Plan, UnsafeTarget
from reconciler.registry import TargetKey

T = TargetKey("ap-southeast-1", "p1")
UPDATE = Change(Action.UPDATE, T, "alpha", "id-1", {"registry_addr": "a.example"},
                {"registry_addr": "b.example", "registry_password": {"env": "P"}}, ("registry_addr",), True)


def test_equal_plans_have_no_differences() -> None:
    assert differences(Plan([UPDATE]), Plan([dataclasses.replace(UPDATE)])) == []


def test_an_edited_id_or_field_is_named() -> None:
    edited = dataclasses.replace(UPDATE, registry_id="id-2")
    assert differences(Plan([edited]), Plan([UPDATE])) == [
        f"{T}/alpha: update registry_id was 'id-2' when reviewed, 'id-1' now"]
    quieter = dataclasses.replace(UPDATE, send_password=False)
    assert differences(Plan([quieter]), Plan([UPDATE])) == [
        f"{T}/alpha: update send_password was False when reviewed, True now"]


def test_an_action_turned_into_another_is_two_differences() -> None:
    forged = dataclasses.replace(UPDATE, action=Action.DELETE, after=None)
    assert differences(Plan([forged]), Plan([UPDATE])) == [
        f"{T}/alpha: the plan file would delete it; a fresh plan does not",
        f"{T}/alpha: a fresh plan would update it; the plan file does not"]


def test_a_duplicated_change_and_the_safety_check_are_noticed() -> None:
    assert "the plan file lists a change twice" in differences(Plan([UPDATE, UPDATE]), Plan([UPDATE]))
    flagged = Plan([UPDATE], unsafe_targets=[UnsafeTarget(T, 4, 10, 0.3)])
    assert differences(flagged, Plan([UPDATE])) == ["the safety check (--force) differs from the plan file's"]


def test_many_differences_are_capped() -> None:
    many = [dataclasses.replace(UPDATE, name=f"r{i}") for i in range(30)]
    found = differences(Plan(many), Plan([]))
    assert len(found) == MAX_SHOWN + 1 and found[-1] == f"... and {30 - MAX_SHOWN} more"


def test_a_refresh_only_plan_s_drift_is_compared_entry_by_entry_and_another_plan_s_is_not() -> None:
    from reconciler.plan.model import Drift

    seen = Drift(f"{T}/alpha", "registry_username", "robot", "robot2")
    reviewed = Plan(refresh_only=True, drift=[seen])
    assert differences(reviewed, Plan(refresh_only=True, drift=[dataclasses.replace(seen)])) == []
    moved_on = Plan(refresh_only=True, drift=[dataclasses.replace(seen, live="robot3"),
                                              Drift(f"{T}/beta", "registry_id", "id-2", None)])
    assert differences(reviewed, moved_on) == [
        f"{T}/beta: a fresh plan would record registry_id (none); the plan file does not",
        f"{T}/alpha: registry_username was 'robot' -> 'robot2' when reviewed, 'robot' -> 'robot3' now"]
    assert differences(Plan(refresh_only=True, drift=[seen, seen]), reviewed) == [
        "the plan file lists a drift twice"]
    assert differences(Plan(refresh_only=True), reviewed) == [
        f"{T}/alpha: a fresh plan would record registry_username ('robot2'); the plan file does not"]
    assert differences(Plan(drift=[seen]), Plan()) == []  # shown only: a normal plan acts on its changes
