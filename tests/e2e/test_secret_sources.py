"""The real CLI refuses unusable passwords and credentials: exit 1, one line, the value never shown.

Environment values are passed as the raw bytes a shell would set
(``PW=$'abc\\xffdef'``): subprocess encodes ``os.fsdecode``'d strings back to them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import CLI, Hss, Result
from tests.e2e.workspaces import PASSWORD, PASSWORD_ENV, registry, write_workspace

# Distinctive halves either side of the bad byte: neither may appear in any output.
CANARY_HEAD, CANARY_TAIL = "CanaryHead7c1", "CanaryTail9e4"
NOT_UTF8 = os.fsdecode(CANARY_HEAD.encode() + b"\xff" + CANARY_TAIL.encode())
NON_ASCII = f"{CANARY_HEAD}äöü{CANARY_TAIL}"


# Sets an address-space limit, then becomes the CLI: no preexec_fn, which is unsafe
# in a test process running the emulator's threads.
LIMITED = ("import os, resource, sys; limit = int(sys.argv[1]); "
           "resource.setrlimit(resource.RLIMIT_AS, (limit, limit)); os.execv(sys.argv[2], sys.argv[2:])")


def _run(*args: str, env: dict[str, str], timeout: float = 60, memory_limit: int | None = None) -> Result:
    """The CLI in a subprocess; output decoded leniently, so a stray byte cannot hide a leak."""
    argv = [CLI, *args]
    if memory_limit is not None:
        argv = [sys.executable, "-c", LIMITED, str(memory_limit), *argv]
    proc = subprocess.run(argv, env=env, capture_output=True, timeout=timeout, check=False,
                          stdin=subprocess.DEVNULL)
    return Result(proc.returncode, proc.stdout.decode(errors="replace"),
                  proc.stderr.decode(errors="replace"))


def _assert_refused(result: Result, expected: str) -> None:
    """Exit 1, exactly one ``Error:`` line (the expected one), no traceback, no part of the value."""
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert result.code == 1, result.output
    assert len(errors) == 1, result.stderr
    assert expected in errors[0], errors[0]
    assert "Traceback" not in result.output
    assert CANARY_HEAD not in result.output and CANARY_TAIL not in result.output


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return write_workspace(tmp_path / "ws", [registry("harbor")])


@pytest.mark.parametrize("command", [("validate", "--check-env"), ("apply", "--auto-approve")],
                         ids=["validate", "apply"])
def test_password_env_that_is_not_utf8_is_refused_by_name(
        hss: Hss, ws: Path, command: tuple[str, str]) -> None:
    result = _run(command[0], str(ws), command[1], env={**hss.env(), PASSWORD_ENV: NOT_UTF8})
    _assert_refused(result, f"registry_password: environment variable {PASSWORD_ENV} is not valid UTF-8")


def test_password_file_that_is_not_utf8_is_refused_by_name(hss: Hss, tmp_path: Path) -> None:
    secret = tmp_path / "pw.txt"
    secret.write_bytes(os.fsencode(NOT_UTF8) + b"\n")
    ws = write_workspace(tmp_path / "ws", [registry("harbor", registry_password={"file": str(secret)})])
    # The secret lives outside the workspace: HSS_SECRETS_DIR allows its directory.
    result = _run("apply", str(ws), "--auto-approve", env={**hss.env(), "HSS_SECRETS_DIR": str(tmp_path)})
    _assert_refused(result, f"cannot read secret file {secret}: not valid UTF-8")


@pytest.mark.parametrize(("variable", "value", "aksk"), [
    ("HUAWEICLOUD_SDK_AK", NON_ASCII, True),
    ("HUAWEICLOUD_SDK_SK", NOT_UTF8, True),
    ("HUAWEICLOUD_SDK_SECURITY_TOKEN", NON_ASCII, True),
    ("HSS_AUTH_TOKEN", NOT_UTF8, False),
    ("HSS_AUTH_TOKEN", NON_ASCII, False),
], ids=["ak-non-ascii", "sk-not-utf8", "security-token-non-ascii", "token-not-utf8", "token-non-ascii"])
def test_credential_that_is_not_printable_ascii_is_refused_by_name(
        hss: Hss, ws: Path, variable: str, value: str, aksk: bool) -> None:
    env = {**hss.env(aksk=aksk), PASSWORD_ENV: PASSWORD, variable: value}
    result = _run("plan", str(ws), "--log-level", "debug", env=env)
    _assert_refused(result, f"{variable} holds characters other than printable ASCII")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_password_file_that_never_ends_is_refused(hss: Hss, tmp_path: Path) -> None:
    # Memory-capped: the unfixed reader swallowed /dev/zero until the OOM killer came.
    ws = write_workspace(tmp_path / "ws", [registry("harbor", registry_password={"file": "/dev/zero"})])
    result = _run("validate", str(ws), "--check-env", env={**hss.env(), "HSS_SECRETS_DIR": "/dev"},
                  timeout=30, memory_limit=1024 * 1024 * 1024)
    _assert_refused(result, "cannot read secret file /dev/zero: not a regular file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_password_file_that_is_a_fifo_is_refused_without_blocking(hss: Hss, tmp_path: Path) -> None:
    fifo = tmp_path / "pw.fifo"
    os.mkfifo(fifo)
    ws = write_workspace(tmp_path / "ws", [registry("harbor", registry_password={"file": str(fifo)})])
    result = _run("validate", str(ws), "--check-env", env={**hss.env(), "HSS_SECRETS_DIR": str(tmp_path)},
                  timeout=30)
    _assert_refused(result, f"cannot read secret file {fifo}: not a regular file")
