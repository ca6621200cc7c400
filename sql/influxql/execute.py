"""Running an InfluxQL query string: parse, then each statement in order, as InfluxDB's executor.

:func:`run` returns one :class:`StatementResult` per statement. A statement that fails carries its
error and the statements after it are not run (InfluxDB answers them "not executed"); a query that
does not parse raises :class:`sql.influxql.parser.ParseError` before anything runs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sql.immediate import Overrun
from sql.influxql import ast as A
from sql.influxql import cq
from sql.influxql.compile import QueryError
from sql.influxql.meta import manage, manage_users, show
from sql.influxql.parse_cache import parse_cached
from sql.influxql.select import execute_select
from sql.influxql.series import Series
from sql.influxql.source import KILLED, Context, resolve_database, resolve_rp

log = logging.getLogger("tsgres.influxql")


@dataclass
class StatementResult:
    statement_id: int
    series: list[Series] = field(default_factory=list)
    error: str | None = None
    messages: list[dict[str, str]] = field(default_factory=list)


def run(
    storage: Any,
    sql_engine: Any,
    text: str,
    *,
    database: str = "",
    rp: str = "",
    params: dict[str, Any] | None = None,
    read_only: bool = False,
    now: int | None = None,
) -> list[StatementResult]:
    return list(
        iter_results(
            storage,
            sql_engine,
            parse_cached(text, params),
            text,
            database=database,
            rp=rp,
            read_only=read_only,
            now=now,
        )
    )


def iter_results(
    storage: Any,
    sql_engine: Any,
    statements: list[A.Statement],
    text: str,
    *,
    database: str = "",
    rp: str = "",
    read_only: bool = False,
    now: int | None = None,
    loop_deadline: float = 0.0,
    conditions: dict[int, tuple[Any, Any]] | None = None,
    template: str | None = None,
    user: Any = None,
) -> Iterator[StatementResult]:
    """Run parsed statements lazily, one result at a time (a chunked response streams them).

    After a failed statement the rest are answered "not executed" under the failed statement's id,
    as InfluxDB 1.x does. With ``loop_deadline`` (a perf_counter() time; the caller runs SELECTs on
    its event loop) the SQL they run raises sql.immediate.Overrun past it or before DuckDB would run:
    nothing was answered, the caller runs the statements again elsewhere. ``conditions``: the
    statements' condition_expr results at ``now`` in UTC, by id(statement), when the caller has them.
    ``template``: the parse cache's template of ``text`` (parse_keyed), when parsed without bound
    parameters. ``user``: who asks, when authentication is on (SHOW DATABASES lists what they may use).
    """
    ctx = Context(storage, sql_engine, database, rp, now if now is not None else time.time_ns())
    ctx.loop_deadline = loop_deadline
    if conditions:
        ctx.conditions = dict(conditions)
    ctx.template = template
    ctx.text = text
    ctx.user = user
    queries = sql_engine.activity.influxql
    ctx.query = queries.begin(text, database)
    try:
        yield from _run_statements(ctx, statements, text, read_only)
    finally:
        queries.end(ctx.query)


def _run_statements(
    ctx: Context, statements: list[A.Statement], text: str, read_only: bool
) -> Iterator[StatementResult]:
    failed_id: int | None = None
    for i, stmt in enumerate(statements):
        if failed_id is not None:
            yield StatementResult(failed_id, error="not executed")
            continue
        res = StatementResult(i)
        if read_only and stmt.requires_write():
            res.messages.append(
                {
                    "level": "warning",
                    "text": f"deprecated use of '{_text(ctx, text, stmt)}' in a read only context, please use a POST request instead",
                }
            )
        ctx.statement_index = i
        try:
            if ctx.query.killed:
                raise QueryError(KILLED)
            res.series = execute_statement(ctx, stmt)
            if ctx.query.killed:  # (its SQL had ended: the rest of its work is not interrupted)
                res.series = []
                raise QueryError(KILLED)
        except QueryError as e:
            res.error = str(e)
            failed_id = i
        except Overrun:
            raise  # (not an error: the caller runs the statements again in a thread)
        except Exception as e:  # a bug: answer it in the statement's result, keep the traceback in the log
            log.exception("InfluxQL statement %d failed", i)
            res.error = f"internal error: {type(e).__name__}: {e}"
            failed_id = i
        yield res


def _text(ctx: Context, query: str, stmt: A.Statement) -> str:
    if isinstance(stmt, A.CreateDatabase):
        return f"CREATE DATABASE {A.quote_ident(stmt.name)}"
    if isinstance(stmt, A.DropDatabase):
        return f"DROP DATABASE {A.quote_ident(stmt.name)}"
    if isinstance(stmt, A.UserStatement):
        return str(stmt)  # (InfluxDB's text, with the password redacted)
    if isinstance(stmt, A.DropContinuousQuery):
        return f"DROP CONTINUOUS QUERY {A.quote_ident(stmt.name)} ON {A.quote_ident(stmt.database)}"
    if isinstance(stmt, A.CreateContinuousQuery):  # (InfluxDB names it as it will keep it)
        try:
            return cq.statement_text(cq.normalize(ctx, stmt))
        except QueryError:
            return cq.statement_text(stmt)
    return query.strip().rstrip(";")


def execute_statement(ctx: Context, stmt: A.Statement) -> list[Series]:
    if isinstance(stmt, A.SelectStatement):
        series = execute_select(ctx, stmt)
        if stmt.target is not None:
            return [write_into(ctx, stmt, series)]
        return series
    if isinstance(stmt, A.Explain):
        from sql.influxql.explain import explain

        return explain(ctx, stmt)
    if isinstance(stmt, A.KillQuery):
        if not ctx.sql_engine.activity.influxql.kill(stmt.qid):
            raise QueryError(f"no such query id: {stmt.qid}")
        return []
    if isinstance(stmt, A.UserStatement):
        return manage_users(ctx, stmt)
    if isinstance(stmt, A.CreateContinuousQuery):
        cq.create(ctx, stmt)
        return []
    if isinstance(stmt, A.DropContinuousQuery):
        cq.drop(ctx, stmt)
        return []
    if isinstance(stmt, A.Unsupported):
        raise QueryError(f"{stmt.text.split()[0]} statements are not supported by tsgres ({stmt.text})")
    if isinstance(
        stmt,
        A.ShowDatabases
        | A.ShowMeasurements
        | A.ShowTagKeys
        | A.ShowTagValues
        | A.ShowFieldKeys
        | A.ShowSeries
        | A.ShowCardinality
        | A.ShowRetentionPolicies
        | A.ShowShards
        | A.ShowShardGroups
        | A.ShowSimple,
    ):
        return show(ctx, stmt)
    return manage(ctx, stmt)


def write_into(ctx: Context, stmt: A.SelectStatement, series: list[Series]) -> Series:
    """SELECT ... INTO: the result rows as points of the target measurement."""
    from columnar.batch import WriteBatch
    from columnar.types import FieldType

    target = stmt.target
    assert target is not None
    db = resolve_database(ctx, target.database)
    rp = resolve_rp(ctx, db, target.rp)
    written = 0
    by_table: dict[str, list[Series]] = {}
    for s in series:
        by_table.setdefault(target.name or s.name, []).append(s)
    for table, group in by_table.items():
        times: list[int] = []
        tags: list[dict[str, str]] = []
        cols = group[0].columns[1:]
        values: dict[str, list[Any]] = {c: [] for c in cols}
        unfilled = _filled_counts(stmt, cols)
        for s in group:
            for row in s.values:
                if unfilled:  # (a window's count() shows 0 under fill(null), but it has no value)
                    row = [None if i in unfilled and v == 0 else v for i, v in enumerate(row)]
                if all(v is None for v in row[1:]):
                    continue
                times.append(row[0])
                tags.append({k: v for k, v in (s.tags or {}).items() if v})
                for c, v in zip(cols, row[1:], strict=False):
                    values[c].append(v)
        if not times:
            continue
        types: dict[str, FieldType] = {}
        fields: dict[str, Any] = {}
        for c, vals in values.items():
            present = [v for v in vals if v is not None]
            if not present:
                continue
            if all(isinstance(v, bool) for v in present):
                types[c] = FieldType.BOOLEAN
            elif all(isinstance(v, int) and not isinstance(v, bool) for v in present):
                types[c] = FieldType.INTEGER
            elif all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
                types[c] = FieldType.FLOAT
                vals = [None if v is None else float(v) for v in vals]
            else:
                types[c] = FieldType.STRING
                vals = [None if v is None else str(v) for v in vals]
            fields[c] = vals
        batch = WriteBatch.from_rows(table, np.array(times, dtype=np.int64), tags, fields, types)
        res = ctx.storage.write(db, batch, rp=rp)
        if res.errors:
            raise QueryError(str(res.errors[0]))
        written += res.rows_written
    ctx.sql_engine.schema_changed()
    return Series("result", None, ["time", "written"], [[0, written]])


def _filled_counts(stmt: A.SelectStatement, cols: list[str]) -> set[int]:
    """The row positions of the count() columns whose 0 is fill(null)'s: InfluxDB shows an empty
    window's count as 0 but writes nothing for it (a count of points that exist is never 0)."""
    if stmt.fill != "null" or not any(
        isinstance(f.expr, A.Call) and f.expr.name == "count" for f in stmt.fields
    ):
        return set()
    if len(stmt.fields) == len(cols):  # (no wildcard: the columns are the fields)
        return {
            i + 1 for i, f in enumerate(stmt.fields) if isinstance(f.expr, A.Call) and f.expr.name == "count"
        }
    return {i + 1 for i, c in enumerate(cols) if c == "count" or c.startswith("count_")}
