"""Issue 15: what reaches the terminal, through the installed CLI.

Escape sequences, control characters and bidi or invisible characters in a
file name, a registry name, a value HSS answers or a lock holder print as
escapes (`\\u001b`, `\\u202e`) in validate, plan and lock errors; our own
colours still reach a terminal; a JSON plan stays valid and keeps the value.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
from pathlib import Path

from tests.e2e.conftest import CLI, Hss
from tests.e2e.workspaces import Api, cli, env_for, registry, write_workspace

ESC = "\x1b"
# A title change, a screen clear, a right-to-left override and a C1 CSI: what an attacker would send.
HOSTILE = "\x1b]0;pwned\x07\x1b[2J\u202e\x9b31m"
SHOWN = "\\u001b]0;pwned\\u0007\\u001b[2J\\u202e\\u009b31m"


def _raw_in(text: str) -> list[str]:
    return [c for c in ESC + "\x07\u202e\x9b" if c in text]


def test_validate_escapes_a_file_name_holding_escape_codes_and_a_bidi_override(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / f"bad{HOSTILE}.yaml").write_text("version: 2\n")
    result = cli_without_hss("validate", str(ws))
    assert result.returncode == 1
    assert f"bad{SHOWN}.yaml:1:10: version: must be 1, got 2" in result.stderr
    assert _raw_in(result.stdout + result.stderr) == []


def test_validate_names_the_code_point_of_a_bidi_or_invisible_registry_name(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("evil\u202eexe.gpj"), registry("harbor\u200b")])
    result = cli_without_hss("validate", str(ws))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert '"evil\\u202eexe.gpj" is not a name without control characters or invisible or bidi' in lines[0]
    assert '"harbor\\u200b" is not a name without control characters' in lines[1]
    assert "\u202e" not in result.stderr and "\u200b" not in result.stderr


def test_plan_escapes_what_hss_answers_and_a_json_plan_keeps_the_value(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    assert cli(hss, "apply", str(ws), "--auto-approve").code == 0
    api = Api(hss)
    api.update(api.by_name()["alpha"]["id"], registry_username=f"robot{HOSTILE}")

    plan = cli(hss, "plan", str(ws))
    assert plan.code == 0, plan.output
    assert f'"robot{SHOWN}" -> "robot-hss"' in plan.stdout
    assert _raw_in(plan.stdout + plan.stderr) == []

    as_json = cli(hss, "plan", str(ws), "--format", "json")
    assert _raw_in(as_json.stdout) == []
    document = json.loads(as_json.stdout)
    assert document["changes"][0]["before"]["registry_username"] == f"robot{HOSTILE}"


def test_a_lock_error_escapes_the_holder(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    holder = {"id": "lock-1", "operation": f"apply{HOSTILE}", "who": f"mallory{HOSTILE}@ci", "pid": 1,
              "created": "2026-01-01T00:00:00Z", "version": "0.1.0", "path": "x"}
    (ws / "hss-reconciler.state.json.lock").write_text(json.dumps(holder))
    result = cli(hss, "apply", str(ws), "--auto-approve")
    assert result.code == 1
    assert f"the state is locked by mallory{SHOWN}@ci (pid 1) running 'apply{SHOWN}'" in result.stderr
    assert _raw_in(result.output) == []
    assert Api(hss).list() == []


def test_our_colours_reach_a_terminal_while_foreign_escape_codes_do_not(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    assert cli(hss, "apply", str(ws), "--auto-approve").code == 0
    api = Api(hss)
    api.update(api.by_name()["alpha"]["id"], registry_username=f"robot{HOSTILE}")

    output = _on_a_terminal([CLI, "plan", str(ws)], env_for(hss))
    assert "\x1b[33m~\x1b[0m registry_username" in output  # our yellow ~
    assert f"robot{SHOWN}" in output
    assert "\x1b]" not in output and "\x1b[2J" not in output and "\u202e" not in output


def cli_without_hss(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HSS_", "HUAWEICLOUD_", "CLOUD_SDK_"))}
    return subprocess.run([CLI, *args], env=env, capture_output=True, text=True, timeout=60, check=False)


def _on_a_terminal(command: list[str], env: dict[str, str]) -> str:
    """The command's stdout and stderr as a terminal receives them (colour is on for a terminal)."""
    controller, terminal = pty.openpty()
    try:
        proc = subprocess.Popen(command, env={k: v for k, v in env.items() if k != "NO_COLOR"},
                                stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal)
    finally:
        os.close(terminal)
    received = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the other end closed: Linux raises EIO
            break
        if not chunk:
            break
        received += chunk
    os.close(controller)
    assert proc.wait(timeout=60) == 0
    return received.decode("utf-8")


def test_a_line_separator_in_a_file_name_stays_on_one_error_line(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "bad\u2028Error: forged.yaml").write_text("version: 2\n")
    result = cli_without_hss("validate", str(ws))
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 2  # missing target and registries; version 2
    assert "bad\\u2028Error: forged.yaml:1:10: version: must be 1, got 2" in result.stderr
