"""`demo`: the whole workflow on examples/quickstart against an in-process emulator.

It runs the same commands a user types, through the same entry point, so what
it prints is exactly what a user would see.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import tempfile
from pathlib import Path

from reconciler.cli.output import Output
from reconciler.config.warnings import PlainHttp
from reconciler.errors import ReconcilerError

DEMO_PASSWORDS = ("HARBOR_PROD_PASSWORD", "JFROG_PASSWORD")


def quickstart_dir() -> Path:
    """The example from a checkout; a wheel carries it as package data."""
    from importlib import resources

    packaged = resources.files("reconciler") / "examples" / "quickstart"
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[3] / "examples" / "quickstart"
    if checkout.is_dir():
        return checkout
    raise ReconcilerError("examples/quickstart was not found next to the package")


class _NotOurEmulator(logging.Filter):
    """Drops the plain-http-on-loopback warning about the emulator the demo itself started.

    The demo knows what it started, so that warning would only be noise in every
    step; a user's own run against an http endpoint still gets it (engine/session.py
    logs it with the verdict attached, config/warnings.py `PlainHttp`).
    """

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url

    def filter(self, record: logging.LogRecord) -> bool:
        verdict = getattr(record, "plain_http", None)
        return not (isinstance(verdict, PlainHttp) and verdict.loopback and verdict.shown == self.url)


def run(args: argparse.Namespace, out: Output) -> int:
    from reconciler.cli.main import main
    from reconciler.emulator import EmulatorConfig, EmulatorServer

    token = secrets.token_hex(16)
    server = EmulatorServer(EmulatorConfig(host="127.0.0.1", port=0, tokens={token}))
    server.start()
    saved = dict(os.environ)
    quiet = _NotOurEmulator(server.url)
    logging.getLogger("reconciler").addFilter(quiet)  # on the logger: each step sets up new handlers
    try:
        os.environ.update({"HSS_ENDPOINT": server.url, "HSS_AUTH_TOKEN": token})
        for name in DEMO_PASSWORDS:
            os.environ.setdefault(name, secrets.token_urlsafe(12))
        for name in ("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "CLOUD_SDK_AK", "CLOUD_SDK_SK"):
            os.environ.pop(name, None)
        workspace = str(quickstart_dir())
        with tempfile.TemporaryDirectory(prefix="hss-reconciler-demo-") as tmp:
            state = str(Path(tmp) / "hss-reconciler.state.json")
            steps = [
                ["validate", workspace, "--check-env"],
                ["plan", workspace, "--state", state],
                ["apply", workspace, "--state", state, "--auto-approve"],
                ["plan", workspace, "--state", state, "--detailed-exitcode"],
            ]
            out.print(f"HSS emulator running at {server.url}; workspace {workspace}\n")
            for step in steps:
                colour = ["--no-color"] if args.no_color else []
                out.print(out.palette.paint(f"$ hss-reconciler {' '.join(step)}", "bold"))
                code = main([*step, *colour])
                out.print("")
                if code not in (0,):
                    out.error(f"demo step 'hss-reconciler {step[0]}' exited {code}")
                    return 1
        out.print("Demo complete: the second plan found no changes.")
        return 0
    finally:
        logging.getLogger("reconciler").removeFilter(quiet)
        os.environ.clear()
        os.environ.update(saved)
        server.stop()
