"""Each source of the credential chain, end to end: the CLI against the emulator playing IAM, metadata, pods.

Temporary credentials live 1 s here (the emulator's credential_lifetime), so
an apply of about a second must refresh them (at half their life) and every
HSS call must still be accepted: the emulator refuses an expired security token.
"""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import run_cli
from tests.e2e.credentials_kit import (
    IDP_ID,
    Vending,
    assert_plan_refused,
    chain_env,
    write_profiles,
    write_target,
)

SHORT_LIFETIME = 1.0


def _apply_with_refreshes(vending: Vending, tmp_path: Path, env: dict[str, str]) -> None:
    """Apply enough slow adds that the temporary credentials expire a few times meanwhile."""
    vending.server.app.reconfigure({"credential_lifetime_seconds": SHORT_LIFETIME, "latency_ms": 80})
    write_target(tmp_path / "ws", 12)
    result = run_cli("apply", str(tmp_path / "ws"), "--auto-approve", "--parallelism", "2", env=env)
    assert result.code == 0, result.output
    assert "12 added" in result.stdout
    assert vending.issued >= 2, f"only {vending.issued} credentials issued: no refresh happened"
    responses = vending.responses()
    assert set(responses) == {"200"}, f"some HSS calls were refused: {responses}"


def test_environment_aksk(vending: Vending, tmp_path: Path) -> None:
    env = chain_env(tmp_path / "home", HSS_ENDPOINT=vending.server.url,
                    HUAWEICLOUD_SDK_AK=vending.ak, HUAWEICLOUD_SDK_SK=vending.sk)
    write_target(tmp_path / "ws", 1)
    result = run_cli("apply", str(tmp_path / "ws"), "--auto-approve", env=env)
    assert result.code == 0, result.output
    assert vending.issued == 0


def test_profile_file_default_section(vending: Vending, tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_profiles(home, {"basic": {"ak": vending.ak, "sk": vending.sk}})
    write_target(tmp_path / "ws", 1)
    result = run_cli("apply", str(tmp_path / "ws"), "--auto-approve",
                     env=chain_env(home, HSS_ENDPOINT=vending.server.url))
    assert result.code == 0, result.output
    assert vending.responses().get("200", 0) >= 2


def test_oidc_federation_refreshes_during_apply(vending: Vending, tmp_path: Path) -> None:
    token_file = tmp_path / "id-token"
    token_file.write_text(vending.id_token + "\n")
    env = chain_env(tmp_path / "home", HSS_ENDPOINT=vending.server.url,
                    HUAWEICLOUD_SDK_IDP_ID=IDP_ID, HUAWEICLOUD_SDK_ID_TOKEN_FILE=str(token_file),
                    HUAWEICLOUD_SDK_IAM_ENDPOINT=vending.server.url)
    _apply_with_refreshes(vending, tmp_path, env)


def test_metadata_refreshes_during_apply(vending: Vending, tmp_path: Path) -> None:
    env = chain_env(tmp_path / "home", HSS_ENDPOINT=vending.server.url,
                    HSS_METADATA_ENDPOINT=vending.server.url)
    _apply_with_refreshes(vending, tmp_path, env)


def test_pod_identity_after_an_absent_metadata_service(vending: Vending, tmp_path: Path) -> None:
    token_file = tmp_path / "sa-token"
    token_file.write_text(vending.pod_token)
    env = chain_env(tmp_path / "home", HSS_ENDPOINT=vending.server.url,
                    HC_CONTAINER_CREDENTIALS_FULL_URI=vending.server.url + "/v1/pod-identity/credentials",
                    HC_CONTAINER_AUTHORIZATION_TOKEN_FILE=str(token_file))
    write_target(tmp_path / "ws", 2)
    result = run_cli("apply", str(tmp_path / "ws"), "--auto-approve", env=env)
    assert result.code == 0, result.output
    assert vending.issued >= 1 and set(vending.responses()) == {"200"}


def test_a_refused_id_token_is_one_line_naming_the_source_never_the_token(vending: Vending,
                                                                         tmp_path: Path) -> None:
    token_file = tmp_path / "id-token"
    wrong = "eyJ" + "x" * 40
    token_file.write_text(wrong)
    env = chain_env(tmp_path / "home", HSS_ENDPOINT=vending.server.url,
                    HUAWEICLOUD_SDK_IDP_ID=IDP_ID, HUAWEICLOUD_SDK_ID_TOKEN_FILE=str(token_file),
                    HUAWEICLOUD_SDK_IAM_ENDPOINT=vending.server.url)
    assert_plan_refused(vending, tmp_path, env, "IdP federation: IAM refused the ID token (401", wrong)


def test_no_credentials_anywhere_is_one_line(vending: Vending, tmp_path: Path) -> None:
    write_target(tmp_path / "ws", 1)
    result = run_cli("plan", str(tmp_path / "ws"), env=chain_env(tmp_path / "home",
                                                                   HSS_ENDPOINT=vending.server.url))
    assert result.code == 1, result.output
    assert "no HSS credentials" in result.stderr and "ECS metadata: cannot reach" in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2  # the http-on-loopback warning, then the error


def test_validate_needs_no_credentials_but_checks_the_profile_name(tmp_path: Path) -> None:
    env = chain_env(tmp_path / "home")
    write_target(tmp_path / "ok", 1, profile="prod")
    assert run_cli("validate", str(tmp_path / "ok"), env=env).code == 0
    write_target(tmp_path / "bad", 1, profile="'pr od'")
    bad = run_cli("validate", str(tmp_path / "bad"), env=env)
    assert bad.code == 1 and "credentials.profile" in bad.stderr and "registries.yaml:" in bad.stderr


def test_the_sdk_federates_through_the_emulator_and_its_security_token_is_accepted(
        vending: Vending, tmp_path: Path) -> None:
    """The oracle for the emulator's IAM: the official SDK's FederalAccessor, then an HSS call it signs."""
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcore.http.http_config import HttpConfig
    from huaweicloudsdkhss.v5 import HssClient, ListRegistryRequest

    from tests.e2e.credentials_kit import PROJECT

    token_file = tmp_path / "id-token"
    token_file.write_text(vending.id_token)
    credentials = (BasicCredentials(project_id=PROJECT).with_idp_id(IDP_ID)
                   .with_id_token_file(str(token_file)).with_iam_endpoint(vending.server.url))
    config = HttpConfig.get_default_config()
    config.ignore_ssl_verification = True
    config.retry_times = 0
    client = (HssClient.new_builder().with_http_config(config).with_credentials(credentials)
              .with_endpoints([vending.server.url]).build())
    answer = client.list_registry(ListRegistryRequest(enterprise_project_id="0"))
    assert answer.total_num == 0  # a 200: the temporary key and its security token were accepted
    assert vending.issued == 1
