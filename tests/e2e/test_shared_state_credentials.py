"""An s3:// state signed by the Huawei credential chain when no AWS_* key is set (issue 18 + the chain).

The emulator plays HSS, IAM (IdP federation) and knows the permanent AK/SK; moto plays S3 behind a
proxy (s3_signatures.py) that checks every signature with botocore and every temporary key with the
emulator, as OBS would. So a request signed with the wrong key, without its security token, or with
a token that expired is refused here, where moto alone would take it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Result, run_cli
from tests.e2e.credentials_kit import IDP_ID, Vending, chain_env, write_profiles, write_target
from tests.e2e.s3_signatures import Checked, checking_proxy
from tests.e2e.stores import BUCKET, S3, moto_s3, unique

SHORT_LIFETIME = 0.6  # seconds: an apply of about a second outlives the first keys


@pytest.fixture(scope="module")
def s3() -> Iterator[S3]:
    with moto_s3() as server:
        yield server


@pytest.fixture
def checked(s3: S3, vending_server: Vending) -> Iterator[Checked]:
    permanent = {vending_server.ak: vending_server.sk}
    temporary = vending_server.server.app.auth.temporary

    def secret_of(access_key: str, token: str | None) -> str | None:
        return permanent.get(access_key) or temporary.secret_for(access_key, token)

    with checking_proxy(s3.endpoint, secret_of) as record:
        yield record


def _env(vending: Vending, home: Path, **extra: str) -> dict[str, str]:
    """No credential, state location or AWS setting of the runner's own: only what the test sets."""
    env = chain_env(home, HSS_ENDPOINT=vending.server.url, **extra)
    return {k: v for k, v in env.items()
            if k in extra or not (k.startswith(("AWS_", "PG")) or k == "HSS_STATE")}


def _apply(tmp_path: Path, url: str, count: int, env: dict[str, str], *more: str) -> Result:
    write_target(tmp_path / "ws", count)
    return run_cli("apply", str(tmp_path / "ws"), "--auto-approve", "--state", url, *more, env=env)


def _stored_names(s3: S3, key: str) -> set[str]:
    body = s3.client().get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return {entry["registry_name"] for entry in json.loads(body)["registries"]}


def test_a_profile_files_keys_sign_the_state(vending: Vending, s3: S3, checked: Checked,
                                             tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_profiles(home, {"basic": {"ak": vending.ak, "sk": vending.sk}})
    key = unique("profile") + ".json"
    result = _apply(tmp_path, s3.url(key, endpoint=checked.url), 2, _env(vending, home))
    assert result.code == 0, result.output
    assert _stored_names(s3, key) == {"harbor-00", "harbor-01"}
    assert checked.seen and not checked.refusals(), checked.refusals()
    assert {s.access_key for s in checked.seen} == {vending.ak}
    assert not any(s.token_sent for s in checked.seen), "permanent keys carry no security token"


def test_a_wrong_secret_is_refused_by_the_store_naming_where_the_keys_came_from(
        vending: Vending, s3: S3, checked: Checked, tmp_path: Path) -> None:
    """The proxy really checks: the same run with a wrong SK is refused, one line, the SK never shown."""
    home = tmp_path / "home"
    wrong = "0" * 40
    write_profiles(home, {"basic": {"ak": vending.ak, "sk": wrong}})
    result = _apply(tmp_path, s3.url(unique("wrong") + ".json", endpoint=checked.url), 1,
                    _env(vending, home))
    assert result.code == 1, result.output
    line = result.stderr.strip().splitlines()[-1]
    assert "HTTP 403 SignatureDoesNotMatch" in line and "the credentials from profile 'basic'" in line, line
    assert wrong not in result.output and "Traceback" not in result.output
    assert {s.refused for s in checked.seen} == {"SignatureDoesNotMatch"}
    assert vending.responses() == {}, "the state is opened (and refused) before HSS is called"


def test_idp_federation_signs_the_state_with_a_security_token_refreshed_during_the_apply(
        vending: Vending, s3: S3, checked: Checked, tmp_path: Path) -> None:
    """Keyless CI: the ID token is exchanged at IAM, and the temporary AK/SK + token sign every S3 request.
    They live 0.6 s, so a ~1 s apply must fetch new ones for the state as it goes: the store refuses an
    expired token, and the run ends with every registry in the stored state."""
    vending.server.app.reconfigure({"credential_lifetime_seconds": SHORT_LIFETIME, "latency_ms": 80})
    token_file = tmp_path / "id-token"
    token_file.write_text(vending.id_token + "\n")
    env = _env(vending, tmp_path / "home", HUAWEICLOUD_SDK_IDP_ID=IDP_ID,
               HUAWEICLOUD_SDK_ID_TOKEN_FILE=str(token_file), HUAWEICLOUD_SDK_IAM_ENDPOINT=vending.server.url)
    key = unique("federated") + ".json"
    result = _apply(tmp_path, s3.url(key, endpoint=checked.url), 12, env, "--parallelism", "2")
    assert result.code == 0, result.output
    assert _stored_names(s3, key) == {f"harbor-{i:02d}" for i in range(12)}
    assert checked.seen and not checked.refusals(), checked.refusals()
    assert all(s.token_sent and s.token_signed for s in checked.seen), "x-amz-security-token sent and signed"
    keys = [s.access_key for s in checked.seen]
    assert vending.ak not in keys and all(k.startswith("TMP") for k in keys), "temporary keys only"
    assert len(set(keys)) >= 2, f"the state's keys were never refreshed during the apply: {set(keys)}"
    assert set(vending.responses()) == {"200"}


def test_an_iam_token_cannot_sign_the_state_one_line_nothing_sent(vending: Vending, s3: S3, checked: Checked,
                                                                  tmp_path: Path) -> None:
    token = "MIIT" + "x" * 60
    write_target(tmp_path / "ws", 1)
    result = run_cli("plan", str(tmp_path / "ws"), "--state", s3.url(unique("token") + ".json",
                                                                     endpoint=checked.url),
                     env=_env(vending, tmp_path / "home", HSS_AUTH_TOKEN=token))
    assert result.code == 1, result.output
    assert result.stderr.count("\n") == 1, result.stderr
    assert "IAM token (HSS_AUTH_TOKEN), which cannot sign S3 requests" in result.stderr
    assert "AWS_ACCESS_KEY_ID" in result.stderr and token not in result.output
    assert checked.seen == [] and vending.responses() == {}
