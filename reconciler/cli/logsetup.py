"""Logging to stderr, every record masked by the redactor."""

from __future__ import annotations

import logging
import sys

from reconciler.secrets import RedactingFilter


def configure_logging(level_name: str, verbosity: int) -> None:
    level = getattr(logging, level_name.upper())
    if verbosity:
        level = min(level, logging.INFO if verbosity == 1 else logging.DEBUG)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore"):  # they log full URLs, query strings included
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
