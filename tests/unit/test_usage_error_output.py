"""A usage error echoes what was typed: it reaches stderr through the redactor and the sanitiser.

argparse's messages quote the words they refuse. Written straight to stderr,
an escape sequence or a bidi override in an argument drove the terminal, and
a pasted secret showed, in the one error path that skipped cli/output.py.
"""

from __future__ import annotations

import pytest

from reconciler.cli.main import main
from reconciler.secrets import MASK, REDACTOR

RED = "\x1b[31m"
RLO = "\u202e"
RAW = (RED[0], RLO)


def _usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> list[str]:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    captured = capsys.readouterr()
    assert exit_.value.code == 1
    assert captured.out == ""
    assert not [c for c in RAW if c in captured.err], captured.err
    lines = captured.err.splitlines()
    assert len(lines) == 2 and lines[0].startswith("Error: ") and lines[1].startswith("Run 'hss-reconciler")
    return lines


@pytest.fixture(autouse=True)
def _no_secrets_of_other_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(REDACTOR, "_values", set())


def test_an_unknown_option_with_an_escape_sequence_and_a_bidi_override_is_shown_escaped(
        capsys: pytest.CaptureFixture[str]) -> None:
    lines = _usage_error(["plan", f"--{RED}red{RLO}txt"], capsys)
    assert lines[0] == "Error: unrecognized arguments: --\\u001b[31mred\\u202etxt"


@pytest.mark.parametrize("argv", [
    ["plan", "--format", f"{RED}json{RLO}"],  # an option's choice
    [f"{RED}pl{RLO}an"],  # the command, a choice too
    ["--log-level", f"debug{RED}{RLO}", "plan"],  # a global option's choice, before the command
], ids=["format", "command", "log-level"])
def test_a_bad_choice_with_an_escape_sequence_and_a_bidi_override_is_shown_escaped(
        argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    lines = _usage_error(argv, capsys)
    assert "invalid choice: " in lines[0]
    # argparse quotes the value (repr, on Python 3.11), or the sanitiser escapes it: seen either way.
    assert "1b[31m" in lines[0] and "202e" in lines[0], lines[0]


def test_a_secret_in_a_mistyped_argument_is_masked(capsys: pytest.CaptureFixture[str]) -> None:
    REDACTOR.register("Pasted-Passw0rd-9c1d")
    lines = _usage_error(["apply", "--pasword=Pasted-Passw0rd-9c1d"], capsys)
    assert lines[0] == f"Error: unrecognized arguments: --pasword={MASK}"
