"""Where a local state path leads, resolved once per run: the store and its lock both act on that file.

Resolving it again later (for the lock, for a write) would follow a link as it is
then: a link re-pointed during the run would lock one file and write another. So
StateStore resolves the path when the run opens the state and hands the result
to the lock (state/lock.py) and to every read and write.
"""

from __future__ import annotations

import os
from pathlib import Path


def real_state_path(path: Path) -> Path:
    """The file a state path names: where it is read, written and locked.

    A path with no symbolic link in it is that file (kept as given, so messages
    name it as the user did); a path that is a link, or lies in a linked
    directory, is followed to its end. A loop is left as it is, for reading to
    refuse.
    """
    resolved = os.path.realpath(path)
    if os.path.islink(path) or resolved != os.path.abspath(path):
        return Path(resolved)
    return path


def lock_beside(real: Path) -> Path:
    """`<state>.lock` beside the file a state path leads to (`real`, from real_state_path)."""
    return real.with_name(real.name + ".lock")
