"""`export`: write a registry file for what a target already has in HSS, and say what to set."""

from __future__ import annotations

import argparse
from pathlib import Path

from reconciler.cli import options
from reconciler.cli.output import Output
from reconciler.engine.exporting import ExportRequest, ExportResult, export
from reconciler.errors import ReconcilerError
from reconciler.fmt import format_text
from reconciler.registry import TargetKey


def _request(args: argparse.Namespace) -> ExportRequest:
    if not args.out:  # Path("") is the current directory: an unset $OUT must not write there
        raise ReconcilerError("--out: needs a directory name, not an empty value")
    return ExportRequest(TargetKey(args.region, args.project_id, args.enterprise_project_id),
                         Path(args.out), endpoint=args.endpoint,
                         state=args.state or None, overwrite=args.overwrite)


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def render(result: ExportResult, out: Output) -> None:
    for name, why in sorted(result.left_out.items()):
        out.warn(f"registry {name!r} left out: {why}")
    managed = f" ({_plural(result.managed, 'registry', 'registries')} left out: already in the state)" \
        if result.managed else ""
    if not result.written:
        out.print(f"Nothing to export: no registry in HSS to declare{managed}. No file was written.")
        return
    out.print(f"Wrote {result.path}: {_plural(len(result.registries), 'registry', 'registries')}{managed}.")
    out.print("\nHSS never returns passwords. Set these variables (each registry's password) "
              "before plan and apply:")
    width = max(len(r.variable) for r in result.registries)
    for exported in result.registries:
        out.print(f"  {exported.variable.ljust(width)}  # {exported.address}")
    out.print(f"\nThen 'hss-reconciler plan {result.path.parent}' shows each registry as adopted (<=).")


def run(args: argparse.Namespace, out: Output) -> int:
    result = export(_request(args), options.connection(args), format_text)
    render(result, out)
    return 0
