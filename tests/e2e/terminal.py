"""Running the CLI on a pseudo-terminal, as a person at a keyboard would."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time

from tests.e2e.conftest import CLI


def run_in_terminal(args: list[str], env: dict[str, str], answer: str | None = None) -> tuple[int, str]:
    """Run with stdin, stdout and stderr on a pty; type `answer` when asked for a value."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([CLI, *args], stdin=follower, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    seen, answered, deadline = b"", answer is None, time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # Linux: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        if not answered and b"Enter a value:" in seen:
            os.write(leader, (answer or "").encode() + b"\n")
            answered = True
        if proc.poll() is not None and not ready:
            break
    code = proc.wait(timeout=10)
    os.close(leader)
    return code, seen.decode(errors="replace")
