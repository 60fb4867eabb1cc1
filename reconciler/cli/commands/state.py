"""`state list | show NAME | rm NAME`: read or edit the state file by hand."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from reconciler.cli.names import resolve_address
from reconciler.cli.output import Output
from reconciler.state.checkpoint import Checkpointer
from reconciler.state.lock import acquire
from reconciler.state.store import DEFAULT_STATE_NAME, StateStore


def run(args: argparse.Namespace, out: Output) -> int:
    store = StateStore(Path(args.state or DEFAULT_STATE_NAME))
    if args.state_command == "rm":
        return _remove(store, args.name, args.lock_timeout, out)
    state = store.load()
    if args.state_command == "list":
        for address in sorted(state.entries):
            out.print(address)
        return 0
    address = resolve_address(args.name, state.entries, str(store.path))
    out.print(json.dumps(state.entries[address].to_json(), indent=2, ensure_ascii=False))
    return 0


def _remove(store: StateStore, name: str, lock_timeout: float, out: Output) -> int:
    # Read under the lock: another run may be writing the state until we hold it.
    with acquire(store.path, "state rm", lock_timeout):
        state = store.load()
        address = resolve_address(name, state.entries, str(store.path))
        registry_id = state.entries[address].registry_id
        Checkpointer(store, state).commit(lambda s: s.remove(address))
    out.print(f"Removed {address} from the state (id {registry_id}); it stays in HSS, unmanaged.")
    return 0
