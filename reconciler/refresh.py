"""Reading what HSS has now, every target in parallel (one ListRegistry walk each)."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from reconciler.hss.client import HssClient
from reconciler.registry import LiveRegistry, TargetKey

MAX_PARALLEL_TARGETS = 64


def refresh(
    clients: Mapping[TargetKey, HssClient],
) -> dict[TargetKey, list[LiveRegistry]]:
    if not clients:
        return {}
    keys = list(clients)
    # One walk per target, all at once: the cost is a round trip, not a round trip per
    # target; the connection pool (sized for the targets) is the real bound.
    with ThreadPoolExecutor(max_workers=max(1, min(len(keys), MAX_PARALLEL_TARGETS)),
                            thread_name_prefix="refresh") as pool:
        pages = list(pool.map(lambda key: clients[key].list_registries(), keys))
    return dict(zip(keys, pages, strict=True))
