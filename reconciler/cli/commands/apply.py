"""`apply`: plan (or load a saved plan), confirm, make HSS match, report outputs.

Under `--format text` everything goes to stdout as Terraform prints it. Under
json or markdown, stdout carries one document (plan, result, outputs) and the
progress lines go to stderr, so the document can be piped as is.
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reconciler.apply.result import ApplyResult
from reconciler.cli import applyview, options
from reconciler.cli.interrupts import StopOnSignal
from reconciler.cli.output import Output
from reconciler.cli.progress import still_running
from reconciler.engine.applying import ApplyHooks, apply
from reconciler.engine.session import Session
from reconciler.errors import ReconcilerError
from reconciler.plan.model import Plan
from reconciler.plan.saved import SavedPlan, load_plan, looks_like_plan_file
from reconciler.render.formats import render_plan_as

# Options that choose what a plan does: a saved plan was made with its own, and runs as reviewed.
_PLANNING_OPTIONS = (("--target", lambda a: bool(a.target)), ("--no-destroy", lambda a: a.no_destroy),
                     ("--refresh=false", lambda a: not a.refresh))


def _saved_plan(args: argparse.Namespace) -> SavedPlan | None:
    """The saved plan `apply FILE` names; refused with an option that would plan differently.

    Read silently, `apply --refresh-only FILE` would send a normal saved plan's changes
    to HSS, and `apply --target x FILE` would run every change, not x's.
    """
    if len(args.paths) != 1 or not looks_like_plan_file(Path(args.paths[0])):
        return None
    source = args.paths[0]
    if args.refresh_only:
        raise ReconcilerError(f"--refresh-only: {source} is a saved plan, applied exactly as it was "
                              "planned: a plan saved with 'plan --refresh-only -out' records its drift with "
                              "plain 'apply FILE', and any other plan would change HSS. For a "
                              "refresh-only apply of the registry files run "
                              "'hss-reconciler apply --refresh-only PATH...'. Nothing was changed.")
    given = [name for name, test in _PLANNING_OPTIONS if test(args)]
    if given:
        raise ReconcilerError(f"{given[0]}: {source} is a saved plan, applied exactly as it was planned, so "
                              f"{given[0]} cannot change it; make a new plan with it ('hss-reconciler plan "
                              f"PATH... {given[0]} -out FILE'). Nothing was changed.")
    return load_plan(Path(source))


def _no_input(plan: Plan) -> bool:
    raise ReconcilerError("apply needs approval and --input=false forbids asking: pass --auto-approve, "
                          "or apply a reviewed plan file")


def run(args: argparse.Namespace, out: Output) -> int:
    saved = _saved_plan(args)
    where = options.workspace(args, saved.inputs.paths if saved else None,
                              state=saved.inputs.state_path if saved else None, operation="apply")
    with Session.open(where, options.connection(args), still_running(args.format, out)) as session:
        plan = session.saved_plan(saved, args.paths[0]) if saved else session.plan(options.plan(args))
        if args.format == "text":
            out.print(render_plan_as("text", plan, out.palette))
        signals = StopOnSignal(before_exit=session.release_lock)

        @contextmanager
        def interruptible() -> Iterator[threading.Event]:
            with signals:
                yield signals.stop

        def changes_done(plan: Plan, result: ApplyResult) -> None:
            signals.exit_if_interrupted(plan, result, session.store.location, out)

        say = out.print if args.format == "text" else out.info
        hooks = ApplyHooks(approve=None if saved or args.auto_approve else
                           applyview.confirm(out) if args.input else _no_input,
                           report=applyview.reporter(say, out), say=say, interruptible=interruptible,
                           changes_done=changes_done)
        outcome = apply(session, plan, options.apply(args), hooks)
    return applyview.report(outcome, args.format, args.wait_timeout, out)
