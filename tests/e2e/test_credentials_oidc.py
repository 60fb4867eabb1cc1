"""OIDC at STS, first in the chain: the CLI against the emulator's STS; the SDK's own provider as oracle."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import ReconcilerError
from reconciler.hss.client import HssClient
from reconciler.hss.credsources import oidc
from reconciler.hss.credsources.chain import credential_provider
from reconciler.hss.transport import make_http_client
from tests.e2e.conftest import run_cli
from tests.e2e.credentials_kit import (
    OIDC_AGENCY_URN,
    OIDC_PROVIDER_URN,
    PROJECT,
    Vending,
    assert_plan_refused,
    chain_env,
    write_target,
)


def _oidc_env(sts: str, token_file: Path) -> dict[str, str]:
    """The SDK's variables for the emulator's provider and agency, the ID token in ``token_file``."""
    return {oidc.PROVIDER_URN_VARIABLE: OIDC_PROVIDER_URN, oidc.AGENCY_URN_VARIABLE: OIDC_AGENCY_URN,
            oidc.TOKEN_FILE_VARIABLE: str(token_file), oidc.STS_ENDPOINT_VARIABLE: sts}


def test_apply_takes_oidc_credentials_before_the_environment_keys(vending: Vending, tmp_path: Path) -> None:
    token_file = tmp_path / "id-token"
    token_file.write_text(vending.id_token + "\n")
    # Keys the emulator does not know: they would be refused if the chain took them instead (SDK order).
    env = chain_env(tmp_path / "home", HSS_ENDPOINT=vending.server.url, HUAWEICLOUD_SDK_AK="AKUNKNOWN",
                    HUAWEICLOUD_SDK_SK="not-a-known-secret", **_oidc_env(vending.server.url, token_file))
    write_target(tmp_path / "ws", 2)
    result = run_cli("apply", str(tmp_path / "ws"), "--auto-approve", env=env)
    assert result.code == 0, result.output
    assert "2 added" in result.stdout
    assert vending.issued == 1
    assert set(vending.responses()) == {"200"}


def test_a_refused_id_token_is_one_line_naming_sts_never_the_token(vending: Vending, tmp_path: Path) -> None:
    wrong = "eyJ" + "w" * 40
    env = chain_env(tmp_path / "home", HSS_ENDPOINT=vending.server.url,
                    **_oidc_env(vending.server.url, tmp_path / "unread"), **{oidc.ID_TOKEN_VARIABLE: wrong})
    assert_plan_refused(vending, tmp_path, env, "OIDC at STS: STS refused the ID token (401", wrong)


@pytest.mark.parametrize(("extra", "said"), [
    ({oidc.AGENCY_URN_VARIABLE: ""}, "HUAWEICLOUD_OIDC_AGENCY_URN is required"),
    ({oidc.TOKEN_FILE_VARIABLE: ""}, "set HUAWEICLOUD_OIDC_ID_TOKEN or HUAWEICLOUD_OIDC_TOKEN_FILE"),
    ({oidc.DURATION_VARIABLE: "60"}, "HUAWEICLOUD_OIDC_DURATION_SECONDS must be a whole number"),
    ({oidc.STS_ENDPOINT_VARIABLE: "http://sts.example.com"}, "plain http outside loopback"),
])
def test_a_half_configured_source_is_an_error_not_a_fall_through(extra: dict[str, str], said: str,
                                                                 tmp_path: Path) -> None:
    environ = {**_oidc_env("http://127.0.0.1:9", tmp_path / "t"), "HUAWEICLOUD_SDK_AK": "AK",
               "HUAWEICLOUD_SDK_SK": "SK", **extra}
    with pytest.raises(ReconcilerError, match=said):
        credential_provider(environ)


def test_the_sdk_provider_and_ours_both_get_credentials_hss_accepts(vending: Vending, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The oracle: huaweicloudsdkcore's OidcStsCredentialProvider and our chain, same variables, same STS."""
    from huaweicloudsdkcore.auth.provider import CredentialProviderChain
    from huaweicloudsdkcore.http.http_config import HttpConfig
    from huaweicloudsdkhss.v5 import HssClient as SdkHssClient
    from huaweicloudsdkhss.v5 import ListRegistryRequest

    token_file = tmp_path / "id-token"
    token_file.write_text(vending.id_token)
    environ = {**_oidc_env(vending.server.url, token_file), "HUAWEICLOUD_SDK_PROJECT_ID": PROJECT}
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    sdk_credentials = CredentialProviderChain.get_basic().get_credentials()  # the SDK's whole chain
    config = HttpConfig.get_default_config()
    config.retry_times = 0
    sdk = (SdkHssClient.new_builder().with_http_config(config).with_credentials(sdk_credentials)
           .with_endpoints([vending.server.url]).build())
    assert sdk.list_registry(ListRegistryRequest(enterprise_project_id="0")).total_num == 0
    assert vending.issued == 1

    provider = credential_provider(environ)
    assert provider().source == oidc.SOURCE
    with make_http_client(provider, verify=False) as http:
        assert HssClient(http, vending.server.url, PROJECT).list_registries() == []
    assert vending.issued == 2
    assert set(vending.responses()) == {"200"}
