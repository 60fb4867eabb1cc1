"""Real shared-state servers on 127.0.0.1 for the tests (issue 18), each started once per module.

- S3: moto's server (moto[server]), which honours If-Match and If-None-Match, with versioning on.
- PostgreSQL: the server binaries pgserver's wheel ships, run directly (initdb + postgres on a free
  port). PostgreSQL refuses to run as root, and CI runs as root: then the data directory is made in
  a fresh temporary directory owned by `nobody` and the server runs as that user.
- A store that ignores conditional writes: a small proxy in front of moto that strips If-Match and
  If-None-Match, as an OBS-like store behaves.
"""

from __future__ import annotations

import contextlib
import http.client
import http.server
import importlib.util
import json
import os
import pwd
import shutil
import socket
import stat
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

S3_KEYS = {"AWS_ACCESS_KEY_ID": "AKIDTESTSTATE", "AWS_SECRET_ACCESS_KEY": "test-secret-not-real"}


@dataclass
class S3:
    endpoint: str

    def url(self, key: str, *, endpoint: str | None = None, extra: str = "") -> str:
        return f"s3://{BUCKET}/{key}?endpoint={endpoint or self.endpoint}&region=us-east-1{extra}"

    def client(self):  # type: ignore[no-untyped-def]
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=S3_KEYS["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=S3_KEYS["AWS_SECRET_ACCESS_KEY"])

    def serials(self, key: str) -> list[int]:
        """The serial of every stored version of the state `key`, oldest first."""
        client = self.client()
        versions = client.list_object_versions(Bucket=BUCKET, Prefix=key)["Versions"]
        # Listed newest first (LastModified has whole seconds only, too coarse to sort by).
        chronological = [v for v in reversed(versions) if v["Key"] == key]
        return [json.loads(client.get_object(Bucket=BUCKET, Key=key, VersionId=v["VersionId"])["Body"].read())
                ["serial"] for v in chronological]


BUCKET = "hss-state"


@contextlib.contextmanager
def moto_s3() -> Iterator[S3]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        s3 = S3(f"http://{host}:{port}")
        client = s3.client()
        client.create_bucket(Bucket=BUCKET)
        client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        yield s3
    finally:
        server.stop()


class ForwardingHandler(http.server.BaseHTTPRequestHandler):
    """Forwards every request to `upstream`, less the headers named in `dropped`, unless `refusal`
    answers it first (with 403 and an S3 error document)."""

    upstream: tuple[str, int] = ("127.0.0.1", 0)
    dropped: tuple[str, ...] = ()
    protocol_version = "HTTP/1.1"

    def refusal(self, body: bytes) -> bytes | None:
        return None

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        refused = self.refusal(body or b"")
        if refused is not None:
            self._answer(403, [("Content-Type", "application/xml")], refused)
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in self.dropped}
        conn = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            answer = conn.getresponse()
            data = answer.read()
        finally:
            conn.close()
        self._answer(answer.status, answer.getheaders(), data)

    def _answer(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_DELETE = do_HEAD = do_POST = _forward

    def log_message(self, format: str, *args: object) -> None:
        pass


class _StripHandler(ForwardingHandler):
    """invented: a stand-in for a store whose PutObject documents plain overwrite."""

    dropped = ("if-match", "if-none-match")


@contextlib.contextmanager
def forwarding_proxy(upstream: str, handler: type[ForwardingHandler], **attributes: object) -> Iterator[str]:
    """A proxy on 127.0.0.1 in front of `upstream`, answering through a subclass of `handler`."""
    host, _, port = upstream.removeprefix("http://").partition(":")
    bound = type("Handler", (handler,), {"upstream": (host, int(port)), **attributes})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), bound)
    # A short poll: shutdown() waits for it, and the default half second was each test's teardown.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def stripping_proxy(upstream: str) -> Iterator[str]:
    with forwarding_proxy(upstream, _StripHandler) as url:
        yield url


class _Misbehaving(ForwardingHandler):
    """invented: a hostile or broken store. `misbehave(handler)` answers a request itself (True) or
    lets it through to the real store (False)."""

    def misbehave(self) -> bool:
        return False

    def _route(self) -> None:
        if not self.misbehave():
            self._forward()

    do_GET = do_PUT = do_DELETE = do_HEAD = do_POST = _route


@contextlib.contextmanager
def misbehaving_proxy(upstream: str, misbehave: Callable[[ForwardingHandler], bool]) -> Iterator[str]:
    with forwarding_proxy(upstream, _Misbehaving, misbehave=misbehave) as url:
        yield url


class TcpProxy:
    """A TCP relay on 127.0.0.1 that can go silent: `freeze()` keeps every connection open but passes
    nothing more either way, as a hung server or a network that drops packets would."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.frozen = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def freeze(self) -> None:
        self.frozen.set()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if not self.frozen.is_set():
                    sink.sendall(data)

    def close(self) -> None:
        """Shut every socket down (a close alone would not wake a pump blocked in recv, and the
        server would keep the session, and wait for it at shutdown)."""
        for sock in [self._listener, *self._sockets]:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


@dataclass
class Postgres:
    port: int

    def url(self, table: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres?table={table}"

    def connect(self):  # type: ignore[no-untyped-def]
        import psycopg

        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
                               autocommit=True)

    def serials(self, table: str) -> list[int]:
        """The serial of every version the history table kept, oldest first."""
        with self.connect() as conn:
            rows = conn.execute(f"SELECT serial FROM {table}_history ORDER BY saved, serial").fetchall()
        return [int(row[0]) for row in rows]


def _pg_install() -> Path:
    spec = importlib.util.find_spec("pgserver")  # not imported: its __init__ starts machinery we skip
    assert spec is not None and spec.submodule_search_locations, "pgserver is a test dependency"
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall"


def _traversable_by_others(path: Path) -> bool:
    return all(p.stat().st_mode & stat.S_IXOTH for p in [path, *path.parents])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def postgres() -> Iterator[Postgres]:
    install = _pg_install()
    root = Path(tempfile.mkdtemp(prefix="hss-test-pg-"))
    user = None
    try:
        if os.geteuid() == 0:  # initdb and postgres refuse root: run them as nobody
            user = "nobody"
            entry = pwd.getpwnam(user)
            if not _traversable_by_others(install / "bin"):  # e.g. a checkout under /root
                shutil.copytree(install, root / "pginstall", symlinks=True)
                install = root / "pginstall"
            os.chown(root, entry.pw_uid, entry.pw_gid)
        data = root / "data"
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        subprocess.run([str(install / "bin" / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                        "-E", "UTF8", "--no-sync"], user=user, env=env, check=True, capture_output=True,
                       timeout=120)
        port = _free_port()
        server = subprocess.Popen([str(install / "bin" / "postgres"), "-D", str(data), "-h", "127.0.0.1",
                                   "-p", str(port), "-k", str(root), "-c", "fsync=off"],
                                  user=user, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            pg = Postgres(port)
            deadline = time.monotonic() + 30
            while True:
                try:
                    pg.connect().close()
                    break
                except Exception:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise
                    time.sleep(0.05)
            yield pg
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"
