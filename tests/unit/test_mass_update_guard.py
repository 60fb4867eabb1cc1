"""Issue 15: mass updates are guarded like mass deletes (plan/diff.py `unsafe_targets`).

In a target with 10 or more managed registries, a plan whose in-place updates,
replaces and deletes together change more than 30% of them is unsafe. When
deletes and replaces alone are over the share it is a "destroy" (worded as
before); otherwise an "update". The wording is the plan document's reason, read
back exactly, and apply refuses either without --force.
"""

from __future__ import annotations

import json

import pytest

from reconciler.engine.applying import UnsafePlanError
from reconciler.plan.diff import SAFETY_MAX_CHANGE_SHARE, SAFETY_MAX_DESTROY_SHARE, SAFETY_MIN_MANAGED
from reconciler.plan.document import plan_from_document, plan_to_document
from reconciler.plan.model import Action, Change, Plan, UnsafeTarget, unsafe_reason
from reconciler.render.colors import Palette
from reconciler.render.markdown import render_plan_markdown
from reconciler.render.text import render_plan
from tests.unit.test_plan_rules import Row, T, _plan, declared, live, managed


def _changing(managed_count: int, *, updated: int = 0, deleted: int = 0, replaced: int = 0,
              created: int = 0) -> Plan:
    """A plan over `managed_count` managed registries: the first deleted, the next replaced, then updated."""
    names = [f"r{i:02d}" for i in range(managed_count)]
    desired = [declared(f"new-{i}") for i in range(created)]
    for i, name in enumerate(names):
        if i < deleted:
            continue
        if i < deleted + replaced:
            desired.append(declared(name, registry_type="Jfrog"))
        elif i < deleted + replaced + updated:
            desired.append(declared(name, registry_username="rotated-robot"))
        else:
            desired.append(declared(name))
    row = Row(desired=tuple(desired), state=tuple(managed(n, str(i)) for i, n in enumerate(names)),
              live=tuple(live(n, str(i)) for i, n in enumerate(names)))
    return _plan(row)


def test_the_update_guard_uses_the_delete_guard_s_constants() -> None:
    assert (SAFETY_MIN_MANAGED, SAFETY_MAX_CHANGE_SHARE, SAFETY_MAX_DESTROY_SHARE) == (10, 0.30, 0.30)


@pytest.mark.parametrize(("managed_count", "updated", "deleted", "replaced", "expected"), [
    (10, 3, 0, 0, None),  # 30% is allowed
    (10, 4, 0, 0, UnsafeTarget(T, 0, 10, 0.30, 4, "update")),  # 40% updated in place
    (10, 2, 2, 0, UnsafeTarget(T, 2, 10, 0.30, 2, "update")),  # neither alone is over 30%; together 40%
    (10, 1, 1, 1, None),  # 30% together
    (10, 0, 4, 0, UnsafeTarget(T, 4, 10, 0.30)),  # a mass delete stays a "destroy", worded as before
    (10, 2, 3, 1, UnsafeTarget(T, 4, 10, 0.30, 2, "destroy")),  # deletes are over the share on their own
    (9, 9, 0, 0, None),  # fewer than 10 managed: never guarded
    (20, 7, 0, 0, UnsafeTarget(T, 0, 20, 0.30, 7, "update")),
])
def test_updates_replaces_and_deletes_count_together_against_one_share(
        managed_count: int, updated: int, deleted: int, replaced: int, expected: UnsafeTarget | None) -> None:
    plan = _changing(managed_count, updated=updated, deleted=deleted, replaced=replaced)
    assert plan.count(Action.UPDATE) == updated
    assert plan.unsafe_targets == ([expected] if expected else [])


def test_creates_do_not_count_toward_the_share() -> None:
    plan = _changing(10, updated=3, created=10)
    assert (plan.to_add, plan.count(Action.UPDATE)) == (10, 3)
    assert plan.unsafe_targets == []


def test_each_kind_is_worded_with_its_counts() -> None:
    update = UnsafeTarget(T, 1, 12, 0.30, 4, "update")
    assert update.changed == 5
    assert unsafe_reason(update) == (f"{T}: changes 5 of 12 managed registries (more than 30%): 4 updated in "
                                     "place, 1 deleted or replaced; apply needs --force")
    destroy = UnsafeTarget(T, 4, 10, 0.30, 2, "destroy")
    assert unsafe_reason(destroy) == (f"{T}: deletes or replaces 4 of 10 managed registries (more than 30%), "
                                      "and updates 2 in place; apply needs --force")
    assert unsafe_reason(UnsafeTarget(T, 4, 10, 0.30)) == (
        f"{T}: deletes or replaces 4 of 10 managed registries (more than 30%); apply needs --force")


def test_apply_refuses_a_mass_update_naming_it() -> None:
    targets = _changing(10, updated=4).unsafe_targets
    assert str(UnsafePlanError(targets)).startswith(
        f"refusing an unsafe plan: {T}: changes 4 of 10 managed registries (more than 30%): "
        "4 updated in place, 0 deleted or replaced.")


def test_text_and_markdown_say_why() -> None:
    plan = _changing(10, updated=2, deleted=2)
    reason = (f"{T}: changes 4 of 10 managed registries (more than 30%): "
              "2 updated in place, 2 deleted or replaced")
    assert f"Unsafe plan: {reason}; apply needs --force" in render_plan(plan, Palette(False))
    assert "changes 4 of 10 managed registries" in render_plan_markdown(plan)


@pytest.mark.parametrize("unsafe", [UnsafeTarget(T, 0, 10, 0.30, 4, "update"),
                                    UnsafeTarget(T, 2, 10, 0.30, 2, "update"),
                                    UnsafeTarget(T, 4, 10, 0.30, 2, "destroy"),
                                    UnsafeTarget(T, 4, 10, 0.30)])
def test_every_kind_round_trips_through_the_plan_document(unsafe: UnsafeTarget) -> None:
    plan = Plan(changes=[Change(Action.DELETE, T, "gone", "1", {"registry_type": "Harbor"})],
                unsafe_targets=[unsafe])
    again, _ = plan_from_document(json.loads(json.dumps(plan_to_document(plan))))
    assert again.unsafe_targets == [unsafe]


@pytest.mark.parametrize("reason", [
    "changes 9 of 10 managed registries (more than 30%): 2 updated in place, 2 deleted or replaced",  # 9 != 4
    "changes 2 of 10 managed registries (more than 30%): 02 updated in place, 0 deleted or replaced",
    "deletes or replaces 4 of 10 managed registries (more than 30%), and updates 0 in place",
    "updates 4 of 10 managed registries (more than 30%)",
])
def test_a_reason_hss_reconciler_would_not_write_is_refused(reason: str) -> None:
    plan = Plan(changes=[Change(Action.DELETE, T, "gone", "1", {"registry_type": "Harbor"})],
                unsafe_targets=[UnsafeTarget(T, 4, 10, 0.30)])
    document = json.loads(json.dumps(plan_to_document(plan)))
    document["unsafe"]["reasons"] = [f"{T}: {reason}; apply needs --force"]
    with pytest.raises(Exception, match=r"unsafe.reasons\[0\]: not a reason hss-reconciler writes"):
        plan_from_document(document)
