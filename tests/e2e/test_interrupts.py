"""Interrupting apply: Ctrl-C and SIGTERM stop cleanly, a second one at once, SIGKILL loses nothing.

Real processes against the emulator, with latency so that calls are in
flight when the signal lands. What must hold whatever the moment: the state
file parses, HSS never holds a name twice, and the next apply converges to
exactly what is declared.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import IO

import httpx
import pytest

from reconciler.state.model import parse_state
from reconciler.state.store import backup_path
from tests.e2e.conftest import CLI, Hss
from tests.e2e.workspaces import Api, cli, env_for, registry, write_workspace

STATE = "hss-reconciler.state.json"


def declare(workspace: Path, names: list[str], username: str = "robot-hss") -> list[str]:
    write_workspace(workspace, [registry(n, registry_username=username) for n in names])
    return names


def start_apply(hss: Hss, workspace: Path, *options: str) -> subprocess.Popen[str]:
    # --force: a round rewrites most of the registries, which the mass-change guard would refuse.
    return subprocess.Popen([CLI, "apply", str(workspace), "--auto-approve", "--force", *options],
                            env=env_for(hss),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


class Lines:
    """Collects a stream's lines (and when each came) on a thread, so a test can wait for one."""

    def __init__(self, stream: IO[str]) -> None:
        self.lines: list[str] = []
        self.times: list[float] = []
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self.times.append(time.monotonic())
                self._cond.notify_all()
        stream.close()

    def wait_for(self, text: str, timeout: float = 20) -> None:
        with self._cond:
            found = self._cond.wait_for(lambda: any(text in line for line in self.lines), timeout)
        assert found, f"no line with {text!r} in {self.lines[-20:]}"

    def first(self, text: str) -> float:
        """When the first line with `text` came."""
        return next(t for t, line in zip(self.times, self.lines, strict=True) if text in line)

    def text(self) -> str:
        self._thread.join(10)
        return "\n".join(self.lines)


def live_names(hss: Hss) -> list[str]:
    return [item["registry_name"] for item in Api(hss).list()]


def quiesce(hss: Hss) -> None:
    """Wait until the emulator finished every request a dead client left in flight."""
    deadline = time.monotonic() + 10
    while httpx.get(f"{hss.server.url}/_emulator/stats").json()["in_flight"]:
        assert time.monotonic() < deadline, "emulator requests never finished"
        time.sleep(0.02)


def readable_state(workspace: Path) -> dict[str, str | None]:
    """The state file parses (or, failing that, its backup): names -> ids."""
    path = workspace / STATE
    for candidate in (path, backup_path(path)):
        if candidate.exists():
            state = parse_state(candidate.read_bytes(), str(candidate))
            return {e.name: e.registry_id for e in state.entries.values()}
    return {}


def assert_converged(hss: Hss, workspace: Path, declared: list[str]) -> None:
    """HSS holds exactly `declared`, once each, and the state records each with its HSS id.

    A run killed between an accepted add and learning the new id leaves an entry
    without one; the next plan adopts it, so after a converging re-run none is left.
    """
    names = live_names(hss)
    assert sorted(names) == sorted(declared), "HSS holds other names, or one twice"
    live = {item["registry_name"]: item["id"] for item in Api(hss).list()}
    state = json.loads((workspace / STATE).read_text())
    recorded = {e["registry_name"]: e["id"] for e in state["registries"]}
    assert recorded == live


def release_stale_lock(hss: Hss, workspace: Path) -> None:
    """What a person does after a killed run: force-unlock the lock it left, by its id."""
    lock = workspace / f"{STATE}.lock"
    if not lock.exists():
        return
    try:
        lock_id = json.loads(lock.read_text())["id"]
    except ValueError:  # killed between creating the lock file and writing it: remove it by hand
        lock.unlink()
        return
    result = cli(hss, "force-unlock", lock_id, "--state", str(workspace / STATE))
    assert result.code == 0, result.output


