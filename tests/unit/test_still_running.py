"""A call that runs long reports "Still creating..." instead of looking hung (issue 6.6)."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import yaml

from reconciler.apply.events import ApplyEvent, Phase
from reconciler.apply.executor import apply_plan
from reconciler.config.workspace import load_workspace
from reconciler.connect import clients_for
from reconciler.emulator import EmulatorConfig, EmulatorServer
from reconciler.plan.diff import make_plan
from reconciler.state.checkpoint import Checkpointer
from reconciler.state.store import StateStore


def test_slow_calls_report_still_running(tmp_path: Path) -> None:
    server = EmulatorServer(EmulatorConfig(latency_ms=700))
    server.start()
    try:
        doc = {"version": 1, "target": {"region": "ap-southeast-1", "project_id": "p" * 32,
                                        "endpoint": server.url},
               "registries": [{"registry_name": "slow", "registry_type": "Harbor", "api_version": "V2",
                               "protocol": "https", "registry_addr": "slow.example.com",
                               "registry_username": "u", "registry_password": {"env": "SLOW_PW"},
                               "connect_cluster_id": "c", "get_scan_image_channel": "Swr"}]}
        (tmp_path / "r.yaml").write_text(yaml.safe_dump(doc))
        os.environ["SLOW_PW"] = "slow-password"
        desired = load_workspace([tmp_path], {})
        store = StateStore(tmp_path / "state.json")
        state = store.load()
        plan = make_plan(desired, state, None)
        events: list[ApplyEvent] = []
        with httpx.Client() as http:
            result = apply_plan(plan, Checkpointer(store, state),
                                clients_for(desired.targets.values(), http), report=events.append,
                                still_running_every=0.3)
    finally:
        os.environ.pop("SLOW_PW", None)
        server.stop()
    assert result.added == 1 and not result.failed
    phases = [e.phase for e in events]
    # Complete when HSS accepted it; its id recorded after (issue 17.6).
    # (the id listing is slow too: it says so in between).
    assert phases[0] is Phase.STARTED and phases[-1] is Phase.RECORDED
    assert Phase.STILL_LEARNING_IDS in phases[phases.index(Phase.ACCEPTED):]
    still = [e for e in events if e.phase is Phase.STILL_RUNNING]
    assert still, phases
    assert all(e.elapsed >= 0.3 for e in still)
    assert [e.elapsed for e in still] == sorted(e.elapsed for e in still)
