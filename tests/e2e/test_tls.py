"""Issue 4.7: TLS is verified by default; --ca-bundle adds a CA; --insecure warns."""

from __future__ import annotations

import secrets
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.emulator import EmulatorConfig, EmulatorServer
from tests.e2e.conftest import CREDENTIAL_VARS, Result, run_cli
from tests.e2e.workspaces import PASSWORD, PASSWORD_ENV, registry, write_workspace


@pytest.fixture
def tls_emulator(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """An emulator behind a self-signed certificate for 127.0.0.1: (url, token, cert)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    token = secrets.token_hex(16)
    server = EmulatorServer(EmulatorConfig(tokens={token}))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    httpd = server._httpd  # the test wraps the emulator's socket; the emulator itself stays plain HTTP
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    server.start()
    try:
        yield server.url.replace("http://", "https://"), token, cert
    finally:
        server.stop()


def _plan(url: str, token: str, ws: Path, *extra: str) -> Result:
    import os

    env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARS}
    env.update({"HSS_ENDPOINT": url, "HSS_AUTH_TOKEN": token, PASSWORD_ENV: PASSWORD})
    return run_cli("plan", str(ws), *extra, env=env)


def test_tls_verified_by_default_and_a_ca_bundle_is_added(tls_emulator: tuple[str, str, Path],
                                                          tmp_path: Path) -> None:
    url, token, cert = tls_emulator
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])

    refused = _plan(url, token, ws)
    assert refused.code == 1 and "Traceback" not in refused.output
    assert "certificate" in refused.stderr.lower()
    assert len(refused.stderr.strip().splitlines()) == 1

    trusted = _plan(url, token, ws, "--ca-bundle", str(cert))
    assert trusted.code == 0, trusted.output
    assert "Plan: 1 to add" in trusted.stdout

    missing = _plan(url, token, ws, "--ca-bundle", str(tmp_path / "nope.pem"))
    assert missing.code == 1 and "cannot load the CA bundle" in missing.stderr


def test_insecure_works_and_warns(tls_emulator: tuple[str, str, Path], tmp_path: Path) -> None:
    url, token, _ = tls_emulator
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    result = _plan(url, token, ws, "--insecure")
    assert result.code == 0, result.output
    assert "--insecure: TLS certificates are not verified" in result.stderr


def test_plain_http_registry_is_warned_about(tls_emulator: tuple[str, str, Path], tmp_path: Path) -> None:
    url, token, cert = tls_emulator
    ws = write_workspace(tmp_path / "ws", [registry("alpha", protocol="http")])
    result = _plan(url, token, ws, "--ca-bundle", str(cert))
    assert "protocol http sends the registry password" in result.stdout
