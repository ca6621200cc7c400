"""What a SELECT reads: the measurements it names (in storage, or a subquery's rows) and the
:class:`Context` a statement runs in (storage, the SQL engine, the request's defaults and now()).
A measurement's schema is its fields (name -> kind) and tag keys, from the catalog."""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from sql import errors as E
from sql.influxql import ast as A
from sql.influxql.compile import QueryError
from sql.influxql.functions import BOOLEAN, FLOAT, INTEGER, STRING, UNSIGNED
from sql.influxql.translate import Schema, SqlParams, ident


@dataclass
class Source:
    """One measurement the statement reads: in storage, or the rows of a subquery."""

    name: str
    database: str
    rp: str
    schema: Schema
    arrow: pa.Table | None = None  # subquery rows: time (timestamptz), tags, fields

    @property
    def key(self) -> tuple[str, str, str]:
        """What tells the sources of one statement apart (db1..cpu and db2..cpu share their name)."""
        return self.database, self.rp, self.name

    @property
    def sql_from(self) -> str:
        if self.arrow is not None:
            return "__influxql_subquery"
        return f"{ident(self.rp)}.{ident(self.name)}"


KILLED = "query killed by user"  # a query KILL QUERY stopped answers this, as in InfluxDB 1.x

# SQL engine -> its threads' sessions (Context.session)
_THREAD_SESSIONS: weakref.WeakKeyDictionary[Any, threading.local] = weakref.WeakKeyDictionary()
_THREAD_SESSIONS_LOCK = threading.Lock()


class Context:
    """What a statement runs against: storage, the SQL engine, the request's defaults and now()."""

    def __init__(self, storage: Any, sql_engine: Any, database: str, rp: str, now: int) -> None:
        self.storage = storage
        self.sql_engine = sql_engine
        self.database = database
        self.rp = rp
        self.now = now
        # on the HTTP event loop: past this perf_counter() time a native scan's next check raises
        # sql.immediate.Overrun, and SQL that DuckDB would run raises it at once (0: no limit)
        self.loop_deadline = 0.0
        # id(statement) -> condition_expr(its condition, now, UTC), computed by the caller; each
        # taken once (compile_select changes the time range it returns)
        self.conditions: dict[int, tuple[Any, Any]] = {}
        # the parse cache's template of the statements (sql/influxql/parse_cache.py), when they were
        # parsed without bound parameters, and the index of the one running: what depends only on
        # a statement's template is kept by it (select.py's memo)
        self.template: str | None = None
        self.text = ""
        self.statement_index = 0
        self.query: Any = None  # its sql.activity.InfluxQuery (SHOW QUERIES, KILL QUERY), if registered
        self.user: Any = None  # the sql.influxql.users.User who asked, when authentication is on

    def session(self, database: str) -> Any:
        """A SQL session on ``database`` for one statement's SQL, run to its end before the next.

        InfluxQL sets nothing in its sessions (no SET, no transaction), so each thread keeps one
        per SQL engine and database for every request it runs (a session's __init__ and its settings
        cost more than a small query's planning); not shared between threads, as a session keeps
        the state of the statement it runs (deadlines, cancellation)."""
        local = _THREAD_SESSIONS.get(self.sql_engine)
        if local is None:
            with _THREAD_SESSIONS_LOCK:
                local = _THREAD_SESSIONS.setdefault(self.sql_engine, threading.local())
        sessions: dict[str, Any] | None = getattr(local, "sessions", None)
        if sessions is None:
            sessions = local.sessions = {}
        s = sessions.get(database)
        if s is None:
            s = sessions[database] = self.sql_engine.session(database, user="influxql")
        s.loop_deadline = self.loop_deadline
        query = self.query
        if query is not None:
            if query.killed:
                raise QueryError(KILLED)
            query.session = s  # what KILL QUERY cancels
        return s

    def sql(self, src: Source, text: str, params: SqlParams | None = None) -> pa.Table:
        """The result of ``text``, whose ``$n`` are ``params`` (plan.where_sql's)."""
        try:
            if src.arrow is not None:
                return self._sql_arrow(src.arrow, text)
            session = self.session(src.database)
            if params is None or not params.values:
                prepared = session.prepare(text, [])
                result = session.execute(prepared, [])
            else:
                prepared = session.prepare(text, params.oids)
                result = session.execute(prepared, params.values)
            if result.table is not None:  # the native executor's, as made (every caller reads an
                return result.table  # empty one's rows only: no table of null columns to build)
            batches = list(result.batches)
        except E.SqlError as e:
            if self.query is not None and self.query.killed:
                raise QueryError(KILLED) from e
            raise QueryError(str(e)) from e
        if not batches:
            names = [c.name for c in prepared.columns or []]
            return pa.table({n: pa.array([], pa.null()) for n in names})
        return pa.Table.from_batches(batches)

    def _sql_arrow(self, table: pa.Table, text: str) -> pa.Table:
        import duckdb
        import sqlglot

        duck_sql = sqlglot.transpile(text, read="postgres", write="duckdb")[0]
        cur = self.sql_engine.duck.cursor()
        try:
            cur.register("__influxql_subquery", table)
            return cur.sql(duck_sql).to_arrow_table()
        except duckdb.Error as e:
            raise QueryError(str(e)) from e
        finally:
            cur.close()


_KIND_OF = {1: FLOAT, 2: INTEGER, 3: UNSIGNED, 4: BOOLEAN, 5: STRING}


def table_schema(meta: Any) -> Schema:
    fields: dict[str, str] = {}
    tags: set[str] = set()
    for c in meta.columns:
        if c.kind == "tag":
            tags.add(c.name)
        elif c.kind == "field" and c.type is not None:
            fields[c.name] = _KIND_OF[int(c.type)]
    return Schema(fields, tags)


def resolve_database(ctx: Context, name: str) -> str:
    db = name or ctx.database
    if not db:
        raise QueryError("database name required")
    from columnar.errors import DatabaseNotFound

    try:
        ctx.storage.catalog.database(db)
    except DatabaseNotFound:
        raise QueryError(f"database not found: {db}") from None
    return db


def resolve_rp(ctx: Context, database: str, rp: str) -> str:
    from columnar.errors import RetentionPolicyNotFound

    name = rp or (ctx.rp if database == ctx.database or not ctx.database else "") or None
    try:
        return ctx.storage.catalog.retention_policy(database, name).name
    except RetentionPolicyNotFound:
        raise QueryError(f"retention policy not found: {name}") from None


def measurements(ctx: Context, m: A.Measurement) -> list[Source]:
    db = resolve_database(ctx, m.database)
    rp = resolve_rp(ctx, db, m.rp)
    dbm = ctx.storage.catalog.database(db)
    if m.regex is not None:
        metas = [t for t in ctx.storage.catalog.tables(dbm.id, rp) if m.regex.compiled.search(t.name)]
    else:
        meta = ctx.storage.table(dbm.id, rp, m.name)
        metas = [meta] if meta is not None else []
    return [Source(t.name, db, rp, table_schema(t)) for t in sorted(metas, key=lambda t: t.name)]
