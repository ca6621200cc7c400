"""InfluxDB 1.x continuous queries: where they are kept, when they run and over which time range.

The queries live in the storage catalog (meta key :data:`KEY`, JSON: database -> [{name, query}] in
creation order), so they survive restarts; sql/influxql/cq.py creates, drops and lists them. The
server runs :meth:`Scheduler.run_due` every ``continuous_query_check_interval_s`` (a second, as
InfluxDB's RunInterval) with the retention loop's mechanism (tsgres/server.py's start_job); each
query that is due runs its SELECT ... INTO over its time range as an InfluxQL query of its database,
through the same code as a /query request (sql/influxql/execute.py). A failure is logged; the
query runs again at its next boundary.

Timing, as InfluxDB 1.x's continuous querier (docs/influxql.md): with I the GROUP BY time()
interval, O its offset, E = RESAMPLE EVERY (default I) and F = RESAMPLE FOR (default I, or E when
E > I), and trunc(t, d) rounding down to a multiple of d since the epoch (in the query's tz()):

- a query runs when the server first sees it (start-up or creation), then whenever ``now`` reaches
  its last run + E, where a run at ``now`` counts as the run at trunc(now - O, E) + O;
- it covers [trunc(next + I - F - O - 1ns, I) + O, trunc(now + I - min(E, I) - O, I) + O), where
  ``next`` is the time it was due (``now`` for a first run); an empty range is skipped. So a plain
  query covers the interval that has just ended, RESAMPLE FOR the last F up to that end, and a
  first run without RESAMPLE covers nothing unless ``now`` is on a boundary;
- the time conditions of its WHERE clause are replaced by that range.

The last runs are kept in memory as InfluxDB keeps them: after a restart each query starts afresh.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
import zoneinfo
from dataclasses import asdict, dataclass
from typing import Any

log = logging.getLogger("tsgres.continuous")

KEY = "influxql_continuous_queries"
_lock = threading.Lock()  # (sessions add and drop queries while the server's loop runs them)


class AlreadyExists(Exception):
    """A query of that name exists on the database with another text."""


@dataclass(frozen=True)
class ContinuousQuery:
    name: str
    query: str  # the CREATE CONTINUOUS QUERY statement as InfluxDB prints it (sql/influxql/cq.py)


# -- the catalog --------------------------------------------------------------------------------------------
def queries(storage: Any) -> dict[str, list[ContinuousQuery]]:
    """database -> its queries, in creation order."""
    raw = storage.catalog.get_meta(KEY)
    if not raw:
        return {}
    return {db: [ContinuousQuery(**q) for q in qs] for db, qs in json.loads(raw).items()}


def _save(storage: Any, by_db: dict[str, list[ContinuousQuery]]) -> None:
    doc = {db: [asdict(q) for q in qs] for db, qs in by_db.items() if qs}
    storage.catalog.set_meta(KEY, json.dumps(doc) if doc else None)


def add(storage: Any, database: str, name: str, query: str) -> bool:
    """Add a query; False when one of that name and text (ignoring case) exists already. Raises
    AlreadyExists when one of that name has another text."""
    with _lock:
        by_db = queries(storage)
        mine = by_db.setdefault(database, [])
        for q in mine:
            if q.name == name:
                if q.query.lower() == query.lower():
                    return False
                raise AlreadyExists(name)
        mine.append(ContinuousQuery(name, query))
        _save(storage, by_db)
    return True


def remove(storage: Any, database: str, name: str) -> bool:
    """Drop a query; whether it existed."""
    with _lock:
        by_db = queries(storage)
        mine = by_db.get(database, [])
        keep = [q for q in mine if q.name != name]
        if len(keep) == len(mine):
            return False
        by_db[database] = keep
        _save(storage, by_db)
    return True


def drop_database(storage: Any, database: str) -> None:
    """Forget a dropped database's queries (a database created again by that name has none)."""
    with _lock:
        by_db = queries(storage)
        if by_db.pop(database, None) is not None:
            _save(storage, by_db)


