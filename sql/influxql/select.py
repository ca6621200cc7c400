"""SELECT execution: InfluxQL -> SQL for the SQL engine -> InfluxDB's series.

For every measurement a statement reads (names, regexes, ``db.rp.m``, subqueries), the data work
goes to the SQL engine as one or two PostgreSQL-dialect queries (sql/influxql/translate.py), so the
time range and tag predicates reach the storage scan and bucketed aggregates can take the native
block-statistics path:

- raw queries: ``SELECT time, <group tags>, <referenced columns> ... WHERE <range> AND <condition>
  AND (<a selected field> IS NOT NULL ...) ORDER BY time`` (per-series LIMIT/OFFSET with a window);
- aggregates: ``SELECT time_bucket(<interval>, time), <group tags>, count(f), avg(f), ... GROUP BY``;
  max/min/first/last that report their point (no interval, or other columns selected) take
  ``arg_max`` / ``arg_min`` with InfluxDB's tie rules;
- functions SQL has no shape for (percentile, top, bottom, sample, distinct, mode, integral) read the
  field's points ordered by time and reduce them per window in numpy (sql/influxql/functions.py).

What follows is InfluxDB's series model, per series: the window grid and fill(), transformations
(derivative, difference, moving_average, ...) over the aggregated windows or raw points, arithmetic
and math over the results, LIMIT/OFFSET, then SLIMIT/SOFFSET over the sorted series.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from sql.influxql import ast as A
from sql.influxql.compile import MATH_FUNCTIONS, TRANSFORMS, Compiled, QueryError, compile_select
from sql.influxql.functions import (
    BOOLEAN,
    FLOAT,
    INTEGER,
    NUMERIC,
    STRING,
    UNSIGNED,
    Col,
    Points,
    binary,
    distinct_points,
    fill_series,
    integral_points,
    math_call,
    mode_points,
    positions,
    select_points,
    top_bottom_by_tags,
    transform,
)
from sql.influxql.lexer import T
from sql.influxql.series import Series
from sql.influxql.translate import TAG, Schema, bucket_expr, ident, time_literal
from sql.influxql.values import MAX_TIME, MIN_TIME

SQL_AGGS = {"count", "sum", "mean", "min", "max", "first", "last", "spread", "stddev", "median"}
POINT_FUNCS = {"percentile", "top", "bottom", "sample", "distinct", "mode", "integral"}
SELECTOR_FUNCS = {"max", "min", "first", "last"}
NUMERIC_ONLY = {"sum", "mean", "median", "stddev", "spread", "integral", "percentile", "top", "bottom"}
NUMERIC_ONLY |= {"derivative", "non_negative_derivative", "difference", "non_negative_difference"}
NUMERIC_ONLY |= {"cumulative_sum", "moving_average"}


@dataclass
class Source:
    """One measurement the statement reads: in storage, or the rows of a subquery."""

    name: str
    database: str
    rp: str
    schema: Schema
    arrow: pa.Table | None = None  # subquery rows: time (timestamptz), tags, fields

    @property
    def sql_from(self) -> str:
        if self.arrow is not None:
            return "__influxql_subquery"
        return f"{ident(self.rp)}.{ident(self.name)}"


class Context:
    """What a statement runs against: storage, the SQL engine, the request's defaults and now()."""

    def __init__(self, storage: Any, sql_engine: Any, database: str, rp: str, now: int) -> None:
        self.storage = storage
        self.sql_engine = sql_engine
        self.database = database
        self.rp = rp
        self.now = now
        self._sessions: dict[str, Any] = {}

    def session(self, database: str) -> Any:
        s = self._sessions.get(database)
        if s is None:
            s = self.sql_engine.session(database, user="influxql")
            self._sessions[database] = s
        return s

    def sql(self, src: Source, text: str) -> pa.Table:
        from sql import errors as E

        try:
            if src.arrow is not None:
                return self._sql_arrow(src.arrow, text)
            session = self.session(src.database)
            prepared = session.prepare(text, [])
            result = session.execute(prepared, [])
            batches = list(result.batches)
        except E.SqlError as e:
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


# -- sources and schemas ------------------------------------------------------------------------------------------
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


# -- field and dimension expansion (InfluxDB's RewriteFields) ------------------------------------------------------
_WILDCARD_TYPES = {
    "count": {FLOAT, INTEGER, UNSIGNED, STRING, BOOLEAN},
    "first": {FLOAT, INTEGER, UNSIGNED, STRING, BOOLEAN},
    "last": {FLOAT, INTEGER, UNSIGNED, STRING, BOOLEAN},
    "distinct": {FLOAT, INTEGER, UNSIGNED, STRING, BOOLEAN},
    "elapsed": {FLOAT, INTEGER, UNSIGNED, STRING, BOOLEAN},
    "mode": {FLOAT, INTEGER, UNSIGNED, STRING, BOOLEAN},
    "sample": {FLOAT, INTEGER, UNSIGNED, STRING, BOOLEAN},
    "min": {FLOAT, INTEGER, UNSIGNED, BOOLEAN},
    "max": {FLOAT, INTEGER, UNSIGNED, BOOLEAN},
}


def union_schema(sources: list[Source]) -> Schema:
    out = Schema()
    for s in sources:
        for k, v in s.schema.fields.items():
            out.fields.setdefault(k, v)
        out.tags |= s.schema.tags
        out.hidden |= s.schema.hidden
    return out


def expand_dimensions(c: Compiled, schema: Schema) -> list[str]:
    dims: list[str] = []
    for d in c.stmt.dimensions:
        e = d.expr
        if isinstance(e, A.Call):
            continue
        if isinstance(e, A.Wildcard):
            dims.extend(sorted(schema.tags))
        elif isinstance(e, A.RegexLiteral):
            dims.extend(sorted(t for t in schema.tags if e.compiled.search(t)))
        elif isinstance(e, A.VarRef):
            dims.append(e.name)
    seen: set[str] = set()
    return [d for d in dims if not (d in seen or seen.add(d))]  # type: ignore[func-returns-value]


def _innermost_arg(call: A.Call) -> tuple[A.Call, int] | None:
    """The call whose first argument is a wildcard/regex, searching nested calls."""
    if call.args and isinstance(call.args[0], A.Wildcard | A.RegexLiteral):
        return call, 0
    if call.args and isinstance(call.args[0], A.Call):
        return _innermost_arg(call.args[0])
    return None


def _replace_arg(call: A.Call, target: A.Call, ref: A.VarRef) -> A.Call:
    if call is target:
        return A.Call(call.name, [ref, *call.args[1:]])
    return A.Call(call.name, [_replace_arg(call.args[0], target, ref), *call.args[1:]])  # type: ignore[arg-type]


