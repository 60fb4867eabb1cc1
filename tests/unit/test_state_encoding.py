"""Issue 19.9: a state file must be UTF-8 (json.loads would guess UTF-16 or UTF-32); 19.8's bound."""

from __future__ import annotations

import pytest

from reconciler.config.wholenumbers import MAX_PASSWORD_VERSION as FILE_MAX_PASSWORD_VERSION
from reconciler.errors import StateError
from reconciler.state.model import MAX_PASSWORD_VERSION, State, parse_state

TEXT = State(lineage="one-history").serialize().decode("utf-8")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le"])
def test_a_utf16_or_utf32_state_is_refused_naming_the_file_and_the_fix(encoding: str) -> None:
    with pytest.raises(StateError) as caught:
        parse_state(TEXT.encode(encoding), "prod.state.json")
    message = str(caught.value)
    assert message.startswith("prod.state.json: state file is not valid JSON: UTF-16 or UTF-32 text")
    assert "save it as UTF-8" in message and "left untouched" in message


def test_a_utf8_state_with_a_byte_order_mark_still_loads() -> None:
    assert parse_state(b"\xef\xbb\xbf" + TEXT.encode("utf-8"), "s.json").lineage == "one-history"


def test_the_state_bounds_password_version_as_a_registry_file_does() -> None:
    # A registry file's bound (config/wholenumbers.py) must fit the state, or an applied value
    # would make the state unreadable; the state's own bound is held to its schema in test_state_files.
    assert MAX_PASSWORD_VERSION == FILE_MAX_PASSWORD_VERSION
