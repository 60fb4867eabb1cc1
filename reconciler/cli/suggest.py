"""Did-you-mean for usage errors: a mistyped option, command or choice gets the nearest real one.

Only the parser's error path imports this module (difflib costs every start
a little), and it only ever adds a hint to argparse's own message.
"""

from __future__ import annotations

import argparse
import difflib
import re
from collections.abc import Iterable

_INVALID_CHOICE = re.compile(r"invalid choice: '(?P<wrong>[^']*)' \(choose from (?P<choices>.*)\)")
_UNRECOGNIZED = re.compile(r"unrecognized arguments: (?P<words>.*)")


def nearest(wrong: str, known: Iterable[str]) -> str | None:
    """The one known word closest to `wrong`, if any is close enough to be a likely typo."""
    close = difflib.get_close_matches(wrong, sorted(set(known)), n=1)
    return close[0] if close else None


def option_strings(parser: argparse.ArgumentParser) -> list[str]:
    """Every long option `parser` accepts (short ones are too short to suggest well)."""
    return [option for action in parser._actions for option in action.option_strings
            if option.startswith("--") and option != "--help"]


def hint(message: str, parser: argparse.ArgumentParser) -> str:
    """`message` with a did-you-mean for the first wrong choice or option it names, if one is close."""
    invalid = _INVALID_CHOICE.search(message)
    if invalid:
        guess = nearest(invalid["wrong"], re.findall(r"[\w-]+", invalid["choices"]))
        return f"{message} (did you mean '{guess}'?)" if guess else message
    unrecognized = _UNRECOGNIZED.search(message)
    if unrecognized:
        known = option_strings(parser)
        for word in unrecognized["words"].split():
            name = word.partition("=")[0]
            if name.startswith("-"):
                guess = nearest("--" + name.lstrip("-").lower(), known)  # options are lower-case
                if guess:
                    return f"{message} (did you mean '{guess}'?)"
    return message
