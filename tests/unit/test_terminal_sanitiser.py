"""Issue 15: one sanitiser between every string and the terminal (reconciler/terminal.py).

What it escapes (controls, escape sequences, bidi and invisible characters),
what it keeps (newline, tab, visible text, our own colours), that its escapes
keep a JSON document the same value, that the CLI's Output and log handler use
it after the redactor, and that the schema refuses exactly the same characters
in a registry_name.
"""

from __future__ import annotations

import io
import itertools
import json
import logging
import re
import sys
import unicodedata
from collections.abc import Iterator

import pytest

from reconciler.cli.logsetup import configure_logging
from reconciler.cli.output import Output
from reconciler.generated import registries_validator
from reconciler.schema import CONFIG_SCHEMA, load_schema
from reconciler.secrets import MASK, Secret
from reconciler.terminal import HIDDEN_RANGES, escape_char, escape_hidden, is_hidden

ESC = "\x1b"
EVERY_CODE_POINT = range(sys.maxunicode + 1)
# One of each kind the issue names, and the sequences an attacker would send.
HOSTILE = {
    "clear screen": "\x1b[2J",
    "window title (OSC, ended by BEL)": "\x1b]0;pwned\x07",
    "hyperlink (OSC 8)": "\x1b]8;;https://evil.example/\x1b\\",
    "one-character CSI (C1)": "\x9b31m",
    "carriage return": "\r",
    "backspace": "\b",
    "right-to-left override": "\u202e",
    "right-to-left isolate": "\u2067",
    "zero-width space": "\u200b",
    "byte order mark": "\ufeff",
    "soft hyphen": "\u00ad",
    "line separator": "\u2028",
    "tag letter": "\U000e0041",
    "Hangul filler": "\u3164",
    "lone surrogate (a file name that is not UTF-8)": "\udc80",
}


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_escape_sequences_controls_and_bidi_characters_are_shown_escaped() -> None:
    assert escape_hidden("fake\x1b[2J\x1b[31mRED") == "fake\\u001b[2J\\u001b[31mRED"
    assert escape_hidden("evil\u202eabc.yaml") == "evil\\u202eabc.yaml"
    assert escape_hidden("over\rwrite") == "over\\rwrite"
    assert escape_hidden("\x9b2J") == "\\u009b2J"
    assert escape_hidden("tag\U000e0041") == "tag\\udb40\\udc41"
    for what, hostile in HOSTILE.items():
        shown = escape_hidden(f"a{hostile}b")
        assert not any(is_hidden(c) for c in shown), what
        assert shown.startswith("a\\") and shown.endswith("b"), what


def test_newline_tab_and_visible_text_pass_unchanged() -> None:
    text = "Plan: 1 to add\n\t# caf\u00e9 \u955c\u50cf h\u0430rbor \U0001f600 \\u202e\n"
    assert escape_hidden(text) == text


def test_exactly_the_hidden_characters_but_newline_and_tab_are_escaped() -> None:
    every = [chr(cp) for cp in EVERY_CODE_POINT]
    escaped = {c for c in every if is_hidden(c) and c not in "\n\t"}
    assert escape_hidden("".join(every)) == "".join(escape_char(c) if c in escaped else c for c in every)
    assert all(escape_char(c).startswith("\\") for c in escaped)


def test_the_table_covers_every_control_format_separator_and_surrogate_of_this_python() -> None:
    # The table is the union over Unicode 14-16; a newer Python with new format characters fails here.
    missing = [f"U+{cp:04X}" for cp in EVERY_CODE_POINT
               if unicodedata.category(chr(cp)) in ("Cc", "Cf", "Zl", "Zp", "Cs") and not is_hidden(chr(cp))]
    assert missing == []
    assert list(HIDDEN_RANGES) == sorted(HIDDEN_RANGES)
    assert all(first <= last < after for (first, last), (after, _) in itertools.pairwise(HIDDEN_RANGES))


def test_escapes_are_json_escapes_so_a_json_document_keeps_its_value() -> None:
    value = {"name": "".join(HOSTILE.values()) + "\x7f\x85 ok", "n": 1}
    document = json.dumps(value, ensure_ascii=False, indent=2)
    assert json.loads(escape_hidden(document)) == value


