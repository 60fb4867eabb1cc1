"""Credentials that fail mid-apply stop the run: one cause said once, not a failure per remaining change.

The end-to-end case (an IdP federation whose refresh fails) is in
tests/e2e/test_credentials_hostile.py; here the gateway's answers, which only
the status tells apart: a 401 (APIG.0301) is about the credentials, whatever
the call, while a 403 is a policy's answer about one operation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.apply.executor import apply_plan
from reconciler.apply.result import ApplyResult
from reconciler.cli.applyview import problems
from reconciler.engine.applying import ApplyOutcome
from reconciler.errors import ApiError, CredentialsFailed
from reconciler.plan.model import Action, Change, Plan
from reconciler.registry import registry_address
from reconciler.state.checkpoint import Checkpointer
from reconciler.state.store import StateStore
from tests.unit.test_lock_unwritable_state import TARGET, _desired, _FakeHss

NAMES = [f"reg-{i}" for i in range(6)]


class _FailingFromThird(_FakeHss):
    """Accepts two adds, then refuses every call with `error`."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error, self.tried = error, 0

    def add_registry(self, body: dict[str, Any]) -> None:
        self.tried += 1
        if self.tried > 2:
            raise self.error
        super().add_registry(body)


def _apply(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hss: _FakeHss) -> tuple[Plan, ApplyResult]:
    monkeypatch.setenv("UNIT_PASSWORD", "unit-Passw0rd")
    desired = _desired(NAMES)
    plan = Plan(changes=[Change(Action.CREATE, TARGET, n, send_password=True,
                                registry=desired.registries[registry_address(TARGET, n)]) for n in NAMES])
    store = StateStore(tmp_path / "state.json")
    return plan, apply_plan(plan, Checkpointer(store, store.load()), {TARGET: hss},  # type: ignore[dict-item]
                            parallelism=1)


@pytest.mark.parametrize("error", [
    CredentialsFailed("IdP federation: IAM refused to issue temporary credentials (500)"),
    ApiError("HSS AddRegistry failed: HTTP 401 APIG.0301: Incorrect IAM authentication information",
             status=401, error_code="APIG.0301"),
], ids=["refresh-failed", "gateway-401"])
def test_failed_credentials_start_nothing_new_and_the_summary_names_the_one_cause(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    hss = _FailingFromThird(error)
    plan, result = _apply(tmp_path, monkeypatch, hss)
    assert hss.tried == 3, "no change may start after the one whose credentials failed"
    assert result.stopped and result.stopped_by == str(error)
    assert len(result.done) == 2 and len(result.failed) == 1
    [line] = problems(ApplyOutcome(plan, result, ran=True), 0)
    assert line.startswith(f"Apply stopped: {error}; 3 changes not started (1 failed). "
                           "Resources: 2 added, 0 changed, 0 destroyed.")


def test_a_403_fails_its_change_only_and_the_rest_still_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A policy may deny one operation and allow the others: not a reason to stop.
    denied = ApiError("HSS AddRegistry failed: HTTP 403 APIG.0302: not authorized", status=403)
    hss = _FailingFromThird(denied)
    plan, result = _apply(tmp_path, monkeypatch, hss)
    assert hss.tried == 6 and not result.stopped and result.stopped_by is None
    assert len(result.failed) == 4
    [line] = problems(ApplyOutcome(plan, result, ran=True), 0)
    assert line.startswith("Apply failed for 4 of 6 changes.")
