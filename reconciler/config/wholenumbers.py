"""Whole numbers in a registry file: what the schema's `integer` cannot refuse.

JSON Schema counts 1.0 as the integer 1 (so do fastjsonschema and jsonschema),
and schemas/registries.schema.json gives `password_version` no maximum. So YAML's
`version: 1.0` passed, and `password_version: 1.0` was stored in the state as
1.0, which the state reader then refuses as not an integer; a 400-digit
password_version was stored whole. Checked here, on a file the schema accepted,
so each value already has the schema's type (issue 19.8).
"""

from __future__ import annotations

from typing import Any

from reconciler.config.problems import Problem
from reconciler.config.yamldoc import YamlDocument

# The largest password_version: every JSON reader holds it exactly (a 32-bit integer), and
# nobody rotates a password two billion times. schemas/state.schema.json has the same bound.
MAX_PASSWORD_VERSION = 2**31 - 1


def whole_number_problems(doc: YamlDocument) -> list[Problem]:
    """Every `version` and `password_version` in `doc` that is not a plain, bounded whole number."""
    data: dict[str, Any] = doc.data
    problems: list[Problem] = []
    if isinstance(data["version"], float):
        problems.append(doc.problem(("version",), "must be 1, written without a fraction (1, not 1.0)"))
    for index, registry in enumerate(data["registries"]):
        path = ("registries", index, "password_version")
        value = registry.get("password_version")
        if isinstance(value, float):
            problems.append(doc.problem(path, "must be a whole number written without a fraction "
                                              f"(such as {int(value)}, not {value!r})"))
        elif isinstance(value, int) and value > MAX_PASSWORD_VERSION:
            digits = len(str(value))
            shown = str(value) if digits <= 24 else f"a {digits}-digit number"
            problems.append(doc.problem(path, f"must be at most {MAX_PASSWORD_VERSION}, got {shown}"))
    return problems
