"""Saved plans: what `plan -out` writes and `apply FILE` trusts.

A reviewer approves a plan, not a configuration, so `apply FILE` must run
exactly the reviewed changes or none. The file pins what the plan was made
from: the state's lineage and serial, and a digest of the declared registries.
If any of them moved, the plan is stale and applying it could undo someone
else's work, so it is refused. The file holds password references, never values.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.config.model import Desired
from reconciler.errors import ReconcilerError
from reconciler.plan.model import Plan
from reconciler.state.jsonshape import ShapeError, Where, load_json, obj

PLAN_TOOL = "hss-reconciler"
PLAN_FILE_LIMIT = 64 * 1024 * 1024  # a plan of 10,000 changes is a few MB
PLAN_MAX_DEPTH = 8  # how deep a plan document nests (changes[i].after.registry_password.env)


def config_digest(desired: Desired) -> str:
    """A digest of what is declared, not of the bytes: reformatting a file keeps a plan valid."""
    canonical = {
        address: {
            "target": registry.target.to_json(),
            "attributes": dict(sorted(registry.attributes.items())),
            "password": registry.password.to_json(),
            "password_version": registry.password_version,
        }
        for address, registry in sorted(desired.registries.items())
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class PlanInputs:
    """Where a plan came from, so `apply FILE` can find the same inputs and check them."""

    paths: list[str]
    state_path: str
    lineage: str | None  # None: there was no state file yet
    serial: int
    config_digest: str
    destroy: bool = True
    only: list[str] = field(default_factory=list)
    refreshed: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "paths": self.paths, "state_path": self.state_path, "lineage": self.lineage,
            "serial": self.serial, "config_digest": self.config_digest,
            "options": {"destroy": self.destroy, "only": self.only, "refresh": self.refreshed},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlanInputs:
        options = data.get("options", {})
        return cls(paths=list(data["paths"]), state_path=str(data["state_path"]),
                   lineage=data.get("lineage"), serial=int(data["serial"]),
                   config_digest=str(data["config_digest"]), destroy=bool(options.get("destroy", True)),
                   only=list(options.get("only", [])), refreshed=bool(options.get("refresh", True)))


@dataclass
class SavedPlan:
    plan: Plan
    inputs: PlanInputs

    def stale_because(self, lineage: str | None, serial: int, digest: str) -> str | None:
        """Why the plan no longer describes the world, or None when it still does."""
        if lineage != self.inputs.lineage and self.inputs.lineage is not None:
            return ("the state file is a different one than when the plan was made "
                    f"(lineage {self.inputs.lineage} -> {lineage or 'none: the file is gone'})")
        if serial != self.inputs.serial or lineage != self.inputs.lineage:
            return (f"the state changed since the plan was made (serial {self.inputs.serial} -> {serial}); "
                    "another apply ran in between")
        if digest != self.inputs.config_digest:
            return "the registry files changed since the plan was made"
        return None


def save_plan(path: Path, saved: SavedPlan) -> None:
    from reconciler.atomicfile import atomic_write
    from reconciler.plan.document import plan_to_document

    document = plan_to_document(saved.plan, {"inputs": saved.inputs.to_json()})
    payload = (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    try:
        atomic_write(path, payload)
    except OSError as exc:
        raise ReconcilerError(f"{path}: cannot write the plan file: {exc.strerror}") from None


def check_plan_destination(out: Path, protected: dict[Path, str]) -> None:
    """Refuse a `plan -out` path whose writing would destroy something, before any work is done.

    `protected` maps the files this plan is made from (registry files, the state,
    its lock) to what each is. Short of those, the rule is Terraform's with one
    guard: an existing file is overwritten only if it is a plan already, so a
    mistyped `-out` cannot replace a README or a key file.
    """
    if out.suffix.lower() in (".yaml", ".yml"):
        raise ReconcilerError(f"{out}: a plan file must not end in {out.suffix}: the next plan would "
                              "read it as a registry file. Use a .json name.")
    if out.is_dir():
        raise ReconcilerError(f"{out}: is a directory; -out needs a file name")
    for path, what in protected.items():
        if _same_file(out, path):
            raise ReconcilerError(f"{out}: is {what}; a plan must not be written over it")
    if out.exists() and not looks_like_plan_file(out):
        raise ReconcilerError(f"{out}: exists and is not an hss-reconciler plan file; refusing to "
                              "overwrite it (remove it first, or choose another name)")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:  # one of them does not exist (yet): compare where they would be
        return a.resolve() == b.resolve()


def looks_like_plan_file(path: Path) -> bool:
    """Plan files are JSON objects naming this tool; registry files are YAML."""
    if not path.is_file() or path.suffix.lower() in (".yaml", ".yml"):
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    return head.lstrip().startswith(b"{") and PLAN_TOOL.encode() in head


def _refuse_duplicate_keys(document: Any) -> None:
    """A ShapeError naming the first key that appears twice in one object, anywhere in `document`.

    json keeps the last of two equal keys, so a plan file holding `"registry_id"`
    twice reads as one change while a reviewer or another tool may have read the
    other. The state's reader refuses them field by field (`obj`); a plan file is
    read without per-field checks, so every object is walked here. Iterative: the
    parser follows deeper nesting than Python's recursion would.
    """
    pending: list[tuple[Where, Any]] = [((), document)]
    while pending:
        where, value = pending.pop()
        if isinstance(value, dict):
            obj(value, where, (), closed=False)  # raises on a key given twice
            pending.extend(((*where, key), item) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            pending.extend(((*where, index), item) for index, item in reversed(list(enumerate(value))))


def load_plan(path: Path) -> SavedPlan:
    from reconciler.plan.document import plan_from_document

    try:
        if path.stat().st_size > PLAN_FILE_LIMIT:
            raise ReconcilerError(f"{path}: too large for a plan file")
        # Bounded like the state: deep nesting, duplicate keys and NaN are refused, never a crash.
        document = load_json(path.read_bytes(), max_depth=PLAN_MAX_DEPTH)
        _refuse_duplicate_keys(document)
    except OSError as exc:
        raise ReconcilerError(f"{path}: cannot read the plan file: {exc.strerror}") from None
    except ShapeError as exc:
        raise ReconcilerError(f"{path}: not a valid plan file: {exc}") from None
    if not isinstance(document, dict) or document.get("tool") != PLAN_TOOL:
        raise ReconcilerError(f"{path}: not an hss-reconciler plan file")
    try:
        plan, meta = plan_from_document(document)
        inputs = PlanInputs.from_json(meta["inputs"])
    except ReconcilerError as exc:
        raise ReconcilerError(f"{path}: {exc}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise ReconcilerError(f"{path}: plan file is malformed ({type(exc).__name__}: {exc}); "
                              "make a new one with 'hss-reconciler plan -out FILE'") from None
    return SavedPlan(plan, inputs)
