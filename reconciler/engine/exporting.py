"""`export`: registry files for the registries a target already has in HSS.

The onboarding step of a team whose registries were made by hand: list the
target, write one registry file that declares each registry exactly as HSS
has it (so the next plan only adopts), with every password a `{env: NAME}`
reference (HSS never returns passwords; see engine/envnames.py for NAME).
Registries already in the state (--state or HSS_STATE, a file or a shared
store) are left out, as are those a registry file could not declare (each
with the reason). Nothing is written unless the whole file can be, and an
existing file is replaced only when asked.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from reconciler.atomicfile import atomic_write, file_kind
from reconciler.config.endpoints import resolve_endpoint
from reconciler.config.lookalikes import skeleton
from reconciler.config.model import TargetConfig
from reconciler.config.workspace import ENDPOINT_ENV
from reconciler.engine.envnames import password_variables
from reconciler.engine.locate import given_state
from reconciler.engine.options import Connection
from reconciler.engine.registryfile import (
    Layout,
    document_problems,
    entry_problem,
    registry_entry,
    registry_file_text,
    target_document,
)
from reconciler.engine.session import hss_clients
from reconciler.engine.statefile import open_store
from reconciler.errors import ReconcilerError
from reconciler.registry import LiveRegistry, TargetKey, comparable, registry_address
from reconciler.state.backends import is_remote

FILE_MODE = 0o644  # a registry file holds no secret, and is meant for git
_OPTION_OF = {"target.region": "--region", "target.project_id": "--project-id",
              "target.enterprise_project_id": "--enterprise-project-id", "target.endpoint": "--endpoint"}


@dataclass(frozen=True)
class ExportRequest:
    target: TargetKey
    out: Path  # the directory the file goes to (made if missing)
    endpoint: str | None = None  # written into the file; default HSS_ENDPOINT, then the region's
    state: str | None = None  # --state: leave out what this state manages (a path or a URL)
    overwrite: bool = False


@dataclass(frozen=True)
class Exported:
    address: str
    variable: str  # the environment variable its password reference names


@dataclass
class ExportResult:
    path: Path
    registries: list[Exported] = field(default_factory=list)
    managed: int = 0  # left out: the state manages them already
    left_out: dict[str, str] = field(default_factory=dict)  # registry name -> why it cannot be declared
    written: bool = False  # False: nothing to export, so no file


def file_name(target: TargetKey) -> str:
    """`<region>.<project_id>[.<enterprise_project_id>].yaml`, characters outside [A-Za-z0-9_-] as `_`."""
    parts = [target.region, target.project_id]
    if target.enterprise_project_id != "0":
        parts.append(target.enterprise_project_id)
    return ".".join(re.sub(r"[^A-Za-z0-9_-]", "_", p) for p in parts) + ".yaml"


def _check_target(target: dict[str, Any]) -> None:
    problems = document_problems(target, [])
    if problems:
        where, _, message = problems[0].partition(": ")
        raise ReconcilerError(f"{_OPTION_OF.get(where, where)}: {message}")


def _check_out(out: Path) -> None:
    """Refuse an --out that cannot become the file's directory, before HSS is asked anything.

    An existing --out must be a directory (a symlink to one is followed, as mkdir
    would); otherwise its nearest existing parent must be a directory we may write.
    """
    try:
        mode = os.stat(out).st_mode
    except FileNotFoundError:
        parent = next((p for p in out.absolute().parents if p.exists()), Path("/"))
        if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
            raise ReconcilerError(f"--out {out}: cannot make the directory: {parent} is not a directory "
                                  "this user may write; nothing was listed or written") from None
        return
    except OSError as exc:
        raise ReconcilerError(f"--out {out}: {exc.strerror or exc}; nothing was listed or written") from None
    if not stat.S_ISDIR(mode):
        kind = "a file" if stat.S_ISREG(mode) else file_kind(mode)
        raise ReconcilerError(f"--out {out}: is {kind}, not a directory; nothing was listed or written")
    if not os.access(out, os.W_OK | os.X_OK):
        raise ReconcilerError(f"--out {out}: this user may not write in it; nothing was listed or written")


def _check_endpoint(endpoint: str | None) -> None:
    """The file is meant for git: an --endpoint holding a password (user:PASSWORD@) is not written."""
    if endpoint is not None and "@" in endpoint and urlsplit(endpoint).password is not None:
        raise ReconcilerError("--endpoint: holds a password (https://USER:PASSWORD@HOST); the registry file "
                              "is meant for git and would keep it. Give the endpoint without it.")


def _state_location(given: str | None) -> str | None:
    """--state, else HSS_STATE: the same locations plan takes (a path, s3://, postgresql://).

    A local path given with --state must exist (a typo would leave nothing out); a shared
    store is checked when read, and so is anything HSS_STATE names.
    """
    location = given_state(given)
    if given and not is_remote(given) and not Path(given).exists():
        raise ReconcilerError(f"--state {given}: no such file")
    return location


def _managed(location: str | None, explicit: bool, target: TargetKey) -> tuple[set[str], set[str]]:
    """The ids and names the state at `location` manages in `target`.

    Read only, and without the lock: export writes nothing to the state, and a lock would
    make onboarding wait for (or fail on) a running apply. What such an apply adds is in
    HSS before it is in the state, so the state is read after HSS was listed: a registry
    the listing saw is then in what we read unless its apply had not yet recorded it.
    """
    if location is None:
        return set(), set()
    store = open_store(location)
    try:
        state = store.load()
        if explicit and not store.exists():  # HSS_STATE before the first apply: nothing managed yet
            raise ReconcilerError(f"--state {location}: there is no state there yet")
    finally:
        store.close()
    entries = [e for e in state.entries.values() if e.target == target]
    return {e.registry_id for e in entries if e.registry_id}, {e.name for e in entries}


def _select(live: list[LiveRegistry], target: dict[str, Any], ids: set[str], names: set[str],
            result: ExportResult) -> dict[str, dict[str, Any]]:
    """Each exportable registry's fields, by name; what is left out is counted or explained."""
    chosen: dict[str, dict[str, Any]] = {}
    seen: dict[str, str] = {}  # skeleton -> the name that has it
    for item in sorted(live, key=lambda i: (str(i["registry_name"]), str(i["id"]))):
        name = str(item["registry_name"])
        if str(item["id"]) in ids or name in names:
            result.managed += 1
            continue
        fields = {"registry_name": name, **comparable(item)}
        why = entry_problem(target, registry_entry(fields, "PASSWORD"))
        alike = seen.get(skeleton(name))
        if why is None and alike is not None:
            why = (f"reads the same as {alike!r}, exported already; HSS listed the name twice"
                   if alike == name else f"reads the same as {alike!r}, exported already")
        if why:
            result.left_out[name] = why
            continue
        seen[skeleton(name)] = name
        chosen[name] = fields
    return chosen


def _write(path: Path, text: str, overwrite: bool) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReconcilerError(f"--out {path.parent}: cannot make the directory: {exc.strerror or exc}"
                              ) from None
    try:
        atomic_write(path, text.encode("utf-8"), mode=FILE_MODE, replace=overwrite)
    except FileExistsError:
        raise ReconcilerError(f"{path}: already exists; nothing was written. Pass --overwrite to "
                              "replace it, or choose another --out directory.") from None
    except OSError as exc:
        raise ReconcilerError(f"{path}: cannot write: {exc.strerror or exc}") from None


def _file_text(target: dict[str, Any], chosen: dict[str, dict[str, Any]], variables: dict[str, str],
               result: ExportResult, layout: Layout) -> str:
    """The file declaring `chosen`; a registry no file can declare as itself is left out of it.

    The whole file is tried first. Should it not read back as what HSS has, each
    registry is tried alone and those that fail are left out (with the reason), so
    one name the layout cannot carry never blocks the onboarding of the others.
    """
    def text_of(names: list[str]) -> str:
        entries = [registry_entry(chosen[name], variables[name]) for name in names]
        return registry_file_text(target, entries, str(result.path), layout)

    try:
        return text_of(sorted(chosen))
    except ReconcilerError:
        pass
    for name in sorted(chosen):
        try:
            text_of([name])
        except ReconcilerError:
            result.left_out[name] = "a registry file would not read back as this registry"
            del chosen[name]
    return text_of(sorted(chosen)) if chosen else ""


def export(request: ExportRequest, connection: Connection, layout: Layout) -> ExportResult:
    """List the target, write its registry file, and say which variables to set."""
    target = target_document(request.target, request.endpoint)
    _check_target(target)
    _check_endpoint(request.endpoint)
    _check_out(request.out)
    endpoint = request.endpoint or os.environ.get(ENDPOINT_ENV) \
        or resolve_endpoint(request.target.region, os.environ)
    result = ExportResult(request.out / file_name(request.target))
    if not request.overwrite and (result.path.exists() or result.path.is_symlink()):
        raise ReconcilerError(f"{result.path}: already exists; nothing was listed or written. Pass "
                              "--overwrite to replace it, or choose another --out directory.")
    location = _state_location(request.state)
    with hss_clients([TargetConfig(request.target, endpoint)], connection) as clients:
        live = clients[request.target].list_registries()
    ids, names = _managed(location, request.state is not None, request.target)
    chosen = _select(live, target, ids, names, result)
    if not chosen:
        return result
    variables = password_variables(chosen)
    text = _file_text(target, chosen, variables, result, layout)
    if not chosen:
        return result
    _write(result.path, text, request.overwrite)
    result.written = True
    result.registries = [Exported(registry_address(request.target, name), variables[name])
                         for name in sorted(chosen)]
    return result
