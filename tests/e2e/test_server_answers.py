"""Issue 15, "Believing the server": the CLI against an HSS that lies (tests/e2e/fakehss.py).

A redirect, a drip, a huge body, an endless listing, a registry without an id:
each ends the run with exit 1 and one error line naming the HSS operation (and
the request id when the server sent one), and no registry is touched.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Result, run_cli
from tests.e2e.fakehss import FakeHss, Raw, drip, fake_hss, listing, serve  # noqa: F401  (a fixture)
from tests.e2e.workspaces import PASSWORD, PASSWORD_ENV, PROJECT, TARGET, registry, write_workspace

REQUEST_ID = "fake-request-1"
MIB = 1024 * 1024


def _env(fake: FakeHss) -> dict[str, str]:
    env = {"HSS_ENDPOINT": fake.url, "HSS_AUTH_TOKEN": "t", PASSWORD_ENV: PASSWORD, "PATH": "/usr/bin"}
    return env | {name: os.environ[name] for name in ("PYTHONPATH",) if name in os.environ}


def _workspace(tmp_path: Path) -> Path:
    return write_workspace(tmp_path / "ws", [registry("alpha"), registry("beta")])


def _refused(result: Result, *expected: str) -> str:
    """Exit 1, no traceback, and the one error line, which holds each of ``expected``."""
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert result.code == 1, result.output
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.output
    for text in expected:
        assert text in errors[0], errors[0]
    return errors[0]


def _live(name: str, registry_id: str) -> dict[str, Any]:
    item = registry(name)
    item.pop("registry_password")
    return {**item, "id": registry_id, "status": "success"}


# -- 1. a redirect is an error, never followed --------------------------------------------------


def test_a_redirected_listing_stops_the_run_and_is_not_followed(fake_hss: FakeHss, tmp_path: Path) -> None:  # noqa: F811
    with serve() as elsewhere:
        location = f"{elsewhere.url}/v5/{PROJECT}/image/registries?offset=0"
        fake_hss.script = lambda method, path: (302, {"Location": location, "X-Request-Id": REQUEST_ID}, b"")
        result = run_cli("apply", str(_workspace(tmp_path)), "--auto-approve", env=_env(fake_hss))
        line = _refused(result, "HSS ListRegistry failed: HTTP 302", "redirect, which is never followed",
                        f"(request id {REQUEST_ID})")
        assert elsewhere.url not in line
        assert elsewhere.requests == []
    assert fake_hss.writes == []


def test_a_redirected_add_is_an_error_and_records_nothing(fake_hss: FakeHss, tmp_path: Path) -> None:  # noqa: F811
    # Before issue 15: "Apply complete! 2 added", nothing created, and "id": null in the state.
    ws = write_workspace(tmp_path / "ws", [registry("alpha")])
    with serve() as elsewhere:
        def script(method: str, path: str) -> Any:
            if method == "POST":
                return 307, {"Location": f"{elsewhere.url}/steal", "X-Request-Id": REQUEST_ID}, b""
            return None  # an empty listing

        fake_hss.script = script
        result = run_cli("apply", str(ws), "--auto-approve", env=_env(fake_hss))
        assert result.code == 1, result.output
        assert "Apply complete" not in result.stdout
        assert (f"{TARGET}/alpha: HSS AddRegistry failed: HTTP 307 Temporary Redirect: a redirect, which is "
                f"never followed") in result.stderr
        assert f"(request id {REQUEST_ID})" in result.stderr
        assert elsewhere.requests == []  # the signed request never went to the Location
    assert [method for method, _ in fake_hss.writes] == ["POST"]  # sent once, not retried
    state = ws / "hss-reconciler.state.json"
    assert not state.exists() or json.loads(state.read_text())["registries"] == []


# -- 2. a deadline for each call ----------------------------------------------------------------


def _timed(*args: str, env: dict[str, str]) -> tuple[Result, float]:
    started = time.monotonic()
    result = run_cli(*args, env=env, timeout=60)
    return result, time.monotonic() - started


def test_a_dripping_body_does_not_hold_plan_past_the_deadline(fake_hss: FakeHss, tmp_path: Path) -> None:  # noqa: F811
    body = b'{"total_num": 0, "data_list": []' + b" " * 1000 + b"}"  # 250 s at 4 bytes a second
    fake_hss.script = lambda method, path: (200, {"X-Request-Id": REQUEST_ID}, drip(body, 0.25))
    result, took = _timed("plan", str(_workspace(tmp_path)), "--request-timeout", "1s", env=_env(fake_hss))
    _refused(result, "HSS ListRegistry failed: HTTP 200: no complete answer within the 1 s request deadline "
                     f"(--request-timeout) (request id {REQUEST_ID})")
    assert took < 10, took
    assert len(fake_hss.requests) == 1  # not retried


def test_dripping_headers_do_not_hold_apply_past_the_deadline(fake_hss: FakeHss, tmp_path: Path) -> None:  # noqa: F811
    head = b"HTTP/1.1 200 OK\r\nX-Request-Id: " + b"x" * 1000 + b"\r\n\r\n"
    fake_hss.script = lambda method, path: Raw(drip(head, 0.25))
    ws = _workspace(tmp_path)
    result, took = _timed("apply", str(ws), "--auto-approve", "--request-timeout", "1s", env=_env(fake_hss))
    _refused(result, "HSS ListRegistry failed: no complete answer within the 1 s request deadline")
    assert took < 10, took
    assert fake_hss.writes == []


@pytest.mark.parametrize("value", ["0", "0s", "-1s", "soon", "8d"])
def test_a_request_timeout_not_a_positive_duration_is_a_usage_error(value: str, tmp_path: Path) -> None:
    result = run_cli("plan", str(_workspace(tmp_path)), f"--request-timeout={value}",
                     env={"PATH": "/usr/bin"})
    _refused(result, "--request-timeout")


# -- 3. a cap on the size of an answer ----------------------------------------------------------


def test_a_400_mb_answer_is_read_only_up_to_the_cap(fake_hss: FakeHss, tmp_path: Path) -> None:  # noqa: F811
    produced = [0]

    def endless() -> Iterator[bytes]:
        yield b'{"total_num": 0, "data_list": ['
        for _ in range(400 * 16):  # 400 MB, 64 KiB at a time, no Content-Length
            produced[0] += 65536
            yield b" " * 65536
        yield b"]}"

    fake_hss.script = lambda method, path: (200, {"X-Request-Id": REQUEST_ID}, endless())
    result = run_cli("apply", str(_workspace(tmp_path)), "--auto-approve", env=_env(fake_hss))
    _refused(result, "HSS ListRegistry failed: HTTP 200: the answer is larger than 4 MiB, the most one "
                     f"answer may be (request id {REQUEST_ID})")
    assert produced[0] < 64 * MIB  # the client hung up; socket buffers hold the rest
    assert fake_hss.writes == []


def test_an_answer_declaring_400_mb_is_refused_unread(fake_hss: FakeHss, tmp_path: Path) -> None:  # noqa: F811
    produced = [0]

    def endless() -> Iterator[bytes]:
        for _ in range(400 * 16):
            produced[0] += 65536
            yield b" " * 65536

    headers = {"X-Request-Id": REQUEST_ID, "Content-Length": str(400 * MIB)}
    fake_hss.script = lambda method, path: (200, headers, endless())
    result = run_cli("plan", str(_workspace(tmp_path)), env=_env(fake_hss))
    _refused(result, "HSS ListRegistry failed: HTTP 200: the answer is larger than 4 MiB")
    assert produced[0] < 64 * MIB


# -- 4. paging to total_num, within a ceiling ---------------------------------------------------


def test_a_billion_registries_claimed_is_refused_after_one_request(fake_hss: FakeHss, tmp_path: Path) -> None:  # noqa: F811
    # Before issue 15: 10,001 requests, 200 registries a page.
    full = [_live(f"reg-{i}", f"id-{i}") for i in range(200)]
    fake_hss.script = lambda method, path: listing(full, total=1_000_000_000)
    result = run_cli("apply", str(_workspace(tmp_path)), "--auto-approve", env=_env(fake_hss))
    _refused(result, "HSS ListRegistry returned an invalid answer: HTTP 200, total_num claims 1000000000 "
                     f"registries, more than the 10000 a listing may hold (request id {REQUEST_ID})")
    assert len(fake_hss.requests) == 1
    assert fake_hss.writes == []


def _pages_of_100(items: list[dict[str, Any]], total: int) -> Any:
    """HSS's pages: at most 100 registries, although ``limit`` asks for 200."""
    def script(method: str, path: str) -> Any:
        offset = int(path.split("offset=")[1].split("&")[0])
        return listing(items[offset:offset + 100], total=total)

    return script


