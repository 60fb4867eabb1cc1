"""Issue 17.7 (and 17.6's colour): Terraform's spellings, no abbreviations, did-you-mean, where the
state is, what --help says, validate's warnings, colour switches. In process: no server needed.

Against the emulator (spellings end to end, the JSON output schemas, TERM=dumb on a terminal):
tests/e2e/test_cli_habits.py.
"""

from __future__ import annotations

import argparse
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli import helptext
from reconciler.cli.argv import REFUSED, TERRAFORM_SPELLINGS, rewrite
from reconciler.cli.main import build_parser, main
from reconciler.engine.names import did_you_mean, unknown_selection
from reconciler.registry import TargetKey
from reconciler.render.colors import color_wanted
from reconciler.state.model import State, StateEntry
from tests.e2e.workspaces import PASSWORD, PASSWORD_ENV, TARGET, registry, write_workspace

REPO = Path(__file__).resolve().parents[2]


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(rewrite(argv))


# --- Terraform's single-dash spellings ---------------------------------------------------------

SPELLINGS: list[tuple[list[str], dict[str, Any]]] = [
    (["apply", "ws", "-auto-approve"], {"auto_approve": True, "paths": ["ws"]}),
    (["plan", "-target=a", "-target", "b"], {"target": ["a", "b"]}),
    (["plan", "-refresh=false"], {"refresh": False}),
    (["apply", "-refresh", "false"], {"refresh": False}),
    (["plan", "-refresh-only"], {"refresh_only": True}),
    (["apply", "-parallelism=5"], {"parallelism": 5}),
    (["apply", "-parallelism", "3"], {"parallelism": 3}),
    (["plan", "-detailed-exitcode"], {"detailed_exitcode": True}),
    (["apply", "-lock-timeout=2m"], {"lock_timeout": 120.0}),
    (["state", "rm", "x", "-lock-timeout=30s"], {"lock_timeout": 30.0, "name": "x"}),
    (["plan", "-lock=false"], {"lock": False}),
    (["plan", "-lock-timeout=5m"], {"lock_timeout": 300.0}),
    (["apply", "-lock=true"], {"lock": True}),
    (["import", "f.yaml", "n", "id1", "-lock=true", "-input=false"], {"lock": True, "input": False}),
    (["plan", "-input=false"], {"input": False}),
    (["apply", "-input=false"], {"input": False}),
    (["plan", "-no-color"], {"no_color": True}),
    (["-no-color", "state", "list"], {"no_color": True}),
    (["plan", "-state=s.json"], {"state": "s.json"}),
    (["state", "list", "-state", "s.json"], {"state": "s.json"}),
    (["force-unlock", "id1", "-state=s.json"], {"state": "s.json", "lock_id": "id1"}),
    (["plan", "-out=p.json"], {"out": "p.json"}),
    (["plan", "-out", "p.json"], {"out": "p.json"}),
    (["show", "-json"], {"format": "json"}),
    (["plan", "-json"], {"format": "json"}),
    (["fmt", "-check"], {"check": True}),
    (["plan", "--", "-target"], {"paths": ["-target"], "target": None}),  # after --, a path
    # ours are unchanged beside them
    (["apply", "--auto-approve", "--target", "a", "-target=b"], {"auto_approve": True, "target": ["a", "b"]}),
]


@pytest.mark.parametrize(("argv", "expected"), SPELLINGS, ids=[" ".join(a) for a, _ in SPELLINGS])
def test_terraform_spellings_mean_ours(argv: list[str], expected: dict[str, Any]) -> None:
    args = parse(*argv)
    assert {name: getattr(args, name) for name in expected} == expected


def test_every_table_entry_is_tested_and_means_one_of_our_options() -> None:
    tested = {word.partition("=")[0] for argv, _ in SPELLINGS for word in argv}
    assert set(TERRAFORM_SPELLINGS) - {"-help", "-version"} <= tested
    ours = {option for parser in _parsers() for action in parser._actions for option in action.option_strings}
    assert {spelling.partition("=")[0] for spelling in TERRAFORM_SPELLINGS.values()} <= ours


