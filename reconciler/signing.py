"""The SDK-HMAC-SHA256 request signature of Huawei Cloud APIG.

A leaf module with no imports from the engine: the HTTP client signs with it
and the emulator verifies with it, so both sides agree by construction and the
oracle test (tests/oracle) pins both to the official SDK's ``Signer``.

The algorithm is the one Huawei Cloud's API Request Signing Guide documents
(chapter "AK/SK Signing and Authentication Algorithm", from its first page,
"AK/SK Authentication Process": canonical request, string to sign, signature,
Authorization header):
https://support.huaweicloud.com/intl/en-us/devg-apisign/api-sign-algorithm-001.html
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote

ALGORITHM = "SDK-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
DATE_HEADER = "X-Sdk-Date"
EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()
# The SDK's payload-hash header: when present, its value stands for the body's hash in the
# canonical request (a caller that hashed a large body already, or UNSIGNED-PAYLOAD).
CONTENT_SHA256_HEADER = "X-Sdk-Content-Sha256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
_SIGNED_CONTENT_TYPES = ("application/json", "application/bson")


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


def with_content_hash(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers to sign and send: the SDK's ``Signer._process_content_header`` applied.

    A body that is neither JSON nor BSON is not hashed: the SDK sets
    ``X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD`` (replacing a caller's value), and
    the header is signed like any other. Call before ``sign`` and send what it returns.
    """
    content_type = _header(headers, "Content-Type")
    if not content_type or content_type.startswith(_SIGNED_CONTENT_TYPES):
        return dict(headers)
    kept = {k: v for k, v in headers.items() if k.lower() != CONTENT_SHA256_HEADER.lower()}
    return {**kept, CONTENT_SHA256_HEADER: UNSIGNED_PAYLOAD}


def payload_hash(headers: Mapping[str, str], body: bytes) -> str:
    """The body's hash in the signature, as the SDK's ``_process_hash_payload`` takes it.

    An empty body's hash; else the caller's X-Sdk-Content-Sha256; else the body's sha256.
    """
    if not body:
        return EMPTY_BODY_SHA256
    given = _header(headers, CONTENT_SHA256_HEADER)
    return given if given else hashlib.sha256(body).hexdigest()


def _encode(value: str) -> str:
    return quote(value, safe="~")


def canonical_uri(path: str) -> str:
    """Each segment percent-encoded, always ending in '/' (as APIG expects)."""
    encoded = "/".join(_encode(segment) for segment in unquote(path).split("/"))
    return encoded if encoded.endswith("/") else encoded + "/"


def canonical_query(params: Iterable[tuple[str, str]]) -> str:
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(params))


def signed_header_names(headers: Mapping[str, str]) -> list[str]:
    # The SDK skips names with '_' (some proxies drop them), so we do too.
    return sorted(name.lower() for name in headers if "_" not in name)


def canonical_request(
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    headers: Mapping[str, str],
    signed_headers: list[str],
    body: bytes,
) -> str:
    lowered = {name.lower(): str(value).strip() for name, value in headers.items()}
    header_lines = "".join(f"{name}:{lowered.get(name, '')}\n" for name in signed_headers)
    body_hash = payload_hash(headers, body)
    return "\n".join(
        [
            method.upper(),
            canonical_uri(path),
            canonical_query(query),
            header_lines,
            ";".join(signed_headers),
            body_hash,
        ]
    )


def signature(secret_key: str, sdk_date: str, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    string_to_sign = f"{ALGORITHM}\n{sdk_date}\n{digest}"
    return hmac.new(secret_key.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def authorization_header(access_key: str, signed_headers: list[str], sig: str) -> str:
    return f"{ALGORITHM} Access={access_key}, SignedHeaders={';'.join(signed_headers)}, Signature={sig}"


@dataclass(frozen=True)
class ParsedAuthorization:
    access_key: str
    signed_headers: list[str]
    signature: str


def parse_authorization(value: str) -> ParsedAuthorization | None:
    """Split an ``Authorization`` header; None when it is not an SDK-HMAC-SHA256 one."""
    algorithm, _, rest = value.partition(" ")
    if algorithm != ALGORITHM:
        return None
    parts: dict[str, str] = {}
    for item in rest.split(","):
        key, sep, val = item.strip().partition("=")
        if sep:
            parts[key] = val
    if not {"Access", "SignedHeaders", "Signature"} <= parts.keys():
        return None
    return ParsedAuthorization(parts["Access"], parts["SignedHeaders"].split(";"), parts["Signature"])


def sign(
    access_key: str,
    secret_key: str,
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    headers: Mapping[str, str],
    body: bytes,
) -> str:
    """The Authorization value for a request whose headers already hold X-Sdk-Date and Host.

    ``headers`` are what will be sent, after ``with_content_hash``.
    """
    names = signed_header_names(headers)
    canonical = canonical_request(method, path, query, headers, names, body)
    sdk_date = _header(headers, DATE_HEADER) or ""
    return authorization_header(access_key, names, signature(secret_key, sdk_date, canonical))


def verify(
    secret_key: str,
    parsed: ParsedAuthorization,
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    headers: Mapping[str, str],
    body: bytes,
) -> bool:
    """Recompute the signature over the headers the client said it signed."""
    sdk_date = _header(headers, DATE_HEADER) or ""
    canonical = canonical_request(method, path, query, headers, parsed.signed_headers, body)
    expected = signature(secret_key, sdk_date, canonical)
    return hmac.compare_digest(expected, parsed.signature)
