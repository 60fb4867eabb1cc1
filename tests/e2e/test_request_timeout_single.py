"""`import` and `upload-command` take --request-timeout as plan, apply and show do.

Against an emulator that answers every API call only after 1.5 s (its latency
setting, a hung HSS as far as a short deadline goes), each command ends at the
deadline given, with one error line naming it, and writes no state.
"""

from __future__ import annotations

import time
from pathlib import Path

from tests.e2e.conftest import Hss
from tests.e2e.workspaces import Api, cli, registry, write_workspace

LATENCY_MS = 1500
DEADLINE = "0.25s"


def _cut_at_the_deadline(hss: Hss, *args: str) -> str:
    Api(hss).configure(latency_ms=LATENCY_MS)  # every API call answered only after 1.5 s
    started = time.monotonic()
    result = cli(hss, *args, "--request-timeout", DEADLINE)
    took = time.monotonic() - started
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert result.code == 1, result.output
    assert len(errors) == 1 and "Traceback" not in result.output, result.stderr
    assert "request deadline (--request-timeout)" in errors[0], errors[0]
    assert took < LATENCY_MS / 1000, took  # the answer never came: the deadline ended the call
    return errors[0]


def test_import_is_cut_at_the_request_timeout_and_records_nothing(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    error = _cut_at_the_deadline(hss, "import", str(ws / "registries.yaml"), "alpha", "some-registry-id")
    assert "ListRegistry" in error
    assert not (ws / "hss-reconciler.state.json").exists()


def test_upload_command_is_cut_at_the_request_timeout(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("other", get_scan_image_channel="Other",
                                                    namespace="security-tools")])
    error = _cut_at_the_deadline(hss, "upload-command", "other", str(ws))
    assert "ShowImageUploadCommand" in error
