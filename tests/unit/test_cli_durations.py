"""Durations on the command line (--lock-timeout, --wait-timeout): a typo is an error, never a hang."""

from __future__ import annotations

import argparse

import pytest

from reconciler.cli.main import _duration


@pytest.mark.parametrize(("text", "seconds"), [("0", 0.0), ("90", 90.0), ("90s", 90.0), ("2m", 120.0),
                                               ("1.5h", 5400.0), ("168h", 604800.0)])
def test_a_duration_is_seconds(text: str, seconds: float) -> None:
    assert _duration(text) == seconds


@pytest.mark.parametrize(("text", "why"), [
    ("nan", "expected a duration"), ("nans", "expected a duration"), ("-5", "expected a duration"),
    ("5d", "expected a duration"), ("", "expected a duration"),
    # inf, or a number too large for a wait, would never end (or overflow a lock wait)
    ("inf", "longer than 7 days"), ("infm", "longer than 7 days"), ("1e300h", "longer than 7 days"),
    ("169h", "longer than 7 days"),
])
def test_a_duration_that_is_not_one_is_refused(text: str, why: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=why):
        _duration(text)
