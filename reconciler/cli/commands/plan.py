"""`plan`: what apply would change. Writes nothing but the plan file asked for."""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Mapping
from contextlib import nullcontext
from pathlib import Path

from reconciler.cli.output import Output
from reconciler.cli.stepsummary import append_step_summary
from reconciler.cli.workspace import Workspace, open_workspace, workspace_clients
from reconciler.config.model import TargetKey
from reconciler.errors import ReconcilerError
from reconciler.hss.client import HssClient
from reconciler.plan.diff import PlanOptions, make_plan, unmatched_selections
from reconciler.plan.model import Plan
from reconciler.plan.saved import PlanInputs, SavedPlan, check_plan_destination, config_digest, save_plan
from reconciler.render.formats import render_plan_as


def compute_plan(workspace: Workspace, args: argparse.Namespace,
                 clients: Mapping[TargetKey, HssClient] | None = None) -> Plan:
    """Refresh (unless told not to) and diff; shared by plan, apply and show.

    Apply passes the clients it will make its changes with, so the connections
    the refresh opened (TLS handshakes included) carry the changes too.
    """
    options = PlanOptions(destroy=not args.no_destroy, only=tuple(args.target or ()))
    unmatched = unmatched_selections(options.only, workspace.desired, workspace.state)
    if unmatched:
        raise ReconcilerError(f"--target {unmatched[0]}: no declared or managed registry has this name "
                              "or address (see 'hss-reconciler state list')")
    if not args.refresh:
        return make_plan(workspace.desired, workspace.state, None, options)
    from reconciler.refresh import refresh

    with nullcontext(clients) if clients is not None else workspace_clients(workspace, args) as readers:
        live = refresh(readers)
    return make_plan(workspace.desired, workspace.state, live, options)


def plan_inputs(workspace: Workspace, args: argparse.Namespace) -> PlanInputs:
    """What `apply FILE` must find unchanged; paths stay as typed, so CI checkouts can move."""
    existed = workspace.store.path.exists()
    return PlanInputs(paths=list(args.paths) or ["."], state_path=str(workspace.store.path),
                      lineage=workspace.state.lineage if existed else None,
                      serial=workspace.state.serial if existed else 0,
                      config_digest=config_digest(workspace.desired), destroy=not args.no_destroy,
                      only=list(args.target or ()), refreshed=args.refresh)


def _check_out(out: str, workspace: Workspace) -> None:
    from reconciler.state.lock import lock_path  # only -out needs it; a bare plan stays lean

    if not out:
        raise ReconcilerError("-out: needs a file name")
    state = workspace.store.path
    protected = {path: "a registry file this plan reads" for path in workspace.desired.files}
    protected |= {state: "the state file", lock_path(state): "the state's lock file"}
    check_plan_destination(Path(out), protected)


def run(args: argparse.Namespace, out: Output) -> int:
    workspace = open_workspace(args.paths, args.state)
    if args.out is not None:
        _check_out(args.out, workspace)
    plan = compute_plan(workspace, args)
    out.print(render_plan_as(args.format, plan, out.palette))
    if args.out:
        save_plan(Path(args.out), SavedPlan(plan, plan_inputs(workspace, args)))
        note = (f"Saved the plan to: {args.out}\n\nTo perform exactly these actions, run:\n"
                f"    hss-reconciler apply {shlex.quote(args.out)}")
        if args.format == "text":
            out.print("\n" + note)
        else:
            out.stderr.write(note + "\n")
    append_step_summary(plan, out)
    if args.detailed_exitcode and plan.has_changes:
        return 2
    return 0
