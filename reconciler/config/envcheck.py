"""`validate --check-env`: every secret reference resolves, without showing a value."""

from __future__ import annotations

from reconciler.config.model import Desired
from reconciler.config.problems import Problem
from reconciler.errors import ConfigError


def check_secret_references(desired: Desired) -> list[Problem]:
    problems: list[Problem] = []
    for registry in desired.registries.values():
        try:
            registry.password.resolve(registry.base_dir)
        except ConfigError as exc:
            where = registry.password_location
            problems.append(Problem(where.file, where.line, 0, f"{registry.name}.registry_password",
                                    str(exc)))
    return problems
