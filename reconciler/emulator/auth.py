"""Who may call: an IAM token or an SDK-HMAC-SHA256 signature, as APIG checks them.

Signatures are verified with ``reconciler.signing`` over the request exactly
as received (raw path, raw query pairs, received headers, raw body) and over
the header list the client says it signed, so any client that signs the way
the official SDK does is accepted. Like APIG, more than ``lockout_threshold``
bad signatures in a row lock an access key for ``lockout_seconds``; during the
lock even a good signature is refused, with the same APIG.0301 code the real
gateway uses. A temporary access key (``tempkeys.py``) needs its security token
(``X-Security-Token``), unexpired. Messages never contain a token, a secret key
or a signature.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from reconciler import signing
from reconciler.emulator.config import EmulatorConfig
from reconciler.emulator.errors import unauthorized
from reconciler.emulator.tempkeys import TemporaryKeys

TOKEN_HEADER = "x-auth-token"
SECURITY_TOKEN_HEADER = "x-security-token"


@dataclass(frozen=True)
class ReceivedRequest:
    """A request as it came off the wire; what a signature covers."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: Mapping[str, str]  # names as received
    body: bytes

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


class Authenticator:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, int] = {}
        self._locked_until: dict[str, float] = {}
        self.temporary = TemporaryKeys(clock)  # issued by the credential services, with security tokens

    def check(self, request: ReceivedRequest, config: EmulatorConfig) -> None:
        """Return if the caller is authenticated; raise the 401 ApiFailure otherwise."""
        if not config.auth_enabled:
            return
        token = request.header(TOKEN_HEADER)
        if token is not None:
            if not any(_same(token, known) for known in config.tokens):
                raise unauthorized("decrypt token fail")
            return
        authorization = request.header("Authorization")
        if authorization is None:
            raise unauthorized("missing X-Auth-Token or Authorization header")
        parsed = signing.parse_authorization(authorization)
        if parsed is None:
            raise unauthorized(f"Authorization is not {signing.ALGORITHM}")
        secret_key = config.aksk.get(parsed.access_key)
        if secret_key is None:
            secret_key = self.temporary.secret_for(parsed.access_key, request.header(SECURITY_TOKEN_HEADER))
        if secret_key is None:
            raise unauthorized("access key not found")
        self._check_lock(parsed.access_key)
        self._check_date(request, config)
        good = signing.verify(
            secret_key, parsed, request.method, request.path, request.query, request.headers,
            request.body,
        )
        self._record(parsed.access_key, good, config)

    def reset(self) -> None:
        with self._lock:
            self._failures.clear()
            self._locked_until.clear()
        self.temporary.reset()

    def _check_lock(self, access_key: str) -> None:
        with self._lock:
            remaining = self._locked_until.get(access_key, 0.0) - self._clock()
        if remaining > 0:
            raise unauthorized(
                f"access key locked after repeated signature failures, retry in {remaining:.0f} s"
            )

    def _check_date(self, request: ReceivedRequest, config: EmulatorConfig) -> None:
        sent = request.header(signing.DATE_HEADER)
        try:
            when = datetime.strptime(sent or "", signing.DATE_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            raise unauthorized(f"{signing.DATE_HEADER} missing or malformed") from None
        if abs(when.timestamp() - self._clock()) > config.max_clock_skew_seconds:
            server = datetime.fromtimestamp(self._clock(), UTC).strftime(signing.DATE_FORMAT)
            raise unauthorized(f"signature expired, signature time:{sent}, server time:{server}")

    def _record(self, access_key: str, good: bool, config: EmulatorConfig) -> None:
        with self._lock:
            if good:
                self._failures.pop(access_key, None)
                return
            failures = self._failures.get(access_key, 0) + 1
            if failures <= config.lockout_threshold:
                self._failures[access_key] = failures
                locked = False
            else:
                self._failures.pop(access_key, None)
                self._locked_until[access_key] = self._clock() + config.lockout_seconds
                locked = True
        if locked:
            raise unauthorized(
                f"verify aksk signature fail; access key locked for {config.lockout_seconds:.0f} s"
            )
        raise unauthorized("verify aksk signature fail")


def _same(given: str, known: str) -> bool:
    # Constant time, and bytes so that non-ASCII header text cannot raise.
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), known.encode("utf-8"))
