"""Issue 18 on PostgreSQL: a real server (pgserver's binaries) started on 127.0.0.1 for this module."""

from __future__ import annotations

import logging
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.engine.statefile import open_backend
from reconciler.errors import StateError
from tests.e2e import shared_scenarios as scenarios
from tests.e2e.conftest import CLI, Hss
from tests.e2e.stores import Postgres, TcpProxy, postgres, unique
from tests.e2e.workspaces import Api, env_for, registry, write_workspace


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


# --- a lost connection, and how long connecting may take ------------------------------------------

def _run_session(pg: Postgres, hss: Hss, run: subprocess.Popen[str], within: float = 20) -> int:
    """The pid of `run`'s database session, once it has locked and read the state (it has begun
    asking HSS what there is)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and run.poll() is None:
        if sum(Api(hss).stats().get("requests", {}).values()):
            with pg.connect() as conn:
                row = conn.execute("SELECT pid FROM pg_stat_activity "
                                   "WHERE application_name = 'hss-reconciler'").fetchone()
            assert row, "the run holds a database session"
            return int(row[0])
        time.sleep(0.02)
    raise AssertionError(f"the run never asked HSS anything: {run.poll()} {run.communicate(timeout=60)}")


def test_a_run_whose_database_session_is_terminated_mid_apply_still_releases_its_lock(
        hss: Hss, pg: Postgres, tmp_path: Path) -> None:
    """Before: the lock row stayed, and the run ended warning that force-unlock was needed."""
    table = unique("dropped")
    ws = write_workspace(tmp_path / "ws", [registry("dropped-a")])
    Api(hss).configure(latency_ms=300)  # the apply is still talking to HSS when its session goes
    with subprocess.Popen([CLI, "apply", str(ws), "--auto-approve", "--state", pg.url(table)],
                          env=env_for(hss), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as run:
        try:
            with pg.connect() as conn:
                conn.execute("SELECT pg_terminate_backend(%s)", (_run_session(pg, hss, run),))
            _, stderr = run.communicate(timeout=60)
        finally:
            run.kill()
    assert run.returncode == 1 and "cannot write the state" in stderr, stderr
    assert not _lock_present(pg, table), "the lock row was released over a new connection"
    assert "force-unlock" not in stderr and "could not release" not in stderr, stderr
    saved = tmp_path / "errored.hss-reconciler.state.json"
    assert saved.exists() and "dropped-a" in saved.read_text()  # what HSS accepted is kept to push back


def test_a_lost_connection_to_a_server_that_is_gone_leaves_the_lock_and_names_force_unlock(
        pg: Postgres, caplog: pytest.LogCaptureFixture) -> None:
    from reconciler.state.backends.location import parse_postgresql
    from reconciler.state.backends.postgres import PostgresBackend

    table = unique("gone")
    relay = TcpProxy(pg.port)
    backend = PostgresBackend(parse_postgresql(f"postgresql://postgres@127.0.0.1:{relay.port}/postgres"
                                               f"?table={table}&timeout=2s"))
    lock = backend.acquire("apply", 0)
    relay.close()  # the connection drops, and nothing listens there any more
    with caplog.at_level(logging.WARNING):
        lock.release()
    backend.close()
    assert _lock_present(pg, table)
    assert f"'hss-reconciler force-unlock {lock.info.id} --state " in caplog.text, caplog.text


def test_connecting_to_a_silent_server_gives_up_after_the_urls_timeout(pg: Postgres) -> None:
    """Before: connect_timeout was min(timeout=, 10 s), so a silent server held every run 10 s
    whatever the URL said (and a 30 s timeout= waited only 10)."""
    from reconciler.state.backends.location import parse_postgresql
    from reconciler.state.backends.postgres import PostgresBackend

    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts (the kernel does), never answers
        where = parse_postgresql(f"postgresql://postgres@127.0.0.1:{silent.getsockname()[1]}/postgres"
                                 "?table=t&timeout=2s")
        started = time.monotonic()
        with pytest.raises(StateError, match="cannot connect"):
            PostgresBackend(where)
        assert 1.9 <= time.monotonic() - started < 5
    backend = PostgresBackend(parse_postgresql(pg.url(unique("patient")) + "&timeout=30s"))
    try:
        assert backend._conn.info.get_parameters()["connect_timeout"] == "30"
    finally:
        backend.close()
