"""Running a plan: bounded parallelism, a checkpoint after every accepted call.

Destroys run first (they free room under the per-project limit), then every
other change. A move adds the new registry and deletes the old one in one
worker, in its `creates_first` order: the old one goes only once HSS accepted
the add and the state file records it, so a failed add leaves the old one
scanning (and in the state). A change counts as done only once the state file
records it.

Once `stop` is set (an interrupt, a state file that cannot be written, or
credentials that are gone: see `ends_the_run`) no new change starts; those in
flight run to the end, so every call HSS accepted is in the state when
`apply_plan` returns.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from reconciler.apply.bodies import add_body, update_body
from reconciler.apply.events import STILL_RUNNING_EVERY, ApplyEvent, Phase, Reporter, ignore
from reconciler.apply.idlookup import find_id, found_after_refusal, learn_ids, still_ours
from reconciler.apply.pacing import AdaptivePace
from reconciler.apply.result import ApplyResult
from reconciler.config.envcheck import resolve_passwords
from reconciler.config.model import DesiredRegistry
from reconciler.errors import ApiError, CredentialsFailed, ReconcilerError
from reconciler.hss.client import HssClient
from reconciler.hss.errors import AddOutcomeUnknown, RegistryNotFound
from reconciler.hss.retry import Admission
from reconciler.plan.model import Action, Change, Plan
from reconciler.registry import TargetKey, changed_fields
from reconciler.secrets import Secret
from reconciler.state.checkpoint import Checkpointer
from reconciler.state.model import State, StateEntry
from reconciler.state.store import StateUnwritable

# How many times one create may send AddRegistry, each resend only after a
# listing showed the registry absent.
MAX_ADD_SENDS = 8
# Targets whose new ids are being learned at once (one listing each).
MAX_ID_LISTINGS = 16


def ends_the_run(exc: ReconcilerError) -> bool:
    """Every later call would fail as this one did, so apply should start nothing new.

    So it is when the credentials can no longer be had (a temporary-credential
    refresh failed), or when HSS's gateway answers 401: APIG.0301, a key or token
    that is wrong, expired or locked out, whatever the operation. A 403 does not
    end the run: it is a policy's answer about one operation (a delete denied),
    and the other changes may well be allowed.
    """
    return isinstance(exc, CredentialsFailed) or (isinstance(exc, ApiError) and exc.status == 401)


class _IdLater:
    """`_create`'s answer when the add was accepted and its id is being learned off the worker."""


ID_LATER = _IdLater()


class _PartlyAccepted(ReconcilerError):
    """A move that failed after HSS accepted one half of it (`accepted`: its add or its delete).

    `id_later`: the accepted half is an add whose id is still to be learned, as any add's is.
    """

    def __init__(self, message: str, accepted: Action, *, id_later: bool = False) -> None:
        super().__init__(message)
        self.accepted = accepted
        self.id_later = id_later

logger = logging.getLogger("reconciler.apply")


def _adds(change: Change) -> bool:
    """Sends AddRegistry (a create, a replace, a move): its target's new ids are learned after."""
    return change.action.creates or change.action is Action.MOVE


