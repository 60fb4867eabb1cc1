"""Issue 15, "Believing the server": what HssClient refuses to take from an HSS answer.

Only a 2xx is success; each call ends by its deadline; an answer is read up to
a size cap; listings stop at total_num or a ceiling; registries are checked
against the documented shape. Each refusal is one line naming the operation
(and the request id when the server sent one). MockTransport for the client's
logic, a real socket (tests/e2e/fakehss.py) where only a socket shows it.
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from reconciler.engine.options import Connection
from reconciler.errors import ApiError
from reconciler.hss import bounds, shapes
from reconciler.hss.client import MAX_LISTED, MAX_PAGES, HssClient
from reconciler.hss.errors import AddOutcomeUnknown
from reconciler.hss.retry import RetryPolicy
from reconciler.schema import load_schema
from reconciler.secrets import Secret
from tests.e2e.fakehss import Raw, drip, serve

ENDPOINT = "https://hss.ap-southeast-1.myhuaweicloud.com"
PROJECT = "proj123"
ONE_ATTEMPT = RetryPolicy(max_attempts=1)
REQUEST_ID = "req-4242"
MIB = 1024 * 1024

Handler = Callable[[httpx.Request], httpx.Response]


class Chunks(httpx.SyncByteStream):
    """A body streamed in chunks, ``pause`` seconds apart; counts what was taken from it."""

    def __init__(self, chunks: Iterator[bytes], pause: float = 0.0) -> None:
        self.chunks = chunks
        self.pause = pause
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            if self.pause:
                time.sleep(self.pause)
            self.sent += len(chunk)
            yield chunk


class Recorder:
    def __init__(self, answer: Handler) -> None:
        self.answer = answer
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(request)

    def client(self, *, retry: RetryPolicy = ONE_ATTEMPT, **limits: Any) -> HssClient:
        http = httpx.Client(transport=httpx.MockTransport(self))
        return HssClient(http, ENDPOINT, PROJECT, retry=retry, **limits)


def page(items: list[dict[str, Any]], total: int | None, status: int = 200) -> httpx.Response:
    body: dict[str, Any] = {"data_list": items}
    if total is not None:
        body["total_num"] = total
    return httpx.Response(status, json=body, headers={"X-Request-Id": REQUEST_ID})


def registries(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [{"id": f"id-{i}", "registry_name": f"reg-{i}"} for i in range(start, start + count)]


def one_line(error: pytest.ExceptionInfo[ApiError]) -> str:
    text = str(error.value)
    assert "\n" not in text
    return text


# -- redirects ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_an_error_naming_the_operation_status_and_request_id(status: int) -> None:
    headers = {"Location": "https://elsewhere.example/steal?password=x", "X-Request-Id": REQUEST_ID}
    recorder = Recorder(lambda request: httpx.Response(status, headers=headers))
    with pytest.raises(ApiError) as raised:
        recorder.client().list_registries()
    text = one_line(raised)
    assert text.startswith(f"HSS ListRegistry failed: HTTP {status}")
    assert "redirect, which is never followed" in text and f"(request id {REQUEST_ID})" in text
    assert "elsewhere" not in text and "password" not in text
    assert len(recorder.requests) == 1


def test_a_redirect_on_add_is_a_plain_error_and_is_sent_once() -> None:
    sleeps: list[float] = []
    recorder = Recorder(lambda request: httpx.Response(302, headers={"Location": "/v6/else"}))
    client = recorder.client(retry=RetryPolicy(sleep=sleeps.append))
    with pytest.raises(ApiError) as raised:
        client.add_registry({"registry_name": "x"})
    assert not isinstance(raised.value, AddOutcomeUnknown)  # nothing was done here
    assert "HSS AddRegistry failed: HTTP 302" in one_line(raised)
    assert len(recorder.requests) == 1 and sleeps == []


# -- the deadline -------------------------------------------------------------------------------


def _dripping(pause: float) -> Handler:
    def answer(request: httpx.Request) -> httpx.Response:
        body = Chunks(iter([b'{"total_num": 0, "data_list": [', *[b" "] * 1000, b"]}"]), pause)
        return httpx.Response(200, headers={"X-Request-Id": REQUEST_ID}, stream=body)

    return answer


def test_a_dripped_body_ends_at_the_deadline_not_at_the_read_timeout() -> None:
    recorder = Recorder(_dripping(0.05))  # 50 s in all, each chunk well inside any read timeout
    started = time.monotonic()
    with pytest.raises(ApiError) as raised:
        recorder.client(request_timeout=0.5).list_registries()
    assert time.monotonic() - started < 3
    assert one_line(raised) == ("HSS ListRegistry failed: HTTP 200: no complete answer within the 0.5 s "
                                f"request deadline (--request-timeout) (request id {REQUEST_ID})")


def test_a_late_answer_is_not_retried() -> None:
    sleeps: list[float] = []
    recorder = Recorder(_dripping(0.05))
    with pytest.raises(ApiError):
        recorder.client(request_timeout=0.3, retry=RetryPolicy(sleep=sleeps.append)).list_registries()
    assert len(recorder.requests) == 1 and sleeps == []


def test_a_late_answer_to_an_add_leaves_its_outcome_unknown() -> None:
    recorder = Recorder(_dripping(0.05))
    with pytest.raises(AddOutcomeUnknown, match="request deadline"):
        recorder.client(request_timeout=0.3).add_registry({"registry_name": "x"})


def test_no_retry_waits_past_the_deadline() -> None:
    sleeps: list[float] = []
    recorder = Recorder(lambda request: httpx.Response(503, headers={"Retry-After": "5"}))
    with pytest.raises(ApiError, match="HTTP 503"):
        recorder.client(request_timeout=2, retry=RetryPolicy(sleep=sleeps.append)).list_registries()
    assert len(recorder.requests) == 1 and sleeps == []


def test_retries_inside_the_deadline_still_happen() -> None:
    answers = iter([httpx.Response(503), page([], 0)])
    sleeps: list[float] = []
    recorder = Recorder(lambda request: next(answers))
    retry = RetryPolicy(sleep=sleeps.append, random=lambda: 0.0)
    assert recorder.client(request_timeout=30, retry=retry).list_registries() == []
    assert len(recorder.requests) == 2


def test_every_phase_timeout_of_a_request_is_cut_to_the_deadline() -> None:
    recorder = Recorder(lambda request: page([], 0))
    recorder.client(request_timeout=2).list_registries()
    timeouts = recorder.requests[0].extensions["timeout"]
    assert set(timeouts) == {"connect", "read", "write", "pool"}
    assert all(0 < value <= 2 for value in timeouts.values())
    assert recorder.requests[0].extensions["trace"] is bounds.trace


def test_dripped_headers_on_a_real_socket_end_at_the_deadline() -> None:
    # No body to check between: only the socket reads, cut by bounds.trace, can stop this.
    with serve() as fake:
        fake.script = lambda method, path: Raw(drip(b"HTTP/1.1 200 OK\r\nX-Pad: " + b"a" * 500, 0.1))
        client = HssClient(httpx.Client(), fake.url, PROJECT, retry=ONE_ATTEMPT, request_timeout=0.5)
        started = time.monotonic()
        with pytest.raises(ApiError) as raised:
            client.list_registries()
        assert time.monotonic() - started < 3
    assert one_line(raised) == ("HSS ListRegistry failed: no complete answer within the 0.5 s request "
                                "deadline (--request-timeout)")


def test_a_dripped_body_on_a_real_socket_names_its_request_id() -> None:
    with serve() as fake:
        body = b'{"total_num": 0, "data_list": []' + b" " * 500 + b"}"
        fake.script = lambda method, path: (200, {"X-Request-Id": REQUEST_ID}, drip(body, 0.1))
        client = HssClient(httpx.Client(), fake.url, PROJECT, retry=ONE_ATTEMPT, request_timeout=0.5)
        with pytest.raises(ApiError, match=f"HTTP 200: no complete answer .* \\(request id {REQUEST_ID}\\)"):
            client.list_registries()


def test_a_header_value_that_is_not_ascii_is_read_not_a_crash() -> None:
    # httpx decodes such a value as Latin-1; rebuilding the answer from the decoded form could not
    # encode it back, and the run ended with exit 3 (UnicodeEncodeError).
    with serve() as fake:
        body = b'{"total_num": 0, "data_list": []}'
        fake.script = lambda method, path: Raw(iter([
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Note: caf\xc3\xa9 \xe9\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body]))
        client = HssClient(httpx.Client(), fake.url, PROJECT, retry=ONE_ATTEMPT, request_timeout=5)
        assert client.list_registries() == []


def test_the_request_timeout_is_per_client_sixty_seconds_unless_set_and_positive() -> None:
    recorder = Recorder(lambda request: page([], 0))
    http = httpx.Client(transport=httpx.MockTransport(recorder), timeout=None)  # phases: the time left
    patient = HssClient(http, ENDPOINT, PROJECT, retry=ONE_ATTEMPT)
    hasty = patient.with_request_timeout(0.2)
    hasty.list_registries()
    patient.list_registries()
    (short, long) = (max(r.extensions["timeout"].values()) for r in recorder.requests)
    assert short <= 0.2 and 59 < long <= 60
    assert bounds.DEFAULT_REQUEST_TIMEOUT == Connection().request_timeout == 60.0
    for wrong in (0, -1, float("nan")):
        with pytest.raises(ValueError):
            patient.with_request_timeout(wrong)


# -- the size cap -------------------------------------------------------------------------------


def _streamed(chunks: Iterator[bytes], **headers: str) -> tuple[Handler, list[Chunks]]:
    made: list[Chunks] = []

    def answer(request: httpx.Request) -> httpx.Response:
        made.append(Chunks(chunks))
        return httpx.Response(200, headers={"X-Request-Id": REQUEST_ID, **headers}, stream=made[-1])

    return answer, made


def _endless() -> Iterator[bytes]:
    yield b'{"total_num": 0, "data_list": ['
    while True:
        yield b" " * 65536


def test_a_streamed_answer_stops_being_read_at_the_cap() -> None:
    answer, made = _streamed(_endless())
    with pytest.raises(ApiError) as raised:
        Recorder(answer).client(max_answer_bytes=MIB).list_registries()
    assert one_line(raised) == ("HSS ListRegistry failed: HTTP 200: the answer is larger than 1 MiB, the "
                                f"most one answer may be (request id {REQUEST_ID})")
    assert made[0].sent <= MIB + 2 * 65536


def test_an_answer_declaring_more_than_the_cap_is_not_read_at_all() -> None:
    answer, made = _streamed(_endless(), **{"Content-Length": str(400 * MIB)})
    with pytest.raises(ApiError, match="larger than 4 MiB"):
        Recorder(answer).client().list_registries()
    assert made[0].sent == 0


def test_a_compressed_answer_is_capped_after_decompression() -> None:
    bomb = gzip.compress(b'{"total_num": 0, "data_list": [' + b" " * (64 * MIB) + b"]}")
    assert len(bomb) < MIB / 4
    answer, _ = _streamed(iter([bomb[i:i + 16384] for i in range(0, len(bomb), 16384)]),
                          **{"Content-Encoding": "gzip"})
    with pytest.raises(ApiError, match="larger than 1 MiB"):
        Recorder(answer).client(max_answer_bytes=MIB).list_registries()


def test_a_small_compressed_answer_is_read() -> None:
    body = gzip.compress(json.dumps({"total_num": 1, "data_list": registries(1)}).encode())
    answer, _ = _streamed(iter([body]), **{"Content-Encoding": "gzip"})
    assert Recorder(answer).client().list_registries() == registries(1)


def test_an_encoding_not_asked_for_is_refused_and_identity_is_asked_for() -> None:
    answer, _ = _streamed(iter([b"\x00" * 10]), **{"Content-Encoding": "br"})
    recorder = Recorder(answer)
    with pytest.raises(ApiError, match="compressed as 'br', which was not asked for"):
        recorder.client().list_registries()
    assert recorder.requests[0].headers["Accept-Encoding"] == "identity"


def test_an_answer_already_in_memory_is_still_held_to_the_cap() -> None:
    recorder = Recorder(lambda request: httpx.Response(200, content=b" " * (MIB + 1)))
    with pytest.raises(ApiError, match="larger than 1 MiB"):
        recorder.client(max_answer_bytes=MIB).list_registries()


def test_an_error_answer_is_held_to_the_cap_too() -> None:
    answer, made = _streamed(_endless())
    with pytest.raises(ApiError, match="larger than 1 MiB"):
        Recorder(lambda request: httpx.Response(500, stream=answer(request).stream)).client(
            max_answer_bytes=MIB).delete_registry("id-1")
    assert made[0].sent <= MIB + 2 * 65536


@pytest.mark.parametrize("status", [200, 400])
def test_json_nested_too_deep_is_a_one_line_error_not_a_crash(status: int) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(ApiError, match=f"HSS ListRegistry .*HTTP {status}"):
        Recorder(lambda request: httpx.Response(status, content=deep)).client().list_registries()


# -- paging -------------------------------------------------------------------------------------


def _paged(total: int | None, size: int, items: list[dict[str, Any]] | None = None) -> Recorder:
    """Pages of at most ``size`` whatever the limit, as HSS's hold at most 100."""
    def answer(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        every = items if items is not None else registries(total or 0)
        return page(every[offset:offset + size], total)

    return Recorder(answer)


def test_short_pages_are_followed_until_total_num() -> None:
    recorder = _paged(250, 100)
    assert recorder.client().list_registries() == registries(250)
    assert [r.url.params["offset"] for r in recorder.requests] == ["0", "100", "200"]


def test_an_empty_page_ends_the_listing_before_total_num() -> None:
    recorder = _paged(300, 100, registries(120))
    assert recorder.client().list_registries() == registries(120)
    assert [r.url.params["offset"] for r in recorder.requests] == ["0", "100", "120"]


def test_a_total_num_above_the_ceiling_is_refused_after_one_request() -> None:
    recorder = Recorder(lambda request: page(registries(200), 1_000_000_000))
    with pytest.raises(ApiError) as raised:
        recorder.client().list_registries()
    assert one_line(raised) == ("HSS ListRegistry returned an invalid answer: HTTP 200, total_num claims "
                                f"1000000000 registries, more than the {MAX_LISTED} a listing may hold "
                                f"(request id {REQUEST_ID})")
    assert len(recorder.requests) == 1


def test_a_listing_takes_at_most_max_pages_requests() -> None:
    recorder = _paged(MAX_LISTED, 1)  # within the ceiling, but one registry a page
    with pytest.raises(ApiError, match=f"{MAX_PAGES} pages hold {MAX_PAGES} of the {MAX_LISTED}"):
        recorder.client().list_registries()
    assert len(recorder.requests) == MAX_PAGES


def test_full_pages_without_total_num_are_bounded_too() -> None:
    recorder = Recorder(lambda request: page(registries(200), None))
    with pytest.raises(ApiError, match="a listing takes at most"):
        recorder.client().list_registries()
    assert len(recorder.requests) == MAX_PAGES


def test_a_page_longer_than_the_limit_is_refused() -> None:
    recorder = Recorder(lambda request: page(registries(201), 201))
    with pytest.raises(ApiError, match="data_list holds 201 registries, more than the 200 asked for"):
        recorder.client().list_registries()


@pytest.mark.parametrize(("total", "problem"), [
    (-1, "total_num is not a whole number"), ("12", "total_num is not a whole number"),
    (True, "total_num is not a whole number"), (2.5, "total_num is not a whole number"),
])
def test_a_total_num_of_the_wrong_type_is_refused(total: Any, problem: str) -> None:
    recorder = Recorder(lambda request: httpx.Response(200, json={"data_list": [], "total_num": total}))
    with pytest.raises(ApiError, match=problem):
        recorder.client().list_registries()


# -- registry items -----------------------------------------------------------------------------


@pytest.mark.parametrize(("item", "problem"), [
    ({"registry_name": "a"}, "'id' is missing"),
    ({"id": "1"}, "'registry_name' is missing"),
    ({"id": None, "registry_name": "a"}, "'id' is missing"),
    ({"id": 7, "registry_name": "a"}, "'id' is a whole number, not a string"),
    ({"id": "", "registry_name": "a"}, "'id' has 0 characters, not 1 to 64"),
    ({"id": "1", "registry_name": "n" * 129}, "'registry_name' has 129 characters, not 1 to 128"),
    ({"id": "1", "registry_name": ["a"]}, "'registry_name' is a list, not a string"),
    ({"id": "1", "registry_name": "a", "registry_addr": {}}, "'registry_addr' is an object, not a string"),
    ({"id": "1", "registry_name": "a", "images_num": "3"}, "'images_num' is a string, not a whole number"),
    ({"id": "1", "registry_name": "a", "images_num": True},
     "'images_num' is true or false, not a whole number"),
    ("id-1", "it is a string, not an object"),
])
def test_a_registry_not_of_the_documented_shape_is_refused(item: Any, problem: str) -> None:
    recorder = Recorder(lambda request: page([*registries(2), item], 3))
    with pytest.raises(ApiError) as raised:
        recorder.client().list_registries()
    assert one_line(raised) == ("HSS ListRegistry returned an invalid answer: HTTP 200, registry 3 of the "
                                f"listing: {problem} (request id {REQUEST_ID})")


def test_a_registry_is_named_by_its_place_in_the_whole_listing() -> None:
    items = [*registries(150), {"registry_name": "no-id"}]
    with pytest.raises(ApiError, match="registry 151 of the listing: 'id' is missing"):
        _paged(151, 100, items).client().list_registries()


def test_null_and_unknown_fields_are_accepted() -> None:
    item = {"id": "1", "registry_name": "a", "namespace": None, "fail_reason": None, "new_field": [1]}
    assert Recorder(lambda request: page([item], 1)).client().list_registries() == [item]


def test_an_upload_command_of_the_wrong_type_is_refused() -> None:
    recorder = Recorder(lambda request: httpx.Response(200, json={"image_command": ["rm -rf"]}))
    with pytest.raises(ApiError, match="ShowImageUploadCommand returned an invalid answer: HTTP 200, "
                                       "'image_command' is a list, not a string"):
        recorder.client().image_upload_command("addr", "ns", "user", Secret("pw-value"))


def _documented_type(schema: dict[str, Any], definition: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if "$ref" in definition:
        definition = schema["$defs"][definition["$ref"].rsplit("/", 1)[1]]
    return definition["type"], definition


def test_the_checked_shapes_are_the_schemas() -> None:
    schema = load_schema("hss-api.schema.json")
    json_type = {str: "string", int: "integer"}
    for name, table in (("RegistryInfo", shapes.REGISTRY_INFO_TYPES),
                        ("ImageUploadCommandResponse", shapes.UPLOAD_COMMAND_TYPES)):
        properties = schema["$defs"][name]["properties"]
        assert set(table) == set(properties), name
        for field, expected in table.items():
            assert _documented_type(schema, properties[field])[0] == json_type[expected], field
    info = schema["$defs"]["RegistryInfo"]
    for field, (shortest, longest) in shapes.IDENTITY_LENGTHS.items():
        assert field in info["required"]
        definition = _documented_type(schema, info["properties"][field])[1]
        assert (definition["minLength"], definition["maxLength"]) == (shortest, longest)
