"""HssClient against httpx.MockTransport: paging, requests sent, error mapping, no leaks."""

from __future__ import annotations

import json
import logging
import re
import socket
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from reconciler.errors import ApiError, ReconcilerError
from reconciler.hss.client import HssClient
from reconciler.hss.credentials import Credentials
from reconciler.hss.errors import RegistryNotFound
from reconciler.hss.retry import RetryPolicy
from reconciler.hss.transport import make_http_client
from reconciler.secrets import Secret

ENDPOINT = "https://hss.ap-southeast-1.myhuaweicloud.com"
PROJECT = "proj123"
BASE = f"/v5/{PROJECT}/image/registries"
PASSWORD = "Harbor-Pa55word!"
ONE_ATTEMPT = RetryPolicy(max_attempts=1)

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport handler that records requests and answers from a script."""

    def __init__(self, answer: Handler | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.answer = answer or (lambda request: httpx.Response(200))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(request)

    def client(self, enterprise_project_id: str = "0") -> HssClient:
        http = httpx.Client(transport=httpx.MockTransport(self))
        # One attempt per call: these tests are about one exchange; test_retry*.py covers retries.
        return HssClient(http, ENDPOINT, PROJECT, enterprise_project_id, retry=ONE_ATTEMPT)


def registries(count: int) -> list[dict[str, Any]]:
    return [{"id": f"id-{i}", "registry_name": f"reg-{i}"} for i in range(count)]


def list_server(items: list[dict[str, Any]], *, with_total: bool = True) -> Handler:
    def answer(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        limit = int(request.url.params["limit"])
        body: dict[str, Any] = {"data_list": items[offset : offset + limit]}
        if with_total:
            body["total_num"] = len(items)
        return httpx.Response(200, json=body)

    return answer


def error(status: int, body: Any = None, **headers: str) -> Handler:
    def answer(request: httpx.Request) -> httpx.Response:
        if isinstance(body, bytes):
            return httpx.Response(status, content=body, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return answer


@pytest.fixture
def debug_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    yield caplog


# -- paging and filters -----------------------------------------------------------


def test_list_follows_offsets_across_three_pages() -> None:
    recorder = Recorder(list_server(registries(450)))
    found = recorder.client().list_registries()
    assert [r["id"] for r in found] == [f"id-{i}" for i in range(450)]
    assert [r.url.params["offset"] for r in recorder.requests] == ["0", "200", "400"]
    assert {r.url.params["limit"] for r in recorder.requests} == {"200"}
    assert {r.url.params["enterprise_project_id"] for r in recorder.requests} == {"0"}
    assert all(r.method == "GET" and r.url.path == BASE for r in recorder.requests)


def test_list_stops_when_total_is_reached_on_a_full_page() -> None:
    recorder = Recorder(list_server(registries(400)))
    assert len(recorder.client().list_registries()) == 400
    assert len(recorder.requests) == 2


def test_list_stops_on_a_short_page_without_total() -> None:
    recorder = Recorder(list_server(registries(201), with_total=False))
    assert len(recorder.client().list_registries()) == 201
    assert len(recorder.requests) == 2


def test_list_of_nothing_is_one_request() -> None:
    recorder = Recorder(lambda request: httpx.Response(200, json={"total_num": 0}))
    assert recorder.client().list_registries() == []
    assert len(recorder.requests) == 1


def test_filters_and_enterprise_project_are_sent() -> None:
    recorder = Recorder(list_server([]))
    client = recorder.client("ep-42")
    client.list_registries(registry_name="harbor", registry_type="Harbor,Jfrog", status="success")
    params = recorder.requests[0].url.params
    assert params["registry_name"] == "harbor"
    assert params["registry_type"] == "Harbor,Jfrog"
    assert params["status"] == "success"
    assert params["enterprise_project_id"] == "ep-42"
    assert recorder.requests[0].headers["X-Project-Id"] == PROJECT


def test_unknown_filter_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match="registry_nmae"):
        Recorder().client().list_registries(registry_nmae="x")


def test_find_registries_keeps_exact_name_matches_only() -> None:
    items = [
        {"id": "1", "registry_name": "harbor"},
        {"id": "2", "registry_name": "harbor-old"},
        {"id": "3", "registry_name": "harbor"},
    ]
    recorder = Recorder(list_server(items))
    assert [r["id"] for r in recorder.client().find_registries("harbor")] == ["1", "3"]
    assert recorder.requests[0].url.params["registry_name"] == "harbor"


def test_list_rejects_an_unreadable_answer() -> None:
    recorder = Recorder(lambda request: httpx.Response(200, text="<html>proxy</html>"))
    with pytest.raises(ApiError, match="ListRegistry returned an unreadable answer: HTTP 200"):
        recorder.client().list_registries()


# -- writes ---------------------------------------------------------------------


def test_add_registry_sends_password_in_json_body_only(debug_log: pytest.LogCaptureFixture) -> None:
    recorder = Recorder()
    body = {
        "registry_name": "harbor",
        "registry_type": "Harbor",
        "registry_password": Secret(PASSWORD),
    }
    recorder.client().add_registry(body)
    (request,) = recorder.requests
    assert request.method == "POST" and request.url.path == BASE
    assert request.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert request.headers["X-Project-Id"] == PROJECT
    assert request.url.params["enterprise_project_id"] == "0"
    assert json.loads(request.content) == {
        "registry_name": "harbor",
        "registry_type": "Harbor",
        "registry_password": PASSWORD,
    }
    assert PASSWORD not in str(request.url)
    assert isinstance(body["registry_password"], Secret)  # the caller's body is untouched
    assert PASSWORD not in debug_log.text


def test_update_and_delete_requests() -> None:
    recorder = Recorder()
    client = recorder.client()
    client.update_registry("id-1", {"protocol": "https", "registry_password": Secret(PASSWORD)})
    client.delete_registry("id 2")
    put, delete = recorder.requests
    assert (put.method, put.url.path) == ("PUT", f"{BASE}/id-1")
    assert json.loads(put.content) == {"protocol": "https", "registry_password": PASSWORD}
    assert (delete.method, delete.url.raw_path.split(b"?")[0]) == (
        "DELETE",
        f"{BASE}/id%202".encode(),
    )
    assert delete.content == b"" and "Content-Type" not in delete.headers
    assert all(r.url.params["enterprise_project_id"] == "0" for r in recorder.requests)


def test_image_upload_command(debug_log: pytest.LogCaptureFixture) -> None:
    answer = {
        "image_command": "docker load xxx",
        "images_download_url": "https://xxx.zip",
        "swr_image_pull_command": "docker pull xxx",
    }
    recorder = Recorder(lambda request: httpx.Response(200, json=answer))
    result = recorder.client().image_upload_command(
        "hub.docker.com", "test", "user", Secret(PASSWORD)
    )
    assert result == answer
    (request,) = recorder.requests
    assert request.url.path == f"{BASE}/image-upload-command"
    assert request.url.params["password"] == PASSWORD
    assert request.url.params["registry_addr"] == "hub.docker.com"
    # The password travels in the query, so the log must show the path only.
    lines = [r.getMessage() for r in debug_log.records]
    assert lines == [
        line
        for line in lines
        if re.fullmatch(rf"HTTP GET {BASE}/image-upload-command -> 200 \(\d+ ms\)", line)
    ]
    assert len(lines) == 1
    assert PASSWORD not in debug_log.text and "password" not in debug_log.text


def test_debug_line_shape(debug_log: pytest.LogCaptureFixture) -> None:
    Recorder().client().update_registry("id-9", {"protocol": "http"})
    (record,) = [r for r in debug_log.records if r.name == "reconciler.hss"]
    assert record.levelno == logging.DEBUG
    assert re.fullmatch(rf"HTTP PUT {BASE}/id-9 -> 200 \(\d+ ms\)", record.getMessage())


def test_httpx_request_log_is_silenced(debug_log: pytest.LogCaptureFixture) -> None:
    # httpx logs the full URL, query and all, at INFO; make_http_client must quiet it.
    logging.getLogger("httpx").setLevel(logging.NOTSET)
    recorder = Recorder(lambda request: httpx.Response(200, json={"image_command": "x"}))
    http = make_http_client(
        Credentials(auth_token=Secret("iam-token-value")), transport=httpx.MockTransport(recorder)
    )
    with http:
        HssClient(http, ENDPOINT, PROJECT).image_upload_command("a", "b", "c", Secret(PASSWORD))
    assert recorder.requests
    assert not [r for r in debug_log.records if r.name.startswith(("httpx", "httpcore"))]
    assert PASSWORD not in debug_log.text


def test_httpx_records_lose_their_query_even_when_turned_back_up(
    debug_log: pytest.LogCaptureFixture,
) -> None:
    recorder = Recorder(lambda request: httpx.Response(200, json={"image_command": "x"}))
    client = recorder.client()  # HssClient quiets httpx whatever client it is given
    logging.getLogger("httpx").setLevel(logging.INFO)
    try:
        client.image_upload_command("a", "b", "c", Secret(PASSWORD))
    finally:
        logging.getLogger("httpx").setLevel(logging.WARNING)
    (httpx_record,) = [r for r in debug_log.records if r.name == "httpx"]
    assert "image-upload-command?(query hidden)" in httpx_record.getMessage()
    assert "Pa55word" not in debug_log.text and "password" not in debug_log.text


# -- errors -------------------------------------------------------------------------


def test_json_error_becomes_one_line() -> None:
    body = {"error_code": "HSS.0001", "error_msg": "registry_name: length must be 1-128"}
    recorder = Recorder(error(400, body, **{"X-Request-Id": "abc123"}))
    with pytest.raises(ApiError) as info:
        recorder.client().add_registry({"registry_name": ""})
    assert str(info.value) == (
        "HSS AddRegistry failed: HTTP 400 HSS.0001: registry_name: length must be 1-128 "
        "(request id abc123)"
    )
    assert (info.value.status, info.value.error_code, info.value.request_id) == (
        400,
        "HSS.0001",
        "abc123",
    )
    assert not isinstance(info.value, RegistryNotFound)


def test_unknown_registry_is_registry_not_found() -> None:
    body = {"error_code": "HSS.0011", "error_msg": "registry not exist", "request_id": "r-7"}
    recorder = Recorder(error(400, body))
    with pytest.raises(RegistryNotFound) as info:
        recorder.client().delete_registry("gone")
    assert str(info.value) == (
        "HSS DeleteRegistry failed: HTTP 400 HSS.0011: registry not exist (request id r-7)"
    )
    assert isinstance(info.value, ApiError)


def test_non_json_error_bodies() -> None:
    html = Recorder(
        error(502, b"<html><body>Bad\nGateway</body></html>", **{"Content-Type": "text/html"})
    )
    with pytest.raises(ApiError) as info:
        html.client().list_registries()
    assert str(info.value) == "HSS ListRegistry failed: HTTP 502 Bad Gateway"
    assert info.value.status == 502 and info.value.error_code is None

    text = Recorder(error(503, b"\n  upstream   connect error\nmore detail\n"))
    with pytest.raises(ApiError) as info:
        text.client().list_registries()
    assert str(info.value) == "HSS ListRegistry failed: HTTP 503: upstream connect error"

    binary = Recorder(error(500, b"\xff\xfe\x00"))
    with pytest.raises(
        ApiError, match=r"^HSS ListRegistry failed: HTTP 500 Internal Server Error$"
    ):
        binary.client().list_registries()


def test_rate_limited() -> None:
    bare = Recorder(error(429, b""))
    with pytest.raises(ApiError) as info:
        bare.client().list_registries()
    assert str(info.value) == (
        "HSS ListRegistry failed: HTTP 429 Too Many Requests (rate limited by the API gateway)"
    )
    assert info.value.status == 429

    gateway = {"error_code": "APIGW.0308", "error_msg": "The request is throttled."}
    with pytest.raises(ApiError) as info:
        Recorder(error(429, gateway)).client().list_registries()
    assert (
        str(info.value) == "HSS ListRegistry failed: HTTP 429 APIGW.0308: The request is throttled."
    )


def test_error_that_echoes_the_password_is_redacted() -> None:
    body = {"error_code": "HSS.0001", "error_msg": f"bad password {PASSWORD}\nfor registry"}
    recorder = Recorder(error(400, body))
    with pytest.raises(ApiError) as info:
        recorder.client().image_upload_command("addr", "ns", "user", Secret(PASSWORD))
    assert PASSWORD not in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), "connection refused"),
        (httpx.ConnectTimeout("timed out"), "connection timed out"),
        (httpx.ReadTimeout("timed out"), "timed out waiting for the response"),
        (httpx.ConnectError("[Errno -2] Name or service not known"), "host name not found"),
        (httpx.RemoteProtocolError("Server disconnected"), "the server closed the connection"),
    ],
)
def test_transport_error_names_host_and_kind_never_the_url(
    exc: httpx.TransportError, kind: str, debug_log: pytest.LogCaptureFixture
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        # Some httpx errors carry the URL in their text; ours must not repeat it.
        raise type(exc)(f"{exc} while requesting {request.url}", request=request)

    with pytest.raises(ApiError) as info:
        Recorder(answer).client().image_upload_command("addr", "ns", "user", Secret(PASSWORD))
    message = str(info.value)
    assert message.startswith(
        "HSS ShowImageUploadCommand failed: cannot reach hss.ap-southeast-1.myhuaweicloud.com:443: "
    )
    assert kind in message
    assert PASSWORD not in message and "?" not in message and "/v5" not in message
    assert info.value.status is None
    assert PASSWORD not in debug_log.text


def test_real_connection_refused_on_loopback() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with httpx.Client(timeout=2) as http:
        client = HssClient(http, f"http://127.0.0.1:{port}", PROJECT, retry=ONE_ATTEMPT)
        with pytest.raises(ApiError) as info:
            client.image_upload_command("addr", "ns", "user", Secret(PASSWORD))
    assert str(info.value) == (
        f"HSS ShowImageUploadCommand failed: cannot reach 127.0.0.1:{port}: connection refused"
    )


@pytest.mark.parametrize(
    "endpoint", ["hss.example.com", "ftp://h", "https://h?x=1", "http://", "https://h:abc", ""]
)
def test_bad_endpoint_is_refused(endpoint: str) -> None:
    http = httpx.Client(transport=httpx.MockTransport(Recorder()))
    with pytest.raises(ReconcilerError):
        HssClient(http, endpoint, PROJECT)
