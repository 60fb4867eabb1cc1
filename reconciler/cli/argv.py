"""Terraform's single-dash spellings, rewritten to ours before argparse sees the command line.

Terraform users type `-auto-approve`, `-target=x`, `-refresh=false`. argparse
would read `-target` as a cluster of one-letter flags, or refuse it, so the
rewrite happens here, from one table, and argparse only ever sees our own
spellings: its help, its errors and its did-you-mean stay about them. A
Terraform option this tool has no counterpart for (`-var`) is refused by name,
with what to do instead. `-out` needs no entry: the parser knows it.

Only whole option words are rewritten (`-target`, `-target=x`), never a value
that merely starts with a dash, nor anything after `--`.

A word that starts with a dash look-alike (`—target=x`, an em dash that a word
processor or a web page made of `--`) is refused with the option it would be:
argparse would take it for a PATH and plan a directory nobody named.
"""

from __future__ import annotations

from collections.abc import Sequence

# Terraform's spelling -> ours. A value given with `=` is kept (`-refresh=false` -> `--refresh=false`).
TERRAFORM_SPELLINGS: dict[str, str] = {
    "-auto-approve": "--auto-approve",
    "-target": "--target",
    "-refresh": "--refresh",
    "-refresh-only": "--refresh-only",
    "-parallelism": "--parallelism",
    "-detailed-exitcode": "--detailed-exitcode",
    "-lock": "--lock",
    "-lock-timeout": "--lock-timeout",
    "-input": "--input",
    "-no-color": "--no-color",
    "-state": "--state",
    "-check": "--check",  # terraform fmt -check
    "-json": "--format=json",  # terraform plan/show -json (ours prints one document, not a stream)
    "-help": "--help",
    "-version": "--version",
}

_NO_VARIABLES = ("hss-reconciler has no input variables: registry passwords come from {env: NAME} or "
                 "{file: PATH} in the registry files, credentials from the environment (see --help)")
# Terraform options with no counterpart here, in either spelling: refused with what to do instead.
REFUSED: dict[str, str] = {
    "var": _NO_VARIABLES,
    "var-file": _NO_VARIABLES,
    "replace": "hss-reconciler replaces a registry only when a field HSS cannot update changes "
               "(registry_type); to re-create one, delete it from the files, apply, and add it back",
    "destroy": "hss-reconciler destroys what the registry files no longer declare: remove the "
               "registries from the files and apply",
}


# Characters that look like '-' (or that a typesetter makes of '--'): hyphen, non-breaking hyphen,
# figure dash, en dash, em dash, horizontal bar, minus sign, small and full-width hyphen-minus.
DASH_LOOKALIKES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"


class UsageError(ValueError):
    """A command line no parser could make sense of; the parser reports it as its own usage error."""


def rewrite(argv: Sequence[str]) -> list[str]:
    """`argv` with each Terraform spelling replaced by ours; UsageError for a refused option."""
    result: list[str] = []
    for position, word in enumerate(argv):
        if word == "--":
            return result + list(argv[position:])
        if word[:1] in DASH_LOOKALIKES and len(word) > 1:
            meant = "--" + word.lstrip("-" + DASH_LOOKALIKES)
            raise UsageError(f"{word}: starts with U+{ord(word[0]):04X}, which only looks like '-' (did you "
                             f"mean '{meant}'?); a PATH that starts so goes after '--', a value after '='")
        if not word.startswith("-") or word == "-":
            result.append(word)
            continue
        name, equals, value = word.partition("=")
        bare = name.lstrip("-")
        if bare in REFUSED and name in (f"-{bare}", f"--{bare}"):
            raise UsageError(f"{name}: {REFUSED[bare]}")
        ours = TERRAFORM_SPELLINGS.get(name)
        if ours is None or (equals and "=" in ours):
            result.append(word)
        else:
            result.append(ours + equals + value)
    return result
