"""What an apply did: the changes done, failed, accepted but unsaved, and the counts a summary gives.

Kept apart from the executor that fills it: the renderers and the CLI read it
without importing how a run is carried out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reconciler.plan.model import Action, Change


@dataclass
class ApplyResult:
    done: list[Change] = field(default_factory=list)
    failed: list[tuple[Change, str]] = field(default_factory=list)
    stopped: bool = False
    # Why the run started nothing new, when a change's failure ended it (see executor.ends_the_run).
    stopped_by: str | None = None
    # Accepted by HSS (or, for a forget or adopt, decided) after the state file could no longer be
    # written: each with what was accepted (a replace may have got only as far as its delete).
    # The store's errored file records them (`saved_to`; None: it could not be saved anywhere).
    unrecorded: list[tuple[Change, Action]] = field(default_factory=list)
    saved_to: Path | None = None
    put_back: str = ""  # how to make `saved_to` the state again (the store says: a copy or a push)
    # Failed (so also in `failed`) after HSS accepted a half of them: a move whose old registry
    # could not be deleted after its add, or whose add failed after its delete. The half HSS
    # accepted is counted ("1 added"), since HSS has it and the state records it.
    partly: list[tuple[Change, Action]] = field(default_factory=list)

    def _accepted(self) -> list[tuple[Change, Action]]:
        return [(c, c.action) for c in self.done] + self.unrecorded + self.partly

    @property
    def added(self) -> int:
        return sum(1 for _, action in self._accepted() if action.creates)

    @property
    def changed(self) -> int:
        return sum(1 for c, action in self._accepted() if action is c.action and c.changes_in_place)

    @property
    def destroyed(self) -> int:
        return sum(1 for _, action in self._accepted() if action.destroys)

    @property
    def imported(self) -> int:
        return sum(1 for _, action in self._accepted() if action is Action.ADOPT)

    @property
    def moved(self) -> int:
        return sum(1 for _, action in self._accepted() if action is Action.MOVE)
