"""A small lying HSS on 127.0.0.1: it answers what a test scripts, and records what it was sent.

The emulator follows Huawei's documented behaviour; this one does not, on
purpose: duplicate ids, redirects, endless pages, slow drips, huge bodies. The
tool must survive it without touching a registry. Every request is recorded,
so a test can assert that nothing but reads arrived.

A script answers ``(status, headers, body)``: ``body`` is bytes (sent with its
Content-Length unless the headers give one), or an iterable of byte chunks,
each written and flushed as it comes (no Content-Length unless the headers
give one: the answer ends when the connection closes). :class:`Raw` writes its
chunks as they are, status line and headers included. :func:`drip` makes any
of them slow.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass(frozen=True)
class Raw:
    """Bytes written verbatim, status line and headers included: a server that breaks HTTP itself."""

    chunks: Iterable[bytes]


Body = bytes | Iterable[bytes]
# handler(method, path) -> (status, headers, body) or Raw; None falls back to an empty listing
Script = Callable[[str, str], tuple[int, dict[str, str], Body] | Raw | None]


def listing(items: list[dict[str, Any]], total: int | None = None) -> tuple[int, dict[str, str], bytes]:
    body = {"total_num": len(items) if total is None else total, "data_list": items}
    headers = {"Content-Type": "application/json", "X-Request-Id": "fake-request-1"}
    return 200, headers, json.dumps(body).encode()


def drip(data: bytes, every: float) -> Iterator[bytes]:
    """``data`` one byte at a time, ``every`` seconds apart."""
    for index in range(len(data)):
        if index:
            time.sleep(every)
        yield data[index : index + 1]


@dataclass
class FakeHss:
    server: ThreadingHTTPServer
    requests: list[tuple[str, str]] = field(default_factory=list)
    script: Script = lambda method, path: None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def writes(self) -> list[tuple[str, str]]:
        """Every request that could change a registry (all but GET)."""
        return [(method, path) for method, path in self.requests if method != "GET"]


def _handler(fake: FakeHss) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _write(self, chunks: Iterable[bytes]) -> None:
            try:
                for chunk in chunks:
                    self.wfile.write(chunk)
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up on the answer: what some tests want
            self.close_connection = True

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            fake.requests.append((self.command, self.path))
            answer = fake.script(self.command, self.path) or listing([])
            if isinstance(answer, Raw):
                self._write(answer.chunks)
                return
            status, headers, body = answer
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            given = any(name.lower() == "content-length" for name in headers)
            if isinstance(body, bytes) and not given:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self._write([body] if isinstance(body, bytes) else body)

        do_GET = do_POST = do_PUT = do_DELETE = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def serve() -> Iterator[FakeHss]:
    """A FakeHss running until the block ends (the fixture's; a test may want a second one)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    fake = FakeHss(server)
    server.RequestHandlerClass = _handler(fake)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def fake_hss() -> Iterator[FakeHss]:
    with serve() as fake:
        yield fake