class _Run:
    def __init__(self, checkpointer: Checkpointer,
                 clients: Mapping[TargetKey, HssClient], secrets: Mapping[str, Secret],
                 report: Reporter, stop: threading.Event, plan: Plan) -> None:
        self.checkpointer = checkpointer
        self.clients = clients
        self.secrets = secrets
        self.report = report
        self.stop = stop
        self.refreshed = plan.refreshed
        # Ids are learned per target once its last add has returned (see idlookup.py).
        self._adds_left = Counter(c.target for c in plan.changes if _adds(c))
        self._id_pending: dict[TargetKey, list[tuple[Change, float]]] = {}
        self.finishers = ThreadPoolExecutor(max_workers=max(1, min(MAX_ID_LISTINGS, len(self._adds_left))),
                                            thread_name_prefix="apply-ids")
        self.finishing: list[Future[None]] = []
        self.result = ApplyResult()
        self._lock = threading.Lock()
        self._running: dict[str, tuple[Change, float, float]] = {}  # address -> change, started, last said
        # target -> its accepted creates awaiting ids, when the listing began, when last said
        self._learning: dict[TargetKey, tuple[list[tuple[Change, float]], float, float]] = {}
        # Moves that failed after their add was accepted: their ids are learned, but they stay failed.
        self._failed_adds: set[str] = set()

    def still_running(self, every: float) -> None:
        """Terraform's "Still creating... [10s elapsed]": a long call is not a hung run."""
        now = time.monotonic()
        with self._lock:
            due = [(address, change, started) for address, (change, started, said) in self._running.items()
                   if now - said >= every]
            for address, change, started in due:
                self._running[address] = (change, started, now)
            listing = [(target, pending, began) for target, (pending, began, said) in self._learning.items()
                       if now - said >= every]
            for target, pending, began in listing:
                self._learning[target] = (pending, began, now)
        for _, change, started in due:
            self.report(ApplyEvent(change, Phase.STILL_RUNNING, now - started))
        for _, pending, began in listing:
            self.report(ApplyEvent(pending[0][0], Phase.STILL_LEARNING_IDS, now - began, count=len(pending)))

    def execute(self, change: Change) -> None:
        try:
            self._execute(change)
        finally:
            if _adds(change):
                self._add_returned(change.target)

    def _execute(self, change: Change) -> None:
        if self.stop.is_set():
            return
        started = time.monotonic()
        self.report(ApplyEvent(change, Phase.STARTED))
        with self._lock:
            self._running[change.address] = (change, started, started)
        try:
            registry_id = self._perform(change)
        except ReconcilerError as exc:
            with self._lock:
                self._running.pop(change.address, None)
                self._count_failure(change, exc)
                if isinstance(exc, _PartlyAccepted):
                    self.result.partly.append((change, exc.accepted))
                    if exc.id_later:  # learned with the target's other new ids, as a normal add's is
                        self._failed_adds.add(change.address)
                        self._id_pending.setdefault(change.target, []).append((change, started))
                if ends_the_run(exc) and self.result.stopped_by is None:
                    self.result.stopped_by = str(exc)
                    self.stop.set()
            self.report(ApplyEvent(change, Phase.FAILED, time.monotonic() - started, message=str(exc)))
            return
        if isinstance(registry_id, _IdLater):
            # Accepted, and its record on its way to disk: complete as far as HSS goes, said now.
            # The id comes from the target's listing after its last add (RECORDED).
            with self._lock:
                self._running.pop(change.address, None)
                self._id_pending.setdefault(change.target, []).append((change, started))
            self.report(ApplyEvent(change, Phase.ACCEPTED, time.monotonic() - started))
            return
        self._done(change, started, registry_id)

    def _add_returned(self, target: TargetKey) -> None:
        """Count down the target's adds; after the last, learn its new ids off the workers."""
        with self._lock:
            self._adds_left[target] -= 1
            if self._adds_left[target] or target not in self._id_pending:
                return
            pending = self._id_pending.pop(target)
            now = time.monotonic()
            self._learning[target] = (pending, now, now)
            self.finishing.append(self.finishers.submit(self._learn_ids, target, pending))

    def _done(self, change: Change, started: float, registry_id: str | None,
              phase: Phase = Phase.DONE) -> None:
        with self._lock:
            self._running.pop(change.address, None)
            if change.address not in self._failed_adds:  # a failed move's new id: recorded, still failed
                self.result.done.append(change)
        self.report(ApplyEvent(change, phase, time.monotonic() - started, registry_id))

    def _learn_ids(self, target: TargetKey, pending: list[tuple[Change, float]]) -> None:
        """Ids of the registries this run added to `target`, all recorded in one checkpoint."""
        try:
            self._learn_ids_now(target, pending)
        finally:
            with self._lock:
                self._learning.pop(target, None)

    def _learn_ids_now(self, target: TargetKey, pending: list[tuple[Change, float]]) -> None:
        registries = [_declared(change) for change, _ in pending]
        ids: dict[str, str] = {}
        try:
            ids = learn_ids(self.clients[target], [r.name for r in registries])
        except ReconcilerError as exc:
            logger.warning("%s: %d registries created, but their ids could not be learned (%s); "
                           "the next plan adopts them", target, len(pending), exc)
        for registry in registries:
            if registry.name not in ids:
                logger.warning("%s: created, but HSS does not list it yet; the next plan adopts it",
                               registry.address)
        entries = [self._entry(r, ids[r.name], r.password_version) for r in registries if r.name in ids]
        try:
            # Even with no id learned: this save also covers the adds' own records.
            self._commit(entries)
        except ReconcilerError as exc:
            for change, started in pending:
                if change.address in self._failed_adds:
                    continue  # counted as failed already; its record (without the id) is on disk
                with self._lock:
                    self._running.pop(change.address, None)
                    self._count_failure(change, exc)
                self.report(ApplyEvent(change, Phase.FAILED, time.monotonic() - started, message=str(exc)))
            return
        for (change, started), registry in zip(pending, registries, strict=True):
            self._done(change, started, ids.get(registry.name), Phase.RECORDED)

    def _count_failure(self, change: Change, exc: ReconcilerError) -> None:
        """A failed change, or (the state write failing) one HSS accepted but the state file lacks.

        A checkpoint is written only after HSS accepted the call it records, and a failed write
        still goes to the errored file, so the summary counts these as done (issue 19.4).
        Called holding `self._lock`.
        """
        if not isinstance(exc, StateUnwritable):
            self.result.failed.append((change, str(exc)))
            return
        self.result.unrecorded.append((change, self._accepted_part(change)))
        self.result.saved_to = exc.saved_to
        self.result.put_back = exc.put_back

    def _accepted_part(self, change: Change) -> Action:
        """What of `change` HSS accepted when its record failed to reach the state file."""
        recorded = self.checkpointer.state.entries
        if change.action is Action.REPLACE and change.address not in recorded:
            return Action.DELETE  # its delete's record failed, so its add was never sent
        if change.moved_from is None:
            return change.action
        if change.moved_from.address in recorded:
            return Action.CREATE  # the new one added; the old one not deleted
        return Action.MOVE if change.address in recorded else Action.DELETE  # delete-first, add not sent

    def _perform(self, change: Change) -> str | _IdLater | None:
        if change.action is Action.MOVE:
            return self._move(change)
        client = self.clients[change.target]
        if change.action is Action.FORGET:
            self.checkpointer.commit(lambda s: s.remove(change.address))
            return change.registry_id
        registry_id = change.registry_id
        if registry_id is None and change.action is not Action.CREATE:
            # A state entry whose add was accepted but whose id was never learned, planned
            # without a refresh (which would have found it): find it by name now.
            registry_id = find_id(client, change.name)
        elif registry_id is not None and not self.refreshed and change.action is not Action.CREATE:
            registry_id = still_ours(client, change.name, registry_id, gone_ok=change.action.destroys)
        if change.action.destroys:
            self._delete(client, change.address, registry_id)
            if change.action is Action.DELETE:
                return registry_id
        registry = _declared(change)
        if change.action.creates:
            return self._create(client, registry)
        if registry_id is None:
            raise ReconcilerError(f"HSS has no registry named '{change.name}' and its id was never "
                                  "learned; run plan (with refresh) again")
        if change.action is Action.ADOPT:
            self._record(registry, registry_id, None if change.send_password else registry.password_version)
        if change.send_password or change.action is Action.UPDATE:
            client.update_registry(registry_id, update_body(registry, self.secrets.get(change.address)))
            self._record(registry, registry_id, registry.password_version)
        return registry_id

    def _delete(self, client: HssClient, address: str, registry_id: str | None) -> None:
        """DeleteRegistry (None or already gone: the goal is met), then the state forgets `address`."""
        if registry_id is not None:
            with contextlib.suppress(RegistryNotFound):
                client.delete_registry(registry_id)
        self.checkpointer.commit(lambda s: s.remove(address))

    def _move(self, change: Change) -> str | _IdLater | None:
        """Add the registry at its new address and delete it at the old, in the order HSS allows.

        Create first: the old registry is deleted only after HSS accepted the add and the
        state file holds the new one, so a failed add (or a kill between the two) leaves the
        old one in HSS and in the state, and the next plan shows the same move again.
        """
        source, new_client = change.moved_from, self.clients[change.target]
        if source is None:
            raise ReconcilerError(f"{change.address}: the plan says move but not from where; make a new plan")
        old_client = self.clients[source.target]
        old_id = change.registry_id
        if old_id is None:  # its add was accepted but its id never learned
            old_id = find_id(old_client, source.name)
        elif not self.refreshed:
            old_id = still_ours(old_client, source.name, old_id, gone_ok=True)
        registry = _declared(change)
        if not change.creates_first:
            self._delete(old_client, source.address, old_id)
            try:
                return self._create(new_client, registry)
            except ApiError as exc:
                raise _PartlyAccepted(f"the old registry {source.address} was deleted first (HSS may refuse "
                                      f"two registries named {source.name!r} in one project), but adding it "
                                      f"here failed ({exc}); the next plan creates it",
                                      Action.DELETE) from None
        try:
            made = self._create(new_client, registry)
        except ApiError as exc:
            raise ReconcilerError(f"{exc}; the old registry {source.address} was left as it is, in HSS "
                                  "and in the state") from None
        self.checkpointer.flush()  # the new registry's record on disk before the old one goes
        try:
            self._delete(old_client, source.address, old_id)
        except ApiError as exc:
            raise _PartlyAccepted(f"created, but deleting the old registry {source.address} failed "
                                  f"({exc}); both are in HSS and in the state, and the next plan deletes "
                                  "the old one", Action.CREATE, id_later=isinstance(made, _IdLater)) from None
        return made

    def _create(self, client: HssClient, registry: DesiredRegistry) -> str | _IdLater:
        """AddRegistry, never sent again before a listing shows the registry absent.

        An add whose answer was lost may have created the registry; a blind
        resend would create a second one. So after AddOutcomeUnknown the
        registry is looked up by exact name: found, it is adopted; absent, the
        add is sent again. An add that HSS refuses (400: say, the name exists
        because an earlier send landed late, or a run killed mid-call left one
        behind) is checked the same way before it counts as a failure.
        """
        password = self.secrets[registry.address]
        body = add_body(registry, password)
        for send in range(1, MAX_ADD_SENDS + 1):
            try:
                client.add_registry(body)
            except AddOutcomeUnknown as exc:
                logger.info("%s: %s; listing by name before anything else", registry.address, exc)
                try:
                    registry_id = find_id(client, registry.name)
                except ApiError as find_exc:
                    raise AddOutcomeUnknown(f"{exc}; checking by name failed too ({find_exc}). "
                                            "The next plan adopts it if it exists") from None
                if registry_id is None and send < MAX_ADD_SENDS:
                    continue  # definitely absent: sending again cannot duplicate it
                if registry_id is None:
                    raise
                return self._adopt_found(registry, registry_id)
            except ApiError as exc:
                found = found_after_refusal(client, registry.name, exc)
                if found is None:
                    raise
                registry_id = str(found["id"])
                if send == 1:
                    # Not made by this run's add. Taken over only if it is what this add makes
                    # (a killed run's add that landed); then made exactly so, password included.
                    self._refuse_someone_elses(registry, found)
                    client.update_registry(registry_id, update_body(registry, password))
                return self._adopt_found(registry, registry_id)
            break
        # Accepted: recorded before anything else, even though the id is not known yet. The
        # worker does not wait for that write; the checkpoint with the learned id does.
        entry = self._entry(registry, None, registry.password_version)
        self.checkpointer.commit_soon(lambda state: state.put(entry))
        return ID_LATER

    @staticmethod
    def _refuse_someone_elses(registry: DesiredRegistry, found: dict[str, Any]) -> None:
        """The plan said create; a registry of that name that differs was made since by someone else.

        Updating it would overwrite their address and credentials with ours, which
        nobody reviewed (and leave its type, which no update changes).
        """
        differs = changed_fields(found, registry.attributes)
        if differs:
            raise ReconcilerError(
                f"HSS already has a registry named '{registry.name}' (id {found['id']}), made since the "
                f"plan, that differs in {', '.join(differs)}; it was left as it is. Run plan again to "
                "see what adopting it would change.")

    def _adopt_found(self, registry: DesiredRegistry, registry_id: str) -> str:
        logger.info("%s: the registry exists already (id %s); recording it", registry.address,
                    registry_id)
        self._record(registry, registry_id, registry.password_version)
        return registry_id

    @staticmethod
    def _entry(registry: DesiredRegistry, registry_id: str | None,
               password_version: int | None) -> StateEntry:
        return StateEntry(registry.target, registry.name, registry_id, dict(registry.attributes),
                          password_version, registry.endpoint)

    def _record(self, registry: DesiredRegistry, registry_id: str | None,
                password_version: int | None) -> None:
        self._commit([self._entry(registry, registry_id, password_version)])

    def _commit(self, entries: list[StateEntry]) -> None:
        """Put `entries` in the state; returns once a save that holds them is on disk."""
        def put_all(state: State) -> None:
            for entry in entries:
                state.put(entry)

        self.checkpointer.commit(put_all)


