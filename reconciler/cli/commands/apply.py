"""`apply`: plan (or load a saved plan), confirm, make HSS match, report outputs.

Under `--format text` everything goes to stdout as Terraform prints it. Under
json or markdown, stdout carries one document (plan, result, outputs) and the
progress lines go to stderr, so the document can be piped as is.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from reconciler.apply.events import ApplyEvent, Phase
from reconciler.apply.executor import ApplyResult, apply_plan
from reconciler.cli.commands.plan import compute_plan
from reconciler.cli.output import Output
from reconciler.cli.workspace import Workspace, open_workspace, workspace_clients
from reconciler.config.model import TargetKey
from reconciler.errors import ReconcilerError, StalePlanError
from reconciler.hss.client import HssClient
from reconciler.plan.model import Action, Plan
from reconciler.plan.saved import SavedPlan, config_digest, load_plan, looks_like_plan_file
from reconciler.render.formats import render_plan_as
from reconciler.render.results import render_apply_result, render_outputs, render_wait
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


def _reporter(say: Callable[[str], None], out: Output) -> Callable[[ApplyEvent], None]:
    def report(event: ApplyEvent) -> None:
        doing, noun = VERBS[event.change.action]
        name = event.change.address
        if event.phase is Phase.STARTED:
            say(f"{name}: {doing}...")
        elif event.phase is Phase.STILL_RUNNING:
            say(f"{name}: Still {doing.lower()}... [{event.elapsed:.0f}s elapsed]")
        elif event.phase is Phase.DONE:
            ident = f" [id={event.registry_id}]" if event.registry_id else ""
            say(f"{name}: {noun} complete after {event.elapsed:.0f}s{ident}")
        else:
            out.error(f"{name}: {event.message}")
    return report


def summary(result: ApplyResult) -> str:
    imported = f"{result.imported} imported, " if result.imported else ""
    return (f"Resources: {imported}{result.added} added, {result.changed} changed, "
            f"{result.destroyed} destroyed.")


def _saved_plan(args: argparse.Namespace) -> SavedPlan | None:
    if len(args.paths) == 1 and looks_like_plan_file(Path(args.paths[0])):
        return load_plan(Path(args.paths[0]))
    return None


def _still_current(saved: SavedPlan, workspace: Workspace, source: str) -> Plan:
    existed = workspace.store.path.exists()
    why = saved.stale_because(workspace.state.lineage if existed else None,
                              workspace.state.serial if existed else 0,
                              config_digest(workspace.desired))
    if why:
        raise StalePlanError(f"{source}: saved plan is stale: {why}. Nothing was changed; make a new "
                              f"plan with 'hss-reconciler plan -out {source}' and review it.")
    return saved.plan


def run(args: argparse.Namespace, out: Output) -> int:
    saved = _saved_plan(args)
    paths = saved.inputs.paths if saved else args.paths
    state_path = args.state or (saved.inputs.state_path if saved else None)
    with open_workspace(paths, state_path, lock_timeout=args.lock_timeout, operation="apply") as workspace:
        return _run(workspace, saved, args, out)


def _run(workspace: Workspace, saved: SavedPlan | None, args: argparse.Namespace, out: Output) -> int:
    if saved is None and args.refresh:
        # One set of clients for the refresh and the changes: the connections (and their TLS
        # sessions) opened to read HSS carry the changes too.
        with workspace_clients(workspace, args) as clients:
            return _make_changes(compute_plan(workspace, args, clients), workspace, saved, clients,
                                 args, out)
    # Nothing to read first: credentials are needed only if there is something to change.
    plan = _still_current(saved, workspace, args.paths[0]) if saved else compute_plan(workspace, args)
    return _make_changes(plan, workspace, saved, None, args, out)


def _make_changes(plan: Plan, workspace: Workspace, saved: SavedPlan | None,
                  clients: Mapping[TargetKey, HssClient] | None, args: argparse.Namespace,
                  out: Output) -> int:
    text = args.format == "text"
    say = out.print if text else out.info
    if text:
        out.print(render_plan_as("text", plan, out.palette))
    if not plan.has_changes:
        if not text:
            out.print(render_apply_result(args.format, plan, None, None, None))
        return 0
    if plan.unsafe and not args.force:
        raise ReconcilerError("refusing an unsafe plan: " + "; ".join(plan.unsafe_reasons)
                              .replace("; apply needs --force", "") + ". Check the plan; pass --force "
                              "if these deletions are intended.")
    if saved is None and not args.auto_approve and not _confirm(out):
        out.print("\nApply cancelled.")
        return 1
    say("")
    with nullcontext(clients) if clients is not None else workspace_clients(workspace, args) as writers:
        return _apply(plan, workspace, writers, args, out, say)


def _apply(plan: Plan, workspace: Workspace, clients: Mapping[TargetKey, HssClient],
           args: argparse.Namespace, out: Output, say: Callable[[str], None]) -> int:
    # One event stops new changes, whether a signal came or the state could not be written.
    stop = threading.Event()
    checkpointer = Checkpointer(workspace.store, workspace.state, stop=stop)
    from reconciler.cli.interrupts import StopOnSignal

    with StopOnSignal(stop, before_exit=workspace.close) as signals:
        result = apply_plan(plan, workspace.desired, checkpointer, clients, parallelism=args.parallelism,
                            report=_reporter(say, out), stop=signals.stop)
    signals.exit_if_interrupted(plan, result, workspace.store.path, out)
    after = _after_apply(plan, result, workspace, clients, args, say)
    return _finish(plan, result, after, args, out, say)


def _after_apply(plan: Plan, result: ApplyResult, workspace: Workspace, clients: Any,
                 args: argparse.Namespace, say: Callable[[str], None]) -> dict[str, Any]:
    """Upload commands for `Other` registries, then (with --wait) their access status."""
    from reconciler.apply.outputs import fetch_upload_commands

    touched = [workspace.desired.registries[c.address] for c in result.done
               if c.address in workspace.desired.registries and c.action is not Action.FORGET]
    after: dict[str, Any] = {"outputs": fetch_upload_commands(touched, clients), "wait": None}
    if args.wait and touched:
        from reconciler.apply.waiting import wait_for_access

        names: dict[Any, list[str]] = {}
        for registry in touched:
            names.setdefault(registry.target, []).append(registry.name)
        say(f"\nWaiting up to {args.wait_timeout:.0f}s for HSS to reach {len(touched)} "
            f"registr{'y' if len(touched) == 1 else 'ies'}...")
        after["wait"] = wait_for_access(clients, names, args.wait_timeout)
    return after


def _finish(plan: Plan, result: ApplyResult, after: dict[str, Any], args: argparse.Namespace,
            out: Output, say: Callable[[str], None]) -> int:
    outputs, waited = after["outputs"], after["wait"]
    problems = [f"Apply failed for {len(result.failed)} of {len(plan.changes)} changes. {summary(result)} "
                "The state records every change that succeeded; fix the cause and run apply again."
                ] if result.failed else []
    if waited is not None and not waited.ok:
        problems.append("HSS could not access every registry: " + "; ".join(
            [f"{s.address}: fail ({s.fail_reason or 'no reason given'})" for s in waited.failed]
            + [f"{a}: still accessing after {args.wait_timeout:.0f}s" for a in waited.timed_out]
            + [f"{a}: no longer in HSS" for a in waited.missing]))
    for address, reason in outputs.failures.items():
        out.warn(f"{address}: could not get the upload commands ({reason}); "
                 "run 'hss-reconciler upload-command NAME' later")
    if args.format == "text":
        if waited is not None:
            out.print(render_wait(waited, out.palette))
        if not problems:
            out.print("\n" + out.palette.paint(f"Apply complete! {summary(result)}", "green"))
        if outputs.commands:
            out.print("\n" + render_outputs(outputs))
    else:
        say("" if problems else f"Apply complete! {summary(result)}")
        out.print(render_apply_result(args.format, plan, result, outputs, waited))
    for problem in problems:
        out.error(problem)
    return 1 if problems else 0