@pytest.mark.parametrize(("listed", "total"), [(150, 150), (100, 300)],
                         ids=["short-pages-followed-to-total-num", "an-empty-page-ends-the-listing"])
def test_pages_are_read_while_below_total_num_until_an_empty_page(
        listed: int, total: int, fake_hss: FakeHss, tmp_path: Path) -> None:  # noqa: F811
    fake_hss.script = _pages_of_100([_live(f"reg-{i}", f"id-{i}") for i in range(listed)], total)
    result = run_cli("plan", str(_workspace(tmp_path)), env=_env(fake_hss))
    assert result.code == 0, result.output
    assert f"{listed} registries in HSS not managed by hss-reconciler" in result.stdout
    assert len(fake_hss.requests) == 2


# -- 5. registries of the documented shape ------------------------------------------------------


@pytest.mark.parametrize(("change", "problem"), [
    ({"id": None}, "'id' is missing"),
    ({"registry_name": None}, "'registry_name' is missing"),
    ({"id": 42}, "'id' is a whole number, not a string"),
    ({"registry_addr": ["a", "b"]}, "'registry_addr' is a list, not a string"),
    ({"status": {"nested": True}}, "'status' is an object, not a string"),
])
def test_a_registry_not_of_the_documented_shape_stops_the_run(
        change: dict[str, Any], problem: str, fake_hss: FakeHss, tmp_path: Path) -> None:  # noqa: F811
    # Before issue 15, a registry without an id or name was planned against (exit 0, or exit 3).
    item = {key: value for key, value in {**_live("alpha", "id-a"), **change}.items() if value is not None}
    fake_hss.script = lambda method, path: listing([_live("beta", "id-b"), item])
    result = run_cli("apply", str(_workspace(tmp_path)), "--auto-approve", env=_env(fake_hss))
    _refused(result, f"HSS ListRegistry returned an invalid answer: HTTP 200, registry 2 of the listing: "
                     f"{problem} (request id {REQUEST_ID})")
    assert fake_hss.writes == []
