"""Issue 4.5: a state file that cannot be written, and one that must not be.

A read-only directory is made with chmod 0555. Root ignores directory
permissions, so as root the directory is instead swapped for a regular file
(its contents moved aside): every write under it then fails with ENOTDIR, a
real refusal from the kernel, and the test runs either way.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.conftest import CLI, Hss, Result
from tests.e2e.workspaces import Api, env_for, registry, write_workspace

STATE = "hss-reconciler.state.json"
ERRORED = "errored.hss-reconciler.state.json"


def _make_unwritable(directory: Path) -> tuple[Path, Callable[[], None]]:
    """Make `directory` refuse writes; returns where its files can still be read, and an undo."""
    if os.geteuid() != 0:
        directory.chmod(0o555)
        return directory, lambda: directory.chmod(0o755)
    aside = directory.with_name(directory.name + ".aside")
    directory.rename(aside)
    directory.write_text("this is a file now, so nothing can be created under it\n")

    def undo() -> None:
        directory.unlink()
        aside.rename(directory)
    return aside, undo


def _run(*args: str, hss: Hss, cwd: Path) -> Result:
    proc = subprocess.run([CLI, *args], env=env_for(hss), cwd=cwd, capture_output=True, text=True,
                          timeout=60, check=False)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def _names(items: list[dict[str, object]]) -> list[str]:
    return sorted(str(item["registry_name"]) for item in items)


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    directory = tmp_path / "cwd"
    directory.mkdir()
    return directory


def test_unwritable_state_directory_is_refused_before_any_change(hss: Hss, tmp_path: Path, cwd: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("first")])
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    state = state_dir / STATE
    assert _run("apply", str(ws), "--auto-approve", "--state", str(state), hss=hss, cwd=cwd).code == 0
    before = state.read_bytes()
    write_workspace(ws, [registry("first"), registry("second")])

    _, undo = _make_unwritable(state_dir)
    try:
        result = _run("apply", str(ws), "--auto-approve", "--state", str(state), hss=hss, cwd=cwd)
    finally:
        undo()
    assert result.code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "cannot create the state lock" in lines[0] and "Nothing was changed" in lines[0]
    assert "Traceback" not in result.output
    assert _names(Api(hss).list()) == ["first"], "no change may start without a lock"
    assert state.read_bytes() == before
    assert [p.name for p in state_dir.iterdir()] == [STATE], "no lock, backup or temporary file left"
    assert list(cwd.iterdir()) == []


def test_state_directory_lost_mid_apply_saves_the_new_state_and_says_how_to_recover(
        hss: Hss, tmp_path: Path, cwd: Path) -> None:
    names = [f"reg-{i}" for i in range(4)]
    api = Api(hss)
    api.configure(latency_ms=200)
    ws = write_workspace(tmp_path / "ws", [registry(n) for n in names])
    state = ws / STATE
    proc = subprocess.Popen([CLI, "apply", str(ws), "--auto-approve", "--parallelism", "1"],
                            env=env_for(hss), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 30
    while not state.exists():  # the first accepted add has been checkpointed
        assert proc.poll() is None and time.monotonic() < deadline, "apply never wrote its state"
        time.sleep(0.01)

    readable, undo = _make_unwritable(ws)
    frozen = (readable / STATE).read_bytes()
    lock_id = json.loads((readable / (STATE + ".lock")).read_text())["id"]
    try:
        out, err = proc.communicate(timeout=60)
        assert (readable / STATE).read_bytes() == frozen, "nothing may be written once the directory is gone"
    finally:
        undo()

    assert proc.returncode == 1, out + err
    assert "Traceback" not in out + err
    errored = cwd / ERRORED
    assert "cannot write state file" in err and str(errored) in err
    assert f"'cp {errored} {state}'" in err
    # Every registry HSS accepted is in the errored file, so nothing is lost.
    saved = json.loads(errored.read_text())
    assert _names(saved["registries"]) == _names(api.list())
    assert saved["lineage"] == json.loads(frozen)["lineage"]
    assert saved["serial"] > json.loads(frozen)["serial"]
    # The lock could not be removed from the dead directory either; the run says how to release it.
    assert f"hss-reconciler force-unlock {lock_id} --state {state}" in err

    # Follow the instructions: release the lock, put the errored state back, and nothing is left to do.
    api.configure(latency_ms=0)
    assert _run("force-unlock", lock_id, "--state", str(state), hss=hss, cwd=cwd).code == 0
    shutil.copy(errored, state)
    # The failed write stopped the run: what never started is planned, nothing is adopted twice.
    applied = len(api.list())
    assert applied < len(names), "a failed state write must stop new changes from starting"
    plan = _run("plan", str(ws), "--detailed-exitcode", hss=hss, cwd=cwd)
    # (an add whose id was still being learned when the run stopped is adopted, not added again)
    assert f"{len(names) - applied} to add, 0 to change, 0 to destroy." in plan.stdout, plan.output
    assert _run("apply", str(ws), "--auto-approve", hss=hss, cwd=cwd).code == 0
    assert _run("plan", str(ws), "--detailed-exitcode", hss=hss, cwd=cwd).code == 0
    assert _names(api.list()) == names


VERSION_2 = json.dumps({"version": 2, "serial": 9, "lineage": "x", "registries": [],
                        "something_new": {"we": "do not know"}}, indent=2).encode()
BAD_STATES = {
    "newer-version": (VERSION_2, "state format version 2 is newer"),
    "not-json": (b'{"version": 1, "serial": 3,', "not valid JSON"),
    "empty": (b"", "not valid JSON"),
    "not-an-object": (b"[1, 2, 3]\n", "not an hss-reconciler state file"),
    "malformed-entry": (b'{"version": 1, "serial": 1, "lineage": "l", "registries": [{"id": "x"}]}',
                        "state file is malformed"),
    "not-utf8": (b'{"version": 1, "serial": 1, "lineage": "\xff\xfe"}', "not valid JSON"),
}


@pytest.mark.parametrize("case", sorted(BAD_STATES))
def test_newer_or_corrupt_state_is_refused_and_left_untouched(
        hss: Hss, tmp_path: Path, cwd: Path, case: str) -> None:
    raw, reason = BAD_STATES[case]
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    state = ws / STATE
    state.write_bytes(raw)
    os.utime(state, (1_000_000_000, 1_000_000_000))

    result = _run("apply", str(ws), "--auto-approve", hss=hss, cwd=cwd)

    assert result.code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and reason in lines[0] and str(state) in lines[0], result.stderr
    assert "Traceback" not in result.output
    assert state.read_bytes() == raw and state.stat().st_mtime == 1_000_000_000
    assert sorted(p.name for p in ws.iterdir()) == ["hss-reconciler.state.json", "registries.yaml"], \
        "no backup, no errored file, no lock left behind"
    assert list(cwd.iterdir()) == []
    assert Api(hss).list() == [], "nothing was changed in HSS"
