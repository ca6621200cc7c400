"""The server's live SQL sessions, for pg_stat_activity, pg_cancel_backend and pg_terminate_backend,
and its running InfluxQL queries, for SHOW QUERIES and KILL QUERY.

One :class:`Activity` per :class:`~sql.engine.SqlEngine`: a dict backend pid -> session. A protocol
attaches a session when its client is connected (pgwire: after start-up, with the pid the client got in
BackendKeyData) and the session leaves at close. Reading and writing the dict needs no lock (single
dict operations are atomic); the statement a session runs is two attribute sets on the session itself
(``query``, ``query_start``), so the hot path pays nothing more. Whether a session is running something
now is asked of the protocol (``busy``), which knows when its rows are still being sent.

pg_cancel_backend(pid) / pg_terminate_backend(pid [, timeout]) are evaluated per row, as in PostgreSQL:
the rewrite (sql/rewrite/session_functions.py) turns each call into the DuckDB function
``tsgres_signal_backend(call, what, pid, timeout)``, a Python UDF installed once into the engine's
DuckDB database (:meth:`Activity.install`; every cursor sees it). ``call`` is the token of the
:class:`SignalCall` the executing statement registered (sql/engine.py, ``_run_signal``): the session
that runs it, the WARNINGs its calls report (sent to its client as NoticeResponse through
``Connection.notice``), and the error that stops it when it cancels or terminates its own session.
The UDF acts at once, from whichever DuckDB thread evaluates the row: these are operator statements,
not hot paths, and ordinary queries never meet it.

    SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'x'
    -> SELECT tsgres_signal_backend(7, 'terminate', CAST(pid AS INT), CAST(0 AS BIGINT)) FROM ...

An InfluxQL query is registered for as long as its statements run (sql/influxql/execute.py), under a
qid counted from 1; killing it cancels the SQL session its thread runs the query's SQL in.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sql import errors as E

if TYPE_CHECKING:
    import duckdb

    from sql.engine import SqlSession


@dataclass
class Connection:
    """What the protocol tells about a session's client and how to reach it."""

    client_addr: str | None = None
    client_port: int | None = None
    busy: Callable[[], bool] = lambda: False  # a statement runs or its rows are being sent
    cancel: Callable[[], None] | None = None  # cancel the running statement (any thread)
    terminate: Callable[[], None] | None = None  # close the connection, FATAL 57P01 (any thread)
    # send the client a NoticeResponse (a WARNING or NOTICE) now: called by the thread running the
    # session's statement, so it arrives before that statement's rows or error, as in PostgreSQL
    notice: Callable[[E.SqlError], None] | None = None
    backend_start: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


# (call BIGINT, what VARCHAR, pid INT, timeout_ms BIGINT) -> BOOLEAN
SIGNAL_FUNCTION = "tsgres_signal_backend"
TERMINATE_POLL_S = 0.01  # pg_terminate_backend(pid, timeout): how often it looks whether pid is gone


@dataclass
class SignalCall:
    """One execution of a statement that calls pg_cancel_backend / pg_terminate_backend."""

    token: int
    session: SqlSession  # the session executing it (its pid is "own")
    notices: list[E.SqlError] = field(default_factory=list)  # WARNINGs for its client, in call order
    # what stops the statement: its own session cancelled (57014) or terminated (FATAL 57P01), a
    # negative timeout (22003); the UDF raises to stop DuckDB, the engine raises this instead
    error: E.SqlError | None = None


class _Stop(Exception):  # noqa: N818 - not an error itself: SignalCall.error says what stopped DuckDB
    pass


