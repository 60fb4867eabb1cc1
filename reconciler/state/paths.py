"""Where a local state path leads: shared by the store and its lock, so both act on one file."""

from __future__ import annotations

import os
from pathlib import Path


def real_state_path(path: Path) -> Path:
    """The file a state path names: where it is read, written and locked.

    A path that is not itself a symbolic link is that file (kept as given, so
    messages name it as the user did); a link is followed to its end. A loop is
    left as it is, for reading to refuse.
    """
    return Path(os.path.realpath(path)) if os.path.islink(path) else path
