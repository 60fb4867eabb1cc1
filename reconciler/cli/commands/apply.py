"""`apply`: plan, confirm, then make HSS match, checkpointing the state as it goes."""

from __future__ import annotations

import argparse
import sys

from reconciler.apply.events import ApplyEvent, Phase
from reconciler.apply.executor import ApplyResult, apply_plan
from reconciler.cli.commands.plan import compute_plan
from reconciler.cli.output import Output
from reconciler.cli.workspace import hss_clients, open_workspace
from reconciler.errors import ReconcilerError
from reconciler.plan.model import Action
from reconciler.render.text import render_plan
from reconciler.state.checkpoint import Checkpointer

VERBS = {
    Action.CREATE: ("Creating", "Creation"),
    Action.UPDATE: ("Modifying", "Modifications"),
    Action.REPLACE: ("Replacing", "Replacement"),
    Action.DELETE: ("Destroying", "Destruction"),
    Action.ADOPT: ("Adopting", "Adoption"),
    Action.FORGET: ("Forgetting", "Forgetting"),
}


def _confirm(out: Output) -> bool:
    if not sys.stdin.isatty():
        raise ReconcilerError("apply needs approval: run it in a terminal, or pass --auto-approve")
    out.print("\nDo you want to perform these actions?\n"
              "  Only 'yes' will be accepted to approve.\n")
    out.stdout.write("  Enter a value: ")
    out.stdout.flush()
    return sys.stdin.readline().strip() == "yes"


def _reporter(out: Output) -> object:
    def report(event: ApplyEvent) -> None:
        doing, noun = VERBS[event.change.action]
        name = event.change.address
        if event.phase is Phase.STARTED:
            out.print(f"{name}: {doing}...")
        elif event.phase is Phase.STILL_RUNNING:
            out.print(f"{name}: Still {doing.lower()}... [{event.elapsed:.0f}s elapsed]")
        elif event.phase is Phase.DONE:
            ident = f" [id={event.registry_id}]" if event.registry_id else ""
            out.print(f"{name}: {noun} complete after {event.elapsed:.0f}s{ident}")
        else:
            out.error(f"{name}: {event.message}")
    return report


def summary(result: ApplyResult) -> str:
    imported = f"{result.imported} imported, " if result.imported else ""
    return (f"Resources: {imported}{result.added} added, {result.changed} changed, "
            f"{result.destroyed} destroyed.")


def run(args: argparse.Namespace, out: Output) -> int:
    workspace = open_workspace(args.paths, args.state)
    plan = compute_plan(workspace, args)
    out.print(render_plan(plan, out.palette))
    if not plan.has_changes:
        return 0
    if not args.auto_approve and not _confirm(out):
        out.print("\nApply cancelled.")
        return 1
    out.print("")
    checkpointer = Checkpointer(workspace.store, workspace.state)
    with hss_clients(workspace.targets(), ca_bundle=args.ca_bundle, insecure=args.insecure,
                     parallelism=args.parallelism) as clients:
        result = apply_plan(plan, workspace.desired, checkpointer, clients,
                            parallelism=args.parallelism, report=_reporter(out))  # type: ignore[arg-type]
    out.print("")
    if result.failed:
        out.error(f"Apply failed for {len(result.failed)} of {len(plan.changes)} changes. "
                  f"{summary(result)} The state records every change that succeeded; "
                  "fix the cause and run apply again.")
        return 1
    out.print(out.palette.paint(f"Apply complete! {summary(result)}", "green"))
    return 0
