"""One HSS exchange within bounds: a deadline for the whole of it, and a cap on the answer's size.

httpx bounds each socket operation (the connect, each read, each write), never
an exchange: a server that sends a byte every two seconds never trips a 30 s
read timeout and holds a run as long as it likes. And ``response.content``
keeps whatever arrives: a 400 MB answer is 400 MB of memory. Here:

- Deadline (:data:`DEFAULT_REQUEST_TIMEOUT`, ``--request-timeout``). While an
  exchange runs, the calling thread's deadline is set, and every socket wait
  of its connection is given the time left, not the full per-read timeout:
  :func:`trace`, the httpcore ``trace`` extension every HSS request carries,
  wraps the network stream of each new connection as it is made (a pooled
  connection keeps its wrapping and serves whichever request uses it next).
  The body is read in chunks, with the deadline checked between them too,
  which alone bounds a dripped body where a stream could not be wrapped.
- Size (:data:`MAX_ANSWER_BYTES`). The body is streamed and reading stops
  once it passes the cap; a Content-Length above it is refused unread. HSS is
  asked for an uncompressed answer; a gzip or deflate one is decompressed
  chunk by chunk and capped after decompression, so a small bomb cannot
  expand past the cap.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx

DEFAULT_REQUEST_TIMEOUT = 60.0  # seconds for one HSS call, its retries included
# A ListRegistry page of 200 registries is about 100 KB (at most ~250 KB with every field at its
# documented maximum length); no documented answer comes near this.
MAX_ANSWER_BYTES = 4 * 1024 * 1024
_PAST_DEADLINE = 0.001  # a socket wait after the deadline: one last look, then the stream's own timeout

_local = threading.local()


class AnswerRefused(Exception):
    """The answer was not read: past the deadline, over the size cap, or in an encoding not asked for.

    ``response`` carries the status and headers when they had arrived (its body is not read).
    """

    def __init__(self, reason: str, response: httpx.Response | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.response = response


def _time_left() -> float | None:
    until: float | None = getattr(_local, "until", None)
    return None if until is None else until - time.monotonic()


def _clip(timeout: float | None) -> float | None:
    """``timeout`` shortened to the time left before this thread's deadline, if one is set."""
    left = _time_left()
    if left is None:
        return timeout
    left = max(left, _PAST_DEADLINE)
    return left if timeout is None else min(timeout, left)


@contextmanager
def deadline(until: float) -> Iterator[None]:
    """Socket waits of this thread's exchanges end by ``until`` (``time.monotonic()``)."""
    previous = getattr(_local, "until", None)
    _local.until = until
    try:
        yield
    finally:
        _local.until = previous


def _bound_stream(stream: Any) -> None:
    """Give the stream's reads, writes and TLS handshake no more than the time left."""
    if getattr(stream, "_hss_bounded", False):
        return
    read, write, start_tls = stream.read, stream.write, stream.start_tls

    def bounded_read(max_bytes: int, timeout: float | None = None) -> Any:
        return read(max_bytes, _clip(timeout))

    def bounded_write(buffer: bytes, timeout: float | None = None) -> Any:
        return write(buffer, _clip(timeout))

    def bounded_start_tls(ssl_context: Any, server_hostname: str | None = None,
                          timeout: float | None = None) -> Any:
        return start_tls(ssl_context, server_hostname, _clip(timeout))

    try:
        stream.read, stream.write, stream.start_tls = bounded_read, bounded_write, bounded_start_tls
        stream._hss_bounded = True
    except AttributeError:  # a stream that takes no attributes: the checks between chunks remain
        pass


def trace(event: str, info: dict[str, Any]) -> None:
    """httpcore's ``trace`` extension: bound each connection's stream as it is made (see above)."""
    if event.endswith((".connect_tcp.complete", ".start_tls.complete")):
        stream = info.get("return_value")
        if stream is not None and all(hasattr(stream, name) for name in ("read", "write", "start_tls")):
            _bound_stream(stream)


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):g} MiB"


