"""`show`: the managed registries with their HSS access status, or a saved plan file."""

from __future__ import annotations

import argparse
from pathlib import Path

from reconciler.cli import options
from reconciler.cli.output import Output
from reconciler.cli.progress import still_running
from reconciler.engine.session import Session
from reconciler.engine.single import live_by_id
from reconciler.plan.saved import load_plan, looks_like_plan_file
from reconciler.render.formats import render_managed_as, render_plan_as
from reconciler.render.managed import managed_view


def run(args: argparse.Namespace, out: Output) -> int:
    if len(args.paths) == 1 and looks_like_plan_file(Path(args.paths[0])):
        saved = load_plan(Path(args.paths[0]))
        out.print(render_plan_as(args.format, saved.plan, out.palette, {"inputs": saved.inputs.to_json()},
                                 plan_file=args.paths[0]))
        return 0
    with Session.open(options.workspace(args), options.connection(args),
                      still_running(args.format, out)) as session:
        live = live_by_id(session) if args.refresh else None
        view = managed_view(session.state, live)
    out.print(render_managed_as(args.format, view, out.palette))
    return 0
