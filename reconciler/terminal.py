"""The characters a terminal must never receive raw, and the one sanitiser that escapes them.

Registry names, file names, lock holders, HSS answers and the messages built
from them are not ours. Printed raw, an escape sequence can clear the screen,
move the cursor over earlier lines, set the window title or hide a link; a
carriage return overwrites a line; a bidi control (U+202E) shows a reviewer
text in another order; a zero-width space, soft hyphen or Hangul filler makes
two different names look the same.

`HIDDEN_RANGES` lists them: control characters (C0, DEL, C1), every format
character (category Cf: bidi controls, zero-width characters, the soft hyphen,
tags), the line and paragraph separators, the other default-ignorable code
points (invisible by definition: variation selectors, Hangul fillers, the
combining grapheme joiner), and surrogates (a file name that is not UTF-8
reaches Python as lone surrogates, which no stream can encode). The table is
the union over Unicode 14 to 16 (Python 3.11 to 3.14), so it does not shrink
with the Python that runs it; tests/unit/test_terminal_sanitiser.py checks it
against the running Python's Unicode data. `schemas/registries.schema.json`
refuses exactly these in `registry_name` (a test holds the two together).

`escape_hidden` is the sanitiser: the CLI's Output and its log handler pass
every line through it. A hidden character becomes its JSON escape (`\\u001b`,
`\\u202e`, `\\r`): plain to see in text, and the same value inside a JSON
string, so `--format json` stays valid and decodes to what it held. Newline and
tab are kept: they are the layout of our own output. Backslashes are not
doubled, so a name holding the six characters `\\u202e` prints as one holding
U+202E would; either way nothing invisible reaches the screen.
"""

from __future__ import annotations

import bisect
import json
import re

# (first, last) code points, inclusive, in order.
HIDDEN_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x001F),  # C0 controls: ESC starts every terminal escape sequence
    (0x007F, 0x009F),  # DEL and the C1 controls (U+009B is a one-character CSI)
    (0x00AD, 0x00AD),  # soft hyphen
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x0600, 0x0605),  # Arabic number signs (Cf)
    (0x061C, 0x061C),  # Arabic letter mark (bidi)
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x115F, 0x1160),  # Hangul fillers
    (0x17B4, 0x17B5),  # Khmer inherent vowels (default ignorable)
    (0x180B, 0x180F),  # Mongolian variation selectors and vowel separator
    (0x200B, 0x200F),  # zero-width space, non-joiner, joiner; left-to-right and right-to-left marks
    (0x2028, 0x202E),  # line and paragraph separators; bidi embeddings and overrides (U+202E)
    (0x2060, 0x206F),  # word joiner, invisible operators, bidi isolates, deprecated format characters
    (0x3164, 0x3164),  # Hangul filler
    (0xD800, 0xDFFF),  # surrogates
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFEFF, 0xFEFF),  # zero-width no-break space (byte order mark)
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
    (0xFFF0, 0xFFFB),  # unassigned default-ignorables; interlinear annotation controls
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),  # Egyptian hieroglyph format controls
    (0x1BCA0, 0x1BCA3),  # shorthand format controls
    (0x1D173, 0x1D17A),  # musical symbol format controls
    (0xE0000, 0xE0FFF),  # tags (invisible ASCII look-alikes) and variation selectors supplement
)
# Kept by the sanitiser: the layout of our own output. A registry name may not hold them.
LAYOUT = "\n\t"


def _class_item(first: int, last: int) -> str:
    def one(cp: int) -> str:
        return f"\\u{cp:04X}" if cp <= 0xFFFF else f"\\U{cp:08X}"

    return one(first) if first == last else f"{one(first)}-{one(last)}"


def hidden_class(ranges: tuple[tuple[int, int], ...] = HIDDEN_RANGES) -> str:
    """The ranges as a Python regular-expression character class, brackets included."""
    return "[" + "".join(_class_item(first, last) for first, last in ranges) + "]"


_FIRSTS = [first for first, _ in HIDDEN_RANGES]


def is_hidden(char: str) -> bool:
    """True for a character a terminal must not receive raw (newline and tab included)."""
    cp = ord(char)
    index = bisect.bisect_right(_FIRSTS, cp) - 1
    return index >= 0 and cp <= HIDDEN_RANGES[index][1]


def _without(ranges: tuple[tuple[int, int], ...], kept: str) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for first, last in ranges:
        start = first
        for cp in sorted(ord(c) for c in kept if first <= ord(c) <= last):
            if start < cp:
                out.append((start, cp - 1))
            start = cp + 1
        if start <= last:
            out.append((start, last))
    return tuple(out)


_TO_ESCAPE = re.compile(hidden_class(_without(HIDDEN_RANGES, LAYOUT)))


def escape_char(char: str) -> str:
    """One character as JSON writes it: `\\u202e`, `\\u001b`, `\\r` (an astral one as its surrogate pair)."""
    return json.dumps(char)[1:-1]


def escape_hidden(text: str) -> str:
    """The text with every hidden character but newline and tab shown as its escape."""
    return _TO_ESCAPE.sub(lambda match: escape_char(match.group()), text)


def describe_char(char: str) -> str:
    """'U+202E RIGHT-TO-LEFT OVERRIDE': a code point named in words, never shown raw."""
    import unicodedata

    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X} {name}" if name else f"U+{ord(char):04X}"
