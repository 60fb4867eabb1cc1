"""Issue 19.1: a target whose registry file is gone is still planned at the endpoint its file named.

The state records the endpoint a file names for its target (never a user name or
password in it); once no file declares the target, plan lists and deletes its
registries there, not at the region's public endpoint.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

from tests.e2e.conftest import CLI, Hss, Result
from tests.e2e.workspaces import PASSWORD, PASSWORD_ENV, PROJECT, Api, registry

OTHER_PROJECT = "1" * 32
STATE = "hss-reconciler.state.json"


def _file(directory: Path, name: str, project: str, endpoint: str, registries: list[str]) -> None:
    document = {"version": 1, "target": {"region": "ap-southeast-1", "project_id": project,
                                          "enterprise_project_id": "0", "endpoint": endpoint},
                "registries": [registry(n) for n in registries]}
    (directory / name).write_text(yaml.safe_dump(document, sort_keys=False))


def _run(hss: Hss, cwd: Path, *args: str) -> Result:
    env = {k: v for k, v in hss.env().items() if k != "HSS_ENDPOINT"}  # only the files name endpoints
    env[PASSWORD_ENV] = PASSWORD
    proc = subprocess.run([CLI, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60,
                          check=False)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def test_a_deleted_target_file_is_planned_at_the_endpoint_it_named(hss: Hss, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    url = hss.server.url
    _file(ws, "custom.yaml", PROJECT, url, ["kept-in-custom"])
    _file(ws, "other.yaml", OTHER_PROJECT, url, ["other"])
    assert _run(hss, ws, "apply", ".", "--auto-approve").code == 0

    targets = [entry["target"] for entry in json.loads((ws / STATE).read_text())["registries"]]
    assert [t["endpoint"] for t in targets] == [url, url]

    (ws / "custom.yaml").unlink()
    plan = _run(hss, ws, "plan", ".", "--detailed-exitcode")
    assert plan.code == 2, plan.output
    assert "0 to add, 0 to change, 1 to destroy." in plan.stdout
    assert "myhuaweicloud" not in plan.output

    assert _run(hss, ws, "apply", ".", "--auto-approve").code == 0
    assert Api(hss).list() == []
    assert [r["registry_name"] for r in Api(hss, OTHER_PROJECT).list()] == ["other"]
