"""One view of each change, worked out once, that every renderer draws.

The text and markdown renderers differ in layout, colour and escaping only:
which lines a change shows, with which mark, in which order, what is hidden
and how a password is shown are decided here, so the two cannot disagree.
The choices follow Terraform's plan output:

- a forget is not a destroy: a neutral `~` block "will be removed from the
  state only", its fields shown as they are, with no `-`;
- a field that forces replacement is a `~` line with "# forces replacement";
- the password is never shown: `(sensitive)`, with why it is sent when it is
  (re-sent with an update, or sent to the registry a replace creates);
- a password sent to a new registry_addr says so on a line of its own, above
  the block: the reviewer must see where it goes now;
- "(1 unchanged attribute hidden)", singular when it is one;
- a move (Terraform's "has moved to") names both addresses and the order it
  runs in: created first, then the old one deleted, or, where HSS may refuse two
  registries of one name, the old one deleted first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from reconciler.plan.document import NewPasswordAddress, new_password_address
from reconciler.plan.model import Action, Change, LiveStatus, Plan, UnsafeTarget
from reconciler.registry import FILE_FIELDS, REPLACE_ON, SECRET_FIELDS
from reconciler.secrets import MASK

# Every field a change can show, in the order files and plans show them.
ORDER = FILE_FIELDS
WIDTH = max(len(f) for f in ORDER)


class Role(StrEnum):
    """What a mark means, for renderers that colour it."""

    ADD = "add"
    CHANGE = "change"
    DESTROY = "destroy"
    READ = "read"
    NEUTRAL = "neutral"


class LineKind(StrEnum):
    ADDED = "added"  # a field a create sets
    REMOVED = "removed"  # a field a delete takes away
    CHANGED = "changed"  # old -> new, or a password that is sent
    UNCHANGED = "unchanged"  # shown as it is: the id, the fields of a forget


MARK = {LineKind.ADDED: "+", LineKind.REMOVED: "-", LineKind.CHANGED: "~", LineKind.UNCHANGED: ""}
LINE_ROLE = {LineKind.ADDED: Role.ADD, LineKind.REMOVED: Role.DESTROY, LineKind.CHANGED: Role.CHANGE,
             LineKind.UNCHANGED: Role.NEUTRAL}


@dataclass(frozen=True)
class ActionStyle:
    symbol: str
    role: Role
    headline: str


STYLE = {
    Action.CREATE: ActionStyle("+", Role.ADD, "will be created"),
    Action.UPDATE: ActionStyle("~", Role.CHANGE, "will be updated in-place"),
    Action.REPLACE: ActionStyle("-/+", Role.DESTROY, "must be replaced"),
    Action.DELETE: ActionStyle("-", Role.DESTROY, "will be destroyed"),
    Action.ADOPT: ActionStyle("<=", Role.READ, "will be adopted (it already exists in HSS)"),
    Action.FORGET: ActionStyle("~", Role.CHANGE, "will be removed from the state only (left in HSS)"),
    Action.MOVE: ActionStyle("→", Role.ADD, "will be moved"),
}


@dataclass(frozen=True)
class AttributeLine:
    field: str
    kind: LineKind
    old: Any = None
    new: Any = None
    secret: bool = False  # shown as MASK: never its value, nor its reference
    note: str = ""  # "forces replacement", or why a password is sent

    @property
    def mark(self) -> str:
        return MARK[self.kind]

    @property
    def role(self) -> Role:
        return LINE_ROLE[self.kind]

    def text(self, show: Callable[[Any], str], note: Callable[[str], str] = str) -> str:
        """What follows `field =`: values through `show`, a trailing comment through `note`."""
        if self.secret:
            return f"{MASK} ({self.note})" if self.note else MASK
        if self.kind is LineKind.ADDED:
            return show(self.new)
        if self.kind is not LineKind.CHANGED:
            return show(self.old)
        text = f"{show(self.old) if self.old is not None else '(none)'} -> {show(self.new)}"
        return text + note(f"  # {self.note}") if self.note else text


@dataclass(frozen=True)
class ChangeView:
    change: Change
    style: ActionStyle
    status: str | None  # HSS's access status, when the plan read it
    lines: tuple[AttributeLine, ...]
    hidden: int  # attributes left out because they do not change
    new_address: NewPasswordAddress | None = None  # the password goes to a changed registry_addr

    @property
    def symbol(self) -> str:
        return self.style.symbol

    @property
    def role(self) -> Role:
        return self.style.role

    @property
    def headline(self) -> str:
        if self.change.moved_from is not None:
            return f"{self.change.moved_from} -> {self.change.address} {self.style.headline}"
        return f"{self.change.address} {self.style.headline}"

    @property
    def reason(self) -> str:
        return move_text(self.change) if self.change.moved_from is not None else self.change.reason

    def new_address_text(self, show: Callable[[Any], str]) -> str:
        """The line saying the password goes to a new address ("" when it does not); values through `show`."""
        moved = self.new_address
        if moved is None:
            return ""
        text = f"registry_password will be sent to the new address {show(moved.new)}"
        return text + (f" (it was sent to {show(moved.old)})" if moved.old is not None else "")

    @property
    def hidden_note(self) -> str:
        if not self.hidden:
            return ""
        return f"({self.hidden} unchanged attribute{'s' if self.hidden != 1 else ''} hidden)"


def move_text(change: Change) -> str:
    """How a move runs, in words (derived from the change, so no plan file can word it otherwise)."""
    if change.creates_first:
        return "moved: created first, then the old one deleted"
    return (f"moved: the old one deleted first, then created: HSS may refuse two registries named "
            f"{change.name!r} in one project")


def summary_counts(plan: Plan) -> list[tuple[int, str]]:
    """The plan headline's counts in order, each with what it counts; shown only when not zero:
    imports, moves and forgets (a move is counted apart, never in add or destroy)."""
    counts = [(plan.to_import, "to import"), (plan.to_move, "to move"), (plan.to_add, "to add"),
              (plan.to_change, "to change"), (plan.to_destroy, "to destroy"), (plan.to_forget, "to forget")]
    always = ("to add", "to change", "to destroy")
    return [(count, what) for count, what in counts if count or what in always]


def _password_sent(change: Change) -> str:
    """Why a password that is not itself a change is sent anyway ("" when it is not)."""
    if not change.send_password or "registry_password" in change.changed or change.action is Action.CREATE:
        return ""  # a create shows the password as one of the fields it sets
    return ("sent to the new registry" if change.action in (Action.REPLACE, Action.MOVE)
            else "re-sent with the update")


def _changed_line(change: Change, field: str, old: Any, new: Any) -> AttributeLine:
    if field in SECRET_FIELDS:
        versions = f"{change.before_password_version} -> {change.password_version}"
        return AttributeLine(field, LineKind.CHANGED, secret=True,
                             note=f"re-sent: password_version {versions}")
    forces = change.action is Action.REPLACE and field in REPLACE_ON
    return AttributeLine(field, LineKind.CHANGED, old, new, note="forces replacement" if forces else "")


def _lines(change: Change) -> tuple[list[AttributeLine], int]:
    before, after = change.before or {}, change.after or {}
    action = change.action
    lines: list[AttributeLine] = []
    if change.registry_id and action not in (Action.CREATE, Action.MOVE):  # a move's new id is unknown
        lines.append(AttributeLine("id", LineKind.UNCHANGED, old=change.registry_id))
    if change.moved_from is not None and change.moved_from.name != change.name:
        before = {**before, "registry_name": change.moved_from.name}
        change = replace(change, changed=("registry_name", *change.changed))
    sent = _password_sent(change)
    hidden = 0
    for field in ORDER:
        old, new = before.get(field), after.get(field)
        secret = field in SECRET_FIELDS
        if action is Action.CREATE and new is not None:
            lines.append(AttributeLine(field, LineKind.ADDED, new=new, secret=secret))
        elif action is Action.DELETE and old is not None:
            lines.append(AttributeLine(field, LineKind.REMOVED, old=old, secret=secret))
        elif action is Action.FORGET and old is not None:
            lines.append(AttributeLine(field, LineKind.UNCHANGED, old=old, secret=secret))
        elif field in change.changed:
            lines.append(_changed_line(change, field, old, new))
        elif secret and sent:
            lines.append(AttributeLine(field, LineKind.CHANGED, secret=True, note=sent))
        elif new is not None or old is not None:
            hidden += 1
    return lines, hidden


def status_text(status: LiveStatus) -> str:
    return status.status + (f", {status.fail_reason}" if status.fail_reason else "")


def change_view(change: Change, status: LiveStatus | None = None) -> ChangeView:
    lines, hidden = _lines(change)
    return ChangeView(change, STYLE[change.action], status_text(status) if status else None,
                      tuple(lines), hidden, new_password_address(change))


def plan_view(plan: Plan) -> list[ChangeView]:
    """Every change of the plan, in apply order, with the access status HSS reported for it."""
    statuses = {s.address: s for s in plan.statuses}
    return [change_view(c, statuses.get(c.address)) for c in plan.changes]


def unsafe_text(unsafe: UnsafeTarget) -> str:
    """Why a target makes the plan unsafe, in words (each renderer says what it means for apply).

    The plan document's reason says the same (plan.model.unsafe_reason), so both come from one place.
    """
    return unsafe.describe()
