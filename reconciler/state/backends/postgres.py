"""The state in PostgreSQL (Huawei RDS for PostgreSQL in production), with its lock and history.

Three tables, made on first use (named after `table=T`, default hss_reconciler_state):

    T          one row: the state's bytes, serial and lineage
    T_history  every version written, by (lineage, serial): nothing is ever overwritten
    T_lock     at most one row: the holder's LockInfo, as a local lock file holds it

A write is `UPDATE T ... WHERE serial = <the serial read> AND lineage = <the lineage read>`
and the history row, in one transaction: a concurrent writer is detected, never
overwritten, and the commit makes it durable before the run counts the change.
The lock is a row, not an advisory lock: like a lock file or object it outlives
a run that was SIGKILLed, and `force-unlock` releases it, as everywhere else.

Why psycopg 3 rather than pg8000: it is libpq, so PGPASSWORD, ~/.pgpass,
PGSERVICE, sslmode/sslrootcert and target_session_attrs work exactly as they do
for psql, which is what a team that already runs PostgreSQL has set up; the
binary wheel ships libpq, so nothing else needs installing.

Trust nothing read. A table of that name that someone else made with another
shape is refused in one line before anything is written (its columns are
checked against ours). Every statement is bounded: the server cancels it after
the URL's `timeout=` (60 s; statement_timeout), and should the server or the
network go silent, a watchdog cuts the connection a little later, as the
server's cancel could not arrive. Connecting waits as long as `timeout=` says
too (libpq's connect_timeout, 2 s at least; per address the host name has).
A run whose connection was lost (the server restarted, its session was
terminated, the watchdog cut it) connects once more, within `timeout=`, to
delete its lock row on the way out, so the next run is not blocked until
someone runs force-unlock; only if that fails too does the warning name it. The lock row waits no longer than
--lock-timeout for a transaction that holds it uncommitted (someone's stuck
psql session), and the error names that session. Outside loopback the
connection must be encrypted (sslmode require or stronger, the default there).
PGPASSWORD is registered with the redactor, so no message can show it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg import sql

from reconciler.config.warnings import is_loopback_host
from reconciler.errors import StateError
from reconciler.secrets import Secret
from reconciler.state.backends.base import ConcurrentWrite, Snapshot
from reconciler.state.backends.location import PgLocation, unprotected_sslmode
from reconciler.state.jsonshape import ShapeError, load_json
from reconciler.state.lock import MAX_LOCK_BYTES, HeldLock, LockInfo, check_unlock_id, no_lock, wait_for_lock
from reconciler.state.model import MAX_STATE_BYTES

LOG = logging.getLogger(__name__)
MIN_CONNECT_TIMEOUT = 2  # seconds: libpq's connect_timeout takes whole seconds, 2 at least
WATCHDOG_GRACE = 2.0  # seconds past statement_timeout before the connection is cut from our side
MIN_LOCK_WAIT = 0.5  # seconds a lock row insert may wait on another transaction, even with --lock-timeout 0
# Serialises the CREATE TABLE IF NOT EXISTS of concurrent first runs (they race on pg_type otherwise).
SCHEMA_LOCK_KEY = 0x4853_5352  # "HSSR"
# The columns each table must have, as format_type() spells their types ("" = the state table).
SHAPES = {
    "": {"id": "integer", "serial": "bigint", "lineage": "text", "body": "bytea",
         "saved": "timestamp with time zone"},
    "_history": {"lineage": "text", "serial": "bigint", "body": "bytea", "saved": "timestamp with time zone"},
    "_lock": {"id": "integer", "lock_id": "text", "info": "bytea", "taken": "timestamp with time zone"},
}


class PostgresBackend:
    def __init__(self, where: PgLocation) -> None:
        self.where = where
        self.location = where.url
        self.locking = where.lock
        self._guard = threading.Lock()  # one statement at a time on the connection
        self._cut = False  # the watchdog cut the connection: the server stopped answering
        self._conn = self._connect()
        t = where.table
        self._state, self._history, self._lock = (sql.Identifier(t), sql.Identifier(t + "_history"),
                                                  sql.Identifier(t + "_lock"))
        try:
            self._ensure_tables()
        except BaseException:
            self._conn.close()
            raise

    def _connect(self) -> psycopg.Connection[Any]:
        w = self.where
        password = os.environ.get("PGPASSWORD")
        if password:
            Secret(password)  # registered: no message or log line can show it
        extra: dict[str, Any] = {}
        sslmode = w.sslmode
        if sslmode is None and not is_loopback_host(w.host):
            given = os.environ.get("PGSSLMODE")
            if given:
                unprotected_sslmode(self.location, w.host, given, "PGSSLMODE")
            elif not os.environ.get("PGSERVICE"):
                sslmode = "require"  # libpq's own default, prefer, falls back to plain text
        if sslmode:
            extra["sslmode"] = sslmode
        try:
            conn = psycopg.connect(host=w.host, port=w.port, user=w.user, dbname=w.dbname,
                                   connect_timeout=max(MIN_CONNECT_TIMEOUT, math.ceil(w.timeout)),
                                   application_name="hss-reconciler",
                                   options=f"-c statement_timeout={int(w.timeout * 1000)}", **extra)
        except psycopg.Error as exc:
            raise StateError(f"{self.location}: cannot connect ({_first_line(exc)}); the password comes "
                             "from PGPASSWORD or ~/.pgpass") from None
        return conn

    @contextlib.contextmanager
    def _statement(self, doing: str, within: float | None = None) -> Iterator[psycopg.Connection[Any]]:
        """One transaction on the connection, committed on leaving; a psycopg error becomes one
        StateError line. Bounded twice: statement_timeout on the server, and a watchdog here that
        cuts the connection if even the server's cancel does not arrive (a silent server or network).
        `within` (seconds) bounds this transaction more tightly than timeout= does.
        """
        limit = self.where.timeout if within is None else min(within, self.where.timeout)
        with self._guard:
            if self._cut:
                raise StateError(f"{self.location}: {doing} failed (the connection was cut earlier: the "
                                 "server had stopped answering)")
            watchdog = threading.Timer(limit + WATCHDOG_GRACE, self._cut_connection)
            watchdog.daemon = True
            watchdog.start()
            try:
                with self._conn.transaction():
                    if within is not None:
                        self._conn.execute("SELECT set_config('statement_timeout', %s, true)",
                                           (f"{max(1, int(limit * 1000))}ms",))
                    yield self._conn
            except psycopg.Error as exc:
                if self._cut:
                    raise StateError(f"{self.location}: {doing} failed: the server did not answer within "
                                     f"{limit:g} s (timeout= in the URL)") from None
                raise StateError(f"{self.location}: {doing} failed ({_first_line(exc)})") from None
            finally:
                watchdog.cancel()

    def _lost(self) -> bool:
        """Whether the connection is gone (closed by the server or the network, or cut by the watchdog)."""
        return self._cut or self._conn.closed or self._conn.broken

    def _reconnect(self) -> None:
        """Replace a lost connection with a new one (StateError if that fails: the old one stays cut)."""
        with self._guard:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = self._connect()
            self._cut = False

    def _cut_connection(self) -> None:
        """The watchdog: shut the socket down, so the statement waiting on it fails at once."""
        self._cut = True
        with contextlib.suppress(Exception), socket.socket(fileno=os.dup(self._conn.pgconn.socket)) as sock:
            sock.shutdown(socket.SHUT_RDWR)

    def _run(self, doing: str, query: sql.SQL | sql.Composed,
             params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """One statement in its own transaction, committed before returning: its rows (or none)."""
        with self._statement(doing) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else [(cursor.rowcount,)]

    def _ensure_tables(self) -> None:
        with self._statement("creating or checking the state tables") as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
            conn.execute(sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (id integer PRIMARY KEY CHECK (id = 1), "
                "serial bigint NOT NULL, lineage text NOT NULL, body bytea NOT NULL, "
                "saved timestamptz NOT NULL DEFAULT now())").format(self._state))
            conn.execute(sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (lineage text NOT NULL, serial bigint NOT NULL, "
                "body bytea NOT NULL, saved timestamptz NOT NULL DEFAULT now(), "
                "PRIMARY KEY (lineage, serial))").format(self._history))
            conn.execute(sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (id integer PRIMARY KEY CHECK (id = 1), "
                "lock_id text NOT NULL, info bytea NOT NULL, "
                "taken timestamptz NOT NULL DEFAULT now())").format(self._lock))
            names = [self.where.table + suffix for suffix in SHAPES]
            rows = conn.execute(
                "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
                "JOIN pg_class c ON c.oid = a.attrelid WHERE c.oid = ANY(ARRAY[to_regclass(%s), "
                "to_regclass(%s), to_regclass(%s)]::oid[]) AND a.attnum > 0 AND NOT a.attisdropped",
                [f'"{name}"' for name in names]).fetchall()
        found: dict[str, dict[str, str]] = {}
        for table, column, kind in rows:
            found.setdefault(str(table), {})[str(column)] = str(kind)
        for suffix, columns in SHAPES.items():
            table = self.where.table + suffix
            for column, kind in columns.items():
                have = found.get(table, {}).get(column)
                if have != kind:
                    raise StateError(
                        f"{self.location}: the table {table} is not one hss-reconciler made (column "
                        f"{column}: expected {kind}, found {have or 'none'}); name another table with "
                        "table= in the URL, or move that table away. Nothing was changed.")

    # --- the state ------------------------------------------------------------------------------

    def read(self) -> Snapshot:
        rows = self._run("reading the state", sql.SQL(
            "SELECT CASE WHEN length(body) <= %s THEN body END, serial, length(body) FROM {} "
            "WHERE id = 1").format(self._state), (MAX_STATE_BYTES,))
        if not rows:
            return Snapshot(None, None)
        body, serial, size = rows[0]
        if body is None:  # not even fetched: a 1 GB row is refused without being sent
            raise StateError(f"{self.location}: the stored state is larger than "
                             f"{MAX_STATE_BYTES // (1024 * 1024)} MiB ({size} bytes); refused")
        return Snapshot(bytes(body), str(serial))

    def write(self, payload: bytes, expected: str | None, *, serial: int, lineage: str) -> str | None:
        with self._statement(f"writing the state (serial {serial})") as conn:
            if expected is None:
                cursor = conn.execute(sql.SQL(
                    "INSERT INTO {} (id, serial, lineage, body) VALUES (1, %s, %s, %s) "
                    "ON CONFLICT (id) DO NOTHING").format(self._state), (serial, lineage, payload))
            else:
                cursor = conn.execute(sql.SQL(
                    "UPDATE {} SET serial = %s, lineage = %s, body = %s, saved = now() "
                    "WHERE id = 1 AND serial = %s AND serial < %s").format(self._state),
                    (serial, lineage, payload, int(expected), serial))
            if cursor.rowcount != 1:
                raise ConcurrentWrite(f"{self.location}: the stored state changed since this run "
                                      "read it (another run wrote it)")
            conn.execute(sql.SQL(
                "INSERT INTO {} (lineage, serial, body) VALUES (%s, %s, %s) "
                "ON CONFLICT DO NOTHING").format(self._history), (lineage, serial, payload))
        return str(serial)

    # --- the lock -------------------------------------------------------------------------------

    def acquire(self, operation: str, timeout: float) -> HeldLock:
        info = LockInfo.new(self.location, operation)
        if not self.locking:
            return no_lock(info)
        deadline = time.monotonic() + timeout
        return wait_for_lock(lambda: self._try_lock(info, deadline), self._holder, self.location, timeout,
                             vanished=f"{self.location}: cannot take the state lock: it keeps appearing "
                                      "and vanishing")

    def _try_lock(self, info: LockInfo, deadline: float) -> HeldLock | None:
        # An uncommitted lock row (a stuck session) would hold this insert until statement_timeout:
        # it may wait only as long as --lock-timeout has left.
        wait_ms = int(max(MIN_LOCK_WAIT, deadline - time.monotonic()) * 1000)
        try:
            with self._statement("taking the state lock") as conn:
                conn.execute("SELECT set_config('lock_timeout', %s, true)", (f"{wait_ms}ms",))
                cursor = conn.execute(sql.SQL(
                    "INSERT INTO {} (id, lock_id, info) VALUES (1, %s, %s) ON CONFLICT (id) DO NOTHING"
                ).format(self._lock), (info.id, info.serialize()))
                taken = cursor.rowcount == 1
        except StateError as exc:
            if "lock timeout" not in str(exc):
                raise
            raise StateError(self._stuck_message(wait_ms / 1000)) from None
        return HeldLock(info, lambda: self._release(info)) if taken else None

    def _stuck_message(self, waited: float) -> str:
        """Who holds the lock table in a transaction that neither commits nor ends."""
        try:
            rows = self._run("looking for the session holding the state lock", sql.SQL(
                "SELECT a.pid, coalesce(a.usename, '?'), coalesce(host(a.client_addr), 'local'), "
                "coalesce(a.state, '?'), a.xact_start FROM pg_locks l "
                "JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.granted AND l.relation = to_regclass(%s) AND l.pid <> pg_backend_pid() "
                "ORDER BY a.xact_start LIMIT 1"), (f'"{self.where.table}_lock"',))
        except StateError:
            rows = []
        who = "another database session"
        if rows:
            pid, user, host, state, since = rows[0]
            started = f" since {since.isoformat(timespec='seconds')}" if since else ""
            who = f"database session {pid} (user {user} from {host}, {state}{started})"
        end = f"SELECT pg_terminate_backend({rows[0][0]})" if rows else "pg_terminate_backend"
        return (f"{self.location}: the state lock table is held by {who} in a transaction that has not "
                f"ended (waited {round(waited, 1):g}s); that is no hss-reconciler lock "
                f"that force-unlock can release: end that session ({end}) or wait longer with "
                "--lock-timeout. Nothing was changed.")

    def _holder(self) -> LockInfo | None:
        rows = self._run("reading the state lock",
                         sql.SQL("SELECT lock_id, info FROM {} WHERE id = 1").format(self._lock))
        if not rows:
            return None
        lock_id, raw = rows[0]
        try:
            return LockInfo.from_json(load_json(bytes(raw)[:MAX_LOCK_BYTES], 1))
        except ShapeError as problem:
            raise StateError(f"{self.location}: the state lock row is malformed ({problem.message}). If no "
                             "hss-reconciler run is using this state, release it with 'hss-reconciler "
                             f"force-unlock {lock_id} --state {self.location}'") from None

    def _release(self, info: LockInfo) -> None:
        """Delete our lock row; never raises (it runs on the way out).

        If the connection was lost, one new connection is made for it, the whole attempt
        within timeout=: a lock row left behind blocks every later run until force-unlock.
        """
        try:
            try:
                deleted = self._delete_lock(info, None)
            except StateError:
                if not self._lost():
                    raise
                deadline = time.monotonic() + self.where.timeout
                LOG.info("%s: the connection was lost; connecting again to release the state lock",
                         self.location)
                self._reconnect()
                deleted = self._delete_lock(info, max(deadline - time.monotonic(), 0.001))
            if deleted != 1:
                LOG.warning("the state lock %s on %s was already removed (force-unlock?)", info.id,
                            self.location)
        except Exception as exc:
            LOG.warning("could not release the state lock on %s (%s); once that is fixed, run "
                        "'hss-reconciler force-unlock %s --state %s'", self.location,
                        str(exc).removeprefix(f"{self.location}: "), info.id, self.location)

    def _delete_lock(self, info: LockInfo, within: float | None) -> int:
        """Delete our lock row (and only ours); how many rows went (1, or 0 if it was gone)."""
        with self._statement("releasing the state lock", within) as conn:
            cursor = conn.execute(sql.SQL("DELETE FROM {} WHERE id = 1 AND lock_id = %s").format(self._lock),
                                  (info.id,))
            return cursor.rowcount

    def force_unlock(self, lock_id: str) -> LockInfo:
        rows = self._run("reading the state lock",
                         sql.SQL("SELECT lock_id, info FROM {} WHERE id = 1").format(self._lock))
        if not rows:
            raise StateError(f"{self.location}: there is no state lock; nothing to release")
        held_id, raw = rows[0]
        try:
            holder = LockInfo.from_json(json.loads(bytes(raw)[:MAX_LOCK_BYTES]))
        except (ValueError, ShapeError):
            holder = LockInfo(held_id, "unknown", "unknown", 0, "unknown", "unknown", self.location)
        check_unlock_id(self.location, lock_id, held_id, holder)
        self._run("releasing the state lock", sql.SQL("DELETE FROM {} WHERE id = 1 AND lock_id = %s").format(
            self._lock), (held_id,))
        return holder

    def close(self) -> None:
        with self._guard:
            self._conn.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
