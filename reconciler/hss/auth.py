"""httpx authentication: AK/SK request signing and IAM token.

Signing is an ``httpx.Auth`` because it must run last, on the request exactly
as it will be sent (final URL, headers and body), which is what ``auth_flow``
is given. The signature itself is ``reconciler.signing``, shared with the
emulator and pinned to the official SDK by the oracle test.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from datetime import UTC, datetime

import httpx

from reconciler import signing
from reconciler.errors import ReconcilerError
from reconciler.hss.credentials import Credentials
from reconciler.secrets import Secret

# Sign a fixed small set rather than every header: proxies and httpx itself
# add or rewrite others (Accept-Encoding, Connection, User-Agent), and a
# signature over those would break in transit.
SIGNED_HEADERS = ("Host", "X-Sdk-Date", "X-Project-Id", "Content-Type", "X-Security-Token")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _raw_path(url: httpx.URL) -> str:
    # The path as sent, still percent-encoded: ``signing.canonical_uri``
    # decodes once itself, so the decoded ``url.path`` would be decoded twice
    # for an id holding '%'. For every ordinary path the two are the same.
    return url.raw_path.split(b"?", 1)[0].decode("ascii")


def sign_request(request: httpx.Request, access_key: str, secret_key: Secret,
                 security_token: Secret | None, now: datetime) -> None:
    """Sign ``request`` in place with SDK-HMAC-SHA256, its query re-encoded as signed."""
    params = encode_query_as_signed(request)
    request.headers[signing.DATE_HEADER] = now.strftime(signing.DATE_FORMAT)
    if "Host" not in request.headers:
        request.headers["Host"] = request.url.netloc.decode("ascii")
    if security_token is not None:
        request.headers["X-Security-Token"] = security_token.reveal()
    to_sign = {name: request.headers[name] for name in SIGNED_HEADERS if name in request.headers}
    request.headers["Authorization"] = signing.sign(
        access_key, secret_key.reveal(), request.method, _raw_path(request.url), params, to_sign,
        request.content,
    )


class AkSkAuth(httpx.Auth):
    """Signs each request with SDK-HMAC-SHA256 (``Authorization`` header)."""

    requires_request_body = True  # the body hash is part of the signature

    def __init__(
        self,
        access_key: str,
        secret_key: Secret,
        security_token: Secret | None = None,
        *,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._access_key = access_key
        self._secret_key = secret_key
        self._security_token = security_token
        self._clock = clock

    def __repr__(self) -> str:
        return f"AkSkAuth(access_key={self._access_key!r})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        sign_request(request, self._access_key, self._secret_key, self._security_token, self._clock())
        yield request


def encode_query_as_signed(request: httpx.Request) -> list[tuple[str, str]]:
    """Send the query exactly as the signature encodes it; its decoded pairs.

    httpx form-encodes parameters (a space becomes `+`), while the signature,
    like the official SDK's, percent-encodes (`%20`). APIG decodes the query
    per RFC 3986, where `+` is a literal plus: what arrives must be what was
    signed, or a value with a space fails the signature (AK/SK) or arrives
    changed (token). So every request carries the signer's encoding.
    """
    params = request.url.params.multi_items()
    request.url = request.url.copy_with(query=signing.canonical_query(params).encode("ascii") or None)
    return params


def _send_token(request: httpx.Request, token: Secret) -> None:
    """Put the IAM token on ``request`` (its query encoded as a signed request's would be)."""
    encode_query_as_signed(request)
    request.headers["X-Auth-Token"] = token.reveal()


NO_USABLE_CREDENTIALS = "no HSS credentials: need an access key and secret key, or a token"


class TokenAuth(httpx.Auth):
    """Sends an IAM user token as ``X-Auth-Token``.

    That is the request header every HSS API reference page documents, e.g. AddRegistry:
    https://support.huaweicloud.com/intl/en-us/api-hss2.0/AddRegistry.html
    """

    def __init__(self, token: Secret) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "TokenAuth()"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        _send_token(request, self._token)
        yield request


class ProvidedAuth(httpx.Auth):
    """Asks a provider for the credentials of each request: temporary ones change during a run.

    The provider (:mod:`reconciler.hss.credsources.refreshing`) is thread-safe
    and refreshes before expiry, so every request, from whichever apply
    worker, is signed with credentials that are still valid when it is sent.
    """

    requires_request_body = True

    def __init__(self, provider: Callable[[], Credentials], *,
                 clock: Callable[[], datetime] = _utcnow) -> None:
        self._provider = provider
        self._clock = clock

    def __repr__(self) -> str:
        return "ProvidedAuth()"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        credentials = self._provider()
        if credentials.access_key is not None and credentials.secret_key is not None:
            sign_request(request, credentials.access_key, credentials.secret_key,
                         credentials.security_token, self._clock())
        elif credentials.auth_token is not None:
            _send_token(request, credentials.auth_token)
        else:
            raise ReconcilerError(NO_USABLE_CREDENTIALS)
        yield request


def auth_from_credentials(credentials: Credentials | Callable[[], Credentials]) -> httpx.Auth:
    """The ``httpx.Auth`` for whichever kind of credentials was found, or for a provider of them."""
    if not isinstance(credentials, Credentials):
        return ProvidedAuth(credentials)
    if credentials.access_key is not None and credentials.secret_key is not None:
        return AkSkAuth(credentials.access_key, credentials.secret_key, credentials.security_token)
    if credentials.auth_token is not None:
        return TokenAuth(credentials.auth_token)
    raise ReconcilerError(NO_USABLE_CREDENTIALS)
