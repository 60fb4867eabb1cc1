"""Issue 17.6: a refresh or call that takes long says so; an interrupted apply counts what HSS accepted.

The real CLI (main, in a subprocess) with the interval cut from 10 s to 0.1 s, against
one emulator whose every call takes 300 ms: each slow call then says "Still ..." on
stderr, under --format text only. One emulator for the module; each test its own project.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.registry import TargetKey, registry_address
from reconciler.state.model import State
from reconciler.state.store import StateStore
from tests.e2e.conftest import Hss, Result, running_hss
from tests.e2e.test_interrupts import Lines
from tests.e2e.workspaces import REGION, Api, env_for, registry, write_workspace

EVERY = 0.1
LATENCY_MS = 300
# The CLI as installed, with only the still-running interval shortened (a test's knob, no option).
CLI = [sys.executable, "-c",
       "import sys, reconciler.apply.events as events\n"
       f"events.STILL_RUNNING_EVERY = {EVERY}\n"
       "from reconciler.cli.main import main\n"
       "sys.exit(main(sys.argv[1:]))\n"]
OTHER = {"get_scan_image_channel": "Other", "namespace": "security-tools"}
STILL = re.compile(r"Still (refreshing|getting|waiting)")
STATE = "hss-reconciler.state.json"


@pytest.fixture(scope="module")
def slow_hss() -> Iterator[Hss]:
    with running_hss() as hss:
        Api(hss).configure(latency_ms=LATENCY_MS)
        yield hss


def _target(project: str) -> str:
    return str(TargetKey(REGION, project, "0"))


def _run(hss: Hss, *args: str, **env: str) -> Result:
    proc = subprocess.run([*CLI, *args], env=env_for(hss, **env), capture_output=True, text=True,
                          timeout=60, check=False)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def test_refresh_outputs_and_wait_say_they_still_run_on_stderr_in_colour_when_forced(
        slow_hss: Hss, tmp_path: Path) -> None:
    project = "a" * 32
    ws = write_workspace(tmp_path / "ws", [registry("other-one", **OTHER)], project=project)
    address = registry_address(TargetKey(REGION, project, "0"), "other-one")
    # Not a terminal, TERM=dumb, yet forced: colour (FORCE_COLOR comes before TERM=dumb).
    result = _run(slow_hss, "apply", str(ws), "--auto-approve", "--wait", FORCE_COLOR="1", TERM="dumb")

    assert result.code == 0, result.output
    bold = "\x1b[1m{}\x1b[0m".format
    elapsed = r"\.\.\. \[\d+s elapsed\]"
    for line in (rf"Still refreshing {re.escape(bold(_target(project)))}{elapsed}",
                 rf"{re.escape(bold(address))}: Still getting the upload commands{elapsed}",
                 rf"Still waiting for HSS to reach {re.escape(bold(address))}{elapsed}"):
        assert re.search(f"^{line}$", result.stderr, re.MULTILINE), (line, result.stderr)
    assert not STILL.search(result.stdout), "the still-running lines go to stderr only"
    assert "Outputs:" in result.stdout and "HSS access" in result.stdout

    shown = _run(slow_hss, "show", str(ws))  # show refreshes too, for the access statuses
    assert shown.code == 0 and "other-one" in shown.stdout, shown.output
    refreshing = rf"^Still refreshing {re.escape(_target(project))}{elapsed}$"
    assert re.search(refreshing, shown.stderr, re.MULTILINE), shown.stderr


def test_json_output_gets_no_still_running_line(slow_hss: Hss, tmp_path: Path) -> None:
    """The refresh is as slow as above; under json the hook is off whatever the call (unit: cli/progress)."""
    ws = write_workspace(tmp_path / "ws", [registry("other-two", **OTHER)], project="b" * 32)
    result = _run(slow_hss, "plan", str(ws), "--format", "json")

    assert result.code == 0, result.output
    document = json.loads(result.stdout)  # the whole of stdout is one JSON document
    assert document["refreshed"] and [c["address"] for c in document["changes"]] == [
        f"{_target('b' * 32)}/other-two"]
    assert not STILL.search(result.output), result.output


def test_an_interrupt_counts_changes_hss_accepted_that_the_state_could_not_save(
        slow_hss: Hss, tmp_path: Path) -> None:
    """SIGINT while two adds are in flight, and the state cannot be written (its backup path is a
    directory): those two are accepted but unsaved, the other two never started."""
    project = "c" * 32
    names = [f"reg-{i}" for i in range(4)]
    ws = write_workspace(tmp_path / "ws", [registry(n) for n in names], project=project)
    store = StateStore(ws / STATE)
    store.write(store.snapshot(State()))  # a state exists, so the run's first write keeps a backup...
    (ws / f"{STATE}.backup").mkdir()  # ...which it cannot
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    proc = subprocess.Popen([*CLI, "apply", str(ws), "--auto-approve", "--parallelism", "2"],
                            env=env_for(slow_hss), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    stdout, stderr = Lines(proc.stdout), Lines(proc.stderr)  # type: ignore[arg-type]
    stdout.wait_for(f"{names[1]}: Creating...")  # both workers' adds sent, each 300 ms long
    proc.send_signal(signal.SIGINT)

    assert proc.wait(timeout=20) == 130
    errored = cwd / f"errored.{STATE}"
    (summary,) = [line for line in stderr.text().splitlines() if "interrupted by" in line]
    assert summary == (f"Error: interrupted by SIGINT: 0 of 4 changes applied and saved in {ws / STATE}, "
                       "2 accepted by HSS but not saved there, 2 not started. The state could not be "
                       f"written: 2 changes HSS accepted are recorded in {errored}; copy it over the state "
                       f"file ('cp {errored} {ws / STATE}') before running again.")
    live = sorted(item["registry_name"] for item in Api(slow_hss, project).list())
    assert live == names[:2]
    assert sorted(r["registry_name"] for r in json.loads(errored.read_text())["registries"]) == live
