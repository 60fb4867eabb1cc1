"""The engine's front door: one run's registry files, state, lock and HSS clients.

Every command that reads or changes HSS opens a Session from typed options and
makes one call on it (`plan`, `apply`, ...); what it gets back is data for a
renderer. The prompt, the progress printer and the interrupt flag come in as
callbacks (`ApplyHooks`), so the engine never prints, asks or handles signals.

A Session that writes the state is opened with a lock timeout and holds the
lock until it is closed; a read-only one takes no lock, so `plan` still works
while an `apply` runs. HSS clients are opened on first use and shared, so the
connections (and TLS sessions) the refresh opened carry the changes too.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from reconciler.apply.events import Activity, Progress, StillRunning
from reconciler.config.endpoints import resolve_endpoint
from reconciler.config.model import Desired, TargetConfig
from reconciler.config.warnings import plain_http_endpoint
from reconciler.config.workspace import ENDPOINT_ENV, load_workspace
from reconciler.engine.locate import state_location
from reconciler.engine.names import unknown_selection
from reconciler.engine.options import Connection, PlanOptions, WorkspaceOptions
from reconciler.engine.statefile import open_store
from reconciler.errors import ConfigError, ReconcilerError, StalePlanError
from reconciler.hss.client import HssClient
from reconciler.plan.compare import differences
from reconciler.plan.diff import DiffRules, make_plan, unmatched_selections
from reconciler.plan.model import Plan
from reconciler.plan.refreshonly import refresh_only_plan
from reconciler.plan.saved import PlanInputs, SavedPlan, config_digest
from reconciler.plan.unresolved import unresolved_password_warnings
from reconciler.registry import LiveRegistry, TargetKey
from reconciler.state.model import State

if TYPE_CHECKING:
    from reconciler.state.backends.base import HeldLock, Store


class Session:
    def __init__(self, desired: Desired, store: Store, state: State, lock: HeldLock | None = None,
                 connection: Connection | None = None, progress: Progress | None = None) -> None:
        self.desired = desired
        self.store = store
        self.state = state
        self.lock = lock
        self.connection = connection or Connection()
        # Where a refresh or call that takes long says so (None: nobody is told).
        self.progress = progress
        self._exits = ExitStack()
        self._clients: dict[TargetKey, HssClient] | None = None

    @classmethod
    def open(cls, where: WorkspaceOptions, connection: Connection | None = None,
             progress: Progress | None = None) -> Session:
        """Load the files and the state; with a lock timeout, lock the state first.

        The lock is taken before the state is read, so the state this run starts
        from is the one no other run is changing.
        """
        files = [Path(p) for p in where.paths] or [Path(".")]
        desired = load_workspace(files, os.environ)
        # The rule `state` and `force-unlock` follow too; a URL opens a shared store (issue 18).
        store = open_store(state_location(where.state, where.paths))
        lock = None
        try:
            if where.lock_timeout is not None:  # read-only runs never load the lock's machinery
                lock = store.acquire(where.operation, where.lock_timeout)
                store.prepare_locked()
            state = store.load()
        except BaseException:
            if lock is not None:
                lock.release()
            store.close()
            raise
        return cls(desired, store, state, lock, connection, progress)

    def release_lock(self) -> None:
        """Release the state lock, if this session took one; harmless otherwise."""
        if self.lock is not None:
            self.lock.release()

    def close(self) -> None:
        try:
            self._exits.close()
        finally:
            try:
                self.release_lock()
            finally:
                self.store.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    @property
    def state_existed(self) -> bool:
        return self.store.exists()

    def _state_version(self) -> tuple[str | None, int]:
        """The state's lineage and serial as a saved plan records them: (None, 0) before the first apply."""
        if not self.state_existed:
            return None, 0
        return self.state.lineage, self.state.serial

    def targets(self) -> list[TargetConfig]:
        """Declared targets plus any the state still has registries in.

        A target no file declares any more is reached at HSS_ENDPOINT, else at the endpoint
        its file named when its registries were recorded, else at its region's (issue 19.1).
        """
        targets = dict(self.desired.targets)
        override = os.environ.get(ENDPOINT_ENV)
        recorded = {} if override else recorded_endpoints(self.state, set(targets))
        for entry in self.state.entries.values():
            if entry.target not in targets:
                endpoint = override or recorded.get(entry.target) or _state_only_endpoint(entry.target)
                targets[entry.target] = TargetConfig(entry.target, endpoint)
        return [targets[k] for k in sorted(targets)]

    def clients(self, targets: list[TargetConfig] | None = None) -> dict[TargetKey, HssClient]:
        """One client per target, opened on first use and shared until the session closes."""
        if self._clients is None:
            chosen = self.targets() if targets is None else targets
            self._clients = self._exits.enter_context(hss_clients(chosen, self.connection))
        return self._clients

    def refresh(self) -> dict[TargetKey, list[LiveRegistry]]:
        """What HSS has now in every target; a walk that takes long says so through `progress`."""
        from reconciler.refresh import refresh

        progress = self.progress
        if progress is None:
            return refresh(self.clients())

        def still_running(targets: list[TargetKey], elapsed: float) -> None:
            progress.report(StillRunning(Activity.REFRESHING, tuple(map(str, targets)), elapsed))

        return refresh(self.clients(), still_running=still_running, every=progress.every)

    def plan(self, options: PlanOptions) -> Plan:
        """Refresh (unless told not to) and diff the declared registries against the state and HSS."""
        unmatched = unmatched_selections(options.targets, self.desired, self.state)
        if unmatched:
            raise unknown_selection(unmatched[0], {**self.state.entries, **self.desired.registries})
        rules = DiffRules(destroy=options.destroy, only=options.targets)
        if options.refresh_only and not options.refresh:
            raise ReconcilerError("--refresh-only records what HSS has now, so it needs the refresh: "
                                  "drop --refresh=false")
        if not options.refresh:
            plan = make_plan(self.desired, self.state, None, rules)
        else:
            live = self.refresh()
            if options.refresh_only:
                return refresh_only_plan(self.desired, self.state, live, options.targets)
            plan = make_plan(self.desired, self.state, live, rules)
        plan.warnings.extend(unresolved_password_warnings(plan))
        return plan

    def plan_inputs(self, paths: tuple[str, ...], options: PlanOptions) -> PlanInputs:
        """What `apply FILE` must find unchanged; paths stay as typed, so CI checkouts can move."""
        lineage, serial = self._state_version()
        return PlanInputs(paths=list(paths) or ["."], state_path=self.store.location,
                          lineage=lineage, serial=serial, config_digest=config_digest(self.desired),
                          destroy=options.destroy, only=list(options.targets), refreshed=options.refresh)

    def saved_plan(self, saved: SavedPlan, source: str) -> Plan:
        """A fresh plan, if it does exactly what the saved (reviewed) plan does; else StalePlanError.

        The saved plan is an expectation, never an instruction: it is checked against
        the state and the declared registries it was made from, then planned again
        with its own options, and the fresh plan runs only if it equals the reviewed
        one change by change and field by field, ids included.
        """
        why = saved.stale_because(*self._state_version(), config_digest(self.desired))
        fresh = None
        if not why:
            inputs = saved.inputs
            fresh = self.plan(PlanOptions(refresh=inputs.refreshed, targets=tuple(inputs.only),
                                          destroy=inputs.destroy, refresh_only=saved.plan.refresh_only))
            found = differences(saved.plan, fresh)
            why = "a fresh plan differs from it: " + "; ".join(found) if found else ""
        if why or fresh is None:
            raise StalePlanError(f"{source}: saved plan is stale: {why}. Nothing was changed; make a new "
                                 f"plan with 'hss-reconciler plan -out {source}' and review it.")
        return fresh


