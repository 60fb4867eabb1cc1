"""Problems found in input files, collected so one run reports all of them."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.errors import ConfigError


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input, located as precisely as the input allows."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ConfigProblems(ConfigError):
    """Raised once, after every file was read, carrying every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        # The same node reached through two aliases reports the same problem twice.
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))


def format_path(path: tuple[str | int, ...]) -> str:
    """`registries[0].registry_name`: the form users see in editors and jq."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out
