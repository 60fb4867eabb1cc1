"""The official SDK keeps an application id under HOME: the session's temporary one, never the real.

huaweicloudsdkcore writes ~/.huaweicloud/application_id once per process, when
it is first imported, and sends the id in every request's User-Agent.
tests/conftest.py points HOME at a temporary directory before any test module
imports the SDK; these tests drive the SDK against the emulator, in this process
and in a child started the way every test starts one, and check where the id
came from and that the real home's ~/.huaweicloud is as the session found it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkcore.http.http_handler import HttpHandler
from huaweicloudsdkhss.v5 import HssClient, ListRegistryRequest

from reconciler.emulator import EmulatorServer
from tests.conftest import AT_START, REAL_HOME, SESSION_HOME, snapshot
from tests.oracle.aksk import aksk_emulator

PROJECT = "0b5f4c1e9d8a4e2b8c7a6d5e4f3a2b1c"
APP_ID = re.compile(r"app/([0-9a-f-]{36})$")

# A child process: the SDK lists registries once and prints the User-Agent it sent.
CHILD = """
import sys
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkcore.http.http_handler import HttpHandler
from huaweicloudsdkhss.v5 import HssClient, ListRegistryRequest
url, ak, sk, project = sys.argv[1:]
sent = []
handler = HttpHandler().add_response_handler(
    lambda **kw: sent.append(kw["response"].request.headers["User-Agent"]))
config = HttpConfig.get_default_config()
config.retry_times = 0
client = (HssClient.new_builder().with_http_config(config).with_http_handler(handler)
          .with_credentials(BasicCredentials(ak, sk, project)).with_endpoints([url]).build())
client.list_registry(ListRegistryRequest(enterprise_project_id="0", offset=0, limit=10))
print(sent[-1])
"""


class Emulator:
    def __init__(self, server: EmulatorServer, ak: str, sk: str) -> None:
        self.server, self.ak, self.sk = server, ak, sk

    def user_agent_sent(self) -> str:
        """List registries with the SDK in this process; the User-Agent its request carried."""
        sent: list[str] = []
        handler = HttpHandler().add_response_handler(
            lambda **kw: sent.append(kw["response"].request.headers["User-Agent"]))
        config = HttpConfig.get_default_config()
        config.retry_times = 0
        client: Any = (HssClient.new_builder().with_http_config(config).with_http_handler(handler)
                       .with_credentials(BasicCredentials(self.ak, self.sk, PROJECT))
                       .with_endpoints([self.server.url]).build())
        listing = client.list_registry(ListRegistryRequest(enterprise_project_id="0", offset=0, limit=10))
        assert listing.total_num == 0
        assert len(sent) == 1
        return sent[0]


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with aksk_emulator() as (server, ak, sk):
        yield Emulator(server, ak, sk)


def _app_id(user_agent: str) -> str:
    found = APP_ID.search(user_agent)
    assert found, f"no application id in the User-Agent {user_agent!r}"
    return found.group(1)


def _huaweicloud(found: dict[str, tuple[int, int, int]]) -> dict[str, tuple[int, int, int]]:
    return {k: v for k, v in found.items() if k.split(os.sep)[0] == ".huaweicloud"}


def _assert_real_home_untouched() -> None:
    """~/.huaweicloud in the real home is as conftest.py found it, before any test module loaded."""
    before, now = _huaweicloud(AT_START[REAL_HOME]), _huaweicloud(snapshot(REAL_HOME))
    differing = sorted(set(now.items()) ^ set(before.items()))
    assert now == before, f"{REAL_HOME / '.huaweicloud'} changed during the session: {differing}"


def test_the_sdk_in_this_process_keeps_its_id_under_the_temporary_home(emulator: Emulator) -> None:
    assert os.environ["HOME"] == str(SESSION_HOME) != str(REAL_HOME)
    app_id = _app_id(emulator.user_agent_sent())
    stored = SESSION_HOME / ".huaweicloud" / "application_id"
    assert stored.is_file(), f"the SDK wrote no application id under the temporary HOME {SESSION_HOME}"
    assert stored.read_text(encoding="utf-8") == app_id
    _assert_real_home_untouched()


def test_a_child_process_inherits_the_temporary_home(emulator: Emulator) -> None:
    env = dict(os.environ)  # as every test builds a subprocess environment
    child = subprocess.run([sys.executable, "-c", CHILD, emulator.server.url, emulator.ak, emulator.sk,
                            PROJECT], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert child.returncode == 0, child.stderr
    stored = SESSION_HOME / ".huaweicloud" / "application_id"
    assert stored.is_file(), f"the SDK wrote no application id under the temporary HOME {SESSION_HOME}"
    assert _app_id(child.stdout.strip()) == stored.read_text(encoding="utf-8")
    _assert_real_home_untouched()