@pytest.mark.parametrize(("word", "output"), [("-help", "usage: hss-reconciler"),
                                              ("-version", "hss-reconciler ")])
def test_help_and_version_in_terraform_spelling(word: str, output: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([word])
    assert exit_.value.code == 0 and capsys.readouterr().out.startswith(output)


REFUSALS = [["plan", "-var", "a=1"], ["plan", "-var-file=prod.tfvars"], ["apply", "--var", "a=1"],
            ["apply", "-replace=x"], ["plan", "-destroy"]]


@pytest.mark.parametrize("argv", REFUSALS, ids=[" ".join(a) for a in REFUSALS])
def test_terraform_options_without_a_counterpart_are_refused_saying_why(
        argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 1
    first, second = capsys.readouterr().err.splitlines()
    name = argv[1].partition("=")[0]
    assert first == f"Error: {name}: {REFUSED[name.lstrip('-')]}"
    assert second.startswith("Run 'hss-reconciler --help'")


def test_values_and_words_that_only_look_like_options_are_left_alone() -> None:
    assert rewrite(["plan", "--target", "x", "-", "--", "-auto-approve"]) == [
        "plan", "--target", "x", "-", "--", "-auto-approve"]
    assert rewrite(["-json=yes"]) == ["-json=yes"]  # -json takes no value: argparse refuses it as is
    assert rewrite(["--variable", "-vv"]) == ["--variable", "-vv"]


# --- no abbreviations, and --lock -----------------------------------------------------------------


def _parsers() -> list[argparse.ArgumentParser]:
    found, todo = [], [build_parser()]
    while todo:
        parser = todo.pop()
        parser.format_help()  # adds the emulator's late options
        found.append(parser)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                todo.extend(action.choices.values())
    return found


def test_no_parser_accepts_an_abbreviation() -> None:
    parsers = _parsers()
    assert len(parsers) > 10 and all(not p.allow_abbrev for p in parsers)


ABBREVIATED = [["plan", "--lock-tim", "2m"], ["apply", "--auto"], ["plan", "--detailed"],
               ["apply", "--para", "2"], ["plan", "--log", "debug"], ["state", "list", "--sta", "x"]]


@pytest.mark.parametrize("argv", ABBREVIATED, ids=[" ".join(a) for a in ABBREVIATED])
def test_a_prefix_of_a_long_option_is_an_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse(*argv)
    assert exit_.value.code == 1
    assert "unrecognized arguments" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["apply"], ["import", "f.yaml", "n", "id1"], ["state", "rm", "n"]])
@pytest.mark.parametrize("spelling", ["--lock=false", "-lock=false", "--lock", "no"])
def test_lock_false_is_refused_where_the_state_is_written(
        command: list[str], spelling: str, capsys: pytest.CaptureFixture[str]) -> None:
    words = [*command, spelling] if spelling != "--lock" else [*command, "--lock", "0"]
    if spelling == "no":
        words = [*command, "--lock", "no"]
    with pytest.raises(SystemExit) as exit_:
        parse(*words)
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: argument --lock: this command writes the state and always locks it")
    assert "--lock-timeout" in err and "force-unlock" in err


def test_lock_false_is_read_as_lock_never_as_lock_timeout() -> None:
    args = parse("plan", "--lock=false")
    assert (args.lock, args.lock_timeout) == (False, 0.0)


# --- did-you-mean --------------------------------------------------------------------------------

