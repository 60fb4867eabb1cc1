"""`validate`: schema and semantic checks, no network and no credentials."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from reconciler.cli.output import Output
from reconciler.config.envcheck import check_secret_references
from reconciler.config.model import Desired
from reconciler.config.problems import ConfigProblems, Problem
from reconciler.config.warnings import config_warnings, declared_endpoint_http
from reconciler.config.workspace import load_workspace


def workspaces_of(paths: list[Path]) -> list[Path]:
    """The directory each path is in (a directory stands for itself), each once, in order.

    pre-commit passes only the staged files; validated alone, a registry declared
    again in an unstaged file of the same directory passed (issue 19.6). Each
    directory is one workspace, as plan reads it, so two directories are checked apart.
    """
    found: dict[Path, None] = {}
    for path in paths:
        # A path that is not there stays itself, for the loader to refuse by name.
        found.setdefault(path.parent if path.exists() and not path.is_dir() else path, None)
    return list(found)


def _load(workspaces: list[list[Path]], check_env: bool, allow_http: bool) -> tuple[list[Desired], list[str]]:
    """Every workspace loaded, with the warnings plan would give from its files alone.

    The problems of all of them are raised together; among them, a `target.endpoint`
    plan would refuse as plain http (config/warnings.py, the rule plan applies).
    """
    loaded: list[Desired] = []
    warnings: list[str] = []
    problems: list[Problem] = []
    for paths in workspaces:
        try:
            desired = load_workspace(paths, os.environ)
            if check_env:
                check_secret_references(desired)
        except ConfigProblems as exc:
            problems.extend(exc.problems)
            continue
        endpoint_warnings, refused = declared_endpoint_http(desired, allow_http)
        problems.extend(refused)
        warnings.extend([*config_warnings(desired), *endpoint_warnings])
        loaded.append(desired)
    if problems:
        raise ConfigProblems(problems)
    return loaded, warnings


def run(args: argparse.Namespace, out: Output) -> int:
    paths = [Path(p) for p in args.paths] or [Path(".")]
    workspaces = [[d] for d in workspaces_of(paths)] if args.workspace_of else [paths]
    loaded, warnings = _load(workspaces, args.check_env, args.allow_http)
    for warning in warnings:
        out.warn(warning)
    count = sum(len(d.registries) for d in loaded)
    targets = sum(len(d.targets) for d in loaded)
    files = sum(len(d.files) for d in loaded)
    out.print(f"Success! The configuration is valid: {count} registr{'y' if count == 1 else 'ies'} in "
              f"{targets} target{'s' if targets != 1 else ''} ({files} file{'s' if files != 1 else ''}).")
    return 0
