"""Issue 19.4: after a failed state write, the summary counts what HSS accepted and says where it went.

The write is made to fail deterministically once the lock is held: the state's
backup path is a directory, so the first checkpoint (which keeps the backup)
cannot be written, whoever runs the test.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.e2e.conftest import CLI, Hss, Result
from tests.e2e.workspaces import Api, env_for, registry, write_workspace

STATE = "hss-reconciler.state.json"
ERRORED = "errored.hss-reconciler.state.json"


def _run(hss: Hss, cwd: Path, *args: str) -> Result:
    proc = subprocess.run([CLI, *args], env=env_for(hss), cwd=cwd, capture_output=True, text=True,
                          timeout=60, check=False)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def test_the_summary_counts_what_hss_accepted_and_names_the_errored_state(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("first")])
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    assert _run(hss, cwd, "apply", str(ws), "--auto-approve").code == 0
    (ws / f"{STATE}.backup").mkdir()  # the first write of the next run cannot keep its backup
    (ws / f"{STATE}.backup" / "keep").write_text("a directory where the backup goes\n")
    write_workspace(ws, [registry("first", protocol="http"), registry("second"), registry("third")])

    result = _run(hss, cwd, "apply", str(ws), "--auto-approve", "--format", "json")

    assert result.code == 1, result.output
    assert "Traceback" not in result.output
    errored = cwd / ERRORED
    summary = result.stderr.strip().splitlines()[-1]
    assert summary == (f"Error: Apply stopped. Resources: 2 added, 1 changed, 0 destroyed. The state "
                       f"could not be written: 3 changes HSS accepted are recorded in {errored}; copy it "
                       f"over the state file ('cp {errored} {ws / STATE}') before running again.")
    document = json.loads(result.stdout)["result"]
    assert (document["added"], document["changed"], document["done"]) == (2, 1, [])
    assert all(str(errored) in failure["error"] for failure in document["failed"])
    # What the summary counts is what HSS has, and the errored file records it all.
    assert sorted(r["registry_name"] for r in Api(hss).list()) == ["first", "second", "third"]
    saved = json.loads(errored.read_text())["registries"]
    assert sorted(r["registry_name"] for r in saved) == ["first", "second", "third"]
    assert {r["registry_name"]: r["attributes"]["protocol"] for r in saved}["first"] == "http"
