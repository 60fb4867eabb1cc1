"""The plan as a JSON document: `--format json` prints it, `plan -out` saves it, `apply FILE` reads it.

One shape serves people's tools and the saved plan, so what a reviewer's CI
inspects is exactly what `apply FILE` runs. The conversion is lossless: a Plan
written and read back compares equal. `schemas/plan.schema.json` describes the
shape; every reader validates against it.

A plan never holds a secret. The password in `after` is a reference
(``{"env": NAME}`` or ``{"file": PATH}``); a Secret object, or a password field
holding anything but a reference, anywhere in a plan or its metadata, makes
writing the document fail, and makes reading one fail too, so a hand-edited
plan file cannot smuggle a password into `apply`. Error messages name the
place, never the value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler import __version__
from reconciler.errors import ReconcilerError
from reconciler.plan.model import (
    Action,
    Change,
    Drift,
    LiveStatus,
    MovedFrom,
    Plan,
    UnsafeTarget,
    unsafe_reason,
)
from reconciler.registry import SECRET_FIELDS, TargetKey
from reconciler.schema import describe_error, load_schema, schema_errors
from reconciler.secrets import Secret, SecretRef

FORMAT_VERSION = 1
TOOL = "hss-reconciler"
PLAN_SCHEMA = "plan.schema.json"
# Keys whose value may only ever be a reference. "password" is not a field we
# write, but a hand-edited file or metadata could use it, so it is guarded too.
SECRET_KEYS = SECRET_FIELDS | {"password"}
REFERENCE_KINDS = ("env", "file")
_MAX_REPORTED = 5
_REFERENCE_HINT = "must be a password reference, {\"env\": NAME} or {\"file\": PATH}, never a value"


class PlanDocumentError(ReconcilerError):
    """A plan cannot be written as, or read from, a document; the message names where."""


def load_plan_schema() -> dict[str, Any]:
    """The plan JSON Schema, from the wheel's package data or the checkout (cached)."""
    return load_schema(PLAN_SCHEMA)


def _is_reference(value: Any) -> bool:
    return (isinstance(value, dict) and len(value) == 1
            and next(iter(value)) in REFERENCE_KINDS
            and isinstance(next(iter(value.values())), str) and bool(next(iter(value.values()))))


