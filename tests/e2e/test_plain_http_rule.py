"""One plain-http rule for HSS endpoints, applied by `plan` at run time and by `validate` to the files.

A `target.endpoint` of plain http outside loopback is refused by both (unless
--allow-http), in the same words, validate's located at the file's line; on
loopback, or allowed, it is a warning. `demo`, which starts its own emulator
on loopback, prints no such warning; a user's run still does
(tests/e2e/test_secret_confinement.py).
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.e2e.conftest import CREDENTIAL_VARS, Result, run_cli
from tests.e2e.workspaces import registry, write_workspace

REFUSED = ("HSS endpoint http://hss.internal.example:8080 is plain http outside loopback: the credentials "
           "and registry passwords would cross the network unencrypted. Use https, or pass --allow-http "
           "if this network is trusted.")


def _env(tmp_path: Path) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARS}, "HOME": str(tmp_path)}


def _workspace(tmp_path: Path, endpoint: str) -> Path:
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    file = ws / "registries.yaml"
    line = "  enterprise_project_id: '0'\n"
    file.write_text(file.read_text().replace(line, f"{line}  endpoint: {endpoint}\n"))
    assert f"endpoint: {endpoint}" in file.read_text()
    return ws


def _validate(tmp_path: Path, ws: Path, *args: str) -> Result:
    return run_cli("validate", str(ws), *args, env=_env(tmp_path))


def test_validate_refuses_an_http_endpoint_outside_loopback_as_plan_does_in_the_same_words(
        tmp_path: Path) -> None:
    ws = _workspace(tmp_path, "http://robot:Url-Pw-5d1e@hss.internal.example:8080")
    validated = _validate(tmp_path, ws)
    assert validated.code == 1 and validated.stdout == ""
    where = f"{ws / 'registries.yaml'}:6:13: target.endpoint"
    assert validated.stderr.splitlines() == [f"Error: {where}: {REFUSED}"]

    planned = run_cli("plan", str(ws), env=_env(tmp_path))  # refused before any client: nothing is sent
    assert planned.code == 1
    assert planned.stderr.splitlines() == [f"Error: {REFUSED} Nothing was sent."]
    assert "Url-Pw-5d1e" not in validated.output + planned.output


def test_validate_with_allow_http_warns_at_the_endpoint_line_instead(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, "http://hss.internal.example:8080")
    result = _validate(tmp_path, ws, "--allow-http")
    assert result.code == 0, result.output
    assert result.stderr.splitlines() == [
        f"Warning: {ws / 'registries.yaml'}:6:13: target.endpoint: --allow-http: HSS endpoint "
        "http://hss.internal.example:8080 is plain http; anyone on the path can read the credentials and "
        "registry passwords this run sends"]


def test_validate_warns_about_an_http_endpoint_on_loopback_and_not_about_https(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, "http://127.0.0.1:8080")
    result = _validate(tmp_path, ws)
    assert result.code == 0, result.output
    assert result.stderr.splitlines() == [
        f"Warning: {ws / 'registries.yaml'}:6:13: target.endpoint: HSS endpoint http://127.0.0.1:8080 is "
        "plain http on loopback: credentials are not encrypted (fine for the emulator; use https for a "
        "real HSS)"]

    secure = _validate(tmp_path, _workspace(tmp_path / "https", "https://hss.internal.example"))
    assert secure.code == 0 and secure.stderr == "", secure.output


def test_demo_prints_no_warning_about_the_emulator_it_started(tmp_path: Path) -> None:
    result = run_cli("demo", "--no-color", env=_env(tmp_path))
    assert result.code == 0, result.output
    assert "Demo complete" in result.stdout
    assert [line for line in result.output.splitlines() if "WARNING" in line or "Warning" in line] == []
