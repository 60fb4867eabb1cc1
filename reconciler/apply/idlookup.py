"""Learning the id HSS gave a new registry (AddRegistry returns none).

One ListRegistry page per target covers up to 200 registries, so instead of
one lookup per add we coalesce: a caller waits for a listing that *started
after* its add was accepted; if none is running it runs one itself. With ten
adds in flight, about one listing per round of adds serves all of them.

A shared listing that is being retried (throttled, a 5xx, a dropped
connection) would hold every waiter of its target for as long as its backoff
lasts, and under a steady fault rate those waits add up across the whole run.
So a waiter waits for someone else's listing only about as long as two healthy
listings take (the one in flight, then the next), judged from the quickest
recent listing and never more than MAX_SHARED_WAIT_SECONDS; past that, the
listing is being retried, and the waiter looks its own name up instead
(ListRegistry filtered by name).
"""

from __future__ import annotations

import threading
import time
from collections import deque

from reconciler.hss.client import HssClient

LOOKUP_ATTEMPTS = 4
LOOKUP_BACKOFF_SECONDS = 0.2
MAX_SHARED_WAIT_SECONDS = 1.0
MIN_SHARED_WAIT_SECONDS = 0.05
SHARED_WAIT_FACTOR = 3  # a little over two healthy listings
RECENT_LISTINGS = 5


class IdLookup:
    def __init__(self, client: HssClient) -> None:
        self._client = client
        self._durations: deque[float] = deque(maxlen=RECENT_LISTINGS)
        self._cond = threading.Condition()
        self._started = 0
        self._finished = 0
        self._running = False
        self._ids: dict[str, str] = {}

    def id_for(self, name: str) -> str | None:
        """The id of registry `name`, or None if HSS does not list it yet after retries."""
        for attempt in range(LOOKUP_ATTEMPTS):
            if self._fresh_listing():
                with self._cond:
                    if name in self._ids:
                        return self._ids[name]
            else:
                found = self._client.find_registries(name)
                if found:
                    return str(found[0]["id"])
            time.sleep(LOOKUP_BACKOFF_SECONDS * (attempt + 1))
        return None

    def _fresh_listing(self) -> bool:
        """Wait for (or run) a listing that started after this call; False if waiting took too long."""
        with self._cond:
            deadline = time.monotonic() + self._shared_wait()
            needed = self._started + 1
            while self._finished < needed:
                if self._running:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self._cond.wait(remaining)
                    continue
                self._running = True
                self._started += 1
                number = self._started
                self._cond.release()
                began = time.monotonic()
                listing: list[dict[str, object]] | None = None
                error: Exception | None = None
                try:
                    listing = self._client.list_registries()
                except Exception as exc:
                    error = exc
                finally:
                    self._cond.acquire()
                self._running = False
                self._finished = number
                if error is None:
                    self._durations.append(time.monotonic() - began)
                self._cond.notify_all()
                if error is not None:
                    raise error
                self._ids = {str(r["registry_name"]): str(r["id"]) for r in listing or ()}
            return True

    def _shared_wait(self) -> float:
        """How long to wait for another caller's listing (call with the lock held)."""
        if not self._durations:
            return MAX_SHARED_WAIT_SECONDS
        quickest = min(self._durations)
        return min(MAX_SHARED_WAIT_SECONDS, max(MIN_SHARED_WAIT_SECONDS, SHARED_WAIT_FACTOR * quickest))
