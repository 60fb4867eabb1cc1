"""What plan, apply and friends share: the workspace, its state, its HSS clients."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from reconciler.config.model import Desired, TargetConfig, TargetKey
from reconciler.config.workspace import ENDPOINT_ENV, default_endpoint, load_workspace, workspace_dir
from reconciler.hss.client import HssClient
from reconciler.state.model import State
from reconciler.state.store import DEFAULT_STATE_NAME, StateStore


@dataclass
class Workspace:
    desired: Desired
    store: StateStore
    state: State

    def targets(self) -> list[TargetConfig]:
        """Declared targets plus any the state still has registries in."""
        targets = dict(self.desired.targets)
        override = os.environ.get(ENDPOINT_ENV)
        for entry in self.state.entries.values():
            if entry.target not in targets:
                endpoint = override or default_endpoint(entry.target.region)
                targets[entry.target] = TargetConfig(entry.target, endpoint)
        return [targets[k] for k in sorted(targets)]


def open_workspace(paths: list[str], state_path: str | None) -> Workspace:
    files = [Path(p) for p in paths] or [Path(".")]
    desired = load_workspace(files, os.environ)
    path = Path(state_path) if state_path else workspace_dir(files) / DEFAULT_STATE_NAME
    store = StateStore(path)
    return Workspace(desired, store, store.load())


@contextmanager
def hss_clients(targets: list[TargetConfig], *, ca_bundle: str | None, insecure: bool,
                parallelism: int) -> Iterator[dict[TargetKey, HssClient]]:
    from reconciler.connect import clients_for
    from reconciler.hss.credentials import credentials_from_env
    from reconciler.hss.transport import make_http_client

    verify: bool | str = False if insecure else (ca_bundle or True)
    credentials = credentials_from_env(os.environ)
    with make_http_client(credentials, verify=verify, max_connections=max(parallelism, 10) + 2) as http:
        yield clients_for(targets, http)
