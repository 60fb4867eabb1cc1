"""`plan`: what apply would change. Writes nothing but the plan file asked for."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from reconciler.cli import options
from reconciler.cli.output import Output
from reconciler.cli.progress import still_running
from reconciler.cli.stepsummary import append_step_summary
from reconciler.engine.session import Session
from reconciler.errors import ReconcilerError
from reconciler.plan.saved import SavedPlan, check_plan_destination, save_plan
from reconciler.render.formats import render_plan_as


def _check_out(out: str, session: Session) -> None:
    if not out:
        raise ReconcilerError("-out: needs a file name")
    protected = {path: "a registry file this plan reads" for path in session.desired.files}
    protected |= session.store.local_files()  # the state file and its lock; none for a shared store
    check_plan_destination(Path(out), protected)


def run(args: argparse.Namespace, out: Output) -> int:
    plan_options = options.plan(args)
    with Session.open(options.workspace(args), options.connection(args),
                      still_running(args.format, out)) as session:
        if args.out is not None:
            _check_out(args.out, session)
        plan = session.plan(plan_options)
        out.print(render_plan_as(args.format, plan, out.palette))
        if args.out:
            save_plan(Path(args.out), SavedPlan(plan, session.plan_inputs(tuple(args.paths), plan_options)))
    if args.out:
        what = "record exactly this drift in the state" if plan_options.refresh_only else \
            "perform exactly these actions"
        note = (f"Saved the plan to: {args.out}\n\nTo {what}, run:\n"
                f"    hss-reconciler apply {shlex.quote(args.out)}")
        if args.format == "text":
            out.print("\n" + note)
        else:
            out.info(note)
    append_step_summary(plan, out)
    return 2 if args.detailed_exitcode and plan.has_changes else 0
