"""What `apply` shows a person: the question, progress lines, and the closing report."""

from __future__ import annotations

import sys
from collections.abc import Callable

from reconciler.apply.events import ApplyEvent, Phase
from reconciler.apply.result import ApplyResult
from reconciler.cli.output import Output
from reconciler.engine.applying import ApplyOutcome
from reconciler.errors import ReconcilerError
from reconciler.plan.model import Action, Plan
from reconciler.render.formats import render_result_as
from reconciler.render.results import applied_counts, render_outputs, render_wait

VERBS = {
    Action.CREATE: ("Creating", "Creation"),
    Action.UPDATE: ("Modifying", "Modifications"),
    Action.REPLACE: ("Replacing", "Replacement"),
    Action.DELETE: ("Destroying", "Destruction"),
    Action.ADOPT: ("Adopting", "Adoption"),
    Action.FORGET: ("Forgetting", "Forgetting"),
    Action.MOVE: ("Moving", "Move"),
}


def confirm(out: Output) -> Callable[[Plan], bool]:
    def ask(plan: Plan) -> bool:
        if not sys.stdin.isatty():
            raise ReconcilerError("apply needs approval: run it in a terminal, or pass --auto-approve")
        question = ("Do you want to record these values in the state? HSS is not changed."
                    if plan.refresh_only else "Do you want to perform these actions?")
        out.print(f"\n{question}\n  Only 'yes' will be accepted to approve.\n")
        out.prompt("  Enter a value: ")
        return sys.stdin.readline().strip() == "yes"
    return ask


def reporter(say: Callable[[str], None], out: Output) -> Callable[[ApplyEvent], None]:
    def report(event: ApplyEvent) -> None:
        doing, noun = VERBS[event.change.action]
        name = event.change.address
        if event.phase is Phase.STARTED:
            say(f"{name}: {doing}...")
        elif event.phase is Phase.STILL_RUNNING:
            say(f"{name}: Still {doing.lower()}... [{event.elapsed:.0f}s elapsed]")
        elif event.phase in (Phase.DONE, Phase.ACCEPTED):
            ident = f" [id={event.registry_id}]" if event.registry_id else ""
            say(f"{name}: {noun} complete after {event.elapsed:.0f}s{ident}")
        elif event.phase is Phase.STILL_LEARNING_IDS:
            say(f"{event.change.target}: Still learning the ids of {event.count} new registries... "
                f"[{event.elapsed:.0f}s elapsed]")
        elif event.phase is Phase.RECORDED:
            say(f"{name}: Recorded [id={event.registry_id}]" if event.registry_id
                else f"{name}: Recorded without an id (HSS does not list it yet; the next plan adopts it)")
        else:
            out.error(f"{name}: {event.message}")
    return report


def summary(result: ApplyResult) -> str:
    return f"Resources: {applied_counts(result)}."


def where_recorded(result: ApplyResult) -> str:
    """Where the changes the summary counts are recorded: the state file, or the errored file."""
    if not result.unrecorded:
        return "The state records every change that succeeded; fix the cause and run apply again."
    count = len(result.unrecorded)
    these = f"{count} change{'s' if count != 1 else ''} HSS accepted"
    if result.saved_to is None:
        return (f"The state file could not be written, and {these} could not be saved anywhere: "
                "see the error above.")
    put_back = result.put_back or "copy it over the state file"
    return (f"The state could not be written: {these} {'are' if count != 1 else 'is'} recorded "
            f"in {result.saved_to}; {put_back} before running again.")


def not_started(plan: Plan, result: ApplyResult) -> int:
    """The changes a stopped run never started: neither done, failed, nor accepted but unsaved."""
    return len(plan.changes) - len(result.done) - len(result.failed) - len(result.unrecorded)


def _headline(plan: Plan, result: ApplyResult) -> str:
    """The one cause that stopped the run, or how many changes failed."""
    if result.stopped_by is not None:
        left, failed = not_started(plan, result), f" ({len(result.failed)} failed)" if result.failed else ""
        return (f"Apply stopped: {result.stopped_by}; {left} change{'s' if left != 1 else ''} "
                f"not started{failed}. ")
    if result.failed:
        return f"Apply failed for {len(result.failed)} of {len(plan.changes)} changes. "
    return "Apply stopped. "


def problems(outcome: ApplyOutcome, wait_timeout: float) -> list[str]:
    """Why the apply is not ok (`ApplyOutcome.ok` decides; this only words it), one line each."""
    result, waited = outcome.result, outcome.waited
    failed = _headline(outcome.plan, result)
    found = [f"{failed}{summary(result)} {where_recorded(result)}"] if result.failed or result.unrecorded \
        else []
    if waited is not None and not waited.ok:
        found.append("HSS could not access every registry: " + "; ".join(
            [f"{s.address}: fail ({s.fail_reason or 'no reason given'})" for s in waited.failed]
            + [f"{a}: still accessing after {wait_timeout:.0f}s" for a in waited.timed_out]
            + [f"{a}: no longer in HSS" for a in waited.missing]))
    return found


def report(outcome: ApplyOutcome, fmt: str, wait_timeout: float, out: Output) -> int:
    """The closing lines (text) or the one result document (json, markdown); the exit code."""
    if outcome.cancelled:
        out.print("\nApply cancelled.")
        return 1
    if not outcome.ran:  # nothing to change
        if fmt != "text":
            out.print(render_result_as(fmt, outcome.plan, None, None, None))
        return 0
    for address, reason in outcome.outputs.failures.items():
        out.warn(f"{address}: could not get the upload commands ({reason}); "
                 "run 'hss-reconciler upload-command NAME' later")
    complete = f"Apply complete! {summary(outcome.result)}" if outcome.ok else ""
    if fmt == "text":
        if outcome.waited is not None:
            out.print(render_wait(outcome.waited, out.palette))
        if complete:
            out.print("\n" + out.palette.paint(complete, "green"))
        if outcome.outputs.commands:
            out.print("\n" + render_outputs(outcome.outputs))
    else:
        out.info(complete)
        out.print(render_result_as(fmt, outcome.plan, outcome.result, outcome.outputs, outcome.waited))
    for problem in problems(outcome, wait_timeout):
        out.error(problem)
    return 0 if outcome.ok else 1
