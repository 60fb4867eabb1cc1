"""The test session runs with none of the runner's credentials, endpoints or state locations.

tests/conftest.py removes them at import; a CI runner with `HUAWEICLOUD_SDK_IDP_ID`,
an AWS key or `HSS_STATE` set, or an ECS runner whose metadata service hands out
agency keys, would otherwise switch tests that expect "no credentials" to real ones.
"""

from __future__ import annotations

import os

import httpx

from tests.conftest import _RUNNER_PREFIXES


def test_no_credential_endpoint_or_state_variable_of_the_runner_reaches_the_tests() -> None:
    leaked = sorted(name for name in os.environ
                    if name.startswith(_RUNNER_PREFIXES) and name != "HSS_METADATA_ENDPOINT")
    assert leaked == []


def test_the_metadata_service_is_a_closed_loopback_port_not_the_link_local_one() -> None:
    url = httpx.URL(os.environ["HSS_METADATA_ENDPOINT"])
    assert url.host == "127.0.0.1"
    try:
        httpx.get(str(url), timeout=2)
    except httpx.ConnectError:
        return
    raise AssertionError(f"something answers at {url}: the credential chain would take keys from it")
