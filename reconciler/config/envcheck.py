"""Resolving secret references: all at once, every failure reported, no value shown.

Both `validate --check-env` and apply (before its first call) come through here,
so what one refuses the other refuses too.
"""

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
            secret = registry.password.resolve(registry.base_dir)
        except ConfigError as exc:
            problems.append(registry.password_location.problem(str(exc)))
            continue
        refused = _not_a_password(secret)
        if refused:
            problems.append(registry.password_location.problem(f"{registry.password.describe()} {refused}"))
            continue
        secrets[registry.address] = secret
    if problems:
        raise ConfigProblems(problems)
    return secrets


def _not_a_password(secret: Secret) -> str | None:
    """Why a value that was read cannot be a registry password (None: it can); never shows it.

    A line break or a value of only spaces is how a variable set from a heredoc,
    a file with two trailing newlines or an empty template reads: sent, HSS stores a
    password nobody can log in with, and the first sign is a failed scan later.
    """
    value = secret.reveal()
    if "\n" in value or "\r" in value:
        return "holds a line break; a registry password is one line (check how it was set)"
    if not value.strip():
        return f"holds only white space ({len(value)} characters); set the registry's password"
    return None


def check_secret_references(desired: Desired) -> None:
    """`validate --check-env`."""
    resolve_passwords(desired.registries.values())
