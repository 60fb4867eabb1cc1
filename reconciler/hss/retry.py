"""When an HSS call may be tried again, and how long to wait first.

The API gateway throttles (429), backends fail (5xx) and connections drop; a
run of two hundred calls meets all three. What may be repeated depends on
what the call does:

- GET, PUT and DELETE are idempotent: sending one twice ends the same as
  sending it once.
  They are retried on 429, 5xx and any connection failure.
- AddRegistry is not: HSS returns no id, so a second add after a lost answer
  creates a second registry or fails as a duplicate. It is retried only when the
  request certainly did nothing: a 429 (the gateway refuses before HSS sees it)
  or a connection that was never made. When it may have been processed (a 5xx,
  a timeout or a connection lost after sending), the client raises
  :class:`~reconciler.hss.errors.AddOutcomeUnknown` and the caller lists by name
  before deciding anything.
- Authentication failures are never retried: more than five bad AK/SK
  signatures lock the key for five minutes, and retrying a bad one only gets
  there sooner. Nor are TLS handshake failures (an untrusted certificate
  stays untrusted).
- A connection that cannot be made at all (refused, host not found) is
  retried only a few times: that is nearly always a wrong endpoint, and
  a minute of backoff before saying so helps nobody.

Waits grow exponentially with full jitter (so parallel callers spread out),
are capped, never undercut a ``Retry-After``, and the whole call is bounded in
attempts and in time. Sleep, randomness and the clock are injectable so tests
never wait.
"""

from __future__ import annotations

import enum
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol

import httpx

# APIG.0301: bad token or signature (and the AK lockout); APIG.0307: the token
# has expired. Retrying cannot fix either, and can lock the key.
AUTH_ERROR_CODES = frozenset({"APIG.0301", "APIG.0307"})
THROTTLED = 429

# Failures where the request certainly never reached the server: safe to resend
# even when it is not idempotent.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Failures retrying cannot fix: a bad URL scheme, a request httpx itself refuses.
_PERMANENT = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)


class Verdict(enum.Enum):
    RETRY = "retry"  # safe to send again
    UNKNOWN = "unknown"  # may have been done; only an idempotent call may be sent again
    FAIL = "fail"  # final: retrying will not help


def is_tls_failure(exc: httpx.TransportError) -> bool:
    # httpx wraps ssl.SSLError in ConnectError; only its text tells them apart.
    text = str(exc).lower()
    return isinstance(exc, httpx.ConnectError) and ("certificate" in text or "ssl" in text)


def is_connect_failure(outcome: httpx.Response | httpx.TransportError) -> bool:
    """No connection could be made (refused, unresolvable): the few-attempts case."""
    return isinstance(outcome, httpx.ConnectError)


def classify(outcome: httpx.Response | httpx.TransportError, error_code: str | None) -> Verdict:
    """What a failed attempt means, before knowing whether the call is idempotent."""
    if error_code in AUTH_ERROR_CODES:
        return Verdict.FAIL
    if isinstance(outcome, httpx.Response):
        if outcome.status_code == THROTTLED:
            return Verdict.RETRY
        return Verdict.UNKNOWN if outcome.status_code >= 500 else Verdict.FAIL
    if isinstance(outcome, _PERMANENT) or is_tls_failure(outcome):
        return Verdict.FAIL
    if isinstance(outcome, _NOT_SENT):
        return Verdict.RETRY
    return Verdict.UNKNOWN  # read or write failed, timed out, or the server hung up


def retry_after_seconds(response: httpx.Response, now: Callable[[], datetime]) -> float | None:
    """The ``Retry-After`` header in seconds (delta-seconds or an HTTP date); None if absent or bad."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now()).total_seconds())


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently one call is retried.

    ``max_attempts`` counts the first try; ``connect_attempts`` caps it when
    the connection itself fails. No retry starts once it would end more than
    ``max_elapsed`` seconds after the first try began: a call that keeps
    failing gives up within a known time instead of stalling an apply.
    """

    max_attempts: int = 10
    connect_attempts: int = 3
    base_delay: float = 0.25
    max_delay: float = 10.0
    max_elapsed: float = 60.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    random: Callable[[], float] = field(default=random.random, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    now: Callable[[], datetime] = field(default=_utcnow, repr=False)

    def __post_init__(self) -> None:
        if min(self.max_attempts, self.connect_attempts) < 1:
            raise ValueError("max_attempts and connect_attempts: must be at least 1")
        if min(self.base_delay, self.max_delay, self.max_elapsed) < 0:
            raise ValueError("delays must not be negative")

    def backoff(self, retry: int) -> float:
        """Full jitter: uniform in [0, min(max_delay, base_delay * 2**(retry-1))]; retry counts from 1."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** min(retry - 1, 30))
        return ceiling * self.random()

    def next_delay(self, attempt: int, elapsed: float, retry_after: float | None, *,
                   connect_failure: bool = False) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or None to give up.

        A ``Retry-After`` is a floor: waiting less only earns another 429. A
        little jitter goes on top so that callers throttled together do not
        all return in the same instant.
        """
        limit = min(self.max_attempts, self.connect_attempts) if connect_failure else self.max_attempts
        if attempt >= limit:
            return None
        delay = self.backoff(attempt)
        if retry_after is not None:
            delay = retry_after + min(delay, self.base_delay)
        if elapsed + delay > self.max_elapsed:
            return None
        return delay


DEFAULT_RETRY = RetryPolicy()


class Admission(Protocol):
    """When each attempt of a call may start, shared by the calls of one run (apply's pacing).

    The retry policy above decides for one call; an admission sees every call
    to an endpoint, so a 429 slows all of them down instead of each retrying on
    its own at full width. The client calls ``admit`` before every attempt and
    tells it what the attempt met.
    """

    def admit(self, until: float) -> None:
        """Return when an attempt may start, or at ``until`` (time.monotonic) at the latest."""

    def passed(self) -> None:
        """An attempt was answered, and not throttled."""

    def throttled(self, retry_after: float | None) -> None:
        """An attempt was answered 429, with this Retry-After in seconds (None without one)."""


class OpenAdmission:
    """Every attempt starts at once: a lone call (plan, show) has nobody to share a limit with."""

    def admit(self, until: float) -> None:
        return None

    def passed(self) -> None:
        return None

    def throttled(self, retry_after: float | None) -> None:
        return None


OPEN = OpenAdmission()
