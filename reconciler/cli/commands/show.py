"""`show`: the managed registries with their HSS access status, or a saved plan file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from reconciler.cli.output import Output
from reconciler.cli.workspace import open_workspace, workspace_clients
from reconciler.plan.saved import load_plan, looks_like_plan_file
from reconciler.render.formats import render_plan_as
from reconciler.render.managed import (
    managed_view,
    render_managed_json,
    render_managed_markdown,
    render_managed_text,
)


def run(args: argparse.Namespace, out: Output) -> int:
    if len(args.paths) == 1 and looks_like_plan_file(Path(args.paths[0])):
        saved = load_plan(Path(args.paths[0]))
        out.print(render_plan_as(args.format, saved.plan, out.palette, {"inputs": saved.inputs.to_json()},
                                 plan_file=args.paths[0]))
        return 0
    workspace = open_workspace(args.paths, args.state)
    live: dict[str, dict[str, Any]] | None = None
    if args.refresh and workspace.state.entries:
        from reconciler.refresh import refresh

        with workspace_clients(workspace, args) as clients:
            pages = refresh(clients)
        live = {str(item.get("id")): item for items in pages.values() for item in items}
    view = managed_view(workspace.state, live)
    if args.format == "json":
        out.print(render_managed_json(view))
    elif args.format == "markdown":
        out.print(render_managed_markdown(view))
    else:
        out.print(render_managed_text(view, out.palette))
    return 0
