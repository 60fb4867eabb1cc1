"""What plan, apply and friends share: the workspace, its state, its HSS clients.

A command that writes the state opens the workspace with a lock timeout and
keeps it open (`with`) for as long as it may write; read-only commands open it
without one and take no lock, so `plan` still works while an `apply` runs.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from reconciler.config.model import Desired, TargetConfig, TargetKey
from reconciler.config.workspace import ENDPOINT_ENV, default_endpoint, load_workspace, workspace_dir
from reconciler.hss.client import HssClient
from reconciler.state.model import State
from reconciler.state.store import DEFAULT_STATE_NAME, StateStore, remove_stale_temporaries

if TYPE_CHECKING:
    from reconciler.state.lock import StateLock


@dataclass
class Workspace:
    desired: Desired
    store: StateStore
    state: State
    lock: StateLock | None = None

    def close(self) -> None:
        """Release the state lock, if this workspace took one; harmless otherwise."""
        if self.lock is not None:
            self.lock.release()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def targets(self) -> list[TargetConfig]:
        """Declared targets plus any the state still has registries in."""
        targets = dict(self.desired.targets)
        override = os.environ.get(ENDPOINT_ENV)
        for entry in self.state.entries.values():
            if entry.target not in targets:
                endpoint = override or default_endpoint(entry.target.region)
                targets[entry.target] = TargetConfig(entry.target, endpoint)
        return [targets[k] for k in sorted(targets)]


def open_workspace(paths: list[str], state_path: str | None, *, lock_timeout: float | None = None,
                   operation: str = "apply") -> Workspace:
    """Load the config and the state; with `lock_timeout`, lock the state first.

    lock_timeout None takes no lock (read-only commands). A number takes it for
    `operation`, waiting up to that many seconds for another run to finish
    (0: fail at once, naming the holder). The lock is taken before the state is
    read, so the state this run starts from is the one no other run is changing.
    """
    files = [Path(p) for p in paths] or [Path(".")]
    desired = load_workspace(files, os.environ)
    path = Path(state_path) if state_path else workspace_dir(files) / DEFAULT_STATE_NAME
    store = StateStore(path)
    lock = None
    if lock_timeout is not None:  # read-only commands never load the lock's machinery
        from reconciler.state.lock import acquire

        lock = acquire(path, operation, lock_timeout)
    try:
        if lock is not None:
            remove_stale_temporaries(path)
        state = store.load()
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    return Workspace(desired, store, state, lock)


@contextmanager
def hss_clients(targets: list[TargetConfig], *, ca_bundle: str | None, insecure: bool,
                parallelism: int) -> Iterator[dict[TargetKey, HssClient]]:
    from reconciler.connect import clients_for
    from reconciler.hss.credentials import credentials_from_env
    from reconciler.hss.transport import make_http_client

    # No TLS context (and no reading of the system CA store) when nothing speaks https.
    plain_http = all(t.endpoint.startswith("http://") for t in targets)
    verify: bool | str = False if insecure or plain_http else (ca_bundle or True)
    if insecure:
        logging.getLogger("reconciler").warning(
            "--insecure: TLS certificates are not verified; anyone on the path can read the "
            "credentials and registry passwords this run sends. Never use it in production.")
    credentials = credentials_from_env(os.environ)
    connections = max(parallelism, min(len(targets), 64), 10) + 2
    with make_http_client(credentials, verify=verify, max_connections=connections) as http:
        yield clients_for(targets, http)


def workspace_clients(workspace: Workspace, args: argparse.Namespace
                      ) -> AbstractContextManager[dict[TargetKey, HssClient]]:
    """`hss_clients` for every target of the workspace, with the command's connection options."""
    return hss_clients(workspace.targets(), ca_bundle=args.ca_bundle, insecure=args.insecure,
                       parallelism=args.parallelism)
