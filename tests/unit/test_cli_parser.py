"""Issue 14: one parser for every command, whatever the argv; global options anywhere.

End to end, through the installed CLI: tests/e2e/test_cli_globals.py.
"""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from reconciler.cli.main import build_parser, main

GLOBALS = ("log_level", "verbose", "no_color")
DEFAULTS = ("warning", 0, False)

POSITIONS = [
    (["--log-level", "debug", "plan"], ("debug", 0, False)),
    (["plan", "--log-level", "debug"], ("debug", 0, False)),
    (["--log-level", "debug", "plan", "--log-level", "info"], ("info", 0, False)),
    (["plan", "--log-level", "error", "--log-level", "debug"], ("debug", 0, False)),
    (["-v", "plan"], ("warning", 1, False)),
    (["-v", "plan", "-v"], ("warning", 2, False)),
    (["--verbose", "state", "-v", "list", "-v"], ("warning", 3, False)),
    (["--no-color", "plan"], ("warning", 0, True)),
    (["plan", "--no-color"], ("warning", 0, True)),
    (["--no-color", "state", "list"], ("warning", 0, True)),
    (["state", "--no-color", "list"], ("warning", 0, True)),
    (["state", "list", "--no-color"], ("warning", 0, True)),
    (["--log-level", "info", "emulator"], ("info", 0, False)),
    (["-vv", "--no-color", "emulator", "--port", "5"], ("warning", 2, True)),
    (["plan"], DEFAULTS),
    (["state", "list"], DEFAULTS),
    (["emulator"], DEFAULTS),
]


@pytest.mark.parametrize(("argv", "expected"), POSITIONS, ids=[" ".join(a) for a, _ in POSITIONS])
def test_a_global_option_means_the_same_before_and_after_the_command(
        argv: list[str], expected: tuple[object, ...]) -> None:
    args = build_parser().parse_args(argv)
    assert tuple(getattr(args, name) for name in GLOBALS) == expected


EMULATOR = [
    ["emulator", "--port", "5", "--seed", "7"],
    ["--log-level", "debug", "emulator", "--port", "5", "--seed", "7"],
    ["-v", "--no-color", "emulator", "--seed", "7", "--port=5"],
    ["emulator", "--port", "5", "-v", "--seed", "7", "--log-level", "info"],
]


@pytest.mark.parametrize("argv", EMULATOR, ids=[" ".join(a) for a in EMULATOR])
def test_the_emulator_options_are_part_of_the_parser_whatever_comes_first(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert (args.command, args.port, args.seed, args.host) == ("emulator", 5, 7, "127.0.0.1")


def test_the_emulator_options_are_in_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["--no-color", "emulator", "--help"])
    assert exit_.value.code == 0
    help_text = capsys.readouterr().out
    assert "--latency-ms" in help_text and "--max-registries" in help_text and "--log-level" in help_text


def test_plan_keeps_its_single_dash_out() -> None:
    args = build_parser().parse_args(["--no-color", "plan", "ws", "-out", "plan.json"])
    assert (args.paths, args.out, args.no_color) == (["ws"], "plan.json", True)


def test_building_and_using_the_parser_does_not_import_the_emulator() -> None:
    """Its package imports its server (a fifth of a second); `--version` and other commands don't pay."""
    script = ("import sys\nfrom reconciler.cli.main import build_parser\n"
              "build_parser().parse_args(['-v', 'plan', 'ws', '--no-color'])\n"
              "build_parser().format_help()\n"
              "assert not [m for m in sys.modules if m.startswith('reconciler.emulator')], sys.modules\n")
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)


TYPOS = [
    (["plna"], "invalid choice: 'plna'", "(did you mean 'plan'?)"),
    (["--log-level", "debug", "aply"], "invalid choice: 'aply'", "(did you mean 'apply'?)"),
    (["state", "lsit"], "invalid choice: 'lsit'", "(did you mean 'list'?)"),
    (["--log-level", "debgu", "plan"], "invalid choice: 'debgu'", "(did you mean 'debug'?)"),
    (["plan", "--format", "jsno"], "invalid choice: 'jsno'", "(did you mean 'json'?)"),
    (["--log-level", "debug", "emulator", "--bogus"], "unrecognized arguments: --bogus", ""),
]


@pytest.mark.parametrize(("argv", "problem", "hint"), TYPOS, ids=[" ".join(a) for a, _, _ in TYPOS])
def test_a_usage_error_is_one_line_exit_1_with_a_suggestion(
        argv: list[str], problem: str, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(argv)
    assert exit_.value.code == 1
    first, *rest = capsys.readouterr().err.splitlines()
    assert first.startswith("Error: ") and problem in first and first.endswith(hint)
    assert len(rest) == 1 and rest[0].startswith("Run 'hss-reconciler")


def test_main_gives_back_the_signal_handlers_it_found(capsys: pytest.CaptureFixture[str]) -> None:
    """demo and tests call main() in the same process: its handlers must not outlive it."""
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    assert main([]) == 1  # no command: the help, exit 1
    for argv in (["--version"], ["plna"]):
        with pytest.raises(SystemExit):
            main(argv)
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
    capsys.readouterr()


def test_a_signal_inside_an_import_s_set_name_is_an_interrupt_not_a_traceback(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # Python wraps an exception raised in __set_name__ (a class body run by an import,
    # e.g. ipaddress's cached_property) in a RuntimeError: seen once as exit 1 with a traceback.
    from reconciler.cli import main as cli_main

    class Descriptor:
        def __set_name__(self, owner: type, name: str) -> None:
            raise cli_main.Terminated()

    def importing(args: object, out: object) -> int:
        type("ImportedClass", (), {"attribute": Descriptor()})
        return 0

    monkeypatch.setattr(cli_main, "_run", importing)
    assert cli_main.main(["schema"]) == 143
    assert capsys.readouterr().err.strip().endswith("interrupted")
