"""The emulator as a separate process (so it never shares the GIL with the client measured)."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

CLI = str(Path(sys.executable).parent / "hss-reconciler")
READY = re.compile(r"listening on (http://\S+)")


class EmulatorProcess:
    """`hss-reconciler emulator` with a token and an AK/SK, on a free loopback port."""

    def __init__(self, latency_ms: float, *, max_registries: int = 100, log: Path | None = None,
                 extra: tuple[str, ...] = ()) -> None:
        self.latency_ms = latency_ms
        self.token = secrets.token_hex(16)
        self.ak = "AK" + secrets.token_hex(8).upper()
        self.sk = secrets.token_hex(20)
        args = [CLI, "emulator", "--host", "127.0.0.1", "--port", "0", "--token", self.token,
                "--ak", self.ak, "--sk", self.sk, "--latency-ms", str(latency_ms),
                "--max-registries", str(max_registries), *extra]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._log = open(log, "wb") if log else None  # noqa: SIM115
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                                     stderr=self._log if self._log else subprocess.DEVNULL, env=env)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode()
        match = READY.search(line)
        if not match:
            self.stop()
            raise RuntimeError(f"emulator did not start: {line!r}")
        self.url = match.group(1)

    def control(self, method: str, name: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
        request = urllib.request.Request(f"{self.url}/_emulator/{name}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            result: dict[str, Any] = json.loads(response.read())
            return result

    def reset(self) -> None:
        self.control("POST", "reset")

    def stats(self) -> dict[str, Any]:
        return self.control("GET", "stats")

    def set_latency(self, latency_ms: float) -> None:
        self.control("POST", "config", {"latency_ms": latency_ms})

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        if self._log is not None:
            self._log.close()

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_idle(emulator: EmulatorProcess, timeout: float = 5.0) -> None:
    """Until no request is in flight (a client that exited may leave none, but be sure)."""
    deadline = time.monotonic() + timeout
    while emulator.stats()["in_flight"] and time.monotonic() < deadline:
        time.sleep(0.01)