# -- SIGINT / SIGTERM -------------------------------------------------------------------


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_first_signal_finishes_calls_in_flight_saves_and_exits(
    hss: Hss, tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    workspace = tmp_path / "registries"
    declared = declare(workspace, [f"reg-{i:02d}" for i in range(30)])
    Api(hss).configure(latency_ms=150)
    proc = start_apply(hss, workspace)
    stdout, stderr = Lines(proc.stdout), Lines(proc.stderr)  # type: ignore[arg-type]
    # The eleventh add starts only once one of the first ten has returned: adds are done and in flight.
    stdout.wait_for("reg-10: Creating...")
    proc.send_signal(sig)
    assert proc.wait(timeout=20) == code
    err = stderr.text()
    assert f"{sig.name} received: starting nothing new" in err
    (summary,) = [line for line in err.splitlines() if "interrupted by" in line]
    assert summary.startswith(f"Error: interrupted by {sig.name}: ")
    assert "Run apply again to finish." in summary and "Traceback" not in err
    assert "Apply complete!" not in stdout.text()
    assert not (workspace / f"{STATE}.lock").exists()

    # What was in flight finished and was saved; nothing new was started.
    quiesce(hss)
    recorded = readable_state(workspace)
    live = {item["registry_name"]: item["id"] for item in Api(hss).list()}
    assert recorded == live, "every registry HSS holds is in the state, with its id"
    assert 0 < len(live) < len(declared)

    Api(hss).configure(latency_ms=0)
    again = cli(hss, "apply", str(workspace), "--auto-approve", "--force")
    assert again.code == 0, again.output
    assert f"{len(declared) - len(live)} added" in again.stdout
    assert_converged(hss, workspace, declared)


def test_second_signal_exits_at_once_and_the_state_stays_valid(hss: Hss, tmp_path: Path) -> None:
    workspace = tmp_path / "registries"
    declared = declare(workspace, [f"reg-{i:02d}" for i in range(12)])
    assert cli(hss, "apply", str(workspace), "--auto-approve").code == 0
    declared = declare(workspace, [f"reg-{i:02d}" for i in range(2, 14)], username="robot-2")
    Api(hss).configure(latency_ms=1500)
    proc = start_apply(hss, workspace)
    stdout, stderr = Lines(proc.stdout), Lines(proc.stderr)  # type: ignore[arg-type]
    stdout.wait_for("Destroying...")  # in flight, each call 1.5 s long
    proc.send_signal(signal.SIGINT)
    time.sleep(0.2)
    second = time.monotonic()
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=10) == 130
    assert time.monotonic() - second < 0.8, "the second Ctrl-C did not exit at once"
    assert "SIGINT received again: exiting now" in stderr.text()
    assert not (workspace / f"{STATE}.lock").exists(), "the lock was left behind"
    assert readable_state(workspace)  # the state of the first apply, whole

    quiesce(hss)
    Api(hss).configure(latency_ms=0)
    again = cli(hss, "apply", str(workspace), "--auto-approve", "--force")
    assert again.code == 0, again.output
    assert_converged(hss, workspace, declared)


# -- SIGKILL at random moments ------------------------------------------------------------


KILLS = 20
SEED = 4242
LATENCY_MS = 20
PARALLELISM = "4"  # with 20 ms calls, the 35 changes of one round take about 0.3 s


def test_sigkill_at_20_random_moments_loses_nothing_and_duplicates_nothing(
    hss: Hss, tmp_path: Path
) -> None:
    """Each round switches between two declared sets (5 deletes, 5 creates, 25 updates).

    The moments are drawn (seeded) from the whole run, weighted to the part
    where changes are in flight, as timed by one uninterrupted round first.
    Four rounds in five wait for the run's first change before drawing, so a
    start slowed by a busy machine (the whole suite beside it) cannot push every
    kill before the changes.
    """
    workspace = tmp_path / "registries"
    sets = [([f"reg-{i:02d}" for i in range(30)], "robot-a"),
            ([f"reg-{i:02d}" for i in range(5, 35)], "robot-b")]
    Api(hss).configure(latency_ms=LATENCY_MS)
    declare(workspace, *sets[0])
    assert cli(hss, "apply", str(workspace), "--auto-approve").code == 0
    declare(workspace, *sets[1])
    began = time.monotonic()
    proc = start_apply(hss, workspace, "--parallelism", PARALLELISM)
    stdout, stderr = Lines(proc.stdout), Lines(proc.stderr)  # type: ignore[arg-type]
    assert proc.wait(timeout=30) == 0
    stdout.text(), stderr.text()
    first_change, done = stdout.first("...") - began, stdout.first("Apply complete!") - began

    dice = random.Random(SEED)
    killed_mid_apply = 0
    for round_number in range(KILLS):
        names, username = sets[round_number % 2]
        declared = declare(workspace, names, username)
        proc = start_apply(hss, workspace, "--parallelism", PARALLELISM)
        stdout, stderr = Lines(proc.stdout), Lines(proc.stderr)  # type: ignore[arg-type]
        if dice.random() < 0.2:
            time.sleep(dice.uniform(0.0, first_change))
        else:
            stdout.wait_for("...")
            time.sleep(dice.uniform(0.0, done - first_change))
        proc.kill()
        proc.wait(timeout=10)
        out, _ = stdout.text(), stderr.text()
        killed_mid_apply += "..." in out and "Apply complete!" not in out

        recorded = readable_state(workspace)  # parses (or its backup does), every time
        quiesce(hss)
        names_now = live_names(hss)
        assert len(names_now) == len(set(names_now)), f"round {round_number}: a name twice in HSS"
        assert set(recorded) <= set(sets[0][0]) | set(sets[1][0])

        release_stale_lock(hss, workspace)
        Api(hss).configure(latency_ms=0)  # the re-run needs no latency; it keeps the test short
        again = cli(hss, "apply", str(workspace), "--auto-approve", "--force")
        assert again.code == 0, f"round {round_number}: {again.output[-1500:]}"
        assert_converged(hss, workspace, declared)
        Api(hss).configure(latency_ms=LATENCY_MS)

    # The moments were spread over the run, not all before or after it.
    assert killed_mid_apply >= KILLS // 4, killed_mid_apply
    final = cli(hss, "plan", str(workspace), "--detailed-exitcode")
    assert final.code == 0, final.output
