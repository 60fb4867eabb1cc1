"""The plan as data; renderers and the apply engine read it, nothing here prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reconciler.config.model import TargetKey


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"  # delete then create: the update API cannot change the field
    DELETE = "delete"
    ADOPT = "adopt"  # exists in HSS, not in state: take it over (then update if needed)
    FORGET = "forget"  # drop from state, leave in HSS


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

    @property
    def address(self) -> str:
        return f"{self.target}/{self.name}"


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


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    drift: list[Drift] = field(default_factory=list)
    statuses: list[LiveStatus] = field(default_factory=list)
    unmanaged: int = 0
    refreshed: bool = True
    partial: bool = False
    warnings: list[str] = field(default_factory=list)
    unsafe_reasons: list[str] = field(default_factory=list)  # why apply needs --force

    @property
    def unsafe(self) -> bool:
        return bool(self.unsafe_reasons)

    def count(self, *actions: Action) -> int:
        return sum(1 for c in self.changes if c.action in actions)

    @property
    def to_add(self) -> int:
        return self.count(Action.CREATE, Action.REPLACE)

    @property
    def to_change(self) -> int:
        return self.count(Action.UPDATE) + sum(
            1 for c in self.changes if c.action is Action.ADOPT and c.changed)

    @property
    def to_destroy(self) -> int:
        return self.count(Action.DELETE, Action.REPLACE)

    @property
    def to_import(self) -> int:
        return self.count(Action.ADOPT)

    @property
    def to_forget(self) -> int:
        return self.count(Action.FORGET)

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)
