"""Retries in HssClient._send: what is retried, how long it waits, and what never is.

Every test runs against httpx.MockTransport with a fake clock and sleep, so
nothing here waits for real.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from reconciler.errors import ApiError
from reconciler.hss.auth import AkSkAuth
from reconciler.hss.client import HssClient
from reconciler.hss.errors import AddOutcomeUnknown, RegistryNotFound
from reconciler.hss.retry import RetryPolicy, Verdict, classify, retry_after_seconds
from reconciler.secrets import Secret

ENDPOINT = "https://hss.ap-southeast-1.myhuaweicloud.com"
PROJECT = "proj123"
PASSWORD = "Retry-Canary-Pa55word"
NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)

Step = httpx.Response | Exception


class FakeTime:
    """A clock that only moves when the client sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


class Script:
    """Answers requests in order from a list of responses or exceptions; the last repeats."""

    def __init__(self, *steps: Step) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps[min(len(self.requests), len(self.steps)) - 1]
        if isinstance(step, Exception):
            raise type(step)(str(step), request=request)  # type: ignore[call-arg]
        return step


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def policy(fake: FakeTime, **overrides: Any) -> RetryPolicy:
    base = RetryPolicy(max_attempts=5, base_delay=0.5, max_delay=4.0, max_elapsed=30.0,
                       sleep=fake.sleep, random=lambda: 1.0, clock=fake.clock, now=lambda: NOW)
    return replace(base, **overrides)


def client(script: Script, retry: RetryPolicy) -> HssClient:
    http = httpx.Client(transport=httpx.MockTransport(script))
    return HssClient(http, ENDPOINT, PROJECT, retry=retry)


def ok(payload: Any = None) -> httpx.Response:
    return httpx.Response(200, json=payload if payload is not None else {"data_list": [], "total_num": 0})


def fail(status: int, code: str | None = None, **headers: str) -> httpx.Response:
    body = {"error_code": code, "error_msg": f"{code} happened"} if code else None
    return httpx.Response(status, json=body, headers=headers)


@pytest.fixture
def info_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG, logger="reconciler.hss")
    yield caplog


# -- the policy itself ----------------------------------------------------------------


