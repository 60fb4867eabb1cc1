"""State as data: one entry per managed registry, serial and lineage.

Lineage names one history of a state file; serial counts its writes. A saved
plan records both, so applying it against a different or newer state is refused.

`parse_state` checks a file against schemas/state.schema.json field by field
(typed checks from state/jsonshape.py, not jsonschema: see that module) and
refuses it naming the file and the field; it builds entries only from values
it has checked.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from reconciler import __version__
from reconciler.errors import StateError
from reconciler.registry import API_FIELDS, TargetKey, registry_address
from reconciler.state.jsonshape import ShapeError, Where, array, integer, kind, load_json, obj, string

STATE_FORMAT_VERSION = 1


@dataclass(frozen=True)
class StateEntry:
    target: TargetKey
    name: str
    registry_id: str | None  # None: the add was accepted but the id not found yet
    attributes: dict[str, str]
    password_version: int | None = None
    # The endpoint a registry file named for the target (never its user name or password), so a
    # plan still reaches the target once no file declares it; None: the region's endpoint.
    endpoint: str | None = None

    @property
    def address(self) -> str:
        return registry_address(self.target, self.name)

    def to_json(self) -> dict[str, Any]:
        target = self.target.to_json()
        if self.endpoint is not None:
            target["endpoint"] = self.endpoint
        return {
            "address": self.address,
            "target": target,
            "registry_name": self.name,
            "id": self.registry_id,
            "attributes": dict(sorted(self.attributes.items())),
            "password_version": self.password_version,
        }


@dataclass
class State:
    lineage: str = field(default_factory=lambda: str(uuid.uuid4()))
    serial: int = 0
    entries: dict[str, StateEntry] = field(default_factory=dict)  # by address
    _texts: dict[str, tuple[StateEntry, str]] = field(default_factory=dict, repr=False, compare=False)

    def put(self, entry: StateEntry) -> None:
        self.entries[entry.address] = entry

    def remove(self, address: str) -> None:
        self.entries.pop(address, None)

    def _head(self) -> dict[str, Any]:
        return {
            "version": STATE_FORMAT_VERSION,
            "serial": self.serial,
            "lineage": self.lineage,
            "tool_version": __version__,
        }

    def to_json(self) -> dict[str, Any]:
        return {**self._head(), "registries": [self.entries[a].to_json() for a in sorted(self.entries)]}

    def serialize(self) -> bytes:
        """The file's bytes: `json.dumps(to_json(), indent=2)`, built without re-encoding every entry.

        Apply checkpoints after every call; re-encoding a few hundred entries with
        the pure-Python indenting encoder each time made checkpoints grow with the
        state. Entries are frozen, so an entry's text never changes once made.
        """
        parts = [f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}"
                 for key, value in self._head().items()]
        texts = [self._entry_text(address, entry) for address, entry in sorted(self.entries.items())]
        registries = '  "registries": ' + ("[\n" + ",\n".join(texts) + "\n  ]" if texts else "[]")
        return ("{\n" + ",\n".join([*parts, registries]) + "\n}\n").encode("utf-8")

    def _entry_text(self, address: str, entry: StateEntry) -> str:
        # Keyed by the address the entries dict already holds: building it again
        # from the entry would format every address on every checkpoint.
        cached = self._texts.get(address)
        if cached is not None and cached[0] is entry:
            return cached[1]
        text = "    " + json.dumps(entry.to_json(), indent=2, ensure_ascii=False).replace("\n", "\n    ")
        self._texts[address] = (entry, text)
        return text


# A state file nests four levels: the file, its registries, an entry, an entry's target or attributes.
MAX_DEPTH = 4
# 10,000 registries take about 8 MB, and 25 MB with every field at its longest: 32 MiB holds
# either and parses in well under a second. A larger file is refused unread.
MAX_STATE_BYTES = 32 * 1024 * 1024

# The rules of schemas/state.schema.json (tests/unit/test_state_files.py holds them to it).
REGION = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*(?!\n)$")
PROJECT_ID = re.compile(r"^[\u0021-\u002E\u0030-\u007E]+(?!\n)$")
PRINTABLE_ASCII = re.compile(r"^[\u0021-\u007E]+(?!\n)$")
NO_CONTROL_CHARACTERS = re.compile(r"^[^\u0000-\u001F\u007F-\u009F]*(?!\n)$")
# A registry file's endpoint pattern (schemas/registries.schema.json) without its user@ part.
ENDPOINT = re.compile(r"^https?://(\[[^\s/?#@\[\]]+\]|[^\s/?#@:\[\]]+)"
                      r"(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?"
                      r"(/[^\s?#]*)?(?!\n)$")
MAX_ENDPOINT_LENGTH = 2048
STATE_FIELDS = ("version", "serial", "lineage", "registries")
ENTRY_FIELDS = ("address", "target", "registry_name", "id", "attributes", "password_version")
TARGET_FIELDS = ("region", "project_id", "enterprise_project_id")
# As config/wholenumbers.py bounds a registry file's password_version (the state holds what was applied).
MAX_PASSWORD_VERSION = 2**31 - 1


def parse_state(raw: bytes, source: str, backup: str | None = None) -> State:
    """Refuse anything we do not fully understand rather than risk overwriting it.

    A refusal names the file and the field, and the file is left as it is.
    `backup` is where its backup is, if not beside `source` (a symlinked state).
    """
    try:
        return _parse(raw)
    except ShapeError as exc:
        if exc.path == "":
            raise StateError(f"{source}: state file is {exc.message}; it was left untouched. "
                             f"Restore {backup or source + '.backup'} or move the file away.") from None
        raise StateError(f"{source}: {exc.path}: {exc.message} (the state file is malformed; "
                         "it was left untouched)") from None
    except _NotState as exc:
        raise StateError(f"{source}: {exc}") from None


class _NotState(Exception):
    """Not a state file at all, or one of a format this tool does not read: said in full."""


def _parse(raw: bytes) -> State:
    data = load_json(raw, MAX_DEPTH)
    if not isinstance(data, dict) or "version" not in data:
        got = "no 'version'" if isinstance(data, dict) else f"an object expected, got {kind(data)}"
        raise _NotState(f"not an hss-reconciler state file ({got}); it was left untouched")
    version = data["version"]
    # bool is an int subclass: {"version": true} is not a state file either.
    if type(version) is int and version > STATE_FORMAT_VERSION:
        raise _NotState(f"state format version {version} is newer than this hss-reconciler understands "
                        f"({STATE_FORMAT_VERSION}); upgrade the tool")
    if type(version) is not int or version != STATE_FORMAT_VERSION:
        shown = str(version) if type(version) is int else kind(version)
        raise _NotState(f"version: expected {STATE_FORMAT_VERSION}, got {shown}: not an hss-reconciler "
                        "state file, or a damaged one; it was left untouched")
    obj(data, (), STATE_FIELDS, ("tool_version",))
    lineage = string(data["lineage"], ("lineage",), min_length=1, max_length=128, pattern=PRINTABLE_ASCII,
                     like="1 to 128 printable ASCII characters without spaces, such as a UUID")
    state = State(lineage=lineage, serial=integer(data["serial"], ("serial",), minimum=0))
    if "tool_version" in data:
        string(data["tool_version"], ("tool_version",), max_length=256)
    entries = state.entries
    ids: dict[tuple[TargetKey, str], int] = {}
    for index, item in enumerate(array(data["registries"], ("registries",))):
        where = ("registries", index)
        entry, address = _entry(item, where)
        if address in entries:
            first = list(entries).index(address)
            raise ShapeError((*where, "address"), f"registries[{first}] has this address too: "
                                                  "one registry is recorded twice")
        if entry.registry_id is not None:
            other = ids.setdefault((entry.target, entry.registry_id), index)
            if other != index:
                raise ShapeError((*where, "id"), f"registries[{other}], in the same target, has this id too: "
                                                 "one HSS registry cannot be two")
        entries[address] = entry
    return state


def _entry(item: Any, where: Where) -> tuple[StateEntry, str]:
    """The checked entry, and its address."""
    obj(item, where, ENTRY_FIELDS)
    target = _target(item["target"], (*where, "target"))
    name = string(item["registry_name"], (*where, "registry_name"), min_length=1, max_length=128,
                  pattern=NO_CONTROL_CHARACTERS, like="a name without control characters")
    registry_id = string(item["id"], (*where, "id"), min_length=1, max_length=64, nullable=True)
    attributes = obj(item["attributes"], (*where, "attributes"), (), API_FIELDS)
    for key, value in attributes.items():
        if type(value) is not str or not value.isascii():  # the common case needs no call
            string(value, (*where, "attributes", key))
    password_version = integer(item["password_version"], (*where, "password_version"), minimum=0,
                               maximum=MAX_PASSWORD_VERSION, nullable=True)
    endpoint = _endpoint(item["target"], (*where, "target", "endpoint"))
    address = registry_address(target, name)
    if item["address"] != address:
        string(item["address"], (*where, "address"))
        raise ShapeError((*where, "address"), "does not match the entry's target and registry_name, "
                                              f"which make {json.dumps(address)}")
    return StateEntry(target, name, registry_id, dict(attributes), password_version, endpoint), address


def _endpoint(target: dict[str, Any], where: Where) -> str | None:
    """The recorded endpoint, if any; older states have none, and their targets use the region's."""
    if "endpoint" not in target:
        return None
    value: str = string(target["endpoint"], where, max_length=MAX_ENDPOINT_LENGTH, pattern=ENDPOINT,
                        like="an http or https URL without user, query or fragment")
    return value


def _target(value: Any, where: Where) -> TargetKey:
    obj(value, where, TARGET_FIELDS, ("endpoint",))
    return TargetKey(
        string(value["region"], (*where, "region"), min_length=1, max_length=64, pattern=REGION,
               like="a region name such as ap-southeast-1 (lower-case letters and digits joined by -)"),
        string(value["project_id"], (*where, "project_id"), min_length=1, max_length=256,
               pattern=PROJECT_ID, like="a project id such as 0b5f4c1e9d8a4e2b8c7a6d5e4f3a2b1c "
                                        "(printable ASCII, no spaces or /)"),
        string(value["enterprise_project_id"], (*where, "enterprise_project_id"), min_length=1,
               max_length=256))
