"""HTTP plumbing: read a request, authenticate, inject faults, answer JSON.

Each request runs on its own thread (``ThreadingHTTPServer``), so injected
latencies overlap the way a real service's do. HTTP/1.1 keep-alive is on, as
clients pool connections. Order of checks, as in APIG then HSS: route (404),
auth (401), latency and faults, then the operation's own validation (400).
The access log names method, path and status only: a query string can carry a
password (ShowImageUploadCommand), and headers carry tokens.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import socketserver
import time
import uuid
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from reconciler.emulator import api, control, routes, vending
from reconciler.emulator.app import EmulatorApp
from reconciler.emulator.auth import ReceivedRequest
from reconciler.emulator.errors import API_NOT_FOUND, BAD_REQUEST, INTERNAL_ERROR, ApiFailure
from reconciler.emulator.faults import Fault

logger = logging.getLogger("reconciler.emulator")

MAX_BODY_BYTES = 1 << 20



def decode_query(raw: str) -> list[tuple[str, str]]:
    """The query's pairs as APIG reads them: RFC 3986 percent-decoding, `+` kept literal.

    Huawei's APIG signing demo verifies with `unquote`, not form decoding, so a
    client that sends a space as `+` while signing `%20` fails there. Form
    decoding (`parse_qsl`) would turn that `+` into the space that was signed
    and hide the client's mistake.
    """
    pairs = []
    for part in filter(None, raw.split("&")):
        name, _, value = part.partition("=")
        pairs.append((unquote(name), unquote(value)))
    return pairs


def utf8_headers(received: Message) -> dict[str, str]:
    """Header values as APIG reads them: UTF-8.

    http.server decodes header bytes as Latin-1, so a value the SDK signed as
    UTF-8 text (a non-ASCII X-Project-Id) arrived as mojibake and its valid
    signature failed. Latin-1 gives the raw bytes back one for one; bytes that
    are not UTF-8 become U+FFFD, and a signature over them fails, as at APIG.
    """
    return {name: value.encode("latin-1").decode("utf-8", "replace") for name, value in received.items()}

class HttpServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that carries the emulator state for its handlers."""

    daemon_threads = True
    request_queue_size = 128  # socketserver's default backlog of 5 resets clients under load

    def __init__(self, address: tuple[str, int], app: EmulatorApp) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.app = app
        super().__init__(address, Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can stall for
        # seconds without DNS; the emulator never needs the name.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.app.stats.connection()  # one per accepted connection, however many requests it carries
        super().process_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-answer is normal under fault injection;
        # the default prints a traceback to stderr.
        logger.debug("connection error", exc_info=True)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hss-emulator"
    sys_version = ""
    timeout = 60  # idle keep-alive connections are closed after this
    # Headers and body leave in two writes; with Nagle's algorithm on, the body
    # waits for the client's delayed ACK, adding ~40 ms to every answer.
    disable_nagle_algorithm = True

    request_id = ""
    counted = False  # only HSS API answers go into the response counters

    @property
    def app(self) -> EmulatorApp:
        assert isinstance(self.server, HttpServer)
        return self.server.app

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def _handle(self) -> None:
        self.request_id = uuid.uuid4().hex
        self.counted = False
        raw_path, _, raw_query = self.path.partition("?")
        try:
            body = self._read_body()
            if raw_path == control.PREFIX or raw_path.startswith(control.PREFIX + "/"):
                status, payload = control.handle(self.app, self.command, raw_path, body)
                self._send(status, payload)
            elif vending.handles(raw_path):  # IAM, metadata, pod identity: other services, own checks
                answer = vending.handle(self.app, self.command, raw_path, dict(self.headers.items()), body)
                self._send(answer.status, answer.body, answer.headers, answer.content_type)
            else:
                self._serve_api(raw_path, raw_query, body)
        except ApiFailure as failure:
            self._send(failure.status, failure.body(), failure.headers)
        except (BrokenPipeError, ConnectionResetError):
            # The client went away (killed, timed out) before the answer: normal, not a bug.
            self.close_connection = True
            logger.debug("client gone before the answer to %s %s", self.command, raw_path)
        except Exception:
            logger.exception("emulator bug while serving %s %s", self.command, raw_path)
            self._send(500, {"error_code": INTERNAL_ERROR, "error_msg": "emulator internal error"})

    def _serve_api(self, raw_path: str, raw_query: str, body: bytes) -> None:
        route = routes.match(self.command, raw_path)
        if route is None:
            raise ApiFailure(
                404, API_NOT_FOUND, "The API does not exist or has not been published in the environment"
            )
        app = self.app
        self.counted = True
        request = ReceivedRequest(
            self.command, raw_path, decode_query(raw_query), utf8_headers(self.headers), body,
        )
        with app.stats.in_flight(route.operation):
            config = app.config
            app.auth.check(request, config)
            app.throttle(request, config)
            if config.latency_ms:
                time.sleep(config.latency_ms / 1000)
            decision = app.faults.decide(config)
            if decision.fault is not Fault.NONE:
                app.stats.fault(decision.fault.value)
            if decision.fault is Fault.DROP:
                self._drop()
                return
            failure = decision.failure()
            if failure is not None:
                raise failure
            try:
                reply = api.OPERATIONS[route.operation](app, route, request)
            except ApiFailure:
                if decision.fault is not Fault.LOST_RESPONSE:
                    raise
                reply = api.Reply()
            if decision.fault is Fault.LOST_RESPONSE:
                self._drop()  # done, but the client never hears of it
                return
            self._send(reply.status, reply.body)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise self._refuse(411, "chunked request bodies are not supported; send Content-Length")
        length_text = self.headers.get("Content-Length", "0").strip() or "0"
        if not length_text.isdigit():
            raise self._refuse(400, "Content-Length is not a number")
        length = int(length_text)
        if length > MAX_BODY_BYTES:
            raise self._refuse(413, "Request entity too large")
        return self.rfile.read(length) if length else b""

    def _refuse(self, status: int, message: str) -> ApiFailure:
        # The body was not read, so this connection cannot carry another request.
        self.close_connection = True
        return ApiFailure(status, BAD_REQUEST, message, {"Connection": "close"})

    def _send(
        self, status: int, payload: dict[str, Any] | bytes | None, headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> None:
        data = payload if isinstance(payload, bytes) else b"" if payload is None else json.dumps(
            payload).encode("utf-8")
        if self.counted:  # before the client can have the answer, so stats read after it count it
            self.app.stats.status(status)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Request-Id", self.request_id)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        logger.debug("%s %s -> %s", self.command, self.path.partition("?")[0], code)

    def log_error(self, format: str, *args: Any) -> None:
        # The default formats the raw request line, query string included.
        logger.debug("malformed or timed-out request")

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("http.server message suppressed")
