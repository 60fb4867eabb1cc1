"""Issue 2.5: on a terminal, apply asks for 'yes'; anything else cancels and changes nothing."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time
from pathlib import Path

from tests.e2e.conftest import CLI, Hss
from tests.e2e.workspaces import Api, env_for, registry, write_workspace


def _answer_prompt(args: list[str], env: dict[str, str], answer: str) -> tuple[int, str]:
    leader, follower = pty.openpty()
    proc = subprocess.Popen([CLI, *args], stdin=follower, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    seen, answered, deadline = b"", False, time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        if not answered and b"Enter a value:" in seen:
            os.write(leader, answer.encode() + b"\n")
            answered = True
        if proc.poll() is not None and not ready:
            break
    code = proc.wait(timeout=10)
    os.close(leader)
    return code, seen.decode(errors="replace")


def test_yes_applies(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    code, screen = _answer_prompt(["apply", str(ws)], env_for(hss), "yes")
    assert code == 0, screen
    assert "Only 'yes' will be accepted to approve." in screen and "Apply complete!" in screen
    assert list(Api(hss).by_name()) == ["alpha"]


def test_anything_else_cancels(hss: Hss, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    code, screen = _answer_prompt(["apply", str(ws)], env_for(hss), "y")
    assert code == 1 and "Apply cancelled." in screen
    assert Api(hss).list() == [] and not (ws / "hss-reconciler.state.json").exists()
