"""An S3 proxy that checks every request's signature as the store would, botocore being the oracle.

moto's server accepts any signature and any x-amz-security-token, so on its own it cannot show that
the S3 state signs with the credential chain's AK/SK and sends their security token. This proxy sits
in front of it and does what OBS or S3 does before serving a request: it looks the access key up
(the emulator's permanent keys, then the temporary ones its IAM and metadata service issued, which
work only with their own security token and until they expire), checks x-amz-content-sha256 against
the body, recomputes the signature with botocore's S3SigV4Auth over the headers the request says it
signed, and answers 403 when anything is off. Every request is recorded, answered or refused.
invented: the error codes of the refusals (S3's names, not checked against OBS's).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from tests.e2e.stores import ForwardingHandler, forwarding_proxy

AUTHORIZATION = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([a-z0-9-]+)/s3/aws4_request, "
                           r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})")
# The secret of an access key, given the security token sent with it; None: not a key we know.
# Raises when the key is temporary and the token is missing, wrong or expired.
SecretLookup = Callable[[str, "str | None"], "str | None"]


@dataclass(frozen=True)
class Seen:
    method: str
    access_key: str
    token_sent: bool
    token_signed: bool
    refused: str | None  # the error code answered, None when forwarded


@dataclass
class Checked:
    url: str
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def refusals(self) -> list[Seen]:
        return [s for s in self.seen if s.refused]


def _error(code: str) -> bytes:
    return f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code></Error>".encode()


class _CheckingHandler(ForwardingHandler):
    secret_of: SecretLookup
    record: Checked

    def refusal(self, body: bytes) -> bytes | None:
        match = AUTHORIZATION.fullmatch(self.headers.get("Authorization", ""))
        token = self.headers.get("x-amz-security-token")
        if match is None:
            return self._refuse("", token, False, "AccessDenied")
        access_key, _, region, signed, signature = match.groups()
        names = signed.split(";")
        signs_token = "x-amz-security-token" in names
        try:
            secret = type(self).secret_of(access_key, token)
        except Exception:  # the emulator refuses a temporary key without its token, or expired
            return self._refuse(access_key, token, signs_token, "ExpiredToken")
        if secret is None:
            return self._refuse(access_key, token, signs_token, "InvalidAccessKeyId")
        if token is not None and not signs_token:
            return self._refuse(access_key, token, signs_token, "AccessDenied")
        if self.headers.get("x-amz-content-sha256") != hashlib.sha256(body).hexdigest():
            return self._refuse(access_key, token, signs_token, "XAmzContentSHA256Mismatch")
        if any(self.headers.get(name) is None for name in names):
            return self._refuse(access_key, token, signs_token, "AccessDenied")
        if not hmac.compare_digest(signature, self._expected(access_key, secret, token, region, names, body)):
            return self._refuse(access_key, token, signs_token, "SignatureDoesNotMatch")
        self._note(access_key, token, signs_token, None)
        return None

    def _expected(self, access_key: str, secret: str, token: str | None, region: str, names: list[str],
                  body: bytes) -> str:
        from botocore.auth import S3SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        headers = {name: str(self.headers[name]) for name in names}
        request = AWSRequest(method=self.command, url=f"http://{self.headers['host']}{self.path}",
                             data=body, headers=headers)
        request.context["timestamp"] = self.headers["x-amz-date"]
        signer = S3SigV4Auth(Credentials(access_key, secret, token), "s3", region)
        signature: str = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)),
                                          request)
        return signature

    def _refuse(self, access_key: str, token: str | None, signs_token: bool, code: str) -> bytes:
        self._note(access_key, token, signs_token, code)
        return _error(code)

    def _note(self, access_key: str, token: str | None, signs_token: bool, refused: str | None) -> None:
        record = type(self).record
        with record.lock:
            record.seen.append(Seen(self.command, access_key, token is not None, signs_token, refused))


@contextlib.contextmanager
def checking_proxy(upstream: str, secret_of: SecretLookup) -> Iterator[Checked]:
    """A proxy in front of the S3 server `upstream` that refuses what a real store would refuse."""
    record = Checked("")
    with forwarding_proxy(upstream, _CheckingHandler, secret_of=staticmethod(secret_of),
                          record=record) as url:
        record.url = url
        yield record