def _state_only_endpoint(target: TargetKey) -> str:
    """The region's endpoint for a target only the state holds; an unknown region names the target.

    No file is there to point at, so the message says which target the state holds.
    """
    try:
        return resolve_endpoint(target.region, os.environ)
    except ConfigError as exc:
        raise ConfigError(f"target {target}, which only the state holds (no registry file declares it any "
                          f"more, and its registries record no endpoint): {exc}") from None


def recorded_endpoints(state: State, declared: set[TargetKey]) -> dict[TargetKey, str]:
    """The endpoint recorded for each target not `declared` that has one; two for one target is an error.

    Entries are written as their registries change, so after a target's file changed its
    endpoint, entries not applied since still hold the old one: guessing could send the
    plan (and the credentials) to the wrong host, so the user chooses.
    """
    found: dict[TargetKey, str] = {}
    for entry in state.entries.values():
        if entry.endpoint is None or entry.target in declared:
            continue
        seen = found.setdefault(entry.target, entry.endpoint)
        if seen != entry.endpoint:
            raise ReconcilerError(
                f"target {entry.target}: the state records two endpoints for it, {seen} and "
                f"{entry.endpoint}, and no registry file declares it any more; set HSS_ENDPOINT to "
                "the one to use, or restore the target's file")
    return found


@contextmanager
def hss_clients(targets: list[TargetConfig], connection: Connection) -> Iterator[dict[TargetKey, HssClient]]:
    """One client per target, all on one connection pool (closed on exit).

    A plain-http endpoint sends the credentials (and registry passwords) in
    clear: the rule `validate` applies to the files too (config/warnings.py
    `plain_http_endpoint`) refuses it outside loopback unless the connection
    allows it (`--allow-http`), and warns about it wherever it is. Checked
    before any client exists, so a refused run sends nothing. The warning's
    record carries the verdict as `plain_http`, so a caller that started the
    server itself (`demo`) can leave it out.
    """
    from reconciler.connect import open_clients

    for endpoint in sorted({t.endpoint for t in targets}):
        verdict = plain_http_endpoint(endpoint, connection.allow_http)
        if verdict is None:
            continue
        if verdict.refused:
            raise ReconcilerError(f"{verdict.message} Nothing was sent.")
        logging.getLogger("reconciler").warning("%s", verdict.message, extra={"plain_http": verdict})

    # No TLS context (and no reading of the system CA store) when nothing speaks https.
    plain_http = all(t.endpoint.startswith("http://") for t in targets)
    verify: bool | str = False if connection.insecure or plain_http else (connection.ca_bundle or True)
    if connection.insecure:
        logging.getLogger("reconciler").warning(
            "--insecure: TLS certificates are not verified; anyone on the path can read the "
            "credentials and registry passwords this run sends. Never use it in production.")
    connections = max(connection.parallelism, min(len(targets), 64), 10) + 2
    # IAM and the other credential services are verified whatever the HSS endpoints speak.
    source_verify: bool | str = False if connection.insecure else (connection.ca_bundle or True)
    with open_clients(targets, os.environ, verify=verify, source_verify=source_verify,
                      max_connections=connections) as clients:
        yield {key: client.with_request_timeout(connection.request_timeout)
               for key, client in clients.items()}
