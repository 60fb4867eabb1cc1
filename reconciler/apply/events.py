"""What apply reports while it runs; the CLI decides how it looks."""

from __future__ import annotations

from collections.abc import Callable
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
