"""Round trips are the cost of a run: count them on the emulator, not the clock.

AddRegistry returns no id, so the ids of new registries come from listing their
target. One listing per target, after its last add, serves all of them; a
listing per add (or per round of adds) would multiply the requests and the run
time. These counts are exact, so they can be asserted where timings cannot.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.conftest import Hss
from tests.e2e.workspaces import Api, cli, registry, state_of, write_workspace

OTHER_PROJECT = "1c6a5d2f0e9b4f3c9d8b7e6f5a4b3c2d"


def served(hss: Hss) -> dict[str, int]:
    counts: dict[str, int] = Api(hss).stats()["requests"]
    return counts


def since(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {op: after[op] - before.get(op, 0) for op in after if after[op] != before.get(op, 0)}


def test_an_apply_lists_each_target_once_to_refresh_and_once_for_the_new_ids(
        hss: Hss, tmp_path: Path) -> None:
    workspace = tmp_path / "registries"
    write_workspace(workspace, [registry(f"first-{i:02d}") for i in range(25)], filename="first.yaml")
    write_workspace(workspace, [registry(f"second-{i:02d}") for i in range(15)], project=OTHER_PROJECT,
                    filename="second.yaml")
    before = served(hss)

    result = cli(hss, "apply", str(workspace), "--auto-approve")

    assert result.code == 0, result.output
    assert since(before, served(hss)) == {"AddRegistry": 40, "ListRegistry": 4}
    live = {**{r["registry_name"]: r["id"] for r in Api(hss).list()},
            **{r["registry_name"]: r["id"] for r in Api(hss, OTHER_PROJECT).list()}}
    recorded = {e["registry_name"]: e["id"] for e in state_of(workspace)["registries"]}
    assert recorded == live and len(live) == 40
    # Complete when HSS accepted it (no id yet: AddRegistry returns none), the id said apart (issue 17.6).
    completed = re.findall(r"/([a-z]+-\d\d): Creation complete after \d+s$", result.stdout, re.MULTILINE)
    assert sorted(completed) == sorted(live)
    said = dict(re.findall(r"/([a-z]+-\d\d): Recorded \[id=([0-9a-f-]+)\]", result.stdout))
    assert said == live, "every new registry's id is reported once it is known, with that id"


def test_a_plan_with_nothing_to_change_lists_each_target_once(hss: Hss, tmp_path: Path) -> None:
    workspace = write_workspace(tmp_path / "registries", [registry(f"reg-{i:02d}") for i in range(12)])
    assert cli(hss, "apply", str(workspace), "--auto-approve").code == 0
    before = served(hss)

    result = cli(hss, "plan", str(workspace), "--detailed-exitcode")

    assert result.code == 0, result.output
    assert since(before, served(hss)) == {"ListRegistry": 1}


def test_the_refresh_and_the_changes_share_their_connections(hss: Hss, tmp_path: Path) -> None:
    workspace = write_workspace(tmp_path / "registries", [registry(f"reg-{i}") for i in range(3)])
    counters = hss.server.app.stats  # read in-process: an HTTP call would add a connection
    counters.reset()

    result = cli(hss, "apply", str(workspace), "--auto-approve", "--parallelism", "1")

    assert result.code == 0, result.output
    stats = counters.snapshot()
    assert stats["requests"] == {"ListRegistry": 2, "AddRegistry": 3}
    # Refresh, adds and the listing for the ids all on the one connection the refresh opened
    # (a client for the refresh and another for the changes would need two, with TLS twice).
    assert stats["connections"] == 1
