"""Issue 18 on PostgreSQL: a real server (pgserver's binaries) started on 127.0.0.1 for this module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e import shared_scenarios as scenarios
from tests.e2e.conftest import Hss
from tests.e2e.stores import Postgres, postgres, unique


@pytest.fixture(scope="module")
def pg() -> Iterator[Postgres]:
    with postgres() as server:
        yield server


def _lock_present(pg: Postgres, table: str) -> bool:
    try:
        with pg.connect() as conn:
            return conn.execute(f"SELECT count(*) FROM {table}_lock").fetchone()[0] == 1  # type: ignore[index]
    except Exception:  # the table is made by the first run
        return False


def test_apply_writes_only_the_database_and_another_machine_plans_no_changes(
        hss: Hss, pg: Postgres, tmp_path: Path) -> None:
    table = unique("one")
    scenarios.apply_then_plan_clean(hss, {}, pg.url(table), tmp_path)
    assert pg.serials(table) and not _lock_present(pg, table)


def test_six_interleaved_applies_and_plans_lose_nothing(hss: Hss, pg: Postgres, tmp_path: Path) -> None:
    table = unique("team")
    scenarios.interleaved(hss, {}, pg.url(table), tmp_path, 6, lambda: pg.serials(table))


def test_sigkilled_holder_blocks_until_force_unlock_then_a_rerun_converges(
        hss: Hss, pg: Postgres, tmp_path: Path) -> None:
    table = unique("kill")
    scenarios.sigkill_then_force_unlock(hss, {}, pg.url(table), tmp_path, lambda: _lock_present(pg, table))


def test_migrate_round_trip_is_identical_and_an_older_push_is_refused(
        hss: Hss, pg: Postgres, tmp_path: Path) -> None:
    scenarios.push_and_migrate(hss, {}, pg.url(unique("moved")), tmp_path)


def test_a_password_in_the_url_is_refused_and_never_shown(hss: Hss, pg: Postgres, tmp_path: Path) -> None:
    url = f"postgresql://postgres:Hunter2-Secret@127.0.0.1:{pg.port}/postgres?table=t"
    result = scenarios.run(hss, {}, "state", "pull", "--state", url)
    assert result.code == 1 and "PGPASSWORD" in result.stderr, result.output
    assert "Hunter2-Secret" not in result.output
