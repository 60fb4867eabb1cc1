"""`emulator`: a local HSS for tests, demos and CI (loopback only by default)."""

from __future__ import annotations

import argparse

from reconciler.cli.output import Output
from reconciler.errors import ReconcilerError


def run(args: argparse.Namespace, out: Output) -> int:
    from reconciler.emulator import EmulatorServer
    from reconciler.emulator.cli_args import config_from_args, option_message
    from reconciler.emulator.config import SettingError

    # Bad options and an unusable address are the user's to fix, not bugs: one line, exit 1.
    try:
        config = config_from_args(args)
    except SettingError as error:
        raise ReconcilerError(option_message(error, args)) from None
    try:
        server = EmulatorServer(config)
    except OSError as error:
        host = f"[{config.host}]" if ":" in config.host else config.host
        reason = error.strerror or str(error)  # "Address already in use", without "[Errno 98]"
        reason = reason[:1].lower() + reason[1:]
        raise ReconcilerError(f"cannot listen on {host}:{config.port}: {reason}") from None
    out.print(f"HSS emulator listening on {server.url} (Ctrl-C to stop)")
    server.serve_forever()
    return 0
