"""What apply (and a refresh) report while they run; the CLI decides how it looks."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum

from reconciler.plan.model import Change


class Phase(StrEnum):
    STARTED = "started"
    STILL_RUNNING = "still_running"  # a call of this change has run `elapsed` seconds
    DONE = "done"  # HSS did it and the state records it
    # A create HSS accepted: complete as far as HSS goes. AddRegistry returns no id, so the id
    # is learned later, from one listing per target (idlookup.py); RECORDED says when.
    ACCEPTED = "accepted"
    STILL_LEARNING_IDS = "still_learning_ids"  # `count` accepted creates of change.target, `elapsed` s
    RECORDED = "recorded"  # an ACCEPTED create's id learned (or not: registry_id None) and saved
    FAILED = "failed"


@dataclass(frozen=True)
class ApplyEvent:
    change: Change
    phase: Phase
    elapsed: float = 0.0
    registry_id: str | None = None
    message: str = ""
    count: int = 1  # how many changes the event speaks for (STILL_LEARNING_IDS: a target's)


Reporter = Callable[[ApplyEvent], None]


def ignore(event: ApplyEvent) -> None:
    """A reporter for callers that don't watch progress."""


# -- Long calls outside the changes: the refresh, the upload-command outputs, `--wait` ------------

# Terraform's rhythm: a call that runs longer says so every 10 s, so a hung endpoint is never silence.
STILL_RUNNING_EVERY = 10.0


class Activity(StrEnum):
    REFRESHING = "refreshing"  # subjects: the targets whose listing has not returned
    FETCHING_OUTPUTS = "fetching_outputs"  # subjects: the registry whose upload commands are asked for
    WAITING = "waiting"  # subjects: the registries HSS has not reached yet


@dataclass(frozen=True)
class StillRunning:
    activity: Activity
    subjects: tuple[str, ...]  # target keys or registry addresses, as text
    elapsed: float


@dataclass(frozen=True)
class Progress:
    """Where a long refresh or call says it still runs, and how often (tests: a fraction of a second)."""

    report: Callable[[StillRunning], None]
    every: float = STILL_RUNNING_EVERY


@contextmanager
def heartbeat(progress: Progress | None, activity: Activity,
              subjects: Callable[[], tuple[str, ...]]) -> Iterator[None]:
    """While the block runs, report `activity` every `progress.every` seconds; None: nothing, no thread.

    A thread, because the block is one blocking call (or a loop of them) that may hang
    until its request timeout. `subjects` is read on that thread at each report, so it
    should return an immutable snapshot (a tuple the block rebinds, never mutates).
    """
    if progress is None:
        yield
        return
    done, saying = threading.Event(), threading.Lock()
    started = time.monotonic()

    def beat() -> None:
        while not done.wait(progress.every):
            with saying:  # never a "still" line once the block has ended
                if not done.is_set():
                    progress.report(StillRunning(activity, subjects(), time.monotonic() - started))

    thread = threading.Thread(target=beat, name=f"still-{activity}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        with saying:
            done.set()
        thread.join()
