"""Shared-state pieces without a server: what a local plan imports, the URLs, the SigV4 signer, and
issue 19.12's lock warning when the state directory vanished."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from reconciler.engine.locate import given_state
from reconciler.engine.statefile import s3_exchange
from reconciler.errors import StateError
from reconciler.secrets import Secret
from reconciler.state.backends.base import ConcurrentWrite, Snapshot
from reconciler.state.backends.location import identity, parse_postgresql, parse_s3
from reconciler.state.backends.s3 import S3Backend, S3Credentials
from reconciler.state.backends.sigv4 import sign
from reconciler.state.lock import acquire

REPO = Path(__file__).resolve().parents[2]
STORAGE_CLIENTS = ("psycopg", "boto3", "botocore", "xml.etree.ElementTree", "reconciler.state.backends.s3",
                   "reconciler.state.backends.postgres", "reconciler.state.backends.sigv4")
PLAN_LOCAL = """
import sys
from reconciler.cli.main import main
code = main(["plan", sys.argv[1], "--refresh=false"])
print("exit", code)
print("loaded", sorted(m for m in {clients!r} if m in sys.modules))
"""


def test_a_plan_on_local_state_imports_no_storage_client(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(REPO / "examples" / "quickstart", ws)
    proc = subprocess.run([sys.executable, "-c", PLAN_LOCAL.format(clients=STORAGE_CLIENTS), str(ws)],
                          capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "REGISTRY_PASSWORD": "x"})
    assert "exit 0" in proc.stdout, proc.stdout + proc.stderr
    assert "loaded []" in proc.stdout, proc.stdout


@pytest.mark.parametrize(("url", "says"), [
    ("s3://Bad_Bucket/k", "not a valid bucket name"),
    ("s3://bucket/", "needs an object key"),
    ("s3://bucket/k?endpoint=http://10.0.0.5:9000", "plain http outside loopback"),
    ("s3://bucket/k?colour=blue", "unknown parameter 'colour'"),
    ("s3://bucket/k?lock=maybe", "lock: expected on or off"),
    ("postgresql://db.example.com/hss", "needs a user"),
    ("postgresql://u@db.example.com/hss?table=Drop;Table", "table 'Drop;Table'"),
    ("postgresql://u@db.example.com:99999/hss", "port is not a number"),
    # the security review: keys an HTTP client would resolve elsewhere, a fragment silently dropped,
    # bounds, and traffic that could cross the network in the clear
    ("s3://bucket/state/../../other-bucket/k", "may not have '.' or '..' segments"),
    ("s3://bucket/./k", "may not have '.' or '..' segments"),
    ("s3://bucket/k#frag", "a '#' would end the URL there"),
    ("s3://bucket/k?timeout=0s", "timeout: expected whole seconds or minutes"),
    ("s3://bucket/k?timeout=2h", "timeout: expected whole seconds or minutes"),
    ("s3://bucket/k?versioning=no", "versioning: expected on or off"),
    ("s3://bucket/k\n.json", "holds a control character"),  # urlsplit would drop it silently
    ("postgresql://u@db.example.com/hss\t", "holds a control character"),
    ("postgresql://u@db.example.com/hss?sslmode=prefer", "sslmode=prefer lets libpq connect to db.example"),
    ("postgresql://u@db.example.com/hss?sslmode=disable", "without TLS"),
])
def test_a_bad_url_is_one_line_naming_the_part(url: str, says: str) -> None:
    parse = parse_s3 if url.startswith("s3") else parse_postgresql
    with pytest.raises(StateError) as caught:
        parse(url)
    assert says in str(caught.value) and "\n" not in str(caught.value)


def test_a_postgresql_password_in_the_url_is_refused_without_showing_it() -> None:
    with pytest.raises(StateError) as caught:
        parse_postgresql("postgresql://alice:S3cret-Pw@db.example.com:5432/hss")
    assert "PGPASSWORD" in str(caught.value) and "S3cret-Pw" not in str(caught.value)


def test_good_urls_parse_to_their_parts() -> None:
    s3 = parse_s3("s3://team-state/hss/prod.json?endpoint=https://obs.ap-southeast-1.myhuaweicloud.com"
                  "&region=ap-southeast-1&lock=off")
    assert (s3.bucket, s3.key, s3.region, s3.lock) == ("team-state", "hss/prod.json", "ap-southeast-1", False)
    pg = parse_postgresql("postgresql://hss@10.1.2.3:5433/ops?table=hss_prod&sslmode=verify-full")
    assert (pg.user, pg.host, pg.port, pg.dbname, pg.table, pg.sslmode) == (
        "hss", "10.1.2.3", 5433, "ops", "hss_prod", "verify-full")


def test_sigv4_signature_equals_botocores() -> None:
    """The oracle: botocore's S3SigV4Auth signs the same request to the same Authorization header."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url = "https://obs.example.com/team-state/hss/prod%20state.json?versions=&prefix=hss%2Fp"
    body = b'{"serial": 3}\n'
    headers = {"Host": "obs.example.com", "If-Match": '"abc"', "Content-Type": "application/json"}
    request = AWSRequest(method="PUT", url=url, data=body, headers=dict(headers))
    S3SigV4Auth(Credentials("AKID", "SECRET", "TOKEN"), "s3", "ap-southeast-1").add_auth(request)
    now = datetime.strptime(request.context["timestamp"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    ours = sign("PUT", url, headers, body, access_key="AKID", secret_key="SECRET", region="ap-southeast-1",
                now=now, session_token="TOKEN")
    assert ours["Authorization"] == request.headers["Authorization"]


def test_lock_release_after_the_state_directory_vanished_says_so(tmp_path: Path,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    """Issue 19.12: not 'already removed (force-unlock?)', which sent people looking for a colleague."""
    directory = tmp_path / "ws"
    directory.mkdir()
    lock = acquire(directory / "state.json", "apply")
    shutil.rmtree(directory)
    with caplog.at_level(logging.WARNING):
        lock.release()
    text = caplog.text
    assert "no longer exists" in text and str(directory) in text
    assert "force-unlock" not in text


def test_an_unknown_parameter_never_shows_its_value_anywhere() -> None:
    """Before: 'postgresql://u@h/db?password=...: unknown parameter' printed the password."""
    from reconciler.secrets import REDACTOR

    for url in ("postgresql://u@db.example.com/hss?table=t&password=Pw-In-Query-1",
                "s3://bucket/k?aws_secret_access_key=Pw-In-Query-1"):
        parse = parse_s3 if url.startswith("s3") else parse_postgresql
        with pytest.raises(StateError) as caught:
            parse(url)
        assert "unknown parameter" in str(caught.value) and "Pw-In-Query-1" not in str(caught.value)
    assert "Pw-In-Query-1" not in REDACTOR.redact("a log line with Pw-In-Query-1")


def test_plain_postgresql_and_a_short_timeout_stay_allowed_on_loopback() -> None:
    pg = parse_postgresql("postgresql://hss@127.0.0.1:5433/ops?sslmode=disable&timeout=2m")
    assert (pg.sslmode, pg.timeout) == ("disable", 120.0)
    assert parse_s3("s3://b-1/k?endpoint=http://[::1]:9000&timeout=5").timeout == 5.0


@pytest.mark.parametrize(("location", "says"), [
    ("gs://bucket/state.json", "not a state location hss-reconciler knows"),
    ("s3:/bucket/state.json", "not a state location hss-reconciler knows"),
    (" s3://bucket/state.json", "has blanks around it"),
])
def test_a_url_that_is_not_ours_is_never_taken_for_a_file_path(location: str, says: str) -> None:
    """Before: each was a local path, so a plan found no state and planned every registry as new."""
    with pytest.raises(StateError) as caught:
        given_state(location)
    assert says in str(caught.value)


def test_windows_drives_and_odd_relative_paths_are_still_files() -> None:
    for path in ("C:/ci/state.json", "./s3:/x", "state.json"):
        assert given_state(path) == path


def test_one_state_spelled_two_ways_has_one_identity(tmp_path: Path) -> None:
    a = "s3://b-1/k.json?endpoint=http://127.0.0.1:9&region=us-east-1"
    b = "S3://b-1/k.json?region=us-east-1&style=virtual&endpoint=http://127.0.0.1:9&versioning=off"
    assert identity(a) == identity(b) != identity(a.replace("k.json", "j.json"))
    assert identity("postgres://u@H:5432/d?table=t") == identity("postgresql://v@h/d?table=t&lock=off")
    assert identity(str(tmp_path / "s.json")) == identity(str(tmp_path / "x" / ".." / "s.json"))


def _mock_s3(bucket: str, answer: Callable[[httpx.Request], httpx.Response | None],
             seen: list[httpx.Request]) -> S3Backend:
    """An S3 backend on a MockTransport: `answer` first, else an honest, versioned store."""
    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        given = answer(request)
        if given is not None:
            return given
        if "versioning" in request.url.query.decode():
            return httpx.Response(200, content=b"<VersioningConfiguration><Status>Enabled</Status>"
                                               b"</VersioningConfiguration>")
        probe = request.url.path.endswith(".probe")
        if probe and request.method == "PUT" and {"if-match", "if-none-match"} & set(request.headers):
            return httpx.Response(412)  # the probe object exists by then: an honest store refuses
        return httpx.Response(404 if request.method in ("HEAD", "GET") else 200, headers={"etag": '"e1"'})

    keys = S3Credentials("AKID", Secret("unit-secret"))
    client = httpx.Client(transport=httpx.MockTransport(respond))
    return S3Backend(parse_s3(f"s3://{bucket}/k.json?endpoint=http://127.0.0.1:9"), lambda: keys, s3_exchange,
                     client)


def test_a_lock_made_without_an_etag_is_removed_again_and_refused() -> None:
    """Without its ETag the lock could only be released blindly, maybe over another run's."""
    seen: list[httpx.Request] = []

    def no_etag(request: httpx.Request) -> httpx.Response | None:
        lock = request.url.path.endswith(".lock")
        return httpx.Response(200) if lock and request.method == "PUT" else None

    with pytest.raises(StateError) as caught:
        _mock_s3("unit-no-etag", no_etag, seen).acquire("apply", 0)
    assert "answered without an ETag" in str(caught.value)
    assert [r.method for r in seen if r.url.path.endswith(".lock")] == ["PUT", "DELETE"]


def test_versioning_that_cannot_be_read_is_a_warning_and_the_run_goes_on(
        caplog: pytest.LogCaptureFixture) -> None:
    seen: list[httpx.Request] = []

    def forbidden(request: httpx.Request) -> httpx.Response | None:
        hidden = "versioning" in request.url.query.decode()
        return httpx.Response(403, content=b"<Error><Code>AccessDenied</Code></Error>") if hidden else None

    with caplog.at_level(logging.WARNING):
        lock = _mock_s3("unit-unreadable-versioning", forbidden, seen).acquire("apply", 0)
    lock.release()
    assert "could not check that the bucket unit-unreadable-versioning keeps previous versions" in caplog.text
    assert "HTTP 403 AccessDenied" in caplog.text


@pytest.mark.parametrize(("host", "local"), [
    ("127.0.0.1", True), ("[::1]", True), ("[::ffff:127.0.0.1]", True), ("LOCALHOST", True),
    ("127.0.0.1.example", False), ("10.0.0.1", False), ("[::ffff:10.0.0.1]", False),
])
def test_plain_http_to_a_store_is_allowed_on_loopback_only_by_the_rule_hss_endpoints_follow(
        host: str, local: bool) -> None:
    url = f"s3://state/k.json?endpoint=http://{host}:9000"
    if local:
        assert parse_s3(url).endpoint == f"http://{host}:9000"
    else:
        with pytest.raises(StateError, match="plain http outside loopback"):
            parse_s3(url)


def test_a_write_over_a_local_state_keeps_the_file_it_replaced_as_backup(tmp_path: Path) -> None:
    from reconciler.state.backends.local import LocalBackend

    path = tmp_path / "s.json"
    path.write_bytes(b"old")
    backend = LocalBackend(path)
    backend.write(b"new", backend.read().version, serial=2, lineage="l")
    assert path.read_bytes() == b"new"
    assert (tmp_path / "s.json.backup").read_bytes() == b"old"


class _RefusingBackend:
    """A backend whose every write fails with `error`: SharedStore's fallback to the errored file."""

    location = "s3://state/k.json"
    locking = True

    def __init__(self, error: StateError) -> None:
        self.error = error
        self.writes = 0

    def read(self) -> Snapshot:
        return Snapshot(None, None)

    def write(self, payload: bytes, expected: str | None, *, serial: int, lineage: str) -> str | None:
        self.writes += 1
        raise self.error


@pytest.mark.parametrize(("error", "said"), [
    (ConcurrentWrite("s3://state/k.json: changed"), "the stored state changed since this run read it"),
    (StateError("s3://state/k.json: the store is down"), "cannot write the state (the store is down)"),
])
def test_a_failed_shared_write_sends_this_and_every_later_checkpoint_to_the_errored_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: StateError, said: str) -> None:
    from reconciler.state.backends.shared import SharedStore
    from reconciler.state.store import StateUnwritable

    monkeypatch.chdir(tmp_path)
    backend = _RefusingBackend(error)
    store = SharedStore(backend)  # type: ignore[arg-type]
    state = store.load()
    for _ in range(2):
        with pytest.raises(StateUnwritable) as caught:
            store.write(store.snapshot(state))
        assert said in str(caught.value)
        assert caught.value.saved_to == tmp_path / "errored.hss-reconciler.state.json"
    assert backend.writes == 1, "the store is not tried again once a write failed"
