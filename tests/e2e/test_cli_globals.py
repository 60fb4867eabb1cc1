"""Issue 14: one parser that knows every command; a signal while the CLI starts ends it like any other.

The global options (--log-level, -v, --no-color) mean the same before the
command, after it and after a `state` subcommand. They used to be read only
after the command: before it they were silently ignored, and before
`emulator` its own options were refused. A signal that landed while the CLI
was still importing the command printed a traceback instead of exiting 130
(SIGINT) or 143 (SIGTERM).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import CLI, Hss, run_cli
from tests.e2e.terminal import run_in_terminal
from tests.e2e.workspaces import Api, cli, env_for, registry, write_workspace

DEBUG_LINE = "DEBUG reconciler.hss: HTTP GET "  # cli/logsetup.py's format, hss/client.py's message


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return write_workspace(tmp_path / "ws", [registry("alpha")])


LOGGING = {
    "--log-level before": ["--log-level", "debug", "plan", "{ws}"],
    "--log-level after": ["plan", "{ws}", "--log-level", "debug"],
    "-vv before": ["-vv", "plan", "{ws}"],
    "-v before and -v after": ["-v", "plan", "{ws}", "-v"],
    "the later --log-level wins": ["--log-level", "error", "plan", "{ws}", "--log-level=debug"],
}


@pytest.mark.parametrize("argv", LOGGING.values(), ids=LOGGING.keys())
def test_debug_logging_wherever_the_option_is(hss: Hss, ws: Path, argv: list[str]) -> None:
    result = cli(hss, *(arg.format(ws=ws) for arg in argv))
    assert result.code == 0, result.output
    assert DEBUG_LINE in result.stderr, result.stderr


def test_a_later_log_level_overrides_an_earlier_one(hss: Hss, ws: Path) -> None:
    result = cli(hss, "--log-level", "debug", "plan", str(ws), "--log-level", "warning")
    assert result.code == 0, result.output
    assert "DEBUG" not in result.stderr, result.stderr


@pytest.mark.parametrize("where", ["before", "after"])
def test_no_color_wherever_it_is(hss: Hss, ws: Path, where: str) -> None:
    """Colour needs a terminal (render/colors.py): the CLI runs on a pseudo-terminal."""
    env = env_for(hss)
    assert "\x1b[" in run_in_terminal(["plan", str(ws)], env)[1], "no colour to turn off"
    argv = ["--no-color", "plan", str(ws)] if where == "before" else ["plan", str(ws), "--no-color"]
    code, screen = run_in_terminal(argv, env)
    assert code == 0, screen
    assert "\x1b[" not in screen, screen


STATE_NO_COLOR = {
    "before state": ["--no-color", "state", "list"],
    "between state and list": ["state", "--no-color", "list"],
    "after list": ["state", "list", "--no-color"],
}


@pytest.mark.parametrize("argv", STATE_NO_COLOR.values(), ids=STATE_NO_COLOR.keys())
def test_no_color_around_a_state_subcommand(tmp_path: Path, argv: list[str]) -> None:
    """A state file that does not parse: the error's 'Error: ' is red on a terminal, unless --no-color."""
    bad = tmp_path / "bad.state.json"
    bad.write_text("{")
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    code, screen = run_in_terminal(["state", "list", "--state", str(bad)], env)
    assert code == 1 and "\x1b[31mError: \x1b[0m" in screen, screen  # the colour this test turns off
    code, screen = run_in_terminal([*argv, "--state", str(bad)], env)
    assert code == 1 and "Error: " in screen, screen
    assert "\x1b[" not in screen, screen


EMULATOR = {
    "before": ["--log-level", "debug", "emulator", "--port", "0", "--token", "t0ken-for-test"],
    "after": ["emulator", "--port", "0", "--token", "t0ken-for-test", "--log-level", "debug"],
    "-vv before": ["-vv", "emulator", "--port", "0", "--token", "t0ken-for-test"],
}


@pytest.mark.parametrize("argv", EMULATOR.values(), ids=EMULATOR.keys())
def test_the_emulator_takes_global_options_and_its_own_in_any_order(argv: list[str]) -> None:
    proc = subprocess.Popen([CLI, *argv], env=dict(os.environ), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    killer = threading.Timer(30, proc.kill)  # a parser that hangs must not hang the suite
    killer.start()
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # "" if it exited
        assert first.startswith("HSS emulator listening on http://127.0.0.1:"), (first, proc.stderr)
        url = first.split()[4]
        httpx.get(f"{url}/_emulator/stats").raise_for_status()  # the access log logs it at debug
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=20)
    finally:
        killer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143, stderr
    assert "DEBUG reconciler.emulator" in stderr and "GET /_emulator/stats -> 200" in stderr, stderr
    assert "Traceback" not in stderr, stderr


def _caught_signals(pid: int) -> int:
    """The signals the process has handlers for (Linux: SigCgt in /proc/PID/status); 0 once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return next(int(line.split()[1], 16) for line in status.splitlines() if line.startswith("SigCgt:"))


def _wait_until_main_started(proc: subprocess.Popen[str]) -> None:
    """Until main() installed its SIGTERM handler, its first act; Python itself catches only SIGINT.

    Before that the interpreter is still starting, and Python's own handling applies.
    """
    sigterm = 1 << (signal.SIGTERM - 1)
    deadline = time.monotonic() + 20
    while not _caught_signals(proc.pid) & sigterm:
        assert proc.poll() is None, "the CLI exited before it caught SIGTERM"
        assert time.monotonic() < deadline, "the CLI never caught SIGTERM"
        time.sleep(0.0005)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc/PID/status")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_while_the_cli_starts_is_one_line_and_128_plus_its_number(
        hss: Hss, ws: Path, signum: signal.Signals) -> None:
    """Sent as soon as main() runs and a little later: while it parses, imports the command, or plans.

    plan has no handler of its own, and the emulator answers slowly, so each
    signal lands before the plan is done, wherever the CLI is by then.
    """
    Api(hss).configure(latency_ms=1000)
    for delay in (0.0, 0.0, 0.01, 0.03, 0.1, 0.2):
        proc = subprocess.Popen([CLI, "plan", str(ws)], env=env_for(hss), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            _wait_until_main_started(proc)
            time.sleep(delay)
            proc.send_signal(signum)
            stdout, stderr = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        where = f"{signum.name} {delay}s after main() started"
        assert proc.returncode == 128 + signum, (where, proc.returncode, stderr)
        assert "Traceback" not in stderr, (where, stderr)
        assert stderr.splitlines()[-1:] == ["Error: interrupted"], (where, stderr)
        assert stderr.count("interrupted") == 1, (where, stderr)
        assert "Plan:" not in stdout, (where, stdout)  # the signal came before the plan was done


def test_version_and_usage_errors_are_unchanged() -> None:
    env = dict(os.environ)
    assert run_cli("--version", env=env).stdout.startswith("hss-reconciler ")
    typo = run_cli("--log-level", "debug", "plna", env=env)
    assert (typo.code, typo.stdout) == (1, ""), typo.output
    assert "(did you mean 'plan'?)" in typo.stderr and len(typo.stderr.splitlines()) == 2, typo.stderr
