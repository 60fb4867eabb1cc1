"""The official SDK's HssClient drives the emulator: proof that it speaks the real wire format.

If the SDK (its request models, its URL building, its AK/SK Signer, its error
parsing) can talk to the emulator, then the emulator's paths, bodies, answers,
error shapes and signature checks match what the real service expects.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkhss.v5 import (
    AddRegistryRequest,
    AddRegistryRequestBody,
    BatchDeleteRegistryRequest,
    BatchDeleteRegistryRequestBody,
    DeleteRegistryRequest,
    HssClient,
    ListRegistryRequest,
    ShowImageUploadCommandRequest,
    UpdateRegistryRequest,
    UpdateRegistryRequestBody,
)

from reconciler.emulator import EmulatorServer
from tests.oracle.aksk import aksk_emulator

PROJECT = "0b5f4c1e9d8a4e2b8c7a6d5e4f3a2b1c"
EPS = "0"
PASSWORD = "Pw-" + "s3cr3t-value-never-echoed"


def _client(url: str, ak: str, sk: str, project: str = PROJECT) -> Any:
    config = HttpConfig.get_default_config()
    config.ignore_ssl_verification = True  # the emulator is plain http; nothing to verify
    config.retry_times = 0
    return (HssClient.new_builder()
            .with_http_config(config)
            .with_credentials(BasicCredentials(ak, sk, project))
            .with_endpoints([url])
            .build())


class Sdk:
    """The emulator plus an SDK client signed with a key the emulator knows."""

    def __init__(self, server: EmulatorServer, ak: str, sk: str) -> None:
        self.server, self.ak, self.sk = server, ak, sk
        self.client = _client(server.url, ak, sk)

    def add(self, name: str, **overrides: str) -> Any:
        fields: dict[str, str] = {
            "registry_name": name, "registry_type": "Harbor", "api_version": "V2",
            "protocol": "https", "registry_addr": "harbor.example.com",
            "registry_username": "robot-hss", "registry_password": PASSWORD,
            "connect_cluster_id": "6e1c2d3f-0a1b-4c5d-8e9f-0a1b2c3d4e5f",
            "get_scan_image_channel": "Swr", **overrides,
        }
        body = AddRegistryRequestBody(**fields)
        return self.client.add_registry(AddRegistryRequest(enterprise_project_id=EPS, body=body))

    def listing(self, **query: Any) -> Any:
        request = ListRegistryRequest(enterprise_project_id=EPS, offset=0, limit=200, **query)
        return self.client.list_registry(request)

    def id_of(self, name: str) -> str:
        found = [r for r in self.listing(registry_name=name).data_list if r.registry_name == name]
        assert len(found) == 1, found
        registry_id: str = found[0].id
        return registry_id


@pytest.fixture
def sdk() -> Iterator[Sdk]:
    with aksk_emulator() as (server, ak, sk):
        yield Sdk(server, ak, sk)


def test_add_then_list_returns_every_field_but_never_the_password(sdk: Sdk) -> None:
    added = sdk.add("harbor-prod")
    assert added.status_code == 200

    listed = sdk.listing()
    assert listed.status_code == 200
    assert listed.total_num == 1
    info = listed.data_list[0]
    assert info.id
    assert (info.registry_name, info.registry_type, info.api_version, info.protocol) == (
        "harbor-prod", "Harbor", "V2", "https")
    assert (info.registry_addr, info.registry_username) == ("harbor.example.com", "robot-hss")
    assert info.connect_cluster_id == "6e1c2d3f-0a1b-4c5d-8e9f-0a1b2c3d4e5f"
    assert info.get_scan_image_channel == "Swr"
    assert info.status in ("success", "fail", "accessing")
    # The SDK model would silently drop an unknown field, so look at the bytes too.
    raw = listed.raw_content.decode("utf-8")
    assert PASSWORD not in raw
    assert all("registry_password" not in item and "password" not in item
               for item in json.loads(raw)["data_list"])


def test_update_changes_fields_the_sdk_then_reads_back(sdk: Sdk) -> None:
    sdk.add("jfrog-build", registry_type="Jfrog")
    registry_id = sdk.id_of("jfrog-build")
    body = UpdateRegistryRequestBody(registry_addr="jfrog.example.com:8443", namespace="security-tools",
                                     get_scan_image_channel="Other", registry_password=PASSWORD)
    updated = sdk.client.update_registry(
        UpdateRegistryRequest(enterprise_project_id=EPS, id=registry_id, body=body))
    assert updated.status_code == 200

    info = sdk.listing(registry_id=registry_id).data_list[0]
    assert (info.registry_addr, info.namespace, info.get_scan_image_channel) == (
        "jfrog.example.com:8443", "security-tools", "Other")
    assert info.registry_type == "Jfrog"
    assert info.id == registry_id


def test_delete_and_batch_delete_remove_registries(sdk: Sdk) -> None:
    for name in ("one", "two", "three"):
        sdk.add(name)
    deleted = sdk.client.delete_registry(
        DeleteRegistryRequest(enterprise_project_id=EPS, id=sdk.id_of("one")))
    assert deleted.status_code == 200
    assert sorted(r.registry_name for r in sdk.listing().data_list) == ["three", "two"]

    ids = [sdk.id_of("two"), sdk.id_of("three")]
    batch = sdk.client.batch_delete_registry(BatchDeleteRegistryRequest(
        enterprise_project_id=EPS, body=BatchDeleteRegistryRequestBody(ids=ids)))
    assert batch.status_code == 200
    listed = sdk.listing()
    assert listed.total_num == 0
    assert listed.data_list == []


def test_show_image_upload_command_answers_without_echoing_the_password(sdk: Sdk) -> None:
    request = ShowImageUploadCommandRequest(registry_addr="jfrog.example.com:8443",
                                            namespace="security-tools", username="hss-scanner",
                                            password=PASSWORD)
    answer = sdk.client.show_image_upload_command(request)
    assert answer.status_code == 200
    assert "jfrog.example.com:8443/security-tools/" in answer.image_command
    assert answer.images_download_url.startswith("https://")
    assert answer.swr_image_pull_command.startswith("docker pull ")
    assert PASSWORD not in answer.raw_content.decode("utf-8")


def test_out_of_range_add_raises_client_request_exception_400(sdk: Sdk) -> None:
    with pytest.raises(ClientRequestException) as caught:
        sdk.add("x" * 129)
    error = caught.value
    assert error.status_code == 400
    assert error.error_code == "HSS.0001"
    assert "registry_name" in error.error_msg
    assert error.request_id  # X-Request-Id reaches the SDK
    assert sdk.listing().total_num == 0  # a rejected add changes nothing


def test_wrong_secret_key_raises_401_apig_0301(sdk: Sdk) -> None:
    wrong = _client(sdk.server.url, sdk.ak, sdk.sk + "x")
    with pytest.raises(ClientRequestException) as caught:
        wrong.list_registry(ListRegistryRequest(enterprise_project_id=EPS))
    error = caught.value
    assert error.status_code == 401
    assert error.error_code == "APIG.0301"
    assert sdk.sk not in error.error_msg
    assert error.request_id
