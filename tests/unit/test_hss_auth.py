"""Credentials from the environment, AK/SK signing and token auth, seen from the server side."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import certifi
import httpx
import pytest

from reconciler import signing
from reconciler.errors import ReconcilerError
from reconciler.hss.auth import AkSkAuth, TokenAuth, auth_from_credentials
from reconciler.hss.credentials import Credentials, credentials_from_env
from reconciler.hss.transport import make_http_client
from reconciler.secrets import Secret

AK = "AKEXAMPLE0001"
SK = "sk-example-secret-0001"
FIXED = datetime(2026, 11, 23, 6, 13, 0, tzinfo=UTC)


def _capture(auth: httpx.Auth) -> tuple[httpx.Client, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    return httpx.Client(auth=auth, transport=httpx.MockTransport(handler)), seen


def _verify(request: httpx.Request, secret_key: str) -> bool:
    """What a server (the emulator, APIG) does with the request it received."""
    parsed = signing.parse_authorization(request.headers["Authorization"])
    assert parsed is not None
    return signing.verify(
        secret_key,
        parsed,
        request.method,
        request.url.path,
        request.url.params.multi_items(),
        request.headers,
        request.content,
    )


# -- credentials_from_env ---------------------------------------------------


def test_huaweicloud_pair_wins_over_cloud_pair_and_token() -> None:
    creds = credentials_from_env(
        {
            "HUAWEICLOUD_SDK_AK": "ak1",
            "HUAWEICLOUD_SDK_SK": "sk-one-secret",
            "CLOUD_SDK_AK": "ak2",
            "CLOUD_SDK_SK": "sk-two-secret",
            "HSS_AUTH_TOKEN": "token-value",
        }
    )
    assert creds.access_key == "ak1"
    assert creds.secret_key is not None and creds.secret_key.reveal() == "sk-one-secret"
    assert creds.auth_token is None and creds.security_token is None
    assert creds.kind == "aksk"


def test_cloud_pair_is_the_fallback() -> None:
    creds = credentials_from_env(
        {"CLOUD_SDK_AK": "ak2", "CLOUD_SDK_SK": "sk-two-secret", "HSS_AUTH_TOKEN": "token-value"}
    )
    assert creds.access_key == "ak2"
    assert creds.secret_key == Secret("sk-two-secret")


def test_security_token_is_picked_up() -> None:
    creds = credentials_from_env(
        {
            "HUAWEICLOUD_SDK_AK": "ak1",
            "HUAWEICLOUD_SDK_SK": "sk-one-secret",
            "HUAWEICLOUD_SDK_SECURITY_TOKEN": "sts-token-value",
        }
    )
    assert creds.security_token is not None
    assert creds.security_token.reveal() == "sts-token-value"


def test_token_when_no_keys_and_empty_values_count_as_unset() -> None:
    creds = credentials_from_env(
        {"HUAWEICLOUD_SDK_AK": "", "HUAWEICLOUD_SDK_SK": "", "HSS_AUTH_TOKEN": "token-value"}
    )
    assert creds.access_key is None
    assert creds.auth_token is not None and creds.auth_token.reveal() == "token-value"
    assert creds.kind == "token"
    assert "token-value" not in repr(creds)


def test_nothing_set_names_every_variable() -> None:
    with pytest.raises(ReconcilerError) as info:
        credentials_from_env({})
    message = str(info.value)
    assert "\n" not in message
    for name in ("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "CLOUD_SDK_AK", "HSS_AUTH_TOKEN"):
        assert name in message


def test_access_key_without_secret_key_names_the_missing_one() -> None:
    with pytest.raises(ReconcilerError, match="HUAWEICLOUD_SDK_SK is not"):
        credentials_from_env({"HUAWEICLOUD_SDK_AK": "ak1", "HSS_AUTH_TOKEN": "token-value"})
    with pytest.raises(ReconcilerError, match="CLOUD_SDK_SK is not"):
        credentials_from_env({"CLOUD_SDK_AK": "ak2"})


def test_secret_key_without_access_key_is_an_error_that_hides_the_secret() -> None:
    with pytest.raises(ReconcilerError) as info:
        credentials_from_env({"CLOUD_SDK_SK": "lonely-secret-key"})
    assert "CLOUD_SDK_AK is not" in str(info.value)
    assert "lonely-secret-key" not in str(info.value)


# -- AK/SK signing ------------------------------------------------------------


def test_aksk_signature_verifies_with_the_headers_the_server_received() -> None:
    client, seen = _capture(AkSkAuth(AK, Secret(SK), clock=lambda: FIXED))
    client.post(
        "https://hss.ap-southeast-1.myhuaweicloud.com/v5/proj/image/registries",
        params=[("enterprise_project_id", "0"), ("note", "a b/c~d")],
        headers={"X-Project-Id": "proj", "Content-Type": "application/json;charset=UTF-8"},
        content=b'{"registry_name":"harbor"}',
    )
    (request,) = seen
    assert request.headers["X-Sdk-Date"] == "20261123T061300Z"
    assert request.headers["Host"] == "hss.ap-southeast-1.myhuaweicloud.com"
    parsed = signing.parse_authorization(request.headers["Authorization"])
    assert parsed is not None
    assert parsed.access_key == AK
    assert parsed.signed_headers == ["content-type", "host", "x-project-id", "x-sdk-date"]
    assert _verify(request, SK)
    assert not _verify(request, "some-other-secret")


def test_aksk_signs_get_without_body_and_nonstandard_port() -> None:
    client, seen = _capture(AkSkAuth(AK, Secret(SK)))
    client.get("http://127.0.0.1:8443/v5/p/image/registries", params={"limit": "200"})
    (request,) = seen
    assert request.headers["Host"] == "127.0.0.1:8443"
    parsed = signing.parse_authorization(request.headers["Authorization"])
    assert parsed is not None and parsed.signed_headers == ["host", "x-sdk-date"]
    assert _verify(request, SK)
    datetime.strptime(request.headers["X-Sdk-Date"], signing.DATE_FORMAT)


def test_tampered_body_or_query_fails_verification() -> None:
    client, seen = _capture(AkSkAuth(AK, Secret(SK)))
    client.put("https://h/v5/p/image/registries/id1", params={"a": "1"}, content=b'{"x":1}')
    (request,) = seen
    parsed = signing.parse_authorization(request.headers["Authorization"])
    assert parsed is not None
    args = (request.method, request.url.path)
    assert not signing.verify(SK, parsed, *args, [("a", "2")], request.headers, request.content)
    assert not signing.verify(SK, parsed, *args, [("a", "1")], request.headers, b'{"x":2}')


def test_security_token_is_sent_and_signed() -> None:
    client, seen = _capture(AkSkAuth(AK, Secret(SK), Secret("sts-token-value")))
    client.get("https://h/v5/p/image/registries")
    (request,) = seen
    assert request.headers["X-Security-Token"] == "sts-token-value"
    parsed = signing.parse_authorization(request.headers["Authorization"])
    assert parsed is not None and "x-security-token" in parsed.signed_headers
    assert _verify(request, SK)


def test_unsigned_headers_do_not_enter_the_signature() -> None:
    client, seen = _capture(AkSkAuth(AK, Secret(SK)))
    client.get("https://h/v5/p/image/registries", headers={"User-Agent": "x", "X-Other": "y"})
    (request,) = seen
    parsed = signing.parse_authorization(request.headers["Authorization"])
    assert parsed is not None
    assert "user-agent" not in parsed.signed_headers and "x-other" not in parsed.signed_headers


def test_auth_repr_never_shows_secrets() -> None:
    auth = AkSkAuth(AK, Secret(SK), Secret("sts-token-value"))
    assert SK not in repr(auth) and "sts-token-value" not in repr(auth)
    assert "token-value" not in repr(TokenAuth(Secret("token-value")))


# -- token auth and the factory -------------------------------------------------


def test_token_auth_sets_x_auth_token_only() -> None:
    client, seen = _capture(TokenAuth(Secret("iam-token-value")))
    client.get("https://h/v5/p/image/registries")
    (request,) = seen
    assert request.headers["X-Auth-Token"] == "iam-token-value"
    assert "Authorization" not in request.headers
    assert "X-Sdk-Date" not in request.headers


def test_auth_from_credentials_picks_the_kind() -> None:
    assert isinstance(auth_from_credentials(Credentials("ak", Secret("sk-secret"))), AkSkAuth)
    assert isinstance(auth_from_credentials(Credentials(auth_token=Secret("tok-en"))), TokenAuth)
    with pytest.raises(ReconcilerError):
        auth_from_credentials(Credentials())


def test_make_http_client_authenticates_and_quiets_httpx() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    logging.getLogger("httpx").setLevel(logging.NOTSET)
    creds = Credentials(auth_token=Secret("iam-token-value"))
    with make_http_client(creds, transport=httpx.MockTransport(handler), timeout=5) as client:
        client.get("https://h/x")
        assert client.timeout.read == 5
    assert seen[0].headers["X-Auth-Token"] == "iam-token-value"
    assert seen[0].headers["User-Agent"].startswith("hss-reconciler/")
    assert logging.getLogger("httpx").level == logging.WARNING
    assert logging.getLogger("httpcore").level == logging.WARNING


def test_make_http_client_accepts_a_ca_bundle_path_without_warnings() -> None:
    creds = Credentials(auth_token=Secret("iam-token-value"))
    make_http_client(creds, verify=certifi.where()).close()
    make_http_client(creds, verify=False).close()
