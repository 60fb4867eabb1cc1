"""Reading what HSS has now, every target in parallel (one ListRegistry walk each)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait

from reconciler.hss.client import HssClient
from reconciler.registry import LiveRegistry, TargetKey

MAX_PARALLEL_TARGETS = 64

# The targets whose walk has not returned, and for how long the refresh has run.
StillRefreshing = Callable[[list[TargetKey], float], None]


def refresh(
    clients: Mapping[TargetKey, HssClient], *,
    still_running: StillRefreshing | None = None, every: float = 10.0,
) -> dict[TargetKey, list[LiveRegistry]]:
    """Each target's registries; `still_running` is told every `every` s which walks are still out.

    A hung endpoint holds a walk up to the request timeout (60 s by default): saying so
    tells a person (or a CI log) the run is waiting on HSS, not stuck.
    """
    if not clients:
        return {}
    keys = list(clients)
    # One walk per target, all at once: the cost is a round trip, not a round trip per
    # target; the connection pool (sized for the targets) is the real bound.
    with ThreadPoolExecutor(max_workers=max(1, min(len(keys), MAX_PARALLEL_TARGETS)),
                            thread_name_prefix="refresh") as pool:
        walks: dict[Future[list[LiveRegistry]], TargetKey] = {
            pool.submit(clients[key].list_registries): key for key in keys}
        started = time.monotonic()
        out = set(walks)
        while out:
            out = wait(out, timeout=every if still_running else None).not_done
            if out and still_running is not None:
                still_running(sorted(walks[f] for f in out), time.monotonic() - started)
        pages = {walks[future]: future.result() for future in walks}
    return {key: pages[key] for key in keys}
