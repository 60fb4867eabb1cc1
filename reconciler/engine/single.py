"""Commands about one registry, or the state by hand: show, import, upload-command, state rm.

Each is one call that returns data; the CLI renders it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from reconciler.apply.idlookup import by_id
from reconciler.apply.outputs import UploadCommands, fetch_upload_commands, needs_upload_command
from reconciler.engine.names import resolve_address
from reconciler.engine.session import Session
from reconciler.engine.statefile import open_store
from reconciler.errors import ReconcilerError
from reconciler.registry import comparable
from reconciler.state.checkpoint import Checkpointer
from reconciler.state.model import State, StateEntry


def live_by_id(session: Session) -> dict[str, dict[str, Any]]:
    """Every registry HSS has in the session's targets, by id (for `show`'s access statuses)."""
    if not session.state.entries:
        return {}
    return {str(item.get("id")): item for items in session.refresh().values() for item in items}


def check_registry_id(registry_id: str) -> None:
    """Refuse, before anything is locked or sent, an id no HSS registry can have.

    RegistryInfo ids are 1-64 characters (hss/shapes.py); an empty one, or one with a
    space or a control character, is a slip of the shell or of copy and paste, and was
    sent to HSS as a listing query that could only find nothing.
    """
    plain = registry_id.isprintable() and not any(c.isspace() for c in registry_id)
    if plain and 1 <= len(registry_id) <= 64:
        return
    shown = json.dumps(registry_id[:64]) + ("..." if len(registry_id) > 64 else "")
    raise ReconcilerError(f"ID {shown}: an HSS registry id is 1 to 64 characters without spaces or "
                          "control characters (see the HSS console, or 'hss-reconciler show'); "
                          "nothing was sent")


def import_registry(session: Session, name: str, registry_id: str, declared_in: str) -> str:
    """Record an existing HSS registry as managed; the entry holds what HSS has now, so the
    next plan shows exactly what apply will change (as Terraform does after an import)."""
    check_registry_id(registry_id)
    address = resolve_address(name, session.desired.registries, declared_in)
    registry = session.desired.registries[address]
    known = session.state.entries.get(address)
    if known is not None:
        raise ReconcilerError(f"{address}: already managed (id {known.registry_id}); to import another "
                              "registry under this name, run 'hss-reconciler state rm' first")
    client = session.clients([session.desired.targets[registry.target]])[registry.target]
    live = by_id(client, registry_id)
    if live is None:
        raise ReconcilerError(f"{registry_id}: no registry with this id in {registry.target}")
    if live.get("registry_name") != registry.name:
        raise ReconcilerError(f"{registry_id}: this registry is named {live.get('registry_name')!r} "
                              f"in HSS, not {registry.name!r}; HSS cannot rename a registry, so declare it "
                              "under its HSS name to import it")
    attributes = {"registry_name": registry.name, **{k: str(v) for k, v in comparable(live).items()}}
    entry = StateEntry(registry.target, registry.name, registry_id, attributes, endpoint=registry.endpoint)
    Checkpointer(session.store, session.state).commit(lambda s: s.put(entry))
    return address


def upload_commands(session: Session, name: str) -> UploadCommands:
    """ShowImageUploadCommand for one declared `Other` registry."""
    address = resolve_address(name, session.desired.registries, "the registry files")
    registry = session.desired.registries[address]
    if not needs_upload_command(registry):
        raise ReconcilerError(f"{address}: get_scan_image_channel is "
                              f"{registry.attributes.get('get_scan_image_channel')}; upload commands exist "
                              "only for the Other channel")
    clients = session.clients([session.desired.targets[registry.target]])
    outputs = fetch_upload_commands([registry], clients)
    if address in outputs.failures:
        raise ReconcilerError(f"{address}: {outputs.failures[address]}")
    return outputs


@dataclass(frozen=True)
class StateFile:
    """The state by hand, without registry files: `state list | show | rm`."""

    location: str  # a path, or a shared store's URL (engine/locate.py chose it)

    def load(self) -> State:
        store = open_store(self.location)
        try:
            return store.load()
        finally:
            store.close()

    def entry(self, name: str) -> StateEntry:
        state = self.load()
        return state.entries[resolve_address(name, state.entries, self.location)]

    def remove(self, name: str, lock_timeout: float) -> StateEntry:
        """Forget one registry (it stays in HSS); read under the lock, as another run may be writing."""
        store = open_store(self.location)
        try:
            with store.acquire("state rm", lock_timeout):
                state = store.load()
                address = resolve_address(name, state.entries, self.location)
                entry = state.entries[address]
                Checkpointer(store, state).commit(lambda s: s.remove(address))
        finally:
            store.close()
        return entry
