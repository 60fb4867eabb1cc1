"""Set up 'nothing to change' for the plan scenarios, fast.

Applying 10,000 registries through hss-reconciler takes many minutes (see the
README's findings: the state is re-serialised in full at every checkpoint), so
the plan emulator is seeded directly: AddRegistry requests in parallel, one
ListRegistry walk per target for the ids, and one state file written with the
engine's own State/StateStore from the workspace's own Desired. The harness
then proves the seed is right: `plan --detailed-exitcode` must say "No changes".
"""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from tests.bench.workload import PASSWORD, Workload


class _Connections(threading.local):
    conn: http.client.HTTPConnection | None = None


def seed(workload: Workload, workspace: Path, state_path: Path, url: str, token: str,
         threads: int = 16) -> None:
    from reconciler.config.workspace import load_workspace
    from reconciler.state.model import State, StateEntry
    from reconciler.state.store import StateStore

    parts = urlsplit(url)
    host = parts.hostname
    assert host is not None, url
    local = _Connections()

    def call(method: str, path: str, body: dict[str, object] | None = None) -> dict[str, object]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"X-Auth-Token": token, "Content-Type": "application/json"}
        for attempt in range(5):
            if local.conn is None:
                local.conn = http.client.HTTPConnection(host, parts.port, timeout=60)
            try:
                local.conn.request(method, path, body=data, headers=headers)
                response = local.conn.getresponse()
                raw = response.read()
            except (ConnectionError, http.client.HTTPException):
                # A loaded emulator can reset a connection (a full accept queue): reconnect and retry.
                local.conn.close()
                local.conn = None
                time.sleep(0.1 * (attempt + 1))
                continue
            if response.status == 200:
                return json.loads(raw) if raw else {}
            if attempt and method == "POST" and b"already exists" in raw:
                return {}  # the first try landed before its connection was reset
            raise RuntimeError(f"seeding: {method} {path.split('?')[0]} -> {response.status} {raw[:200]!r}")
        raise RuntimeError(f"seeding: {method} {path.split('?')[0]}: connection reset 5 times")

    def base(target: int) -> str:
        return f"/v5/{workload.project_id(target)}/image/registries"

    adds = [(target, {**body, "registry_password": PASSWORD})
            for target, how_many in workload.per_target()
            for body in workload.bodies(target, how_many)]
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda item: call("POST", f"{base(item[0])}?enterprise_project_id=0", item[1]), adds))
        listings = list(pool.map(
            lambda target: call("GET", f"{base(target)}?enterprise_project_id=0&offset=0&limit=200"),
            range(workload.targets)))
    ids = {str(r["registry_name"]): str(r["id"])
           for listing in listings for r in listing["data_list"]}  # type: ignore[attr-defined]

    desired = load_workspace([workspace], {k: v for k, v in os.environ.items() if k != "HSS_ENDPOINT"})
    state = State()
    for registry in desired.registries.values():
        state.put(StateEntry(registry.target, registry.name, ids[registry.name], dict(registry.attributes),
                             registry.password_version))
    if len(state.entries) != workload.count:
        raise RuntimeError(f"seeding: {len(state.entries)} state entries, expected {workload.count}")
    StateStore(state_path).write(StateStore.snapshot(state))