def test_the_schema_refuses_in_a_registry_name_exactly_the_hidden_characters() -> None:
    schema = load_schema(CONFIG_SCHEMA)
    pattern = re.compile(schema["$defs"]["registry"]["properties"]["registry_name"]["pattern"])
    refused = [cp for cp in EVERY_CODE_POINT if not pattern.search(f"a{chr(cp)}b")]
    assert refused == [cp for cp in EVERY_CODE_POINT if is_hidden(chr(cp))]


@pytest.mark.parametrize("hostile", list(HOSTILE.values()), ids=list(HOSTILE))
def test_the_generated_validator_refuses_each_hidden_character_in_a_name(hostile: str) -> None:
    document = {"version": 1, "target": {"region": "ap-southeast-1", "project_id": "p"},
                "registries": [{"registry_name": f"harbor{hostile}", "registry_type": "Harbor",
                                "api_version": "V2", "protocol": "https", "registry_addr": "h.example.com",
                                "registry_username": "u", "registry_password": {"env": "P"},
                                "connect_cluster_id": "c", "get_scan_image_channel": "Swr"}]}
    with pytest.raises(registries_validator.JsonSchemaValueException):
        registries_validator.validate_registry_file(document)
    document["registries"][0]["registry_name"] = "h\u0430rbor-\u955c\u50cf"  # visible, if look-alike
    registries_validator.validate_registry_file(document)


def test_output_escapes_what_it_prints_on_every_stream() -> None:
    stdout, stderr = io.StringIO(), io.StringIO()
    out = Output(stdout, stderr)
    out.print("registry \"evil\u202e\x1b[2J\"")
    out.error("locked by evil\x1b]0;t\x07@host")
    out.warn("a\rb")
    out.info("c\u200bd")
    out.prompt("name\x1b[8m? ")
    assert ESC not in stdout.getvalue() + stderr.getvalue()
    assert stdout.getvalue() == "registry \"evil\\u202e\\u001b[2J\"\nname\\u001b[8m? "
    assert stderr.getvalue() == ("Error: locked by evil\\u001b]0;t\\u0007@host\nWarning: a\\rb\nc\\u200bd\n")


def test_our_colours_survive_while_the_same_codes_in_foreign_text_do_not() -> None:
    stdout = Tty()
    out = Output(stdout, io.StringIO())
    foreign = "\x1b[32mgreen-looking\x1b[0m"  # exactly what our palette writes for green
    out.print(out.palette.paint(f"+ {foreign}", "green") + " " + foreign)
    assert stdout.getvalue() == (
        "\x1b[32m+ \\u001b[32mgreen-looking\\u001b[0m\x1b[0m \\u001b[32mgreen-looking\\u001b[0m\n")


def test_without_a_terminal_nothing_is_painted() -> None:
    stdout = io.StringIO()
    out = Output(stdout, io.StringIO())
    out.print(out.palette.paint("plain", "green"))
    assert stdout.getvalue() == "plain\n"


def test_a_secret_is_masked_before_escaping_so_its_escaped_form_never_shows() -> None:
    value = "pass\u202eword-\x1b[2J-15"
    Secret(value)
    stdout = io.StringIO()
    Output(stdout, io.StringIO()).print(f"value {value}!")
    assert stdout.getvalue() == f"value {MASK}!\n"


@pytest.fixture
def root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_log_lines_pass_the_same_sanitiser(root_logging: None, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info", 0)
    logging.getLogger("reconciler.test").info("registry %s failed", "evil\u202e\x1b]0;t\x07")
    try:
        raise ValueError("bad \x1b[2J value")
    except ValueError:
        logging.getLogger("reconciler.test").warning("with a traceback", exc_info=True)
    err = capsys.readouterr().err
    assert "INFO reconciler.test: registry evil\\u202e\\u001b]0;t\\u0007 failed\n" in err
    assert "ValueError: bad \\u001b[2J value" in err
    assert ESC not in err and "\u202e" not in err
