"""How fast apply sends: it learns the gateway's rate limit from its 429s (AIMD, on the rate).

APIG throttles each user to N calls per second per API; past that it answers
429 (APIG.0308). Apply's workers used to retry each 429 on their own, at full
width, so a throttled run kept hammering the gateway and spent its time in
backoff. One ``AdaptivePace`` per endpoint now spaces every attempt of every
worker, the way TCP shares a link:

- unthrottled, attempts start as fast as the workers (``--parallelism``) go;
- the first 429 sets the pace to a little under what passed in the last
  second (the limit, measured); a later one cuts it multiplicatively, once
  per episode (the answers to attempts already sent are not news);
- every attempt that passes adds ``increase / rate``: about ``increase``
  requests per second more each second, so the pace climbs back and probes
  for room;
- a 429's Retry-After pauses every worker, not only the one throttled; a 429
  without one pauses for a second (APIG counts per second). ``Retry-After: 0``
  is the gateway saying no wait is needed: retried at once, the pace kept.

The pace is a rate, not a window of calls in flight, because the limit is a
rate: at 20 ms a call, even one call at a time is 50 a second.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

# The window the first 429 measures the limit over, and the pause a 429 without Retry-After earns.
WINDOW = 1.0
# Passed attempts remembered for that measure: bounds memory at any speed.
MAX_REMEMBERED = 10_000


class AdaptivePace:
    """Additive increase, multiplicative decrease of the request rate, shared by threads.

    Implements :class:`reconciler.hss.retry.Admission`; clock and sleep are
    injectable so tests run in no time.
    """

    def __init__(self, *, increase: float = 2.0, decrease: float = 0.85, first_cut: float = 0.9,
                 min_rate: float = 0.5, max_rate: float = 10_000.0,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not (0 < decrease < 1 and 0 < first_cut <= 1 and 0 < min_rate <= max_rate and increase >= 0):
            raise ValueError("need 0 < decrease < 1, 0 < first_cut <= 1, 0 < min_rate <= max_rate")
        self.increase, self.decrease, self.first_cut = increase, decrease, first_cut
        self.min_rate, self.max_rate = min_rate, max_rate
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._rate: float | None = None  # requests per second; None: not throttled yet, no pacing
        self._next = 0.0  # when the next attempt may start (a reservation per admitted attempt)
        self._paused_until = 0.0
        self._episode_ends = 0.0  # 429s before this belong to the episode already answered
        self._passed: deque[float] = deque(maxlen=MAX_REMEMBERED)
        self.throttles = 0  # 429s seen, for logs and tests

    @property
    def rate(self) -> float | None:
        with self._lock:
            return self._rate

    def admit(self, until: float) -> None:
        while True:
            with self._lock:
                now = self._clock()
                start = max(now, self._paused_until, self._next)
                if self._rate is not None:
                    self._next = start + 1.0 / self._rate
                pause = self._paused_until
            if start > now:
                self._sleep(max(0.0, min(start, until) - now))
            with self._lock:
                if self._paused_until <= pause or self._clock() >= until:
                    return  # no pause began while this waited (or the caller's deadline is here)

    def passed(self) -> None:
        with self._lock:
            self._passed.append(self._clock())
            if self._rate is not None:
                self._rate = min(self.max_rate, self._rate + self.increase / self._rate)

    def throttled(self, retry_after: float | None) -> None:
        with self._lock:
            self.throttles += 1
            now = self._clock()
            wait = WINDOW if retry_after is None else retry_after
            if wait <= 0:
                return
            self._paused_until = max(self._paused_until, now + wait)
            if now < self._episode_ends:
                return
            if self._rate is None:
                measured = sum(1 for when in self._passed if when > now - WINDOW)
                self._rate = max(self.min_rate, self.first_cut * max(1, measured))
            else:
                self._rate = max(self.min_rate, self.decrease * self._rate)
            self._next = self._paused_until
            # Attempts sent before the pause may still come back throttled: the same episode.
            self._episode_ends = self._paused_until + 1.0 / self._rate