def _decoder(response: httpx.Response) -> Callable[[bytes, int], bytes]:
    """``decode(chunk, room)``: the chunk decompressed, at most ``room`` bytes of it plus one.

    ``b""`` as the chunk flushes what the decompressor still holds.
    """
    encoding = response.headers.get("Content-Encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return lambda chunk, room: chunk
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise AnswerRefused(f"the answer is compressed as {encoding[:40]!r}, which was not asked for",
                            response)
    inflater = zlib.decompressobj(wbits=47)  # 32 + 15: a gzip or a zlib header, whichever it is

    def decode(chunk: bytes, room: int) -> bytes:
        try:
            return inflater.decompress(chunk, room + 1) if chunk else inflater.flush(room + 1)
        except zlib.error:
            raise AnswerRefused(f"the {encoding} answer does not decompress", response) from None

    return decode


def _read_body(response: httpx.Response, until: float, max_bytes: int, late: str) -> bytes:
    too_large = f"the answer is larger than {_mib(max_bytes)}, the most one answer may be"
    declared = response.headers.get("Content-Length", "").strip()
    if declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > max_bytes):
        raise AnswerRefused(too_large, response)
    if response.is_stream_consumed:  # read whole by the transport already (a test's MockTransport)
        if len(response.content) > max_bytes:
            raise AnswerRefused(too_large, response)
        return response.content
    decode = _decoder(response)
    parts: list[bytes] = []
    size = 0
    for chunk in _with_flush(response.iter_raw()):
        if time.monotonic() > until:
            raise AnswerRefused(late, response)
        data = decode(chunk, max_bytes - size)
        size += len(data)
        if size > max_bytes:
            raise AnswerRefused(too_large, response)
        parts.append(data)
    return b"".join(parts)


def _with_flush(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The raw chunks, without empty ones, then one ``b""`` that asks the decoder to flush."""
    for chunk in chunks:
        if chunk:
            yield chunk
    yield b""


def exchange(http: httpx.Client, request: httpx.Request, *, until: float,
             max_bytes: int = MAX_ANSWER_BYTES, late: str = "the answer was late") -> httpx.Response:
    """Send ``request`` and read its whole answer, by ``until`` and in at most ``max_bytes``.

    The response returned has its (decompressed) body in memory, so ``.content``
    and ``.json()`` work on it. Raises what ``http.send`` raises (httpx.TransportError,
    a timeout when a socket wait reached the deadline) and :class:`AnswerRefused`,
    whose reason is ``late`` when the deadline passed while the body came.

    Every caller (HSS, the credential services, the S3 state) gets the same
    bounds from here: each phase of ``http``'s timeout cut to the time left, and
    :func:`trace` on the request, so that each socket wait is cut as it comes.
    """
    left = max(until - time.monotonic(), _PAST_DEADLINE)
    request.extensions["timeout"] = {phase: left if limit is None else min(limit, left)
                                     for phase, limit in http.timeout.as_dict().items()}
    request.extensions["trace"] = trace
    with deadline(until):
        response = http.send(request, stream=True)
        try:
            body = _read_body(response, until, max_bytes, late)
        except httpx.TimeoutException:
            if time.monotonic() < until:
                raise  # a read timeout of its own, before the deadline
            raise AnswerRefused(late, response) from None
        finally:
            response.close()
    # The raw bytes: a header value that is not ASCII (httpx decodes it as Latin-1) cannot be
    # encoded back from the decoded form, which crashed the run (exit 3) on such an answer.
    headers = [(name, value) for name, value in response.headers.raw
               if name.lower() not in (b"content-encoding", b"content-length", b"transfer-encoding")]
    extensions: dict[str, Any] = {key: response.extensions[key] for key in ("http_version", "reason_phrase")
                                  if key in response.extensions}
    return httpx.Response(response.status_code, headers=headers, content=body, request=request,
                          extensions=extensions)
