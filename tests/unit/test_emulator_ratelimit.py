"""The emulator's APIG flow control: a token bucket per credential, answered as APIG.0308."""

from __future__ import annotations

import pytest

from reconciler.emulator.auth import ReceivedRequest
from reconciler.emulator.cli_args import config_from_args
from reconciler.emulator.config import SettingError
from reconciler.emulator.errors import ApiFailure
from reconciler.emulator.ratelimit import RateLimiter, credential_of
from tests.unit.test_emulator_options import _emulator_args


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _request(token: str = "t", **headers: str) -> ReceivedRequest:
    return ReceivedRequest("POST", "/v5/p/image/registries", [], {"X-Auth-Token": token, **headers}, b"")


def _passes(limiter: RateLimiter, request: ReceivedRequest, rate: float) -> bool:
    try:
        limiter.admit(request, rate)
    except ApiFailure:
        return False
    return True


def test_a_second_worth_passes_at_once_then_the_rate_refills_it() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    request = _request()
    assert [_passes(limiter, request, 20) for _ in range(21)] == [True] * 20 + [False]
    clock.now += 0.051  # one token's worth (and a little: 100.05 - 100 < 0.05 in floats)
    assert _passes(limiter, request, 20)
    assert not _passes(limiter, request, 20)
    clock.now += 10  # refilled, but never beyond one second's worth
    assert sum(_passes(limiter, request, 20) for _ in range(40)) == 20


def test_the_answer_is_apigs_throttling_body_with_retry_after() -> None:
    limiter = RateLimiter(Clock())
    limiter.admit(_request(), 1)
    with pytest.raises(ApiFailure) as raised:
        limiter.admit(_request(), 1)
    failure = raised.value
    assert failure.status == 429
    assert failure.body() == {
        "error_code": "APIG.0308",
        "error_msg": "The throttling threshold has been reached: "
                     "policy user over ratelimit,limit:1,time:1 second",
    }
    assert failure.headers == {"Retry-After": "1"}
    with pytest.raises(ApiFailure) as debug:
        limiter.admit(_request(**{"X-Apig-Mode": "debug"}), 1)
    assert debug.value.headers["X-Apig-RateLimit-user"] == "remain:0,limit:1,time:1 second"


def test_each_credential_has_its_own_bucket_and_zero_is_no_limit() -> None:
    limiter = RateLimiter(Clock())
    assert _passes(limiter, _request("a"), 1)
    assert not _passes(limiter, _request("a"), 1)
    assert _passes(limiter, _request("b"), 1)
    assert all(_passes(limiter, _request("a"), 0) for _ in range(100))


def test_a_token_is_never_kept_only_its_digest() -> None:
    key = credential_of(_request("s3cret-token"))
    assert "s3cret" not in key and key.startswith("token:")
    signed = ReceivedRequest("GET", "/", [], {"Authorization": "SDK-HMAC-SHA256 Access=AKX, "
                                              "SignedHeaders=host, Signature=ab"}, b"")
    assert credential_of(signed) == "ak:AKX"


def test_the_option_and_its_environment_variable() -> None:
    assert config_from_args(_emulator_args("--rate-limit", "20"), {}).rate_limit == 20
    assert config_from_args(_emulator_args(), {"HSS_EMULATOR_RATE_LIMIT": "7.5"}).rate_limit == 7.5
    assert config_from_args(_emulator_args(), {}).rate_limit == 0
    with pytest.raises(SettingError, match="HSS_EMULATOR_RATE_LIMIT must be a number"):
        config_from_args(_emulator_args(), {"HSS_EMULATOR_RATE_LIMIT": "fast"})
    with pytest.raises(SettingError, match="rate_limit: must be >= 0"):
        config_from_args(_emulator_args("--rate-limit", "-1"), {})