class Activity:
    def __init__(self) -> None:
        self._sessions: dict[int, SqlSession] = {}
        self.influxql = InfluxQueries()
        self._calls: dict[int, SignalCall] = {}
        self._tokens = itertools.count(1)  # (0: no call; the token a described statement carries)

    def install(self, con: duckdb.DuckDBPyConnection) -> None:
        """Put :data:`SIGNAL_FUNCTION` into ``con``'s database (every cursor of it sees it). NULL in any
        argument gives NULL without a call: both functions are strict in PostgreSQL."""
        con.create_function(
            SIGNAL_FUNCTION,
            self._signal_row,
            ["BIGINT", "VARCHAR", "INTEGER", "BIGINT"],
            "BOOLEAN",
            side_effects=True,  # (never folded, cached or evaluated for rows a filter drops)
        )

    def begin(self, session: SqlSession) -> SignalCall:
        call = SignalCall(next(self._tokens), session)
        self._calls[call.token] = call
        return call

    def end(self, call: SignalCall) -> None:
        self._calls.pop(call.token, None)

    def _signal_row(self, token: int, what: str, pid: int, timeout_ms: int) -> bool:
        """pg_cancel_backend / pg_terminate_backend of one row, as PostgreSQL 15 answers it: true once
        the session is signalled; false with a WARNING for a pid no session has (or, with a timeout,
        one that has not ended within it); its own session's statement stops at once (cancelled, or
        the session terminated), before any further row is signalled."""
        call = self._calls.get(token)
        if call is None:  # run by a path that registered no call (INSERT ... SELECT, EXPLAIN ANALYZE)
            raise RuntimeError(
                "pgsql 0A000: pg_cancel_backend() and pg_terminate_backend() are supported in SELECT "
                "statements only"
            )
        if timeout_ms < 0:
            call.error = E.NumericValueOutOfRange('"timeout" must not be negative')
            raise _Stop
        if pid == call.session.backend_pid:
            call.error = (
                E.AdminShutdown("terminating connection due to administrator command")
                if what == "terminate"
                else E.QueryCanceled("canceling statement due to user request")
            )
            raise _Stop
        if not self.signal(what, pid):
            call.notices.append(E.Warning_(f"PID {pid} is not a PostgreSQL backend process"))
            return False
        if what == "terminate" and timeout_ms > 0 and not self._ended(pid, timeout_ms / 1000):
            call.notices.append(
                E.Warning_(f"backend with PID {pid} did not terminate within {timeout_ms} milliseconds")
            )
            return False
        return True

    def _ended(self, pid: int, timeout_s: float) -> bool:
        """Whether the session ``pid`` leaves within ``timeout_s`` (pg_terminate_backend's wait)."""
        deadline = time.monotonic() + timeout_s
        while pid in self._sessions:
            if time.monotonic() >= deadline:
                return False
            time.sleep(TERMINATE_POLL_S)
        return True

    def attach(self, session: SqlSession) -> None:
        self._sessions[session.backend_pid] = session

    def detach(self, session: SqlSession) -> None:
        if self._sessions.get(session.backend_pid) is session:
            self._sessions.pop(session.backend_pid, None)

    def sessions(self) -> list[SqlSession]:
        return sorted(list(self._sessions.values()), key=lambda s: s.backend_pid)

    def signal(self, what: str, pid: int) -> bool:
        """Cancel (``"cancel"``) the statement backend ``pid`` runs, or close its connection
        (``"terminate"``); False when no session has that pid."""
        session = self._sessions.get(pid)
        if session is None:
            return False
        conn = session.connection
        if what == "terminate":
            if conn is not None and conn.terminate is not None:
                conn.terminate()
                return True
            return False
        if conn is not None and conn.cancel is not None:
            conn.cancel()
        else:
            session.cancel()
        return True


@dataclass
class InfluxQuery:
    """A running InfluxQL query (SHOW QUERIES lists it, KILL QUERY <qid> stops it)."""

    qid: int
    text: str
    database: str
    started: float = field(default_factory=time.monotonic)
    killed: bool = False
    session: Any = None  # the SQL session running the query's SQL now (its thread's, see Context)

    def duration(self) -> str:
        """How long it has run, as InfluxDB 1.x writes it: Go's Duration, truncated to its unit."""
        return go_duration(int((time.monotonic() - self.started) * 1e9))


class InfluxQueries:
    """The server's running InfluxQL queries, by qid (a dict; inserts and removals need no lock)."""

    def __init__(self) -> None:
        self._queries: dict[int, InfluxQuery] = {}
        self._qids = itertools.count(1)
        # SHOW STATS' queryExecutor module (sql/influxql/stats.py): queries begun, ended, and the
        # nanoseconds the ended ones ran (counted by a few threads: a lost increment does no harm)
        self.executed = 0
        self.finished = 0
        self.duration_ns = 0

    def begin(self, text: str, database: str) -> InfluxQuery:
        q = InfluxQuery(next(self._qids), text.strip().rstrip(";"), database)
        self._queries[q.qid] = q
        self.executed += 1
        return q

    def end(self, q: InfluxQuery) -> None:
        self._queries.pop(q.qid, None)
        self.finished += 1
        self.duration_ns += int((time.monotonic() - q.started) * 1e9)

    def running(self) -> list[InfluxQuery]:
        return sorted(list(self._queries.values()), key=lambda q: q.qid)

    def kill(self, qid: int) -> bool:
        """Stop query ``qid``: its current SQL is cancelled (again for a short while, in case it had
        not begun) and it answers "query killed by user"; False when no query has that qid."""
        q = self._queries.get(qid)
        if q is None:
            return False
        q.killed = True
        for _ in range(KILL_RETRIES):
            session = q.session
            if session is not None:
                session.cancel()
            if qid not in self._queries:
                break
            time.sleep(KILL_RETRY_S)
        return True


KILL_RETRIES = 5  # a cancel that came before the SQL began is lost (execute resets the flag)
KILL_RETRY_S = 0.01


def go_duration(ns: int) -> str:
    """Go's time.Duration.String() of ``ns`` after InfluxDB's truncation (SHOW QUERIES): whole
    seconds past 1s, else whole milliseconds, else whole microseconds ("5s", "1m5s", "123ms", "49µs")."""
    if ns >= 1_000_000_000:
        s = ns // 1_000_000_000
        h, rest = divmod(s, 3600)
        m, sec = divmod(rest, 60)
        if h:
            return f"{h}h{m}m{sec}s"
        if m:
            return f"{m}m{sec}s"
        return f"{sec}s"
    if ns >= 1_000_000:
        return f"{ns // 1_000_000}ms"
    if ns >= 1_000:
        return f"{ns // 1_000}µs"
    return f"{ns}ns"
