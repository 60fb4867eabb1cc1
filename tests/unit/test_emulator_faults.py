"""The emulator's injected faults, its control endpoint and its fault flags.

The fault and retry tests elsewhere trust these to behave as documented: a 429
carries Retry-After and APIG.0308, an injected error changes nothing, a lost
response commits and then hangs up, a seed repeats the same faults, and
latency overlaps across concurrent requests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from reconciler.cli.main import build_parser
from reconciler.emulator import EmulatorConfig, EmulatorServer
from reconciler.emulator.cli_args import config_from_args
from reconciler.emulator.faults import Fault, FaultInjector

TOKEN = "emulator-test-token"
PROJECT = "p1"
REGISTRIES = f"/v5/{PROJECT}/image/registries"
# One pooled client per test, closed after it: a new httpx.Client per call costs ~25 ms (TLS setup).
HTTP: httpx.Client


@pytest.fixture(autouse=True)
def http_client() -> Iterator[None]:
    global HTTP
    with httpx.Client(timeout=5) as HTTP:
        yield


def body(name: str) -> dict[str, str]:
    return {
        "registry_name": name, "registry_type": "Harbor", "api_version": "V2", "protocol": "https",
        "registry_addr": f"{name}.example.com", "registry_username": "robot",
        "registry_password": "Pa55-word", "connect_cluster_id": "cluster-1",
        "get_scan_image_channel": "Swr",
    }


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(EmulatorConfig(tokens={TOKEN})) as running:
        yield running


def api(server: EmulatorServer, method: str, path: str = REGISTRIES, **kwargs: Any) -> httpx.Response:
    headers = {"X-Auth-Token": kwargs.pop("token", TOKEN)}
    return HTTP.request(method, server.url + path, headers=headers, **kwargs)


def control(server: EmulatorServer, method: str, what: str, **kwargs: Any) -> httpx.Response:
    return HTTP.request(method, f"{server.url}/_emulator/{what}", **kwargs)


def configure(server: EmulatorServer, **settings: Any) -> dict[str, Any]:
    response = control(server, "POST", "config", json=settings)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def names(server: EmulatorServer) -> list[str]:
    configure(server, drop_rate=0.0, throttle_rate=0.0, error_rate=0.0, lost_response_rate=0.0)
    response = api(server, "GET", params={"limit": 200})
    assert response.status_code == 200
    return [item["registry_name"] for item in response.json()["data_list"]]


# -- the dice ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "fault"),
    [("drop_rate", Fault.DROP), ("throttle_rate", Fault.THROTTLE), ("error_rate", Fault.ERROR),
     ("lost_response_rate", Fault.LOST_RESPONSE)],
)
def test_rate_one_always_and_zero_never(setting: str, fault: Fault) -> None:
    dice = FaultInjector(seed=1)
    always = EmulatorConfig(**{setting: 1.0})
    assert {dice.decide(always).fault for _ in range(200)} == {fault}
    assert {dice.decide(EmulatorConfig()).fault for _ in range(500)} == {Fault.NONE}


def test_a_seed_repeats_the_same_faults_and_another_seed_does_not() -> None:
    config = EmulatorConfig(drop_rate=0.1, throttle_rate=0.1, error_rate=0.1, lost_response_rate=0.1)

    def sequence(seed: int) -> list[tuple[Fault, int]]:
        dice = FaultInjector(seed)
        return [(d.fault, d.error_status) for d in (dice.decide(config) for _ in range(300))]

    assert sequence(7) == sequence(7)
    assert sequence(7) != sequence(8)
    assert len({fault for fault, _ in sequence(7)}) == 5  # every kind, and no fault, occur


def test_rates_are_honoured_and_errors_split_between_500_and_503() -> None:
    dice = FaultInjector(seed=3)
    config = EmulatorConfig(error_rate=0.3)
    decisions = [dice.decide(config) for _ in range(4000)]
    errors = [d for d in decisions if d.fault is Fault.ERROR]
    assert 0.27 < len(errors) / len(decisions) < 0.33
    statuses = {d.error_status for d in errors}
    assert statuses == {500, 503}


# -- faults on the wire ---------------------------------------------------------------


def test_throttle_is_429_with_retry_after_and_apig_0308_and_changes_nothing(
    server: EmulatorServer,
) -> None:
    configure(server, throttle_rate=1.0, retry_after_seconds=3)
    response = api(server, "POST", json=body("throttled"))
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3"
    assert response.json()["error_code"] == "APIG.0308"
    assert response.headers["X-Request-Id"]
    assert names(server) == []


def test_injected_errors_are_500_or_503_and_change_nothing(server: EmulatorServer) -> None:
    configure(server, error_rate=1.0, seed=11)
    seen = {}
    for i in range(20):
        response = api(server, "POST", json=body(f"err-{i}"))
        seen[response.status_code] = response.json()["error_code"]
    assert seen == {500: "APIG.0201", 503: "APIG.0202"}
    assert names(server) == []


def test_drop_closes_the_connection_before_doing_anything(server: EmulatorServer) -> None:
    configure(server, drop_rate=1.0)
    with pytest.raises(httpx.TransportError):
        api(server, "POST", json=body("dropped"))
    assert names(server) == []


def test_lost_response_commits_then_hangs_up(server: EmulatorServer) -> None:
    configure(server, lost_response_rate=1.0)
    with pytest.raises(httpx.TransportError):
        api(server, "POST", json=body("committed"))
    assert names(server) == ["committed"]
    stats = control(server, "GET", "stats").json()
    assert stats["faults"]["lost_response"] == 1 and stats["registries"] == 1


def test_auth_is_checked_before_faults(server: EmulatorServer) -> None:
    configure(server, drop_rate=1.0)
    response = api(server, "GET", token="wrong-token")
    assert response.status_code == 401
    assert response.json()["error_code"] == "APIG.0301"


def test_latency_overlaps_across_concurrent_requests(server: EmulatorServer) -> None:
    configure(server, latency_ms=400)
    durations: list[float] = []
    lock = threading.Lock()

    def one() -> None:
        began = time.monotonic()
        assert api(server, "GET").status_code == 200
        with lock:
            durations.append(time.monotonic() - began)

    began = time.monotonic()
    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = time.monotonic() - began
    assert len(durations) == 8 and min(durations) >= 0.4  # each one waited
    assert total < 1.6, f"8 x 400 ms took {total:.2f}s: requests were served one at a time"
    assert control(server, "GET", "stats").json()["max_in_flight"] >= 4


def test_same_seed_gives_the_same_answers_on_the_wire() -> None:
    def statuses() -> list[int | str]:
        config = EmulatorConfig(tokens={TOKEN}, seed=5, throttle_rate=0.3, error_rate=0.3,
                                drop_rate=0.2)
        with EmulatorServer(config) as running:
            seen: list[int | str] = []
            for _ in range(30):
                try:
                    seen.append(api(running, "GET").status_code)
                except httpx.TransportError:
                    seen.append("drop")
            return seen

    first = statuses()
    assert first == statuses()
    assert {200, 429, "drop"} <= set(first) and {500, 503} & set(first)


# -- the control endpoint -----------------------------------------------------------------


def test_control_endpoint_reads_changes_and_resets_settings(server: EmulatorServer) -> None:
    before = control(server, "GET", "config").json()
    assert before["error_rate"] == 0.0 and before["retry_after_seconds"] == 1
    changed = configure(server, error_rate=0.25, latency_ms=5, seed=9)
    assert (changed["error_rate"], changed["latency_ms"], changed["seed"]) == (0.25, 5, 9)
    assert control(server, "GET", "config").json() == changed
    assert api(server, "POST", json=body("kept")).status_code in (200, 500, 503)
    assert control(server, "POST", "reset").json() == {"reset": True}
    assert control(server, "GET", "config").json() == before
    assert control(server, "GET", "stats").json()["registries"] == 0


@pytest.mark.parametrize(
    ("settings", "message"),
    [({"error_rate": 1.5}, "error_rate: must be between 0 and 1"),
     ({"drop_rate": "high"}, "drop_rate: must be a number"),
     ({"retry_after_seconds": -1}, "retry_after_seconds: must be >= 0"),
     ({"tokens": ["x"]}, "tokens: not a runtime setting")],
)
def test_control_endpoint_refuses_bad_settings(
    server: EmulatorServer, settings: dict[str, Any], message: str
) -> None:
    response = control(server, "POST", "config", json=settings)
    assert response.status_code == 400
    assert response.json() == {"error_code": "EMULATOR.0400", "error_msg": message}
    assert control(server, "GET", "config").json()["error_rate"] == 0.0


def test_control_endpoint_is_never_faulted_and_counts_faults(server: EmulatorServer) -> None:
    configure(server, drop_rate=1.0, latency_ms=2000)
    began = time.monotonic()
    stats = control(server, "GET", "stats")
    assert stats.status_code == 200 and time.monotonic() - began < 1.0
    configure(server, drop_rate=0.0, latency_ms=0, throttle_rate=1.0)
    for _ in range(3):
        api(server, "GET")
    snapshot = control(server, "GET", "stats").json()
    assert snapshot["faults"] == {"throttle": 3}
    assert snapshot["responses"] == {"429": 3}


# -- the command-line flags --------------------------------------------------------------


def test_fault_flags_reach_the_config() -> None:
    args = build_parser("emulator").parse_args([
        "emulator", "--latency-ms", "20", "--error-rate", "0.1", "--throttle-rate", "0.2",
        "--drop-rate", "0.05", "--lost-response-rate", "0.15", "--retry-after", "0", "--seed", "42",
        "--token", "t",
    ])
    config = config_from_args(args)
    assert (config.latency_ms, config.error_rate, config.throttle_rate, config.drop_rate,
            config.lost_response_rate, config.retry_after_seconds, config.seed) == (
        20, 0.1, 0.2, 0.05, 0.15, 0, 42)


def test_a_rate_out_of_range_on_the_command_line_is_refused() -> None:
    args = build_parser("emulator").parse_args(["emulator", "--throttle-rate", "2"])
    with pytest.raises(ValueError, match="throttle_rate: must be between 0 and 1"):
        config_from_args(args)
