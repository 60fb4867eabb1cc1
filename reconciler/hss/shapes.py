"""What an HSS answer must look like before anything is planned from it.

The shapes are the documented ones: RegistryInfo, ListRegistryResponse and
ImageUploadCommandResponse in schemas/hss-api.schema.json, which come from the
HSS API reference and the official SDK's models. They are repeated here as small
tables rather than read through jsonschema, which costs more start-up time than
a whole plan; tests/unit/test_hss_answers.py holds the tables to the schema.

Checked: every field's JSON type (null is taken as absent), and that each
registry has an ``id`` and a ``registry_name``, within their documented
lengths, since those name what the plan touches. Not checked here: fields the
tool does not know (kept as they are). Each check returns a problem in our
words, naming a field and a position but never a value (the server's text
could hold anything), or None.

Enumerations are not part of an answer's shape: a new HSS release may add a
status or a type, and refusing the whole answer would break every plan of
every workspace for one registry nobody here manages. So the planner asks
only about the registries it compares: a `registry_type` it does not know (or
none) stops the plan, naming the registry and the value, because comparing it
with the declared type would plan a replace; an unknown `status` is shown as
it is, with a warning (it decides nothing).
"""

from __future__ import annotations

from typing import Any

# RegistryInfo: each field's JSON type (str: "string", int: "integer").
REGISTRY_INFO_TYPES: dict[str, type] = {
    "id": str, "registry_name": str, "registry_type": str, "api_version": str, "protocol": str,
    "registry_addr": str, "registry_username": str, "namespace": str, "connect_cluster_id": str,
    "get_scan_image_channel": str, "status": str, "fail_reason": str, "images_num": int,
    "latest_sync_time": int,
}
# What names a registry, and its documented length: required in every item.
IDENTITY_LENGTHS: dict[str, tuple[int, int]] = {"id": (1, 64), "registry_name": (1, 128)}
# ImageUploadCommandResponse: every field a string.
UPLOAD_COMMAND_TYPES: dict[str, type] = {
    "image_command": str, "images_download_url": str, "swr_image_pull_command": str,
}
# The documented enumerations (schemas/hss-api.schema.json: listed_registry_type, status).
REGISTRY_TYPES = ("Harbor", "Jfrog", "SwrPrivate", "SwrShared", "SwrEnterprise", "Other")
STATUSES = ("success", "fail", "accessing")
_SHOWN = 40  # characters of an unknown value shown in a message (the terminal sanitiser runs after)
_TYPE_NAMES = {str: "a string", int: "a whole number", bool: "true or false", list: "a list",
               dict: "an object", float: "a number"}


def _type_name(value: Any) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _is(value: Any, expected: type) -> bool:
    # JSON true is not a number, although Python's bool is an int.
    return isinstance(value, expected) and not (expected is int and isinstance(value, bool))


def field_problems(item: dict[str, Any], types: dict[str, type]) -> str | None:
    """The first field of ``item`` whose value is not of its documented type (null is absent)."""
    for name, expected in types.items():
        value = item.get(name)
        if value is not None and not _is(value, expected):
            return f"{name!r} is {_type_name(value)}, not {_TYPE_NAMES[expected]}"
    return None


def registry_problem(item: Any) -> str | None:
    """What is wrong with one ListRegistry item, or None."""
    if not isinstance(item, dict):
        return f"it is {_type_name(item)}, not an object"
    for name, (shortest, longest) in IDENTITY_LENGTHS.items():
        value = item.get(name)
        if value is None:
            return f"{name!r} is missing"
        if isinstance(value, str) and not shortest <= len(value) <= longest:
            return f"{name!r} has {len(value)} characters, not {shortest} to {longest}"
    return field_problems(item, REGISTRY_INFO_TYPES)


def page_problem(body: Any, limit: int) -> str | None:
    """What is wrong with a ListRegistry answer as a whole (not its items), or None."""
    if not isinstance(body, dict):
        return "expected a JSON object with data_list and total_num"
    total, page = body.get("total_num"), body.get("data_list")
    if total is not None and (not _is(total, int) or total < 0):
        return "total_num is not a whole number of at least 0"
    if page is not None and not isinstance(page, list):
        return f"data_list is {_type_name(page)}, not a list"
    if page is not None and len(page) > limit:
        return f"data_list holds {len(page)} registries, more than the {limit} asked for"
    return None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def unknown_type(item: dict[str, Any]) -> str | None:
    """Why a listed registry's `registry_type` cannot be compared with a declared one, or None."""
    value = item.get("registry_type")
    if value in REGISTRY_TYPES:
        return None
    said = "no registry_type" if value is None else f"registry_type {_shown(value)}"
    return (f"HSS reports {said}, which this version of hss-reconciler does not know "
            f"({', '.join(REGISTRY_TYPES)})")


def unknown_status(item: dict[str, Any]) -> str | None:
    """A warning for a listed registry whose `status` is not a documented one, or None."""
    value = item.get("status")
    if value is None or value in STATUSES:
        return None
    return (f"HSS reports access status {_shown(value)}, which this version of hss-reconciler does "
            f"not know ({', '.join(STATUSES)}); shown as it is")
