"""Issue 18 on S3: moto's server on 127.0.0.1, and a proxy that strips conditional headers (OBS-like)."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.engine.statefile import open_backend
from tests.e2e import shared_scenarios as scenarios
from tests.e2e.conftest import CLI, Hss, Result, run_cli
from tests.e2e.stores import (
    BUCKET,
    S3,
    S3_KEYS,
    ForwardingHandler,
    misbehaving_proxy,
    moto_s3,
    stripping_proxy,
    unique,
)
from tests.e2e.workspaces import PROJECT, REGION, Api, registry, write_workspace


@pytest.fixture(scope="module")
def s3() -> Iterator[S3]:
    with moto_s3() as server:
        yield server


def _lock_present(s3: S3, key: str) -> bool:
    listed = s3.client().list_objects_v2(Bucket=BUCKET, Prefix=key + ".lock")
    return bool(listed.get("KeyCount"))


def test_apply_writes_only_the_bucket_and_another_machine_plans_no_changes(
        hss: Hss, s3: S3, tmp_path: Path) -> None:
    key = unique("one") + ".json"
    scenarios.apply_then_plan_clean(hss, S3_KEYS, s3.url(key), tmp_path)
    assert len(s3.serials(key)) >= 1 and not _lock_present(s3, key)


def test_six_interleaved_applies_and_plans_lose_nothing(hss: Hss, s3: S3, tmp_path: Path) -> None:
    key = unique("team") + ".json"
    scenarios.interleaved(hss, S3_KEYS, s3.url(key), tmp_path, 6, lambda: s3.serials(key))


def test_sigkilled_holder_blocks_until_force_unlock_then_a_rerun_converges(
        hss: Hss, s3: S3, tmp_path: Path) -> None:
    key = unique("kill") + ".json"
    scenarios.sigkill_then_force_unlock(hss, S3_KEYS, s3.url(key), tmp_path, lambda: _lock_present(s3, key))


def test_migrate_round_trip_is_identical_and_an_older_push_is_refused(
        hss: Hss, s3: S3, tmp_path: Path) -> None:
    scenarios.push_and_migrate(hss, S3_KEYS, s3.url(unique("moved") + ".json"), tmp_path)


def test_a_store_ignoring_conditional_writes_is_refused_unless_lock_off(
        hss: Hss, s3: S3, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "obs", [registry("obs-a")])
    key = unique("obs") + ".json"
    with stripping_proxy(s3.endpoint) as proxy:
        refused = scenarios.run(hss, S3_KEYS, "apply", str(ws), "--auto-approve", "--state",
                                s3.url(key, endpoint=proxy))
        assert refused.code == 1, refused.output
        line = refused.stderr.strip()
        assert line.count("\n") == 0 and "ignores conditional writes" in line, line
        for choice in ("postgresql://", "lock=off", "Nothing was changed"):
            assert choice in line, choice
        assert Api(hss).by_name() == {}, "refused before any change"
        risky = scenarios.run(hss, S3_KEYS, "apply", str(ws), "--auto-approve", "--state",
                              s3.url(key, endpoint=proxy, extra="&lock=off"))
        assert risky.code == 0 and "lock=off" in risky.stderr, risky.output
    assert set(Api(hss).by_name()) == {"obs-a"}


def test_export_leaves_out_what_a_shared_state_manages_reading_it_without_the_lock(
        hss: Hss, s3: S3, tmp_path: Path) -> None:
    """`export --state URL` (or HSS_STATE) reads the shared state, even while another run holds its lock,
    and writes nothing there; a URL holding no state is an error, not an empty state."""
    key = unique("export") + ".json"
    url = s3.url(key)
    ws = write_workspace(tmp_path / "ws", [registry("managed-a")])
    assert scenarios.run(hss, S3_KEYS, "apply", str(ws), "--auto-approve", "--state", url).code == 0
    Api(hss).add("by-hand")
    versions = s3.serials(key)
    export = ("export", "--region", REGION, "--project-id", PROJECT, "--enterprise-project-id", "0")
    held = open_backend(url, S3_KEYS).acquire("apply", 0)  # another machine's apply is running
    try:
        given = scenarios.run(hss, S3_KEYS, *export, "--out", str(tmp_path / "given"), "--state", url)
        from_env = scenarios.run(hss, {**S3_KEYS, "HSS_STATE": url}, *export, "--out", str(tmp_path / "env"))
    finally:
        held.release()
    for result, out in ((given, "given"), (from_env, "env")):
        assert result.code == 0, result.output
        assert "1 registry left out: already in the state" in result.stdout, result.stdout
        text = next((tmp_path / out).glob("*.yaml")).read_text()
        assert "by-hand" in text and "managed-a" not in text
    assert s3.serials(key) == versions, "export wrote to the state"
    missing = scenarios.run(hss, S3_KEYS, *export, "--out", str(tmp_path / "x"), "--state",
                            s3.url(unique("nothing") + ".json"))
    assert missing.code == 1 and "there is no state there yet" in missing.stderr, missing.output


# --- a hostile or broken store (the security review of issue 18) ---------------------------------

def _cli_all(*runs: tuple[dict[str, str], list[str]]) -> list[Result]:
    """Several CLI runs at once (each waits on its own store), so their timeouts overlap."""
    procs = [subprocess.Popen([CLI, *args], env={**os.environ, **env}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for env, args in runs]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=30)  # a hang fails here
        results.append(Result(proc.returncode, out, err))
    return results


def _state_get(handler: ForwardingHandler, key: str) -> bool:
    return handler.command == "GET" and handler.path.partition("?")[0] == f"/{BUCKET}/{key}"


def _drip_or_hold(handler: ForwardingHandler) -> bool:
    """GET drip.json: headers, then a byte every 0.2 s; GET silent.json: nothing at all."""
    if _state_get(handler, "drip.json"):
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        with contextlib.suppress(OSError):
            for _ in range(50):
                handler.wfile.write(b" ")
                handler.wfile.flush()
                time.sleep(0.2)
        return True
    if _state_get(handler, "silent.json"):
        time.sleep(5)
        return True
    return False


def test_a_dripping_or_silent_store_is_cut_at_the_urls_timeout(s3: S3) -> None:
    """Before: a body dripped a byte at a time held `state pull` forever (30 s per read, no deadline)."""
    with misbehaving_proxy(s3.endpoint, _drip_or_hold) as proxy:
        results = _cli_all(*[(S3_KEYS, ["state", "pull", "--state",
                                        s3.url(key, endpoint=proxy, extra="&timeout=1s")])
                             for key in ("drip.json", "silent.json")])
    for result in results:
        assert result.code == 1 and result.stdout == "", result.output
        line = result.stderr
        assert line.count("\n") == 1 and "no complete answer within 1 s" in line, line


HUGE = 1 << 30
EMPTY_STATE = (b'{"version": 1, "serial": 1, "lineage": "0f0e0d0c-0b0a-4908-8706-050403020100", '
               b'"registries": []}\n')
ANSWERS: dict[str, tuple[int, list[tuple[str, str]], bytes]] = {
    "huge.json": (200, [("Content-Length", str(HUGE))], b""),  # declared: refused unread
    "moved.json": (307, [("Location", "http://127.0.0.1:9/elsewhere")], b""),
    "html.json": (200, [("ETag", '"1"'), ("Content-Type", "text/html")], b"<html>Sign in</html>"),
    "bigerror.json": (403, [], b"<Error><Code>AccessDenied</Code><Message>" + b"A" * 200_000 + b"</Message>"),
    "escapes.json": (403, [], b"<Error><Code>X\x1b[2J</Code><Message>\x1b]0;owned\x07</Message></Error>"),
}


def _canned(handler: ForwardingHandler) -> bool:
    for key, (status, headers, body) in ANSWERS.items():
        if _state_get(handler, key):
            if status == 200 and key == "huge.json":
                handler.send_response(200)
                handler.send_header("Content-Length", str(HUGE))
                handler.end_headers()
                with contextlib.suppress(OSError):
                    handler.wfile.write(b" " * 65536)
            else:
                handler._answer(status, headers, body)
            return True
    return False


def test_hostile_answers_are_one_line_each_naming_the_store(s3: S3) -> None:
    """A 1 GiB state, a redirect, HTML, a 200 KB error document, escape sequences: exit 1, one line."""
    with misbehaving_proxy(s3.endpoint, _canned) as proxy:
        urls = {key: s3.url(key, endpoint=proxy) for key in ANSWERS}
        results = dict(zip(urls, _cli_all(*[(S3_KEYS, ["state", "pull", "--state", url])
                                            for url in urls.values()]), strict=True))
    says = {"huge.json": "larger than 32 MiB", "moved.json": "HTTP 307; redirects are not followed",
            "html.json": "not valid JSON", "bigerror.json": "HTTP 403 AccessDenied",
            "escapes.json": "HTTP 403;"}
    for key, result in results.items():
        assert result.code == 1 and result.stdout == "", (key, result.output)
        line = result.stderr
        assert line.count("\n") == 1 and line.startswith(f"Error: {urls[key]}"), (key, line)
        assert says[key] in line and "\x1b" not in line and "Traceback" not in line, (key, line)
    assert "store's history" in results["html.json"].stderr, "no '.backup' beside a URL"


def _no_etag(handler: ForwardingHandler) -> bool:
    """GET of the state answered without its ETag; everything else is the real store."""
    if not _state_get(handler, "noetag.json"):
        return False
    conn = http.client.HTTPConnection(*handler.upstream, timeout=10)
    try:
        conn.request("GET", handler.path, headers=dict(handler.headers.items()))
        answer = conn.getresponse()
        body = answer.read()
    finally:
        conn.close()
    handler._answer(answer.status, [(k, v) for k, v in answer.getheaders() if k.lower() != "etag"], body)
    return True


def test_a_state_read_without_its_etag_is_refused_before_hss_is_changed(
        hss: Hss, s3: S3, tmp_path: Path) -> None:
    """Before: the apply created the registries, then its first write failed as 'another run wrote it'."""
    ws = write_workspace(tmp_path / "ws", [registry("etag-a")])
    s3.client().put_object(Bucket=BUCKET, Key="noetag.json", Body=EMPTY_STATE)
    with misbehaving_proxy(s3.endpoint, _no_etag) as proxy:
        result = scenarios.run(hss, S3_KEYS, "apply", str(ws), "--auto-approve", "--state",
                               s3.url("noetag.json", endpoint=proxy), cwd=tmp_path)
    assert result.code == 1 and "without a version (no ETag)" in result.stderr, result.output
    assert "Nothing was changed" in result.stderr and Api(hss).by_name() == {}
    assert not list(tmp_path.glob("errored*")), "nothing to save: nothing was changed"


def test_a_bucket_without_versioning_is_refused_before_any_change_unless_versioning_off(
        hss: Hss, s3: S3, tmp_path: Path) -> None:
    """Issue 18 keeps every previous state: a bucket that would not is refused, or the URL says so."""
    s3.client().create_bucket(Bucket="no-versions")
    ws = write_workspace(tmp_path / "ws", [registry("versions-a")])
    url = f"s3://no-versions/hss.json?endpoint={s3.endpoint}&region=us-east-1"
    refused = scenarios.run(hss, S3_KEYS, "apply", str(ws), "--auto-approve", "--state", url)
    assert refused.code == 1 and "keeps no previous versions" in refused.stderr, refused.output
    assert "versioning=off" in refused.stderr and Api(hss).by_name() == {}
    risky = scenarios.run(hss, S3_KEYS, "apply", str(ws), "--auto-approve", "--state",
                          url + "&versioning=off")
    assert risky.code == 0, risky.output
    assert set(Api(hss).by_name()) == {"versions-a"}


def test_a_huge_lock_object_blocks_naming_the_id_that_releases_exactly_it(s3: S3, tmp_path: Path) -> None:
    key = unique("hugelock") + ".json"
    s3.client().put_object(Bucket=BUCKET, Key=key + ".lock", Body=b'{"id": "' + b"a" * 100_000 + b'"}')
    state = tmp_path / "state.json"
    state.write_bytes(EMPTY_STATE)
    blocked = run_cli("state", "push", str(state), "--state", s3.url(key), env={**os.environ, **S3_KEYS})
    assert blocked.code == 1 and "larger than 64 KiB" in blocked.stderr, blocked.output
    unlock_id = re.search(r"force-unlock (malformed-\w+) --state", blocked.stderr)
    assert unlock_id, blocked.stderr
    released = run_cli("force-unlock", unlock_id.group(1), "--state", s3.url(key),
                       env={**os.environ, **S3_KEYS})
    assert released.code == 0 and not _lock_present(s3, key), released.output


def test_migrate_to_the_same_state_spelled_otherwise_is_refused_not_self_locked(s3: S3) -> None:
    """Before: the run waited for its own lock and named itself as the holder."""
    url = s3.url(unique("same") + ".json")
    reordered = url.replace("?endpoint=", "?region=us-east-1&endpoint=").replace("&region=us-east-1", "", 1)
    assert reordered != url
    result = run_cli("state", "migrate", "--state", url, "--to", reordered, env={**os.environ, **S3_KEYS})
    assert result.code == 1 and "that is where the state already is" in result.stderr, result.output


def test_no_secret_reaches_any_output_or_the_store_at_debug_level(hss: Hss, s3: S3, tmp_path: Path) -> None:
    """-vv of a good apply and of a refused one: the secret key, the session token and every SigV4
    signature stay out of stdout, stderr and the stored state."""
    keys = {**S3_KEYS, "AWS_SESSION_TOKEN": "session-token-" + secrets.token_hex(8)}
    key = unique("secret") + ".json"
    ws = write_workspace(tmp_path / "ws", [registry("secret-a")])
    good = scenarios.run(hss, keys, "apply", str(ws), "--auto-approve", "-vv", "--state", s3.url(key))
    refused = scenarios.run(hss, keys, "state", "pull", "-vv", "--state",
                            s3.url(key, extra="&aws_secret_access_key=" + keys["AWS_SECRET_ACCESS_KEY"]))
    assert good.code == 0 and "DEBUG" in good.stderr, good.output
    assert refused.code == 1 and "unknown parameter 'aws_secret_access_key'" in refused.stderr, refused.output
    stored = s3.client().get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()
    for text in (good.output, refused.output, stored):
        for secret in (keys["AWS_SECRET_ACCESS_KEY"], keys["AWS_SESSION_TOKEN"], "Signature=", "Credential="):
            assert secret not in text, secret
