"""Temporary AK/SK with a security token, as IAM issues them, and the check APIG makes of them.

IAM's temporary access keys only work together with their security token
(``X-Security-Token``) and until ``expires_at``
(https://support.huaweicloud.com/intl/en-us/api-iam/iam_04_0002.html). The
credential services (``iam.py``, ``instance.py``) issue them here;
``auth.Authenticator`` looks a signature's access key up here when it is not
one of the configured permanent keys.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from reconciler.emulator.errors import unauthorized

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # IAM's expires_at, as the SDK parses it
MAX_KEPT = 10_000  # expired keys are dropped past this, so a long test run stays small


@dataclass(frozen=True)
class TemporaryKey:
    access: str
    secret: str
    security_token: str
    expires_at: float  # seconds since the epoch

    def as_credential(self) -> dict[str, str]:
        """The ``credential`` object IAM and the metadata service answer."""
        expires = datetime.fromtimestamp(self.expires_at, UTC).strftime(TIME_FORMAT)
        return {"access": self.access, "secret": self.secret, "securitytoken": self.security_token,
                "expires_at": expires}


class TemporaryKeys:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, TemporaryKey] = {}
        self.issued = 0  # how many were issued since the last reset (tests assert refreshes)

    def issue(self, lifetime_seconds: float) -> TemporaryKey:
        # invented: real temporary AKs are 20 upper-case characters, tokens ~1-2 KB of base64.
        key = TemporaryKey("TMP" + secrets.token_hex(8).upper(), secrets.token_hex(20),
                           "st-" + secrets.token_urlsafe(96), self._clock() + lifetime_seconds)
        with self._lock:
            if len(self._keys) >= MAX_KEPT:
                now = self._clock()
                self._keys = {ak: k for ak, k in self._keys.items() if k.expires_at > now}
            self._keys[key.access] = key
            self.issued += 1
        return key

    def secret_for(self, access_key: str, security_token: str | None) -> str | None:
        """The secret key of a temporary ``access_key``; None when it is not one.

        Raises APIG's 401 (APIG.0301) when the security token is missing,
        wrong, or past its expiry. invented: the message details; APIG's are
        "Incorrect IAM authentication information: ..." with reasons not
        published for these cases.
        """
        with self._lock:
            key = self._keys.get(access_key)
        if key is None:
            return None
        if security_token is None:
            raise unauthorized("Get secretKey failed, err:X-Security-Token is required for a temporary AK")
        if not hmac.compare_digest(security_token.encode("utf-8", "surrogateescape"),
                                   key.security_token.encode()):
            raise unauthorized("Get secretKey failed, err:the security token does not match the AK")
        if self._clock() >= key.expires_at:
            raise unauthorized("Get secretKey failed, err:the security token has expired")
        return key.secret

    def reset(self) -> None:
        with self._lock:
            self._keys.clear()
            self.issued = 0
