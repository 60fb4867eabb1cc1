"""ANSI colour, on only for a terminal and never when NO_COLOR is set."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TextIO

_CODES = {"green": "32", "yellow": "33", "red": "31", "cyan": "36", "bold": "1", "dim": "2"}


def color_wanted(stream: TextIO, no_color_flag: bool) -> bool:
    if no_color_flag or os.environ.get("NO_COLOR"):
        return False
    return hasattr(stream, "isatty") and stream.isatty()


@dataclass(frozen=True)
class Palette:
    enabled: bool = False

    def paint(self, text: str, color: str) -> str:
        return f"\033[{_CODES[color]}m{text}\033[0m" if self.enabled else text
