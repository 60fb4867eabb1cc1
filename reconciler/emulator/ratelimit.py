"""Per-credential throttling, as APIG's user flow control answers it.

Real APIG counts each user's calls per second and answers the one over the
limit with 429 and ``APIG.0308``, ``"The throttling threshold has been
reached: policy user over ratelimit,limit:N,time:1 second"`` (the wording of
Huawei's APIG.0308 FAQ pages). With ``X-Apig-Mode: debug`` on the request it
also says ``X-Apig-RateLimit-user: remain:0,limit:N,time:1 second`` (APIG's
"Response Headers" page). That is what a fast apply meets in production,
unlike the random 429s of ``throttle_rate``.

invented: APIG counts in one-second windows per API; the emulator keeps one
token bucket per credential across all HSS APIs (refilled at ``rate_limit``
per second, holding at most one second's worth), which allows the same burst
and the same sustained rate. invented: APIG documents no ``Retry-After`` on
APIG.0308; the emulator sends one (whole seconds until the next token, at
least 1), which issue 16 asks for and a client must honour if it comes.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable

from reconciler import signing
from reconciler.emulator.auth import TOKEN_HEADER, ReceivedRequest
from reconciler.emulator.errors import THROTTLED, ApiFailure

THROTTLED_MESSAGE = ("The throttling threshold has been reached: "
                     "policy user over ratelimit,limit:{limit},time:1 second")
DEBUG_HEADER, DEBUG_VALUE = "X-Apig-Mode", "debug"
# One bucket per credential; a caller cycling through made-up tokens must not grow this without end.
MAX_BUCKETS = 10_000


def credential_of(request: ReceivedRequest) -> str:
    """Whose bucket a request draws from, in the order auth.py reads them: a digest of the token
    (never the token itself), else the access key."""
    token = request.header(TOKEN_HEADER)
    if token is not None:
        return "token:" + hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()
    authorization = request.header("Authorization")
    parsed = signing.parse_authorization(authorization) if authorization else None
    return "ak:" + parsed.access_key if parsed is not None else "anonymous"


class RateLimiter:
    """Token buckets by credential; ``admit`` raises the 429 ApiFailure when the caller's is empty."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # credential -> (tokens, when counted)

    def admit(self, request: ReceivedRequest, rate: float) -> None:
        """Take one token from the caller's bucket; ``rate`` 0 means no limit."""
        if rate <= 0:
            return
        credential = credential_of(request)
        capacity = max(1.0, rate)
        with self._lock:
            now = self._clock()
            tokens, then = self._buckets.get(credential, (capacity, now))
            tokens = min(capacity, tokens + (now - then) * rate)
            if tokens >= 1.0:
                if len(self._buckets) >= MAX_BUCKETS and credential not in self._buckets:
                    self._buckets.clear()  # forgetting a bucket only ever lets a caller through
                self._buckets[credential] = (tokens - 1.0, now)
                return
            self._buckets[credential] = (tokens, now)
            wait = (1.0 - tokens) / rate
        raise throttled(rate, wait, debug=(request.header(DEBUG_HEADER) or "").lower() == DEBUG_VALUE)

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()


def throttled(rate: float, wait: float, *, debug: bool = False) -> ApiFailure:
    """APIG's answer over the limit; ``wait`` seconds until the next request would pass."""
    limit = f"{rate:g}"
    headers = {"Retry-After": str(max(1, math.ceil(wait)))}
    if debug:
        headers["X-Apig-RateLimit-user"] = f"remain:0,limit:{limit},time:1 second"
    return ApiFailure(429, THROTTLED, THROTTLED_MESSAGE.format(limit=limit), headers)
