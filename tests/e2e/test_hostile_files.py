"""Hand-edited and hostile files through the installed CLI: a malformed lock, a FIFO, a symlinked state.

Each run is bounded by a timeout, so a command that would hang on a FIFO fails
here instead of stalling the suite. The bad-input corpus (tests/cases/invalid,
tests/e2e/test_bad_input.py) holds the one-line refusals; these tests follow a
refusal to what happens next: the lock can be released, the run after it
works, HSS was never called, the link is still a link.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

from reconciler.state.lock import acquire
from reconciler.state.model import State
from tests.e2e.conftest import CLI, Hss, Result
from tests.e2e.workspaces import Api, env_for, registry, write_workspace

STATE = "hss-reconciler.state.json"
LOCK = STATE + ".lock"


def _run(*args: str, hss: Hss, cwd: Path, timeout: float = 30) -> Result:
    proc = subprocess.run([CLI, *args], env=env_for(hss), cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False, stdin=subprocess.DEVNULL)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def _sent(hss: Hss) -> dict[str, int]:
    """Requests that change HSS, by operation, since the emulator started."""
    requests = Api(hss).stats().get("requests", {})
    return {op: n for op, n in requests.items() if op in ("AddRegistry", "UpdateRegistry", "DeleteRegistry")}


def _one_error_line(result: Result) -> str:
    assert result.code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_force_unlock_releases_a_malformed_lock_with_the_id_its_error_printed_then_apply_works(
        hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    lock = ws / LOCK
    lock.write_text(json.dumps({"id": {"uuid": "x"}, "operation": "apply", "who": "ci@elsewhere",
                                "pid": 99999999999999999999, "created": "2026-01-05T10:00:00Z",
                                "version": "0.1.0"}))

    line = _one_error_line(_run("apply", ".", "--auto-approve", hss=hss, cwd=ws))
    assert line.startswith(f"Error: {LOCK}: id: expected a string, got an object"), line
    unlock_id = re.search(r"'hss-reconciler force-unlock (\S+) --state ", line)[1]  # type: ignore[index]

    wrong = _run("force-unlock", "malformed-0000000000000000", hss=hss, cwd=ws)
    assert "nothing was released" in _one_error_line(wrong) and lock.exists()

    released = _run("force-unlock", unlock_id, hss=hss, cwd=ws)
    assert released.code == 0, released.output
    assert f"Released the state lock {unlock_id}" in released.stdout and not lock.exists()

    assert _run("apply", ".", "--auto-approve", hss=hss, cwd=ws).code == 0
    assert [r["registry_name"] for r in Api(hss).list()] == ["alpha"]


def test_a_lock_with_an_impossible_pid_stops_apply_with_exit_1_and_nothing_is_sent(
        hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    for pid in (-1, 0, 2**31, 2**64, 1.5):
        (ws / LOCK).write_text(json.dumps({"id": "5c1f0e2d", "operation": "apply", "who": "me@this-host",
                                           "pid": pid, "created": "t", "version": "0.1.0"}))
        line = _one_error_line(_run("apply", ".", "--auto-approve", hss=hss, cwd=ws))
        assert line.startswith(f"Error: {LOCK}: pid: expected an integer"), line
        assert "force-unlock 5c1f0e2d --state" in line
    assert _sent(hss) == {} and Api(hss).list() == []


def test_a_fifo_among_the_registry_files_stops_plan_and_apply_at_once(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    os.mkfifo(ws / "more.yaml")  # `open` on it would wait for a writer forever
    for command in (("plan", "."), ("apply", ".", "--auto-approve")):
        line = _one_error_line(_run(*command, hss=hss, cwd=ws, timeout=20))
        assert line == "Error: more.yaml: cannot read file: it is a FIFO (named pipe), not a regular file"
    assert _sent(hss) == {} and not (ws / STATE).exists() and not (ws / LOCK).exists()


def test_a_state_that_is_a_fifo_stops_apply_and_releases_the_lock(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    os.mkfifo(ws / STATE)
    line = _one_error_line(_run("apply", ".", "--auto-approve", hss=hss, cwd=ws, timeout=20))
    assert line == f"Error: {STATE}: cannot read state file: it is a FIFO (named pipe), not a regular file"
    assert _sent(hss) == {} and not (ws / LOCK).exists()
    assert sorted(p.name for p in ws.iterdir()) == ["hss-reconciler.state.json", "registries.yaml"]


def test_apply_through_a_symlinked_state_writes_its_target_and_keeps_the_link(
        hss: Hss, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    real = shared / "prod.state.json"
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    assert _run("apply", ".", "--auto-approve", "--state", str(real), hss=hss, cwd=ws).code == 0
    first = real.read_bytes()
    (ws / STATE).symlink_to(os.path.relpath(real, ws))

    write_workspace(ws, [registry("alpha"), registry("beta")])
    result = _run("apply", ".", "--auto-approve", hss=hss, cwd=ws)

    assert result.code == 0, result.output
    assert (ws / STATE).is_symlink() and (ws / STATE).resolve() == real
    names = [entry["registry_name"] for entry in json.loads(real.read_text())["registries"]]
    assert names == ["alpha", "beta"]
    assert (shared / "prod.state.json.backup").read_bytes() == first
    assert sorted(p.name for p in ws.iterdir()) == [STATE, "registries.yaml"], "nothing beside the link"
    assert sorted(p.name for p in shared.iterdir()) == ["prod.state.json", "prod.state.json.backup"]
    assert _run("plan", ".", "--detailed-exitcode", hss=hss, cwd=ws).code == 0


def test_a_symlinked_state_is_locked_beside_its_target(hss: Hss, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    real = shared / "prod.state.json"
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    (ws / STATE).symlink_to(real)
    with acquire(real, "apply") as held:  # another run, which named the state by its real path
        line = _one_error_line(_run("apply", ".", "--auto-approve", hss=hss, cwd=ws))
    assert line.startswith(f"Error: {STATE}: the state is locked by ") and held.info.id in line, line
    assert _sent(hss) == {} and not real.exists()


def test_a_link_re_pointed_while_apply_runs_does_not_redirect_its_writes(hss: Hss, tmp_path: Path) -> None:
    """The run writes the file it locked, resolved when it opened the state; the link's new target
    (another team's state, say) is left exactly as it was."""
    shared = tmp_path / "shared"
    shared.mkdir()
    locked, other = shared / "prod.state.json", shared / "staging.state.json"
    other.write_text("not touched\n")
    locked.write_bytes(State().serialize())
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    (ws / STATE).symlink_to(locked)
    Api(hss).configure(latency_ms=300)  # time to re-point the link between the lock and the first write
    with subprocess.Popen([CLI, "apply", ".", "--auto-approve"], env=env_for(hss), cwd=ws, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as run:
        try:
            deadline = time.monotonic() + 30
            while not (shared / (locked.name + ".lock")).exists() and run.poll() is None:
                assert time.monotonic() < deadline, "the run never took its lock"
                time.sleep(0.005)
            fresh = ws / (STATE + ".new")
            fresh.symlink_to(other)
            os.replace(fresh, ws / STATE)
            _, stderr = run.communicate(timeout=60)
        finally:
            run.kill()
    assert run.returncode == 0, stderr
    assert [e["registry_name"] for e in json.loads(locked.read_text())["registries"]] == ["alpha"]
    assert other.read_text() == "not touched\n" and (ws / STATE).resolve() == other
    assert sorted(p.name for p in shared.iterdir()) == [
        "prod.state.json", "prod.state.json.backup", "staging.state.json"], "no lock left, nothing beside"
