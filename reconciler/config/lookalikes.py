"""Registry names that read the same: one skeleton per name, compared within a target.

Two declared names that a reviewer cannot tell apart are as dangerous as one
name declared twice: a pull request that adds `h\\u0430rbor` (a Cyrillic a)
beside `harbor` looks like a no-op, yet plans a second registry, and either
one may be the one a later change edits. So names are compared by a skeleton,
after UTS #39's idea:

1. NFKD, then the hidden characters (reconciler.terminal: zero-width, bidi,
   soft hyphen, ...) dropped: `caf\\u00e9` and `cafe\\u0301`, fullwidth
   `\\uff48arbor` and `harbor`, `harbor\\u200b` and `harbor` meet (the
   schema refuses hidden characters in a name first; the skeleton does not
   rely on it);
2. the Cyrillic, Greek and Armenian letters (and a few Latin variants) that
   look like Latin letters mapped to them (HOMOGLYPHS below, a small hand
   table of the common ones; Unicode's full confusables.txt is not in the
   standard library, and the libraries that ship it load megabytes at start);
3. NFKC, so a mapped letter and a combining mark compose again.

Case is kept: the HSS API documents no case rule for registry_name, the
emulator compares names exactly, and `Prod` and `prod` are visibly different.
"""

from __future__ import annotations

import json
import unicodedata

from reconciler.terminal import describe_char, is_hidden

# A look-alike letter, by its Unicode name -> the Latin letter it is read as.
_READ_AS: dict[str, str] = {
    "CYRILLIC SMALL LETTER A": "a",
    "CYRILLIC SMALL LETTER ES": "c",
    "CYRILLIC SMALL LETTER KOMI DE": "d",
    "CYRILLIC SMALL LETTER IE": "e",
    "CYRILLIC SMALL LETTER SHHA": "h",
    "CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I": "i",
    "CYRILLIC SMALL LETTER JE": "j",
    "CYRILLIC SMALL LETTER PALOCHKA": "l",
    "CYRILLIC SMALL LETTER PE": "n",
    "CYRILLIC SMALL LETTER O": "o",
    "CYRILLIC SMALL LETTER ER": "p",
    "CYRILLIC SMALL LETTER QA": "q",
    "CYRILLIC SMALL LETTER GHE": "r",
    "CYRILLIC SMALL LETTER DZE": "s",
    "CYRILLIC SMALL LETTER IZHITSA": "v",
    "CYRILLIC SMALL LETTER WE": "w",
    "CYRILLIC SMALL LETTER HA": "x",
    "CYRILLIC SMALL LETTER U": "y",
    "CYRILLIC CAPITAL LETTER A": "A",
    "CYRILLIC CAPITAL LETTER VE": "B",
    "CYRILLIC CAPITAL LETTER ES": "C",
    "CYRILLIC CAPITAL LETTER IE": "E",
    "CYRILLIC CAPITAL LETTER EN": "H",
    "CYRILLIC CAPITAL LETTER BYELORUSSIAN-UKRAINIAN I": "I",
    "CYRILLIC LETTER PALOCHKA": "I",
    "CYRILLIC CAPITAL LETTER JE": "J",
    "CYRILLIC CAPITAL LETTER KA": "K",
    "CYRILLIC CAPITAL LETTER EM": "M",
    "CYRILLIC CAPITAL LETTER O": "O",
    "CYRILLIC CAPITAL LETTER ER": "P",
    "CYRILLIC CAPITAL LETTER QA": "Q",
    "CYRILLIC CAPITAL LETTER DZE": "S",
    "CYRILLIC CAPITAL LETTER TE": "T",
    "CYRILLIC CAPITAL LETTER U": "Y",
    "CYRILLIC CAPITAL LETTER STRAIGHT U": "Y",
    "CYRILLIC CAPITAL LETTER WE": "W",
    "CYRILLIC CAPITAL LETTER HA": "X",
    "GREEK SMALL LETTER ALPHA": "a",
    "GREEK SMALL LETTER GAMMA": "y",
    "GREEK SMALL LETTER IOTA": "i",
    "GREEK SMALL LETTER NU": "v",
    "GREEK SMALL LETTER OMICRON": "o",
    "GREEK SMALL LETTER RHO": "p",
    "GREEK SMALL LETTER UPSILON": "u",
    "GREEK SMALL LETTER CHI": "x",
    "GREEK CAPITAL LETTER ALPHA": "A",
    "GREEK CAPITAL LETTER BETA": "B",
    "GREEK CAPITAL LETTER EPSILON": "E",
    "GREEK CAPITAL LETTER ZETA": "Z",
    "GREEK CAPITAL LETTER ETA": "H",
    "GREEK CAPITAL LETTER IOTA": "I",
    "GREEK CAPITAL LETTER KAPPA": "K",
    "GREEK CAPITAL LETTER MU": "M",
    "GREEK CAPITAL LETTER NU": "N",
    "GREEK CAPITAL LETTER OMICRON": "O",
    "GREEK CAPITAL LETTER RHO": "P",
    "GREEK CAPITAL LETTER TAU": "T",
    "GREEK CAPITAL LETTER UPSILON": "Y",
    "GREEK CAPITAL LETTER CHI": "X",
    "ARMENIAN SMALL LETTER CO": "g",
    "ARMENIAN SMALL LETTER HO": "h",
    "ARMENIAN SMALL LETTER VO": "n",
    "ARMENIAN SMALL LETTER OH": "o",
    "ARMENIAN SMALL LETTER ZA": "q",
    "ARMENIAN SMALL LETTER SEH": "u",
    "LATIN SMALL LETTER ALPHA": "a",
    "LATIN SMALL LETTER SCRIPT G": "g",
    "LATIN SMALL LETTER DOTLESS I": "i",
    "LATIN SMALL LETTER IOTA": "i",
    "LATIN SMALL LETTER DOTLESS J": "j",
}
HOMOGLYPHS: dict[str, str] = {unicodedata.lookup(name): latin for name, latin in _READ_AS.items()}
_MAP = str.maketrans(HOMOGLYPHS)


def skeleton(name: str) -> str:
    """The form two names share when a reader cannot tell them apart (see the module doc)."""
    if name.isascii() and name.isprintable():
        return name  # the common case: ASCII is its own NFKD and NFKC, and maps to itself
    decomposed = unicodedata.normalize("NFKD", name)
    visible = "".join(char for char in decomposed if not is_hidden(char))
    return unicodedata.normalize("NFKC", visible.translate(_MAP))


def shown(name: str) -> str:
    """A name quoted with every non-ASCII character escaped, so two look-alikes show their difference."""
    return json.dumps(name)


def why_alike(name: str, other: str) -> str:
    """In words, why two different names with one skeleton read the same."""
    if unicodedata.normalize("NFKC", name) == unicodedata.normalize("NFKC", other):
        return "the same name after Unicode NFKC normalisation"
    hidden = sorted({c for c in unicodedata.normalize("NFKD", name + other) if is_hidden(c)})
    letters = sorted({c for c in unicodedata.normalize("NFKD", name + other) if c in HOMOGLYPHS})
    reasons = [f"{describe_char(c)} looks like {json.dumps(HOMOGLYPHS[c])}" for c in letters]
    reasons += [f"{describe_char(c)} is invisible" for c in hidden]
    return "a look-alike: " + ", ".join(reasons)
