"""The environment variable an exported registry's password is read from.

HSS never returns a password, so `export` writes `{env: NAME}` for each
registry, and the user sets NAME. The name must be guessable from the
registry name alone, so a team can set the variables before reading the
files; the rule (README, "Adopting existing registries"):

1. the registry name, NFKD-normalised, non-ASCII dropped, upper-cased;
2. every run of characters other than A-Z and 0-9 becomes one `_`, and
   leading and trailing `_` go (`harbor-prod` -> `HARBOR_PROD`);
3. empty, or starting with a digit: `REGISTRY_` in front;
4. at most 100 characters, then `_PASSWORD` appended;
5. a name refused for registry passwords (secrets.refused_env_reason, such as
   `OS_PASSWORD` or a `HUAWEICLOUD_SDK_*` name), or one in the namespace of
   this tool's or Huawei Cloud's own variables (`HSS_`, `HUAWEICLOUD_`, `HW_`):
   `REGISTRY_` in front;
6. names taken twice in one export: the registry first in name order keeps
   it, the next ones get `_2`, `_3`, ... before `_PASSWORD`, skipping any
   name another registry gets from rule 1-5.

Registry names come from HSS, so whoever may add a registry there chooses
them: rule 5 keeps such a name from pointing the password of a registry
(whose address they also chose) at a credential in the CI environment, and
rule 6 costs one step per registry however the names collide.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from reconciler.secrets import refused_env_reason

SUFFIX = "_PASSWORD"
PREFIX = "REGISTRY_"
MAX_STEM = 100  # registry names are at most 128 characters; a variable name stays readable
_NOT_NAME = re.compile(r"[^A-Z0-9]+")
# Whole namespaces a future variable of hss-reconciler (HSS_ENDPOINT, HSS_STATE, ...) or of
# Huawei Cloud's tools (HUAWEICLOUD_SDK_*, the Terraform provider's HW_*) may take.
RESERVED_PREFIXES = ("HSS_", "HUAWEICLOUD_", "HW_")


def _stem(registry_name: str) -> str:
    ascii_only = unicodedata.normalize("NFKD", registry_name).encode("ascii", "ignore").decode("ascii")
    stem = _NOT_NAME.sub("_", ascii_only.upper()).strip("_")
    if not stem or stem[0].isdigit():
        stem = PREFIX + stem
    return stem[:MAX_STEM].rstrip("_")


def _finish(stem: str) -> str:
    name = stem + SUFFIX
    return PREFIX + name if refused_env_reason(name) or name.startswith(RESERVED_PREFIXES) else name


def password_variable(registry_name: str) -> str:
    """The variable rules 1-5 give `registry_name` (before collisions are resolved)."""
    return _finish(_stem(registry_name))


def password_variables(registry_names: Iterable[str]) -> dict[str, str]:
    """Each registry name's variable, unique among them (rule 6); registry names are distinct."""
    names = sorted(set(registry_names))
    wanted = {name: password_variable(name) for name in names}
    taken = set(wanted.values())  # a suffixed name never takes one that rules 1-5 give
    given: dict[str, str] = {}
    used: set[str] = set()
    next_number: dict[str, int] = {}  # stem -> the number to try next: every lower one is used
    for name in names:
        variable = wanted[name]
        if variable in used:
            stem = _stem(name)
            number = next_number.get(stem, 2)
            while (variable := _finish(f"{stem}_{number}")) in used or variable in taken:
                number += 1
            next_number[stem] = number + 1
        used.add(variable)
        given[name] = variable
    return given
