"""Apply a plan: refuse it if unsafe, ask (through a hook), run it, then outputs and `--wait`.

The outcome is data: what ran, what failed, the upload commands, the access
statuses. The CLI phrases it; the exit code follows from it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field

from reconciler.apply.events import STILL_RUNNING_EVERY, Reporter, ignore
from reconciler.apply.executor import apply_plan
from reconciler.apply.outputs import UploadCommands, fetch_upload_commands
from reconciler.apply.result import ApplyResult
from reconciler.apply.waiting import WaitResult
from reconciler.engine.options import ApplyOptions
from reconciler.engine.session import Session
from reconciler.errors import ReconcilerError
from reconciler.plan.model import Plan, UnsafeTarget
from reconciler.plan.refreshonly import refreshed_entries
from reconciler.registry import TargetKey
from reconciler.render.view import unsafe_text
from reconciler.state.checkpoint import Checkpointer
from reconciler.state.model import State


class UnsafePlanError(ReconcilerError):
    """The plan destroys more than the safety share of a target, and --force was not given."""

    def __init__(self, targets: list[UnsafeTarget]) -> None:
        self.targets = targets
        super().__init__("refusing an unsafe plan: " + "; ".join(unsafe_text(t) for t in targets)
                         + ". Check the plan; pass --force if these changes are intended.")


@contextmanager
def _never_interrupted() -> Iterator[threading.Event]:
    yield threading.Event()


@dataclass
class ApplyHooks:
    """How the engine reaches the person or pipeline running it."""

    approve: Callable[[Plan], bool] | None = None  # None: approved already (--auto-approve, a saved plan)
    report: Reporter = ignore  # progress of each change
    say: Callable[[str], None] = lambda text: None  # a line of progress between phases
    # Entered while changes run; the event it yields is set to start nothing new (a signal came).
    interruptible: Callable[[], AbstractContextManager[threading.Event]] = _never_interrupted
    # Called as soon as the changes have run, before outputs: the CLI exits there after a signal.
    changes_done: Callable[[Plan, ApplyResult], None] = lambda plan, result: None


@dataclass
class ApplyOutcome:
    plan: Plan
    result: ApplyResult = field(default_factory=ApplyResult)
    outputs: UploadCommands = field(default_factory=UploadCommands)
    waited: WaitResult | None = None
    cancelled: bool = False
    ran: bool = False  # False: nothing to do, or cancelled

    @property
    def ok(self) -> bool:
        return (not self.cancelled and not self.result.failed and not self.result.unrecorded
                and (self.waited is None or self.waited.ok))


def _record_refresh(session: Session, plan: Plan, hooks: ApplyHooks) -> ApplyOutcome:
    """A refresh-only plan, approved: HSS's current attributes into the state; nothing sent to HSS."""
    if hooks.approve is not None and not hooks.approve(plan):
        return ApplyOutcome(plan, cancelled=True)
    put, removed = refreshed_entries(plan, session.state)

    def record(state: State) -> None:
        for entry in put:
            state.put(entry)
        for address in removed:
            state.remove(address)

    Checkpointer(session.store, session.state).commit(record)
    hooks.say(f"\nRecorded what HSS has now for {len(put) + len(removed)} registr"
              f"{'y' if len(put) + len(removed) == 1 else 'ies'} in the state"
              f"{f' ({len(removed)} no longer in HSS, forgotten)' if removed else ''}; nothing was "
              "changed in HSS.")
    return ApplyOutcome(plan, ran=True)


def apply(session: Session, plan: Plan, options: ApplyOptions, hooks: ApplyHooks) -> ApplyOutcome:
    if not plan.has_changes:
        return ApplyOutcome(plan)
    if plan.refresh_only:
        return _record_refresh(session, plan, hooks)
    if plan.unsafe and not options.force:
        raise UnsafePlanError(plan.unsafe_targets)
    if hooks.approve is not None and not hooks.approve(plan):
        return ApplyOutcome(plan, cancelled=True)
    hooks.say("")
    clients = session.clients()
    with hooks.interruptible() as stop:
        # One event stops new changes, whether a signal came or the state could not be written.
        checkpointer = Checkpointer(session.store, session.state, stop=stop)
        result = apply_plan(plan, checkpointer, clients,
                            parallelism=session.connection.parallelism, report=hooks.report, stop=stop,
                            still_running_every=session.progress.every if session.progress
                            else STILL_RUNNING_EVERY)
    hooks.changes_done(plan, result)
    outcome = ApplyOutcome(plan, result, ran=True)
    if result.stopped_by is not None:
        # The credentials are gone: each upload command or wait would fail the same way again.
        return outcome
    touched = [c.registry for c in result.done if c.registry is not None]
    outcome.outputs = fetch_upload_commands(touched, clients, session.progress)
    if options.wait and touched:
        from reconciler.apply.waiting import wait_for_access

        names: dict[TargetKey, list[str]] = {}
        for registry in touched:
            names.setdefault(registry.target, []).append(registry.name)
        hooks.say(f"\nWaiting up to {options.wait_timeout:.0f}s for HSS to reach {len(touched)} "
                  f"registr{'y' if len(touched) == 1 else 'ies'}...")
        outcome.waited = wait_for_access(clients, names, options.wait_timeout, progress=session.progress)
    return outcome
