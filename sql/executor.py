"""The native vectorised executor for the plans of sql/planner.py.

BucketAggregate asks the storage for per (series, bucket) partial aggregates of each field
(``columnar.scan.aggregate``: block statistics where possible), then combines them per output group
(bucket, grouped tags) with numpy. LastPoint takes each series' newest row (``columnar.scan.last_rows``)
and keeps the newest per DISTINCT ON key. Results are Arrow tables typed as the statement was
described, so the client sees the same columns whichever executor ran.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numba import njit
from sqlglot import exp

from columnar.chunkfile import from_bits
from columnar.errors import ResultTooLarge
from columnar.predicate import And
from columnar.scan import (
    SERIES_ID,
    AggregateStats,
    FieldCondition,
    Partials,
    ScanRequest,
    aggregate_partials,
    filtered,
    filtered_pieces,
    fixed_width,
    fixed_width_rows,
    last_rows,
    rows_at,
    rows_estimate,
    time_extent,
)
from columnar.types import FieldType
from sql import errors as E
from sql.planner import SELECTOR_FUNCS, SPREAD_FUNCS, BucketAggregate, FilteredScan, LastPoint, NativePlan
from sql.rewrite.pg_types import NUMERIC_FROM_DOUBLE, NUMERIC_SCALE
from sql.rewrite.pushdown import table_pushdown
from sql.tables import SqlColumn, naive_time, sql_columns, to_sql_arrays, to_sql_batch
from sql.types import BY_OID

if TYPE_CHECKING:
    from sql.engine import SqlSession

TIMESCALE_ORIGIN_NS = 946_857_600 * 10**9  # 2000-01-03 00:00:00 UTC, TimescaleDB's default origin


NUMERIC_OID = 1700
_TIMESTAMPTZ = pa.timestamp("us", tz="UTC")


def _timestamptz(ns: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Nanoseconds as timestamptz (µs, floored), NULL where not ``valid`` (over the values' buffer:
    columnar.scan.fixed_width)."""
    if valid is None:  # (a new contiguous array: its buffer as it is)
        return pa.Array.from_buffers(_TIMESTAMPTZ, len(ns), [None, pa.py_buffer(ns // 1000)], 0)
    return fixed_width(_TIMESTAMPTZ, np.where(valid, ns, 0) // 1000, valid)


def run(session: SqlSession, plan: NativePlan, params: list, column_oids: list[int]) -> pa.Table | Streamed:
    """The plan's answer: a table, or for a large filtered scan (no order, no limit, not on the event
    loop) a :class:`Streamed` whose pieces are computed as they are read."""
    if isinstance(plan, BucketAggregate):
        table = _bucket_aggregate(session, plan, params)
    elif isinstance(plan, FilteredScan):
        got = _filtered_scan(session, plan, params)
        if isinstance(got, Streamed):
            got.first = _described(session, got.first, column_oids, plan)
            got.rest = (_described(session, t, column_oids, plan) for t in got.rest)
            return got
        table = got
    elif isinstance(plan, LastPoint):
        table = _last_point(session, plan, params)
    else:  # a plan that runs itself on the native executor (sql/gapfill.py)
        table = plan.execute(session, params)
    return _described(session, table, column_oids, plan)


@dataclasses.dataclass
class Streamed:
    """A result in pieces: ``first`` is computed, each of ``rest`` when it is asked for (under the
    caller's statement deadline: sql/engine.py)."""

    first: pa.Table
    rest: Iterator[pa.Table]


def _described(session: SqlSession, table: pa.Table, column_oids: list[int], plan: NativePlan) -> pa.Table:
    """``table`` with the types the statement was described with: cast where the native result
    differs (e.g. float4 fields)."""
    schema = table.schema
    memo = plan.__dict__.get("_described_as")  # per plan: (OIDs, a result schema that has their types)
    if memo is not None and memo[0] == column_oids and memo[1].equals(schema):
        return table  # (~0.3 us; comparing each column's type ~0.9 us a column)
    arrays: list = []
    numeric = [
        i
        for i, oid in enumerate(column_oids)
        if oid == NUMERIC_OID and pa.types.is_floating(table.column(i).type)
    ]
    if not numeric and all(
        f.type == _wanted(oid, f.type) for f, oid in zip(schema, column_oids, strict=True)
    ):
        plan.__dict__["_described_as"] = (list(column_oids), schema)
        return table  # (the usual case: every column has its described type already)
    converted = _numeric(session, [table.column(i) for i in numeric]) if numeric else []
    for i, oid in enumerate(column_oids):
        col = table.column(i)
        if i in numeric:
            arrays.append(converted[numeric.index(i)])
            continue
        want = _wanted(oid, col.type)
        arrays.append(col if col.type == want else col.cast(want))
    return pa.Table.from_arrays(arrays, names=table.column_names)


def _wanted(oid: int, typ: pa.DataType) -> pa.DataType:
    """The Arrow type a native result column of type ``typ`` is sent as for a column described as
    ``oid``: its OID's, except a numeric that is a decimal already (as DuckDB's); unknown OIDs as
    they are."""
    if oid not in BY_OID or (oid == NUMERIC_OID and pa.types.is_decimal(typ)):
        return typ
    return BY_OID[oid].arrow


def _numeric(session: SqlSession, cols: list[pa.ChunkedArray]) -> list[pa.ChunkedArray]:
    """avg of integer fields is numeric (sql/rewrite/pg_types.py): the same cast from double as the
    DuckDB path (NUMERIC_FROM_DOUBLE), so both give the same digits: by Arrow (:func:`numeric_digits`),
    else (a value Arrow cannot take: NaN, infinity, a tiny exponent) all such columns in one DuckDB
    statement, which also gives DuckDB's error (~1.6 ms, most of a small query's time)."""
    try:
        return [numeric_digits(c) for c in cols]
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    cur = session.sql_engine.duck.cursor()
    try:
        names = [f"v{k}" for k in range(len(cols))]
        cur.register("__tsgres_native_numeric", pa.table(dict(zip(names, cols, strict=True))))
        sql = f"SELECT {', '.join(NUMERIC_FROM_DOUBLE.format(n) for n in names)} FROM __tsgres_native_numeric"
        out = cur.sql(sql).to_arrow_table()
        return [out.column(k) for k in range(len(cols))]
    finally:
        cur.close()


_NUMERIC = pa.decimal128(38, NUMERIC_SCALE)
_NUMERIC_WIDE = pa.decimal256(76, 40)


def numeric_digits(col: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """DuckDB's CAST(CAST(double AS VARCHAR) AS DECIMAL(38, 16)) in Arrow: the shortest text that
    reads back as the double (both write that), rounded to 16 decimals with ties away from zero (as
    DuckDB reads a longer text). Raises pa.ArrowInvalid where Arrow cannot (NaN, infinities, more than
    40 decimals or 22 integer digits)."""
    text = pc.cast(col, pa.string())
    wide = pc.cast(text, _NUMERIC_WIDE)
    return pc.cast(pc.round(wide, ndigits=NUMERIC_SCALE, round_mode="half_towards_infinity"), _NUMERIC)


class NotNative(E.FeatureNotSupported):
    """The parameters of this execution make a native plan's pushdown inexact (e.g. a tag compared
    with ''): the statement must run on DuckDB instead."""


def _request(session: SqlSession, plan, params: list) -> ScanRequest:
    meta = plan.meta
    tags = plan.__dict__.get("_tag_names")
    if tags is None:  # per plan (a DDL makes a new plan)
        tags = plan.__dict__["_tag_names"] = {c.name for c in sql_columns(meta) if c.kind == "tag"}
        plan.__dict__["_naive_time"] = naive_time(meta)
        plan.__dict__["_alias"] = plan.table.alias_or_name  # (3 sqlglot properties a query)

    memo = plan.__dict__.setdefault("_pushdown_memo", {})  # the WHERE analysed once per plan
    evaluate = _evaluator(session, params)
    pd = table_pushdown(
        plan.where,
        plan.__dict__["_alias"],
        meta.time_column,
        tags,
        evaluate,
        params,
        memo,
        naive=plan.__dict__["_naive_time"],
    )
    if not pd.exact:
        raise NotNative(
            "the native executor cannot apply this WHERE exactly (SET tsgres.native_executor = off)"
        )
    return ScanRequest(
        session.database,
        meta.name,
        rp=plan.rp,
        tmin=pd.tmin,
        tmax=pd.tmax,
        predicate=pd.predicate,
        interrupt=session.interrupt(),
    )


def _evaluator(session: SqlSession, params: list) -> Callable[[exp.Expression], int | None]:
    """The pushdown's evaluation of a time bound to epoch ns; an expression without parameters is
    evaluated without them (DuckDB refuses unused ones)."""

    def evaluate(e: exp.Expression) -> int | None:
        used = isinstance(e, exp.Parameter) or e.find(exp.Parameter) is not None
        return session.evaluate_ns(e, params if used else [])

    return evaluate


def _group_codes(
    session: SqlSession, plan: BucketAggregate, series: np.ndarray
) -> tuple[np.ndarray, list[list]]:
    """Per series id: a code of its grouped tag values; and per code the tag values."""
    if not plan.group_tags:
        return np.zeros(len(series), dtype=np.int64), [[]]
    uniq, inv = np.unique(series, return_inverse=True)
    db = session.storage.catalog.database(session.database)
    tagsets = [dict(ts) for _, ts in session.storage.index(db.id).series_tags(uniq.tolist())]
    per_series = [tuple(ts.get(t) for t, _ in plan.group_tags) for ts in tagsets]
    keys: dict[tuple, int] = {}
    code_of_uniq = np.array([keys.setdefault(k, len(keys)) for k in per_series], dtype=np.int64)
    return code_of_uniq[inv], [list(k) for k in keys]


def _bucket_aggregate(session: SqlSession, plan: BucketAggregate, params: list) -> pa.Table:
    req = _request(session, plan, params)
    every = plan.every_us * 1000 if plan.every_us else None
    offset = bucket_offset(session, plan, every) if every else 0
    fields, filters = _shape(plan)
    conds = _conditions(plan.conditions, params)
    if conds is None:  # compared with NULL: no row counts
        return _order_limit(
            plan, _aggregate_table(session, plan, Partials.empty(fields, _types(plan, fields)), fields)
        )
    if (
        every
        and not filters
        and plan.limit is not None
        and plan.order
        and plan.order[0][0] == (plan.bucket_name or "time_bucket")
    ):
        return _newest_buckets(session, plan, req, fields, every, offset, conds)
    p = _partials(session, req, fields, every, offset, conds, *_decoded(plan))
    src = None
    if filters:
        p, src = _filter_scans(session, plan, params, p, filters, req, fields, every, offset, conds)
    return _order_limit(plan, _aggregate_table(session, plan, p, fields, (req, every, offset, conds), src))


def _shape(plan: BucketAggregate) -> tuple[list[str], list]:
    """The fields the aggregates read ("": of the rows, none) and their distinct FILTERs, per plan
    (copies: callers may keep them)."""
    got = plan.__dict__.get("_shape")
    if got is None:
        got = plan.__dict__["_shape"] = (
            list(dict.fromkeys(a.field for a in plan.aggs if a.field)),
            list({a.filter[2]: a.filter for a in plan.aggs if a.filter is not None}.values()),
        )
    return list(got[0]), list(got[1])


def _filter_scans(
    session: SqlSession,
    plan: BucketAggregate,
    params: list,
    p: Partials,
    filters: list,
    req,
    fields,
    every,
    offset,
    conds,
) -> tuple[Partials, np.ndarray]:
    """The pieces of the rows each FILTER (WHERE ...) counts, beside the statement's own: one more
    aggregate scan per distinct filter (its field conditions added, its tag and time conjuncts pushed
    down as a WHERE's); and per piece which scan made it (0: the statement's, k: filter k's)."""
    parts, src = [p], [np.zeros(len(p), np.int64)]
    tags = plan.__dict__["_tag_names"]  # (set by _request)
    memo = plan.__dict__.setdefault("_filter_memo", {})
    for k, (fconds, where, key) in enumerate(filters, start=1):
        extra = _conditions(list(fconds), params)
        if extra is None:  # a comparison with NULL: the filter counts no row
            continue
        sub = req
        if where is not None:
            pd = table_pushdown(
                where,
                "",
                plan.meta.time_column,
                tags,
                _evaluator(session, params),
                params,
                memo.setdefault(key, {}),
                naive=plan.__dict__["_naive_time"],  # (set by _request)
            )
            if not pd.exact:
                raise NotNative("the native executor cannot apply this FILTER exactly")
            predicate = req.predicate
            if pd.predicate is not None:
                predicate = pd.predicate if predicate is None else And((predicate, pd.predicate))
            sub = dataclasses.replace(
                req, tmin=max(req.tmin, pd.tmin), tmax=min(req.tmax, pd.tmax), predicate=predicate
            )
            if sub.tmin > sub.tmax:
                continue
        got = _partials(session, sub, fields, every, offset, conds + extra, *_decoded(plan))
        parts.append(got)
        src.append(np.full(len(got), k, np.int64))
    return Partials.concat(parts, fields, p.types), np.concatenate(src)


def _only(p: Partials, keep: np.ndarray) -> Partials:
    """``p`` with the pieces outside ``keep`` holding no rows and no values (they count nothing)."""
    return p.replaced(np.where(keep, p.rows, 0), np.where(keep, p.count, 0))


def bucket_offset(session: SqlSession, plan: BucketAggregate, every: int) -> int:
    """Where buckets of ``every`` ns start, modulo ``every``: TimescaleDB's origin (2000-01-03) or the
    time_bucket / date_bin origin, plus time_bucket's offset."""
    origin = TIMESCALE_ORIGIN_NS
    if plan.bucket_origin is not None:
        found = session.evaluate_ns(plan.bucket_origin, [])
        if found is None:
            raise NotNative("the bucket origin has no time")
        origin = found
    return (origin + plan.bucket_offset_us * 1000) % every


def _decoded(plan: BucketAggregate) -> tuple[bool, bool]:
    """Whether an aggregate needs what block statistics do not know: (the times of each piece's min
    or max, or its spread; its spread: mean and squared distances). Per plan."""
    got = plan.__dict__.get("_decoded")
    if got is None:
        spread = any(a.func in SPREAD_FUNCS for a in plan.aggs)
        extremes = ("max_time", "min_time")
        decoded = spread or any(a.func in extremes or a.selects in extremes for a in plan.aggs)
        got = plan.__dict__["_decoded"] = (decoded, spread)
    return got


# A native aggregate holds its partials (one per series, bucket and block: 9 values a column) and its
# result in memory; beyond this many pieces x columns (~300 MB of partials) the statement runs on
# DuckDB instead, whose aggregation spills and whose result streams.
NATIVE_PARTIAL_VALUES = 4 << 20


def _partials(
    session: SqlSession,
    req: ScanRequest,
    fields: list[str],
    every,
    offset,
    conds,
    decoded: bool = False,
    spread: bool = False,
) -> Partials:
    analysis = session.analysis
    started = time.perf_counter() if analysis is not None else 0.0
    try:
        return aggregate_partials(
            session.storage, req, fields, every=every, offset=offset, conditions=conds,
            max_pieces=max(NATIVE_PARTIAL_VALUES // max(len(fields), 1), 1), decoded=decoded, spread=spread,
            stats=analysis.stats if analysis is not None else None,
        )  # fmt: skip
    except ResultTooLarge as exc:
        raise NotNative(str(exc)) from None
    finally:
        if analysis is not None:
            analysis.scans += 1
            analysis.scan_s += time.perf_counter() - started


@dataclasses.dataclass
class Analysis:
    """What EXPLAIN ANALYZE reports of a native execution's aggregate scans (SqlSession.analysis)."""

    stats: AggregateStats = dataclasses.field(default_factory=AggregateStats)
    scans: int = 0
    scan_s: float = 0.0


def _newest_buckets(session, plan, req, fields, every, offset, conds) -> pa.Table:
    """ORDER BY the bucket (DESC or ASC) first, with LIMIT: only the buckets at that end of the range
    are read. A window of whole buckets at the end holding at least OFFSET + LIMIT result rows holds
    the answer; it starts at the LIMIT + OFFSET buckets nearest the data's edge and grows until it
    does (or reaches the other end of the range)."""
    need = plan.offset + (plan.limit or 0)
    desc = plan.order[0][1]
    ext = time_extent(session.storage, req)
    decoded = _decoded(plan)
    if ext is None or need == 0:
        p = _partials(session, req, fields, every, offset, conds, *decoded)
        return _order_limit(plan, _aggregate_table(session, plan, p, fields, (req, every, offset, conds)))
    lo_t, hi_t = ext
    k = max(need, 1)
    while True:
        if desc:
            edge = (hi_t - offset) // every * every + offset
            start = edge - (k - 1) * every
            whole = start <= lo_t
            sub = req if whole else dataclasses.replace(req, tmin=max(req.tmin, start))
        else:
            edge = (lo_t - offset) // every * every + offset
            stop = edge + k * every - 1  # the last ns of the k-th bucket
            whole = stop >= hi_t
            sub = req if whole else dataclasses.replace(req, tmax=min(req.tmax, stop))
        p = _partials(session, sub, fields, every, offset, conds, *decoded)
        table = _aggregate_table(session, plan, p, fields, (sub, every, offset, conds))
        if whole or table.num_rows >= need:
            return _order_limit(plan, table)
        k *= 8


def _order_limit(plan: BucketAggregate, table: pa.Table) -> pa.Table:
    bucket = plan.bucket_name or "time_bucket"
    if len(plan.order) == 1 and plan.order[0][0] == bucket and plan.every_us:
        # rows come sorted by (bucket, group): ORDER BY the bucket alone needs no sort (ties in any
        # order, as in SQL); DESC is the reverse
        if plan.order[0][1] and table.num_rows > 1:
            table = table.take(pa.array(np.arange(table.num_rows - 1, -1, -1)))
    elif plan.order:
        table = sort_rows(table, plan.order)
    if plan.offset or plan.limit is not None:
        table = table.slice(plan.offset, plan.limit)
    return table


def sort_rows(table: pa.Table, order: list[tuple[str, bool, bool]]) -> pa.Table:
    """``table`` sorted by ``order``: (column, descending, NULLs first) each."""
    names = table.column_names
    keyed = table
    keys: list[tuple[int, str]] = []
    for n, desc, nulls_first in order:
        col = table.column(names.index(n))
        if col.null_count:  # NULLs where the ORDER BY puts them (pyarrow: last either way)
            keys.append((keyed.num_columns, "descending" if nulls_first else "ascending"))
            keyed = keyed.append_column(f"__nulls{len(keys)}", pc.is_null(col))
        keys.append((names.index(n), "descending" if desc else "ascending"))
    return table.take(pc.sort_indices(keyed, sort_keys=keys))


def _aggregate_table(
    session: SqlSession,
    plan: BucketAggregate,
    p: Partials,
    fields: list[str],
    scan: tuple | None = None,
    src: np.ndarray | None = None,
) -> pa.Table:
    """One row per (bucket, grouped tags) that has rows: the pieces of each combined (numpy, sorted
    once by (bucket, group)). Percentiles read the values themselves: ``scan`` is the partials'
    (request, bucket width, offset, conditions). With FILTERs, ``src`` says which scan made each
    piece (_filter_scans): the groups are the statement's, each aggregate combines its scan's pieces."""
    if plan.not_null is not None and len(p):
        # (every aggregate is of that field: a piece counts iff it holds a value of it)
        kept = np.flatnonzero(p.count[fields.index(plan.not_null)] > 0)
        p = p.take(kept)
        src = None if src is None else src[kept]
    for i in _integer_sums(plan, p, fields):
        if not _sums_fit(p, i):
            raise NotNative("an integer sum may leave int64: DuckDB sums it exactly")
    values = _percentile_values(session, plan, scan, p) if scan is not None else None
    if values is None:
        codes, group_values = _group_codes(session, plan, p.series)
    else:  # (one coding of the groups for the pieces and the values' rows, which come in runs of a series)
        rs = values[1]
        heads = np.flatnonzero(np.concatenate(([True], rs[1:] != rs[:-1]))) if len(rs) else rs
        both, group_values = _group_codes(session, plan, np.concatenate([p.series, rs[heads]]))
        row_codes = np.repeat(both[len(p) :], np.diff(np.append(heads, len(rs))))
        codes, values = both[: len(p)], (values[0], row_codes, values[2])
    if plan.group_tags:
        order = np.lexsort((codes, p.bucket))
        sc = codes[order]
    else:  # one group (codes all 0): by bucket alone, as lexsort would order them (both stable)
        order = p.bucket.argsort(kind="stable")
        sc = codes
    sb = p.bucket[order]
    starts = np.empty(len(order), np.int64)
    starts = starts[: _segment_starts(sb, sc, starts)]
    seg: np.ndarray | None = None
    col_of = dict(zip(fields, range(len(fields)), strict=True))
    views: dict[str | None, Partials] = {None: p if src is None else _only(p, src == 0)}
    if src is not None:
        keys = list(dict.fromkeys(a.filter[2] for a in plan.aggs if a.filter is not None))
        views.update({key: _only(p, src == k) for k, key in enumerate(keys, start=1)})
    simple = _simple_aggregates(plan, views[None], col_of, order, starts)
    results: list[pa.Array] = []  # per aggregate
    if values is not None:
        found = _percentiles(plan, values, sb[starts], sc[starts])
    else:  # (no rows to read: the statement compares a field with NULL)
        types = {"pct_cont": pa.float64(), "count_distinct": pa.int64()}
        found = {
            i: pa.nulls(len(starts), types.get(a.func, a.column.type.arrow))
            for i, a in enumerate(plan.aggs)
            if a.func in _PERCENTILES
        }
    for i, a in enumerate(plan.aggs):
        if i in found:
            results.append(found[i])
        elif i in simple:
            results.append(simple[i])
        elif a.func == "aux":
            results.append(None)  # (below: one read of the selected rows for all of them)
        elif a.func == "count_tags":
            results.append(_count_tags(session, a.value, p, order, starts))
        elif not a.field:
            results.append(_of_rows(a.func, views[a.filter[2] if a.filter else None], order, starts))
        else:
            if seg is None:
                seg = _segment_of(starts, len(order))
            view = views[a.filter[2] if a.filter else None]
            results.append(_combine(a.func, view, col_of[a.field], order, starts, seg))
    if any(r is None for r in results):
        _aux_values(session, plan, p, col_of, order, starts, scan, results)
    if not len(starts) and not plan.group_tags and not plan.every_us:
        # aggregates without GROUP BY give one row even over no rows: count 0, the others NULL
        results = [
            pa.array([0], pa.int64())
            if a.func in ("count", "rows", "count_distinct", "count_tags")
            else pa.nulls(1, col.type)
            for a, col in zip(plan.aggs, results, strict=True)
        ]
    keep = None if plan.having is None else _having(plan.having, results)
    columns: list[pa.Array] = []
    names: list[str] = []
    for kind, i in plan.outputs:
        if kind == "bucket" and plan.epoch_seconds:
            columns.append(pa.array(sb[starts] // 10**9, pa.int64()).cast(_EPOCH_SECONDS))
            names.append(plan.bucket_name or "time_bucket")
        elif kind == "bucket":
            columns.append(_timestamptz(sb[starts]))
            names.append(plan.bucket_name or "time_bucket")
        elif kind == "tag":
            texts = [group_values[c][i] for c in sc[starts].tolist()]
            columns.append(pa.array(texts, pa.string()))
            names.append(plan.group_tags[i][1])
        elif kind == "expr":
            name, tree, doubles = plan.exprs[i]
            columns.append(_arithmetic(tree, results, doubles))
            names.append(name)
        else:
            columns.append(results[i])
            names.append(plan.aggs[i].name)
    table = pa.Table.from_arrays(columns, names=names)
    return table if keep is None else table.filter(keep)


_COMPARE = {
    "greater": pc.greater,
    "greater_equal": pc.greater_equal,
    "less": pc.less,
    "less_equal": pc.less_equal,
    "equal": pc.equal,
    "not_equal": pc.not_equal,
}


def _having(node: tuple, results: list[pa.Array]) -> pa.Array:
    """HAVING's truth per result row (sql/planner.py _having; NULL, unknown, drops the row as FALSE):
    SQL's three-valued AND / OR / NOT."""
    kind = node[0]
    if kind in ("and", "or"):
        combine = pc.and_kleene if kind == "and" else pc.or_kleene
        return combine(_having(node[1], results), _having(node[2], results))
    if kind == "not":
        return pc.invert(_having(node[1], results))
    if kind == "null":
        value = _having_value(node[1], results)
        return pc.is_valid(value) if node[2] else pc.is_null(value)
    left, right = _having_value(node[2], results), _having_value(node[3], results)
    op = node[1]
    if not (pa.types.is_floating(left.type) or pa.types.is_floating(right.type)):
        return _COMPARE[op](left, right)
    # NaN is above every number and equal to NaN, as PostgreSQL orders it
    nan_l, nan_r = _is_nan(left), _is_nan(right)
    if op in ("equal", "not_equal"):
        same = pc.or_(pc.equal(left, right), pc.and_(nan_l, nan_r))
        return same if op == "equal" else pc.invert(same)
    if op in ("less", "less_equal"):  # a < b is b > a
        left, right, nan_l, nan_r = right, left, nan_r, nan_l
        op = op.replace("less", "greater")
    above = pc.or_(pc.greater(left, right), pc.and_(nan_l, pc.invert(nan_r)))
    if op == "greater_equal":
        above = pc.or_(above, pc.or_(pc.equal(left, right), pc.and_(nan_l, nan_r)))
    return above


def _is_nan(v: pa.Array | pa.Scalar) -> pa.Array | pa.Scalar:
    """Whether each value is NaN (never an integer's; NULL stays NULL)."""
    return pc.is_nan(v) if pa.types.is_floating(v.type) else pc.not_equal(v, v)


def _having_value(side: tuple, results: list[pa.Array]) -> pa.Array | pa.Scalar:
    if side[0] == "agg":
        return results[side[1]]
    if side[0] == "expr":
        return _arithmetic(side[1], results, side[2])
    number: Decimal | float = side[1]
    if isinstance(number, float):
        return pa.scalar(number, pa.float64())
    if number == number.to_integral_value() and abs(number) < 2**63:
        return pa.scalar(int(number), pa.int64())
    return pa.scalar(float(number), pa.float64())


_PERCENTILES = ("pct_cont", "pct_disc", "count_distinct")  # (of the values themselves)


# Percentiles sort their values in numpy (one lexsort): beyond this many DuckDB's parallel sort is
# faster (864k values: 112 ms here, DuckDB 85)
NATIVE_PERCENTILE_VALUES = 1 << 18


def _percentile_values(
    session: SqlSession, plan: BucketAggregate, scan: tuple, p: Partials
) -> tuple[np.ndarray, np.ndarray, pa.Table] | None:
    """For percentiles: the rows they read (with the conditions' and the partials' time range), as
    (each row's bucket, its series, the table of its fields); None without percentiles."""
    fields = plan.__dict__.get("_percentile_fields")
    if fields is None:  # per plan
        fields = plan.__dict__["_percentile_fields"] = list(
            dict.fromkeys(a.field for a in plan.aggs if a.func in _PERCENTILES)
        )
    if not fields:
        return None
    if sum(int(p.count[p.columns.index(f)].sum()) for f in fields) > NATIVE_PERCENTILE_VALUES:
        raise NotNative("many values to sort for a percentile: DuckDB sorts them in parallel")
    req, every, offset, conds = scan
    wanted = tuple(dict.fromkeys([*fields, *(c.column for c in conds or [])]))
    sub = dataclasses.replace(req, fields=wanted, tags=(), with_series_id=True)
    try:
        tbl = filtered(session.storage, sub, conds or [], plain_tags=True, max_rows=NATIVE_RESULT_VALUES)
    except ResultTooLarge as exc:  # (DuckDB's quantiles spill)
        raise NotNative(str(exc)) from None
    t = tbl.column(0).to_numpy().view(np.int64)
    buckets = (t - offset) // every * every + offset if every else np.zeros(len(t), np.int64)
    return buckets, tbl.column(SERIES_ID).to_numpy(), tbl


def _percentiles(
    plan: BucketAggregate, values: tuple, seg_bucket: np.ndarray, seg_code: np.ndarray
) -> dict[int, pa.Array]:
    """percentile_cont (linear between the two nearest ranks, as PostgreSQL), percentile_disc (the
    first value at or past the fraction) and COUNT(DISTINCT) (NaN one value, as in PostgreSQL) of
    each segment's values: {aggregate index: column}."""
    buckets, codes, tbl = values
    nseg = len(seg_bucket)
    # each row's segment: segments are sorted by (bucket, code), so by (bucket's rank, code)
    ub = np.unique(seg_bucket)
    width = int(max(seg_code.max(initial=0), codes.max(initial=0))) + 1
    seg_key = np.searchsorted(ub, seg_bucket) * width + seg_code
    bi = np.minimum(np.searchsorted(ub, buckets), max(len(ub) - 1, 0))
    row_key = bi * width + codes
    seg = np.minimum(np.searchsorted(seg_key, row_key), max(nseg - 1, 0))
    known = (ub[bi] == buckets) & (seg_key[seg] == row_key) if nseg else np.zeros(len(buckets), bool)
    out: dict[int, pa.Array] = {}
    for i, a in enumerate(plan.aggs):
        if a.func not in _PERCENTILES:
            continue
        col = tbl.column(a.field)
        keep = known & col.is_valid().to_numpy(zero_copy_only=False)
        v = col.to_numpy(zero_copy_only=False)[keep]
        s = seg[keep]
        if a.func == "pct_cont":
            v = v.astype(np.float64)
        o = np.lexsort((v, s))  # (NaN last: above every number, as in PostgreSQL)
        v = v[o]
        s = s[o]
        n = np.bincount(s, minlength=nseg)
        begin = np.cumsum(n) - n
        has = n > 0
        if a.func == "count_distinct":
            same = (v[1:] == v[:-1]) & (s[1:] == s[:-1])
            if v.dtype.kind == "f":
                same |= np.isnan(v[1:]) & np.isnan(v[:-1]) & (s[1:] == s[:-1])
            firsts = np.concatenate(([True], ~same)) if len(v) else np.zeros(0, bool)
            out[i] = pa.array(np.bincount(s[firsts], minlength=nseg), pa.int64())
        elif a.func == "pct_cont":
            pos = a.fraction * np.maximum(n - 1, 0)
            lo = np.floor(pos).astype(np.int64)
            hi = np.ceil(pos).astype(np.int64)
            lo_v = v[np.where(has, begin + lo, 0)] if len(v) else np.zeros(nseg)
            hi_v = v[np.where(has, begin + hi, 0)] if len(v) else np.zeros(nseg)
            with np.errstate(invalid="ignore"):
                res = lo_v + (pos - lo) * (hi_v - lo_v)
            out[i] = pa.array(res, pa.float64(), mask=~has)
        else:
            k = np.maximum(np.ceil(a.fraction * n).astype(np.int64) - 1, 0)
            res = v[np.where(has, begin + k, 0)] if len(v) else np.zeros(nseg, col.type.to_pandas_dtype())
            out[i] = _masked(res, has)
    return out


_EPOCH_SECONDS = pa.decimal128(38, 0)  # (DuckDB's type for floor(extract(epoch ...) / N) * N)
_ARITHMETIC = {"add": pc.add_checked, "sub": pc.subtract_checked, "mul": pc.multiply_checked}


def _arithmetic(tree: tuple, results: list[pa.Array], doubles: bool) -> pa.Array:
    """An output computed from aggregates (sql/planner.py _arithmetic): in doubles, or in bigint,
    whose overflow PostgreSQL reports (DuckDB runs the statement then, and says so)."""
    typ = pa.float64() if doubles else pa.int64()

    def value(node: tuple):
        kind = node[0]
        if kind == "agg":
            return pc.cast(results[node[1]], typ)
        if kind == "lit":
            return pa.scalar(node[1], typ)
        if kind == "neg":
            return pc.negate_checked(value(node[1]))
        return _ARITHMETIC[kind](value(node[1]), value(node[2]))

    try:
        return value(tree)  # (an array: the planner takes no arithmetic without an aggregate)
    except pa.ArrowInvalid as exc:  # (an integer overflow)
        raise NotNative(f"bigint arithmetic out of range: {exc}") from None


def _integer_sums(plan: BucketAggregate, p: Partials, fields: list[str]) -> list[int]:
    """The columns of ``p`` that a sum or avg adds as integers."""
    memo = plan.__dict__.setdefault("_integer_sums", {})  # per plan and field types
    key = tuple(p.types)
    got = memo.get(key)
    if got is None:
        summed = {fields.index(a.field) for a in plan.aggs if a.func in ("sum", "avg")}
        ints = (FieldType.INTEGER, FieldType.UNSIGNED)
        got = memo[key] = sorted(i for i in summed if p.types[i] in ints)
    return got


def _sums_fit(p: Partials, i: int) -> bool:
    """Whether no sum of column i's values can leave int64 (where the native sums wrap): the count
    times the largest magnitude of every piece, all added up, stays below 2**62 (a margin for the
    float arithmetic)."""
    has = p.count[i] > 0
    if p.types[i] is FieldType.UNSIGNED:
        big = p.max[i][has].astype(np.float64)
    else:
        big = np.maximum(np.abs(p.min[i][has].view(np.int64).astype(np.float64)),
                         np.abs(p.max[i][has].view(np.int64).astype(np.float64)))  # fmt: skip
    return float(np.dot(p.count[i][has].astype(np.float64), big)) < 2.0**62


_SIMPLE = {"count": 0, "sum": 1, "avg": 2, "min": 3, "max": 4}
_KIND = {FieldType.INTEGER: 0, FieldType.UNSIGNED: 1, FieldType.FLOAT: 2, FieldType.BOOLEAN: 3}


def _simple_aggregates(
    plan: BucketAggregate, p: Partials, col_of: dict[str, int], order: np.ndarray, starts: np.ndarray
) -> dict[int, pa.Array]:
    """count, sum, avg, min and max of every segment in one kernel call: {aggregate index: column}."""
    memo = plan.__dict__.setdefault("_simple_memo", {})  # per plan and field types: the kernel's codes
    key = tuple(p.types)
    codes = memo.get(key)
    if codes is None:
        which = [i for i, a in enumerate(plan.aggs) if a.func in _SIMPLE and a.filter is None]
        cols = np.array([col_of[plan.aggs[i].field] for i in which], np.int64)
        funcs = np.array([_SIMPLE[plan.aggs[i].func] for i in which], np.int64)
        kinds = np.array([_KIND[p.types[c]] for c in cols.tolist()], np.int64)
        codes = memo[key] = (which, funcs, cols, kinds, _finish_plan(funcs, kinds))
    which, funcs, cols, kinds, (finish, bools) = codes
    if not which:
        return {}
    outs = np.zeros((2, len(which), len(starts)), np.int64)  # integer outputs, float outputs' bits
    valid = np.zeros((len(which), len(starts)), np.bool_)
    _combine_simple(order, starts, p.acc, funcs, cols, kinds, outs, valid)
    out_i, out_f = outs[0], outs[1].view(np.float64)
    # the outputs over the kernel's blocks, a kind of output at a time (per plan: which are which)
    out: dict[int, pa.Array] = {}
    for typ, block, masked, ks in finish:
        arrays = fixed_width_rows(typ, out_i if block == "i" else out_f, valid if masked else None, ks)
        for k, arr in zip(ks, arrays, strict=True):
            out[which[k]] = arr
    for k in bools:
        out[which[k]] = pa.array(out_i[k].astype(bool), mask=~valid[k])
    return out


def _finish_plan(funcs: np.ndarray, kinds: np.ndarray) -> tuple[list[tuple], list[int]]:
    """How _simple_aggregates makes its outputs Arrow arrays: [(type, block of the kernel's outputs,
    masked by its validity, outputs)], and the outputs that are booleans (min and max of a boolean
    column). count is int64 and never NULL; avg and float outputs float64; a sum of unsigned values
    int64 (as _combine's), their min and max uint64; the others int64."""
    groups: dict[tuple, list[int]] = {}
    bools = []
    for k, (f, kind) in enumerate(zip(funcs.tolist(), kinds.tolist(), strict=True)):
        if f == 0:
            key = ("int64", "i", False)
        elif f == 2 or kind == 2:
            key = ("float64", "f", True)
        elif kind == 1 and f != 1:
            key = ("uint64", "i", True)
        elif kind == 3 and f != 1:
            bools.append(k)
            continue
        else:
            key = ("int64", "i", True)
        groups.setdefault(key, []).append(k)
    return [(getattr(pa, t)(), block, masked, ks) for (t, block, masked), ks in groups.items()], bools


_FIXED_TYPES = {np.dtype(np.int64): pa.int64(), np.dtype(np.uint64): pa.uint64()}


def _masked(values: np.ndarray, valid: np.ndarray) -> pa.Array:
    """``values`` with NULL where not ``valid`` (64-bit integers by their buffer: columnar.scan.fixed_width)."""
    typ = _FIXED_TYPES.get(values.dtype)
    if typ is not None:
        return fixed_width(typ, values, valid)
    return pa.array(values, mask=~valid)


@njit(cache=True, nogil=True)
def _segment_starts(bucket, code, out):
    """Where runs of equal (bucket, code) start in the sorted pieces, into ``out``; their number."""
    n = 0
    for i in range(len(bucket)):
        if i == 0 or bucket[i] != bucket[i - 1] or code[i] != code[i - 1]:
            out[n] = i
            n += 1
    return n


@njit(cache=True, nogil=True)
def _combine_simple(order, starts, acc, funcs, cols, kinds, outs, valid):
    """Per segment (pieces order[starts[s]:starts[s + 1]]) and output o: funcs[o] (0 count, 1 sum,
    2 avg, 3 min, 4 max) of column cols[o] of kind kinds[o] (0 int, 1 uint, 2 float, 3 bool), as
    _combine computes them: pieces without values add 0 and are skipped by min and max, integer sums
    wrap as int64, a float min skips NaN and a float max is NaN when any value is (PostgreSQL's NaN
    order). ``acc`` is the partials' block (Partials.acc), ``outs`` the integer outputs and the
    float outputs' bits (the views are taken here: each argument costs the call ~0.1 us, each view
    in Python ~0.3)."""
    count, sum_i, sum_f = acc[0].view(np.int64), acc[1].view(np.int64), acc[2].view(np.float64)
    min_i, max_i = acc[3].view(np.int64), acc[4].view(np.int64)
    min_f, max_f = acc[3].view(np.float64), acc[4].view(np.float64)
    out_i, out_f = outs[0], outs[1].view(np.float64)
    n, nseg = len(order), len(starts)
    for o in range(len(funcs)):
        f, c, kind = funcs[o], cols[o], kinds[o]
        for s in range(nseg):
            lo = starts[s]
            hi = starts[s + 1] if s + 1 < nseg else n
            total = 0
            acc_i = np.int64(0)
            acc_u = np.uint64(0)
            acc_f = 0.0
            first = True
            for q in range(lo, hi):
                r = order[q]
                cnt = count[c, r]
                if f == 1 or f == 2:  # every piece in the sum, 0 where it has no value
                    if kind == 2:
                        x = sum_f[c, r] if cnt > 0 else 0.0
                        acc_f = x if q == lo else acc_f + x
                    elif cnt > 0:
                        acc_i += sum_i[c, r]
                if cnt <= 0:
                    continue
                total += cnt
                if f == 3 or f == 4:
                    if kind == 2:
                        x = min_f[c, r] if f == 3 else max_f[c, r]
                        if first:
                            acc_f = x
                        elif f == 3:
                            if np.isnan(acc_f) or (not np.isnan(x) and x < acc_f):
                                acc_f = x
                        elif not np.isnan(acc_f) and (np.isnan(x) or x > acc_f):
                            acc_f = x
                    elif kind == 1:
                        u = np.uint64(min_i[c, r] if f == 3 else max_i[c, r])
                        if first or (u < acc_u if f == 3 else u > acc_u):
                            acc_u = u
                    else:
                        v = min_i[c, r] if f == 3 else max_i[c, r]
                        if first or (v < acc_i if f == 3 else v > acc_i):
                            acc_i = v
                first = False
            valid[o, s] = total > 0
            if f == 0:
                out_i[o, s] = total
            elif f == 1:
                if kind == 2:
                    out_f[o, s] = acc_f
                else:
                    out_i[o, s] = acc_i
            elif f == 2:
                if kind == 2:
                    out_f[o, s] = acc_f / max(total, 1)
                else:
                    out_f[o, s] = acc_i / max(total, 1)
            elif kind == 2:
                out_f[o, s] = acc_f
            elif kind == 1:
                out_i[o, s] = np.int64(acc_u)
            else:
                out_i[o, s] = acc_i


def warm_up() -> None:
    """Compile (or load from numba's cache) the executor's own kernels with the types it passes."""
    acc, b2 = np.zeros((13, 2, 2), np.uint64), np.zeros((2, 2), np.bool_)
    one = np.zeros(1, np.int64)
    _segment_starts(one, one, one.copy())
    _combine_simple(one, one, acc, one, one, one, np.zeros((2, 2, 2), np.int64), b2)
    # partials cut to their length are strided views
    _combine_simple(one, one, acc[:, :, :1], one, one, one, np.zeros((2, 2, 2), np.int64), b2)


def _ends(starts: np.ndarray, n: int) -> np.ndarray:
    """The last index of each segment (segments start at ``starts``, the last one runs to n)."""
    return np.append(starts[1:], n) - 1 if len(starts) else starts


def _combine(
    func: str, p: Partials, i: int, order: np.ndarray, starts: np.ndarray, seg: np.ndarray
) -> pa.Array:
    """Column i's pieces (in ``order``) combined per segment (NULL where a segment has no value)."""
    ftype = p.types[i]
    cnt = p.count[i][order]
    has = cnt > 0
    total = np.add.reduceat(cnt, starts)
    valid = total > 0
    if func == "count":
        return pa.array(total, pa.int64())
    if func in ("sum", "avg"):
        if ftype is FieldType.FLOAT:
            sums = np.add.reduceat(np.where(has, p.sum_f[i][order], 0.0), starts)
        else:  # integer sums stay exact (int64)
            sums = np.add.reduceat(np.where(has, p.sum_i[i][order].view(np.int64), 0), starts)
        if func == "sum":
            return _masked(sums, valid)
        return pa.array(sums / np.maximum(total, 1), pa.float64(), mask=~valid)
    if func in ("min", "max"):
        acc = _extreme(func, p, i, order, starts, has)[0]
        if ftype is FieldType.BOOLEAN:
            acc = acc.astype(bool)
        return _masked(acc, valid)
    if func in SELECTOR_FUNCS:
        return _selected(func, p, i, order, starts, seg, has, valid)
    if func in SPREAD_FUNCS:
        return _spread(func, p, i, order, starts, seg, cnt, total)
    if func in ("first_null", "last_null"):
        # first(value, time) / last(value, time): the value at the segment's first / last row, which
        # may be NULL: the piece holding that row, and its first / last value if that is at the row.
        # Pieces without rows (another FILTER's, _only) hold no row: they are never picked
        held = p.rows[order] > 0
        if func == "first_null":
            rt = np.where(held, p.row_tmin[order], np.iinfo(np.int64).max)
            o = np.lexsort((rt, seg))
            pick = o[starts]
            at_row = has[pick] & (p.first_time[i][order][pick] == rt[pick])
            bits = p.first[i][order][pick]
        else:
            rt = np.where(held, p.row_tmax[order], np.iinfo(np.int64).min)
            o = np.lexsort((np.arange(len(rt)), rt, seg))
            pick = o[_ends(starts, len(rt))]
            at_row = has[pick] & (p.last_time[i][order][pick] == rt[pick])
            bits = p.last[i][order][pick]
        return _masked(from_bits(bits.view(np.int64), ftype), at_row)
    # first / last: the value with the smallest first_time / largest last_time in the segment
    if func == "first":
        t = np.where(has, p.first_time[i][order], np.iinfo(np.int64).max)
        o = np.lexsort((t, seg))
        pick = o[starts]
        bits = p.first[i][order][pick]
    else:
        t = np.where(has, p.last_time[i][order], np.iinfo(np.int64).min)
        o = np.lexsort((np.arange(len(t)), t, seg))
        pick = o[_ends(starts, len(t))]
        bits = p.last[i][order][pick]
    return _masked(from_bits(bits.view(np.int64), ftype), valid)


def _spread(
    func: str,
    p: Partials,
    i: int,
    order: np.ndarray,
    starts: np.ndarray,
    seg: np.ndarray,
    cnt: np.ndarray,
    total: np.ndarray,
) -> pa.Array:
    """A variance or standard deviation per segment from its pieces' counts, means and squared
    distances (Chan et al.'s pairwise combination); NULL for fewer than two values (samp) or none."""
    n = cnt.astype(np.float64)
    mean = np.where(cnt > 0, p.mean[i][order], 0.0)
    sums = np.add.reduceat(n * mean, starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        seg_mean = sums / total
        dev = np.where(cnt > 0, mean - seg_mean[seg], 0.0)
        m2 = np.add.reduceat(np.where(cnt > 0, p.m2[i][order], 0.0) + n * dev * dev, starts)
        samp = func.endswith("_samp")
        var = m2 / (total - 1 if samp else total)
    out = np.sqrt(var) if func.startswith("stddev") else var
    return pa.array(out, pa.float64(), mask=total < (2 if samp else 1))


def _segment_of(starts: np.ndarray, n: int) -> np.ndarray:
    """Per piece (in order) the index of its segment, the segments starting at ``starts`` of ``n``."""
    return np.repeat(np.arange(len(starts)), np.diff(np.append(starts, n)))


def _count_tags(
    session: SqlSession, tag: str, p: Partials, order: np.ndarray, starts: np.ndarray
) -> pa.Array:
    """COUNT(DISTINCT tag) per segment: the distinct non-NULL values of the tag among the series of
    its pieces (every piece holds rows; the index knows each series' tags)."""
    n = len(starts)
    if not n:
        return pa.array([], pa.int64())
    uniq, inv = np.unique(p.series[order], return_inverse=True)
    db = session.storage.catalog.database(session.database)
    values = [dict(ts).get(tag) for _, ts in session.storage.index(db.id).series_tags(uniq.tolist())]
    known: dict[str, int] = {}
    code = np.array([-1 if v is None else known.setdefault(v, len(known)) for v in values], np.int64)[inv]
    seg = _segment_of(starts, len(order))
    has = code >= 0
    pairs = np.unique(seg[has] * (len(known) + 1) + code[has])
    return pa.array(np.bincount(pairs // (len(known) + 1), minlength=n), pa.int64())


def _of_rows(func: str, p: Partials, order: np.ndarray, starts: np.ndarray) -> pa.Array:
    """count(*) (rows), max(time) (time_max) or min(time) (time_min) per segment (every piece holds
    rows)."""
    if not len(starts):
        return pa.array([], pa.int64() if func == "rows" else _TIMESTAMPTZ)
    if func == "rows":
        return pa.array(np.add.reduceat(p.rows[order], starts), pa.int64())
    if func == "time_max":
        ns = np.maximum.reduceat(p.row_tmax[order], starts)
    else:
        ns = np.minimum.reduceat(p.row_tmin[order], starts)
    return _timestamptz(ns)


def _extreme(
    func: str, p: Partials, i: int, order: np.ndarray, starts: np.ndarray, has: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Column i's min or max per segment, and each piece's own (in ``order``), as numbers of the
    column's type (booleans as integers)."""
    bits = (p.min if func == "min" else p.max)[i][order].view(np.int64)
    ftype = p.types[i]
    if ftype is FieldType.FLOAT:
        v = bits.view(np.float64)
        # NaN sorts above every number (PostgreSQL): min skips it, max is NaN when any value is
        if func == "min":
            return np.fmin.reduceat(np.where(has, v, np.nan), starts), v
        return np.maximum.reduceat(np.where(has, v, -np.inf), starts), v
    if ftype is FieldType.UNSIGNED:
        v = bits.view(np.uint64)
        if func == "min":
            return np.minimum.reduceat(np.where(has, v, np.uint64(2**64 - 1)), starts), v
        return np.maximum.reduceat(np.where(has, v, 0), starts), v
    if func == "min":
        return np.minimum.reduceat(np.where(has, bits, np.int64(2**63 - 1)), starts), bits
    return np.maximum.reduceat(np.where(has, bits, np.int64(-(2**63))), starts), bits


_I64_MIN, _I64_MAX = np.iinfo(np.int64).min, np.iinfo(np.int64).max


def _selected(
    func: str,
    p: Partials,
    i: int,
    order: np.ndarray,
    starts: np.ndarray,
    seg: np.ndarray,
    has: np.ndarray,
    valid: np.ndarray,
) -> pa.Array:
    """An InfluxQL selector's aggregate per segment (sql/planner.py _SELECTORS): the time of the
    first point holding the min or max (min_time, max_time), the first or last time (first_time,
    last_time), or the largest value at the first or last time (first_hi, last_hi: points of
    several series share a time; NaN counts as the largest at the last time, never at the first)."""
    ns, _, best = _selection(func, p, i, order, starts, seg, has)
    if func.endswith("_time"):
        return _timestamptz(ns, valid)
    assert best is not None  # (first_hi / last_hi)
    return _masked(best, valid)


def _selection(
    func: str, p: Partials, i: int, order: np.ndarray, starts: np.ndarray, seg: np.ndarray, has: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """What a selector picks per segment (see _selected): the point's time, which pieces (in
    ``order``) hold that point, and for first_hi / last_hi the point's value (None otherwise)."""
    if func in ("max_time", "min_time"):
        ext, v = _extreme(func[:3], p, i, order, starts, has)
        hold = has & (v == ext[seg])
        if p.types[i] is FieldType.FLOAT:
            hold |= has & np.isnan(v) & np.isnan(ext[seg])
        times = (p.max_time if func == "max_time" else p.min_time)[i][order]
        ns = np.minimum.reduceat(np.where(hold, times, _I64_MAX), starts)
        return ns, hold & (times == ns[seg]), None
    first = func in ("first_time", "first_hi")
    times = (p.first_time if first else p.last_time)[i][order]
    if first:
        ns = np.minimum.reduceat(np.where(has, times, _I64_MAX), starts)
    else:
        ns = np.maximum.reduceat(np.where(has, times, _I64_MIN), starts)
    at = has & (times == ns[seg])
    v = from_bits((p.first if first else p.last)[i][order].view(np.int64), p.types[i])
    if v.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            if first:  # (fmax: NaN only when every candidate is)
                best = np.fmax.reduceat(np.where(at, v, np.nan), starts)
            else:
                best = np.maximum.reduceat(np.where(at, v, -np.inf), starts)
        picked = at & ((v == best[seg]) | (np.isnan(v) & np.isnan(best[seg])))
    else:
        best = np.maximum.reduceat(np.where(at, v, np.iinfo(v.dtype).min), starts)
        picked = at & (v == best[seg])
    return ns, picked, best


def _aux_values(
    session: SqlSession,
    plan: BucketAggregate,
    p: Partials,
    col_of: dict[str, int],
    order: np.ndarray,
    starts: np.ndarray,
    scan: tuple | None,
    results: list,
) -> None:
    """Fill ``results`` of the aux aggregates (InfluxQL's SELECT max(f), g): per selector, the point
    it picks in each segment (the series of the first piece holding it, and its time), whose row is
    read back (columnar.scan.rows_at) for the columns shown."""
    n = len(starts)
    seg = _segment_of(starts, len(order))
    by_selector: dict[tuple[str, str], list[int]] = {}
    for k, a in enumerate(plan.aggs):
        if a.func == "aux":
            by_selector.setdefault((a.field, a.selects), []).append(k)
    for (field, selects), ks in by_selector.items():
        i = col_of[field]
        has = p.count[i][order] > 0
        ns, holds, _ = _selection(selects, p, i, order, starts, seg, has)
        first = np.lexsort((np.arange(len(order)), ~holds, seg))[starts] if n else starts
        ok = holds[first] if n else np.zeros(0, bool)
        series = p.series[order][first]
        shown = [plan.aggs[k] for k in ks]
        fields = tuple(dict.fromkeys(a.value for a in shown if a.column.kind == "field"))
        tags = tuple(dict.fromkeys(a.value for a in shown if a.column.kind == "tag"))
        req = dataclasses.replace(scan[0], fields=fields, tags=tags) if scan is not None else None
        if req is None or not ok.any():
            for k in ks:
                results[k] = pa.nulls(
                    n, _AUX_TYPE.get(plan.aggs[k].column.kind) or plan.aggs[k].column.type.arrow
                )
            continue
        try:
            rows = rows_at(
                session.storage, req, series[ok], ns[ok], max_rows=NATIVE_RESULT_VALUES // max(len(ks), 1)
            )
        except ResultTooLarge as exc:  # (the selected points span too much to read back: DuckDB's turn)
            raise NotNative(str(exc)) from None
        idx = pa.array(np.cumsum(ok) - 1, mask=~ok)
        for k in ks:
            results[k] = rows.column(plan.aggs[k].value).combine_chunks().take(idx)


_AUX_TYPE = {"tag": pa.string()}


def _last_point(session: SqlSession, plan: LastPoint, params: list) -> pa.Table:
    req = _request(session, plan, params)
    # only the fields shown are read (a row exists whatever its fields hold)
    fields = [c.name for c in plan.columns if c.kind == "field"]
    tbl = last_rows(session.storage, dataclasses.replace(req, fields=tuple(fields)))
    cols = [c for c in sql_columns(plan.meta) if c.kind != "field" or c.name in fields]
    if tbl.num_rows:
        batch = to_sql_batch(tbl.combine_chunks().to_batches()[0], cols, plan.meta.time_column)
        t = pa.Table.from_batches([batch])
    else:
        t = pa.Table.from_batches([], schema=pa.schema([pa.field(c.name, c.type.arrow) for c in cols]))
    keys = [(tag, "ascending") for tag in plan.distinct_tags] + [(plan.meta.time_column, "descending")]
    t = t.take(pc.sort_indices(t, sort_keys=keys))
    if t.num_rows:
        same = np.ones(t.num_rows, dtype=bool)
        same[0] = False
        for tag in plan.distinct_tags:
            codes = t.column(tag).combine_chunks().dictionary_encode().indices.fill_null(-1).to_numpy()
            same[1:] &= codes[1:] == codes[:-1]
        t = t.take(np.flatnonzero(~same))
    return t.select([c.name for c in plan.columns])


def _number(e, params: list) -> int | float | Decimal | None:
    """The value of a planner-checked constant (number literal, its negation, a parameter); None for
    NULL."""
    if isinstance(e, exp.Paren):
        return _number(e.this, params)
    if isinstance(e, exp.Neg):
        v = _number(e.this, params)
        return None if v is None else -v
    if isinstance(e, exp.Literal):
        return Decimal(e.this)
    i = int(e.this.name) - 1
    v = params[i] if 0 <= i < len(params) else None
    if v is None or isinstance(v, int | float | Decimal):
        return v
    try:
        return Decimal(str(v).strip())
    except ArithmeticError as exc:
        raise E.InvalidTextRepresentation(f'invalid input syntax for type numeric: "{v}"') from exc


def _conditions(conditions, params: list) -> list[FieldCondition] | None:
    """The plan's field conditions with this execution's values; None when one compares with NULL
    (no row satisfies it)."""
    out = []
    for f, op, e in conditions:
        v = _number(e, params)
        if v is None:
            return None
        out.append(FieldCondition(f, op, v))
    return out


def _types(plan: BucketAggregate, fields: list[str]) -> list[FieldType]:
    by_name = {a.field: a.column.storage for a in plan.aggs if a.field}
    return [by_name[f] or FieldType.FLOAT for f in fields]


# A native filtered scan gathers its result before it is sent; beyond this many values (rows x
# columns, ~64 MB of fixed-width ones) the statement runs on DuckDB instead, which streams.
NATIVE_RESULT_VALUES = 8 << 20


def _max_rows(plan: FilteredScan) -> int:
    return max(NATIVE_RESULT_VALUES // max(len(plan.meta.columns), 1), 1024)


@dataclasses.dataclass(frozen=True)
class _FilteredShape:
    """What a FilteredScan reads and answers, the same for every execution of one plan."""

    empty: pa.Table  # the answer without rows
    fields: tuple[str, ...]  # the fields read: shown, tested and required to have a value
    tags: tuple[str, ...]  # the tags shown
    columns: list[SqlColumn]  # the columns read, in the table's order (and the time in ns last)
    picks: list[int]  # per column of the statement, its position in ``columns``


def _filtered_shape(plan: FilteredScan) -> _FilteredShape:
    shape = plan.__dict__.get("_filtered_shape")
    if shape is None:
        fields = (
            {c.name for c in plan.columns if c.kind == "field"}
            | {f for f, _, _ in plan.conditions}
            | {f for g in plan.not_null for f in g}
        )
        tags = {c.name for c in plan.columns if c.kind == "tag"}
        cols = [
            c
            for c in sql_columns(plan.meta)
            if c.kind == "time" or c.name in (fields if c.kind == "field" else tags)
        ] + [c for c in plan.columns if c.kind == "time_ns"]
        schema = pa.schema([pa.field(n, c.type.arrow) for n, c in zip(plan.names, plan.columns, strict=True)])
        at = {c.name: i for i, c in enumerate(cols)}
        picks = [at[c.name] for c in plan.columns]
        shape = _FilteredShape(schema.empty_table(), tuple(fields), tuple(tags), cols, picks)
        plan.__dict__["_filtered_shape"] = shape  # per plan: a DDL makes a new one
    return shape


def _filtered_scan(session: SqlSession, plan: FilteredScan, params: list) -> pa.Table | Streamed:
    shape = _filtered_shape(plan)
    conds = _conditions(plan.conditions, params)
    if conds is None:  # a comparison with NULL holds for no row
        return shape.empty
    # only the columns shown and the ones the conditions test are read
    req = dataclasses.replace(_request(session, plan, params), fields=shape.fields, tags=shape.tags)
    if plan.time_order is None and not plan.offset and plan.limit is None and not session.loop_deadline:
        # rows in storage's order: handed over piece by piece, the first before the rest is read
        sch, found = filtered_pieces(session.storage, req, conds, plain_tags=True)
        pieces = (
            _filtered_rows(plan, shape, pa.Table.from_arrays(cols, schema=sch))
            if plan.not_null
            else _sql_rows(plan, shape, cols, sch.names)
            for cols in found
        )
        first = next(pieces, None)
        return shape.empty if first is None else Streamed(first, pieces)
    if plan.limit is not None:
        if plan.time_order is None:
            return _first_rows(session, plan, shape, req, conds)
        return _edge_rows(session, plan, shape, req, conds)
    return _filtered_rows(plan, shape, _matches(session, plan, req, conds))


def _matches(session: SqlSession, plan: FilteredScan, req: ScanRequest, conds: list) -> pa.Table:
    """Every row of ``req`` satisfying the conditions and NOT NULL tests, as storage reads them."""
    try:
        tbl = filtered(session.storage, req, conds, plain_tags=True, max_rows=_max_rows(plan))
    except ResultTooLarge as exc:  # a huge result: DuckDB streams it in bounded memory
        raise NotNative(str(exc)) from None
    return _not_null(plan, tbl)


def _not_null(plan: FilteredScan, tbl: pa.Table) -> pa.Table:
    """The rows with a value of one field of each of the plan's NOT NULL conjuncts."""
    for g in plan.not_null:
        valid = [tbl.column(f) for f in g]
        if all(c.null_count == 0 for c in valid):
            continue
        keep = pc.is_valid(valid[0])
        for c in valid[1:]:
            keep = pc.or_(keep, pc.is_valid(c))
        tbl = tbl.filter(keep)
    return tbl


def _first_rows(
    session: SqlSession, plan: FilteredScan, shape: _FilteredShape, req: ScanRequest, conds: list
) -> pa.Table:
    """LIMIT without ORDER BY: the first rows in storage's order (SQL leaves the order to the
    database), read piece by piece (whole series) until OFFSET + LIMIT rows are found: ``SELECT *
    FROM cpu LIMIT 10`` reads a series, not the table."""
    need = plan.offset + (plan.limit or 0)
    if need == 0:
        return shape.empty
    sch, found = filtered_pieces(session.storage, req, conds, plain_tags=True, first_rows=need)
    parts: list[pa.Table] = []
    n = 0
    bound = _max_rows(plan)
    try:
        for cols in found:
            part = _not_null(plan, pa.Table.from_arrays(cols, schema=sch))
            parts.append(part)
            n += part.num_rows
            if n >= need:
                break
            if n > bound:  # a huge LIMIT: DuckDB streams it in bounded memory
                raise NotNative(f"more than {bound} rows to gather for the LIMIT")
    finally:
        found.close()  # type: ignore[attr-defined]
    return _filtered_rows(plan, shape, pa.concat_tables(parts) if parts else sch.empty_table())


def _edge_rows(
    session: SqlSession, plan: FilteredScan, shape: _FilteredShape, req: ScanRequest, conds: list
) -> pa.Table:
    """ORDER BY time [DESC] LIMIT: only a window at that end of the range is read. Rows at or past a
    window's start (DESC: end) are all in it, so once it holds OFFSET + LIMIT matches they are the
    answer's; the first window's width expects twice as many rows as needed at the range's mean
    density (columnar.scan.rows_estimate: row-group statistics and memtable sizes; counting them
    exactly merges the memtable, ~5 ms after a bulk load), each next one is 8 times wider, up to the
    whole range. ``SELECT * FROM cpu ORDER BY time DESC LIMIT 10`` reads the newest row groups, not
    the table."""
    need = plan.offset + (plan.limit or 0)
    ext = time_extent(session.storage, req) if need else None
    if ext is None:
        return shape.empty
    lo, hi = ext
    span = hi - lo + 1
    rows = rows_estimate(session.storage, dataclasses.replace(req, tmin=lo, tmax=hi))
    width = max(span * 2 * need // max(rows, 1), 1)
    desc = bool(plan.time_order)
    while True:
        whole = width >= span
        if whole:
            sub = req
        elif desc:
            sub = dataclasses.replace(req, tmin=hi - width + 1)
        else:
            sub = dataclasses.replace(req, tmax=lo + width - 1)
        tbl = _matches(session, plan, sub, conds)
        if whole or tbl.num_rows >= need:
            return _filtered_rows(plan, shape, tbl)
        width *= 8


def _filtered_rows(plan: FilteredScan, shape: _FilteredShape, tbl: pa.Table) -> pa.Table:
    """Storage's matches as the statement's rows: NOT NULL tests, order, OFFSET/LIMIT, SQL types."""
    tbl = _not_null(plan, tbl)
    if not tbl.num_rows:
        return shape.empty
    if plan.time_order is not None and tbl.num_rows > 1:
        order = "descending" if plan.time_order else "ascending"
        tbl = tbl.take(pc.sort_indices(tbl, sort_keys=[(plan.meta.time_column, order)]))
    if plan.offset or plan.limit is not None:
        tbl = tbl.slice(plan.offset, plan.limit)
        if not tbl.num_rows:
            return shape.empty
    batch = tbl.combine_chunks().to_batches()[0]
    return _sql_rows(plan, shape, batch.columns, batch.schema.names)


def _sql_rows(
    plan: FilteredScan, shape: _FilteredShape, arrays: list[pa.Array], names: list[str]
) -> pa.Table:
    """Storage's matches (columns ``arrays`` named ``names``) as the statement's columns and SQL types."""
    out = to_sql_arrays(arrays, names, shape.columns, plan.meta.time_column)
    return pa.Table.from_arrays([out[i] for i in shape.picks], names=plan.names)