def expand_fields(c: Compiled, schema: Schema, dims: list[str]) -> list[A.Field]:
    out: list[A.Field] = []
    for f in c.fields:
        e = f.expr
        if isinstance(e, A.Wildcard):
            refs: list[A.VarRef] = []
            if e.type in (None, "field"):
                refs += [A.VarRef(n, k) for n, k in schema.fields.items()]
            if e.type in (None, "tag"):
                refs += [A.VarRef(n, "tag") for n in schema.tags if n not in dims and n not in schema.hidden]
            out.extend(A.Field(r) for r in sorted(refs, key=lambda r: r.name))
            continue
        if isinstance(e, A.RegexLiteral):
            refs = [A.VarRef(n, k) for n, k in schema.fields.items() if e.compiled.search(n)]
            refs += [
                A.VarRef(n, "tag")
                for n in schema.tags
                if n not in dims and n not in schema.hidden and e.compiled.search(n)
            ]
            out.extend(A.Field(r) for r in sorted(refs, key=lambda r: r.name))
            continue
        if isinstance(e, A.Call):
            found = _innermost_arg(e)
            if found is not None:
                inner, _ = found
                arg = inner.args[0]
                types = _WILDCARD_TYPES.get(inner.name, {FLOAT, INTEGER, UNSIGNED})
                for name in sorted(schema.fields):
                    kind = schema.fields[name]
                    if kind not in types:
                        continue
                    if isinstance(arg, A.RegexLiteral) and not arg.compiled.search(name):
                        continue
                    if isinstance(arg, A.Wildcard) and arg.type == "tag":
                        continue
                    out.append(A.Field(_replace_arg(e, inner, A.VarRef(name, kind)), f"{f.name()}_{name}"))
                continue
        out.append(f)
    return out


def column_names(fields: list[A.Field], time_name: str, has_target: bool) -> list[str]:
    cols: list[A.Field] = []
    for f in fields:
        cols.append(f)
        e = f.expr
        if isinstance(e, A.Call) and e.name in ("top", "bottom") and not has_target:
            for a in e.args[1:]:
                if isinstance(a, A.VarRef):
                    cols.append(A.Field(a))
    names: list[str] = [""] * len(cols)
    seen: dict[str, int] = {}
    for i, f in enumerate(cols):
        if f.alias:
            names[i] = f.alias
            seen[f.alias] = 1
    for i, f in enumerate(cols):
        if names[i]:
            continue
        name = f.name()
        if name in seen:
            count = seen[name]
            while True:
                resolved = f"{name}_{count}"
                if resolved not in seen:
                    seen[name] = count + 1
                    name = resolved
                    break
                count += 1
        seen[name] = seen.get(name, 0) + 1
        names[i] = name
    return [time_name, *names]


# -- windows --------------------------------------------------------------------------------------------------------
class Windows:
    """InfluxDB's time windows: epoch-aligned, shifted by the GROUP BY offset and the tz() offset."""

    def __init__(self, interval: int, offset: int, tz: dt.tzinfo) -> None:
        self.interval = interval
        self.offset = offset
        self.tz = tz
        self.utc = tz is dt.UTC

    def _zone(self, t: int) -> int:
        d = dt.datetime.fromtimestamp(t // 10**9, tz=self.tz)
        off = d.utcoffset()
        return int(off.total_seconds()) * 10**9 if off else 0

    def start(self, t: int) -> int:
        t2 = t - self.offset
        zone = 0 if self.utc else self._zone(t2)
        d = (t2 + zone) % self.interval
        start = MIN_TIME if MIN_TIME + d >= t2 else t2 - d
        if not self.utc:
            o = zone - self._zone(start)
            if o != 0 and abs(o) < self.interval:
                start += o
        return start + self.offset

    def starts(self, t: np.ndarray) -> np.ndarray:
        if self.utc:
            t2 = t - self.offset
            return t2 - np.mod(t2, self.interval) + self.offset
        return np.array([self.start(int(x)) for x in t.tolist()], dtype=np.int64)

    def span(self, t: int) -> tuple[int, int]:
        s = self.start(t)
        return s, self._next(s)

    def _next(self, w: int) -> int:
        nxt = self.start(w + self.interval)
        if nxt <= w:  # a daylight-saving change shortened the window
            nxt = self.start(w + self.interval + 3600 * 10**9)
        return nxt

    def grid(self, first: int, last: int) -> np.ndarray:
        if self.utc:
            return np.arange(self.start(first), self.start(last) + 1, self.interval, dtype=np.int64)
        out = []
        w = self.start(first)
        end = self.start(last)
        while w <= end:
            out.append(w)
            w = self._next(w)
        return np.array(out, dtype=np.int64)

    def sql_origin(self) -> int | None:
        """The time_bucket origin that gives these windows, None when SQL cannot (sub-µs, tz)."""
        if not self.utc or self.interval % 1000 or self.offset % 1000:
            return None
        return self.offset


# -- expression evaluation over columns --------------------------------------------------------------------------
def cast_col(c: Col, to: str | None) -> Col:
    if to in (None, "field", "tag") or to == c.kind:
        return c
    if to in NUMERIC and c.kind in NUMERIC:
        if to == INTEGER:
            return Col(
                np.trunc(c.values.astype(np.float64)).astype(np.int64)
                if c.kind == FLOAT
                else c.values.astype(np.int64),
                c.valid,
                INTEGER,
            )
        if to == FLOAT:
            return Col(c.values.astype(np.float64), c.valid, FLOAT)
        return Col(c.values.astype(np.uint64), c.valid, UNSIGNED)
    return Col.nulls(len(c))


def literal_col(e: A.Expr, n: int) -> Col | None:
    if isinstance(e, A.IntegerLiteral):
        return Col.const(int(e.value), n)
    if isinstance(e, A.NumberLiteral):
        return Col.const(float(e.value), n)
    if isinstance(e, A.UnsignedLiteral):
        return Col(np.full(n, e.value, np.uint64), np.ones(n, bool), UNSIGNED)
    if isinstance(e, A.StringLiteral):
        return Col(np.full(n, e.value, object), np.ones(n, bool), STRING)
    if isinstance(e, A.BooleanLiteral):
        return Col.const(bool(e.value), n)
    if isinstance(e, A.DurationLiteral):
        return Col.const(int(e.value), n)
    return None


def evaluate(e: A.Expr, n: int, lookup: Callable[[A.Expr], Col]) -> Col:
    if isinstance(e, A.ParenExpr):
        return evaluate(e.expr, n, lookup)
    lit = literal_col(e, n)
    if lit is not None:
        return lit
    if isinstance(e, A.BinaryExpr):
        return binary(e.op.value, evaluate(e.lhs, n, lookup), evaluate(e.rhs, n, lookup))
    if isinstance(e, A.Call) and e.name in MATH_FUNCTIONS:
        return math_call(e.name, [evaluate(a, n, lookup) for a in e.args])
    return lookup(e)


def nan_to_null(c: Col) -> Col:
    """NaN results (sqrt(-1), x % 0.0) are nulls in InfluxDB's answers."""
    if c.kind == FLOAT and len(c):
        nan = np.isnan(c.values)
        if nan.any():
            return Col(c.values, c.valid & ~nan, FLOAT)
    return c


def arrow_col(arr: pa.ChunkedArray | pa.Array, kind: str | None = None) -> Col:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    t = arr.type
    valid = np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        arr = arr.dictionary_encode()  # each distinct text becomes one Python string
        t = arr.type
    if pa.types.is_dictionary(t):
        if pa.types.is_string(t.value_type) or pa.types.is_large_string(t.value_type):
            # tags: each distinct value converted once
            words = np.array(arr.dictionary.to_pylist() + [None], dtype=object)
            idx = arr.indices.fill_null(len(arr.dictionary)).to_numpy(zero_copy_only=False)
            return Col(words[idx], valid, STRING, idx, words)
        arr = arr.dictionary_decode()
        t = arr.type
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        vals = arr.cast(pa.float64()).fill_null(0).to_numpy(zero_copy_only=False)
        k = FLOAT
    elif pa.types.is_unsigned_integer(t):
        vals = arr.cast(pa.uint64()).fill_null(0).to_numpy(zero_copy_only=False)
        k = UNSIGNED
    elif pa.types.is_integer(t):
        vals = arr.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
        k = INTEGER
    elif pa.types.is_boolean(t):
        vals = arr.fill_null(False).to_numpy(zero_copy_only=False).astype(bool)
        k = BOOLEAN
    elif pa.types.is_null(t):
        return Col.nulls(len(arr), kind or FLOAT)
    elif pa.types.is_timestamp(t):
        vals = arr.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()).fill_null(0).to_numpy() * 1000
        k = INTEGER
    else:
        vals = arr.cast(pa.string()).to_numpy(zero_copy_only=False).astype(object, copy=False)
        k = STRING
    if kind == UNSIGNED and k == FLOAT:
        vals = vals.astype(np.uint64)
        k = UNSIGNED
    return Col(vals, valid, k)


