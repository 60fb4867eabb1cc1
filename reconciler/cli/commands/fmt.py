"""`fmt [--check] [PATH...]`: registry files in the canonical layout, comments kept.

Every file is read and formatted before any is written, so an invalid file
anywhere means nothing is written anywhere. Like `terraform fmt`, it prints
the files it rewrote (or, with --check, the files it would rewrite).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from reconciler.cli.output import Output
from reconciler.config.problems import ConfigProblems
from reconciler.config.workspace import find_files
from reconciler.fmt import FormatResult, format_file
from reconciler.fmt.format import write_atomically


def run(args: argparse.Namespace, out: Output) -> int:
    paths = [Path(p) for p in args.paths] or [Path(".")]
    results: list[FormatResult] = []
    problems = []
    for path in find_files(paths):
        try:
            results.append(format_file(path))
        except ConfigProblems as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigProblems(problems)
    unformatted = [r for r in results if r.changed]
    for result in unformatted:
        if not args.check:
            write_atomically(result.path, result.formatted)
        out.print(str(result.path))
    if args.check and unformatted:
        count = len(unformatted)
        shown = " ".join(args.paths) or "."
        out.error(f"{count} file{'s' if count != 1 else ''} not in the canonical layout; "
                  f"run 'hss-reconciler fmt {shown}' to rewrite {'them' if count != 1 else 'it'}")
        return 1
    return 0
