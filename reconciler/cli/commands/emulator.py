"""`emulator`: a local HSS for tests, demos and CI (loopback only by default)."""

from __future__ import annotations

import argparse

from reconciler.cli.output import Output


def run(args: argparse.Namespace, out: Output) -> int:
    from reconciler.emulator import EmulatorServer
    from reconciler.emulator.cli_args import config_from_args

    server = EmulatorServer(config_from_args(args))
    out.print(f"HSS emulator listening on {server.url} (Ctrl-C to stop)")
    server.serve_forever()
    return 0
