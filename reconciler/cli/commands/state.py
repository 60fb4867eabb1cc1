"""`state list | show NAME | rm NAME [PATH...]`: read or edit the state file by hand.

The state is found as plan finds it (engine/locate.py): beside the PATHs, or
--state; none there is an error naming where it looked, never an empty list.
"""

from __future__ import annotations

import argparse
import json
import shlex

from reconciler.cli.output import Output
from reconciler.engine.locate import existing_state
from reconciler.engine.single import StateFile


def run(args: argparse.Namespace, out: Output) -> int:
    words = ["state", args.state_command, *([args.name] if args.state_command != "list" else [])]
    state = StateFile(existing_state(args.state, args.paths, " ".join(shlex.quote(w) for w in words)))
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
