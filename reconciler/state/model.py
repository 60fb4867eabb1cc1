"""State as data: one entry per managed registry, serial and lineage.

Lineage names one history of a state file; serial counts its writes. A saved
plan records both, so applying it against a different or newer state is refused.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from reconciler import __version__
from reconciler.errors import StateError
from reconciler.registry import TargetKey, registry_address

STATE_FORMAT_VERSION = 1


@dataclass(frozen=True)
class StateEntry:
    target: TargetKey
    name: str
    registry_id: str | None  # None: the add was accepted but the id not found yet
    attributes: dict[str, str]
    password_version: int | None = None

    @property
    def address(self) -> str:
        return registry_address(self.target, self.name)

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "target": self.target.to_json(),
            "registry_name": self.name,
            "id": self.registry_id,
            "attributes": dict(sorted(self.attributes.items())),
            "password_version": self.password_version,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StateEntry:
        return cls(
            target=TargetKey.from_json(data["target"]),
            name=data["registry_name"],
            registry_id=data.get("id"),
            attributes=dict(data.get("attributes", {})),
            password_version=data.get("password_version"),
        )


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


def parse_state(raw: bytes, source: str) -> State:
    """Refuse anything we do not fully understand rather than risk overwriting it."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        where = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise StateError(f"{source}: state file is not valid JSON{where}; it was left untouched. "
                         f"Restore {source}.backup or move the file away.") from None
    version = data.get("version") if isinstance(data, dict) else None
    # bool is an int subclass: {"version": true} is not a state file either.
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise StateError(f"{source}: not an hss-reconciler state file (no 'version'); "
                         "it was left untouched")
    if version > STATE_FORMAT_VERSION:
        raise StateError(f"{source}: state format version {version} is newer than this "
                         f"hss-reconciler understands ({STATE_FORMAT_VERSION}); upgrade the tool")
    try:
        entries = [StateEntry.from_json(item) for item in data["registries"]]
        state = State(lineage=str(data["lineage"]), serial=int(data["serial"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise StateError(f"{source}: state file is malformed ({type(exc).__name__}: {exc}); "
                         "it was left untouched") from None
    for entry in entries:
        state.put(entry)
    return state
