"""`upload-command NAME`: the scan component upload commands of an `Other` registry, on demand."""

from __future__ import annotations

import argparse

from reconciler.apply.outputs import fetch_upload_commands, needs_upload_command
from reconciler.cli.names import resolve_address
from reconciler.cli.output import Output
from reconciler.cli.workspace import hss_clients, open_workspace
from reconciler.errors import ReconcilerError
from reconciler.render.results import render_outputs


def run(args: argparse.Namespace, out: Output) -> int:
    workspace = open_workspace(args.paths, None)
    address = resolve_address(args.name, workspace.desired.registries, "the registry files")
    registry = workspace.desired.registries[address]
    if not needs_upload_command(registry):
        raise ReconcilerError(f"{address}: get_scan_image_channel is "
                              f"{registry.attributes.get('get_scan_image_channel')}; upload commands exist "
                              "only for the Other channel")
    with hss_clients([workspace.desired.targets[registry.target]], ca_bundle=args.ca_bundle,
                     insecure=args.insecure, parallelism=1) as clients:
        outputs = fetch_upload_commands([registry], clients)
    if address in outputs.failures:
        raise ReconcilerError(f"{address}: {outputs.failures[address]}")
    out.print(render_outputs(outputs))
    return 0
