"""Issue 16.7: the emulator reads what the official SDK sends as APIG and HSS do.

Header values are UTF-8 (the SDK signs a non-ASCII project id as UTF-8 text
and sends its UTF-8 bytes), a body that is not JSON is verified as
UNSIGNED-PAYLOAD, and images_num counts what a successful sync found.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer
from huaweicloudsdkhss.v5 import AddRegistryRequest, AddRegistryRequestBody, ListRegistryRequest

from reconciler.emulator import EmulatorServer
from reconciler.emulator.store import MAX_IMAGES_FOUND, images_found
from tests.oracle.aksk import aksk_emulator
from tests.oracle.test_sdk_drives_emulator import _client

PROJECT = "projet-é-项目-0b5f"  # what a project id never is at Huawei, and what a header may still carry
FIELDS = {"registry_type": "Harbor", "api_version": "V2", "protocol": "https",
          "registry_addr": "harbor.example.com", "registry_username": "robot-hss",
          "registry_password": "Pw-never-echoed", "connect_cluster_id": "c1", "get_scan_image_channel": "Swr"}


@pytest.fixture(scope="module")
def emulator() -> Iterator[tuple[EmulatorServer, str, str]]:
    with aksk_emulator() as running:
        yield running


def _sdk_signed(server: EmulatorServer, ak: str, sk: str, method: str, path: str,
                headers: dict[str, str], body: bytes) -> httpx.Response:
    """A request the SDK's Signer signed, sent with exactly the header bytes the SDK sends."""
    host = server.url.split("//", 1)[1]
    request = SdkRequest(method=method, schema="http", host=host, resource_path=path, query_params=[],
                         header_params={"Host": host, **headers}, body=body)
    Signer(BasicCredentials(ak, sk, "p")).sign(request)
    # The Signer leaves each value as its UTF-8 bytes read as Latin-1, which is what requests sends.
    sent = {name: value.encode("latin-1") for name, value in request.header_params.items()}
    return httpx.request(method, f"{server.url}{request.uri}", headers=sent, content=body)


def test_the_sdk_signs_a_non_ascii_project_id_and_the_emulator_accepts_it(
        emulator: tuple[EmulatorServer, str, str]) -> None:
    server, ak, sk = emulator
    client: Any = _client(server.url, ak, sk, PROJECT)
    body = AddRegistryRequestBody(registry_name="harbor-utf8", **FIELDS)
    assert client.add_registry(AddRegistryRequest(enterprise_project_id="0", body=body)).status_code == 200
    listed = client.list_registry(ListRegistryRequest(enterprise_project_id="0", offset=0, limit=10))
    assert [r.registry_name for r in listed.data_list] == ["harbor-utf8"]


def test_a_header_sent_in_latin1_does_not_match_its_utf8_signature(
        emulator: tuple[EmulatorServer, str, str]) -> None:
    server, ak, sk = emulator
    path = "/v5/p1/image/registries"
    good = _sdk_signed(server, ak, sk, "GET", path, {"X-Project-Id": "pé"}, b"")
    assert good.status_code == 200, good.text
    assert (b"X-Project-Id", "pé".encode()) in good.request.headers.raw  # the SDK sends UTF-8
    # The same text sent as Latin-1 (one byte 0xE9, not UTF-8): read as Latin-1 it would
    # have matched the signature; read as UTF-8, as APIG reads it, it does not.
    latin1 = {name: ("pé".encode("latin-1") if name.lower() == b"x-project-id" else value)
              for name, value in good.request.headers.raw}
    answer = httpx.request("GET", str(good.request.url), headers=latin1)
    assert (answer.status_code, answer.json()["error_code"]) == (401, "APIG.0301")


def test_a_body_that_is_not_json_is_verified_as_unsigned_payload(
        emulator: tuple[EmulatorServer, str, str]) -> None:
    server, ak, sk = emulator
    path = "/v5/p1/image/registries"
    answer = _sdk_signed(server, ak, sk, "POST", path, {"X-Project-Id": "p1", "Content-Type": "text/plain"},
                         b"registry_name=x")
    assert answer.request.headers["X-Sdk-Content-Sha256"] == "UNSIGNED-PAYLOAD"
    # Past authentication: the operation itself refuses the body (400), as HSS would.
    assert (answer.status_code, answer.json()["error_code"]) == (400, "HSS.0001"), answer.text


def test_images_num_counts_what_a_successful_sync_found(emulator: tuple[EmulatorServer, str, str]) -> None:
    server, ak, sk = emulator
    client: Any = _client(server.url, ak, sk, "p-images")
    for name, addr in (("reachable", "harbor.example.com"), ("unreachable", "harbor.fail.invalid")):
        body = AddRegistryRequestBody(**{**FIELDS, "registry_name": name, "registry_addr": addr})
        client.add_registry(AddRegistryRequest(enterprise_project_id="0", body=body))
    listed = client.list_registry(ListRegistryRequest(enterprise_project_id="0", offset=0, limit=10))
    found = {r.registry_name: (r.status, r.images_num) for r in listed.data_list}
    count = images_found({"registry_addr": "harbor.example.com"})
    assert 1 <= count <= MAX_IMAGES_FOUND
    assert found == {"reachable": ("success", count), "unreachable": ("fail", 0)}