# -- timing -------------------------------------------------------------------------------------------------
def _zone_offset_ns(t: int, zone: dt.tzinfo | None) -> int:
    if zone is None:
        return 0
    when = dt.datetime.fromtimestamp(t // 1_000_000_000, dt.UTC).astimezone(zone)
    off = when.utcoffset()
    return 0 if off is None else int(off.total_seconds()) * 1_000_000_000


def truncate(t: int, d: int, zone: dt.tzinfo | None = None) -> int:
    """``t`` rounded down to a multiple of ``d`` since the epoch, in ``zone``'s wall clock; when the
    zone's offset differs at the result (a daylight-saving change), moved by the difference if that
    is less than ``d``."""
    off = _zone_offset_ns(t, zone)
    out = t - (t + off) % d
    diff = off - _zone_offset_ns(out, zone)
    if diff and abs(diff) < d:
        out += diff
    return out


@dataclass(frozen=True)
class Timing:
    interval: int  # the GROUP BY time() interval (ns)
    offset: int  # its offset (ns, Go's remainder by the interval)
    every: int = 0  # RESAMPLE EVERY (0: not given)
    for_: int = 0  # RESAMPLE FOR (0: not given)
    zone: dt.tzinfo | None = None  # tz()

    def due(self, last_run: int | None, now: int) -> int | None:
        """When the query was due (now, for a first run), or None when it is not due yet."""
        if last_run is None:
            return now
        nxt = last_run + (self.every or self.interval)
        return nxt if nxt <= now else None

    def run(self, due: int, now: int) -> tuple[int, tuple[int, int] | None]:
        """(the time the run at ``now`` counts as, the time range [start, end) it covers or None)."""
        interval, offset, zone = self.interval, self.offset, self.zone
        every = self.every or interval
        last_run = truncate(now - offset, every, zone) + offset
        span = self.for_ or (every if interval < every else interval)
        start = truncate(due + interval - span - offset - 1, interval, zone) + offset
        end = truncate(now + interval - min(every, interval) - offset, interval, zone) + offset
        return last_run, ((start, end) if end > start else None)


# -- running ------------------------------------------------------------------------------------------------
@dataclass
class Run:
    database: str
    name: str
    start: int
    end: int
    written: int = 0
    error: str | None = None


class Scheduler:
    """Runs the catalog's continuous queries that are due at ``now``: the server calls
    :meth:`run_due` every second; tests call it with the times they choose."""

    def __init__(self, storage: Any, sql_engine: Any = None) -> None:
        self.storage = storage
        self._sql_engine = sql_engine  # None: one of its own, made when a query first runs
        self._owns_sql_engine = sql_engine is None
        self.last_runs: dict[tuple[str, str, str], int] = {}
        self._timings: dict[str, Timing | None] = {}  # query text -> its timing (None: it cannot run)
        self._running = threading.Lock()  # held by run_due: close() waits for a run in flight
        self._closed = False

    @property
    def sql_engine(self) -> Any:
        if self._sql_engine is None:
            from sql.engine import SqlEngine

            self._sql_engine = SqlEngine(self.storage)
        return self._sql_engine

    def close(self) -> None:
        """Wait for a run in flight (the server closes storage next), then run nothing more."""
        with self._running:
            self._closed = True
            if self._owns_sql_engine and self._sql_engine is not None:
                self._sql_engine.close()
                self._sql_engine = None

    def run_due(self, now_ns: int | None = None) -> list[Run]:
        """Run every query that is due at ``now_ns`` (default: the clock); the runs, in the order of
        databases and queries."""
        with self._running:
            return [] if self._closed else self._run_due(time.time_ns() if now_ns is None else now_ns)

    def _run_due(self, now: int) -> list[Run]:
        by_db = queries(self.storage)
        if not by_db:
            self.last_runs.clear()
            self._timings.clear()
            return []
        runs = []
        live = set()
        for db in sorted(self.storage.catalog.databases(), key=lambda d: d.id):
            for cq in by_db.get(db.name, []):
                key = (db.name, cq.name, cq.query)
                live.add(key)
                try:
                    run = self._run_one(db.name, cq, key, now)
                except Exception:  # (a bug: the server goes on, the query is tried at its next time)
                    log.exception("continuous query %s on %s failed", cq.name, db.name)
                    continue
                if run is not None:
                    runs.append(run)
        for gone in set(self.last_runs) - live:
            del self.last_runs[gone]
        texts = {key[2] for key in live}
        self._timings = {text: t for text, t in self._timings.items() if text in texts}
        return runs

    def _timing(self, database: str, cq: ContinuousQuery) -> Timing | None:
        """The query's timing, worked out once per text; None (logged once): it cannot run."""
        from sql.influxql import ast as A
        from sql.influxql.parser import Parser

        if cq.query in self._timings:
            return self._timings[cq.query]
        timing = None
        try:
            stmt = Parser(cq.query).parse_statement()
            assert isinstance(stmt, A.CreateContinuousQuery)
            select = stmt.source
            interval, _ = A.group_by_interval(select)
            if select.is_raw or not interval:
                log.warning(
                    "continuous query %s on %s does not run: continuous queries must be aggregate "
                    "queries with GROUP BY time()",
                    cq.name,
                    database,
                )
            else:
                zone = zoneinfo.ZoneInfo(select.location) if select.location not in (None, "UTC") else None
                offset = A.group_by_offset(select)
                timing = Timing(interval, offset, stmt.resample_every, stmt.resample_for, zone)
        except Exception:  # (a text this version cannot read: it never runs, and says so once)
            log.exception("continuous query %s on %s does not run", cq.name, database)
        self._timings[cq.query] = timing
        return timing

    def _run_one(self, database: str, cq: ContinuousQuery, key: tuple[str, str, str], now: int) -> Run | None:
        from sql.influxql import ast as A
        from sql.influxql.cq import select_text
        from sql.influxql.execute import run
        from sql.influxql.parser import Parser

        timing = self._timing(database, cq)
        if timing is None:
            return None
        due = timing.due(self.last_runs.get(key), now)
        if due is None:
            return None
        self.last_runs[key], window = timing.run(due, now)
        if window is None:
            return None
        start, end = window
        stmt = Parser(cq.query).parse_statement()  # (a tree of its own: its condition changes)
        assert isinstance(stmt, A.CreateContinuousQuery)
        select = stmt.source
        select.condition = _time_range(select.condition, start, end)
        text = select_text(select)
        result = run(self.storage, self.sql_engine, text, database=database, now=now)[0]
        out = Run(database, cq.name, start, end)
        if result.error is not None:
            out.error = result.error
            log.warning("continuous query %s on %s failed: %s (%s)", cq.name, database, result.error, text)
        else:
            out.written = int(result.series[0].values[0][1]) if result.series else 0
            log.info("continuous query %s on %s wrote %d points: %s", cq.name, database, out.written, text)
        return out


def _time_range(cond: Any, start: int, end: int) -> Any:
    """``cond`` without its time comparisons, and time >= start AND time < end."""
    from sql.influxql import ast as A
    from sql.influxql.lexer import T
    from sql.influxql.values import format_time

    def bound(op: T, t: int) -> Any:
        return A.BinaryExpr(op, A.VarRef("time"), A.StringLiteral(format_time(t)))

    out = A.BinaryExpr(T.AND, bound(T.GTE, start), bound(T.LT, end))
    rest = _without_time(cond)
    return out if rest is None else A.BinaryExpr(T.AND, A.ParenExpr(rest), out)


def _without_time(e: Any) -> Any:
    """``e`` with every comparison of time (and every call, such as now()) taken as true; None: all
    of it is true."""
    from sql.influxql import ast as A
    from sql.influxql.lexer import T

    if e is None or isinstance(e, A.Call):
        return None
    if isinstance(e, A.ParenExpr):
        inner = _without_time(e.expr)
        return None if inner is None else A.ParenExpr(inner)
    if isinstance(e, A.BinaryExpr):
        if e.op in (T.AND, T.OR):
            lhs, rhs = _without_time(e.lhs), _without_time(e.rhs)
            if lhs is None or rhs is None:
                return (lhs or rhs) if e.op is T.AND else None
            return A.BinaryExpr(e.op, lhs, rhs)
        if isinstance(e.lhs, A.VarRef) and e.lhs.name == "time":
            return None
    return e
