"""Desired registries: what the YAML asks for, typed, with where it was said."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reconciler.config.problems import Problem
from reconciler.registry import (
    TargetKey,
    registry_address,
)
from reconciler.secrets import SecretRef


@dataclass(frozen=True)
class Location:
    file: str
    line: int
    column: int = 0
    path: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"

    def problem(self, message: str) -> Problem:
        return Problem(self.file, self.line, self.column, self.path, message)


@dataclass(frozen=True)
class DesiredRegistry:
    target: TargetKey
    name: str
    attributes: dict[str, str]  # API body fields except the password
    password: SecretRef
    password_version: int | None
    location: Location
    password_location: Location
    base_dir: Path  # where a {file: PATH} reference is resolved from
    # The endpoint a file names for the target, without user@, which the state records so a plan
    # can still reach the target once no file declares it (None: the region's endpoint).
    endpoint: str | None = None

    @property
    def address(self) -> str:
        return registry_address(self.target, self.name)


@dataclass
class TargetConfig:
    key: TargetKey
    endpoint: str
    files: list[str] = field(default_factory=list)
    # `credentials: {profile: NAME}`: a section of the profile file; None is the default chain.
    credentials_profile: str | None = None
    # The endpoint a file names (target.endpoint) and where, even when HSS_ENDPOINT overrides it:
    # validate checks what is committed (config/warnings.py). None: no file names one.
    named_endpoint: tuple[str, Location] | None = None


@dataclass
class Desired:
    """Every registry declared in a workspace, grouped by target."""

    targets: dict[TargetKey, TargetConfig] = field(default_factory=dict)
    registries: dict[str, DesiredRegistry] = field(default_factory=dict)  # by address
    files: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
