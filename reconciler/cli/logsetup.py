"""Logging to stderr, every record masked by the redactor, then escaped like all terminal output."""

from __future__ import annotations

import logging
import sys

from reconciler.secrets import RedactingFilter
from reconciler.terminal import escape_hidden


class SanitisingFormatter(logging.Formatter):
    """The formatted record (message, traceback and all) through the terminal sanitiser, as Output does."""

    def format(self, record: logging.LogRecord) -> str:
        return escape_hidden(super().format(record))


def configure_logging(level_name: str, verbosity: int) -> None:
    level = getattr(logging, level_name.upper())
    if verbosity:
        level = min(level, logging.INFO if verbosity == 1 else logging.DEBUG)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(SanitisingFormatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore"):  # they log full URLs, query strings included
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