def time_ns(arr: pa.ChunkedArray) -> np.ndarray:
    a = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    if pa.types.is_null(a.type):
        return np.zeros(len(a), np.int64)
    if pa.types.is_timestamp(a.type):
        a = a.cast(pa.timestamp("us", tz="UTC") if a.type.tz else pa.timestamp("us"))
        return a.cast(pa.int64()).fill_null(0).to_numpy() * 1000
    return a.cast(pa.int64()).fill_null(0).to_numpy()


# -- the statement ------------------------------------------------------------------------------------------------
@dataclass
class Plan:
    c: Compiled
    fields: list[A.Field]
    dims: list[str]
    columns: list[str]
    windows: Windows | None
    calls: dict[str, A.Call] = field(default_factory=dict)  # top-level non-math calls by text


def execute_select(
    ctx: Context, stmt: A.SelectStatement, parent: Compiled | None = None, *, keep_tags: bool = False
) -> list[Series]:
    """The series of a SELECT. ``keep_tags`` (a subquery's raw rows): every point keeps its tags."""
    c = compile_select(stmt, ctx.now, parent=parent)
    sources: list[Source] = []
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
    implicit: frozenset[str] = frozenset()
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
    if c.tmin > c.tmax:
        return []
    out: list[Series] = []
    for src in sources:
        out.extend(run_source(ctx, plan, src))
    if len({s.name for s in sources}) < len(sources):
        out = _merge_same(out, c)
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
        prev.values = _limit_rows(rows, c.stmt) if c.stmt.limit else rows
    return list(merged.values())


def _check_types(fields: list[A.Field], schema: Schema) -> None:
    for f in fields:
        for n in A.walk(f.expr):
            if isinstance(n, A.Call) and n.args and isinstance(n.args[0], A.VarRef):
                kind = schema.fields.get(n.args[0].name)
                if kind in (STRING, BOOLEAN) and n.name in NUMERIC_ONLY:
                    it = "string" if kind == STRING else "boolean"
                    raise QueryError(f"unsupported {n.name} iterator type: *query.{it}InterruptIterator")


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


# -- per measurement -------------------------------------------------------------------------------------------------
def _where(plan: Plan, src: Source, extra_back: int = 0, *more: str) -> str:
    """`` WHERE <range> AND <condition> AND <more>``, or nothing when there is no condition.

    Time bounds and tag values stay plain literals compared with their columns, so the SQL
    engine's plan cache shares one plan between statements that differ only in them."""
    c = plan.c
    parts = []
    lo = c.tmin
    if extra_back and c.ascending and c.time_range.min is not None and plan.windows is not None:
        lo = max(MIN_TIME, lo - extra_back * c.interval)  # InfluxDB moves the bound, not the window
    hi = c.tmax
    if extra_back and not c.ascending and plan.windows is not None and hi < MAX_TIME:
        hi = hi + extra_back * c.interval
    if lo > MIN_TIME:
        parts.append(f'"time" >= {time_literal(lo + 999)}')
    if hi < MAX_TIME:
        parts.append(f'"time" <= {time_literal(hi)}')
    if c.condition is not None:
        parts.append(src.schema.condition(c.condition))
    parts.extend(more)
    return " WHERE " + " AND ".join(parts) if parts else ""


def _series_groups(table: pa.Table, dims: list[str]) -> list[tuple[tuple[str, ...], np.ndarray]]:
    """(tag values, row indexes in table order) per series, sorted by tag values (a missing tag is "")."""
    n = table.num_rows
    if not dims:
        return [((), np.arange(n))] if n else []
    codes = np.zeros(n, np.int64)
    for i, d in enumerate(dims):
        arr = table.column(d)
        arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
        if not pa.types.is_dictionary(arr.type):
            if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
                arr = arr.cast(pa.string())
            arr = arr.dictionary_encode()
        words = ["" if v is None else v for v in arr.dictionary.to_pylist()]
        # one code per distinct value ("" and NULL are one; a dictionary may repeat a value)
        canon: dict[str, int] = {}
        remap = np.array(
            [canon.setdefault(w, len(canon)) for w in words] + [canon.setdefault("", len(canon))]
        )
        idx = arr.indices.fill_null(len(words)).to_numpy(zero_copy_only=False).astype(np.int64)
        codes = codes * len(canon) + remap[idx]
        if i:
            codes = np.unique(codes, return_inverse=True)[1].reshape(-1)
    # the key of each combined code, from one row that has it
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.concatenate(([True], sorted_codes[1:] != sorted_codes[:-1])))
    ends = np.append(starts[1:], n)
    cols = []
    for d in dims:
        arr = table.column(d).take(pa.array(order[starts]))
        cols.append(["" if v is None else v for v in arr.to_pylist()])
    groups = [(tuple(k), order[s:e]) for k, s, e in zip(zip(*cols, strict=True), starts, ends, strict=True)]
    groups.sort(key=lambda g: g[0])
    return groups


def _tags(dims: list[str], key: tuple[str, ...]) -> dict[str, str] | None:
    if not dims:
        return None
    return dict(sorted(zip(dims, key, strict=True)))


def _field_refs(plan: Plan, src: Source) -> tuple[list[A.VarRef], list[A.VarRef]]:
    """VarRefs of the statement's fields, split into (fields of this source, tags/others)."""
    fields: list[A.VarRef] = []
    others: list[A.VarRef] = []
    for f in plan.fields:
        for n in A.walk(f.expr):
            if isinstance(n, A.VarRef):
                (fields if _is_field_ref(src, n) else others).append(n)
    return fields, others


def _is_field_ref(src: Source, v: A.VarRef) -> bool:
    """Whether a reference reads a field of this source (a cast to another kind reads nothing)."""
    kind = src.schema.fields.get(v.name)
    if kind is None or v.type == "tag":
        return False
    return v.type in (None, "field", kind) or (v.type in NUMERIC and kind in NUMERIC)


def _ref_col(src: Source, table: pa.Table, v: A.VarRef) -> Col:
    """The column a reference reads, over all of ``table``'s rows."""
    name = v.name
    n = table.num_rows
    if v.type == "tag":
        if name in src.schema.tags and name in table.column_names:
            return arrow_col(table.column(name), STRING)
        return Col.nulls(n, STRING)
    if name in src.schema.fields:
        if v.type not in (None, "field") and not (v.type in NUMERIC and src.schema.fields[name] in NUMERIC):
            if v.type != src.schema.fields[name]:
                return Col.nulls(n)
        col = arrow_col(table.column(name), src.schema.fields[name])
        return cast_col(col, v.type)
    if v.type in (None,) and name in src.schema.tags and name in table.column_names:
        return arrow_col(table.column(name), STRING)
    return Col.nulls(n)


