"""AWS Signature Version 4 for S3 requests, with the payload's real SHA-256.

Why our own ~60 lines rather than boto3 or an OBS SDK (issue 18): correctness
on OBS first. boto3 since 1.36 adds CRC32 checksum headers and, for uploads,
`aws-chunked` streaming payloads with trailers, which OBS-style stores reject
(Terraform's `XAmzContentSHA256Mismatch` on OBS is this class of failure). Here
every request is a plain body whose SHA-256 is in `x-amz-content-sha256` and
signed: the lowest common denominator every S3-compatible store accepts. The
conditional headers (If-Match, If-None-Match) are sent exactly as asked. And it
costs no import beyond hashlib: botocore alone takes longer to import than a
whole plan. tests/unit/test_state_backends.py checks it against botocore's
signer, a session token included.

Temporary credentials (AWS STS, or Huawei's from IdP federation, ECS metadata
or pod identity) add their token as `x-amz-security-token`, signed with the
other headers: that is the header OBS's S3-compatible API names for the
requests of federated users (its "Common Request Headers"), and what AWS wants.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import quote, unquote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "s3"


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def _canonical_query(query: str) -> str:
    pairs = []
    for item in query.split("&") if query else []:
        name, _, value = item.partition("=")
        pairs.append((quote(unquote(name), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return "&".join(f"{n}={v}" for n, v in sorted(pairs))


def sign(method: str, url: str, headers: Mapping[str, str], body: bytes, *, access_key: str,
         secret_key: str, region: str, now: datetime, session_token: str | None = None) -> dict[str, str]:
    """The headers to add to the request: x-amz-date, x-amz-content-sha256, Authorization
    (and x-amz-security-token for temporary credentials). `now` is UTC.

    Every header given is signed, so pass only what is sent (Host included).
    """
    parts = urlsplit(url)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    scope = f"{now.strftime('%Y%m%d')}/{region}/{SERVICE}/aws4_request"
    payload_hash = hashlib.sha256(body).hexdigest()
    added = {"x-amz-date": amz_date, "x-amz-content-sha256": payload_hash}
    if session_token:
        added["x-amz-security-token"] = session_token
    signed = {name.lower(): " ".join(str(value).split()) for name, value in {**headers, **added}.items()}
    names = sorted(signed)
    canonical = "\n".join([
        method.upper(),
        parts.path or "/",  # as sent: the caller encoded the key once (quote(key, safe="/-_.~")), as S3 wants
        _canonical_query(parts.query),
        "".join(f"{name}:{signed[name]}\n" for name in names),
        ";".join(names),
        payload_hash,
    ])
    to_sign = "\n".join([ALGORITHM, amz_date, scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
    key = _hmac(("AWS4" + secret_key).encode("utf-8"), now.strftime("%Y%m%d"))
    for part in (region, SERVICE, "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    added["Authorization"] = (f"{ALGORITHM} Credential={access_key}/{scope}, "
                              f"SignedHeaders={';'.join(names)}, Signature={signature}")
    return added
