"""The server's live SQL sessions, for pg_stat_activity, pg_cancel_backend and pg_terminate_backend,
and its running InfluxQL queries, for SHOW QUERIES and KILL QUERY.

One :class:`Activity` per :class:`~sql.engine.SqlEngine`: a dict backend pid -> session. A protocol
attaches a session when its client is connected (pgwire: after start-up, with the pid the client got in
BackendKeyData) and the session leaves at close. Reading and writing the dict needs no lock (single
dict operations are atomic); the statement a session runs is two attribute sets on the session itself
(``query``, ``query_start``), so the hot path pays nothing more. Whether a session is running something
now is asked of the protocol (``busy``), which knows when its rows are still being sent.

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


class Activity:
    def __init__(self) -> None:
        self._sessions: dict[int, SqlSession] = {}
        self.influxql = InfluxQueries()

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

    def begin(self, text: str, database: str) -> InfluxQuery:
        q = InfluxQuery(next(self._qids), text.strip().rstrip(";"), database)
        self._queries[q.qid] = q
        return q

    def end(self, q: InfluxQuery) -> None:
        self._queries.pop(q.qid, None)

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
