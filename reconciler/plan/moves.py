"""A delete and a create that are one registry at a new address become one move.

Renaming a registry in the YAML, or moving it to another target, leaves the
planner with a delete of the old address and a create of the new one. Run as
planned, apply deletes first, so HSS stops scanning that registry until the
add lands (issue 17.5). A move adds the new one first and deletes the old one
only once HSS accepted it (`Change.creates_first` says when HSS allows that).

What makes two registries one: the same registry_type, registry_addr and
namespace (the namespace only where HSS reports it, the `Other` channel: the
fields `registry.comparable` keeps). Pairing is conservative: a delete and a
create pair only when each is the only one of its kind with that identity in
the plan, so two renamed registries of one address stay deletes and creates.
Only a create of a registry new to the state pairs (not one made again because
it vanished from HSS), and only a delete (never a forget: `--no-destroy`, or a
registry already gone, deletes nothing). `--target` must select both halves
or neither (`half_selected`, Terraform's rule for moved resources): one half
alone would delete the old registry with nothing created first, or leave it
beside its copy, when the files say it moved.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Mapping
from typing import Any

from reconciler.errors import ReconcilerError
from reconciler.plan.model import Action, Change, MovedFrom
from reconciler.registry import changed_fields, comparable

Identity = tuple[str, str, str | None]


def identity(fields: Mapping[str, Any] | None) -> Identity | None:
    """What one registry is wherever it is declared: type, address, and the namespace HSS reports."""
    seen = comparable(fields or {})
    kind, addr = seen.get("registry_type"), seen.get("registry_addr")
    if not isinstance(kind, str) or not isinstance(addr, str):
        return None
    namespace = seen.get("namespace")
    return kind, addr, namespace if isinstance(namespace, str) else None


def _candidates(changes: list[Change], action: Action, side: str,
                managed: Collection[str]) -> dict[Identity, Change]:
    """The changes of `action` whose identity no other change of that action shares."""
    found: dict[Identity, Change] = {}
    counts: Counter[Identity] = Counter()
    for change in changes:
        if change.action is not action or (action is Action.CREATE and change.address in managed):
            continue
        ident = identity(getattr(change, side))
        if ident is not None:
            counts[ident] += 1
            found[ident] = change
    return {ident: change for ident, change in found.items() if counts[ident] == 1}


def moved(old: Change, new: Change) -> Change:
    """The move that replaces the delete `old` and the create `new` of one registry."""
    return Change(Action.MOVE, new.target, new.name, old.registry_id, old.before, new.after,
                  changed_fields(old.before or {}, new.after or {}), send_password=True,
                  password_version=new.password_version, registry=new.registry,
                  moved_from=MovedFrom(old.target, old.name))


def pair_moves(changes: list[Change], managed: Collection[str]) -> list[Change]:
    """`changes` with each unambiguous delete + create pair as one move, at the create's place.

    `managed` is the addresses the state records: a create of one of those makes again
    a registry that vanished from HSS, which is not a move.
    """
    deletes = _candidates(changes, Action.DELETE, "before", managed)
    creates = _candidates(changes, Action.CREATE, "after", managed)
    pairs = {id(creates[ident]): deletes[ident] for ident in deletes.keys() & creates.keys()}
    paired_deletes = {id(old) for old in pairs.values()}
    return [moved(pairs[id(change)], change) if id(change) in pairs else change
            for change in changes if id(change) not in paired_deletes]


def half_selected(everything: list[Change], selected: Callable[[Change, MovedFrom | None], bool]) -> None:
    """Refuse a --target that selects one half of a move of the whole plan (`everything`, paired).

    `selected(change, None)` says whether the move's new address is selected,
    `selected(change, moved_from)` whether its old one is.
    """
    for change in everything:
        if change.moved_from is None:
            continue
        new, old = selected(change, None), selected(change, change.moved_from)
        if new != old:
            chosen, other = (change.address, change.moved_from.address) if new else \
                (change.moved_from.address, change.address)
            raise ReconcilerError(
                f"--target: {chosen} is one half of a move, {change.moved_from.address} -> {change.address} "
                f"(the files renamed or moved it); planned alone, it would be "
                f"{'created beside the old one' if new else 'deleted with nothing created first'}. "
                f"Add --target {other}, or leave both out. Nothing was planned.")
