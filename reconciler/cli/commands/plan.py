"""`plan`: what apply would change. Never writes anything."""

from __future__ import annotations

import argparse

from reconciler.cli.output import Output
from reconciler.cli.workspace import Workspace, hss_clients, open_workspace
from reconciler.plan.diff import PlanOptions, make_plan
from reconciler.plan.model import Plan
from reconciler.render.text import render_plan


def compute_plan(workspace: Workspace, args: argparse.Namespace) -> Plan:
    """Refresh (unless told not to) and diff; shared by plan and apply."""
    options = PlanOptions(destroy=not args.no_destroy, only=tuple(args.target or ()))
    if not args.refresh:
        return make_plan(workspace.desired, workspace.state, None, options)
    from reconciler.refresh import refresh

    with hss_clients(workspace.targets(), ca_bundle=args.ca_bundle, insecure=args.insecure,
                     parallelism=args.parallelism) as clients:
        live = refresh(clients, args.parallelism)
    return make_plan(workspace.desired, workspace.state, live, options)


def run(args: argparse.Namespace, out: Output) -> int:
    workspace = open_workspace(args.paths, args.state)
    plan = compute_plan(workspace, args)
    out.print(render_plan(plan, out.palette))
    if args.detailed_exitcode and plan.has_changes:
        return 2
    return 0
