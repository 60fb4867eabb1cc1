"""Issue 4.4: two real `apply` processes against one state file; force-unlock.

The emulator's latency makes the first apply slow (a few registries, one call
at a time), so the second one provably runs while the first holds the lock.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import CLI, Hss
from tests.e2e.workspaces import Api, cli, env_for, registry, state_of, write_workspace

NAMES = [f"reg-{i}" for i in range(10)]
# 10 adds, one at a time, then one listing for their ids, after a refresh: about 3.6 s, so the
# three short commands a test runs meanwhile finish first even on a loaded machine (with 5 adds,
# once the ids came from one listing instead of five, the first apply sometimes ended first).
LATENCY_MS = 300


@pytest.fixture
def slow_ws(hss: Hss, tmp_path: Path) -> Path:
    Api(hss).configure(latency_ms=LATENCY_MS)
    return write_workspace(tmp_path / "ws", [registry(n) for n in NAMES])


def _lock_file(ws: Path) -> Path:
    return ws / "hss-reconciler.state.json.lock"


def _start_apply(hss: Hss, ws: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([CLI, "apply", str(ws), "--auto-approve", "--parallelism", "1"],
                            env=env_for(hss), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _holder_once_locked(ws: Path, proc: subprocess.Popen[str]) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the first apply ended before it was seen holding the lock"
        try:
            holder: dict[str, Any] = json.loads(_lock_file(ws).read_text())
            return holder
        except (FileNotFoundError, ValueError):
            time.sleep(0.02)
    raise AssertionError("the first apply never took the lock")


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out + err


def test_second_apply_fails_at_once_naming_the_holder(hss: Hss, slow_ws: Path) -> None:
    first = _start_apply(hss, slow_ws)
    try:
        holder = _holder_once_locked(slow_ws, first)
        assert holder["operation"] == "apply" and holder["pid"] == first.pid

        started = time.monotonic()
        second = cli(hss, "apply", str(slow_ws), "--auto-approve")
        took = time.monotonic() - started
        assert first.poll() is None, "the second apply must not have waited for the first"
        assert second.code == 1, second.output
        assert second.stdout == "", "refused before planning anything"
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), second.stderr
        for part in (holder["who"], f"pid {holder['pid']}", "running 'apply'", holder["created"],
                     holder["id"], f"hss-reconciler force-unlock {holder['id']} --state "):
            assert part in lines[0], part
        assert "looks stale" not in lines[0], "the holder is alive"

        waited = cli(hss, "apply", str(slow_ws), "--auto-approve", "--lock-timeout", "0.5s")
        assert waited.code == 1 and "(waited 0.5s)" in waited.stderr, waited.output
        assert first.poll() is None

        # Reading needs no lock: plan still works while apply runs.
        plan = cli(hss, "plan", str(slow_ws))
        assert plan.code == 0, plan.output
        assert "locked" not in plan.output
        assert took < 5
    finally:
        code, output = _finish(first)
    assert code == 0, output
    assert not _lock_file(slow_ws).exists(), "released when the run ends"
    assert sorted(r["registry_name"] for r in Api(hss).list()) == NAMES
    assert sorted(r["registry_name"] for r in state_of(slow_ws)["registries"]) == NAMES


def test_lock_timeout_waits_for_the_first_apply_then_succeeds(hss: Hss, slow_ws: Path) -> None:
    first = _start_apply(hss, slow_ws)
    try:
        _holder_once_locked(slow_ws, first)
        second = cli(hss, "apply", str(slow_ws), "--auto-approve", "--lock-timeout", "10s")
        assert first.poll() is not None, "the second apply returned while the first still held the lock"
    finally:
        code, output = _finish(first)
    assert code == 0, output
    assert second.code == 0, second.output
    # It read the state only once the first had finished, so it has nothing left to do.
    assert "No changes." in second.stdout
    assert sorted(r["registry_name"] for r in Api(hss).list()) == NAMES, "no duplicates"
    assert not _lock_file(slow_ws).exists()


def test_force_unlock_releases_a_killed_runs_lock_only_with_its_id(hss: Hss, slow_ws: Path) -> None:
    state = str(slow_ws / "hss-reconciler.state.json")
    first = _start_apply(hss, slow_ws)
    holder = _holder_once_locked(slow_ws, first)
    os.kill(first.pid, signal.SIGKILL)
    first.communicate(timeout=30)
    lock_bytes = _lock_file(slow_ws).read_bytes()

    blocked = cli(hss, "apply", str(slow_ws), "--auto-approve")
    assert blocked.code == 1
    assert holder["id"] in blocked.stderr and "looks stale" in blocked.stderr
    assert _lock_file(slow_ws).read_bytes() == lock_bytes, "never removed automatically"

    wrong_id = str(uuid.uuid4())
    wrong = cli(hss, "force-unlock", wrong_id, "--state", state)
    assert wrong.code == 1
    assert f"lock id {wrong_id} does not match" in wrong.stderr and "nothing was released" in wrong.stderr
    assert _lock_file(slow_ws).read_bytes() == lock_bytes

    right = cli(hss, "force-unlock", holder["id"], "--state", state)
    assert right.code == 0, right.output
    assert f"Released the state lock {holder['id']} on {state}" in right.stdout
    assert f"(pid {holder['pid']}) for 'apply'" in right.stdout
    assert not _lock_file(slow_ws).exists()

    again = cli(hss, "force-unlock", holder["id"], "--state", state)
    assert again.code == 1 and "there is no state lock" in again.stderr

    Api(hss).configure(latency_ms=0)
    converge = cli(hss, "apply", str(slow_ws), "--auto-approve")
    assert converge.code == 0, converge.output
    assert sorted(r["registry_name"] for r in Api(hss).list()) == NAMES, "no duplicates after the kill"
