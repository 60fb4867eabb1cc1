"""The proof that retries are right: 200 registries through 30% injected faults.

The installed CLI applies two targets of 100 registries (the per-project
maximum) against an emulator that fails about 30% of API requests: dropped
connections, 429s with Retry-After, 500/503s, and adds that are committed but
whose answer is lost. A blind resend of a lost add would make a duplicate (or,
at 100, hit the quota); a retry that gives up too early would leave work
undone. The run must end with exactly the declared 200, once each, and a state
that records each one with the id HSS gave it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.e2e.conftest import Hss
from tests.e2e.workspaces import PASSWORD, PROJECT, Api, cli, registry, state_of, write_workspace

SECOND_PROJECT = "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d"
PER_TARGET = 100
# Four independent dice of 8.53% each: 1 - (1 - 0.0853) ** 4 = 30% of requests faulted.
RATE = 0.0853
SEED = 20240501
# Retry-After 0 keeps the test quick; that a Retry-After is waited for is
# proven in tests/unit/test_retry.py, where waiting costs nothing.


def faults_on(hss: Hss) -> None:
    Api(hss).configure(drop_rate=RATE, throttle_rate=RATE, error_rate=RATE, lost_response_rate=RATE,
                       seed=SEED, retry_after_seconds=0)


def faults_off(hss: Hss) -> None:
    Api(hss).configure(drop_rate=0.0, throttle_rate=0.0, error_rate=0.0, lost_response_rate=0.0)


def stats(hss: Hss) -> dict[str, Any]:
    return Api(hss).stats()


def live(hss: Hss, project: str) -> list[dict[str, Any]]:
    return Api(hss, project).list()


def test_200_registries_through_30_percent_faults_converge_in_one_run(hss: Hss, tmp_path: Path) -> None:
    workspace = tmp_path / "registries"
    declared = {
        PROJECT: [f"a-{i:03d}" for i in range(PER_TARGET)],
        SECOND_PROJECT: [f"b-{i:03d}" for i in range(PER_TARGET)],
    }
    for index, (project, names) in enumerate(declared.items()):
        write_workspace(workspace, [registry(n) for n in names], project=project,
                        filename=f"target-{index}.yaml")
    faults_on(hss)

    began = time.monotonic()
    result = cli(hss, "apply", str(workspace), "--auto-approve", "--log-level", "info")
    elapsed = time.monotonic() - began

    counters = stats(hss)
    faults_off(hss)
    assert result.code == 0, result.output[-3000:]
    assert "Apply complete! Resources: 200 added, 0 changed, 0 destroyed." in result.stdout
    # The faults really happened, every kind of them, and the client really retried.
    faults = counters["faults"]
    assert set(faults) == {"drop", "throttle", "error", "lost_response"}, faults
    assert sum(faults.values()) / counters["total_requests"] > 0.2, counters
    assert "retrying in" in result.stderr
    assert "listing by name before anything else" in result.stderr
    assert "the registry exists already" in result.stderr  # some lost answers were adds
    assert PASSWORD not in result.output

    state = state_of(workspace)
    recorded = {(e["target"]["project_id"], e["registry_name"]): e["id"] for e in state["registries"]}
    for project, names in declared.items():
        items = live(hss, project)
        live_names = [item["registry_name"] for item in items]
        assert len(live_names) == PER_TARGET, f"{project}: {len(live_names)} registries"
        assert sorted(live_names) == sorted(names)  # all declared, none twice
        assert {name: recorded.get((project, name)) for name in names} == {
            item["registry_name"]: item["id"] for item in items}
    assert len(recorded) == 2 * PER_TARGET
    # Usually 5-10 s. The bound is loose because a rare chain of consecutive
    # faults on one call backs off for tens of seconds, which is correct.
    assert elapsed < 45, f"apply took {elapsed:.1f}s"

    again = cli(hss, "plan", str(workspace), "--detailed-exitcode")
    assert again.code == 0, again.output[-2000:]
