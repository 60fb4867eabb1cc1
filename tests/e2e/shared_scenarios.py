"""The proofs issue 18 asks of every shared store, written once; test_shared_state_{s3,pg}.py run them.

Each takes the store's URL and the extra environment its CLI runs need, and
drives the real CLI (subprocesses) against the emulator.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from tests.e2e.conftest import CLI, Hss, Result
from tests.e2e.workspaces import Api, env_for, registry, write_workspace


def run(hss: Hss, env: dict[str, str], *args: str, cwd: Path | None = None) -> Result:
    proc = subprocess.run([CLI, *args], env=env_for(hss, **env), capture_output=True, text=True,
                          timeout=120, check=False, cwd=cwd)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def pulled(hss: Hss, env: dict[str, str], url: str) -> dict:  # type: ignore[type-arg]
    result = run(hss, env, "state", "pull", "--state", url)
    assert result.code == 0, result.output
    data: dict = json.loads(result.stdout)  # type: ignore[type-arg]
    return data


def names_in(state: dict) -> set[str]:  # type: ignore[type-arg]
    return {entry["registry_name"] for entry in state["registries"]}


def apply_then_plan_clean(hss: Hss, env: dict[str, str], url: str, tmp_path: Path) -> None:
    """apply writes only the shared store; a plan from another directory (HSS_STATE) sees no change."""
    ws = write_workspace(tmp_path / "one", [registry("shared-a"), registry("shared-b")])
    applied = run(hss, env, "apply", str(ws), "--auto-approve", "--state", url)
    assert applied.code == 0, applied.output
    assert not list(ws.glob("*.json*")), "nothing written beside the files"
    other = tmp_path / "other-machine"
    shutil.copytree(ws, other)
    plan = run(hss, {**env, "HSS_STATE": url}, "plan", ".", "--detailed-exitcode", cwd=other)
    assert plan.code == 0, plan.output
    state = pulled(hss, env, url)
    assert names_in(state) == {"shared-a", "shared-b"} and state["serial"] >= 1


def interleaved(hss: Hss, env: dict[str, str], url: str, tmp_path: Path, runs: int,
                serials: Callable[[], list[int]]) -> None:
    """`runs` applies (each adding its own registry, from its own directory) and as many plans, all at
    once: every registry ends in HSS and in the state, and the stored serials only ever went up."""
    names = [f"team-{i}" for i in range(runs)]
    base = write_workspace(tmp_path / "checkout", [registry(n) for n in names])
    procs = []
    for i, name in enumerate(names):
        machine = tmp_path / f"machine-{i}"
        shutil.copytree(base, machine)
        for args in (["apply", str(machine), "--auto-approve", "--target", name, "--lock-timeout", "90s"],
                     ["plan", str(machine), "--target", name]):
            procs.append(subprocess.Popen([CLI, *args, "--state", url], env=env_for(hss, **env),
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, out + err
    assert set(Api(hss).by_name()) == set(names)
    state = pulled(hss, env, url)
    assert names_in(state) == set(names)
    assert all(entry["id"] for entry in state["registries"])
    history = serials()
    assert history == sorted(set(history)), f"serials not strictly increasing: {history}"
    assert len(history) >= runs and history[-1] == state["serial"]


def sigkill_then_force_unlock(hss: Hss, env: dict[str, str], url: str, tmp_path: Path,
                              lock_present: Callable[[], bool]) -> None:
    """Another machine is refused naming the holder; after SIGKILL, force-unlock and a re-run converge."""
    Api(hss).configure(latency_ms=200)
    names = [f"slow-{i}" for i in range(4)]
    ws = write_workspace(tmp_path / "killed", [registry(n) for n in names])
    first = subprocess.Popen([CLI, "apply", str(ws), "--auto-approve", "--parallelism", "1", "--state", url],
                             env=env_for(hss, **env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    try:
        deadline = time.monotonic() + 30
        while not lock_present():
            assert first.poll() is None and time.monotonic() < deadline, "the apply never took the lock"
            time.sleep(0.05)
        machine = tmp_path / "second-machine"
        shutil.copytree(ws, machine)
        second = run(hss, env, "apply", ".", "--auto-approve", "--state", url, cwd=machine)
        assert second.code == 1, second.output
        assert f"pid {first.pid}" in second.stderr and "running 'apply'" in second.stderr, second.stderr
        os.kill(first.pid, signal.SIGKILL)
    finally:
        first.communicate(timeout=30)
    Api(hss).configure(latency_ms=0)
    blocked = run(hss, env, "apply", str(ws), "--auto-approve", "--state", url)
    assert blocked.code == 1 and "looks stale" in blocked.stderr, blocked.output
    lock_id = re.search(r"force-unlock (\S+) --state", blocked.stderr)
    assert lock_id, blocked.stderr
    released = run(hss, env, "force-unlock", lock_id.group(1), "--state", url)
    assert released.code == 0 and "Released the state lock" in released.stdout, released.output
    again = run(hss, env, "apply", str(ws), "--auto-approve", "--state", url)
    assert again.code == 0, again.output
    assert not lock_present()
    clean = run(hss, env, "plan", str(ws), "--detailed-exitcode", "--state", url)
    assert clean.code == 0, clean.output
    assert names_in(pulled(hss, env, url)) == set(names) <= set(Api(hss).by_name())


def push_and_migrate(hss: Hss, env: dict[str, str], url: str, tmp_path: Path) -> None:
    """local -> store -> local is byte-identical; pushing an older state is refused, --force moves on."""
    ws = write_workspace(tmp_path / "local", [registry("moved-a")])
    assert run(hss, env, "apply", str(ws), "--auto-approve").code == 0
    original = ws / "hss-reconciler.state.json"
    old = original.read_bytes()
    up = run(hss, env, "state", "migrate", str(ws), "--to", url)
    assert up.code == 0 and "verified" in up.stdout, up.output
    back = tmp_path / "back" / "state.json"
    back.parent.mkdir()
    down = run(hss, env, "state", "migrate", "--state", url, "--to", str(back))
    assert down.code == 0, down.output
    assert back.read_bytes() == old, "local -> store -> local must give the same bytes"

    write_workspace(ws, [registry("moved-a"), registry("moved-b")])
    assert run(hss, env, "apply", str(ws), "--auto-approve", "--state", url).code == 0
    newer = pulled(hss, env, url)["serial"]
    refused = run(hss, env, "state", "push", str(original), "--state", url)
    assert refused.code == 1 and f"newer (serial {newer})" in refused.stderr, refused.output
    assert pulled(hss, env, url)["serial"] == newer, "nothing written"
    forced = run(hss, env, "state", "push", str(original), "--state", url, "--force")
    assert forced.code == 0, forced.output
    after = pulled(hss, env, url)
    assert after["serial"] == newer + 1 and names_in(after) == {"moved-a"}
