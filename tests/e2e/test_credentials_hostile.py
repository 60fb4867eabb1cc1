"""Hostile credential services: each is bounded, refused in one line, and never shows a secret.

A scripted server on loopback (``fakehss``) plays IAM, the metadata service or
the pod identity agent and lies: it drips headers, answers each of IAM's two
calls just in time, sends non-ASCII headers, redirects, answers keys already
expired or a session token with a line break. The fetch deadline is cut to
0.5 s here (FETCH_SECONDS, 10 s in a run) so the bounds show without waiting.
The last tests run the CLI: a refresh that fails in the middle of an apply of
ten workers is one IAM call, the state keeps what was done, and no secret of
any kind reaches the output at -vv.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import reconciler.emulator.iam as emulated_iam
import reconciler.emulator.instance as emulated_instance
from reconciler.errors import ReconcilerError
from reconciler.hss.credsources import answer
from reconciler.hss.credsources.chain import credential_provider
from tests.e2e.conftest import run_cli
from tests.e2e.credentials_kit import IDP_ID, Vending, chain_env, write_target
from tests.e2e.fakehss import FakeHss, Raw, drip, fake_hss, serve  # noqa: F401  (a fixture)

DEADLINE = 0.5
SUBJECT = {"X-Subject-Token": "MII-unscoped-subject-token"}
ID_TOKEN = "eyJ-the-id-token-of-this-test"


@pytest.fixture(autouse=True)
def short_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(answer, "FETCH_SECONDS", DEADLINE)


def _credential(**fields: str) -> bytes:
    body = {"access": "TMPAK1", "secret": "tmp-secret-key-1", "securitytoken": "st-token-1",
            "expires_at": "2099-01-01T00:00:00.000000Z", **fields}
    return json.dumps({"credential": body}).encode()


def _federation_env(fake: FakeHss, tmp_path: Path) -> dict[str, str]:
    """IdP federation with ``fake`` as IAM."""
    token_file = tmp_path / "id-token"
    token_file.write_text(ID_TOKEN)
    return {"HOME": str(tmp_path), "HUAWEICLOUD_SDK_IDP_ID": IDP_ID,
            "HUAWEICLOUD_SDK_ID_TOKEN_FILE": str(token_file), "HUAWEICLOUD_SDK_IAM_ENDPOINT": fake.url}


def _federate(fake: FakeHss, tmp_path: Path) -> str:
    """The message of a failed federation against ``fake`` as IAM (it must fail)."""
    with pytest.raises(ReconcilerError) as caught:
        credential_provider(_federation_env(fake, tmp_path))
    message = str(caught.value)
    assert ID_TOKEN not in message and "MII-unscoped" not in message and "\n" not in message
    return message


def _iam(second: Callable[[], Any]) -> Callable[[str, str], Any]:
    """IAM that accepts the ID token at once, then answers the security-token call with ``second()``."""
    def script(method: str, path: str) -> Any:
        return (201, SUBJECT, b"{}") if path.endswith("/id-token/tokens") else second()
    return script


def test_headers_dripped_a_byte_at_a_time_end_at_the_fetch_deadline(fake_hss: FakeHss,  # noqa: F811
                                                                    tmp_path: Path) -> None:
    # 4 s of headers, each byte well within any per-read timeout: only a deadline on every wait stops
    # them (the body's deadline check alone comes after the last header, 4 s late).
    head = b"HTTP/1.1 201 Created\r\nX-Subject-Token: abc\r\n" + b"X-Pad: 0123456789\r\n" * 3 + b"\r\n"
    fake_hss.script = lambda method, path: Raw(drip(head, 4.0 / len(head)))
    started = time.monotonic()
    assert _federate(fake_hss, tmp_path).endswith(f"no complete answer within {DEADLINE:g} s")
    assert time.monotonic() - started < 4 * DEADLINE


def test_iams_two_calls_share_one_deadline(fake_hss: FakeHss, tmp_path: Path) -> None:  # noqa: F811
    def slow(answer_: tuple[int, dict[str, str], bytes]) -> tuple[int, dict[str, str], bytes]:
        time.sleep(DEADLINE * 0.7)  # each call alone is in time; both together are not
        return answer_

    fake_hss.script = lambda method, path: slow((201, SUBJECT, b"{}") if path.endswith("/id-token/tokens")
                                                else (200, {}, _credential()))
    assert "no complete answer within" in _federate(fake_hss, tmp_path)
    assert len(fake_hss.requests) == 2


@pytest.mark.parametrize(("second", "expected"), [
    (lambda: (302, {"Location": "http://198.51.100.7/steal"}, b""), "(302: a redirect, not followed)"),
    (lambda: (200, {}, _credential(expires_at="2001-01-01T00:00:00Z")),
     "expires_at 2001-01-01T00:00:00Z is already past"),
    (lambda: (200, {}, _credential(securitytoken="t" * (1 << 20))), "the answer is larger than"),
])
def test_a_lying_iam_is_refused_in_one_line(fake_hss: FakeHss, tmp_path: Path,  # noqa: F811
                                            second: Callable[[], Any], expected: str) -> None:
    fake_hss.script = _iam(second)
    message = _federate(fake_hss, tmp_path)
    assert message.startswith("IdP federation: ") and expected in message
    assert [path for _, path in fake_hss.requests if "steal" in path] == []  # no redirect followed


def test_an_answer_with_a_header_that_is_not_ascii_is_read(fake_hss: FakeHss,  # noqa: F811
                                                          tmp_path: Path) -> None:
    # Headers play no part in the credentials; such a header once crashed the run (exit 3).
    fake_hss.script = _iam(lambda: (200, {"X-Note": "caf\u00e9"}, _credential()))
    assert credential_provider(_federation_env(fake_hss, tmp_path))().access_key


def test_a_metadata_session_token_that_is_not_a_header_value_is_refused(fake_hss: FakeHss,  # noqa: F811
                                                                        tmp_path: Path) -> None:
    fake_hss.script = lambda method, path: (200, {}, b"session\r\nX-Injected: 1")
    with pytest.raises(ReconcilerError) as caught:
        credential_provider({"HOME": str(tmp_path), "HSS_METADATA_ENDPOINT": fake_hss.url})
    assert "ECS metadata: the session token is not a printable token" in str(caught.value)
    assert "X-Injected" not in str(caught.value)


def test_the_metadata_endpoint_must_be_loopback_not_a_name_that_starts_like_one(tmp_path: Path) -> None:
    with pytest.raises(ReconcilerError, match="HSS_METADATA_ENDPOINT must name a loopback address"):
        credential_provider({"HOME": str(tmp_path), "HSS_METADATA_ENDPOINT": "https://127.0.0.1.example.com"})


# --- the CLI: a refresh that fails while ten workers apply ------------------------------------------


@pytest.fixture
def flaky_iam(vending: Vending) -> Iterator[tuple[FakeHss, list[str]]]:
    """IAM whose first security token works at the emulator (for 1.2 s); every later call gets a 500."""
    calls: list[str] = []

    def script(method: str, path: str) -> Any:
        if path.endswith("/id-token/tokens"):
            return 201, SUBJECT, b"{}"
        calls.append(path)
        if len(calls) > 1:
            return 500, {}, json.dumps({"error": {"code": 500, "message": "IAM is down"}}).encode()
        key = vending.server.app.auth.temporary.issue(1.2)
        return 201, {}, json.dumps({"credential": key.as_credential()}).encode()

    with serve() as fake:
        fake.script = script
        yield fake, calls


def test_a_refresh_failing_mid_apply_is_one_iam_call_starts_nothing_new_and_the_state_keeps_what_was_done(
        vending: Vending, flaky_iam: tuple[FakeHss, list[str]], tmp_path: Path) -> None:
    fake, calls = flaky_iam
    # Refreshed at 0.6 s (half its life), while 60 adds of 120 ms each by 10 workers take 0.7 s or more.
    vending.server.app.reconfigure({"latency_ms": 120})
    token_file = tmp_path / "id-token"
    token_file.write_text(ID_TOKEN)
    env = chain_env(tmp_path / "home", HSS_ENDPOINT=vending.server.url, HUAWEICLOUD_SDK_IDP_ID=IDP_ID,
                    HUAWEICLOUD_SDK_ID_TOKEN_FILE=str(token_file), HUAWEICLOUD_SDK_IAM_ENDPOINT=fake.url)
    write_target(tmp_path / "ws", 60)
    result = run_cli("apply", str(tmp_path / "ws"), "--auto-approve", "--parallelism", "10", "-vv", env=env)
    assert result.code == 1, result.output
    assert len(calls) == 2, f"{len(calls)} security-token calls: each worker fetched again"
    assert "IdP federation: IAM refused to issue temporary credentials (500: IAM is down)" in result.stderr
    state = json.loads(next((tmp_path / "ws").glob("*.state.json")).read_text())
    counted = re.search(r"Resources: (\d+) added", result.stderr)
    assert counted, result.stderr
    added = int(counted.group(1))
    assert 0 < added < 60 and len(state["registries"]) == added
    # One cause, said once: the changes not yet started are not each tried and failed.
    cause = "IdP federation: IAM refused to issue temporary credentials (500: IAM is down)"
    stopped = re.search(rf"Apply stopped: {re.escape(cause)}; (\d+) changes not started"
                        r"(?: \((\d+) failed\))?", result.stderr)
    assert stopped, result.stderr
    left, failed = int(stopped.group(1)), int(stopped.group(2) or 0)
    assert left > 0 and added + failed + left == 60
    assert 1 <= failed <= 10, "only the changes in flight when IAM failed may fail"
    said = [line for line in result.stderr.splitlines() if "/harbor-" in line and cause in line]
    assert len(said) == failed
    assert "could not get the upload commands" not in result.stderr
    for secret in (ID_TOKEN, SUBJECT["X-Subject-Token"], *_issued_secrets(vending)):
        assert secret not in result.output
    assert "Traceback" not in result.output


def test_no_secret_of_any_source_shows_at_debug_level(vending: Vending, tmp_path: Path) -> None:
    token_file, pod_file = tmp_path / "id-token", tmp_path / "pod-token"
    token_file.write_text(vending.id_token)
    pod_file.write_text(vending.pod_token)
    sources = {
        "federation": {"HUAWEICLOUD_SDK_IDP_ID": IDP_ID, "HUAWEICLOUD_SDK_ID_TOKEN_FILE": str(token_file),
                       "HUAWEICLOUD_SDK_IAM_ENDPOINT": vending.server.url},
        "metadata": {"HSS_METADATA_ENDPOINT": vending.server.url},
        "pod": {"HC_CONTAINER_CREDENTIALS_FULL_URI": vending.server.url + "/v1/pod-identity/credentials",
                "HC_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(pod_file)},
    }
    output = ""
    for name, extra in sources.items():
        write_target(tmp_path / name, 1)
        env = chain_env(tmp_path / "home", HSS_ENDPOINT=vending.server.url, **extra)
        result = run_cli("apply", str(tmp_path / name), "--auto-approve", "--log-level", "debug", env=env)
        assert result.code == 0, result.output
        output += result.output + next((tmp_path / name).glob("*.state.json")).read_text()
    assert vending.issued == 3
    secrets = [vending.id_token, vending.pod_token, *_issued_secrets(vending), *emulated_iam._unscoped,
               *emulated_instance._sessions]
    assert [secret for secret in secrets if secret in output] == []


def _issued_secrets(vending: Vending) -> list[str]:
    keys = vending.server.app.auth.temporary._keys.values()
    return [value for key in keys for value in (key.secret, key.security_token)]


def test_an_sdk_region_endpoint_of_plain_http_off_this_host_is_refused_before_anything_is_sent(
        vending: Vending, tmp_path: Path) -> None:
    """HUAWEICLOUD_SDK_REGION_HSS_* is held to HSS_ENDPOINT's rule: plain http on loopback or --allow-http."""
    write_target(tmp_path / "ws", 1)
    env = chain_env(tmp_path / "home", HUAWEICLOUD_SDK_AK=vending.ak, HUAWEICLOUD_SDK_SK=vending.sk,
                    HUAWEICLOUD_SDK_REGION_HSS_AP_SOUTHEAST_1="http://198.51.100.7")
    result = run_cli("plan", str(tmp_path / "ws"), env=env)
    assert result.code == 1
    assert "HSS endpoint http://198.51.100.7 is plain http outside loopback" in result.stderr
    assert "Nothing was sent" in result.stderr and vending.sk not in result.output
