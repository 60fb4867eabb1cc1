"""`fmt`: being built (see the open issues)."""

from __future__ import annotations

import argparse

from reconciler.cli.output import Output
from reconciler.errors import ReconcilerError


def run(args: argparse.Namespace, out: Output) -> int:
    raise ReconcilerError("'fmt' is not available yet")
