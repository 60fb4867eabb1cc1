"""The emulator refuses to listen beyond loopback unless told to, and keeps secrets out of its repr."""

from __future__ import annotations

import pytest

from reconciler.emulator import EmulatorConfig


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "example.com", "::"])
def test_non_loopback_host_is_refused(host: str) -> None:
    with pytest.raises(ValueError, match="not a loopback address"):
        EmulatorConfig(host=host)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_hosts_are_accepted(host: str) -> None:
    assert EmulatorConfig(host=host).host == host


def test_remote_needs_an_explicit_flag() -> None:
    assert EmulatorConfig(host="0.0.0.0", allow_remote=True).allow_remote


def test_repr_hides_tokens_and_secret_keys() -> None:
    text = repr(EmulatorConfig(tokens={"tok-7d1e"}, aksk={"AK1": "sk-9f3c"}))
    assert "tok-7d1e" not in text and "sk-9f3c" not in text