def _declared(change: Change) -> DesiredRegistry:
    """What `change` sends: the declared registry it carries (every change but a delete or forget)."""
    if change.registry is None:
        raise ReconcilerError(f"{change.address}: the plan holds no declared registry for this "
                              f"{change.action}; make a new plan")
    return change.registry


def _paced(clients: Mapping[TargetKey, HssClient],
           pace: Callable[[], Admission]) -> dict[TargetKey, HssClient]:
    """The clients, one pace per endpoint: the gateway there throttles the run's calls together."""
    paces: dict[str, Admission] = {}
    return {key: client.with_admission(paces.setdefault(client.endpoint, pace()))
            for key, client in clients.items()}


def apply_plan(plan: Plan, checkpointer: Checkpointer,
               clients: Mapping[TargetKey, HssClient], *, parallelism: int = 10,
               report: Reporter = ignore, stop: threading.Event | None = None,
               still_running_every: float = STILL_RUNNING_EVERY,
               pace: Callable[[], Admission] = AdaptivePace) -> ApplyResult:
    """Run every change of `plan`; failures are collected, not raised, so the rest still runs
    (unless one `ends_the_run`: then nothing new starts, and `stopped_by` says why).

    The plan alone says what to send: each change carries its declared registry,
    so a fresh plan and a saved one run exactly the same code. Every call to one
    endpoint goes at the pace of one `pace()` (see pacing.py): a 429 slows all
    the workers down, not just the one throttled.
    """
    # Every secret is read before the first call: a missing one stops nothing halfway.
    secrets = resolve_passwords(_declared(c) for c in plan.changes if c.send_password)
    clients = _paced(clients, pace)
    run = _Run(checkpointer, clients, secrets, report, stop or threading.Event(), plan)
    destroys = [c for c in plan.changes if c.action.leaves_state]
    others = [c for c in plan.changes if not c.action.leaves_state]
    try:
        with ThreadPoolExecutor(max_workers=max(1, parallelism), thread_name_prefix="apply") as pool:
            for batch in (destroys, others):
                futures: list[Future[None]] = [pool.submit(run.execute, c) for c in batch]
                while wait(futures, timeout=min(1.0, still_running_every)).not_done:
                    run.still_running(still_running_every)
                for future in futures:
                    future.result()
        with run.finishers:
            while wait(run.finishing, timeout=min(1.0, still_running_every)).not_done:
                run.still_running(still_running_every)
            for future in run.finishing:
                future.result()
    finally:
        checkpointer.close()  # whatever HSS accepted is on disk before this returns
    run.result.stopped = run.stop.is_set()
    return run.result
