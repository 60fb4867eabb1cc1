"""A writer killed mid-write leaves a temporary file; the next run that holds the lock removes it."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import Hss
from tests.e2e.workspaces import cli, registry, write_workspace


def test_leftover_temporary_removed_under_the_lock_only(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    leftover = ws / ".hss-reconciler.state.json.k1ll3d.tmp"
    leftover.write_text('{"half": ')
    unrelated = ws / ".other.json.x.tmp"
    unrelated.write_text("keep")

    assert cli(hss, "plan", str(ws)).code == 0
    assert leftover.exists(), "a run without the lock must not touch another writer's files"
    assert cli(hss, "apply", str(ws), "--auto-approve").code == 0
    assert not leftover.exists() and unrelated.exists()
