"""The only way the CLI writes: every line goes through the secret redactor."""

from __future__ import annotations

import sys
from typing import TextIO

from reconciler.render.colors import Palette, color_wanted
from reconciler.secrets import REDACTOR


class Output:
    def __init__(self, stdout: TextIO | None = None, stderr: TextIO | None = None,
                 no_color: bool = False) -> None:
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.palette = Palette(color_wanted(self.stdout, no_color))
        self.err_palette = Palette(color_wanted(self.stderr, no_color))

    def print(self, text: str = "") -> None:
        self._emit(self.stdout, text)

    def prompt(self, text: str) -> None:
        """A question on stdout, the answer typed on the same line."""
        self.stdout.write(REDACTOR.redact(text))
        self.stdout.flush()

    def error(self, text: str) -> None:
        self._emit(self.stderr, self.err_palette.paint("Error: ", "red") + text)

    def info(self, text: str = "") -> None:
        """Progress for people, on stderr, so stdout stays one clean document under --format json."""
        self._emit(self.stderr, text)

    def warn(self, text: str) -> None:
        self._emit(self.stderr, self.err_palette.paint("Warning: ", "yellow") + text)

    @staticmethod
    def _emit(stream: TextIO, text: str) -> None:
        """The one place the CLI writes: every line passes the redactor, whatever the stream."""
        stream.write(REDACTOR.redact(text) + "\n")
        stream.flush()
