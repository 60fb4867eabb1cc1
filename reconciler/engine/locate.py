"""Where the state file is: the one rule plan, apply, show, state and force-unlock share.

`--state PATH` if given, else the `HSS_STATE` variable; else `hss-reconciler.state.json` in the workspace
directory, which is the first PATH if it is a directory, or the directory of
the first PATH if it is a file, or `.` when no PATH is given. A command that
needs an existing state and finds none says where it looked and why, and
names a state file one directory down when there is one (run from the
repository root, `state list` would otherwise find nothing and say nothing).
A location that is a URL (s3://, postgresql://) names a shared store
(state/backends/) and is passed on as it is.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from reconciler.config.workspace import workspace_dir
from reconciler.errors import StateError
from reconciler.state.backends import check_local, is_remote
from reconciler.state.store import DEFAULT_STATE_NAME

STATE_ENV = "HSS_STATE"

MAX_NAMED = 3  # state files named in a hint; a monorepo may hold many


def given_state(state: str | None) -> str | None:
    """--state, else HSS_STATE (an empty variable is unset, as CI systems spell it).

    A path that is really a URL we do not serve (gs://, s3:/ with one slash, a URL
    with blanks around it) is refused here, before Path() folds its slashes.
    """
    chosen = state or os.environ.get(STATE_ENV, "").strip() or None
    if chosen and not is_remote(chosen):
        check_local(chosen)
    return chosen


def state_location(state: str | None, paths: Sequence[str]) -> str:
    """The state a run on `paths` reads and writes: a path, or a shared store's URL."""
    chosen = given_state(state)
    if chosen and is_remote(chosen):
        return chosen
    return str(state_path(state, paths))


def state_path(state: str | None, paths: Sequence[str]) -> Path:
    """The state file a run on `paths` reads and writes (`state` is --state, if given)."""
    chosen = given_state(state)
    if chosen:
        return Path(chosen)
    return workspace_dir([Path(p) for p in paths] or [Path(".")]) / DEFAULT_STATE_NAME


def why_there(state: str | None, paths: Sequence[str]) -> str:
    """Why state_path chose its file, in the words a user needs to pick another."""
    if state:
        return "as --state says"
    if given_state(None):
        return f"as {STATE_ENV} says"
    if paths and not Path(paths[0]).exists():
        return f"{paths[0]} does not exist; plan and apply would look in its parent directory"
    if paths:
        return f"beside {paths[0]}, as plan and apply find it"
    return "no PATH was given, so the current directory, as plan and apply look"


def nearby(name: str) -> list[Path]:
    """`name` in the directories just below the current one (at most MAX_NAMED, in order)."""
    found: list[Path] = []
    try:
        for directory in sorted(Path(".").iterdir()):
            candidate = directory / name
            if directory.is_dir() and not directory.name.startswith(".") and candidate.is_file():
                found.append(candidate)
                if len(found) == MAX_NAMED:
                    break
    except OSError:
        return []
    return found


def missing_file(what: str, path: Path, state: str | None, paths: Sequence[str], command: str) -> StateError:
    """The error for a command that needs `path` (a state or its lock) and found nothing there."""
    message = f"there is no {what} at {path} ({why_there(state, paths)})"
    if not state and not paths:
        near = nearby(path.name)
        if near:
            shown = ", ".join(str(p) for p in near)
            message += (f"; found {shown}: give its directory as plan is given it, e.g. run: "
                        f"hss-reconciler {command} {near[0].parent}")
            return StateError(message)
    return StateError(message + "; give the PATHs plan is given, or --state PATH")


def existing_state(state: str | None, paths: Sequence[str], command: str) -> str:
    """state_location, which must exist if it is a file: a command about the state has nothing to
    say without one. (A shared store says so itself when it holds no state.)"""
    location = state_location(state, paths)
    if is_remote(location):
        return location
    path = Path(location)
    if not path.exists():
        raise missing_file("state file", path, state, paths, command)
    return location
