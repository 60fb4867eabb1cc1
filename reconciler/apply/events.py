"""What apply reports while it runs; the CLI decides how it looks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from reconciler.plan.model import Change


class Phase(StrEnum):
    STARTED = "started"
    STILL_RUNNING = "still_running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class ApplyEvent:
    change: Change
    phase: Phase
    elapsed: float = 0.0
    registry_id: str | None = None
    message: str = ""


Reporter = Callable[[ApplyEvent], None]


def ignore(event: ApplyEvent) -> None:
    """A reporter for callers that don't watch progress."""
