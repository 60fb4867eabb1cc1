"""Counters a test reads back: calls per operation, faults, peak concurrency.

Peak in-flight requests is how an end-to-end test proves the client really
ran requests in parallel (or really held back to its limit); connections
accepted, that it kept its connections open and reused them.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[str] = Counter()
        self._faults: Counter[str] = Counter()
        self._statuses: Counter[int] = Counter()
        self._in_flight = 0
        self._max_in_flight = 0
        self._connections = 0

    @contextmanager
    def in_flight(self, operation: str) -> Iterator[None]:
        with self._lock:
            self._requests[operation] += 1
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1

    def connection(self) -> None:
        with self._lock:
            self._connections += 1

    def fault(self, kind: str) -> None:
        with self._lock:
            self._faults[kind] += 1

    def status(self, code: int) -> None:
        with self._lock:
            self._statuses[code] += 1

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            return {
                "requests": dict(self._requests),
                "total_requests": sum(self._requests.values()),
                "faults": dict(self._faults),
                "responses": {str(code): n for code, n in sorted(self._statuses.items())},
                "in_flight": self._in_flight,
                "max_in_flight": self._max_in_flight,
                "connections": self._connections,
            }

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._faults.clear()
            self._statuses.clear()
            self._max_in_flight = self._in_flight
            self._connections = 0
