"""Scan API for the query layer: Arrow record batches, block-stat aggregates, last row per series.

Everything here reaches shards through :class:`columnar.shard.ShardReader` (``read`` and
``sources``), so a remote shard can stand in later.

* :func:`scan` yields Arrow record batches: the time column (named as the table names it: ``time``
  for line-protocol tables) as timestamp[ns, UTC], tags as dictionary
  strings, fields typed; rows ordered by shard (time), then series, then time.
* :func:`aggregate` returns per (series, time bucket) partial aggregates (count, sum, min, max,
  first, last) and takes them from block statistics wherever a block lies wholly inside one bucket and
  no other source (newer file, memtable, tombstone) overlaps it; only the other blocks are decoded.
* :func:`last_rows` returns the newest row of every selected series, decoding only each series'
  newest row group.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from columnar import blockdecode
from columnar.chunkfile import FLAG_STATS, FLAG_SUM_EXACT, from_bits
from columnar.engine import INT64_MAX, INT64_MIN, Engine
from columnar.errors import TableNotFound
from columnar.merge import merge_rows
from columnar.predicate import TagPredicate
from columnar.rows import Rows, bitmap_ids, concat
from columnar.shard import Shard, ShardSources
from columnar.types import FieldType

TIME_TYPE = pa.timestamp("ns", tz="UTC")
TAG_TYPE = pa.dictionary(pa.int32(), pa.string())
SERIES_ID = "__series_id"


@dataclass(frozen=True)
class ScanRequest:
    database: str
    table: str
    rp: str | None = None
    tmin: int = INT64_MIN  # inclusive, ns
    tmax: int = INT64_MAX  # inclusive, ns
    predicate: TagPredicate | None = None
    fields: tuple[str, ...] | None = None  # None = every field
    tags: tuple[str, ...] | None = None  # None = every tag
    with_series_id: bool = False
    batch_rows: int = 65536


@dataclass
class _Target:
    table_id: int
    table: str
    tags: list[str]
    fields: dict[str, FieldType]
    series: np.ndarray  # sorted int64 ids, or empty
    shards: list[Shard]
    engine: Engine
    database_id: int
    dedupe: bool = True
    storage: dict[str, str] | None = None  # field name -> the name its data is stored under
    time_column: str = "time"  # the output name of the time column (the table's own)

    def stored(self, name: str) -> str:
        return (self.storage or {}).get(name, name)


def _target(engine: Engine, req: ScanRequest) -> _Target:
    db = engine.catalog.database(req.database)
    rpm = engine.catalog.retention_policy(req.database, req.rp)
    meta = engine.table(db.id, rpm.name, req.table)
    if meta is None:
        raise TableNotFound(req.table)
    all_fields = meta.fields
    fields = all_fields if req.fields is None else {f: all_fields[f] for f in req.fields if f in all_fields}
    tags = meta.tags if req.tags is None else [t for t in req.tags if t in meta.tags]
    ids = bitmap_ids(engine.index(db.id).select(req.table, req.predicate))
    shards = [
        s
        for s in engine.shards()
        if s.meta.database_id == db.id
        and s.meta.rp == rpm.name
        and s.meta.end_ns > req.tmin
        and s.meta.start_ns <= req.tmax
    ]
    storage = {f: meta.storage_name(f) for f in fields}
    return _Target(
        meta.id, meta.name, tags, fields, ids, shards, engine, db.id, meta.dedupe, storage, meta.time_column
    )


def schema(engine: Engine, req: ScanRequest) -> pa.Schema:
    t = _target(engine, req)
    return _schema(t, req.with_series_id)


def _schema(t: _Target, with_series_id: bool) -> pa.Schema:
    cols = [pa.field(t.time_column, TIME_TYPE, nullable=False)]
    cols += [pa.field(k, TAG_TYPE) for k in t.tags]
    cols += [pa.field(n, ft.arrow_type) for n, ft in t.fields.items()]
    if with_series_id:
        cols.append(pa.field(SERIES_ID, pa.int64(), nullable=False))
    return pa.schema(cols)


def scan(engine: Engine, req: ScanRequest) -> Iterator[pa.RecordBatch]:
    """Yield record batches of the rows matching the request (none when nothing matches)."""
    t = _target(engine, req)
    if not len(t.series):
        return
    sch = _schema(t, req.with_series_id)
    cols = [t.stored(f) for f in t.fields]
    for shard in t.shards:
        rows = shard.read(t.table_id, t.table, t.series, req.tmin, req.tmax, cols, dedupe=t.dedupe)
        for lo in range(0, len(rows), req.batch_rows):
            part = rows.take(np.arange(lo, min(lo + req.batch_rows, len(rows))))
            yield to_arrow(t, part, sch)


def to_arrow(t: _Target, rows: Rows, sch: pa.Schema) -> pa.RecordBatch:
    arrays: list[pa.Array] = [pa.array(rows.time, type=pa.int64()).cast(TIME_TYPE)]
    if t.tags:
        uniq, inv = np.unique(rows.series, return_inverse=True)
        tagsets = [dict(ts) for _, ts in t.engine.index(t.database_id).series_tags(uniq.tolist())]
        idx = pa.array(inv.astype(np.int32))
        for key in t.tags:
            per_series = pa.array([ts.get(key) for ts in tagsets], type=pa.string())
            enc = per_series.dictionary_encode()
            codes = enc.indices.take(idx)
            arrays.append(pa.DictionaryArray.from_arrays(codes, enc.dictionary))
    for name, ftype in t.fields.items():
        col = rows.fields.get(t.stored(name))
        if col is None:
            arrays.append(pa.nulls(len(rows), ftype.arrow_type))
        else:
            mask = None if col.valid is None else ~col.valid
            arrays.append(pa.array(col.values, type=ftype.arrow_type, mask=mask))
    if sch.get_field_index(SERIES_ID) >= 0:
        arrays.append(pa.array(rows.series, pa.int64()))
    return pa.RecordBatch.from_arrays(arrays, schema=sch)


def read_table(engine: Engine, req: ScanRequest) -> pa.Table:
    """All matching rows as one Arrow table (tests, small results)."""
    t = _target(engine, req)
    return pa.Table.from_batches(list(scan(engine, req)), schema=_schema(t, req.with_series_id))


# -- aggregate scan ------------------------------------------------------------------------------------
AGG_SCHEMA_FIELDS = (
    "series_id",
    "bucket",
    "count",
    "sum",
    "min",
    "max",
    "first",
    "first_time",
    "last",
    "last_time",
)


@dataclass
class AggregateStats:
    """How an aggregate scan was answered (for EXPLAIN ANALYZE)."""

    blocks_from_stats: int = 0
    groups_decoded: int = 0
    rows_decoded: int = 0


def aggregate(
    engine: Engine,
    req: ScanRequest,
    column: str,
    every: int | None = None,
    offset: int = 0,
    stats: AggregateStats | None = None,
) -> pa.Table:
    """Partial aggregates of ``column`` per (series, bucket); bucket = start of the time bucket.

    ``every`` None makes one bucket per series (bucket 0). NaN sorts above every number, as in
    PostgreSQL: min skips it, max is NaN when any value is. A string column gets count/first/last only.
    """
    return aggregate_many(engine, req, [column], every, offset, stats)[column]


def aggregate_many(
    engine: Engine,
    req: ScanRequest,
    columns: list[str],
    every: int | None = None,
    offset: int = 0,
    stats: AggregateStats | None = None,
) -> dict[str, pa.Table]:
    """:func:`aggregate` of several columns in one pass: each row group is decoded once."""
    t = _target(engine, req)
    for c in columns:
        if c not in t.fields:
            raise KeyError(f'column "{c}" is not a field of "{req.table}"')
    stats = stats if stats is not None else AggregateStats()
    parts: dict[str, list[dict[str, np.ndarray]]] = {c: [] for c in columns}
    if len(t.series):
        for shard in t.shards:
            for c, found in _aggregate_shard(
                t, shard, columns, req.tmin, req.tmax, every, offset, stats
            ).items():
                parts[c].extend(found)
    out = {}
    for c in columns:
        ftype = t.fields[c]
        combined = _combine(parts[c], ftype)
        out[c] = pa.table({k: _agg_array(k, v, ftype) for k, v in combined.items()})
    return out


def _agg_array(name: str, v: np.ndarray, ftype: FieldType) -> pa.Array:
    if name in ("first", "last", "min", "max") and ftype is FieldType.STRING:
        return pa.array(v, pa.string())
    if name in ("bucket", "first_time", "last_time"):
        return pa.array(v, pa.int64())
    return pa.array(v)


def _bucket(time: np.ndarray, every: int | None, offset: int) -> np.ndarray:
    if not every:
        return np.zeros(len(time), dtype=np.int64)
    return (time - offset) // every * every + offset


def _aggregate_shard(
    t: _Target,
    shard: Shard,
    columns: list[str],
    tmin: int,
    tmax: int,
    every: int | None,
    offset: int,
    stats: AggregateStats,
) -> dict[str, list[dict[str, np.ndarray]]]:
    """Partials per column for one shard. A row group is answered from block statistics when every
    requested column's block in it qualifies; otherwise the group is decoded (once, all columns)."""
    src: ShardSources = shard.sources(t.table_id, t.table)
    cand = []
    for lf in src.files:
        if lf.meta.max_time < tmin or lf.meta.min_time > tmax:
            continue
        g = lf.chunk.select_groups(t.series, tmin, tmax)
        if len(g):
            cand.append((lf, g))
    # intervals of every source per series, to find row groups no other source overlaps
    iv_s, iv_lo, iv_hi = [], [], []
    for lf, g in cand:
        iv_s.append(lf.chunk.groups["series"][g])
        iv_lo.append(lf.chunk.groups["tmin"][g])
        iv_hi.append(lf.chunk.groups["tmax"][g])
    for cache in src.caches:
        s, lo, hi = cache.series_ranges()
        iv_s.append(s)
        iv_lo.append(lo)
        iv_hi.append(hi)
    isolated = _isolated(iv_s, iv_lo, iv_hi)
    out: dict[str, list[dict[str, np.ndarray]]] = {c: [] for c in columns}
    stored = [t.stored(c) for c in columns]
    fusable = all(t.fields[c] in _FUSED_TYPES for c in columns)
    raw_parts: list[Rows] = []
    pos = 0
    for lf, g in cand:
        iso = isolated[pos : pos + len(g)]
        pos += len(g)
        chunk = lf.chunk
        gr = chunk.groups[g]
        untouched = np.ones(len(g), dtype=bool)  # by any tombstone
        for tomb in src.tombstones_for(lf.meta.id):
            untouched &= ~(
                np.isin(gr["series"], tomb.series)
                & (gr["tmax"] >= tomb.meta.min_ns)
                & (gr["tmin"] <= tomb.meta.max_ns)
            )
        ok = iso & untouched & (gr["tmin"] >= tmin) & (gr["tmax"] <= tmax)
        blocks = chunk.blocks
        per_col: list[tuple[str, FieldType, np.ndarray]] = []
        for c, sc in zip(columns, stored, strict=True):
            ftype = t.fields[c]
            bi = chunk.column_blocks(g, sc)
            has = bi >= 0
            b = blocks[np.where(has, bi, 0)]
            if ftype is FieldType.STRING:
                usable = ~has
            else:
                need = FLAG_STATS | FLAG_SUM_EXACT
                same_bucket = _bucket(b["first_time"], every, offset) == _bucket(
                    b["last_time"], every, offset
                )
                usable = ~has | (same_bucket & ((b["flags"] & need) == need))
            ok &= usable
            per_col.append((c, ftype, bi))
        if ok.any():
            stats.blocks_from_stats += int(ok.sum())
            for c, ftype, bi in per_col:
                sel = ok & (bi >= 0)
                if not sel.any():
                    continue
                sb = blocks[bi[sel]]
                out[c].append(
                    {
                        "series_id": gr["series"][sel],
                        "bucket": _bucket(sb["first_time"], every, offset),
                        "count": sb["count"].astype(np.int64),
                        "sum": sb["sum_f"] if ftype is FieldType.FLOAT else sb["sum_i"],
                        "min": from_bits(sb["min"], ftype),
                        "max": from_bits(sb["max"], ftype),
                        "first": from_bits(sb["first"], ftype),
                        "first_time": sb["first_time"],
                        "last": from_bits(sb["last"], ftype),
                        "last_time": sb["last_time"],
                    }
                )
        rest_mask = ~ok
        if fusable:
            # groups no other source overlaps and no tombstone touches: decoded and aggregated block
            # by block in one kernel; what it cannot decode goes the ordinary way
            fused = rest_mask & iso & untouched
            if fused.any():
                failed = _aggregate_fused(t, chunk, g[fused], columns, stored, tmin, tmax, every, offset, out)
                stats.groups_decoded += int(fused.sum())
                stats.rows_decoded += int(gr["nrows"][fused].sum())
                rest_mask = rest_mask & ~fused
                if len(failed):
                    rest_mask |= np.isin(g, failed)
        rest = g[rest_mask]
        if len(rest):
            stats.groups_decoded += len(rest)
            raw_parts.append(src.read_file(lf, rest, stored, tmin, tmax)[0])
    for cache in src.caches:
        raw_parts.append(cache.read(t.series, tmin, tmax, stored))
    raw_parts = [p for p in raw_parts if len(p)]
    if raw_parts:
        rows = raw_parts[0] if len(raw_parts) == 1 else merge_rows(concat(raw_parts), dedupe=t.dedupe)
        stats.rows_decoded += len(rows)
        for c, sc in zip(columns, stored, strict=True):
            part = _partials_from_rows(rows, sc, t.fields[c], every, offset)
            if part:
                out[c].append(part)
    return out