TYPOS = [
    (["apply", "--auto-aprove"], "--auto-approve"),
    (["apply", "-auto-aprove"], "--auto-approve"),
    (["plan", "--detailed-exitcod"], "--detailed-exitcode"),
    (["plan", "--refesh=false"], "--refresh"),
    (["state", "list", "--stat", "x"], "--state"),
    (["fmt", "--chek"], "--check"),
    (["--no-colour", "plan"], "--no-color"),
    (["plan", "--no-colour"], "--no-color"),
    (["state", "lst"], "list"),
    (["state", "shwo", "x"], "show"),
    (["forceunlock", "x"], "force-unlock"),
    (["valdate"], "validate"),
]


@pytest.mark.parametrize(("argv", "meant"), TYPOS, ids=[" ".join(a) for a, _ in TYPOS])
def test_a_typo_gets_the_nearest_real_word(argv: list[str], meant: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse(*argv)
    assert exit_.value.code == 1
    first, second = capsys.readouterr().err.splitlines()
    assert first.startswith("Error: ") and first.endswith(f"(did you mean '{meant}'?)"), first
    assert second.startswith("Run 'hss-reconciler")


def test_nothing_near_gets_no_guess(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse("plan", "--zzzzzz")
    assert capsys.readouterr().err.splitlines()[0] == "Error: unrecognized arguments: --zzzzzz"


def _entry(name: str, project: str = "p1") -> StateEntry:
    return StateEntry(TargetKey("ap-southeast-1", project, "0"), name, f"id-{name}-{project}",
                      {"registry_name": name})


def test_a_target_name_typo_names_the_nearest_address() -> None:
    one = {e.address: e for e in [_entry("harbor-prod"), _entry("jfrog")]}
    assert did_you_mean("harbor-prd", one) == (" (did you mean 'harbor-prod', address "
                                               "'ap-southeast-1/p1/0/harbor-prod'?)")
    assert did_you_mean("ap-southeast-1/p1/0/jfrg", one) == " (did you mean 'ap-southeast-1/p1/0/jfrog'?)"
    two = {e.address: e for e in [_entry("harbor", "p1"), _entry("harbor", "p2")]}
    assert did_you_mean("harbr", two) == (" (did you mean 'harbor'? it names 2 registries: "
                                          "ap-southeast-1/p1/0/harbor, ap-southeast-1/p2/0/harbor)")
    assert str(unknown_selection("zzzz", one)) == (
        "--target zzzz: no declared or managed registry has this name or address "
        "(see 'hss-reconciler state list')")


# --- what --help says, and README agrees ------------------------------------------------------------


def _help(*argv: str, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--help"])
    assert exit_.value.code == 0
    return capsys.readouterr().out


def _names(rows: tuple[tuple[str, str], ...]) -> list[str]:
    return [name.strip() for names, _ in rows for name in names.split(",")]


@pytest.mark.parametrize("command", [[], ["plan"], ["apply"], ["show"], ["import"], ["upload-command"]])
def test_help_lists_the_variables_and_the_exit_codes(command: list[str],
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    text = " ".join(_help(*command, capsys=capsys).split())
    for name in [*_names(helptext.ENVIRONMENT), "HSS_ENDPOINT", "HUAWEICLOUD_SDK_AK", "HSS_AUTH_TOKEN"]:
        assert name in text, name
    for code, meaning in helptext.EXIT_CODES:
        assert f"{code} {meaning}" in text
    assert "FORCE_COLOR or CLICOLOR_FORCE, then TERM=dumb" in text


@pytest.mark.parametrize("command", [["validate"], ["fmt"], ["state"], ["force-unlock"]])
def test_help_of_commands_without_credentials_lists_the_exit_codes(
        command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(*command, capsys=capsys)
    assert "exit codes:" in text and "130 / 143" in text and "HUAWEICLOUD_SDK_AK" not in text


def _readme_table(heading: str) -> list[tuple[str, str]]:
    section = (REPO / "README.md").read_text().split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.strip("| ").split(" | ") for line in section.splitlines() if line.startswith("| ")]
    return [(first.replace("`", ""), second.replace("`", "")) for first, second in rows[1:]]


def test_readme_quotes_the_tables_help_prints() -> None:
    assert _readme_table("Exit codes") == list(helptext.EXIT_CODES)
    assert _readme_table("Environment") == list(helptext.ENVIRONMENT)
    readme = " ".join((REPO / "README.md").read_text().split())
    assert "C" + helptext.COLOUR_PRECEDENCE[1:] in readme


def test_help_names_every_variable_the_credential_chain_and_endpoints_read() -> None:
    from reconciler.config import endpoints, workspace
    from reconciler.hss import credentials
    from reconciler.hss.credsources import federation, metadata, oidc, podidentity, profile
    from reconciler.secrets import SECRETS_DIR_ENV

    read = {*(name for pair in credentials.AKSK_VARIABLES for name in pair),
            credentials.SECURITY_TOKEN_VARIABLE, credentials.AUTH_TOKEN_VARIABLE,
            credentials.IDP_ID_VARIABLE, credentials.ID_TOKEN_FILE_VARIABLE,
            federation.IAM_ENDPOINT_VARIABLE, profile.FILE_VARIABLE, metadata.ENDPOINT_VARIABLE,
            podidentity.URI_VARIABLE, podidentity.TOKEN_FILE_VARIABLE, endpoints.REGIONS_FILE_ENV,
            workspace.ENDPOINT_ENV, SECRETS_DIR_ENV, *oidc.VARIABLES}
    assert read <= set(_names(helptext.ENVIRONMENT))


# --- colour ---------------------------------------------------------------------------------------


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


COLOUR = [  # (flag, environment, on a terminal?) -> colour?
    (False, {}, True, True),
    (False, {}, False, False),
    (True, {}, True, False),
    (False, {"NO_COLOR": "1"}, True, False),
    (False, {"NO_COLOR": ""}, True, True),  # set but empty: not set (no-color.org)
    (False, {"FORCE_COLOR": "1"}, False, True),
    (False, {"FORCE_COLOR": "3"}, False, True),
    (False, {"CLICOLOR_FORCE": "1"}, False, True),
    (False, {"FORCE_COLOR": "0"}, False, False),
    (False, {"FORCE_COLOR": "false"}, False, False),
    (False, {"FORCE_COLOR": ""}, False, False),
    (False, {"CLICOLOR_FORCE": "0"}, True, True),  # not forcing: the terminal decides
    (False, {"TERM": "dumb"}, True, False),
    (False, {"TERM": "xterm-256color"}, True, True),
    (False, {"TERM": "dumb", "FORCE_COLOR": "1"}, False, True),  # forced beats dumb
    (False, {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False, False),  # NO_COLOR beats forced
    (True, {"CLICOLOR_FORCE": "1"}, True, False),  # the flag beats everything
]


@pytest.mark.parametrize(("flag", "env", "tty", "wanted"), COLOUR,
                         ids=[f"{f}-{e}-{t}" for f, e, t, _ in COLOUR])
def test_colour_precedence(flag: bool, env: dict[str, str], tty: bool, wanted: bool) -> None:
    stream = _Tty() if tty else io.StringIO()
    assert color_wanted(stream, flag, env) is wanted


def test_force_color_paints_a_pipe_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert main(["plan", str(ws), "--refresh=false"]) == 0
    painted = capsys.readouterr().out
    assert "\x1b[" in painted and "1 to add" in re.sub(r"\x1b\[[0-9;]*m", "", painted)
    monkeypatch.setenv("NO_COLOR", "1")
    assert main(["plan", str(ws), "--refresh=false"]) == 0
    assert "\x1b[" not in capsys.readouterr().out


# --- where the state is -------------------------------------------------------------------------------


def _state_with(directory: Path, *names: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    state = State()
    for name in names:
        entry = StateEntry(TargetKey("ap-southeast-1", TARGET.split("/")[1], "0"), name, f"id-{name}",
                           {"registry_name": name})
        state.entries[entry.address] = entry
    path = directory / "hss-reconciler.state.json"
    path.write_bytes(state.serialize())
    return path


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_state_commands_find_the_state_where_plan_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    _state_with(tmp_path / "registries", "alpha", "beta")
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(["state", "list"], capsys)
    assert (code, out) == (1, "")
    assert err == ("Error: there is no state file at hss-reconciler.state.json (no PATH was given, so the "
                   "current directory, as plan and apply look); found registries/hss-reconciler.state.json: "
                   "give its directory as plan is given it, e.g. run: hss-reconciler state list registries\n")
    code, out, err = _run(["state", "list", "registries"], capsys)
    assert (code, out.split(), err) == (0, [f"{TARGET}/alpha", f"{TARGET}/beta"], "")
    code, out, _ = _run(["state", "show", "beta", "registries/"], capsys)
    assert code == 0 and json.loads(out)["id"] == "id-beta"
    code, out, _ = _run(["state", "rm", "alpha", "registries"], capsys)
    assert code == 0 and out.startswith(f"Removed {TARGET}/alpha from the state")
    code, out, _ = _run(["state", "list", "registries/hss-reconciler.state.json"], capsys)  # a file: its dir
    assert (code, out.split()) == (0, [f"{TARGET}/beta"])


@pytest.mark.parametrize(("argv", "said"), [
    (["state", "list", "--state", "nowhere.json"],
     "there is no state file at nowhere.json (as --state says)"),
    (["state", "show", "a", "ws"], "there is no state file at ws/hss-reconciler.state.json (beside ws, as "
                                   "plan and apply find it)"),
    (["state", "list", "gone/"], "there is no state file at hss-reconciler.state.json (gone/ does not exist"),
    (["force-unlock", "abc"], "there is no state lock at hss-reconciler.state.json.lock (no PATH was given"),
    (["force-unlock", "abc", "ws"], "there is no state lock at ws/hss-reconciler.state.json.lock (beside ws"),
])
def test_no_state_says_where_it_looked(argv: list[str], said: str, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "ws").mkdir()
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(argv, capsys)
    assert (code, out) == (1, "")
    assert err.startswith(f"Error: {said}") and err.count("\n") == 1, err


# --- validate's warnings are plan's; --input=false; --target typos end to end -----------------------


def test_validate_warns_as_plan_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("plain", protocol="http"), registry("tls")])
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    code, _, err = _run(["validate", str(ws)], capsys)
    validated = [line.removeprefix("Warning: ") for line in err.splitlines()]
    code_plan, out, _ = _run(["plan", str(ws), "--refresh=false", "--format", "json"], capsys)
    assert (code, code_plan) == (0, 0)
    planned = json.loads(out)["warnings"]
    assert validated == planned and len(planned) == 1
    assert re.fullmatch(rf"{TARGET}/plain: protocol http sends the registry password to \S+ unencrypted; "
                        "use https", planned[0])


def test_input_false_never_asks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    code, out, err = _run(["apply", str(ws), "-refresh=false", "-input=false"], capsys)
    assert code == 1 and "1 to add" in out
    assert err == ("Error: apply needs approval and --input=false forbids asking: pass --auto-approve, "
                   "or apply a reviewed plan file\n")
    assert not (ws / "hss-reconciler.state.json").exists()


def test_a_target_typo_in_plan_names_the_nearest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    ws = write_workspace(tmp_path / "ws", [registry("harbor-prod"), registry("jfrog")])
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    code, out, err = _run(["plan", str(ws), "-refresh=false", "-target=harbor-prd"], capsys)
    assert (code, out) == (1, "")
    assert err == ("Error: --target harbor-prd: no declared or managed registry has this name or address "
                   f"(did you mean 'harbor-prod', address '{TARGET}/harbor-prod'?)\n")


def test_force_unlock_finds_the_lock_beside_the_paths_plan_is_given(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from reconciler.state.lock import acquire

    state = _state_with(tmp_path / "registries", "alpha")
    held = acquire(state, "apply", 0.0)  # a run that died: its lock stays
    monkeypatch.chdir(tmp_path)
    code, _, err = _run(["force-unlock", held.info.id], capsys)
    assert code == 1 and "found registries/hss-reconciler.state.json.lock" in err
    code, out, _ = _run(["force-unlock", held.info.id, "registries"], capsys)
    assert code == 0 and out.startswith(f"Released the state lock {held.info.id} on "
                                        "registries/hss-reconciler.state.json")
    assert not (tmp_path / "registries" / "hss-reconciler.state.json.lock").exists()


# --- command lines that must never be read as something else (issue 17 review) ------------------


@pytest.mark.parametrize("word", ["\u2014target=alpha", "\u2013auto-approve", "\u2212refresh=false",
                                  "\uff0dout=p.json"])
def test_a_dash_lookalike_is_refused_naming_the_option_it_would_be(
        word: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A typeset dash (pasted from a web page) would otherwise be a PATH nobody meant."""
    with pytest.raises(SystemExit) as exit_:
        main(["plan", word])
    assert exit_.value.code == 1
    first = capsys.readouterr().err.splitlines()[0]
    meant = "--" + word[1:]
    assert first.startswith(f"Error: {word}: starts with U+{ord(word[0]):04X}, which only looks like '-'")
    assert f"(did you mean '{meant}'?)" in first
    assert parse("plan", "--", word).paths == [word]  # after --, it is the PATH it says


@pytest.mark.parametrize("argv", [["plan", "-o", "p.json"], ["plan", "-ou", "p.json"]])
def test_a_single_dash_prefix_of_out_is_not_out(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse(*argv)
    assert exit_.value.code == 1
    assert f"unrecognized arguments: {argv[1]}" in capsys.readouterr().err
    assert parse("plan", "-vv").verbose == 2  # a cluster of a one-letter option still counts


@pytest.mark.parametrize("argv", [
    ["plan", "-state="], ["apply", "--state", ""], ["state", "list", "--state="],
    ["export", "--region", "r", "--project-id", "p", "--out", "o", "--state="],
    ["state", "migrate", "--to", ""]])
def test_an_empty_state_location_is_refused_not_read_as_the_default(
        argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """`-state=$STATE` with STATE unset must not plan against an empty local state."""
    with pytest.raises(SystemExit) as exit_:
        parse(*argv)
    assert exit_.value.code == 1
    assert "expected a path or URL, got an empty value" in capsys.readouterr().err


@pytest.mark.parametrize(("text", "seconds"), [("1h1m", 3660.0), ("1m30s", 90.0), ("500ms", 0.5),
                                               ("1h1m1s", 3661.0), ("90", 90.0), ("2m", 120.0)])
def test_go_durations_mean_what_terraform_reads(text: str, seconds: float) -> None:
    assert parse("plan", f"-lock-timeout={text}").lock_timeout == seconds


@pytest.mark.parametrize("text", ["1hm", "ms", "1h 1m", "1m-1s", "168h1s"])
def test_a_malformed_or_too_long_duration_is_refused(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse("plan", f"-lock-timeout={text}")
    assert exit_.value.code == 1
    assert capsys.readouterr().err.startswith("Error: argument --lock-timeout: ")


def test_an_upper_case_option_typo_gets_the_nearest_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse("plan", "-TARGET=x")
    assert capsys.readouterr().err.splitlines()[0].endswith("(did you mean '--target'?)")


@pytest.mark.parametrize("value", ["65", "999999", "0", "ten"])
def test_parallelism_outside_1_to_64_is_refused_in_one_line(value: str,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse("apply", f"-parallelism={value}")
    assert exit_.value.code == 1
    first = capsys.readouterr().err.splitlines()[0]
    assert first == "Error: argument --parallelism: must be a whole number from 1 to 64"


def test_parallelism_of_64_is_accepted() -> None:
    assert parse("apply", "--parallelism", "64").parallelism == 64
