"""Resolving secret references: all at once, every failure reported, no value shown."""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.config.model import Desired, DesiredRegistry
from reconciler.config.problems import ConfigProblems, Problem
from reconciler.errors import ConfigError
from reconciler.secrets import Secret


def resolve_passwords(registries: Iterable[DesiredRegistry]) -> dict[str, Secret]:
    """Passwords by registry address; raises every unresolvable reference together."""
    secrets: dict[str, Secret] = {}
    problems: list[Problem] = []
    for registry in registries:
        try:
            secrets[registry.address] = registry.password.resolve(registry.base_dir)
        except ConfigError as exc:
            problems.append(registry.password_location.problem(str(exc)))
    if problems:
        raise ConfigProblems(problems)
    return secrets


def check_secret_references(desired: Desired) -> None:
    """`validate --check-env`."""
    resolve_passwords(desired.registries.values())
