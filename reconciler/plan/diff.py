"""Desired + State + Live -> Plan.

The rules, per registry address (target + name):
- declared, known to the state: compare with what HSS has (or, without
  refresh, with what the state recorded); gone from HSS means create again,
  unless HSS has another registry of that name now, which is adopted as below;
  a changed registry_type means replace; other differences are an update.
- declared, not in the state: if HSS already has that name, adopt it (and
  update what differs), else create.
- in the state, no longer declared: delete (or forget with --no-destroy).
- in HSS, neither declared nor in the state: unmanaged, never touched.
Then a delete and a create that are one registry at a new address (renamed,
or moved to another target) become one move (plan/moves.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.config.model import Desired, DesiredRegistry
from reconciler.config.warnings import config_warnings
from reconciler.errors import ReconcilerError
from reconciler.hss.shapes import unknown_status, unknown_type
from reconciler.plan.model import Action, Change, Drift, LiveStatus, MovedFrom, Plan, UnsafeTarget
from reconciler.plan.moves import half_selected, pair_moves
from reconciler.registry import LiveRegistry, TargetKey, changed_fields, comparable, forcing_replacement
from reconciler.state.model import State, StateEntry

Live = Mapping[TargetKey, list[LiveRegistry]]
# octodns's rule for DNS zones: only targets this big are guarded, so a small
# workspace can still be torn down without ceremony.
SAFETY_MIN_MANAGED = 10
SAFETY_MAX_DESTROY_SHARE = 0.30
# Mass updates are guarded like mass deletes, with the same share. Unlike octodns, which
# counts updates and deletes apart, they count together: a plan that rewrites 20% of a
# target and deletes 20% more has changed 40% of it, whichever way each registry went.
SAFETY_MAX_CHANGE_SHARE = SAFETY_MAX_DESTROY_SHARE


@dataclass(frozen=True)
class DiffRules:
    """What the diff may do: destroy or only forget, and which registries it plans.

    The engine makes these from its `PlanOptions` (engine/options.py), which also
    say whether to refresh first: the diff itself never calls HSS.
    """

    destroy: bool = True
    only: Collection[str] = ()  # registry names or addresses; empty means all


def selects(only: Collection[str], name: str, address: str) -> bool:
    """Whether --target's `only` (names or addresses; empty: everything) selects this registry.

    The one rule for every kind of plan (normal, refresh-only, the halves of a move).
    """
    return not only or name in only or address in only


def planner_selects(rules: DiffRules, where: Change | MovedFrom) -> bool:
    """Whether `rules.only` selects the registry at `where` (by name or address)."""
    return selects(rules.only, where.name, where.address)


def unmatched_selections(only: Collection[str], desired: Desired, state: State) -> list[str]:
    """The --target values that select nothing: a typo there would plan, and apply, nothing."""
    known = {*desired.registries, *state.entries}  # both are keyed by address
    known |= {registry.name for registry in desired.registries.values()}
    known |= {entry.name for entry in state.entries.values()}
    return [selection for selection in only if selection not in known]


def planned_after(registry: DesiredRegistry) -> dict[str, Any]:
    """What a change toward `registry` shows and a saved plan holds: fields, password as a reference."""
    after: dict[str, Any] = dict(registry.attributes)
    after["registry_password"] = registry.password.to_json()
    if registry.password_version is not None:
        after["password_version"] = registry.password_version
    return after


class _Planner:
    def __init__(self, desired: Desired, state: State, live: Live | None,
                 rules: DiffRules) -> None:
        self.desired = desired
        self.state = state
        self.live = live
        self.rules = rules
        self.plan = Plan(refreshed=live is not None, partial=bool(rules.only))
        # Per target: one listing per target, and a registry is only ever matched in its own.
        self._live_by_id: dict[tuple[TargetKey, str], LiveRegistry] = {}
        self._live_by_name: dict[tuple[TargetKey, str], LiveRegistry] = {}
        for key, registries in (live or {}).items():
            for item in registries:
                by_id, by_name = (key, str(item.get("id"))), (key, str(item.get("registry_name", "")))
                for ident, index, what in ((by_id, self._live_by_id, "id"),
                                           (by_name, self._live_by_name, "name")):
                    if ident in index:
                        raise ReconcilerError(f"{key}: HSS listed the registry {what} {ident[1]!r} twice; "
                                              "an answer that names two registries alike cannot be "
                                              "planned against. Nothing was planned.")
                    index[ident] = item

    def _live_for(self, entry: StateEntry) -> LiveRegistry | None:
        """The live registry a state entry manages: its id, in its target, under its name.

        A state merged or edited by hand can name someone else's registry by id;
        updating or deleting that would touch what this workspace does not own,
        so an id that HSS has under another name stops the plan.
        """
        if entry.registry_id is None:  # add accepted, id never learned: find it by name
            return self._live_by_name.get((entry.target, entry.name))
        live = self._live_by_id.get((entry.target, entry.registry_id))
        if live is not None and live.get("registry_name") != entry.name:
            raise ReconcilerError(
                f"{entry.address}: the state records id {entry.registry_id}, but in HSS that id is the "
                f"registry {live.get('registry_name')!r}, not {entry.name!r}: the state was edited or "
                "merged wrongly. Nothing was planned; remove the entry with 'hss-reconciler state rm "
                f"{entry.name}' (HSS keeps the registry) and import the right id.")
        return live

    def run(self) -> Plan:
        addresses = sorted(set(self.desired.registries) | set(self.state.entries))
        for address in addresses:
            registry = self.desired.registries.get(address)
            entry = self.state.entries.get(address)
            name = registry.name if registry else entry.name  # type: ignore[union-attr]
            if not selects(self.rules.only, name, address):
                continue
            if registry is not None and entry is not None:
                self._declared_and_managed(registry, entry)
            elif registry is not None:
                self._declared_only(registry)
            elif entry is not None:
                self._managed_only(entry)
        self._count_unmanaged()
        return self.plan

    def _record_status(self, address: str, live: LiveRegistry) -> None:
        if "status" in live:
            self.plan.statuses.append(LiveStatus(address, live["status"], live.get("fail_reason")))
        warning = unknown_status(live)
        if warning:
            self.plan.warnings.append(f"{address}: {warning}")

    @staticmethod
    def _refuse_unknown_type(registry: DesiredRegistry, live: LiveRegistry) -> None:
        """A type this version does not know compares unequal to any declared one: a replace nobody meant.

        HSS may add types; the rest of the workspace still plans once this registry is set aside.
        """
        problem = unknown_type(live)
        if problem:
            raise ReconcilerError(
                f"{registry.address}: {problem}: comparing it with the declared "
                f"{registry.attributes.get('registry_type')!r} would plan a replace. Nothing was planned; "
                "a newer hss-reconciler may know it (meanwhile, --target plans the others).")

    def _declared_and_managed(self, registry: DesiredRegistry, entry: StateEntry) -> None:
        before: Mapping[str, Any] = entry.attributes
        registry_id = entry.registry_id
        if self.live is not None:
            live = self._live_for(entry)
            if live is None and (registry.target, registry.name) in self._live_by_name:
                # Deleted outside, then made again under the same name (not by us: it has
                # another id). Creating would collide with it; adopting shows what changes.
                self._declared_only(registry)
                return
            if live is None:
                self._add(Change(Action.CREATE, registry.target, registry.name, after=planned_after(registry),
                                 send_password=True, password_version=registry.password_version,
                                 reason="it no longer exists in HSS (deleted outside hss-reconciler)",
                                 registry=registry))
                return
            self._refuse_unknown_type(registry, live)
            self._record_status(registry.address, live)
            registry_id = str(live["id"])
            for name in changed_fields(entry.attributes, live):
                self.plan.drift.append(Drift(registry.address, name, entry.attributes.get(name),
                                             live.get(name)))
            before = live
        # An add accepted but whose id was never learned (a killed run): adopting records the id.
        action = Action.ADOPT if entry.registry_id is None and self.live is not None else Action.UPDATE
        self._converge(registry, registry_id, before, entry.password_version, action)

    def _declared_only(self, registry: DesiredRegistry) -> None:
        live = self._live_by_name.get((registry.target, registry.name))
        if live is None:
            self._add(Change(Action.CREATE, registry.target, registry.name, after=planned_after(registry),
                             send_password=True, password_version=registry.password_version,
                             registry=registry))
            return
        self._refuse_unknown_type(registry, live)
        self._record_status(registry.address, live)
        self._converge(registry, str(live["id"]), live, None, Action.ADOPT)

    def _converge(self, registry: DesiredRegistry, registry_id: str | None,
                  before: Mapping[str, Any], known_password_version: int | None,
                  action: Action) -> None:
        fields = changed_fields(before, registry.attributes)
        rotate = (registry.password_version is not None
                  and registry.password_version != known_password_version
                  and action is Action.UPDATE)
        forcing = forcing_replacement(fields)
        if forcing:
            if not self.rules.destroy:
                changes = ", ".join(f"{f} {before.get(f)} -> {registry.attributes.get(f)}" for f in forcing)
                raise ReconcilerError(
                    f"{registry.address}: {changes} replaces the registry (delete, then add), and "
                    f"--no-destroy forbids the delete. Keep {' and '.join(forcing)}, or plan without "
                    "--no-destroy.")
            self._add(Change(Action.REPLACE, registry.target, registry.name, registry_id,
                             comparable(before), planned_after(registry), fields, send_password=True,
                             password_version=registry.password_version,
                             reason=f"{' and '.join(forcing)} cannot be changed in place", registry=registry))
        elif fields or rotate or action is Action.ADOPT:
            changed = (*fields, "registry_password") if rotate else fields
            self._add(Change(action, registry.target, registry.name, registry_id, comparable(before),
                             planned_after(registry), changed, send_password=bool(fields) or rotate,
                             password_version=registry.password_version,
                             before_password_version=known_password_version, registry=registry))

    def _managed_only(self, entry: StateEntry) -> None:
        live = self._live_for(entry) if self.live is not None else None
        gone = self.live is not None and live is None
        before = comparable(live if live is not None else entry.attributes)
        if gone or not self.rules.destroy:
            reason = ("it no longer exists in HSS" if gone
                      else "--no-destroy: it stays in HSS, unmanaged")
            self._add(Change(Action.FORGET, entry.target, entry.name, entry.registry_id,
                             before, None, reason=reason))
        else:
            self._add(Change(Action.DELETE, entry.target, entry.name,
                             str(live["id"]) if live else entry.registry_id, before, None,
                             reason="it is no longer declared"))

    def _count_unmanaged(self) -> None:
        """Registries in HSS that nobody declared, each counted once per project.

        One registry can be listed by two targets of a project (an enterprise
        project and `all_granted_eps`), so identity here is the project, not the target.
        """
        managed = {(e.target.region, e.target.project_id, e.registry_id) for e in self.state.entries.values()}
        declared = {(r.target.region, r.target.project_id, r.name) for r in self.desired.registries.values()}
        seen: set[tuple[str, str, str]] = set()
        for key, registries in (self.live or {}).items():
            for item in registries:
                ident = (key.region, key.project_id, str(item.get("id")))
                if ident in seen:
                    continue
                seen.add(ident)
                named = (key.region, key.project_id, item.get("registry_name"))
                if ident not in managed and named not in declared:
                    self.plan.unmanaged += 1

    def _add(self, change: Change) -> None:
        self.plan.changes.append(change)


def unsafe_targets(plan: Plan, state: State) -> list[UnsafeTarget]:
    """Targets where the plan changes more than the safety share of what the state manages.

    Of a target with at least SAFETY_MIN_MANAGED managed registries: "destroy"
    when its deletes and replaces alone are more than SAFETY_MAX_DESTROY_SHARE
    of them; else "update" when, with its in-place updates, they are more than
    SAFETY_MAX_CHANGE_SHARE. Creates, adopts and forgets touch no registry
    the state manages (the share is of those), so they do not count. A move
    deletes a registry of the target it leaves: there it counts as a delete.
    """
    managed = Counter(entry.target for entry in state.entries.values())
    destroyed = Counter(change.target for change in plan.changes if change.action.destroys)
    destroyed.update(change.moved_from.target for change in plan.changes if change.moved_from is not None)
    updated = Counter(change.target for change in plan.changes if change.action is Action.UPDATE)
    unsafe: list[UnsafeTarget] = []
    for target in sorted(destroyed.keys() | updated.keys()):
        count, gone, rewritten = managed[target], destroyed[target], updated[target]
        if count < SAFETY_MIN_MANAGED:
            continue
        if gone > SAFETY_MAX_DESTROY_SHARE * count:
            unsafe.append(UnsafeTarget(target, gone, count, SAFETY_MAX_DESTROY_SHARE, rewritten, "destroy"))
        elif gone + rewritten > SAFETY_MAX_CHANGE_SHARE * count:
            unsafe.append(UnsafeTarget(target, gone, count, SAFETY_MAX_CHANGE_SHARE, rewritten, "update"))
    return unsafe


def make_plan(desired: Desired, state: State, live: Live | None,
              rules: DiffRules | None = None) -> Plan:
    """Compute the ordered changes; `live=None` plans from the state alone (no refresh)."""
    rules = rules or DiffRules()
    plan = _Planner(desired, state, live, rules).run()
    plan.changes = pair_moves(plan.changes, state.entries)
    if rules.only:  # a move must be selected whole: pair the whole plan to find its halves
        try:
            everything = pair_moves(_Planner(desired, state, live, DiffRules(rules.destroy)).run().changes,
                                    state.entries)
        except ReconcilerError:  # what --target left out cannot be planned: it cannot be half a move
            everything = []
        half_selected(everything, lambda change, old: planner_selects(rules, old or change))
    # The files' own warnings (config/warnings.py, which validate prints too); a partial plan's
    # per-registry ones only for the registries it touches.
    touched = {c.address for c in plan.changes} if plan.partial else None
    plan.warnings.extend(config_warnings(desired, touched))
    plan.unsafe_targets.extend(unsafe_targets(plan, state))
    return plan


def live_matcher(desired: Desired, state: State, live: Live) -> Callable[[StateEntry], LiveRegistry | None]:
    """The live registry each state entry manages, by the planner's identity rule (`_live_for`),
    for plans of other kinds (plan/refreshonly.py)."""
    return _Planner(desired, state, live, DiffRules())._live_for
