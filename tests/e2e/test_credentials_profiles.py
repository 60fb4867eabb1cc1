"""Per-target credentials: two targets in one workspace, each in its own account, by profile name.

Each "account" is an emulator that knows only its own key pair, so a target
signed with the other profile's key would be refused (401), and the apply
could not succeed. The official SDK's own profile provider reads the same file
to the same key (the oracle for the file format).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from huaweicloudsdkcore.auth.provider import EnvCredentialProvider, ProfileCredentialProvider

from reconciler.emulator import EmulatorConfig, EmulatorServer
from tests.e2e.conftest import run_cli
from tests.e2e.credentials_kit import PROJECT, chain_env, write_profiles, write_target

OTHER_PROJECT = "1c6a5d2f0e9b4f3c9d8b7e6f5a4b3c2d"


def _key() -> tuple[str, str]:
    return "AK" + secrets.token_hex(8).upper(), secrets.token_hex(20)


@pytest.fixture(scope="module")
def accounts() -> Iterator[list[tuple[EmulatorServer, str, str]]]:
    found = []
    for _ in range(2):
        ak, sk = _key()
        server = EmulatorServer(EmulatorConfig(aksk={ak: sk}))
        server.start()
        found.append((server, ak, sk))
    try:
        yield found
    finally:
        for server, _, _ in found:
            server.stop()


def test_one_workspace_spans_two_accounts(accounts: list[tuple[EmulatorServer, str, str]],
                                          tmp_path: Path) -> None:
    (dev, dev_ak, dev_sk), (prod, prod_ak, prod_sk) = accounts
    home = tmp_path / "home"
    write_profiles(home, {"dev": {"ak": dev_ak, "sk": dev_sk}, "prod": {"ak": prod_ak, "sk": prod_sk}})
    workspace = tmp_path / "ws"
    write_target(workspace, 2, endpoint=dev.url, profile="dev", name="dev.yaml")
    write_target(workspace, 3, project=OTHER_PROJECT, endpoint=prod.url, profile="prod", name="prod.yaml")
    result = run_cli("apply", str(workspace), "--auto-approve", env=chain_env(home))
    assert result.code == 0, result.output
    assert "5 added" in result.stdout
    assert (dev.app.store.count(), prod.app.store.count()) == (2, 3)


def test_an_unknown_profile_stops_plan_naming_the_target(accounts: list[tuple[EmulatorServer, str, str]],
                                                         tmp_path: Path) -> None:
    (dev, dev_ak, dev_sk), _ = accounts
    home = tmp_path / "home"
    write_profiles(home, {"dev": {"ak": dev_ak, "sk": dev_sk}})
    write_target(tmp_path / "ws", 1, endpoint=dev.url, profile="staging")
    result = run_cli("plan", str(tmp_path / "ws"), env=chain_env(home))
    assert result.code == 1, result.output
    assert f"target ap-southeast-1/{PROJECT}/0" in result.stderr
    assert "profile 'staging'" in result.stderr and "has no [staging] section" in result.stderr
    assert dev_sk not in result.output and "Traceback" not in result.output


def test_the_sdk_reads_our_profile_file_and_environment_to_the_same_key(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reconciler.hss.credsources.chain import credential_provider

    ak, sk = _key()
    path = write_profiles(tmp_path, {"basic": {"ak": ak, "sk": sk, "project_id": PROJECT}})
    environ = {"HUAWEICLOUD_SDK_CREDENTIALS_FILE": str(path), "HOME": str(tmp_path)}
    for name in ("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_IDP_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HUAWEICLOUD_SDK_CREDENTIALS_FILE", str(path))
    ours = credential_provider(environ)()
    theirs = ProfileCredentialProvider.get_basic().get_credentials()
    assert ours.secret_key is not None
    assert (ours.access_key, ours.secret_key.reveal()) == (theirs.ak, theirs.sk) == (ak, sk)

    env_ak, env_sk = _key()
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", env_ak)
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", env_sk)
    ours = credential_provider({**environ, "HUAWEICLOUD_SDK_AK": env_ak, "HUAWEICLOUD_SDK_SK": env_sk})()
    theirs = EnvCredentialProvider.get_basic().get_credentials()
    assert ours.access_key == theirs.ak == env_ak  # the environment comes first, for both
