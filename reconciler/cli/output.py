"""The only way the CLI writes: every line goes through the secret redactor, then the terminal sanitiser.

The sanitiser (reconciler.terminal.escape_hidden) shows every escape sequence,
control, bidi and invisible character as an escape, whatever text it is in:
a registry name, a file name, a lock holder, an HSS answer, an error message.
Our own colours must survive it, yet the renderers hand over text that is
already painted, with a user's text inside. So the palettes given out here
paint with a mark instead of ESC: a random token made once per run, which no
file, name or HSS answer can hold. `_emit` escapes everything the text holds,
then turns the marks, and only the marks, into ESC.
"""

from __future__ import annotations

import secrets
import sys
from typing import TextIO

from reconciler.render.colors import Palette, color_wanted
from reconciler.secrets import REDACTOR
from reconciler.terminal import escape_hidden

ESC = "\033"


def _token() -> str:
    """16 random private-use characters: not hidden, so the sanitiser leaves them alone, and no
    secret the redactor masks (a password, a PIN of digits) can be part of one."""
    return "".join(chr(0xE000 + secrets.randbelow(0x1900)) for _ in range(16))


_MARK = _token()  # stands for ESC in what our palettes paint
_SLOT = _token()  # where a palette's text goes, to split its codes around it


class _MarkedPalette(Palette):
    """Paints as Palette does, but with the mark where Palette writes ESC (for `_emit` to restore)."""

    def paint(self, text: str, color: str) -> str:
        if not self.enabled:
            return text
        before, after = super().paint(_SLOT, color).split(_SLOT)
        return before.replace(ESC, _MARK) + text + after.replace(ESC, _MARK)


def for_terminal(text: str) -> str:
    """What a stream receives for `text`: secrets masked, hidden characters escaped, our colours restored."""
    return escape_hidden(REDACTOR.redact(text)).replace(_MARK, ESC)


class Output:
    def __init__(self, stdout: TextIO | None = None, stderr: TextIO | None = None,
                 no_color: bool = False) -> None:
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.palette: Palette = _MarkedPalette(color_wanted(self.stdout, no_color))
        self.err_palette: Palette = _MarkedPalette(color_wanted(self.stderr, no_color))

    def print(self, text: str = "") -> None:
        self._emit(self.stdout, text)

    def prompt(self, text: str) -> None:
        """A question on stdout, the answer typed on the same line."""
        self.stdout.write(for_terminal(text))
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
        """The one place the CLI writes: every line passes the redactor, then the sanitiser."""
        stream.write(for_terminal(text) + "\n")
        stream.flush()
