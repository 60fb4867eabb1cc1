"""The S3 state's credentials: a provider asked before every request, never a snapshot; and what a
failed refresh does (a StateError, so the run's newest state goes to the errored file)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from reconciler.engine.statefile import s3_credentials, s3_exchange
from reconciler.errors import ReconcilerError
from reconciler.secrets import Secret
from reconciler.state.backends.location import parse_s3
from reconciler.state.backends.s3 import S3Backend, S3Credentials
from reconciler.state.backends.shared import SharedStore
from reconciler.state.store import StateUnwritable

URL = "s3://team-state/hss.json?endpoint=http://127.0.0.1:9&region=ap-southeast-1&lock=off&versioning=off"


def _backend(provider: object, seen: list[httpx.Request]) -> S3Backend:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "GET":
            return httpx.Response(404, content=b"<Error><Code>NoSuchKey</Code></Error>")
        return httpx.Response(200, headers={"etag": f'"{len(seen)}"'})

    client = httpx.Client(transport=httpx.MockTransport(answer))
    return S3Backend(parse_s3(URL), provider, s3_exchange, client)  # type: ignore[arg-type]


def test_each_request_asks_the_provider_and_signs_its_security_token() -> None:
    issued = [S3Credentials(f"TMP{n}", Secret(f"secret-{n}"), Secret(f"token-{n}")) for n in range(2)]
    calls = iter(issued)
    seen: list[httpx.Request] = []
    backend = _backend(lambda: next(calls), seen)
    snapshot = backend.read()
    backend.write(b"{}", snapshot.version, serial=1, lineage="l")
    for request, credentials in zip(seen, issued, strict=True):
        signed_by = request.headers["authorization"].split("Credential=")[1].split("/")[0]
        assert signed_by == credentials.access_key
        assert request.headers["x-amz-security-token"] == credentials.session_token.reveal()  # type: ignore[union-attr]
        assert "x-amz-security-token" in request.headers["authorization"].split("SignedHeaders=")[1]


def test_a_failed_refresh_is_a_state_error_and_the_state_goes_to_the_errored_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    answers = iter([S3Credentials("TMP0", Secret("secret-0"), Secret("token-0"))])

    def provider() -> S3Credentials:
        try:
            return next(answers)
        except StopIteration:
            raise ReconcilerError("IdP federation: IAM refused the ID token (401)") from None

    store = SharedStore(_backend(provider, []))
    state = store.load()
    with pytest.raises(StateUnwritable) as caught:
        store.write(store.snapshot(state))
    message = str(caught.value)
    assert "no credentials for the store (IdP federation: IAM refused the ID token (401))" in message
    saved = caught.value.saved_to
    assert saved is not None and saved.parent == tmp_path
    assert json.loads(saved.read_bytes())["serial"] == 1


def test_aws_keys_win_and_a_session_token_with_a_line_break_is_refused_unshown() -> None:
    provider = s3_credentials({"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "sk",
                               "AWS_SESSION_TOKEN": "tok", "HSS_AUTH_TOKEN": "iam"})
    assert (provider().access_key, provider().session_token.reveal()) == ("AKID", "tok")  # type: ignore[union-attr]
    with pytest.raises(ReconcilerError) as caught:
        s3_credentials({"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "sk",
                        "AWS_SESSION_TOKEN": "tok\nen-Secret-Part"})
    assert "AWS_SESSION_TOKEN" in str(caught.value) and "Secret-Part" not in str(caught.value)


def test_half_an_aws_key_pair_names_both_variables_and_never_shows_the_secret() -> None:
    with pytest.raises(ReconcilerError) as caught:
        s3_credentials({"AWS_SECRET_ACCESS_KEY": "sk-Secret-Part"})
    message = str(caught.value)
    assert "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not" in message
    assert "Secret-Part" not in message
