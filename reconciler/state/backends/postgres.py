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
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import psycopg
from psycopg import sql

from reconciler.errors import StateError
from reconciler.state.backends.base import ConcurrentWrite, Revision, Snapshot
from reconciler.state.backends.location import PgLocation
from reconciler.state.jsonshape import ShapeError, load_json
from reconciler.state.lock import HeldLock, LockInfo, no_lock, wait_for_lock
from reconciler.state.model import MAX_STATE_BYTES

LOG = logging.getLogger(__name__)
CONNECT_TIMEOUT = 10  # seconds (libpq's connect_timeout)
STATEMENT_TIMEOUT_MS = 30_000
# Serialises the CREATE TABLE IF NOT EXISTS of concurrent first runs (they race on pg_type otherwise).
SCHEMA_LOCK_KEY = 0x4853_5352  # "HSSR"


class PostgresBackend:
    def __init__(self, where: PgLocation) -> None:
        self.where = where
        self.location = where.url
        self.locking = where.lock
        self._guard = threading.Lock()  # one statement at a time on the connection
        self._conn = self._connect()
        t = where.table
        self._state, self._history, self._lock = (sql.Identifier(t), sql.Identifier(t + "_history"),
                                                  sql.Identifier(t + "_lock"))
        self._ensure_tables()

    def _connect(self) -> psycopg.Connection[Any]:
        w = self.where
        extra: dict[str, Any] = {"sslmode": w.sslmode} if w.sslmode else {}
        try:
            conn = psycopg.connect(host=w.host, port=w.port, user=w.user, dbname=w.dbname,
                                   connect_timeout=CONNECT_TIMEOUT, application_name="hss-reconciler",
                                   options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}", **extra)
        except psycopg.Error as exc:
            raise StateError(f"{self.location}: cannot connect ({_first_line(exc)}); the password comes "
                             "from PGPASSWORD or ~/.pgpass") from None
        return conn

    def _run(self, doing: str, query: sql.Composed, params: tuple[Any, ...] = ()) -> psycopg.Cursor[Any]:
        """One statement in its own transaction, committed before returning."""
        with self._guard:
            try:
                with self._conn.transaction():
                    return self._conn.execute(query, params)
            except psycopg.Error as exc:
                raise StateError(f"{self.location}: {doing} failed ({_first_line(exc)})") from None

    def _ensure_tables(self) -> None:
        with self._guard:
            try:
                with self._conn.transaction():
                    self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
                    self._conn.execute(sql.SQL(
                        "CREATE TABLE IF NOT EXISTS {} (id integer PRIMARY KEY CHECK (id = 1), "
                        "serial bigint NOT NULL, lineage text NOT NULL, body bytea NOT NULL, "
                        "saved timestamptz NOT NULL DEFAULT now())").format(self._state))
                    self._conn.execute(sql.SQL(
                        "CREATE TABLE IF NOT EXISTS {} (lineage text NOT NULL, serial bigint NOT NULL, "
                        "body bytea NOT NULL, saved timestamptz NOT NULL DEFAULT now(), "
                        "PRIMARY KEY (lineage, serial))").format(self._history))
                    self._conn.execute(sql.SQL(
                        "CREATE TABLE IF NOT EXISTS {} (id integer PRIMARY KEY CHECK (id = 1), "
                        "lock_id text NOT NULL, info bytea NOT NULL, "
                        "taken timestamptz NOT NULL DEFAULT now())").format(self._lock))
            except psycopg.Error as exc:
                raise StateError(f"{self.location}: cannot create or check the state tables "
                                 f"({_first_line(exc)})") from None

    # --- the state ------------------------------------------------------------------------------

    def read(self) -> Snapshot:
        row = self._run("reading the state", sql.SQL(
            "SELECT body, serial, length(body) FROM {} WHERE id = 1").format(self._state)).fetchone()
        if row is None:
            return Snapshot(None, None)
        if row[2] > MAX_STATE_BYTES:
            raise StateError(f"{self.location}: the stored state is larger than "
                             f"{MAX_STATE_BYTES // (1024 * 1024)} MiB; refused")
        return Snapshot(bytes(row[0]), str(row[1]))

    def write(self, payload: bytes, expected: str | None, *, serial: int, lineage: str) -> str | None:
        with self._guard:
            try:
                with self._conn.transaction():
                    if expected is None:
                        cursor = self._conn.execute(sql.SQL(
                            "INSERT INTO {} (id, serial, lineage, body) VALUES (1, %s, %s, %s) "
                            "ON CONFLICT (id) DO NOTHING").format(self._state), (serial, lineage, payload))
                    else:
                        cursor = self._conn.execute(sql.SQL(
                            "UPDATE {} SET serial = %s, lineage = %s, body = %s, saved = now() "
                            "WHERE id = 1 AND serial = %s AND serial < %s").format(self._state),
                            (serial, lineage, payload, int(expected), serial))
                    if cursor.rowcount != 1:
                        raise ConcurrentWrite(f"{self.location}: the stored state changed since this run "
                                              "read it (another run wrote it)")
                    self._conn.execute(sql.SQL(
                        "INSERT INTO {} (lineage, serial, body) VALUES (%s, %s, %s) "
                        "ON CONFLICT DO NOTHING").format(self._history), (lineage, serial, payload))
            except psycopg.Error as exc:
                raise StateError(f"{self.location}: writing the state (serial {serial}) failed "
                                 f"({_first_line(exc)})") from None
        return str(serial)

    def history(self, limit: int = 20) -> list[Revision]:
        rows = self._run("listing the state's versions", sql.SQL(
            "SELECT serial, saved, lineage FROM {} ORDER BY saved DESC, serial DESC LIMIT %s").format(
            self._history), (max(1, limit),)).fetchall()
        return [Revision(int(serial), saved.isoformat(), f"{lineage}/{serial}")
                for serial, saved, lineage in rows]

    # --- the lock -------------------------------------------------------------------------------

    def acquire(self, operation: str, timeout: float) -> HeldLock:
        info = LockInfo.new(self.location, operation)
        if not self.locking:
            return no_lock(info)
        return wait_for_lock(lambda: self._try_lock(info), self._holder, self.location, timeout,
                             vanished=f"{self.location}: cannot take the state lock: it keeps appearing "
                                      "and vanishing")

    def _try_lock(self, info: LockInfo) -> HeldLock | None:
        cursor = self._run("taking the state lock", sql.SQL(
            "INSERT INTO {} (id, lock_id, info) VALUES (1, %s, %s) ON CONFLICT (id) DO NOTHING").format(
            self._lock), (info.id, info.serialize()))
        return HeldLock(info, lambda: self._release(info)) if cursor.rowcount == 1 else None

    def _holder(self) -> LockInfo | None:
        row = self._run("reading the state lock", sql.SQL("SELECT lock_id, info FROM {} WHERE id = 1").format(
            self._lock)).fetchone()
        if row is None:
            return None
        try:
            return LockInfo.from_json(load_json(bytes(row[1])[:65536], 1))
        except ShapeError as problem:
            raise StateError(f"{self.location}: the state lock row is malformed ({problem.message}). If no "
                             "hss-reconciler run is using this state, release it with 'hss-reconciler "
                             f"force-unlock {row[0]} --state {self.location}'") from None

    def _release(self, info: LockInfo) -> None:
        """Delete our lock row; never raises (it runs on the way out)."""
        try:
            cursor = self._run("releasing the state lock", sql.SQL(
                "DELETE FROM {} WHERE id = 1 AND lock_id = %s").format(self._lock), (info.id,))
            if cursor.rowcount != 1:
                LOG.warning("the state lock %s on %s was already removed (force-unlock?)", info.id,
                            self.location)
        except Exception as exc:
            LOG.warning("could not release the state lock on %s (%s); once that is fixed, run "
                        "'hss-reconciler force-unlock %s --state %s'", self.location, exc, info.id,
                        self.location)

    def force_unlock(self, lock_id: str) -> LockInfo:
        row = self._run("reading the state lock", sql.SQL("SELECT lock_id, info FROM {} WHERE id = 1").format(
            self._lock)).fetchone()
        if row is None:
            raise StateError(f"{self.location}: there is no state lock; nothing to release")
        try:
            holder = LockInfo.from_json(json.loads(bytes(row[1])[:65536]))
        except (ValueError, ShapeError):
            holder = LockInfo(row[0], "unknown", "unknown", 0, "unknown", "unknown", self.location)
        if row[0] != lock_id.strip():
            raise StateError(f"{self.location}: lock id {lock_id} does not match the lock held by "
                             f"{holder.describe()}; nothing was released")
        self._run("releasing the state lock", sql.SQL("DELETE FROM {} WHERE id = 1 AND lock_id = %s").format(
            self._lock), (row[0],))
        return holder

    def close(self) -> None:
        with self._guard:
            self._conn.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
