"""`validate`: schema and semantic checks, no network and no credentials."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from reconciler.cli.output import Output
from reconciler.config.envcheck import check_secret_references
from reconciler.config.warnings import config_warnings
from reconciler.config.workspace import load_workspace


def run(args: argparse.Namespace, out: Output) -> int:
    desired = load_workspace([Path(p) for p in args.paths] or [Path(".")], os.environ)
    if args.check_env:
        check_secret_references(desired)
    for warning in config_warnings(desired):  # the warnings plan would give, from the files alone
        out.warn(warning)
    count, files = len(desired.registries), len(desired.files)
    out.print(f"Success! {count} registr{'y' if count == 1 else 'ies'} in {len(desired.targets)} "
              f"target{'s' if len(desired.targets) != 1 else ''} ({files} file{'s' if files != 1 else ''}) "
              "are valid.")
    return 0
