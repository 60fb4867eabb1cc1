"""End-to-end fixtures: the installed CLI in a subprocess, the emulator on loopback."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from reconciler.emulator import EmulatorConfig, EmulatorServer
from tests.e2e.credentials_kit import Vending, start_vending

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart"
CLI = str(Path(sys.executable).parent / "hss-reconciler")
# CI runs `.venv/bin/python -m pytest` without activating the venv: the tools the
# tests start by name (pre-commit, check-jsonschema, hss-reconciler in CI recipes)
# must still be the venv's.
os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
CREDENTIAL_VARS = ("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_SECURITY_TOKEN",
                   "CLOUD_SDK_AK", "CLOUD_SDK_SK", "HSS_AUTH_TOKEN", "HSS_ENDPOINT", "NO_COLOR",
                   "FORCE_COLOR", "CLICOLOR_FORCE")


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@dataclass
class Hss:
    server: EmulatorServer
    token: str
    ak: str
    sk: str

    def env(self, *, aksk: bool = False) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARS}
        env["HSS_ENDPOINT"] = self.server.url
        if aksk:
            env.update({"HUAWEICLOUD_SDK_AK": self.ak, "HUAWEICLOUD_SDK_SK": self.sk})
        else:
            env["HSS_AUTH_TOKEN"] = self.token
        return env


@contextmanager
def running_hss() -> Iterator[Hss]:
    """An emulator on loopback with a fresh token and key pair (a module may share one: scope it)."""
    token, ak, sk = secrets.token_hex(16), "AK" + secrets.token_hex(8).upper(), secrets.token_hex(20)
    server = EmulatorServer(EmulatorConfig(host="127.0.0.1", port=0, tokens={token}, aksk={ak: sk}))
    server.start()
    try:
        yield Hss(server, token, ak, sk)
    finally:
        server.stop()


@pytest.fixture
def hss() -> Iterator[Hss]:
    with running_hss() as started:
        yield started


@pytest.fixture(scope="module")
def module_hss() -> Iterator[Hss]:
    """One emulator for a whole module: its tests take `fresh_hss`, which resets it first."""
    with running_hss() as started:
        yield started


@pytest.fixture
def fresh_hss(module_hss: Hss) -> Hss:
    """The module's emulator, back to its state at start (no registries, counters at zero)."""
    httpx.post(f"{module_hss.server.url}/_emulator/reset").raise_for_status()
    return module_hss


@pytest.fixture(scope="module")
def vending_server() -> Iterator[Vending]:
    """An emulator that also plays IAM, metadata and pod identity (credentials_kit.py), one per module."""
    started = start_vending()
    try:
        yield started
    finally:
        started.server.stop()


@pytest.fixture
def vending(vending_server: Vending) -> Vending:
    vending_server.server.app.reset()
    return vending_server


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    target = tmp_path / "registries"
    shutil.copytree(QUICKSTART, target)
    return target


def run_cli(*args: str, env: dict[str, str], stdin: str | None = None, timeout: float = 60) -> Result:
    proc = subprocess.run([CLI, *args], env=env, input=stdin, capture_output=True, text=True,
                          timeout=timeout, check=False)
    return Result(proc.returncode, proc.stdout, proc.stderr)
