"""`apply --wait`: poll until HSS has tried to reach each new or changed registry.

HSS accepts an add at once and then connects to the registry in the
background (`accessing`), ending in `success` or `fail`. A pipeline that
stops at "accepted" would report green for a registry HSS can never scan.
One ListRegistry walk per target per round, however many registries wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from reconciler.apply.events import Activity, Progress, heartbeat
from reconciler.hss.client import HssClient
from reconciler.plan.model import LiveStatus
from reconciler.registry import TargetKey, registry_address

ACCESSING = "accessing"
FIRST_INTERVAL, MAX_INTERVAL = 0.25, 5.0


@dataclass
class WaitResult:
    statuses: dict[str, LiveStatus]  # by address: the last status seen
    timed_out: list[str]  # still accessing when time ran out
    missing: list[str]  # no longer in HSS at all

    @property
    def failed(self) -> list[LiveStatus]:
        return [s for s in self.statuses.values() if s.status == "fail"]

    @property
    def ok(self) -> bool:
        return not (self.failed or self.timed_out or self.missing)


def wait_for_access(clients: Mapping[TargetKey, HssClient], names: Mapping[TargetKey, list[str]],
                    timeout: float, *, clock: Callable[[], float] = time.monotonic,
                    sleep: Callable[[float], None] = time.sleep,
                    progress: Progress | None = None) -> WaitResult:
    """Poll with a growing interval until no registry of `names` is `accessing`, or `timeout`.

    The whole wait can last minutes and one poll can hang: every `progress.every` seconds
    it says which registries HSS has still not reached.
    """
    deadline = clock() + timeout
    pending = {key: set(values) for key, values in names.items() if values}
    statuses: dict[str, LiveStatus] = {}
    missing: list[str] = []
    interval = FIRST_INTERVAL
    left = _addresses(pending)  # rebound, never mutated: the heartbeat's thread reads it

    with heartbeat(progress, Activity.WAITING, lambda: left):
        while pending:
            for key, seen in _poll(clients, pending).items():
                for name in sorted(pending[key]):
                    address = registry_address(key, name)
                    live = seen.get(name)
                    if live is None:
                        missing.append(address)
                        pending[key].discard(name)
                        continue
                    statuses[address] = live
                    if live.status != ACCESSING:
                        pending[key].discard(name)
            pending = {key: rest for key, rest in pending.items() if rest}
            left = _addresses(pending)
            if not pending or clock() + interval > deadline:
                break
            sleep(interval)
            interval = min(interval * 2, MAX_INTERVAL)
    return WaitResult(statuses, list(left), sorted(missing))


def _addresses(pending: Mapping[TargetKey, set[str]]) -> tuple[str, ...]:
    return tuple(sorted(registry_address(key, name) for key, names in pending.items() for name in names))


def _poll(clients: Mapping[TargetKey, HssClient],
          pending: Mapping[TargetKey, set[str]]) -> dict[TargetKey, dict[str, LiveStatus]]:
    def statuses(key: TargetKey) -> dict[str, LiveStatus]:
        return {
            str(item.get("registry_name")): LiveStatus(registry_address(key, str(item.get("registry_name"))),
                                                       str(item.get("status", "")), item.get("fail_reason"))
            for item in clients[key].list_registries()
            if item.get("registry_name") in pending[key]
        }

    keys = list(pending)
    with ThreadPoolExecutor(max_workers=min(10, len(keys)), thread_name_prefix="wait") as pool:
        return dict(zip(keys, pool.map(statuses, keys), strict=True))
