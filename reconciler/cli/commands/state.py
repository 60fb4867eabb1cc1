"""`state list | show NAME | rm NAME | pull | push FILE | migrate --to URL [PATH...]`.

The state is found as plan finds it (engine/locate.py): beside the PATHs, or
--state, or HSS_STATE; none there is an error naming where it looked, never an
empty list. pull, push and migrate move a state between a file and a shared
store (engine/statefile.py decides; this prints).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from reconciler.cli.output import Output
from reconciler.engine.locate import existing_state, state_location
from reconciler.engine.single import StateFile


def run(args: argparse.Namespace, out: Output) -> int:
    if args.state_command in ("pull", "push", "migrate"):
        return _move(args, out)
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


def _move(args: argparse.Namespace, out: Output) -> int:
    from reconciler.engine import statefile

    location = state_location(args.state, args.paths)
    if args.state_command == "pull":
        raw = statefile.pull(location)
        sys.stdout.flush()
        sys.stdout.buffer.write(raw)  # the bytes as stored: 'state push' of them is a no-op
        sys.stdout.buffer.flush()
        return 0
    if args.state_command == "push":
        moved = statefile.push(location, Path(args.file), force=args.force, lock_timeout=args.lock_timeout)
        target = location
    else:
        moved = statefile.migrate(location, args.to, force=args.force, lock_timeout=args.lock_timeout)
        target = args.to
    if not moved.changed:
        out.print(f"{target} already holds this state (serial {moved.serial}); nothing was written.")
        return 0
    before = f" (it held serial {moved.replaced})" if moved.replaced is not None else ""
    out.print(f"Wrote the state (lineage {moved.lineage}, serial {moved.serial}) to {target}{before}.")
    if args.state_command == "migrate":
        out.print(f"Read it back and verified it. {location} is left as it was: point --state or "
                  f"HSS_STATE at {target} from now on.")
    return 0
