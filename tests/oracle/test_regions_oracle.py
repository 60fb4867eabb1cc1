"""Issue 16.4: our region table and endpoint sources against the official SDK's own.

The built-in table must be the SDK's HssRegion, region for region. The
variable HUAWEICLOUD_SDK_REGION_HSS_<REGION> and the regions file must give
what the SDK's EnvRegionProvider and ProfileRegionCache give (with the SDK
client's https:// for an endpoint without a scheme), and an unknown region
must list the regions the SDK lists.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from huaweicloudsdkcore.region.cache import ProfileRegionCache
from huaweicloudsdkcore.region.provider import EnvRegionProvider
from huaweicloudsdkhss.v5.region.hss_region import HssRegion

from reconciler.config.endpoints import EndpointResolver
from reconciler.regions import BUILTIN_ENDPOINTS, builtin_endpoint, region_env_name


def _as_the_sdk_client_uses(endpoints: list[str]) -> tuple[str, ...]:
    # huaweicloudsdkcore.client.ClientBuilder.build: https:// for anything not starting with "http".
    return tuple(e if e.startswith("http") else "https://" + e for e in endpoints)


def test_the_table_is_the_sdks_hss_region_table() -> None:
    sdk = {region: list(value.endpoints) for region, value in HssRegion.static_fields.items()}
    assert sorted(sdk) == sorted(BUILTIN_ENDPOINTS), "a region missing on one side"
    for region, endpoints in sdk.items():
        assert [builtin_endpoint(region)] == endpoints, region
    assert len(BUILTIN_ENDPOINTS) == 32


def test_an_unknown_region_lists_what_the_sdk_lists() -> None:
    with pytest.raises(KeyError) as caught:
        HssRegion.value_of("ap-southeast-9")
    listed = re.search(r"\[(.*)\]", str(caught.value))
    assert listed is not None
    resolver = EndpointResolver({})
    assert resolver.resolve("ap-southeast-9") is None
    ours = resolver.unknown("ap-southeast-9")
    assert ours.split(": HSS is known in ")[1].split(";")[0].split(", ") == listed.group(1).split(", ")


@pytest.mark.parametrize(("region", "value"), [
    ("ap-southeast-1", "https://hss.proxy.example.com"),
    ("ap-southeast-9", "hss.a.example.com,https://hss.b.example.com:8443"),
    ("my-kualalumpur-1", "http://127.0.0.1:8080/base,hss.c.example.com"),
    ("eu-west-101", "https://[::1]:9443"),
])
def test_the_region_variable_reads_as_the_sdk_reads_it(monkeypatch: pytest.MonkeyPatch, region: str,
                                                       value: str) -> None:
    name = region_env_name(region)
    monkeypatch.setenv(name, value)
    sdk = EnvRegionProvider("hss").get_region(region)
    assert sdk is not None, f"the SDK does not read {name}"
    found = EndpointResolver({name: value}).resolve(region)
    assert found is not None
    assert found.endpoints == _as_the_sdk_client_uses(sdk.endpoints)
    assert found.source == name


REGIONS_FILES = [
    "HSS:\n  - id: ap-southeast-9\n    endpoint: https://hss.x.example.com\n",
    # endpoints first, then endpoint, as the SDK appends them; the service name in any case
    "hss:\n  - id: ap-southeast-9\n    endpoints: [hss.a.example.com, 'https://hss.b.example.com']\n"
    "    endpoint: http://127.0.0.1:1\n  - {id: cn-north-4, endpoints: ['https://override.example.com']}\n",
    "ECS:\n  - {id: ap-southeast-9, endpoint: 'https://ecs.example.com'}\nHss:\n"
    "  - {id: ap-southeast-9, endpoint: 'https://hss.y.example.com'}\n",
]


@pytest.mark.parametrize("text", REGIONS_FILES)
def test_the_regions_file_reads_as_the_sdk_reads_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    text: str) -> None:
    path = tmp_path / "regions.yaml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("HUAWEICLOUD_SDK_REGIONS_FILE", str(path))
    sdk = {key[len("HSS"):]: region for key, region in ProfileRegionCache._resolve_profile().items()
           if key.startswith("HSS")}
    assert sdk, "the SDK found no HSS region in the file"
    resolver = EndpointResolver({"HUAWEICLOUD_SDK_REGIONS_FILE": str(path)})
    ours = resolver.file_regions()
    assert sorted(ours) == sorted(sdk)
    for region, theirs in sdk.items():
        assert ours[region].endpoints == _as_the_sdk_client_uses(theirs.endpoints), region
        resolved = resolver.resolve(region)
        # The file beats the built-in table (cn-north-4).
        assert resolved is not None and resolved.endpoints == ours[region].endpoints