def run_source(ctx: Context, plan: Plan, src: Source) -> list[Series]:
    c = plan.c
    if not c.calls:
        return _run_raw(ctx, plan, src)
    return _run_calls(ctx, plan, src)


def _limit(stmt: A.SelectStatement) -> int:
    """Rows per series; as InfluxDB 1.x, OFFSET without LIMIT gives one row."""
    return stmt.limit or (1 if stmt.offset else 0)


def _limit_rows(rows: list[list[Any]], stmt: A.SelectStatement) -> list[list[Any]]:
    limit = _limit(stmt)
    if stmt.offset:
        rows = rows[stmt.offset :]
    if limit:
        rows = rows[:limit]
    return rows


def _limit_slice(n: int, stmt: A.SelectStatement) -> slice:
    """The rows of a series of ``n`` rows that LIMIT/OFFSET keep."""
    limit = _limit(stmt)
    start = min(stmt.offset, n)
    return slice(start, start + limit if limit else n)


def _run_raw(ctx: Context, plan: Plan, src: Source) -> list[Series]:
    c = plan.c
    stmt = c.stmt
    field_refs, other_refs = _field_refs(plan, src)
    if not field_refs:
        return []
    selected = []
    for r in field_refs + other_refs:
        if (r.name in src.schema.fields or r.name in src.schema.tags) and r.name not in selected:
            selected.append(r.name)
    dims_here = [d for d in plan.dims if d in src.schema.tags]
    cols = ['"time"'] + [ident(d) for d in dims_here]
    cols += [ident(n) for n in selected if n not in plan.dims or n in src.schema.fields]
    select = ", ".join(dict.fromkeys(cols))
    field_names = [r.name for r in _unique(field_refs)]
    # a point is a row with one of the selected fields: with a LIMIT, SQL must count only those
    not_null = "(" + " OR ".join(f"{ident(f)} IS NOT NULL" for f in field_names) + ")"
    order = "DESC" if not c.ascending else "ASC"
    limit = _limit(stmt)
    part = ", ".join(ident(d) for d in dims_here)
    last = limit == 1 and not stmt.offset and bool(dims_here)
    # every field selected: a stored row always has one, so SQL need not ask (which keeps the
    # WHERE to what the scan applies: the native executor answers DISTINCT ON from the newest blocks)
    every = set(field_names) >= set(src.schema.fields)
    if last:
        # each series' newest (oldest) point
        where = _where(plan, src) if every else _where(plan, src, 0, not_null)
        sql = (
            f'SELECT DISTINCT ON ({part}) {select} FROM {src.sql_from}{where} ORDER BY {part}, "time" {order}'
        )
    elif limit and not dims_here:
        sql = f'SELECT {select} FROM {src.sql_from}{_where(plan, src, 0, not_null)} ORDER BY "time" {order}'
        sql += f" LIMIT {limit}" + (f" OFFSET {stmt.offset}" if stmt.offset else "")
    elif limit:
        rn = f'row_number() OVER (PARTITION BY {part} ORDER BY "time" {order}) AS __rn'
        inner = f"SELECT {rn}, {select} FROM {src.sql_from}{_where(plan, src, 0, not_null)}"
        sql = (
            f"SELECT * FROM ({inner}) AS __q WHERE __rn > {stmt.offset} AND __rn <= {stmt.offset + limit} "
            f'ORDER BY "time" {order}'
        )
    else:  # ordered by time below (cheaper than an ORDER BY of every column in SQL)
        sql = f"SELECT {select} FROM {src.sql_from}{_where(plan, src)}"
    table = ctx.sql(src, sql)
    if table.num_rows and (not limit or (last and every)):
        # rows without any selected field are no points (filtered here when SQL did not)
        present = np.zeros(table.num_rows, bool)
        for f in field_names:
            present |= np.asarray(table.column(f).is_valid().to_numpy(zero_copy_only=False), bool)
        if present.all():
            pass
        elif limit:  # a newest row without a field would hide an older point: ask SQL to filter
            where = _where(plan, src, 0, not_null)
            sql = f'SELECT DISTINCT ON ({part}) {select} FROM {src.sql_from}{where} ORDER BY {part}, "time" {order}'
            table = ctx.sql(src, sql)
        else:
            table = table.filter(pa.array(present))
    if not table.num_rows:
        return []
    times = time_ns(table.column("time"))
    if not limit:
        by_time = np.argsort(times if c.ascending else -times, kind="stable")
        if (np.diff(by_time) != 1).any():
            table = table.take(pa.array(by_time))
            times = times[by_time]
    n = table.num_rows

    def lookup(e: A.Expr) -> Col:
        if isinstance(e, A.VarRef):
            return _ref_col(src, table, e)
        raise QueryError(f"unsupported expression: {e}")

    values = [nan_to_null(evaluate(f.expr, n, lookup)) for f in plan.fields]
    groups = _series_groups(table, _present(table, plan.dims))
    keys = [_full_key(plan.dims, table, key) for key, _ in groups]
    return _split_series(plan, src, keys, [idx for _, idx in groups], times, values)


def _split_series(
    plan: Plan,
    src: Source,
    keys: list[tuple[str, ...]],
    rows: list[np.ndarray],
    times: np.ndarray,
    values: list[Col],
) -> list[Series]:
    """One series per key, of the given rows of ``times`` and ``values``: each column is taken
    once for all series, and a series' columns are slices (views) of it."""
    if not rows:
        return []
    at = np.concatenate(rows)
    times = times[at]
    cols = [v.take(at) for v in values]
    out: list[Series] = []
    lo = 0
    for key, r in zip(keys, rows, strict=True):
        part = slice(lo, lo + len(r))
        lo += len(r)
        tags = _tags(plan.dims, key)
        out.append(Series(src.name, tags, plan.columns, times=times[part], cols=[v.take(part) for v in cols]))
    return out


def _present(table: pa.Table, dims: list[str]) -> list[str]:
    return [d for d in dims if d in table.column_names]


def _full_key(dims: list[str], table: pa.Table, key: tuple[str, ...]) -> tuple[str, ...]:
    if len(key) == len(dims):  # every dimension is a column
        return key
    m = dict(zip(_present(table, dims), key, strict=True))
    return tuple(m.get(d, "") for d in dims)


def _unique(refs: list[A.VarRef]) -> list[A.VarRef]:
    seen: set[str] = set()
    out = []
    for r in refs:
        if r.name not in seen:
            seen.add(r.name)
            out.append(r)
    return out


# -- calls -----------------------------------------------------------------------------------------------------------
@dataclass
class Stream:
    """One call's output for one series: times, values, and for selectors the chosen points' columns."""

    times: np.ndarray
    values: Col
    aux: dict[str, Col] | None = None
    extra: dict[str, Col] | None = None  # top/bottom tag columns


def _top_calls(plan: Plan) -> list[A.Call]:
    calls: list[A.Call] = []

    def visit(e: A.Expr) -> None:
        if isinstance(e, A.ParenExpr):
            visit(e.expr)
        elif isinstance(e, A.BinaryExpr):
            visit(e.lhs)
            visit(e.rhs)
        elif isinstance(e, A.Call):
            if e.name in MATH_FUNCTIONS:
                for a in e.args:
                    visit(a)
            else:
                calls.append(e)

    for f in plan.fields:
        visit(f.expr)
    return calls


