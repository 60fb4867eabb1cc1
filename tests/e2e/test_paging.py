"""Issue 16.2: listing pages like the SDK and the Terraform data source.

The SDK's ListRegistryResponse holds 0-100 items while `limit` goes to 200, so
an HSS that caps its pages at 100 answers `limit=200` with 100. A client that
stopped at the first short page would miss the rest, and plan would propose
adding registries that exist. The emulator caps its pages at 100.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconciler.emulator import EmulatorConfig, EmulatorServer
from tests.e2e.conftest import Hss
from tests.e2e.workspaces import PROJECT, Api, cli, registry, write_workspace

COUNT = 150


@pytest.fixture
def big_hss() -> Iterator[Hss]:
    token = secrets.token_hex(16)
    server = EmulatorServer(EmulatorConfig(host="127.0.0.1", port=0, tokens={token},
                                           max_registries_per_project=200))
    server.start()
    try:
        yield Hss(server, token, "", "")
    finally:
        server.stop()


def test_150_registries_behind_pages_capped_at_100_are_all_seen(big_hss: Hss, tmp_path: Path) -> None:
    api = Api(big_hss)
    with httpx.Client(headers={"X-Auth-Token": big_hss.token}) as client:
        for i in range(COUNT):
            body = {**registry(f"existing-{i:03d}"), "registry_password": "unmanaged-secret"}
            client.post(f"{big_hss.server.url}/v5/{PROJECT}/image/registries", json=body).raise_for_status()
    assert len(api.list()) == 100  # the emulator answers limit=200 with one page of 100

    ws = write_workspace(tmp_path / "ws", [registry("existing-149"), registry("new-one")])
    planned = cli(big_hss, "plan", str(ws))
    assert planned.code == 0, planned.output
    assert f"{COUNT - 1} registries in HSS not managed" in planned.stdout
    # The 150th registry is found (adopted), not proposed as a new one that would collide.
    assert "Plan: 1 to import, 1 to add, 0 to change, 0 to destroy." in planned.stdout
