"""The registry rules: what a registry is made of, what names it, what forces its replacement.

Every other part asks here: the config reader (which fields a file may
hold), the planner (what to compare, what cannot change in place), apply
(what an UpdateRegistry body may carry), the renderers (which fields are
secret, in which order to show them) and the HSS client (the upload-command
fields). This is the bottom layer: it imports nothing from `reconciler`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# --- fields -------------------------------------------------------------------

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
# What ListRegistry reports back and a plan compares (the name is the identity, not an attribute).
COMPARED_FIELDS = tuple(f for f in API_FIELDS if f != "registry_name")
# Never shown, logged or written as a value: a file and a plan hold only a reference.
SECRET_FIELDS = frozenset({"registry_password"})
# ShowImageUploadCommand's answer, in the order outputs show it.
UPLOAD_COMMAND_FIELDS = ("image_command", "images_download_url", "swr_image_pull_command")

# --- what forces replacement ----------------------------------------------------

# A new value of these means delete, then add: UpdateRegistry cannot change them.
REPLACE_ON = ("registry_type",)
# What an UpdateRegistry body leaves out: the name (the identity) and REPLACE_ON.
NOT_UPDATABLE = ("registry_name", *REPLACE_ON)


def forcing_replacement(fields: tuple[str, ...]) -> tuple[str, ...]:
    """Those of the changed `fields` that need a delete and an add (empty: an update will do)."""
    return tuple(f for f in fields if f in REPLACE_ON)


# --- identity -------------------------------------------------------------------

DEFAULT_ENTERPRISE_PROJECT = "0"


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


# --- comparison -----------------------------------------------------------------

# One registry as ListRegistry returns it (id, status and the COMPARED_FIELDS among others).
LiveRegistry = dict[str, Any]


def comparable(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """The fields HSS reports back, normalised so equal registries compare equal.

    HSS returns `namespace` only for the `Other` channel, so a namespace given
    with `Swr` is not something a refresh can see or drift on.
    """
    fields = {f: attributes[f] for f in COMPARED_FIELDS if attributes.get(f) is not None}
    if fields.get("get_scan_image_channel") != "Other":
        fields.pop("namespace", None)
    return fields


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[str, ...]:
    """Field names whose values differ, in API order (deepdiff does the comparing)."""
    left, right = comparable(before), comparable(after)
    if left == right:  # the common case in a large no-op plan: skip deepdiff and its import
        return ()
    from deepdiff import DeepDiff

    diff = DeepDiff(left, right, view="tree")
    names: set[Any] = set()
    for level in (level for group in diff.values() for level in group):
        path = level.path(output_format="list")
        # Two mappings with no key in common come back as one change of the whole root.
        names |= {path[0]} if path else left.keys() | right.keys()
    return tuple(f for f in COMPARED_FIELDS if f in names)
