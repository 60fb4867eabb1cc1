"""A small lying HSS on 127.0.0.1: it answers what a test scripts, and records what it was sent.

The emulator follows Huawei's documented behaviour; this one does not, on
purpose: duplicate ids, redirects, endless pages, slow drips. The tool must
survive it without touching a registry. Every request is recorded, so a test
can assert that nothing but reads arrived.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

# handler(method, path) -> (status, headers, body bytes); None falls back to an empty listing
Script = Callable[[str, str], tuple[int, dict[str, str], bytes] | None]


def listing(items: list[dict[str, Any]], total: int | None = None) -> tuple[int, dict[str, str], bytes]:
    body = {"total_num": len(items) if total is None else total, "data_list": items}
    headers = {"Content-Type": "application/json", "X-Request-Id": "fake-request-1"}
    return 200, headers, json.dumps(body).encode()


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
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            fake.requests.append((self.command, self.path))
            status, headers, body = fake.script(self.command, self.path) or listing([])
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def fake_hss() -> Iterator[FakeHss]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    fake = FakeHss(server)
    server.RequestHandlerClass = _handler(fake)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
