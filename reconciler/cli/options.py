"""argparse's Namespace to the engine's typed options: the one place they meet."""

from __future__ import annotations

import argparse

from reconciler.engine.options import ApplyOptions, Connection, PlanOptions, WorkspaceOptions


def workspace(args: argparse.Namespace, paths: list[str] | None = None, *, state: str | None = None,
              operation: str | None = None) -> WorkspaceOptions:
    """`operation` given: the run writes the state, so it takes the lock (waiting --lock-timeout)."""
    return WorkspaceOptions(paths=tuple(args.paths if paths is None else paths),
                            state=getattr(args, "state", None) or state,
                            lock_timeout=args.lock_timeout if operation else None,
                            operation=operation or "read")


def connection(args: argparse.Namespace) -> Connection:
    """Every command that calls HSS has --request-timeout (cli/main.py `_request_timeout_option`)."""
    parallelism: int = getattr(args, "parallelism", 1)  # commands about one registry have no option
    return Connection(ca_bundle=args.ca_bundle, insecure=args.insecure, parallelism=parallelism,
                      allow_http=args.allow_http, request_timeout=args.request_timeout)


def plan(args: argparse.Namespace) -> PlanOptions:
    return PlanOptions(refresh=args.refresh, targets=tuple(args.target or ()), destroy=not args.no_destroy,
                       refresh_only=getattr(args, "refresh_only", False))


def apply(args: argparse.Namespace) -> ApplyOptions:
    return ApplyOptions(plan=plan(args), force=args.force, wait=args.wait, wait_timeout=args.wait_timeout)
