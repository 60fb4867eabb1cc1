"""Desired registries: what the YAML asks for, typed, with where it was said."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.config.problems import Problem
from reconciler.secrets import SecretRef

DEFAULT_ENTERPRISE_PROJECT = "0"
# Fields that UpdateRegistry cannot change: a new value means delete + create.
REPLACE_FIELDS = ("registry_name", "registry_type")
# Body fields, in the order the API documents them (the order plans show).
API_FIELDS = (
    "registry_name",
    "registry_type",
    "api_version",
    "protocol",
    "registry_addr",
    "registry_username",
    "namespace",
    "connect_cluster_id",
    "get_scan_image_channel",
)
_USERNAME_AT = API_FIELDS.index("registry_username") + 1
# A registry entry's keys as files and plans show them: the password reference
# and its version right after the user name they belong with.
FILE_FIELDS = (*API_FIELDS[:_USERNAME_AT], "registry_password", "password_version",
               *API_FIELDS[_USERNAME_AT:])


@dataclass(frozen=True, order=True)
class TargetKey:
    """Where registries live; part of every registry's identity."""

    region: str
    project_id: str
    enterprise_project_id: str = DEFAULT_ENTERPRISE_PROJECT

    def __str__(self) -> str:
        return f"{self.region}/{self.project_id}/{self.enterprise_project_id}"

    def to_json(self) -> dict[str, str]:
        return {
            "region": self.region,
            "project_id": self.project_id,
            "enterprise_project_id": self.enterprise_project_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TargetKey:
        return cls(data["region"], data["project_id"],
                   data.get("enterprise_project_id", DEFAULT_ENTERPRISE_PROJECT))


def registry_address(target: TargetKey, name: str) -> str:
    """The stable identity of a registry, as state and plans name it."""
    return f"{target}/{name}"


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

    @property
    def address(self) -> str:
        return registry_address(self.target, self.name)


@dataclass
class TargetConfig:
    key: TargetKey
    endpoint: str
    files: list[str] = field(default_factory=list)


@dataclass
class Desired:
    """Every registry declared in a workspace, grouped by target."""

    targets: dict[TargetKey, TargetConfig] = field(default_factory=dict)
    registries: dict[str, DesiredRegistry] = field(default_factory=dict)  # by address
    files: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
