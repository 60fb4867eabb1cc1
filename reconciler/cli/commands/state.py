"""`state list | show NAME | rm NAME`: read or edit the state file by hand."""

from __future__ import annotations

import argparse
import json

from reconciler.cli.output import Output
from reconciler.engine.single import StateFile


def run(args: argparse.Namespace, out: Output) -> int:
    state = StateFile.at(args.state)
    if args.state_command == "rm":
        entry = state.remove(args.name, args.lock_timeout)
        out.print(f"Removed {entry.address} from the state (id {entry.registry_id}); it stays in HSS, "
                  "unmanaged.")
    elif args.state_command == "list":
        for address in sorted(state.load().entries):
            out.print(address)
    else:
        out.print(json.dumps(state.entry(args.name).to_json(), indent=2, ensure_ascii=False))
    return 0
