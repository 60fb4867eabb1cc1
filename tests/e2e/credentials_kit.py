"""What the credential-chain tests share: an emulator that also plays IAM, metadata and pod identity.

One emulator per test module (``start_vending``, reset between tests), a
subprocess environment with no credential of the runner's own and a private
HOME, and a workspace of N registries for one or more targets.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

from reconciler.emulator import EmulatorConfig, EmulatorServer
from reconciler.hss.credsources import oidc

PROJECT = "0b5f4c1e9d8a4e2b8c7a6d5e4f3a2b1c"
PASSWORD_ENV = "REGISTRY_PASSWORD"
IDP_ID = "github-actions"
OIDC_PROVIDER_URN = "iam::0b5f4c1e9d8a4e2b:identity-provider:github-actions"
OIDC_AGENCY_URN = "iam::0b5f4c1e9d8a4e2b:agency:ci-deployer"
# Every variable of the chain: none of the runner's own may leak into a test.
CHAIN_VARS = ("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_SECURITY_TOKEN", "CLOUD_SDK_AK",
              "CLOUD_SDK_SK", "HSS_AUTH_TOKEN", "HSS_ENDPOINT", "HUAWEICLOUD_SDK_IDP_ID",
              "HUAWEICLOUD_SDK_ID_TOKEN_FILE", "HUAWEICLOUD_SDK_IAM_ENDPOINT",
              "HUAWEICLOUD_SDK_CREDENTIALS_FILE",
              "HSS_METADATA_ENDPOINT", "HC_CONTAINER_CREDENTIALS_FULL_URI",
              "HC_CONTAINER_AUTHORIZATION_TOKEN_FILE", "NO_COLOR", "HUAWEICLOUD_SDK_STS_ENDPOINT",
              *oidc.VARIABLES)


@dataclass
class Vending:
    server: EmulatorServer
    ak: str
    sk: str
    id_token: str
    pod_token: str

    @property
    def issued(self) -> int:
        """Temporary credentials the emulator issued since the last reset."""
        return self.server.app.auth.temporary.issued

    def responses(self) -> dict[str, int]:
        """HSS API answers by status (credential-service answers are not counted)."""
        counted: dict[str, int] = self.server.app.stats.snapshot()["responses"]  # type: ignore[assignment]
        return counted


def closed_port_url() -> str:
    """A loopback URL nothing listens on: the metadata service of a machine that is not on ECS."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def start_vending() -> Vending:
    """An emulator that knows one AK/SK, one IdP (IAM and STS) with one ID token, an agency, a pod token."""
    ak, sk = "AK" + secrets.token_hex(8).upper(), secrets.token_hex(20)
    id_token, pod_token = "eyJ" + secrets.token_urlsafe(40), "pod-" + secrets.token_urlsafe(24)
    server = EmulatorServer(EmulatorConfig(
        aksk={ak: sk}, idp_id=IDP_ID, id_tokens={id_token}, metadata_agency=True,
        oidc_provider_urn=OIDC_PROVIDER_URN, oidc_agency_urn=OIDC_AGENCY_URN,
        pod_identity_token=pod_token))
    server.start()
    return Vending(server, ak, sk, id_token, pod_token)


def chain_env(home: Path, **extra: str) -> dict[str, str]:
    """os.environ without any credential, HOME in the test's own directory, a registry password."""
    env = {k: v for k, v in os.environ.items() if k not in CHAIN_VARS}
    home.mkdir(parents=True, exist_ok=True)
    env.update({"HOME": str(home), PASSWORD_ENV: "Registry-Pa55word",
                "HSS_METADATA_ENDPOINT": closed_port_url()})
    env.update(extra)
    return env


def write_target(directory: Path, count: int, *, project: str = PROJECT, endpoint: str | None = None,
                 profile: str | None = None, name: str = "registries.yaml") -> Path:
    """A registry file of ``count`` Harbor registries for one target."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = ["version: 1", "target:", "  region: ap-southeast-1", f"  project_id: {project}"]
    if endpoint:
        lines.append(f"  endpoint: {endpoint}")
    if profile:
        lines.append(f"  credentials: {{profile: {profile}}}")
    lines.append("registries:")
    for index in range(count):
        lines += [f"  - registry_name: harbor-{index:02d}", "    registry_type: Harbor",
                  "    protocol: https", f"    registry_addr: harbor{index}.example.com",
                  "    registry_username: robot", f"    registry_password: {{env: {PASSWORD_ENV}}}",
                  "    api_version: V2", "    get_scan_image_channel: Swr",
                  "    connect_cluster_id: 6e1c2d3f-0a1b-4c5d-8e9f-0a1b2c3d4e5f"]
    path = directory / name
    path.write_text("\n".join(lines) + "\n")
    return path


def assert_plan_refused(vending: Vending, tmp_path: Path, env: dict[str, str], said: str,
                        secret: str) -> None:
    """A plan with a refused credential: exit 1 saying ``said``, never ``secret``; nothing sent to HSS."""
    from tests.e2e.conftest import run_cli  # conftest imports this module

    write_target(tmp_path / "ws", 1)
    result = run_cli("plan", str(tmp_path / "ws"), env=env)
    assert result.code == 1, result.output
    assert said in result.stderr
    assert secret not in result.output and "Traceback" not in result.output
    assert vending.responses() == {}, "nothing may reach HSS without credentials"


def write_profiles(home: Path, sections: dict[str, dict[str, str]]) -> Path:
    """``~/.huaweicloud/credentials`` in the SDK's INI format."""
    path = home / ".huaweicloud" / "credentials"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"[{name}]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items()) + "\n"
                            for name, keys in sections.items()))
    return path