def _call_field(call: A.Call) -> A.VarRef:
    a = call.args[0]
    while isinstance(a, A.Call):
        if a.name == "distinct" or not a.args:
            break
        a = a.args[0]
    if isinstance(a, A.Call) and a.name == "distinct":
        a = a.args[0]
    if isinstance(a, A.Distinct):
        return A.VarRef(a.name)
    assert isinstance(a, A.VarRef), a
    return a


def _aux_refs(plan: Plan) -> list[A.VarRef]:
    refs: list[A.VarRef] = []
    for f in plan.fields:
        if isinstance(f.expr, A.VarRef):
            refs.append(f.expr)
    return refs


def _run_calls(ctx: Context, plan: Plan, src: Source) -> list[Series]:
    c = plan.c
    calls = _top_calls(plan)
    aux = _aux_refs(plan)
    single_selector = len(calls) == 1 and calls[0].name in SELECTOR_FUNCS | {
        "percentile",
        "sample",
        "top",
        "bottom",
    }
    agg_calls: list[A.Call] = []
    for call in calls:
        inner = call
        while inner.name in TRANSFORMS and inner.args and isinstance(inner.args[0], A.Call):
            inner = inner.args[0]
        agg_calls.append(inner)
    sql_calls = [
        a
        for a in agg_calls
        if a.name in SQL_AGGS
        and not (a.name in SELECTOR_FUNCS and single_selector and (not c.interval or aux))
        and a.name not in TRANSFORMS
    ]
    dims_here = [d for d in plan.dims if d in src.schema.tags]
    results: dict[int, dict[tuple[str, ...], Stream]] = {}
    if sql_calls:
        results.update(_sql_aggregates(ctx, plan, src, sql_calls, dims_here))
    for a in agg_calls:
        if id(a) in results:
            continue
        if a.name in TRANSFORMS:
            results[id(a)] = _raw_points_stream(ctx, plan, src, a, dims_here)
        elif a.name in SELECTOR_FUNCS:
            results[id(a)] = _sql_selector(ctx, plan, src, a, dims_here, aux)
        else:
            results[id(a)] = _points_call(ctx, plan, src, a, dims_here, aux)
    # per series: fill, transforms, join, evaluate
    keys: set[tuple[str, ...]] = set()
    for r in results.values():
        keys |= set(r)
    if _windowed_values(plan, calls, agg_calls, aux):
        batched = _assemble_windows(plan, src, sorted(keys), calls, results)
        if batched is not None:
            return batched
    out: list[Series] = []
    for key in sorted(keys):
        series = _assemble(plan, src, key, calls, agg_calls, results, aux, single_selector)
        if series is not None:
            out.append(series)
    return out


_POINT_TIMES = {"top", "bottom", "distinct", "sample"}  # calls whose rows keep their points' times
MAX_BATCH_CELLS = 4_000_000  # series x windows of one batched assembly


def _windowed_values(plan: Plan, calls: list[A.Call], agg_calls: list[A.Call], aux: list[A.VarRef]) -> bool:
    """Whether every call gives one value per window, filled by null, none or a number: then all
    series are assembled at once (:func:`_assemble_windows`) instead of one by one."""
    return (
        plan.windows is not None
        and not aux
        and plan.c.stmt.fill in ("null", "none", "number")
        and all(
            call is agg and agg.name not in _POINT_TIMES | TRANSFORMS
            for call, agg in zip(calls, agg_calls, strict=True)
        )
    )


def _assemble_windows(
    plan: Plan,
    src: Source,
    keys: list[tuple[str, ...]],
    calls: list[A.Call],
    results: dict[int, dict[tuple[str, ...], Stream]],
) -> list[Series] | None:
    """:func:`_assemble` for every series at once, on a (series x window) grid flattened to one axis.

    A series' windows start at the range's start (without one: at its first window); each call's
    values are placed on the grid and filled as :func:`fill_series` fills one series; fill(none)
    keeps the windows where some call has a value. None when the grid would be too large."""
    c = plan.c
    stmt = c.stmt
    w = plan.windows
    assert w is not None
    if not keys:
        return []
    nser = len(keys)
    key_index = {k: i for i, k in enumerate(keys)}
    firsts = np.full(nser, np.iinfo(np.int64).max, np.int64)
    for r in results.values():
        for k, st in r.items():
            if len(st.times):
                i = key_index[k]
                firsts[i] = min(firsts[i], int(st.times.min()))
    lo = c.time_range.min
    start = lo if lo is not None else int(firsts.min())
    grid = w.grid(max(start, MIN_TIME + 1), c.tmax)  # ascending
    ngrid = len(grid)
    if not ngrid or nser * ngrid > MAX_BATCH_CELLS:
        return None
    first_pos = np.zeros(nser, np.int64) if lo is not None else np.searchsorted(grid, firsts)
    filled: dict[int, Col] = {}
    present_any = np.zeros(nser * ngrid, bool)
    flat_grid = np.arange(nser * ngrid, dtype=np.int64)
    for call in calls:
        streams = results[id(call)]
        parts = [(key_index[k], st) for k, st in streams.items() if len(st.times)]
        kinds = {st.values.kind for _, st in parts}
        if len(kinds) > 1:
            return None
        if parts:
            ser = np.concatenate([np.full(len(st.times), i, np.int64) for i, st in parts])
            pos = positions(grid, np.concatenate([st.times for _, st in parts]))
            vals = Col(
                np.concatenate([st.values.values for _, st in parts]),
                np.concatenate([st.values.valid for _, st in parts]),
                kinds.pop(),
            )
            inside = pos >= 0
            flat = ser[inside] * ngrid + pos[inside]
            vals = vals.take(np.flatnonzero(inside))
        else:
            flat = np.zeros(0, np.int64)
            vals = Col.nulls(0)
        present_any[flat] = True
        if stmt.fill == "none":
            col = Col.nulls(nser * ngrid, vals.kind)
            if len(flat):
                col.values[flat] = vals.values
                col.valid[flat] = vals.valid
        else:
            col = fill_series(flat_grid, flat, vals, stmt.fill, stmt.fill_value, call.name == "count")
        filled[id(call)] = col
    n = nser * ngrid

    def lookup(e: A.Expr) -> Col:
        if isinstance(e, A.Call):
            col = filled.get(id(e))
            if col is None:
                raise QueryError(f"unsupported call {e}")
            return col
        if isinstance(e, A.VarRef):
            return Col.nulls(n)
        raise QueryError(f"unsupported expression {e}")

    colvals = [nan_to_null(evaluate(f.expr, n, lookup)) for f in plan.fields]
    picked: list[tuple[tuple[str, ...], np.ndarray]] = []
    for i, key in enumerate(keys):
        rows = np.arange(int(first_pos[i]), ngrid, dtype=np.int64)
        if stmt.fill == "none":
            rows = rows[present_any[i * ngrid + rows]]
        if not c.ascending:
            rows = rows[::-1]
        rows = rows[_limit_slice(len(rows), stmt)]
        if len(rows):
            picked.append((key, rows + i * ngrid))
    times = np.tile(grid, nser)
    return _split_series(plan, src, [k for k, _ in picked], [a for _, a in picked], times, colvals)