def test_backoff_is_exponential_capped_and_fully_jittered() -> None:
    top = RetryPolicy(base_delay=0.5, max_delay=4.0, random=lambda: 1.0)
    assert [top.backoff(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    half = replace(top, random=lambda: 0.5)
    assert [half.backoff(n) for n in (1, 3, 9)] == [0.25, 1.0, 2.0]
    assert replace(top, random=lambda: 0.0).backoff(5) == 0.0
    assert top.backoff(10_000) == 4.0  # no overflow on absurd counts


def test_retry_after_is_a_floor_with_a_little_jitter_on_top() -> None:
    calm = RetryPolicy(base_delay=0.5, max_delay=4.0, random=lambda: 0.5)
    assert calm.next_delay(1, 0.0, 3.0) == pytest.approx(3.25)
    assert calm.next_delay(4, 0.0, 3.0) == pytest.approx(3.5)  # jitter never above base_delay
    assert calm.next_delay(1, 0.0, 0.0) == pytest.approx(0.25)


def test_attempts_and_elapsed_time_are_bounded() -> None:
    bounded = RetryPolicy(max_attempts=3, base_delay=1.0, max_delay=8.0, max_elapsed=10.0,
                          random=lambda: 1.0)
    assert bounded.next_delay(2, 0.0, None) == 2.0
    assert bounded.next_delay(3, 0.0, None) is None  # the third attempt was the last
    assert bounded.next_delay(1, 9.5, None) is None  # waiting 1 s would pass the 10 s budget
    assert bounded.next_delay(1, 0.0, 60.0) is None  # a Retry-After beyond the budget: give up now
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)


def test_retry_after_header_forms() -> None:
    def header(value: str) -> float | None:
        return retry_after_seconds(httpx.Response(429, headers={"Retry-After": value}), lambda: NOW)

    assert header("7") == 7.0
    assert header(format_datetime(NOW + timedelta(seconds=12), usegmt=True)) == 12.0
    assert header(format_datetime(NOW - timedelta(seconds=12), usegmt=True)) == 0.0
    assert header("soon") is None
    assert retry_after_seconds(httpx.Response(429), lambda: NOW) is None


@pytest.mark.parametrize(
    ("outcome", "code", "verdict"),
    [
        (fail(429), None, Verdict.RETRY),
        (fail(500), None, Verdict.UNKNOWN),
        (fail(503), "APIG.0202", Verdict.UNKNOWN),
        (fail(400, "HSS.0001"), "HSS.0001", Verdict.FAIL),
        (fail(400, "HSS.0011"), "HSS.0011", Verdict.FAIL),
        (fail(401, "APIG.0301"), "APIG.0301", Verdict.FAIL),
        (fail(401, "APIG.0307"), "APIG.0307", Verdict.FAIL),
        (fail(500, "APIG.0301"), "APIG.0301", Verdict.FAIL),  # an auth code is final whatever the status
        (fail(403, "APIG.0302"), "APIG.0302", Verdict.FAIL),
        (httpx.ConnectError("refused"), None, Verdict.RETRY),
        (httpx.ConnectTimeout("slow"), None, Verdict.RETRY),
        (httpx.PoolTimeout("busy"), None, Verdict.RETRY),
        (httpx.ReadTimeout("slow"), None, Verdict.UNKNOWN),
        (httpx.ReadError("reset"), None, Verdict.UNKNOWN),
        (httpx.WriteError("broken pipe"), None, Verdict.UNKNOWN),
        (httpx.RemoteProtocolError("disconnected"), None, Verdict.UNKNOWN),
        (httpx.UnsupportedProtocol("ftp"), None, Verdict.FAIL),
        (httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"), None,
         Verdict.FAIL),
    ],
)
def test_classification(outcome: httpx.Response | httpx.TransportError, code: str | None,
                        verdict: Verdict) -> None:
    assert classify(outcome, code) is verdict


# -- idempotent calls --------------------------------------------------------------------


@pytest.mark.parametrize(
    "first",
    [fail(500), fail(502), fail(503, "APIG.0202"), fail(504), httpx.ReadTimeout("t"),
     httpx.ReadError("r"), httpx.RemoteProtocolError("gone"), httpx.ConnectError("refused")],
)
def test_list_is_retried_until_it_succeeds(fake_time: FakeTime, first: Step) -> None:
    items = [{"id": "a", "registry_name": "one"}]
    script = Script(first, first, ok({"data_list": items, "total_num": 1}))
    assert client(script, policy(fake_time)).list_registries() == items
    assert len(script.requests) == 3
    assert fake_time.sleeps == [0.5, 1.0]


def test_put_and_delete_are_retried(fake_time: FakeTime) -> None:
    script = Script(fail(503), httpx.Response(200))
    hss = client(script, policy(fake_time))
    hss.update_registry("id-1", {"protocol": "https", "registry_password": Secret(PASSWORD)})
    assert [r.method for r in script.requests] == ["PUT", "PUT"]
    assert script.requests[0].content == script.requests[1].content

    script = Script(httpx.ReadError("reset"), httpx.Response(200))
    client(script, policy(fake_time)).delete_registry("id-1")
    assert [r.method for r in script.requests] == ["DELETE", "DELETE"]


def test_throttling_waits_at_least_retry_after(fake_time: FakeTime) -> None:
    script = Script(fail(429, "APIG.0308", **{"Retry-After": "3"}), ok())
    client(script, policy(fake_time, random=lambda: 0.0)).list_registries()
    assert len(script.requests) == 2
    assert fake_time.sleeps == [3.0]


def test_exhausted_retries_raise_the_last_error_unchanged(fake_time: FakeTime) -> None:
    script = Script(fail(503, "APIG.0202", **{"X-Request-Id": "req-9"}))
    with pytest.raises(ApiError) as info:
        client(script, policy(fake_time)).list_registries()
    assert str(info.value) == ("HSS ListRegistry failed: HTTP 503 APIG.0202: APIG.0202 happened "
                               "(request id req-9)")
    assert info.value.status == 503
    assert len(script.requests) == 5
    assert fake_time.sleeps == [0.5, 1.0, 2.0, 4.0]


def test_total_time_is_bounded(fake_time: FakeTime) -> None:
    script = Script(fail(500))
    with pytest.raises(ApiError):
        client(script, policy(fake_time, max_attempts=50, max_elapsed=10.0)).list_registries()
    assert sum(fake_time.sleeps) <= 10.0
    assert len(script.requests) == 5  # 0.5 + 1 + 2 + 4 = 7.5 s; another 4 s would pass 10 s


def test_a_connection_that_cannot_be_made_is_tried_only_a_few_times(fake_time: FakeTime) -> None:
    """Refused or unresolvable is nearly always a wrong endpoint: say so in seconds, not a minute."""
    script = Script(httpx.ConnectError("[Errno 111] Connection refused"))
    with pytest.raises(ApiError, match="connection refused"):
        client(script, policy(fake_time, max_attempts=10, connect_attempts=3)).list_registries()
    assert len(script.requests) == 3 and fake_time.sleeps == [0.5, 1.0]


def test_an_untrusted_certificate_is_not_retried(fake_time: FakeTime) -> None:
    script = Script(httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"))
    with pytest.raises(ApiError, match="TLS handshake failed"):
        client(script, policy(fake_time)).list_registries()
    assert len(script.requests) == 1 and fake_time.sleeps == []


def test_a_long_retry_after_is_not_waited_for(fake_time: FakeTime) -> None:
    script = Script(fail(429, **{"Retry-After": "3600"}))
    with pytest.raises(ApiError) as info:
        client(script, policy(fake_time)).list_registries()
    assert info.value.status == 429
    assert len(script.requests) == 1 and fake_time.sleeps == []


@pytest.mark.parametrize(
    "answer",
    [fail(401, "APIG.0301"), fail(401, "APIG.0307"), fail(401), fail(403, "APIG.0302"),
     fail(400, "HSS.0001"), fail(404, "APIG.0101")],
)
def test_auth_and_client_errors_are_never_retried(fake_time: FakeTime, answer: httpx.Response) -> None:
    script = Script(answer, ok())
    with pytest.raises(ApiError) as info:
        client(script, policy(fake_time)).list_registries()
    assert info.value.status == answer.status_code
    assert len(script.requests) == 1 and fake_time.sleeps == []


def test_unknown_id_is_registry_not_found_at_once(fake_time: FakeTime) -> None:
    script = Script(fail(400, "HSS.0011"), httpx.Response(200))
    with pytest.raises(RegistryNotFound):
        client(script, policy(fake_time)).delete_registry("gone")
    assert len(script.requests) == 1


@pytest.mark.parametrize("first", [fail(503), fail(429), httpx.ConnectError("refused"),
                                   httpx.ReadError("reset")])
def test_no_retry_policy_sends_once(first: Step) -> None:
    script = Script(first, ok())
    with pytest.raises(ApiError):
        client(script, RetryPolicy(max_attempts=1)).list_registries()
    assert len(script.requests) == 1


# -- AddRegistry: never re-sent when it may have happened ---------------------------------


ADD_BODY = {"registry_name": "harbor", "registry_type": "Harbor", "registry_password": Secret(PASSWORD)}


@pytest.mark.parametrize(
    "answer",
    [fail(500), fail(502), fail(503, "APIG.0202"), httpx.ReadTimeout("slow"), httpx.ReadError("reset"),
     httpx.WriteError("pipe"), httpx.WriteTimeout("slow"), httpx.RemoteProtocolError("disconnected")],
)
def test_add_with_an_unknown_outcome_is_sent_once_and_says_so(
    fake_time: FakeTime, answer: Step, info_log: pytest.LogCaptureFixture
) -> None:
    script = Script(answer, httpx.Response(200))
    with pytest.raises(AddOutcomeUnknown) as info:
        client(script, policy(fake_time)).add_registry(ADD_BODY)
    assert len(script.requests) == 1 and fake_time.sleeps == []
    assert "HSS AddRegistry failed" in str(info.value)
    assert "may or may not have added the registry" in str(info.value)
    assert isinstance(info.value, ApiError)
    assert PASSWORD not in str(info.value) and PASSWORD not in info_log.text


@pytest.mark.parametrize(
    "first",
    [fail(429, "APIG.0308", **{"Retry-After": "1"}), httpx.ConnectError("refused"),
     httpx.ConnectTimeout("slow"), httpx.PoolTimeout("busy")],
)
def test_add_is_retried_when_it_certainly_did_nothing(fake_time: FakeTime, first: Step) -> None:
    script = Script(first, httpx.Response(200))
    client(script, policy(fake_time)).add_registry(ADD_BODY)
    assert [r.method for r in script.requests] == ["POST", "POST"]
    assert json.loads(script.requests[1].content)["registry_password"] == PASSWORD


def test_add_rejected_as_invalid_is_a_plain_error(fake_time: FakeTime) -> None:
    script = Script(fail(400, "HSS.0001"))
    with pytest.raises(ApiError) as info:
        client(script, policy(fake_time)).add_registry(ADD_BODY)
    assert not isinstance(info.value, AddOutcomeUnknown)
    assert len(script.requests) == 1


# -- what the log says ---------------------------------------------------------------------


def test_each_retry_is_logged_once_without_url_query_or_secret(
    fake_time: FakeTime, info_log: pytest.LogCaptureFixture
) -> None:
    answer = {"image_command": "docker load x"}
    script = Script(fail(503, "APIG.0202", **{"X-Request-Id": "r-1"}), httpx.ReadError("reset"),
                    fail(429), ok(answer))
    result = client(script, policy(fake_time)).image_upload_command(
        "harbor.example.com", "ns", "robot", Secret(PASSWORD))
    assert result == answer
    assert len(script.requests) == 4
    assert script.requests[-1].url.params["password"] == PASSWORD
    retries = [r for r in info_log.records if r.levelno == logging.INFO]
    assert [r.getMessage() for r in retries] == [
        "HSS ShowImageUploadCommand failed: HTTP 503 APIG.0202: APIG.0202 happened (request id r-1); "
        "retrying in 0.5 s (attempt 2 of 5)",
        "HSS ShowImageUploadCommand failed: cannot reach hss.ap-southeast-1.myhuaweicloud.com:443: "
        "connection lost while reading the response; retrying in 1.0 s (attempt 3 of 5)",
        "HSS ShowImageUploadCommand failed: HTTP 429 Too Many Requests (rate limited by the API "
        "gateway); retrying in 2.0 s (attempt 4 of 5)",
    ]
    assert PASSWORD not in info_log.text
    assert "password" not in info_log.text and "?" not in info_log.text


def test_giving_up_is_logged(fake_time: FakeTime, info_log: pytest.LogCaptureFixture) -> None:
    with pytest.raises(ApiError):
        client(Script(fail(500)), policy(fake_time, max_attempts=2)).list_registries()
    messages = [r.getMessage() for r in info_log.records if r.levelno == logging.INFO]
    assert messages[-1].endswith("; gave up after 2 attempts")


def test_each_attempt_is_signed_afresh(fake_time: FakeTime) -> None:
    """AK/SK signatures carry a timestamp; a retry must not replay a stale one."""
    times = [NOW, NOW + timedelta(seconds=5)]
    auth = AkSkAuth("AK123", Secret("sk-secret-value"), clock=lambda: times.pop(0))
    script = Script(fail(503), ok())
    http = httpx.Client(transport=httpx.MockTransport(script), auth=auth)
    HssClient(http, ENDPOINT, PROJECT, retry=policy(fake_time)).list_registries()
    first, second = script.requests
    assert first.headers["X-Sdk-Date"] == "20240501T120000Z"
    assert second.headers["X-Sdk-Date"] == "20240501T120005Z"
    assert first.headers["Authorization"] != second.headers["Authorization"]
