"""`import TARGET_FILE NAME ID`: take over one registry that already exists in HSS."""

from __future__ import annotations

import argparse

from reconciler.cli import options
from reconciler.cli.output import Output
from reconciler.engine.session import Session
from reconciler.engine.single import check_registry_id, import_registry


def run(args: argparse.Namespace, out: Output) -> int:
    check_registry_id(args.registry_id)  # before the lock is taken: a bad id changes nothing
    where = options.workspace(args, [args.target_file], operation="import")
    with Session.open(where, options.connection(args)) as session:
        address = import_registry(session, args.name, args.registry_id, args.target_file)
    out.print(out.palette.paint(f"{address}: Import complete [id={args.registry_id}]", "green"))
    out.print("Run 'hss-reconciler plan' to see what differs from the file.")
    return 0
