"""Temporary credentials kept fresh, for every thread of a run.

The SDK (huaweicloudsdkcore ``Credentials._is_expired``) fetches new ones once
fewer than 40 minutes are left. Credentials that live less than twice that
would then be fetched for every request, so here the margin is the SDK's 40
minutes or half the credentials' lifetime, whichever is shorter (a deviation:
identical for the usual lifetimes of an hour and more). Apply calls from many
threads: one lock makes exactly one of them fetch while the others wait for
its result, never a burst of identical IAM calls.

A fetch that fails ends the run's use of this source: its error is kept and
every later call raises it at once. Otherwise each waiting apply worker would
fetch again in turn, one IAM call (or one FETCH_SECONDS wait, for a service
that does not answer) per remaining operation. It is raised as
`CredentialsFailed`, so apply knows to start nothing new; the run stops, its
state holding what was done.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from reconciler.errors import CredentialsFailed, ReconcilerError
from reconciler.hss.credentials import Credentials

SDK_MARGIN_SECONDS = 40 * 60  # huaweicloudsdkcore Credentials._DEFAULT_EXPIRATION_THRESHOLD_SECONDS
# IAM issues temporary credentials for 15 minutes to 24 hours (duration_seconds 900-86400): an
# expires_at further away (year 9999) is not believed, or credentials would never be refreshed.
MAX_LIFETIME_SECONDS = 24 * 60 * 60


class RefreshingCredentials:
    """A provider: call it for credentials that are not about to expire."""

    def __init__(self, fetch: Callable[[], Credentials], *, first: Credentials | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._current = first  # already fetched (the chain's probe of the metadata service)
        self._refresh_at = 0.0 if first is None else refresh_time(first, clock())
        self.fetches = 0 if first is None else 1  # how many times credentials were fetched
        self._failure: str | None = None  # why the fetch that failed failed

    def __call__(self) -> Credentials:
        with self._lock:
            if self._failure is not None:
                raise CredentialsFailed(self._failure)
            now = self._clock()
            if self._current is None or now >= self._refresh_at:
                self.fetches += 1
                try:
                    self._current = self._fetch()
                except ReconcilerError as exc:
                    self._failure = str(exc)
                    raise CredentialsFailed(self._failure) from None
                self._refresh_at = refresh_time(self._current, now)
            return self._current

    def __repr__(self) -> str:
        return f"RefreshingCredentials(fetches={self.fetches})"


def refresh_time(credentials: Credentials, fetched_at: float) -> float:
    """When to fetch again: the SDK's margin before expiry, at most half the lifetime."""
    if credentials.expires_at is None:
        return float("inf")
    expires_at = min(credentials.expires_at, fetched_at + MAX_LIFETIME_SECONDS)
    lifetime = max(expires_at - fetched_at, 0.0)
    return expires_at - min(SDK_MARGIN_SECONDS, lifetime / 2)
