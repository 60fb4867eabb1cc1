"""Issue 16.1 end to end: query values with spaces and `+` reach the emulator as sent and signed.

The emulator decodes queries as APIG does (RFC 3986, `+` literal), so a client
that sent a space as `+` while signing `%20` would get 401 here, and with a
token the namespace would arrive changed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import Hss, run_cli
from tests.e2e.workspaces import PASSWORD, PASSWORD_ENV, registry, write_workspace


@pytest.mark.parametrize("aksk", [True, False], ids=["aksk", "token"])
def test_upload_commands_for_a_namespace_with_a_space_and_a_plus(hss: Hss, tmp_path: Path,
                                                                 aksk: bool) -> None:
    ws = write_workspace(tmp_path / "ws", [registry(
        "jfrog-build", registry_addr="jfrog.example.com", registry_username="robot user+1",
        get_scan_image_channel="Other", namespace="team scanners+x")])
    env = {**hss.env(aksk=aksk), PASSWORD_ENV: PASSWORD}
    applied = run_cli("apply", str(ws), "--auto-approve", env=env)
    assert applied.code == 0, applied.output
    asked = run_cli("upload-command", "jfrog-build", str(ws), env=env)
    assert asked.code == 0, asked.output
    assert "jfrog.example.com/team scanners+x/" in asked.stdout  # the namespace HSS received
    assert "robot user+1" in asked.stdout  # the username HSS received
