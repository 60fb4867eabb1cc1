"""`upload-command NAME`: the scan component upload commands of an `Other` registry, on demand."""

from __future__ import annotations

import argparse

from reconciler.cli import options
from reconciler.cli.output import Output
from reconciler.engine.session import Session
from reconciler.engine.single import upload_commands
from reconciler.render.results import render_outputs


def run(args: argparse.Namespace, out: Output) -> int:
    with Session.open(options.workspace(args), options.connection(args)) as session:
        outputs = upload_commands(session, args.name)
    out.print(render_outputs(outputs))
    return 0