def _json_copy(value: Any, where: str) -> Any:
    """A deep copy made only of JSON types; refuses secrets and anything JSON would change.

    Copying (rather than sharing the plan's dicts) keeps a caller who edits the
    document from editing the plan, and refusing non-JSON types is what makes
    the round trip lossless (a tuple would come back as a list).
    """
    if isinstance(value, Secret):
        raise PlanDocumentError(f"{where}: a secret value cannot be written to a plan; {_REFERENCE_HINT}")
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise PlanDocumentError(f"{where}: {value} is not a JSON number")
        return value
    if isinstance(value, dict):
        copy: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise PlanDocumentError(f"{where}: key of type {type(key).__name__} is not JSON")
            if key in SECRET_KEYS:
                _check_reference(item, f"{where}.{key}")
            copy[key] = _json_copy(item, f"{where}.{key}")
        return copy
    if isinstance(value, list):
        return [_json_copy(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, SecretRef):
        raise PlanDocumentError(f"{where}: write the reference as SecretRef.to_json(), not the object")
    raise PlanDocumentError(f"{where}: a {type(value).__name__} is not JSON data")


def _check_reference(value: Any, where: str) -> None:
    if value is not None and not _is_reference(value):
        raise PlanDocumentError(f"{where}: {_REFERENCE_HINT}")


# plan.model.unsafe_reason, read back: one pattern per kind.
_UNSAFE_REASONS = {
    "destroy": re.compile(r"(?P<target>.+): deletes or replaces (?P<destroyed>[0-9]+) of (?P<managed>[0-9]+) "
                          r"managed registries \(more than (?P<share>[0-9]+)%\)"
                          r"(?:, and updates (?P<updated>[0-9]+) in place)?; apply needs --force"),
    "update": re.compile(r"(?P<target>.+): changes [0-9]+ of (?P<managed>[0-9]+) managed registries "
                         r"\(more than (?P<share>[0-9]+)%\): (?P<updated>[0-9]+) updated in place, "
                         r"(?P<destroyed>[0-9]+) deleted or replaced; apply needs --force"),
}


def _unsafe_from_reason(reason: str, targets: Mapping[str, TargetKey]) -> UnsafeTarget | None:
    """The unsafe target a line of `unsafe.reasons` names; None unless it names a target of the changes.

    The value read must word itself back into exactly the line (so a total
    that is not the sum of its parts, or a share written as 30.0%, is refused).
    """
    for kind, pattern in _UNSAFE_REASONS.items():
        match = pattern.fullmatch(reason)
        target = targets.get(match["target"]) if match else None
        if match is None or target is None:
            continue
        unsafe = UnsafeTarget(target, int(match["destroyed"]), int(match["managed"]),
                              int(match["share"]) / 100, int(match["updated"] or 0),
                              "destroy" if kind == "destroy" else "update")
        if unsafe_reason(unsafe) == reason:
            return unsafe
    return None


def _summary(plan: Plan) -> dict[str, Any]:
    summary = {
        "add": plan.to_add,
        "change": plan.to_change,
        "destroy": plan.to_destroy,
        "import": plan.to_import,
        "forget": plan.to_forget,
        "unmanaged": plan.unmanaged,
        "has_changes": plan.has_changes,
    }
    if plan.to_move:  # written only with a move, so every other plan keeps its shape
        summary["move"] = plan.to_move
    return summary


def move_order(change: Change) -> str:
    """How a move runs, as the document names it (derived from where it goes, never stored apart)."""
    return "create_first" if change.creates_first else "delete_first"


@dataclass(frozen=True)
class NewPasswordAddress:
    """A change sends a registry's existing password to another registry_addr than HSS has now.

    Derived from the change alone (never stored apart from it), so no plan can
    send a password somewhere new without saying so: the text and markdown
    renderers print it on a line of its own, and the JSON document has it as
    the change's optional `password_new_address` (absent when it does not apply).
    """

    old: str | None  # where HSS sent it so far (None: HSS reported no address)
    new: str

    def to_json(self) -> dict[str, str | None]:
        return {"old": self.old, "new": self.new}


# The actions that send the password of a registry HSS already has (a create has no old address).
_KEEPS_REGISTRY = frozenset({Action.UPDATE, Action.ADOPT, Action.REPLACE})


def new_password_address(change: Change) -> NewPasswordAddress | None:
    """The old and new address when `change` sends the password to a changed registry_addr."""
    if (change.action not in _KEEPS_REGISTRY or not change.send_password
            or "registry_addr" not in change.changed):
        return None
    new, old = (change.after or {}).get("registry_addr"), (change.before or {}).get("registry_addr")
    if not isinstance(new, str):
        return None
    return NewPasswordAddress(old if isinstance(old, str) else None, new)


def _change_to_json(change: Change, where: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "action": change.action.value,
        "address": change.address,
        "target": change.target.to_json(),
        "name": change.name,
        "registry_id": change.registry_id,
        "before": _json_copy(change.before, f"{where}.before"),
        "after": _json_copy(change.after, f"{where}.after"),
        "changed": _json_copy(list(change.changed), f"{where}.changed"),
        "send_password": change.send_password,
        "password_version": change.password_version,
        "before_password_version": change.before_password_version,
        "reason": change.reason,
    }
    moved = new_password_address(change)
    if moved is not None:  # optional, so plans without it (written before it existed) still read
        data["password_new_address"] = moved.to_json()
    if change.moved_from is not None:  # only a move has these: older plans keep their shape
        data["moved_from"] = {"address": change.moved_from.address,
                              "target": change.moved_from.target.to_json(), "name": change.moved_from.name}
        data["move_order"] = move_order(change)
    return data


def _drift_to_json(drift: Drift, where: str) -> dict[str, Any]:
    if drift.field in SECRET_KEYS:
        _check_reference(drift.recorded, f"{where}.recorded")
        _check_reference(drift.live, f"{where}.live")
    return {"address": drift.address, "field": drift.field,
            "recorded": _json_copy(drift.recorded, f"{where}.recorded"),
            "live": _json_copy(drift.live, f"{where}.live")}


def plan_to_document(plan: Plan, meta: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The plan as JSON-ready data in the shape of schemas/plan.schema.json.

    `meta` is free data about how the plan was made (the saved-plan code puts
    lineage, serial, config digest and options there); it is checked for
    secrets like the rest. Raises PlanDocumentError if anything secret, or
    anything that would not survive JSON unchanged, is found.
    """
    reasons = [unsafe_reason(u) for u in plan.unsafe_targets]
    document: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "tool": TOOL,
        "tool_version": __version__,
        "summary": _summary(plan),
        "changes": [_change_to_json(c, f"changes[{i}]") for i, c in enumerate(plan.changes)],
        "drift": [_drift_to_json(d, f"drift[{i}]") for i, d in enumerate(plan.drift)],
        "statuses": [_json_copy({"address": s.address, "status": s.status, "fail_reason": s.fail_reason},
                                f"statuses[{i}]") for i, s in enumerate(plan.statuses)],
        "partial": plan.partial,
        "refreshed": plan.refreshed,
        "warnings": _json_copy(list(plan.warnings), "warnings"),
        "unsafe": {"flagged": bool(reasons), "reasons": reasons},
        "meta": _json_copy(dict(meta or {}), "meta"),
    }
    if plan.refresh_only:  # written only when true, so every other plan keeps its shape
        document["refresh_only"] = True
    return document


# --- reading ---------------------------------------------------------------


def _secrets_in(value: Any, where: str, found: list[str]) -> None:
    """Every place in raw JSON where a password key holds something other than a reference."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in SECRET_KEYS and item is not None and not _is_reference(item):
                found.append(f"{where}.{key}" if where else str(key))
            else:
                _secrets_in(item, f"{where}.{key}" if where else str(key), found)
        field = value.get("field")
        if isinstance(field, str) and field in SECRET_KEYS:  # a drift entry about the password
            for side in ("recorded", "live"):
                item = value.get(side)
                if item is not None and not _is_reference(item):
                    found.append(f"{where}.{side}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _secrets_in(item, f"{where}[{i}]", found)


def _schema_problems(document: Any) -> list[str]:
    """One line per schema error, naming the place and never a value from the file.

    Only a document being read is validated: writing a plan never imports jsonschema,
    whose import alone would cost a noticeable part of a plan's start-up.
    """
    problems = []
    for error in schema_errors(document, PLAN_SCHEMA):
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
        problems.append(f"{where or '(document)'}: {describe_error(error, PLAN_SCHEMA, show_values=False)}")
    return list(dict.fromkeys(problems))  # jsonschema names all missing fields once per missing field


def _fail(problems: list[str]) -> PlanDocumentError:
    shown = problems[:_MAX_REPORTED]
    more = f" (and {len(problems) - len(shown)} more)" if len(problems) > len(shown) else ""
    return PlanDocumentError(f"not a valid plan document: {'; '.join(shown)}{more}")


def _moved_from_json(data: dict[str, Any]) -> MovedFrom | None:
    source = data.get("moved_from")
    return None if source is None else MovedFrom(TargetKey.from_json(source["target"]), source["name"])


def _change_from_json(data: dict[str, Any]) -> Change:
    return Change(
        action=Action(data["action"]),
        target=TargetKey.from_json(data["target"]),
        name=data["name"],
        registry_id=data["registry_id"],
        before=data["before"],
        after=data["after"],
        changed=tuple(data["changed"]),
        send_password=data["send_password"],
        password_version=data["password_version"],
        before_password_version=data["before_password_version"],
        reason=data["reason"],
        moved_from=_moved_from_json(data),
    )


def _move_problem(index: int, data: dict[str, Any], change: Change) -> str:
    """A move whose old address or order disagrees with its own data ("" when it agrees)."""
    if change.moved_from is None:
        return ""
    if data["moved_from"]["address"] != change.moved_from.address:
        return f"changes[{index}].moved_from.address: does not match its target and name"
    if data["move_order"] != move_order(change):
        return f"changes[{index}].move_order: is not the order this move must run in"
    return ""


def _new_address_problem(index: int, data: dict[str, Any], change: Change) -> str:
    """A `password_new_address` that is not what the change does ("" when it is, or is absent).

    Absent is accepted (a plan written before the field existed): every reader
    derives it from the change again, so leaving it out hides nothing.
    """
    if "password_new_address" not in data:
        return ""
    moved = new_password_address(change)
    if data["password_new_address"] == (moved.to_json() if moved else None):
        return ""
    return f"changes[{index}].password_new_address: does not match its before, after and changed fields"


def plan_from_document(document: Any) -> tuple[Plan, dict[str, Any]]:
    """Read a document written by plan_to_document back into a Plan and its meta.

    Refuses, with every problem named (up to a few), a document of another
    format version, one that does not match the schema, one holding a password
    value, or one whose derived fields (address, summary, flagged) disagree
    with its data: a plan file edited by hand is not the plan that was reviewed.
    """
    if not isinstance(document, dict):
        raise _fail(_schema_problems(document))
    version = document.get("format_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
        raise PlanDocumentError(f"plan format_version {version} is newer than this hss-reconciler "
                                f"({__version__}) understands ({FORMAT_VERSION}); upgrade hss-reconciler")
    leaks: list[str] = []
    _secrets_in(document, "", leaks)
    if leaks:
        raise _fail([f"{where}: {_REFERENCE_HINT}" for where in leaks])
    problems = _schema_problems(document)
    if problems:
        raise _fail(problems)
    # The schema guarantees every key and type below; copying detaches the plan from the input.
    copy: dict[str, Any] = _json_copy(document, "document")
    changes = [_change_from_json(c) for c in copy["changes"]]
    problems = [f"changes[{i}].address: {c['address']!r} does not match its target and name"
                for i, (c, change) in enumerate(zip(copy["changes"], changes, strict=True))
                if c["address"] != change.address]
    problems += [p for i, (c, change) in enumerate(zip(copy["changes"], changes, strict=True))
                 for p in (_new_address_problem(i, c, change), _move_problem(i, c, change)) if p]
    reasons = list(copy["unsafe"]["reasons"])
    if copy["unsafe"]["flagged"] != bool(reasons):
        problems.append("unsafe.flagged: must be true exactly when there are reasons")
    targets = {str(c.target): c.target for c in changes}
    unsafe = [_unsafe_from_reason(r, targets) for r in reasons]
    problems += [f"unsafe.reasons[{i}]: not a reason hss-reconciler writes about a target of the changes"
                 for i, u in enumerate(unsafe) if u is None]
    plan = Plan(
        changes=changes,
        drift=[Drift(d["address"], d["field"], d["recorded"], d["live"]) for d in copy["drift"]],
        statuses=[LiveStatus(s["address"], s["status"], s["fail_reason"]) for s in copy["statuses"]],
        unmanaged=copy["summary"]["unmanaged"],
        refreshed=copy["refreshed"],
        partial=copy["partial"],
        warnings=list(copy["warnings"]),
        unsafe_targets=[u for u in unsafe if u is not None],
        refresh_only=copy.get("refresh_only", False),
    )
    if _summary(plan) != copy["summary"]:
        problems.append("summary: the counts do not match the changes")
    if problems:
        raise _fail(problems)
    return plan, copy["meta"]
