"""Bad `hss-reconciler emulator` options are the user's mistake: one line naming the option, exit 1.

Not exit 3 and "This is a bug": EmulatorConfig refuses the value with a ValueError
(which its control endpoint answers with a 400), and the command must say which
option was wrong instead of treating it as a crash.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import Result, run_cli

# If a bad option were accepted the emulator would serve until killed; fail fast instead.
TIMEOUT = 20


def _emulator(*options: str) -> Result:
    return run_cli("emulator", *options, env=dict(os.environ), timeout=TIMEOUT)


def _assert_one_line_error(result: Result, expected: str) -> None:
    assert result.code == 1, result.output
    lines = result.stderr.splitlines()
    assert lines == [expected], result.stderr
    assert "Traceback" not in result.output and "This is a bug" not in result.output


BAD_OPTIONS = [
    (["--port", "70000"], "Error: --port: must be 0-65535, got 70000"),
    (["--error-rate", "2"], "Error: --error-rate: must be between 0 and 1, got 2"),
    (["--latency-ms", "-5"], "Error: --latency-ms: must be >= 0, got -5"),
    (["--throttle-rate", "0.5", "--drop-rate", "1.5"],
     "Error: --drop-rate: must be between 0 and 1, got 1.5"),
    (["--retry-after", "-1"], "Error: --retry-after: must be >= 0, got -1"),
    (["--host", "256.1.1.1"],
     "Error: --host: not a loopback address (use --allow-remote), got 256.1.1.1"),
    (["--ak", "a"], "Error: --ak: needs --sk as well"),
    (["--sk", "b"], "Error: --sk: needs --ak as well"),
    (["--latency-ms", "nan"], "Error: --latency-ms: must be a finite number, got nan"),
    (["--error-rate", "inf"], "Error: --error-rate: must be a finite number, got inf"),
]


@pytest.mark.parametrize(("options", "expected"), BAD_OPTIONS, ids=[" ".join(o) for o, _ in BAD_OPTIONS])
def test_a_bad_option_is_one_line_naming_it(options: list[str], expected: str) -> None:
    _assert_one_line_error(_emulator(*options), expected)


def test_an_empty_secret_is_refused_without_quoting_anything() -> None:
    result = _emulator("--ak", "AKVISIBLE", "--sk=")
    _assert_one_line_error(result, "Error: --ak/--sk: access key and secret key must not be empty")
    assert "AKVISIBLE" not in result.output


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield int(taken.getsockname()[1])


def test_a_port_in_use_is_one_line_naming_the_address(busy_port: int) -> None:
    result = _emulator("--port", str(busy_port))
    _assert_one_line_error(result, f"Error: cannot listen on 127.0.0.1:{busy_port}: address already in use")


def test_a_host_that_does_not_resolve_is_one_line_naming_it() -> None:
    result = _emulator("--host", "256.1.1.1", "--allow-remote")
    assert result.code == 1, result.output
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("Error: cannot listen on 256.1.1.1:0: "), result.stderr
    assert "Traceback" not in result.output and "This is a bug" not in result.output
