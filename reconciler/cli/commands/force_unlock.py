"""`force-unlock LOCK_ID [PATH...]`: remove a state lock left by a run that died.

The id must match the lock's: it proves the person looked at which run holds
the lock (the error that sent them here prints it) before taking it away. The
state, and so its lock, is found as plan finds it (engine/locate.py).
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from reconciler.cli.output import Output
from reconciler.engine.locate import missing_file, state_location
from reconciler.engine.statefile import force_unlock, is_remote


def run(args: argparse.Namespace, out: Output) -> int:
    state = state_location(args.state, args.paths)
    if not is_remote(state):  # a shared store says itself that it holds no lock
        from reconciler.state.lock import lock_path

        lock = lock_path(Path(state))
        if not lock.exists() and not lock.is_symlink():
            raise missing_file("state lock", lock, args.state, args.paths,
                               f"force-unlock {shlex.quote(args.lock_id)}")
    released = force_unlock(state, args.lock_id)
    out.print(f"Released the state lock {released.id} on {state}, held by {released.who} "
              f"(pid {released.pid}) for '{released.operation}' since {released.created}.")
    out.print("If that run is in fact still going, it may now clash with the next one.")
    return 0
