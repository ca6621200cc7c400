"""The native vectorised executor for the plans of sql/planner.py.

BucketAggregate asks the storage for per (series, bucket) partial aggregates of each field
(``columnar.scan.aggregate``: block statistics where possible), then combines them per output group
(bucket, grouped tags) with numpy. LastPoint takes each series' newest row (``columnar.scan.last_rows``)
and keeps the newest per DISTINCT ON key. Results are Arrow tables typed as the statement was
described, so the client sees the same columns whichever executor ran.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from columnar.scan import ScanRequest, aggregate_many, last_rows
from sql.planner import BucketAggregate, LastPoint, NativePlan
from sql.rewrite.pg_types import NUMERIC_FROM_DOUBLE
from sql.rewrite.pushdown import table_pushdown
from sql.tables import sql_columns, to_sql_batch
from sql.types import BY_OID

if TYPE_CHECKING:
    from sql.engine import SqlSession

TIMESCALE_ORIGIN_NS = 946_857_600 * 10**9  # 2000-01-03 00:00:00 UTC, TimescaleDB's default origin


NUMERIC_OID = 1700


def run(session: SqlSession, plan: NativePlan, params: list, column_oids: list[int]) -> pa.Table:
    if isinstance(plan, BucketAggregate):
        table = _bucket_aggregate(session, plan, params)
    else:
        table = _last_point(session, plan, params)
    # the described types win: cast where the native result differs (e.g. float4 fields)
    arrays = []
    for i, oid in enumerate(column_oids):
        col = table.column(i)
        if oid == NUMERIC_OID and pa.types.is_floating(col.type):
            arrays.append(_numeric(session, col))
            continue
        want = BY_OID[oid].arrow if oid in BY_OID else col.type
        arrays.append(col if col.type == want else col.cast(want))
    return pa.Table.from_arrays(arrays, names=table.column_names)


def _numeric(session: SqlSession, col: pa.ChunkedArray) -> pa.ChunkedArray:
    """avg of integer fields is numeric (sql/rewrite/pg_types.py): the same cast from double as the
    DuckDB path, so both give the same digits."""
    cur = session.sql_engine.duck.cursor()
    try:
        cur.register("__tsgres_native_numeric", pa.table({"v": col}))
        sql = f"SELECT {NUMERIC_FROM_DOUBLE.format('v')} FROM __tsgres_native_numeric"
        return cur.sql(sql).to_arrow_table().column(0)
    finally:
        cur.close()


def _request(session: SqlSession, plan, params: list) -> ScanRequest:
    meta = plan.meta
    tags = {c.name for c in sql_columns(meta) if c.kind == "tag"}
    pd = table_pushdown(
        plan.where,
        plan.table.alias_or_name,
        meta.time_column,
        tags,
        lambda e: session.evaluate_ns(e, params),
        params,
    )
    return ScanRequest(
        session.database, meta.name, rp=plan.rp, tmin=pd.tmin, tmax=pd.tmax, predicate=pd.predicate
    )


def _group_codes(
    session: SqlSession, plan: BucketAggregate, series: np.ndarray
) -> tuple[np.ndarray, list[list]]:
    """Per series id: a code of its grouped tag values; and per code the tag values."""
    uniq, inv = np.unique(series, return_inverse=True)
    if not plan.group_tags:
        return np.zeros(len(series), dtype=np.int64), [[]]
    db = session.storage.catalog.database(session.database)
    tagsets = [dict(ts) for _, ts in session.storage.index(db.id).series_tags(uniq.tolist())]
    per_series = [tuple(ts.get(t) for t, _ in plan.group_tags) for ts in tagsets]
    keys: dict[tuple, int] = {}
    code_of_uniq = np.array([keys.setdefault(k, len(keys)) for k in per_series], dtype=np.int64)
    return code_of_uniq[inv], [list(k) for k in keys]


def _bucket_aggregate(session: SqlSession, plan: BucketAggregate, params: list) -> pa.Table:
    req = _request(session, plan, params)
    every = plan.every_us * 1000 if plan.every_us else None
    offset = TIMESCALE_ORIGIN_NS % every if every else 0
    fields = list(dict.fromkeys(a.field for a in plan.aggs))
    tables = aggregate_many(session.storage, req, fields, every=every, offset=offset)
    partials = [
        {name: tables[f].column(name).to_numpy(zero_copy_only=False) for name in tables[f].column_names}
        for f in fields
    ]
    # output group of every partial: unique (bucket, grouped-tag code) over all fields' partials
    sizes = [len(p["series_id"]) for p in partials]
    series = np.concatenate([p["series_id"] for p in partials])
    buckets = (
        np.concatenate([p["bucket"] for p in partials]).astype(np.int64)
        if every
        else np.zeros(len(series), np.int64)
    )
    codes, group_values = _group_codes(session, plan, series)
    if len(series):
        uniq, inverse = np.unique(np.stack([buckets, codes]), axis=1, return_inverse=True)
        inverse = inverse.reshape(-1)
    else:
        uniq, inverse = np.empty((2, 0), np.int64), np.empty(0, np.int64)
    nout = uniq.shape[1]
    bounds = np.concatenate(([0], np.cumsum(sizes)))
    group_of = {f: inverse[bounds[i] : bounds[i + 1]] for i, f in enumerate(fields)}
    by_field = dict(zip(fields, partials, strict=True))
    columns: list[pa.Array] = []
    names: list[str] = []
    for kind, i in plan.outputs:
        if kind == "bucket":
            columns.append(pa.array(uniq[0] // 1000, pa.int64()).cast(pa.timestamp("us", tz="UTC")))
            names.append(plan.bucket_name or "time_bucket")
        elif kind == "tag":
            values = [group_values[c][i] for c in uniq[1].tolist()]
            columns.append(pa.array(values, pa.string()))
            names.append(plan.group_tags[i][1])
        else:
            a = plan.aggs[i]
            columns.append(_combine(a.func, by_field[a.field], group_of[a.field], nout))
            names.append(a.name)
    table = pa.Table.from_arrays(columns, names=names)
    if plan.order:
        keys = [(names.index(n), "descending" if d else "ascending") for n, d in plan.order]
        table = table.take(pc.sort_indices(table, sort_keys=keys))
    if plan.offset or plan.limit is not None:
        table = table.slice(plan.offset, plan.limit)
    return table


def _combine(func: str, p: dict[str, np.ndarray], out_idx: np.ndarray, nout: int) -> pa.Array:
    """Combine partial aggregates into one value per output group (NULL where a group has none)."""
    valid = np.zeros(nout, dtype=bool)
    valid[out_idx] = True
    if func in ("count", "sum", "avg"):
        counts = np.zeros(nout, dtype=np.int64)
        np.add.at(counts, out_idx, p["count"].astype(np.int64))
        if func == "count":
            return pa.array(counts, pa.int64())
        exact = p["sum"].dtype.kind in "iu"  # integer sums stay exact
        sums = np.zeros(nout, dtype=np.int64 if exact else np.float64)
        np.add.at(sums, out_idx, p["sum"].astype(sums.dtype))
        if func == "sum":
            return pa.array(sums, mask=~valid)
        return pa.array(sums / np.maximum(counts, 1), pa.float64(), mask=~valid)
    if func in ("min", "max"):
        src = p[func]
        if src.dtype.kind == "f":
            acc = np.full(nout, np.inf if func == "min" else -np.inf)
            # NaN sorts above every number (PostgreSQL): min skips it, max is NaN when any value is
            with np.errstate(invalid="ignore"):
                (np.fmin if func == "min" else np.maximum).at(acc, out_idx, src.astype(np.float64))
        else:
            info = np.iinfo(np.int64)
            acc = np.full(nout, info.max if func == "min" else info.min, dtype=np.int64)
            (np.minimum if func == "min" else np.maximum).at(acc, out_idx, src.astype(np.int64))
        return pa.array(acc, mask=~valid)
    # first / last: the value with the smallest first_time / largest last_time in the group
    t = p["first_time"] if func == "first" else -p["last_time"]
    v = p[func]
    order = np.lexsort((t, out_idx))
    grp = out_idx[order]
    pick = order[np.concatenate(([True], grp[1:] != grp[:-1]))] if len(order) else order
    out = np.zeros(nout, dtype=v.dtype)
    out[out_idx[pick]] = v[pick]
    return pa.array(out, mask=~valid)


def _last_point(session: SqlSession, plan: LastPoint, params: list) -> pa.Table:
    req = _request(session, plan, params)
    tbl = last_rows(session.storage, req)
    cols = sql_columns(plan.meta)
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
