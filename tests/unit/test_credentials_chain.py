"""The credential chain's parts: refresh timing and threads, answers, profile files, URLs, emulator keys."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import httpx
import pytest

from reconciler.emulator import EmulatorConfig, EmulatorServer
from reconciler.errors import ReconcilerError
from reconciler.hss.auth import AkSkAuth
from reconciler.hss.credentials import Credentials
from reconciler.hss.credsources.answer import temporary_credentials
from reconciler.hss.credsources.chain import credential_provider
from reconciler.hss.credsources.endpoints import checked_url
from reconciler.hss.credsources.profile import from_profile
from reconciler.hss.credsources.refreshing import (
    MAX_LIFETIME_SECONDS,
    SDK_MARGIN_SECONDS,
    RefreshingCredentials,
    refresh_time,
)
from reconciler.secrets import Secret


def _temporary(expires_at: float) -> Credentials:
    return Credentials("TMPAK", Secret("tmp-secret-key"), Secret("tmp-security-token"), expires_at=expires_at)


def test_refresh_uses_the_sdk_margin_or_half_the_lifetime() -> None:
    assert refresh_time(_temporary(10_000.0), 0.0) == 10_000.0 - SDK_MARGIN_SECONDS  # 40 min before
    assert refresh_time(_temporary(100.0), 0.0) == 50.0  # shorter-lived: at half its life
    assert refresh_time(Credentials("AK", Secret("permanent-sk")), 0.0) == float("inf")


def test_one_thread_refreshes_while_the_others_wait_for_its_result() -> None:
    now = [0.0]
    fetched: list[int] = []

    def fetch() -> Credentials:
        time.sleep(0.05)  # wide enough for every other thread to arrive meanwhile
        fetched.append(1)
        return _temporary(now[0] + 100.0)

    provider = RefreshingCredentials(fetch, clock=lambda: now[0])
    results: list[Credentials] = []
    threads = [threading.Thread(target=lambda: results.append(provider())) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(fetched) == 1 and len(results) == 16
    now[0] = 49.0
    provider()
    assert len(fetched) == 1  # still fresh
    now[0] = 50.0
    provider()
    assert len(fetched) == 2 and provider.fetches == 2


@pytest.mark.parametrize("body", [
    {"credential": {"access": "AK1", "secret": "sk-secret-1", "securitytoken": "st-1",
                    "expires_at": "2030-01-01T00:00:00.000000Z"}},
    {"credentials": {"accessKeyId": "AK1", "secretAccessKey": "sk-secret-1", "securityToken": "st-1",
                     "expiration": "2030-01-01T00:00:00Z"}},
    {"access_key_id": "AK1", "secret_access_key": "sk-secret-1", "security_token": "st-1",
     "expires_at": "2030-01-01T00:00:00.000000Z"},
])
def test_every_spelling_the_sdk_reads_is_read(body: dict[str, object]) -> None:
    credentials = temporary_credentials(body, "pod identity")
    assert credentials.access_key == "AK1" and credentials.expires_at == 1893456000.0
    assert credentials.security_token == Secret("st-1")


@pytest.mark.parametrize(("body", "problem"), [
    ({"credential": {"access": "AK1", "secret": "sk-secret-2", "securitytoken": "st"}}, "expires_at"),
    ({"credential": {"access": "AK 1", "secret": "sk-secret-2", "securitytoken": "st",
                     "expires_at": "2030-01-01T00:00:00Z"}}, "access"),
    ({"credential": {"access": "AK1", "secret": "sk-secret-2\n", "securitytoken": "st",
                     "expires_at": "2030-01-01T00:00:00Z"}}, "secret"),
    ({"credential": "AK1"}, "not a JSON object"),
])
def test_a_malformed_answer_is_one_line_without_its_secret(body: dict[str, object], problem: str) -> None:
    with pytest.raises(ReconcilerError) as caught:
        temporary_credentials(body, "ECS metadata")
    message = str(caught.value)
    assert message.startswith("ECS metadata: ") and problem in message and "sk-secret-2" not in message


def test_a_broken_profile_line_is_named_by_number_never_shown(tmp_path: Path) -> None:
    path = tmp_path / "credentials"
    path.write_text("[basic]\nak = AK1\nsk-is-this-secret-value\n")
    with pytest.raises(ReconcilerError) as caught:
        from_profile({"HUAWEICLOUD_SDK_CREDENTIALS_FILE": str(path)}, None)
    assert "line 3" in str(caught.value) and "secret-value" not in str(caught.value)


def test_profile_rules(tmp_path: Path) -> None:
    path = tmp_path / "credentials"
    path.write_text("[basic]\nak = AK1\nsk = SK1-secret\n\n[half]\nak = AK2\n\n[fed]\nidp_id = gh\n"
                    "id_token_file = /t\niam_endpoint = https://iam.example.com\n")
    environ = {"HUAWEICLOUD_SDK_CREDENTIALS_FILE": str(path)}
    basic = from_profile(environ, None)
    assert isinstance(basic, Credentials) and basic.access_key == "AK1"
    with pytest.raises(ReconcilerError, match=r"profile 'half' in .*: ak is set but sk is not"):
        from_profile(environ, "half")
    with pytest.raises(ReconcilerError, match=r"has no \[nope\] section"):
        from_profile(environ, "nope")
    federation = from_profile(environ, "fed")
    assert not isinstance(federation, Credentials) and federation is not None
    assert federation.iam_endpoint == "https://iam.example.com"
    assert from_profile({"HOME": str(tmp_path / "nohome")}, None) is None  # the default file may be absent
    with pytest.raises(ReconcilerError, match="does not exist"):
        from_profile({"HUAWEICLOUD_SDK_CREDENTIALS_FILE": str(tmp_path / "missing")}, None)


def test_credential_services_get_no_plain_http_outside_this_host() -> None:
    assert checked_url("http://127.0.0.1:8080", "x", "u") == "http://127.0.0.1:8080"
    assert checked_url("http://169.254.170.2/v1", "x", "u", link_local=True)
    for refused, link_local in (("http://iam.example.com", False), ("http://169.254.170.2/v1", False),
                                ("https://user:pw@iam.example.com", False), ("ftp://x", False)):
        with pytest.raises(ReconcilerError):
            checked_url(refused, "x", "u", link_local=link_local)


def test_half_an_idp_pair_is_an_error_not_a_fall_through() -> None:
    with pytest.raises(ReconcilerError,
                       match="HUAWEICLOUD_SDK_IDP_ID is set but HUAWEICLOUD_SDK_ID_TOKEN_FILE"):
        credential_provider({"HUAWEICLOUD_SDK_IDP_ID": "gh", "HUAWEICLOUD_SDK_AK": "AK",
                             "HUAWEICLOUD_SDK_SK": "sk-value"})


def test_the_emulator_checks_a_temporary_keys_security_token() -> None:
    with EmulatorServer(EmulatorConfig(metadata_agency=True)) as server:
        key = server.app.auth.temporary.issue(0.3)
        url = f"{server.url}/v5/p1/image/registries"

        def status(token: str | None) -> tuple[int, str]:
            auth = AkSkAuth(key.access, Secret(key.secret), Secret(token) if token else None)
            answer = httpx.get(url, params={"enterprise_project_id": "0"}, auth=auth)
            return answer.status_code, answer.json().get("error_code", "")

        assert status(key.security_token) == (200, "")
        assert status(None) == (401, "APIG.0301")
        assert status(key.security_token[:-1] + "x") == (401, "APIG.0301")
        time.sleep(0.35)
        assert status(key.security_token) == (401, "APIG.0301")


def test_a_metadata_service_without_an_agency_lets_the_chain_go_on(tmp_path: Path) -> None:
    with EmulatorServer(EmulatorConfig(tokens={"unused-token"})) as server:
        environ = {"HOME": str(tmp_path), "HSS_METADATA_ENDPOINT": server.url}
        with pytest.raises(ReconcilerError) as caught:
            credential_provider(environ)
    message = str(caught.value)
    assert message.startswith("no HSS credentials") and "ECS metadata: this server has no agency" in message
    with pytest.raises(ReconcilerError, match="must name a loopback address"):
        credential_provider({"HOME": str(tmp_path), "HSS_METADATA_ENDPOINT": "https://169.254.169.254"})


def test_ten_threads_refresh_one_at_a_time_and_a_failed_refresh_is_tried_once() -> None:
    """Lifetime 1 s on a clock the fetches move: one fetch at a time, then one failure for everyone."""
    now = [0.0]
    running, most, fetched = [0], [0], [0]
    lock = threading.Lock()

    def fetch() -> Credentials:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
            fetched[0] += 1
        time.sleep(0.005)  # the others arrive meanwhile
        with lock:
            running[0] -= 1
        if fetched[0] > 5:
            raise ReconcilerError("IdP federation: IAM refused to issue temporary credentials (500)")
        return _temporary(now[0] + 1.0)

    provider = RefreshingCredentials(fetch, clock=lambda: now[0])
    errors: list[str] = []

    def worker() -> None:
        for _ in range(40):
            now[0] += 0.05  # every worker's calls move time on: a refresh every ~10 calls
            try:
                provider()
            except ReconcilerError as exc:
                errors.append(str(exc))

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1, "two threads fetched at once"
    assert fetched[0] == 6 and provider.fetches == 6, "the failed fetch was tried again"
    assert errors and set(errors) == {"IdP federation: IAM refused to issue temporary credentials (500)"}


def test_an_expiry_in_year_9999_is_believed_for_a_day_at_most() -> None:
    far = _temporary(253402300799.0)  # 9999-12-31T23:59:59Z
    assert refresh_time(far, 0.0) == MAX_LIFETIME_SECONDS - SDK_MARGIN_SECONDS


PROFILE_PROBLEMS = [
    ("sk = sk-secret-before-any-section\n[basic]\nak = AK1\n", "line 1: a key before any [section]"),
    ("[basic]\nak = AK1\nsk = sk-secret-one\nsk = sk-secret-two\n",
     "line 4: key 'sk' appears twice in section [basic]"),
    ("[basic]\nak = AK1\nsk = sk-secret-one\n[basic]\nak = AK2\n", "line 4: section [basic] appears twice"),
    ("[basic]\nak = " + "A" * 300 + "\nsk = sk-secret-one\n", "ak holds characters other than printable"),
    ("[basic]\nidp_id = gh\nid_token_file = /tmp/a\0b\n", "holds a NUL character"),
]


@pytest.mark.parametrize(("text", "problem"), PROFILE_PROBLEMS)
def test_a_malformed_profile_file_is_one_line_that_never_quotes_it(tmp_path: Path, text: str,
                                                                   problem: str) -> None:
    path = tmp_path / "credentials"
    path.write_text(text)
    environ = {"HOME": str(tmp_path), "HUAWEICLOUD_SDK_CREDENTIALS_FILE": str(path),
               "HUAWEICLOUD_SDK_IAM_ENDPOINT": "http://127.0.0.1:9"}
    with pytest.raises(ReconcilerError) as caught:
        credential_provider(environ)
    message = str(caught.value)
    assert problem in message and "sk-secret" not in message and "\n" not in message


def test_a_profile_file_saved_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "credentials"
    path.write_text("\ufeff[basic]\nak = AK1\nsk = SK1-secret\n", encoding="utf-8")
    found = from_profile({"HUAWEICLOUD_SDK_CREDENTIALS_FILE": str(path)}, None)
    assert isinstance(found, Credentials) and found.access_key == "AK1"


def test_a_security_token_without_its_keys_is_an_error_naming_it() -> None:
    lonely = "HUAWEICLOUD_SDK_SECURITY_TOKEN is set but HUAWEICLOUD_SDK_AK"
    with pytest.raises(ReconcilerError, match=lonely) as caught:
        credential_provider({"HUAWEICLOUD_SDK_SECURITY_TOKEN": "st-lonely-token", "HSS_AUTH_TOKEN": "tok-1"})
    assert "st-lonely-token" not in str(caught.value)


def test_a_credential_service_url_with_a_query_is_refused() -> None:
    # Our paths are appended: after a query they would be a query's text, sent who knows where.
    with pytest.raises(ReconcilerError, match="without user, query or fragment"):
        checked_url("https://iam.example.com/?next=", "IdP federation", "the IAM endpoint")


def test_a_token_file_that_is_a_fifo_or_too_large_is_refused_unread_by_name(tmp_path: Path) -> None:
    from reconciler.hss.credsources.files import MAX_TOKEN_FILE_BYTES, read_token

    fifo = tmp_path / "token.fifo"
    os.mkfifo(fifo)
    with pytest.raises(ReconcilerError, match=r"^pod identity: cannot read the token file .*token\.fifo "
                                              r"\(it is a FIFO \(named pipe\), not a regular file\)$"):
        read_token(str(fifo), "pod identity", "the token file")
    large = tmp_path / "token.big"
    large.write_bytes(b"t" * (MAX_TOKEN_FILE_BYTES + 1))
    with pytest.raises(ReconcilerError, match=rf"token\.big \(larger than {MAX_TOKEN_FILE_BYTES} bytes\)$"):
        read_token(str(large), "pod identity", "the token file")
