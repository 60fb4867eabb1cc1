"""The registries, kept in memory per (project, enterprise project), and their status.

Status is computed when read, not by a background job: a registry is
``accessing`` until ``access_delay_seconds`` have passed since it was added or
last updated, then ``success``, or ``fail`` (``REQUEST_API_ERROR``) when its
address contains ``fail_addr_substring``, which is how tests make a registry
unreachable. ``images_num`` is what the last successful sync found (see
``images_found``). A forced failure (control endpoint) wins until the next update,
which is a new access attempt. The password is dropped on the way in: HSS does
not store it, so neither does its emulator.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.emulator.config import EmulatorConfig
from reconciler.emulator.errors import DUPLICATE_NAME, QUOTA_EXCEEDED, ApiFailure, not_found

DEFAULT_ENTERPRISE_PROJECT = "0"
ALL_ENTERPRISE_PROJECTS = "all_granted_eps"
UNREACHABLE_REASON = "REQUEST_API_ERROR"

# RegistryInfo fields, in the order the API documents them.
INFO_FIELDS = (
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


# huaweicloudsdkhss ListRegistryResponse: data_list holds 0-100 items.
MAX_PAGE_ITEMS = 100
MAX_IMAGES_FOUND = 50  # invented: a small registry; RegistryInfo documents images_num as 0-20,000


def images_found(fields: Mapping[str, str]) -> int:
    """How many images a sync of this registry finds: 1-50, fixed by its address and namespace.

    invented: HSS counts the images it synced from the registry; the emulator
    has no registry to read, so the count is derived from where it would read,
    stable across runs and restarts, and changes when the address does.
    """
    where = f"{fields['registry_addr']}/{fields.get('namespace', '')}".encode()
    return int.from_bytes(hashlib.sha256(where).digest()[:4], "big") % MAX_IMAGES_FOUND + 1


@dataclass(frozen=True)
class Scope:
    """Where a request acts; ``all_granted_eps`` reads every enterprise project of the project."""

    project_id: str
    enterprise_project_id: str = DEFAULT_ENTERPRISE_PROJECT

    @property
    def spans_all(self) -> bool:
        return self.enterprise_project_id == ALL_ENTERPRISE_PROJECTS

    def home(self) -> Scope:
        # Adding with all_granted_eps lands in the default enterprise project.
        return Scope(self.project_id) if self.spans_all else self

    def covers(self, other: Scope) -> bool:
        return other == self or (self.spans_all and other.project_id == self.project_id)


@dataclass
class _Registry:
    id: str
    seq: int
    scope: Scope
    fields: dict[str, str]
    access_started: float  # monotonic seconds
    access_started_ms: int  # wall clock, for latest_sync_time
    previous_sync_ms: int = 0
    forced_fail: str | None = None
    forced_at_ms: int = 0


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class RegistryStore:
    """Thread-safe: every public method holds one lock for its whole effect."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[Scope, dict[str, _Registry]] = {}
        self._seq = 0

    def add(self, scope: Scope, body: Mapping[str, Any], config: EmulatorConfig) -> str:
        home = scope.home()
        fields = {k: body[k] for k in INFO_FIELDS if k in body}
        with self._lock:
            bucket = self._buckets.setdefault(home, {})
            if any(r.fields["registry_name"] == fields["registry_name"] for r in bucket.values()):
                raise ApiFailure(400, DUPLICATE_NAME, "registry name already exists")
            if len(bucket) >= config.max_registries_per_project:
                limit = config.max_registries_per_project
                raise ApiFailure(400, QUOTA_EXCEEDED, f"registry quota exceeded: at most {limit}")
            self._seq += 1
            registry = _Registry(
                str(uuid.uuid4()), self._seq, home, fields, self._clock(), _now_ms()
            )
            bucket[registry.id] = registry
            return registry.id

    def query(
        self, scope: Scope, filters: Mapping[str, Any], offset: int, limit: int,
        config: EmulatorConfig,
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of matching RegistryInfo, and how many match in all."""
        with self._lock:
            found = sorted(
                (r for s, bucket in self._buckets.items() if scope.covers(s) for r in bucket.values()),
                key=lambda r: r.seq,
            )
            infos = [self._info(r, config) for r in found]
        matches = [info for info in infos if _matches(info, filters)]
        # The SDK's ListRegistryResponse documents 0-100 items in data_list while `limit`
        # goes to 200: a page holds at most 100, whatever was asked for.
        return matches[offset : offset + min(limit, MAX_PAGE_ITEMS)], len(matches)

    def update(
        self, scope: Scope, registry_id: str, changes: Mapping[str, Any],
        config: EmulatorConfig, check: Callable[[Mapping[str, str]], None],
    ) -> None:
        """Merge ``changes``; ``check`` vets the merged registry before anything changes."""
        with self._lock:
            registry = self._find(scope, registry_id)
            merged = {**registry.fields, **{k: changes[k] for k in INFO_FIELDS if k in changes}}
            check(merged)
            registry.previous_sync_ms = self._info(registry, config)["latest_sync_time"]
            registry.fields = merged
            registry.access_started = self._clock()
            registry.access_started_ms = _now_ms()
            registry.forced_fail = None

    def delete(self, scope: Scope, registry_ids: list[str]) -> None:
        """All or nothing: one unknown id deletes none."""
        with self._lock:
            doomed = [self._find(scope, rid) for rid in dict.fromkeys(registry_ids)]
            for registry in doomed:
                del self._buckets[registry.scope][registry.id]

    def force_fail(self, registry_id: str, reason: str) -> bool:
        with self._lock:
            for bucket in self._buckets.values():
                if registry_id in bucket:
                    bucket[registry_id].forced_fail = reason
                    bucket[registry_id].forced_at_ms = _now_ms()
                    return True
        return False

    def count(self) -> int:
        with self._lock:
            return sum(len(bucket) for bucket in self._buckets.values())

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()

    def _find(self, scope: Scope, registry_id: str) -> _Registry:
        for s, bucket in self._buckets.items():
            if scope.covers(s) and registry_id in bucket:
                return bucket[registry_id]
        raise not_found(registry_id)

    def _info(self, registry: _Registry, config: EmulatorConfig) -> dict[str, Any]:
        status, reason, synced = self._status(registry, config)
        info: dict[str, Any] = {"id": registry.id}
        for name in INFO_FIELDS:
            if name in registry.fields:
                info[name] = registry.fields[name]
        if registry.fields["get_scan_image_channel"] != "Other":
            info.pop("namespace", None)
        info["status"] = status
        if reason is not None:
            info["fail_reason"] = reason
        # invented: nothing is counted before the first sync or while HSS cannot reach the registry.
        info["images_num"] = images_found(registry.fields) if status == "success" else 0
        info["latest_sync_time"] = synced
        return info

    def _status(self, registry: _Registry, config: EmulatorConfig) -> tuple[str, str | None, int]:
        if registry.forced_fail is not None:
            return "fail", registry.forced_fail, registry.forced_at_ms
        delay = config.access_delay_seconds
        if self._clock() - registry.access_started < delay:
            return "accessing", None, registry.previous_sync_ms
        synced = registry.access_started_ms + int(delay * 1000)
        needle = config.fail_addr_substring
        if needle and needle in registry.fields["registry_addr"]:
            return "fail", UNREACHABLE_REASON, synced
        return "success", None, synced


def _matches(info: Mapping[str, Any], filters: Mapping[str, Any]) -> bool:
    name, addr = filters.get("registry_name"), filters.get("registry_addr")
    types, registry_id, status = (
        filters.get("registry_type"), filters.get("registry_id"), filters.get("status"),
    )
    return (
        (name is None or name in info["registry_name"])
        and (addr is None or addr in info["registry_addr"])
        and (types is None or info["registry_type"] in types)
        and (registry_id is None or registry_id == info["id"])
        and (status is None or status == info["status"])
    )