def _assemble(
    plan: Plan,
    src: Source,
    key: tuple[str, ...],
    calls: list[A.Call],
    agg_calls: list[A.Call],
    results: dict[int, dict[tuple[str, ...], Stream]],
    aux: list[A.VarRef],
    single_selector: bool,
) -> Series | None:
    c = plan.c
    stmt = c.stmt
    w = plan.windows
    per_call: list[Stream] = []
    grid = None
    ext_grid = None
    if w is not None:
        firsts = [r[key].times[0] for r in results.values() if key in r and len(r[key].times)]
        if not firsts:
            return None
        lo = c.time_range.min
        start = lo if lo is not None else min(int(x) for x in firsts)
        grid = w.grid(max(start, MIN_TIME + 1), c.tmax)
        ext_grid = grid
        if c.extra_intervals:
            # transformations read extra windows before (after, descending) the range
            if c.ascending and lo is not None:
                ext_grid = w.grid(lo - c.extra_intervals * c.interval, c.tmax)
            elif not c.ascending:
                ext_grid = w.grid(max(start, MIN_TIME + 1), c.tmax + c.extra_intervals * c.interval)
        if not c.ascending:
            grid = grid[::-1]
            ext_grid = ext_grid[::-1]
    for call, agg in zip(calls, agg_calls, strict=True):
        s = results[id(agg)].get(key)
        if s is None:
            s = Stream(np.zeros(0, np.int64), Col.nulls(0))
        is_transformed = call is not agg
        if w is not None and grid is not None and agg.name not in ("top", "bottom", "distinct", "sample"):
            g = ext_grid if is_transformed and ext_grid is not None else grid
            if stmt.fill != "none":
                vals = fill_series(g, s.times, s.values, stmt.fill, stmt.fill_value, agg.name == "count")
                aux_f = None
                if s.aux:
                    aux_f = {k: fill_series(g, s.times, v, "null", None, False) for k, v in s.aux.items()}
                s = Stream(g.copy(), vals, aux_f)
            else:
                order = np.argsort(s.times, kind="stable")
                if not c.ascending:
                    order = order[::-1]
                if not is_transformed:
                    inside = set(grid.tolist())
                    order = np.array([i for i in order.tolist() if int(s.times[i]) in inside], dtype=np.int64)
                s = Stream(
                    s.times[order],
                    s.values.take(order),
                    {k: v.take(order) for k, v in (s.aux or {}).items()} or None,
                )
        elif (
            w is not None and not c.ascending and agg.name in ("top", "bottom", "sample") and len(s.times) > 1
        ):
            # windows last to first, each window's points in time order (InfluxDB)
            order = np.lexsort((s.times, -w.starts(s.times)))
            s = Stream(
                s.times[order],
                s.values.take(order),
                {k: v.take(order) for k, v in (s.aux or {}).items()} or None,
                {k: v.take(order) for k, v in (s.extra or {}).items()} or None,
            )
        elif w is None and not c.ascending and len(s.times) > 1 and agg.name not in ("top", "bottom"):
            order = np.argsort(s.times, kind="stable")[::-1]
            s = Stream(
                s.times[order],
                s.values.take(order),
                {k: v.take(order) for k, v in (s.aux or {}).items()} or None,
                {k: v.take(order) for k, v in (s.extra or {}).items()} or None,
            )
        if w is None and agg.name == "integral" and src.schema.fields.get(_call_field(agg).name) == FLOAT:
            # InfluxDB 1.6's float integral stamps its result 0; the integer one, the range start
            s = Stream(np.zeros(len(s.times), np.int64), s.values, s.aux, s.extra)
        elif w is None and agg.name not in TRANSFORMS and (not single_selector or agg.name == "distinct"):
            # an aggregate over the whole range is stamped with the range's start (0 without one)
            s = Stream(
                np.full(len(s.times), c.tmin if c.time_range.min is not None else 0, np.int64),
                s.values,
                s.aux,
                s.extra,
            )
        # transforms, innermost first
        chain = []
        node = call
        while node.name in TRANSFORMS:
            chain.append(node)
            if not isinstance(node.args[0], A.Call):
                break
            node = node.args[0]
        for tcall in reversed(chain):
            arg = _transform_arg(tcall, c)
            t2, v2 = transform(tcall.name, s.times, s.values, arg, c.ascending)
            s = Stream(t2, v2)
        if chain and w is not None and grid is not None and len(grid):
            lo_w, hi_w = int(grid.min()), int(grid.max())
            idx = np.flatnonzero((s.times >= lo_w) & (s.times <= hi_w))
            s = Stream(s.times[idx], s.values.take(idx))
        per_call.append(s)
    # join on time
    if len(per_call) == 1:
        times = per_call[0].times
        joined = [per_call[0]]
    else:
        all_t = np.unique(np.concatenate([s.times for s in per_call])) if per_call else np.zeros(0, np.int64)
        if not c.ascending:
            all_t = all_t[::-1]
        joined = []
        for s in per_call:
            order = np.argsort(s.times, kind="stable")
            idx = positions(s.times[order], all_t)
            if len(order):
                idx = np.where(idx >= 0, order[np.maximum(idx, 0)], -1)
            ok = idx >= 0
            vals = Col.nulls(len(all_t), s.values.kind)
            if ok.any():
                vals.values[ok] = s.values.values[idx[ok]]
                vals.valid[ok] = s.values.valid[idx[ok]]
            joined.append(Stream(all_t, vals))
        times = all_t
    n = len(times)
    if not n:
        return None
    by_call = {id(call): s for call, s in zip(calls, joined, strict=True)}
    first = joined[0]

    def lookup(e: A.Expr) -> Col:
        if isinstance(e, A.Call):
            s = by_call.get(id(e))
            if s is None:
                raise QueryError(f"unsupported call {e}")
            return s.values
        if isinstance(e, A.VarRef):
            if first.aux is not None and e.name in first.aux:
                return cast_col(first.aux[e.name], e.type if e.type != "tag" else None)
            return Col.nulls(n)
        raise QueryError(f"unsupported expression {e}")

    colvals = [nan_to_null(evaluate(f.expr, n, lookup)) for f in plan.fields]
    out_cols: list[Col] = []
    for f, col in zip(plan.fields, colvals, strict=True):
        out_cols.append(col)
        if isinstance(f.expr, A.Call) and f.expr.name in ("top", "bottom") and stmt.target is None:
            for a in f.expr.args[1:-1]:
                if isinstance(a, A.VarRef):
                    ex = (first.extra or {}).get(a.name)
                    out_cols.append(ex if ex is not None else Col.nulls(n, STRING))
    keep = _limit_slice(n, stmt)
    times = times[keep]
    if not len(times):
        return None
    return Series(
        src.name, _tags(plan.dims, key), plan.columns, times=times, cols=[c.take(keep) for c in out_cols]
    )


def _transform_arg(call: A.Call, c: Compiled) -> int | None:
    if call.name in ("derivative", "non_negative_derivative"):
        if len(call.args) == 2:
            return int(call.args[1].value)  # type: ignore[attr-defined]
        if c.interval and isinstance(call.args[0], A.Call):
            return c.interval
        return 10**9
    if call.name == "elapsed":
        return int(call.args[1].value) if len(call.args) == 2 else 1  # type: ignore[attr-defined]
    if call.name == "moving_average":
        return int(call.args[1].value)  # type: ignore[attr-defined]
    return None


def _group_select(plan: Plan, dims_here: list[str]) -> tuple[str, str]:
    """(select prefix, group by) for the window and the series' tags."""
    sel = []
    grp = []
    w = plan.windows
    if w is not None:
        origin = w.sql_origin()
        if origin is None:
            raise _NeedPoints()
        sel.append(f"{bucket_expr(w.interval, origin)} AS __w")
        grp.append("__w")
    for d in dims_here:
        sel.append(ident(d))
        grp.append(ident(d))
    return ", ".join(sel), ", ".join(grp)


