"""apply's pace: AIMD on the request rate, learned from 429s, shared by every worker.

A fake clock that moves only when someone sleeps, so nothing here waits.
"""

from __future__ import annotations

import itertools

import httpx
import pytest

from reconciler.apply.pacing import AdaptivePace
from reconciler.hss.client import HssClient
from reconciler.hss.retry import RetryPolicy
from tests.unit.test_retry import FakeTime


@pytest.fixture
def time_() -> FakeTime:
    return FakeTime()


def _pace(time_: FakeTime) -> AdaptivePace:
    return AdaptivePace(increase=2.0, decrease=0.85, first_cut=0.9, clock=time_.clock, sleep=time_.sleep)


def _starts(pace: AdaptivePace, time_: FakeTime, count: int) -> list[float]:
    """When `count` attempts admitted one after another start, relative to now."""
    began = time_.now
    starts = []
    for _ in range(count):
        pace.admit(time_.now + 60)
        starts.append(round(time_.now - began, 6))
    return starts


def test_until_throttled_nothing_waits(time_: FakeTime) -> None:
    pace = _pace(time_)
    assert _starts(pace, time_, 50) == [0.0] * 50
    for _ in range(50):
        pace.passed()
    assert pace.rate is None and time_.sleeps == []


def test_the_first_429_measures_the_limit_and_pauses_everyone_for_its_retry_after(time_: FakeTime) -> None:
    pace = _pace(time_)
    for _ in range(20):  # what the gateway let through in the last second
        pace.passed()
    time_.now += 0.5
    pace.throttled(1.0)
    assert pace.rate == pytest.approx(18.0)  # 0.9 x the 20 measured
    starts = _starts(pace, time_, 4)
    assert starts[0] == pytest.approx(1.0)  # the Retry-After, for every worker
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert gaps == pytest.approx([1 / 18] * 3, abs=1e-5)  # starts are rounded to 1 us


def test_the_throttled_answers_of_one_episode_cut_the_rate_once(time_: FakeTime) -> None:
    pace = _pace(time_)
    for _ in range(20):
        pace.passed()
    for _ in range(10):  # ten workers' attempts, all sent before the first 429 came back
        pace.throttled(1.0)
    assert pace.rate == pytest.approx(18.0)
    assert pace.throttles == 10
    time_.now += 2.0  # after the pause: a new 429 is news
    pace.throttled(1.0)
    assert pace.rate == pytest.approx(18.0 * 0.85)


def test_passing_attempts_raise_the_rate_by_about_increase_per_second(time_: FakeTime) -> None:
    pace = _pace(time_)
    for _ in range(10):
        pace.passed()
    pace.throttled(1.0)
    assert pace.rate == pytest.approx(9.0)
    for _ in range(9):  # about one second's worth at 9 a second
        pace.passed()
    rate = pace.rate
    assert rate is not None and 10.8 < rate < 11.0  # +2 a second, in steps of 2 / rate


def test_a_429_without_retry_after_pauses_a_second_and_retry_after_0_changes_nothing(
    time_: FakeTime,
) -> None:
    pace = _pace(time_)
    pace.throttled(0.0)  # the gateway says: no need to wait
    assert pace.rate is None
    assert _starts(pace, time_, 1) == [0.0]
    pace.throttled(None)
    assert pace.rate == pytest.approx(0.9)  # nothing passed in the last second: 0.9 x 1
    assert _starts(pace, time_, 1) == [pytest.approx(1.0)]


def test_a_wait_ends_at_the_callers_deadline(time_: FakeTime) -> None:
    pace = _pace(time_)
    pace.throttled(30.0)
    began = time_.now
    pace.admit(began + 5)
    assert time_.now == pytest.approx(began + 5)


def test_the_rate_never_drops_below_its_floor(time_: FakeTime) -> None:
    pace = AdaptivePace(min_rate=2.0, clock=time_.clock, sleep=time_.sleep)
    for _ in range(30):
        time_.now += 5
        pace.throttled(1.0)
    assert pace.rate == pytest.approx(2.0)


def test_the_client_asks_before_every_attempt_and_reports_each_answer(time_: FakeTime) -> None:
    """HssClient's side of the interface: a 429 reaches the pace with its Retry-After."""
    answers = iter([
        httpx.Response(429, json={"error_code": "APIG.0308", "error_msg": "throttled"},
                       headers={"Retry-After": "2"}),
        httpx.Response(200, json={}),
    ])
    pace = _pace(time_)
    for _ in range(5):
        pace.passed()
    http = httpx.Client(transport=httpx.MockTransport(lambda request: next(answers)))
    retry = RetryPolicy(sleep=time_.sleep, clock=time_.clock, random=lambda: 0.0)
    client = HssClient(http, "https://hss.example.com", "proj", retry=retry).with_admission(pace)
    began = time_.now
    client.add_registry({"registry_name": "a"})
    assert pace.throttles == 1
    assert pace.rate is not None and pace.rate > 4.5  # cut to 0.9 x 5, then one pass added to it
    assert time_.now - began >= 2.0  # the retry waited for the Retry-After
