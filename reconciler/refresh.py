"""Reading what HSS has now, every target in parallel (one ListRegistry walk each)."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from reconciler.config.model import TargetKey
from reconciler.hss.client import HssClient
from reconciler.plan.diff import LiveRegistry


def refresh(
    clients: Mapping[TargetKey, HssClient], parallelism: int = 10
) -> dict[TargetKey, list[LiveRegistry]]:
    if not clients:
        return {}
    keys = list(clients)
    with ThreadPoolExecutor(max_workers=max(1, min(parallelism, len(keys))),
                            thread_name_prefix="refresh") as pool:
        pages = list(pool.map(lambda key: clients[key].list_registries(), keys))
    return dict(zip(keys, pages, strict=True))