class _NeedPoints(Exception):
    pass


def _agg_sql(call: A.Call, src: Source, merged: bool = True) -> tuple[str, str] | None:
    """SQL aggregate text and its output kind, None when the field is not in this source."""
    ref = _call_field(call)
    kind = src.schema.fields.get(ref.name)
    if kind is None or ref.type == "tag":
        return None
    f = ident(ref.name)
    name = call.name
    if name == "count":
        a0 = call.args[0]
        if isinstance(a0, A.Call | A.Distinct):
            return f"COUNT(DISTINCT {f})", INTEGER
        return f"COUNT({f})", INTEGER
    if name == "sum":
        return (f"CAST(SUM({f}) AS BIGINT)", INTEGER) if kind == INTEGER else (f"SUM({f})", FLOAT)
    if name == "mean":
        if kind == FLOAT:
            return f"AVG({f})", FLOAT  # the native executor's form
        if kind == INTEGER:  # SUM / COUNT (_sql_aggregates divides): native, and no numeric type
            return f"SUM({f})", FLOAT
        return f"AVG(CAST({f} AS DOUBLE PRECISION))", FLOAT
    if name in ("min", "max"):
        return f"{name.upper()}({f})", kind
    if name == "spread":
        return f"MAX({f}) - MIN({f})", kind
    if name == "stddev":
        return f"STDDEV_SAMP(CAST({f} AS DOUBLE PRECISION))", FLOAT
    if name == "median":
        return f"PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY {f})", FLOAT
    if name in ("first", "last") and not merged:
        # one series per group: no two points share a time
        return f'{"ARG_MIN" if name == "first" else "ARG_MAX"}({f}, "time")', kind
    if name == "first":
        # points of one time from several series: the larger value wins (InfluxDB's reducer)
        if kind in NUMERIC:
            return f'ARG_MIN({f}, ROW("time", -{f})) FILTER (WHERE {f} IS NOT NULL)', kind
        return f'ARG_MIN({f}, "time") FILTER (WHERE {f} IS NOT NULL)', kind
    if name == "last":
        return f'ARG_MAX({f}, ROW("time", {f})) FILTER (WHERE {f} IS NOT NULL)', kind
    return None


def _sql_aggregates(
    ctx: Context, plan: Plan, src: Source, calls: list[A.Call], dims_here: list[str]
) -> dict[int, dict[tuple[str, ...], Stream]]:
    c = plan.c
    out: dict[int, dict[tuple[str, ...], Stream]] = {}
    exprs = []
    parts: dict[str, str] = {}  # SQL -> alias (one aggregate computed once)
    for call in calls:
        ref = _call_field(call)
        s = _agg_sql(call, src, merged=not src.schema.tags <= set(dims_here))
        if s is None:
            out[id(call)] = {}
            continue
        alias = parts.setdefault(s[0], f"__a{len(parts)}")
        # a window without the field's points has no row: the aggregate is NULL there, except
        # count (0) and stddev (NULL for one point, which is a row), which need the count
        count = None
        mean = call.name == "mean" and s[0].startswith("SUM(")
        if call.name in ("count", "stddev") or mean:
            count = parts.setdefault(f"COUNT({ident(ref.name)})", f"__a{len(parts)}")
        exprs.append((call, s[1], alias, count, mean))
    if not parts:
        return out
    try:
        prefix, group = _group_select(plan, dims_here)
    except _NeedPoints:
        for call in calls:
            out[id(call)] = _points_call(ctx, plan, src, call, dims_here, [])
        return out
    select = ", ".join(p for p in [prefix, *(f"{sql} AS {a}" for sql, a in parts.items())] if p)
    sql = f"SELECT {select} FROM {src.sql_from}{_where(plan, src, c.extra_intervals)}"
    if group:
        sql += f" GROUP BY {group}"
    table = ctx.sql(src, sql)
    for call, *_ in exprs:
        out[id(call)] = {}
    if not table.num_rows:
        return out
    wins = time_ns(table.column("__w")) if plan.windows is not None else np.zeros(table.num_rows, np.int64)
    cols: dict[str, Col] = {}
    keeps: dict[int, np.ndarray] = {}
    means: dict[int, Col] = {}
    for call, kind, alias, count, mean in exprs:
        if alias not in cols:
            vals = arrow_col(table.column(alias), kind)
            if kind == INTEGER and vals.kind == FLOAT:
                vals = Col(vals.values.astype(np.int64), vals.valid, INTEGER)
            cols[alias] = vals
        if count is not None:
            n = np.asarray(table.column(count).to_numpy(zero_copy_only=False))
            keeps[id(call)] = n > 0
            if mean:
                total = cols[alias]
                avg = total.values.astype(np.float64) / np.maximum(n, 1)
                means[id(call)] = Col(avg, total.valid, FLOAT)
        else:
            keeps[id(call)] = cols[alias].valid
    for key, idx in _series_groups(table, dims_here):
        full = _full_key(plan.dims, table, key) if dims_here else tuple("" for _ in plan.dims)
        idx = idx[np.argsort(wins[idx], kind="stable")]
        for call, _kind, alias, _count, _mean in exprs:
            sel = idx[keeps[id(call)][idx]]
            if len(sel):
                out[id(call)][full] = Stream(wins[sel], means.get(id(call), cols[alias]).take(sel))
    return out


def _sql_selector(
    ctx: Context, plan: Plan, src: Source, call: A.Call, dims_here: list[str], aux: list[A.VarRef]
) -> dict[tuple[str, ...], Stream]:
    """max/min/first/last with the selected point's time and columns, in SQL."""
    c = plan.c
    ref = _call_field(call)
    kind = src.schema.fields.get(ref.name)
    if kind is None:
        return {}
    f = ident(ref.name)
    num = kind in NUMERIC
    us = 'EPOCH_US("time")'
    if call.name == "max":
        key = f"ROW({f}, -{us})" if num else f"ROW({f}, -{us})"
        fn = "ARG_MAX"
    elif call.name == "min":
        key = f"ROW({f}, {us})"
        fn = "ARG_MIN"
    elif call.name == "first":
        key = f"ROW({us}, -{f})" if num else us
        fn = "ARG_MIN"
    else:
        key = f"ROW({us}, {f})"
        fn = "ARG_MAX"
    try:
        prefix, group = _group_select(plan, dims_here)
    except _NeedPoints:
        return _points_call(ctx, plan, src, call, dims_here, aux)
    parts = [f'{fn}("time", {key}) AS __t', f"{fn}({f}, {key}) AS __v"]
    aux_names = []
    for j, a in enumerate(aux):
        if a.name in src.schema.fields or a.name in src.schema.tags:
            # the selected point's own value, NULL included (arg_max would skip to another row)
            parts.append(f"{fn}_NULL({ident(a.name)}, {key}) AS __x{j}")
            aux_names.append((j, a))
    select = ", ".join(p for p in [prefix, *parts] if p)
    sql = f"SELECT {select} FROM {src.sql_from}{_where(plan, src, c.extra_intervals, f'{f} IS NOT NULL')}"
    if group:
        sql += f" GROUP BY {group}"
    table = ctx.sql(src, sql)
    out: dict[tuple[str, ...], Stream] = {}
    if not table.num_rows:
        return out
    times = time_ns(table.column("__t"))
    wins = time_ns(table.column("__w")) if plan.windows is not None else times
    for key_, idx in _series_groups(table, dims_here):
        full = _full_key(plan.dims, table, key_) if dims_here else tuple("" for _ in plan.dims)
        valid = np.asarray(
            table.column("__t").take(pa.array(idx)).is_valid().to_numpy(zero_copy_only=False), bool
        )
        idx = idx[valid]
        if not len(idx):
            continue
        order = np.argsort(wins[idx], kind="stable")
        idx = idx[order]
        vals = arrow_col(table.column("__v").take(pa.array(idx)), kind)
        auxc = {}
        for j, a in aux_names:
            k = src.schema.fields.get(a.name, STRING)
            auxc[a.name] = arrow_col(table.column(f"__x{j}").take(pa.array(idx)), k)
        for a in aux:
            auxc.setdefault(a.name, Col.nulls(len(idx)))
        out[full] = Stream(wins[idx], vals, auxc)
    return out


