"""`force-unlock LOCK_ID`: remove a state lock left by a run that died.

The id must match the lock's: it proves the person looked at which run holds
the lock (the error that sent them here prints it) before taking it away.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from reconciler.cli.output import Output
from reconciler.state.lock import force_unlock
from reconciler.state.store import DEFAULT_STATE_NAME


def run(args: argparse.Namespace, out: Output) -> int:
    state = Path(args.state or DEFAULT_STATE_NAME)
    released = force_unlock(state, args.lock_id)
    out.print(f"Released the state lock {released.id} on {state}, held by {released.who} "
              f"(pid {released.pid}) for '{released.operation}' since {released.created}.")
    out.print("If that run is in fact still going, it may now clash with the next one.")
    return 0