_FUSED_TYPES = (FieldType.INTEGER, FieldType.UNSIGNED, FieldType.FLOAT)
_TAGS = {FieldType.INTEGER: 0, FieldType.UNSIGNED: 1, FieldType.FLOAT: 2}


def _aggregate_fused(
    t: _Target,
    chunk,
    gidx: np.ndarray,
    columns: list[str],
    stored: list[str],
    tmin: int,
    tmax: int,
    every: int | None,
    offset: int,
    out: dict[str, list[dict[str, np.ndarray]]],
) -> np.ndarray:
    """Partials of row groups ``gidx`` of one file by blockdecode.aggregate_groups; appends them to
    ``out`` and returns the groups it could not decode."""
    sp = chunk.spans(gidx, stored)
    if sp is None:
        return gidx
    gr = chunk.groups[gidx]
    ev = int(every or 0)
    if ev:
        hi = _bucket(np.minimum(gr["tmax"], tmax), every, offset)
        lo = _bucket(np.maximum(gr["tmin"], tmin), every, offset)
        nb = (hi - lo) // ev + 1
        cap = int(np.minimum(np.maximum(nb, 1), sp.rows).sum())
    else:
        cap = len(gidx)
    ncol = len(columns)
    tags = np.array([_TAGS[t.fields[c]] for c in columns], dtype=np.int64)
    o_series = np.empty(cap, np.int64)
    o_bucket = np.empty(cap, np.int64)
    o_count = np.empty((ncol, cap), np.int64)
    o_sum = np.empty((ncol, cap), np.uint64)
    o_sumf = np.empty((ncol, cap), np.float64)
    o_min = np.empty((ncol, cap), np.uint64)
    o_max = np.empty((ncol, cap), np.uint64)
    o_first = np.empty((ncol, cap), np.uint64)
    o_ftime = np.empty((ncol, cap), np.int64)
    o_last = np.empty((ncol, cap), np.uint64)
    o_ltime = np.empty((ncol, cap), np.int64)
    status = np.zeros(len(gidx), np.int8)
    n = blockdecode.aggregate_groups(
        sp.buf, sp.at, sp.length, sp.count, sp.validity, sp.rows, gr["series"].astype(np.int64), tags,
        tmin, tmax, ev, offset if ev else 0, True,
        o_series, o_bucket, o_count, o_sum, o_sumf, o_min, o_max, o_first, o_ftime, o_last, o_ltime, status,
    )  # fmt: skip
    for i, c in enumerate(columns):
        ftype = t.fields[c]
        sel = np.flatnonzero(o_count[i, :n] > 0)
        if not len(sel):
            continue
        dt = ftype.numpy_dtype
        if ftype is FieldType.FLOAT:
            ssum = o_sumf[i, sel]
        elif ftype is FieldType.UNSIGNED:
            ssum = o_sum[i, sel]
        else:
            ssum = o_sum[i, sel].view(np.int64)
        out[c].append(
            {
                "series_id": o_series[sel],
                "bucket": o_bucket[sel],
                "count": o_count[i, sel],
                "sum": ssum,
                "min": o_min[i, sel].view(dt),
                "max": o_max[i, sel].view(dt),
                "first": o_first[i, sel].view(dt),
                "first_time": o_ftime[i, sel],
                "last": o_last[i, sel].view(dt),
                "last_time": o_ltime[i, sel],
            }
        )
    return gidx[status != blockdecode.OK]


