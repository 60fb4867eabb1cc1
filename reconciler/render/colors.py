"""ANSI colour: whether to paint, and the palette that paints.

Whether, the first rule that applies deciding (the order Python 3.13's own
colour switch uses, and what `--help` and README say):

1. `--no-color`: off.
2. `NO_COLOR` set and not empty (no-color.org): off.
3. `FORCE_COLOR` or `CLICOLOR_FORCE` set to anything but "", "0" or "false": on, even
   when the output is not a terminal (CI logs that render ANSI).
4. `TERM=dumb`: off (a terminal that cannot show it).
5. Otherwise on exactly when the stream is a terminal.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TextIO

_CODES = {"green": "32", "yellow": "33", "red": "31", "cyan": "36", "bold": "1", "dim": "2"}
FORCE_VARIABLES = ("FORCE_COLOR", "CLICOLOR_FORCE")
_NOT_FORCING = ("", "0", "false")


def color_wanted(stream: TextIO, no_color_flag: bool, environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    if no_color_flag or env.get("NO_COLOR"):
        return False
    if any(env.get(name, "").strip().lower() not in _NOT_FORCING for name in FORCE_VARIABLES):
        return True
    if env.get("TERM") == "dumb":
        return False
    return hasattr(stream, "isatty") and stream.isatty()


@dataclass(frozen=True)
class Palette:
    enabled: bool = False

    def paint(self, text: str, color: str) -> str:
        return f"\033[{_CODES[color]}m{text}\033[0m" if self.enabled else text
