"""Issue 18 on PostgreSQL: a real server (pgserver's binaries) started on 127.0.0.1 for this module."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.engine.statefile import open_backend
from reconciler.errors import StateError
from tests.e2e import shared_scenarios as scenarios
from tests.e2e.conftest import Hss
from tests.e2e.stores import Postgres, TcpProxy, postgres, unique
from tests.e2e.workspaces import Api, registry, write_workspace


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


# --- a hostile or broken database (the security review of issue 18) ------------------------------

def test_a_table_of_another_shape_is_refused_in_one_line(hss: Hss, pg: Postgres) -> None:
    """Before: a same-named table with text columns crashed every command (TypeError, exit 3)."""
    table = unique("theirs")
    with pg.connect() as conn:
        conn.execute(f"CREATE TABLE {table} (id integer PRIMARY KEY, serial text, lineage text, body text)")
        conn.execute(f"INSERT INTO {table} VALUES (1, 'x', 'y', '{{}}')")
    result = scenarios.run(hss, {}, "state", "pull", "--state", pg.url(table))
    assert result.code == 1 and result.stderr.count("\n") == 1, result.output
    assert f"the table {table} is not one hss-reconciler made (column serial: expected bigint, found text)" \
        in result.stderr, result.stderr


def test_a_stuck_transaction_holding_the_lock_row_waits_only_lock_timeout(
        hss: Hss, pg: Postgres, tmp_path: Path) -> None:
    """Before: an uncommitted lock row held the apply for statement_timeout (30 s) whatever --lock-timeout
    said, then failed 'canceling statement due to statement timeout'."""
    table = unique("stuck")
    open_backend(pg.url(table)).close()  # makes the tables
    ws = write_workspace(tmp_path / "ws", [registry("stuck-a")])
    with pg.connect() as stuck:
        stuck.autocommit = False
        stuck.execute(f"INSERT INTO {table}_lock (id, lock_id, info) VALUES (1, 'by-hand', '{{}}')")
        pid = stuck.info.backend_pid
        result = scenarios.run(hss, {}, "apply", str(ws), "--auto-approve", "--lock-timeout", "1s",
                               "--state", pg.url(table))
        stuck.rollback()
    assert result.code == 1 and f"database session {pid}" in result.stderr, result.output
    assert f"pg_terminate_backend({pid})" in result.stderr and "Nothing was changed" in result.stderr
    assert Api(hss).by_name() == {}


def test_a_server_that_goes_silent_mid_statement_is_cut_by_the_watchdog(
        pg: Postgres, monkeypatch: pytest.MonkeyPatch) -> None:
    """A hung server (or a network that drops everything) never sends statement_timeout's cancel: the
    watchdog cuts the connection instead of waiting forever."""
    from reconciler.state.backends import postgres as backend_module
    from reconciler.state.backends.location import parse_postgresql

    monkeypatch.setattr(backend_module, "WATCHDOG_GRACE", 0.2)
    relay = TcpProxy(pg.port)
    try:
        where = parse_postgresql(f"postgresql://postgres@127.0.0.1:{relay.port}/postgres"
                                 f"?table={unique('silent')}&timeout=1s")
        backend = backend_module.PostgresBackend(where)
        relay.freeze()
        with pytest.raises(StateError) as caught:
            backend.read()
        assert "the server did not answer within 1 s" in str(caught.value)
        with pytest.raises(StateError):  # the connection stays cut: nothing waits on it again
            backend.read()
        backend.close()
    finally:
        relay.close()


def test_pgpassword_and_a_password_in_the_query_are_never_shown_at_debug_level(
        hss: Hss, pg: Postgres, tmp_path: Path) -> None:
    password = "pg-pw-" + secrets.token_hex(8)
    ws = write_workspace(tmp_path / "ws", [registry("pw-a")])
    good = scenarios.run(hss, {"PGPASSWORD": password}, "apply", str(ws), "--auto-approve", "-vv",
                         "--state", pg.url(unique("pw")))
    query = scenarios.run(hss, {"PGPASSWORD": password}, "state", "pull", "-vv", "--state",
                          pg.url("t") + "&password=" + password)
    assert good.code == 0 and "DEBUG" in good.stderr, good.output
    assert query.code == 1 and "unknown parameter 'password'" in query.stderr, query.output
    assert password not in good.output + query.output


def test_a_stored_state_over_the_cap_is_refused_without_being_fetched(
        pg: Postgres, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: the row came whole before its size was checked (a 40 MiB row: 295 MB of memory; now 49)."""
    from reconciler.state.backends import postgres as backend_module

    table = unique("big")
    backend = open_backend(pg.url(table))
    try:
        with pg.connect() as conn:
            conn.execute(f"INSERT INTO {table} (id, serial, lineage, body) VALUES (1, 1, 'l', %s)",
                         (b"x" * 100,))
        monkeypatch.setattr(backend_module, "MAX_STATE_BYTES", 64)
        with pytest.raises(StateError) as caught:
            backend.read()
        assert "the stored state is larger than" in str(caught.value) and "(100 bytes)" in str(caught.value)
    finally:
        backend.close()