def _isolated(s_parts: list, lo_parts: list, hi_parts: list) -> np.ndarray:
    """For intervals (series, lo, hi) from several sources: True where no other interval overlaps.

    Intervals of one file never overlap each other, so any overlap is between sources. Returned in
    the order of the concatenated input.
    """
    if not s_parts:
        return np.zeros(0, dtype=bool)
    s = np.concatenate(s_parts)
    lo = np.concatenate(lo_parts)
    hi = np.concatenate(hi_parts)
    n = len(s)
    if n == 0:
        return np.zeros(0, dtype=bool)
    order = np.lexsort((lo, s))
    s_o, lo_o, hi_o = s[order], lo[order], hi[order]
    # running max of hi within each series: rank-transform hi, offset ranks by series segment
    seg = np.concatenate(([0], np.cumsum(s_o[1:] != s_o[:-1])))
    hi_rank_order = np.argsort(hi_o, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[hi_rank_order] = np.arange(n)
    running = np.maximum.accumulate(seg * n + rank) - seg * n
    run_hi = hi_o[hi_rank_order[running]]
    bad = np.zeros(n, dtype=bool)
    same_prev = np.zeros(n, dtype=bool)
    same_prev[1:] = seg[1:] == seg[:-1]
    bad[1:] |= same_prev[1:] & (lo_o[1:] <= run_hi[:-1])
    bad[:-1] |= same_prev[1:] & (lo_o[1:] <= hi_o[:-1])
    # an earlier interval that reaches past a later one is caught through run_hi; mark it too
    bad[:-1] |= same_prev[1:] & (run_hi[:-1] >= lo_o[1:])
    res = np.empty(n, dtype=bool)
    res[order] = ~bad
    return res


def _partials_from_rows(
    rows: Rows, column: str, ftype: FieldType, every: int | None, offset: int
) -> dict[str, np.ndarray]:
    col = rows.fields.get(column)
    if col is None:
        return {}
    sel = np.flatnonzero(col.valid) if col.valid is not None else np.arange(len(rows))
    series, time, vals = rows.series[sel], rows.time[sel], col.values[sel]
    if len(sel) == 0:
        return {}
    bucket = _bucket(time, every, offset)
    # rows are sorted by (series, time), so (series, bucket) groups are contiguous
    starts = np.flatnonzero(
        np.concatenate(([True], (series[1:] != series[:-1]) | (bucket[1:] != bucket[:-1])))
    )
    ends = np.append(starts[1:], len(series)) - 1
    out = {
        "series_id": series[starts],
        "bucket": bucket[starts],
        "count": np.diff(np.append(starts, len(series))).astype(np.int64),
        "first": vals[starts],
        "first_time": time[starts],
        "last": vals[ends],
        "last_time": time[ends],
    }
    if ftype is FieldType.STRING:
        return out
    num = vals.astype(np.int64) if ftype is FieldType.BOOLEAN else vals
    if ftype is FieldType.FLOAT:
        with np.errstate(invalid="ignore"):  # NaN sorts above every number (PostgreSQL):
            out["sum"] = np.add.reduceat(num, starts)
            out["min"] = np.fmin.reduceat(num, starts)  # min skips it,
            out["max"] = np.maximum.reduceat(num, starts)  # max is NaN when any value is
    else:
        out["sum"] = np.add.reduceat(num, starts)
        out["min"] = np.minimum.reduceat(num, starts)
        out["max"] = np.maximum.reduceat(num, starts)
    if ftype is FieldType.BOOLEAN:
        out["min"] = out["min"].astype(bool)
        out["max"] = out["max"].astype(bool)
    return out


def _combine(parts: list[dict[str, np.ndarray]], ftype: FieldType) -> dict[str, np.ndarray]:
    """Merge partials of the same (series, bucket) from different blocks and sources."""
    names = ["series_id", "bucket", "count", "first", "first_time", "last", "last_time"]
    if ftype is not FieldType.STRING:
        names[3:3] = ["sum", "min", "max"]
    parts = [p for p in parts if p and len(p["series_id"])]
    if not parts:
        empty = {k: np.empty(0, dtype=np.int64) for k in names}
        for k in ("first", "last", "min", "max"):
            if k in empty:
                empty[k] = np.empty(0, dtype=ftype.numpy_dtype)
        if "sum" in empty and ftype is FieldType.FLOAT:
            empty["sum"] = np.empty(0, dtype=np.float64)
        return empty
    cat = {k: np.concatenate([p[k] for p in parts]) for k in names}
    order = np.lexsort((cat["bucket"], cat["series_id"]))
    cat = {k: v[order] for k, v in cat.items()}
    s, b = cat["series_id"], cat["bucket"]
    starts = np.flatnonzero(np.concatenate(([True], (s[1:] != s[:-1]) | (b[1:] != b[:-1]))))
    if len(starts) == len(s):
        return cat
    out = {"series_id": s[starts], "bucket": b[starts], "count": np.add.reduceat(cat["count"], starts)}
    if ftype is not FieldType.STRING:
        out["sum"] = np.add.reduceat(cat["sum"], starts)
        mn, mx = (np.fmin, np.maximum) if ftype is FieldType.FLOAT else (np.minimum, np.maximum)
        with np.errstate(invalid="ignore"):
            out["min"] = mn.reduceat(cat["min"], starts)
            out["max"] = mx.reduceat(cat["max"], starts)
    group = np.cumsum(np.concatenate(([True], (s[1:] != s[:-1]) | (b[1:] != b[:-1])))) - 1
    # first: smallest first_time in the group; last: largest last_time (ties: the later source)
    fo = np.lexsort((cat["first_time"], group))
    first_idx = fo[np.flatnonzero(np.concatenate(([True], group[fo][1:] != group[fo][:-1])))]
    lo = np.lexsort((np.arange(len(s)), cat["last_time"], group))
    last_idx = lo[np.append(np.flatnonzero(group[lo][1:] != group[lo][:-1]), len(s) - 1)]
    out["first"], out["first_time"] = cat["first"][first_idx], cat["first_time"][first_idx]
    out["last"], out["last_time"] = cat["last"][last_idx], cat["last_time"][last_idx]
    return {k: out[k] for k in names}


# -- last row per series ---------------------------------------------------------------------------------
def last_rows(engine: Engine, req: ScanRequest) -> pa.Table:
    """The newest row (within the time range) of every selected series, as one Arrow table."""
    t = _target(engine, req)
    sch = _schema(t, req.with_series_id)
    if not len(t.series):
        return sch.empty_table()
    missing = t.series
    found: list[Rows] = []
    cols = [t.stored(f) for f in t.fields]
    for shard in sorted(t.shards, key=lambda s: s.meta.start_ns, reverse=True):
        if not len(missing):
            break
        rows = _shard_last(t, shard, missing, req.tmin, req.tmax, cols)
        if len(rows):
            found.append(rows)
            missing = np.setdiff1d(missing, rows.series, assume_unique=True)
    if not found:
        return sch.empty_table()
    rows = concat(found)
    rows = rows.take(np.argsort(rows.series, kind="stable"))
    return pa.Table.from_batches([to_arrow(t, rows, sch)], schema=sch)


def _shard_last(t: _Target, shard: Shard, series: np.ndarray, tmin: int, tmax: int, cols: list[str]) -> Rows:
    src = shard.sources(t.table_id, t.table)
    parts: list[Rows] = []
    for lf in src.files:
        if lf.meta.max_time < tmin or lf.meta.min_time > tmax:
            continue
        g = lf.chunk.select_groups(series, tmin, tmax)
        if not len(g):
            continue
        gs = lf.chunk.groups["series"][g]
        newest = g[np.append(gs[1:] != gs[:-1], True)]  # groups are in (series, time) order
        rows, tombstoned = src.read_file(lf, newest, cols, tmin, tmax)
        if tombstoned:
            # a tombstone may have hidden the newest group's rows: read the affected series whole
            ids = lf.chunk.groups["series"][newest]
            rows = shard.read(t.table_id, t.table, np.unique(ids), tmin, tmax, cols, dedupe=t.dedupe)
        parts.append(rows)
    for cache in src.caches:
        parts.append(cache.read(series, tmin, tmax, cols))
    parts = [p for p in parts if len(p)]
    if not parts:
        return Rows.empty()
    rows = merge_rows(concat(parts), dedupe=t.dedupe) if len(parts) > 1 else parts[0]
    last = np.append(rows.series[1:] != rows.series[:-1], True)
    return rows.take(np.flatnonzero(last))
