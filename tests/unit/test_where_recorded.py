"""After a failed state write, apply's last line says how to make the saved state the store's again:
a copy for a state file, a `state push` for a shared state (a copy cannot reach an s3:// URL)."""

from __future__ import annotations

from pathlib import Path

from reconciler.apply.result import ApplyResult
from reconciler.cli.applyview import where_recorded
from reconciler.plan.model import Action, Change
from reconciler.registry import TargetKey


def _result(put_back: str) -> ApplyResult:
    change = Change(action=Action.CREATE, target=TargetKey("ap-southeast-1", "p"), name="a")
    return ApplyResult(unrecorded=[(change, Action.CREATE)], saved_to=Path("/tmp/errored.state.json"),
                       put_back=put_back)


def test_a_shared_state_is_put_back_with_state_push_not_a_copy() -> None:
    push = "put it back with 'hss-reconciler state push /tmp/errored.state.json --state s3://b/k'"
    line = where_recorded(_result(push))
    assert line == ("The state could not be written: 1 change HSS accepted is recorded in "
                    f"/tmp/errored.state.json; {push} before running again.")
    assert "copy it over" not in line


def test_a_state_file_is_put_back_with_the_copy_the_store_names() -> None:
    copy = "copy it over the state file ('cp /tmp/errored.state.json ws/hss-reconciler.state.json')"
    assert where_recorded(_result(copy)).endswith(f"; {copy} before running again.")