def _read_points(
    ctx: Context, plan: Plan, src: Source, ref: A.VarRef, dims_here: list[str], extra_cols: list[str]
) -> pa.Table | None:
    c = plan.c
    if ref.name not in src.schema.fields:
        return None
    cols = ['"time"'] + [ident(d) for d in dims_here] + [ident(ref.name)]
    cols += [ident(x) for x in extra_cols if x != ref.name and x not in dims_here]
    sql = (
        f"SELECT {', '.join(dict.fromkeys(cols))} FROM {src.sql_from}"
        f"{_where(plan, src, c.extra_intervals, f'{ident(ref.name)} IS NOT NULL')} "
        f'ORDER BY "time" ASC'
    )
    return ctx.sql(src, sql)


def _raw_points_stream(
    ctx: Context, plan: Plan, src: Source, call: A.Call, dims_here: list[str]
) -> dict[tuple[str, ...], Stream]:
    """A transformation of a raw field: the field's points per series, in time order."""
    ref = _call_field(call)
    table = _read_points(ctx, plan, src, ref, dims_here, [])
    out: dict[tuple[str, ...], Stream] = {}
    if table is None or not table.num_rows:
        return out
    times = time_ns(table.column("time"))
    for key, idx in _series_groups(table, dims_here):
        full = _full_key(plan.dims, table, key) if dims_here else tuple("" for _ in plan.dims)
        col = cast_col(
            arrow_col(table.column(ref.name).take(pa.array(idx)), src.schema.fields[ref.name]), ref.type
        )
        out[full] = Stream(times[idx], col)
    return out


def _points_call(
    ctx: Context, plan: Plan, src: Source, call: A.Call, dims_here: list[str], aux: list[A.VarRef]
) -> dict[tuple[str, ...], Stream]:
    """Functions computed on the field's points per window in numpy."""
    c = plan.c
    ref = _call_field(call)
    tag_args = (
        [a.name for a in call.args[1:-1] if isinstance(a, A.VarRef)] if call.name in ("top", "bottom") else []
    )
    extra = [a.name for a in aux if a.name in src.schema.fields or a.name in src.schema.tags]
    table = _read_points(
        ctx,
        plan,
        src,
        ref,
        dims_here,
        extra + [t for t in tag_args if t in src.schema.tags or t in src.schema.fields],
    )
    out: dict[tuple[str, ...], Stream] = {}
    if table is None or not table.num_rows:
        return out
    times = time_ns(table.column("time"))
    w = plan.windows
    for key, idx in _series_groups(table, dims_here):
        full = _full_key(plan.dims, table, key) if dims_here else tuple("" for _ in plan.dims)
        t = times[idx]
        win = w.starts(t) if w is not None else np.zeros(len(t), np.int64)
        val = arrow_col(table.column(ref.name).take(pa.array(idx)), src.schema.fields[ref.name])
        val = cast_col(val, ref.type)
        pts = Points(win, t, val, {})
        name = call.name
        aux_cols: dict[str, Col] = {}
        extra_cols: dict[str, Col] = {}

        def col_of(nm: str, sel: np.ndarray, idx: np.ndarray = idx) -> Col:
            if nm in table.column_names:
                k = src.schema.fields.get(nm, STRING)
                return arrow_col(table.column(nm).take(pa.array(idx[sel])), k)
            return Col.nulls(len(sel), STRING)

        if name in ("percentile", "sample", "top", "bottom", "max", "min", "first", "last"):
            args = [lit.value for lit in call.args[1:] if isinstance(lit, A.IntegerLiteral | A.NumberLiteral)]
            if name in ("top", "bottom") and tag_args:
                tag_cols = [col_of(tg, np.arange(len(idx))) for tg in tag_args]
                sel = top_bottom_by_tags(name, pts, tag_cols, int(args[-1]))
            else:
                sel = select_points(name, pts, args)
            point_time = name in ("top", "bottom", "sample") or w is None
            st = t[sel] if point_time else win[sel]
            for a in aux:
                aux_cols[a.name] = col_of(a.name, sel)
            for tg in tag_args:
                extra_cols[tg] = col_of(tg, sel)
            out[full] = Stream(st, val.take(sel), aux_cols or None, extra_cols or None)
        elif name == "distinct":
            sel = distinct_points(pts, c.ascending)
            out[full] = Stream(win[sel], val.take(sel))
        elif name == "mode":
            wins_, sel = mode_points(pts)
            out[full] = Stream(wins_, val.take(sel))
        elif name == "integral":
            unit = int(call.args[1].value) if len(call.args) == 2 else 10**9  # type: ignore[attr-defined]
            if w is not None:
                wins_, vals_ = integral_points(pts, unit, c.interval, w.span)
            else:
                wins_, vals_ = integral_points(pts, unit, 0, lambda _t: (0, MAX_TIME))
            out[full] = Stream(wins_, Col(vals_, np.ones(len(vals_), bool), FLOAT))
        elif name in ("count", "sum", "mean", "spread", "stddev", "median"):
            out[full] = _numpy_aggregate(name, call, pts)
        else:
            raise QueryError(f"undefined function {name}()")
    return out


def _numpy_aggregate(name: str, call: A.Call, p: Points) -> Stream:
    """The SQL aggregates for windows SQL cannot form (sub-microsecond intervals, tz() windows)."""
    order = np.lexsort((p.time, p.window))
    w = p.window[order]
    starts = np.concatenate(([0], np.flatnonzero(w[1:] != w[:-1]) + 1)) if len(w) else np.zeros(0, np.int64)
    ends = np.concatenate((starts[1:], [len(w)]))
    vals = p.value.values[order]
    out: list[Any] = []
    kind = FLOAT
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        v = vals[s:e]
        if name == "count":
            if isinstance(call.args[0], A.Call | A.Distinct):
                out.append(len(set(v.tolist())))
            else:
                out.append(e - s)
            kind = INTEGER
        elif name == "sum":
            out.append(v.sum())
            kind = p.value.kind
        elif name == "mean":
            out.append(float(np.mean(v.astype(np.float64))))
        elif name == "spread":
            out.append(v.max() - v.min())
            kind = p.value.kind
        elif name == "stddev":
            out.append(float(np.std(v.astype(np.float64), ddof=1)) if len(v) > 1 else np.nan)
        elif name == "median":
            out.append(float(np.median(v.astype(np.float64))))
    arr = np.array(out, dtype=np.int64 if kind == INTEGER else np.float64 if kind == FLOAT else None)
    valid = ~np.isnan(arr) if arr.dtype == np.float64 else np.ones(len(arr), bool)
    return Stream(w[starts], Col(arr, valid, kind))


_ = (TAG, T)
