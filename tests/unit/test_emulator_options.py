"""The emulator's option map stays in step with its settings and its parser."""

from __future__ import annotations

import argparse
import dataclasses
import re

from reconciler.cli.main import build_parser
from reconciler.emulator.cli_args import OPTIONS, UNQUOTED, add_arguments, config_from_args, option_message
from reconciler.emulator.config import EmulatorConfig, SettingError


def test_every_option_named_in_an_error_exists_and_every_setting_it_names_is_real() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    usage = parser.format_help()
    settings = {field.name for field in dataclasses.fields(EmulatorConfig)}
    for setting, option in OPTIONS.items():
        assert setting in settings
        for flag in option.split("/"):
            assert re.search(rf"{re.escape(flag)}(?![\w-])", usage), flag


def test_every_quoted_value_is_read_from_the_option_that_set_it() -> None:
    args = build_parser("emulator").parse_args(["emulator"])
    for setting, option in OPTIONS.items():
        message = option_message(SettingError(setting, "is wrong"), args)
        assert message.startswith(f"{option}: is wrong")
        assert (", got " in message) == (setting not in UNQUOTED)


def test_the_settings_message_is_unchanged_for_python_and_the_control_endpoint() -> None:
    args = build_parser("emulator").parse_args(["emulator", "--latency-ms", "-5"])
    try:
        config_from_args(args)
    except ValueError as error:
        assert str(error) == "latency_ms: must be >= 0"
        assert isinstance(error, SettingError)
        assert option_message(error, args) == "--latency-ms: must be >= 0, got -5"
    else:
        raise AssertionError("a negative latency was accepted")


def _emulator_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_token_and_key_pair_come_from_the_environment_where_ps_does_not_show_them() -> None:
    # Issue 19.10: a token or SK on the command line is visible to every user through `ps`.
    environ = {"HSS_EMULATOR_TOKEN": "env-token", "HSS_EMULATOR_AK": "AKENV", "HSS_EMULATOR_SK": "sk-env"}
    config = config_from_args(_emulator_args("--token", "cli-token"), environ)
    assert config.tokens == frozenset({"cli-token", "env-token"})
    assert config.aksk == {"AKENV": "sk-env"}
    given = _emulator_args("--ak", "AKCLI", "--sk", "sk-cli")
    assert config_from_args(given, environ).aksk == {"AKCLI": "sk-cli"}  # the command line wins
    assert config_from_args(_emulator_args(), {}).tokens == frozenset()


def test_half_a_key_pair_from_the_environment_is_refused_naming_the_missing_half() -> None:
    try:
        config_from_args(_emulator_args(), {"HSS_EMULATOR_AK": "AKENV"})
    except SettingError as error:
        assert (error.setting, error.problem) == ("--ak", "needs --sk as well")
    else:
        raise AssertionError("half a key pair was accepted")
