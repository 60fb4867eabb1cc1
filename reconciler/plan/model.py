"""The plan as data; renderers and the apply engine read it, nothing here prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from reconciler.config.model import DesiredRegistry
from reconciler.registry import TargetKey, registry_address


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"  # delete then create: the update API cannot change the field
    DELETE = "delete"
    ADOPT = "adopt"  # exists in HSS, not in state: take it over (then update if needed)
    FORGET = "forget"  # drop from state, leave in HSS
    # One registry at a new address (renamed, or in another target): add the new one, then
    # delete the old one (plan/moves.py pairs them; `Change.creates_first` says in which order).
    # Counted apart ("to move"), never in add or destroy.
    MOVE = "move"

    # The groupings every part asks about; listed here only, never again elsewhere.

    @property
    def creates(self) -> bool:
        """Adds a registry in HSS (AddRegistry): counted "to add"."""
        return self in _CREATES

    @property
    def destroys(self) -> bool:
        """Deletes a registry in HSS: counted "to destroy", and what the safety share counts."""
        return self in _DESTROYS

    @property
    def leaves_state(self) -> bool:
        """Ends the management of a registry (its state entry goes): apply runs these first."""
        return self in _LEAVES_STATE


_CREATES = frozenset({Action.CREATE, Action.REPLACE})
_DESTROYS = frozenset({Action.DELETE, Action.REPLACE})
_LEAVES_STATE = frozenset({Action.DELETE, Action.FORGET})


@dataclass(frozen=True)
class MovedFrom:
    """Where a moved registry was: the address whose registry a move deletes."""

    target: TargetKey
    name: str

    @property
    def address(self) -> str:
        return registry_address(self.target, self.name)

    def __str__(self) -> str:
        return self.address


def creates_first(source: MovedFrom, target: TargetKey, name: str) -> bool:
    """Whether HSS can hold the old and the new registry at once, so the move adds before it deletes.

    The emulator refuses a second registry of one name in a project and enterprise project
    (invented: the API documentation names no such error), and nothing in the documentation
    or the emulator refuses two registries with one registry_addr. Unsure where HSS draws the
    line for names, a move that keeps its name within one region and project (into another
    enterprise project, or `all_granted_eps`, whose adds land in the default one) deletes
    first; every other move, a rename above all, adds first.
    """
    same_project = (source.target.region, source.target.project_id) == (target.region, target.project_id)
    return not (same_project and source.name == name)


@dataclass(frozen=True)
class Change:
    action: Action
    target: TargetKey
    name: str
    registry_id: str | None = None
    before: dict[str, Any] | None = None  # what HSS has (or the state knows)
    after: dict[str, Any] | None = None  # what the config asks, password as a reference
    changed: tuple[str, ...] = ()
    send_password: bool = False
    password_version: int | None = None
    before_password_version: int | None = None
    reason: str = ""
    # What apply sends, for every change with an `after`: the declared registry (its fields,
    # its password reference and where that was declared, for located errors). A saved plan
    # gets it back from the registry files once their digest proves them unchanged.
    registry: DesiredRegistry | None = field(default=None, compare=False, repr=False)
    # A move's old address (its registry_id and `before` are the old registry's); None otherwise.
    moved_from: MovedFrom | None = None

    @property
    def address(self) -> str:
        return registry_address(self.target, self.name)

    @property
    def creates_first(self) -> bool:
        """A move that adds the new registry before deleting the old one (no gap in scanning)."""
        return self.moved_from is not None and creates_first(self.moved_from, self.target, self.name)

    @property
    def changes_in_place(self) -> bool:
        """Counted "to change": an update, or an adopt that also updates."""
        return self.action is Action.UPDATE or (self.action is Action.ADOPT and bool(self.changed))


@dataclass(frozen=True)
class Drift:
    """A field HSS holds differently from what the state last recorded."""

    address: str
    field: str
    recorded: Any
    live: Any


@dataclass(frozen=True)
class LiveStatus:
    address: str
    status: str
    fail_reason: str | None


@dataclass(frozen=True)
class UnsafeTarget:
    """A target where the plan changes more than `threshold` of the registries the state manages.

    Two kinds (plan/diff.py `unsafe_targets` decides): "destroy" when its
    deletes and replaces alone exceed the share, the mass-delete guard;
    "update" when they do not, but with its in-place updates they do. Apply
    refuses a plan with either unless forced; renderers say so in their own words.
    """

    target: TargetKey
    destroyed: int  # deletes and replaces
    managed: int
    threshold: float  # the share of `managed` that may be changed (for "destroy": destroyed) without --force
    updated: int = 0  # in-place updates
    kind: Literal["destroy", "update"] = "destroy"

    @property
    def changed(self) -> int:
        return self.destroyed + self.updated

    def describe(self) -> str:
        """Why the target makes the plan unsafe, in words; the plan document and the renderers use it."""
        share = f"more than {self.threshold:.0%}"
        if self.kind == "destroy":
            also = f", and updates {self.updated} in place" if self.updated else ""
            return (f"{self.target}: deletes or replaces {self.destroyed} of {self.managed} managed "
                    f"registries ({share}){also}")
        return (f"{self.target}: changes {self.changed} of {self.managed} managed registries ({share}): "
                f"{self.updated} updated in place, {self.destroyed} deleted or replaced")


def unsafe_reason(unsafe: UnsafeTarget) -> str:
    """How the plan document words an unsafe target (one line of `unsafe.reasons`; read back there)."""
    return f"{unsafe.describe()}; apply needs --force"


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    drift: list[Drift] = field(default_factory=list)
    statuses: list[LiveStatus] = field(default_factory=list)
    unmanaged: int = 0
    refreshed: bool = True
    partial: bool = False
    warnings: list[str] = field(default_factory=list)
    unsafe_targets: list[UnsafeTarget] = field(default_factory=list)  # why apply needs --force
    # A refresh-only plan (plan/refreshonly.py) changes nothing in HSS: `changes` is empty and
    # `drift` is what applying it records in the state (a `registry_id` drift to None: forgotten).
    refresh_only: bool = False

    @property
    def unsafe(self) -> bool:
        return bool(self.unsafe_targets)

    def count(self, *actions: Action) -> int:
        return sum(1 for c in self.changes if c.action in actions)

    @property
    def to_add(self) -> int:
        return sum(1 for c in self.changes if c.action.creates)

    @property
    def to_change(self) -> int:
        return sum(1 for c in self.changes if c.changes_in_place)

    @property
    def to_destroy(self) -> int:
        return sum(1 for c in self.changes if c.action.destroys)

    @property
    def to_move(self) -> int:
        return self.count(Action.MOVE)

    @property
    def to_import(self) -> int:
        return self.count(Action.ADOPT)

    @property
    def to_forget(self) -> int:
        return self.count(Action.FORGET)

    @property
    def has_changes(self) -> bool:
        """Apply would do something: change HSS, or (refresh-only) record drift in the state."""
        return bool(self.changes) or (self.refresh_only and bool(self.drift))
