"""Issue 18 on S3: moto's server on 127.0.0.1, and a proxy that strips conditional headers (OBS-like)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.engine.statefile import open_backend
from tests.e2e import shared_scenarios as scenarios
from tests.e2e.conftest import Hss
from tests.e2e.stores import BUCKET, S3, S3_KEYS, moto_s3, stripping_proxy, unique
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
