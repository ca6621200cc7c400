"""SELECT execution: InfluxQL -> SQL for the SQL engine -> InfluxDB's series.

For every measurement a statement reads (names, regexes, ``db.rp.m``, subqueries: source.py), the
fields and dimensions are expanded over the sources' schemas (expand.py) and the data work goes to
the SQL engine as PostgreSQL-dialect queries whose time range and tag predicates reach the storage
scan and whose bucketed aggregates and last points take the native executor (plan.py). Raw SELECTs
(raw.py) and SELECTs with calls (calls.py) each give their series; this module merges those of
several sources, sorts them, and applies SLIMIT/SOFFSET. Subqueries run first and are read as
Arrow tables by DuckDB.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import threading
import weakref
from collections import OrderedDict
from typing import Any

import pyarrow as pa

from sql.influxql import ast as A
from sql.influxql.calls import run_calls
from sql.influxql.compile import (
    Compiled,
    ConditionPlan,
    QueryError,
    TimeRange,
    compile_select,
)
from sql.influxql.expand import column_names, expand_dimensions, expand_fields, union_schema
from sql.influxql.functions import BOOLEAN, FLOAT, INTEGER, STRING
from sql.influxql.parse_cache import CACHE as PARSE_CACHE
from sql.influxql.plan import Plan, limit_rows
from sql.influxql.raw import run_raw
from sql.influxql.series import Series
from sql.influxql.source import Context, Source, measurements
from sql.influxql.technical import TECHNICAL
from sql.influxql.translate import Schema
from sql.influxql.windows import Windows

NUMERIC_ONLY = {"sum", "mean", "median", "stddev", "spread", "integral", "percentile", "top", "bottom"}
NUMERIC_ONLY |= {"derivative", "non_negative_derivative", "difference", "non_negative_difference"}
NUMERIC_ONLY |= {"cumulative_sum", "moving_average", *TECHNICAL}


def execute_select(
    ctx: Context, stmt: A.SelectStatement, parent: Compiled | None = None, *, keep_tags: bool = False
) -> list[Series]:
    """The series of a SELECT. ``keep_tags`` (a subquery's raw rows): every point keeps its tags."""
    given = ctx.conditions.pop(id(stmt), None) if parent is None else None
    key = _memo_key(ctx, stmt) if parent is None and not keep_tags else None
    memo = _memo_store(ctx.sql_engine).get(key) if key is not None else None
    implicit: frozenset[str] = frozenset()
    sources: list[Source]
    if memo is not None:
        c = memo.compiled(stmt, ctx.now, given)
        sources = memo.sources
        plan = Plan(c, memo.fields, memo.dims, memo.columns, memo.windows, memo=memo.plan_memo)
    else:
        c = compile_select(stmt, ctx.now, parent=parent, condition=given)
        sources = []
        for s in stmt.sources:
            if isinstance(s, A.SubQuery):
                sources.extend(subquery_sources(ctx, s.statement, c))
            else:
                sources.extend(measurements(ctx, s))
        if not sources:
            return []
        sources = _merge_subquery_sources(sources)
        schema = union_schema(sources)
        dims = expand_dimensions(c, schema)
        if keep_tags and not c.calls:
            implicit = frozenset(t for t in schema.tags if t not in dims)
            dims = dims + sorted(implicit)
        fields = expand_fields(c, schema, dims)
        if not fields:
            return []
        _check_types(fields, schema)
        columns = column_names(fields, c.time_name, stmt.target is not None)
        windows = Windows(c.interval, c.offset, c.tz) if c.interval else None
        plan = Plan(c, fields, dims, columns, windows)
        if key is not None:
            _memo_store(ctx.sql_engine).put(key, _Memo(c, sources, plan))
    if c.tmin > c.tmax:
        return []
    out: list[Series] = []
    for src in sources:
        out.extend(run_source(ctx, plan, src))
    if len(sources) > 1 and len({s.name for s in sources}) < len(sources):
        out = _merge_same(out, c)
    if len(out) > 1:
        out.sort(key=lambda s: (s.name, sorted((s.tags or {}).items())))
    for series in out:
        if c.tz is not dt.UTC:
            series.tz = c.tz
        if implicit:
            series.implicit_tags = implicit
    if stmt.soffset or stmt.slimit:
        # as InfluxDB 1.x: SOFFSET without SLIMIT leaves no series
        out = out[stmt.soffset : stmt.soffset + stmt.slimit]
    if not c.ascending:
        out.reverse()
    return out


# -- what a statement's template decides, kept by template ---------------------------------------------------
# Dashboards and benchmarks send one statement again and again with other time bounds and tag values:
# the parse cache gives each text of a template the template's tree with the text's own values
# (sql/influxql/parse_cache.py). When those values are all in the WHERE clause, everything
# compile_select derives but the condition and the time range, the measurements read, their
# expanded fields and dimensions, the output columns and the windows depend on the template and the
# catalog only: they are kept by (template, statement index, database, retention policy, catalog
# schema version) and each text computes only its condition and time range (and the SQL text of
# its WHERE). A catalog change (a new field, tag or measurement; DDL; a dropped database) bumps the
# schema version: the next text compiles anew. Plan.memo keeps what run_calls / run_raw derive from
# the plan (which calls go to SQL, the SELECT list of their SQL), for the same key.
MAX_MEMOS = 1024


class _Memo:
    __slots__ = ("columns", "condition_plan", "dims", "fields", "plan_memo", "sources", "template", "windows")

    def __init__(self, c: Compiled, sources: list[Source], plan: Plan) -> None:
        self.template = copy.copy(c)
        self.template.condition = None
        self.template.time_range = TimeRange()
        self.sources = sources
        self.fields = plan.fields
        self.dims = plan.dims
        self.columns = plan.columns
        self.windows = plan.windows
        self.plan_memo = plan.memo
        # the template's condition split into time range and the rest (its shape is every text's:
        # only values in the WHERE clause differ, _memo_key), each text's own values bound to it
        self.condition_plan = ConditionPlan(c.stmt.condition)

    def compiled(self, stmt: A.SelectStatement, now: int, given: tuple[Any, Any] | None) -> Compiled:
        """compile_select(stmt, now, condition=given) for a statement of the template."""
        c = object.__new__(Compiled)  # copy.copy's result, without its __reduce_ex__ round (~3 us)
        c.__dict__.update(self.template.__dict__)
        c.stmt = stmt
        if given is None or c.tz is not dt.UTC:
            given = self.condition_plan.bind(stmt.condition, now, c.tz)
        cond, tr = given  # (validate_condition passed the template's: its calls are the template's)
        c.condition = cond
        c.time_range = TimeRange(tr.min, now if tr.max is None and c.interval else tr.max)
        return c


class _MemoStore:
    def __init__(self) -> None:
        self._memos: OrderedDict[tuple, _Memo] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> _Memo | None:
        with self._lock:
            memo = self._memos.get(key)
            if memo is not None:
                self._memos.move_to_end(key)
            return memo

    def put(self, key: tuple, memo: _Memo) -> None:
        with self._lock:
            self._memos[key] = memo
            while len(self._memos) > MAX_MEMOS:
                self._memos.popitem(last=False)


_STORES: weakref.WeakKeyDictionary[Any, _MemoStore] = weakref.WeakKeyDictionary()  # by SQL engine
_STORES_LOCK = threading.Lock()


def _memo_store(sql_engine: Any) -> _MemoStore:
    store = _STORES.get(sql_engine)
    if store is None:
        with _STORES_LOCK:
            store = _STORES.setdefault(sql_engine, _MemoStore())
    return store


def _memo_key(ctx: Context, stmt: A.SelectStatement) -> tuple | None:
    """The memo key of a top-level SELECT of stored measurements, None when it has none."""
    if ctx.template is None or stmt.target is not None:
        return None
    if not all(type(src) is A.Measurement for src in stmt.sources):
        return None
    for d in stmt.dimensions:
        if isinstance(d.expr, A.Call) and len(d.expr.args) > 1:
            return None  # an offset of now() is the first text's (compile_select writes it in)
    if not PARSE_CACHE.condition_only(ctx.template, ctx.text, ctx.statement_index):
        return None
    version = ctx.sql_engine.catalog_version
    return (ctx.template, ctx.statement_index, ctx.database, ctx.rp, version)


def _merge_same(series: list[Series], c: Compiled) -> list[Series]:
    """Series of one name and tag set read from several sources (db1..cpu, db2..cpu) are one series."""
    merged: dict[tuple, Series] = {}
    for s in series:
        key = (s.name, tuple(sorted((s.tags or {}).items())))
        prev = merged.get(key)
        if prev is None:
            merged[key] = s
            continue
        rows = prev.values + s.values
        rows.sort(key=lambda r: r[0], reverse=not c.ascending)
        prev.values = limit_rows(rows, c.stmt) if c.stmt.limit else rows
    return list(merged.values())


def _check_types(fields: list[A.Field], schema: Schema) -> None:
    for f in fields:
        for n in A.walk(f.expr):
            if isinstance(n, A.Call) and n.args and isinstance(n.args[0], A.VarRef):
                kind = schema.fields.get(n.args[0].name)
                if kind in (STRING, BOOLEAN) and n.name in NUMERIC_ONLY:
                    it = "string" if kind == STRING else "boolean"
                    # InfluxDB names the technical analysis functions with spaces
                    name = n.name.replace("_", " ") if n.name in TECHNICAL else n.name
                    raise QueryError(f"unsupported {name} iterator type: *query.{it}InterruptIterator")


def _merge_subquery_sources(sources: list[Source]) -> list[Source]:
    """Subqueries yielding the same measurement read as one source (their rows merged)."""
    if len(sources) < 2 or not any(s.arrow is not None for s in sources):
        return sources
    out: list[Source] = []
    by_name: dict[str, Source] = {}
    for s in sources:
        prev = by_name.get(s.name) if s.arrow is not None else None
        if prev is None:
            out.append(s)
            if s.arrow is not None:
                by_name[s.name] = s
            continue
        table = pa.concat_tables([prev.arrow, s.arrow], promote_options="permissive")  # type: ignore[list-item]
        schema = Schema({**prev.schema.fields, **s.schema.fields}, prev.schema.tags | s.schema.tags)
        merged = Source(s.name, "", "", schema, arrow=table)
        out[out.index(prev)] = merged
        by_name[s.name] = merged
    return out


def subquery_sources(ctx: Context, stmt: A.SelectStatement, parent: Compiled) -> list[Source]:
    # the outer query's tag dimensions group the subquery too (InfluxDB pushes them down)
    have = {d.expr.name for d in stmt.dimensions if isinstance(d.expr, A.VarRef)}
    wild = any(isinstance(d.expr, A.Wildcard) for d in stmt.dimensions)
    extra = [
        A.Dimension(A.VarRef(d.expr.name))
        for d in parent.stmt.dimensions
        if isinstance(d.expr, A.VarRef) and d.expr.name not in have and not wild
    ]
    if extra:
        stmt = dataclasses.replace(stmt, dimensions=[*stmt.dimensions, *extra])
    inner = execute_select(ctx, stmt, parent, keep_tags=True)
    by_name: dict[str, list[Series]] = {}
    for s in inner:
        by_name.setdefault(s.name, []).append(s)
    out = []
    for name, series in by_name.items():
        out.append(_series_table(name, series))
    return out


def _series_table(name: str, series: list[Series]) -> Source:
    tag_keys = sorted({k for s in series for k in (s.tags or {})})
    cols = [c for c in series[0].columns[1:]]
    kinds: dict[str, str] = {}
    times: list[int] = []
    tag_vals: dict[str, list[Any]] = {k: [] for k in tag_keys}
    values: dict[str, list[Any]] = {c: [] for c in cols}
    for s in series:
        for row in s.values:
            times.append(row[0])
            for k in tag_keys:
                v = (s.tags or {}).get(k, "")
                tag_vals[k].append(v or None)
            for c, v in zip(cols, row[1:], strict=False):
                values[c].append(v)
                if v is not None and c not in kinds:
                    kinds[c] = (
                        BOOLEAN
                        if isinstance(v, bool)
                        else INTEGER
                        if isinstance(v, int)
                        else FLOAT
                        if isinstance(v, float)
                        else STRING
                    )
    arrays: dict[str, pa.Array] = {
        "time": pa.array(times, pa.int64())
        .cast(pa.timestamp("ns", tz="UTC"))
        .cast(pa.timestamp("us", tz="UTC"))
    }
    for k in tag_keys:
        arrays[k] = pa.array(tag_vals[k], pa.string())
    types = {FLOAT: pa.float64(), INTEGER: pa.int64(), STRING: pa.string(), BOOLEAN: pa.bool_()}
    fields: dict[str, str] = {}
    for c in cols:
        if c in arrays:
            continue
        kind = kinds.get(c, FLOAT)
        vals = values[c]
        if kind == FLOAT:
            vals = [float(v) if isinstance(v, int | float) and not isinstance(v, bool) else v for v in vals]
        arrays[c] = pa.array(vals, types[kind])
        fields[c] = kind
    hidden = set().union(*(s.implicit_tags for s in series)) - set(cols)
    return Source(name, "", "", Schema(fields, set(tag_keys), hidden), arrow=pa.table(arrays))


def run_source(ctx: Context, plan: Plan, src: Source) -> list[Series]:
    c = plan.c
    if not c.calls:
        return run_raw(ctx, plan, src)
    return run_calls(ctx, plan, src)
