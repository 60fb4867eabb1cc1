"""Progress that tells the truth (issue 17.6): a create is complete when HSS accepts it.

Its id is learned later, from one listing per target once the target's last
add has returned; that is reported apart (RECORDED), and a listing that takes
long says so every `still_running_every` seconds instead of going quiet.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from reconciler.apply.events import ApplyEvent, Phase
from reconciler.apply.executor import apply_plan
from reconciler.cli.applyview import reporter
from reconciler.plan.model import Action, Change, Plan
from reconciler.registry import registry_address
from reconciler.state.checkpoint import Checkpointer
from reconciler.state.store import StateStore
from tests.unit.test_lock_unwritable_state import TARGET, _desired, _FakeHss

NAMES = ["reg-0", "reg-1", "reg-2"]


class _SlowHss(_FakeHss):
    """The last add takes `slow_add` seconds; every listing takes `slow_list`."""

    def __init__(self, slow_add: float = 0.0, slow_list: float = 0.0) -> None:
        super().__init__()
        self.slow_add, self.slow_list = slow_add, slow_list

    def add_registry(self, body: dict[str, Any]) -> None:
        if body["registry_name"] == NAMES[-1]:
            time.sleep(self.slow_add)
        super().add_registry(body)

    def list_registries(self, **filters: str) -> list[dict[str, Any]]:
        time.sleep(self.slow_list)
        return super().list_registries(**filters)


def _apply(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hss: _SlowHss,
           every: float = 10.0) -> tuple[list[ApplyEvent], Any]:
    monkeypatch.setenv("UNIT_PASSWORD", "unit-Passw0rd")
    desired = _desired(NAMES)
    plan = Plan(changes=[Change(Action.CREATE, TARGET, n, send_password=True,
                                registry=desired.registries[registry_address(TARGET, n)]) for n in NAMES])
    store = StateStore(tmp_path / "state.json")
    events: list[ApplyEvent] = []
    result = apply_plan(plan, Checkpointer(store, store.load()), {TARGET: hss},  # type: ignore[dict-item]
                        parallelism=3, report=events.append, still_running_every=every)
    return events, result


def test_a_create_completes_when_accepted_not_when_its_targets_last_add_returns(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events, result = _apply(tmp_path, monkeypatch, _SlowHss(slow_add=0.4))
    seen = [(e.change.name, e.phase) for e in events]
    first_accepted = seen.index(("reg-0", Phase.ACCEPTED))
    assert first_accepted < seen.index(("reg-2", Phase.ACCEPTED))  # said before the slow add returned
    accepted = next(e for e in events if e.phase is Phase.ACCEPTED and e.change.name == "reg-0")
    assert accepted.elapsed < 0.3
    recorded = [e for e in events if e.phase is Phase.RECORDED]
    assert sorted((e.change.name, e.registry_id) for e in recorded) == [(n, f"id-{n}") for n in NAMES]
    assert min(seen.index((n, Phase.RECORDED)) for n in NAMES) > seen.index(("reg-2", Phase.ACCEPTED))
    assert len(result.done) == 3 and not result.failed


def test_a_slow_id_listing_says_so_instead_of_going_quiet(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events, result = _apply(tmp_path, monkeypatch, _SlowHss(slow_list=0.35), every=0.1)
    still = [e for e in events if e.phase is Phase.STILL_LEARNING_IDS]
    assert still, [e.phase for e in events]
    assert all(e.count == 3 and e.change.target == TARGET and e.elapsed >= 0.1 for e in still)
    # An accepted create is no longer "still creating": its call has ended.
    accepted_at = {e.change.name: i for i, e in enumerate(events) if e.phase is Phase.ACCEPTED}
    assert not [e for i, e in enumerate(events)
                if e.phase is Phase.STILL_RUNNING and i > accepted_at[e.change.name]]
    assert len(result.done) == 3


def test_the_terminal_lines_say_complete_then_recorded() -> None:
    lines: list[str] = []
    report = reporter(lines.append, None)  # type: ignore[arg-type]  # only errors use the Output
    change = Change(Action.CREATE, TARGET, "reg-0")
    for event in (ApplyEvent(change, Phase.ACCEPTED, 0.4),
                  ApplyEvent(change, Phase.STILL_LEARNING_IDS, 10.2, count=100),
                  ApplyEvent(change, Phase.RECORDED, 11.0, "id-7"),
                  ApplyEvent(change, Phase.RECORDED, 11.0)):
        report(event)
    name = registry_address(TARGET, "reg-0")
    assert lines == [
        f"{name}: Creation complete after 0s",
        f"{TARGET}: Still learning the ids of 100 new registries... [10s elapsed]",
        f"{name}: Recorded [id=id-7]",
        f"{name}: Recorded without an id (HSS does not list it yet; the next plan adopts it)",
    ]
