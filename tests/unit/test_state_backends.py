"""Shared-state pieces without a server: what a local plan imports, the URLs, the SigV4 signer, and
issue 19.12's lock warning when the state directory vanished."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reconciler.errors import StateError
from reconciler.state.backends.location import parse_postgresql, parse_s3
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
