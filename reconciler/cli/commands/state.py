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
    state = store.load()
    if args.state_command == "list":
        for address in sorted(state.entries):
            out.print(address)
        return 0
    address = resolve_address(args.name, state.entries, str(store.path))
    if args.state_command == "show":
        out.print(json.dumps(state.entries[address].to_json(), indent=2, ensure_ascii=False))
        return 0
    with acquire(store.path, "state rm", args.lock_timeout):
        state = store.load()  # again, under the lock: another run may have written meanwhile
        address = resolve_address(args.name, state.entries, str(store.path))
        registry_id = state.entries[address].registry_id
        Checkpointer(store, state).commit(lambda s: s.remove(address))
    out.print(f"Removed {address} from the state (id {registry_id}); it stays in HSS, unmanaged.")
    return 0
