"""Learning the id HSS gave a new registry (AddRegistry returns none).

One ListRegistry page per target covers up to 200 registries, so instead of
one lookup per add we coalesce: a caller waits for a listing that *started
after* its add was accepted; if none is running it runs one itself. With ten
adds in flight, about one listing per round of adds serves all of them.
"""

from __future__ import annotations

import threading
import time

from reconciler.hss.client import HssClient

LOOKUP_ATTEMPTS = 4
LOOKUP_BACKOFF_SECONDS = 0.2


class IdLookup:
    def __init__(self, client: HssClient) -> None:
        self._client = client
        self._cond = threading.Condition()
        self._started = 0
        self._finished = 0
        self._running = False
        self._ids: dict[str, str] = {}
        self._error: Exception | None = None

    def id_for(self, name: str) -> str | None:
        """The id of registry `name`, or None if HSS does not list it yet after retries."""
        for attempt in range(LOOKUP_ATTEMPTS):
            self._fresh_listing()
            with self._cond:
                if name in self._ids:
                    return self._ids[name]
            time.sleep(LOOKUP_BACKOFF_SECONDS * (attempt + 1))
        return None

    def _fresh_listing(self) -> None:
        with self._cond:
            needed = self._started + 1
            while self._finished < needed:
                if self._running:
                    self._cond.wait()
                    continue
                self._running = True
                self._started += 1
                number = self._started
                self._cond.release()
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
                self._cond.notify_all()
                if error is not None:
                    raise error
                self._ids = {str(r["registry_name"]): str(r["id"]) for r in listing or ()}
