"""A region's endpoint list, as the SDK's client uses it: the next endpoint when one cannot be connected to.

Never a request that may have reached a server: an add whose connection was
made and then lost is not sent to the next endpoint (it could be a duplicate).
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from reconciler.config.model import TargetConfig
from reconciler.connect import failover_endpoints
from reconciler.errors import ReconcilerError
from reconciler.hss.client import HssClient
from reconciler.hss.credentials import Credentials
from reconciler.hss.errors import AddOutcomeUnknown
from reconciler.hss.transport import make_http_client
from reconciler.registry import TargetKey
from reconciler.secrets import Secret
from tests.e2e.conftest import run_cli
from tests.e2e.credentials_kit import PROJECT, Vending, chain_env, closed_port_url, write_target

REGION_VARIABLE = "HUAWEICLOUD_SDK_REGION_HSS_AP_SOUTHEAST_1"


def test_apply_and_plan_go_on_at_the_second_endpoint_when_the_first_port_is_closed(
        vending: Vending, tmp_path: Path) -> None:
    env = chain_env(tmp_path / "home", HUAWEICLOUD_SDK_AK=vending.ak, HUAWEICLOUD_SDK_SK=vending.sk,
                    **{REGION_VARIABLE: f"{closed_port_url()},{vending.server.url}"})
    write_target(tmp_path / "ws", 3)
    applied = run_cli("apply", str(tmp_path / "ws"), "--auto-approve", env=env)
    assert applied.code == 0, applied.output
    assert "3 added" in applied.stdout
    assert "cannot be reached; using " + vending.server.url in applied.stderr
    assert set(vending.responses()) == {"200"}
    # Exactly the three registries exist: a fresh plan at the same list sees nothing to do.
    planned = run_cli("plan", str(tmp_path / "ws"), "--detailed-exitcode", env=env)
    assert planned.code == 0, planned.output


@contextmanager
def _client(vending: Vending, endpoint: str, *fallbacks: str) -> Iterator[HssClient]:
    credentials = Credentials(access_key=vending.ak, secret_key=Secret(vending.sk))
    with make_http_client(credentials, verify=False) as http:
        yield HssClient(http, endpoint, PROJECT, fallbacks=fallbacks)


def test_a_failed_tls_handshake_moves_on_as_in_the_sdk(vending: Vending) -> None:
    """The SDK's own case (SslHandShakeException): https to a port that speaks plain http."""
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcore.http.http_config import HttpConfig
    from huaweicloudsdkhss.v5 import HssClient as SdkHssClient
    from huaweicloudsdkhss.v5 import ListRegistryRequest

    port = vending.server.url.rsplit(":", 1)[1]
    endpoints = [f"https://127.0.0.1:{port}", vending.server.url]
    with _client(vending, *endpoints) as client:
        assert client.list_registries() == []
        assert client.list_registries() == []  # the second call starts at the endpoint that worked
    config = HttpConfig.get_default_config()
    config.ignore_ssl_verification = True
    config.retry_times = 0
    sdk = (SdkHssClient.new_builder().with_http_config(config).with_endpoints(endpoints)
           .with_credentials(BasicCredentials(vending.ak, vending.sk, PROJECT)).build())
    assert sdk.list_registry(ListRegistryRequest(enterprise_project_id="0")).total_num == 0  # the oracle
    assert vending.responses() == {"200": 3}


@pytest.fixture
def hang_up() -> Iterator[str]:
    """A loopback port that accepts one connection, reads the request, and closes without answering."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)
    seen: list[bytes] = []

    def serve() -> None:
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        with connection:
            seen.append(connection.recv(65536))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()
    thread.join(timeout=2)
    assert seen, "the first endpoint never saw the request"


def test_an_add_whose_connection_was_made_is_never_sent_to_the_next_endpoint(vending: Vending,
                                                                             hang_up: str) -> None:
    with _client(vending, hang_up, vending.server.url) as client, pytest.raises(AddOutcomeUnknown):
        client.add_registry({"registry_name": "harbor-00"})
    assert vending.responses() == {}, "the add reached the second endpoint too"


def _target(endpoint: str) -> TargetConfig:
    return TargetConfig(TargetKey("ap-southeast-1", PROJECT, "0"), endpoint)


def test_only_endpoints_of_the_first_scheme_are_failed_over_to() -> None:
    """An https endpoint is never reached by a run that chose not to verify TLS for its http list."""
    environ = {REGION_VARIABLE: "http://127.0.0.1:8080,https://hss.example.com,http://localhost:8081"}
    assert failover_endpoints([_target("http://127.0.0.1:8080")], environ) == {
        _target("").key: ("http://localhost:8081",)}
    assert failover_endpoints([_target("http://127.0.0.1:8080")],
                              {REGION_VARIABLE: "http://127.0.0.1:8080,https://hss.example.com"}) == {}


def test_a_plain_http_fallback_outside_loopback_is_refused_before_anything_is_sent() -> None:
    environ = {REGION_VARIABLE: "http://127.0.0.1:8080,http://hss.example.com"}
    refused = re.escape("http://hss.example.com is plain http outside loopback")
    with pytest.raises(ReconcilerError, match=refused):
        failover_endpoints([_target("http://127.0.0.1:8080")], environ)
    # The list is the target's only when its endpoint came from it.
    assert failover_endpoints([_target("https://mine.example.com")], environ) == {}
    assert failover_endpoints([_target("http://127.0.0.1:8080")],
                              {**environ, "HSS_ENDPOINT": "http://127.0.0.1:8080"}) == {}
