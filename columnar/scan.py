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

import dataclasses
import functools
import math
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pyarrow as pa
from numba import njit

from columnar import blockdecode
from columnar.cache import TableCache
from columnar.chunkfile import FLAG_STATS, GROUP_FUSED, GROUP_ROWS, GROUP_STATS, from_bits
from columnar.engine import INT64_MAX, INT64_MIN, Engine
from columnar.errors import ResultTooLarge, TableNotFound
from columnar.merge import merge_rows, runs_disjoint
from columnar.predicate import TagPredicate
from columnar.rows import Column, Rows, concat
from columnar.shard import Shard, ShardSources
from columnar.strings import take_strings
from columnar.strings import warm_up as strings_warm_up
from columnar.types import FieldType

TIME_TYPE = pa.timestamp("ns", tz="UTC")
TAG_TYPE = pa.dictionary(pa.int32(), pa.string())
SERIES_ID = "__series_id"


@dataclass(unsafe_hash=True)  # (not frozen: a frozen dataclass's __init__ costs ~2 us more a query)
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
    # only these series ids, of those the predicate selects (None: every one it selects)
    series: tuple[int, ...] | None = None
    # called between pieces of work (a file, ~1M rows of decoding): what it raises stops the scan
    # (a cancelled or timed-out statement)
    interrupt: Callable[[], None] | None = None


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
    interrupt: Callable[[], None] | None = None  # ScanRequest.interrupt

    def stored(self, name: str) -> str:
        return (self.storage or {}).get(name, name)

    def check(self) -> None:
        if self.interrupt is not None:
            self.interrupt()


def _target(engine: Engine, req: ScanRequest) -> _Target:
    db = engine.catalog.database(req.database)
    rpm = engine.catalog.retention_policy(req.database, req.rp)
    meta = engine.table(db.id, rpm.name, req.table)
    if meta is None:
        raise TableNotFound(req.table)
    all_fields = meta.fields
    fields = all_fields if req.fields is None else {f: all_fields[f] for f in req.fields if f in all_fields}
    all_tags = meta.tags
    tags = all_tags if req.tags is None else [t for t in req.tags if t in all_tags]
    ids = engine.index(db.id).select_ids(req.table, req.predicate)
    if req.series is not None:
        ids = np.intersect1d(ids, np.asarray(req.series, dtype=np.int64))
    shards = [
        s
        for s in engine.shards()
        if s.meta.database_id == db.id
        and s.meta.rp == rpm.name
        and s.meta.end_ns > req.tmin
        and s.meta.start_ns <= req.tmax
    ]
    storage = meta.storage_names  # (every field's: _Target.stored looks up only the requested ones)
    return _Target(
        meta.id,
        meta.name,
        tags,
        fields,
        ids,
        shards,
        engine,
        db.id,
        meta.dedupe,
        storage,
        meta.time_column,
        req.interrupt,
    )


def schema(engine: Engine, req: ScanRequest) -> pa.Schema:
    t = _target(engine, req)
    return _schema(t, req.with_series_id)


def _schema(t: _Target, with_series_id: bool, plain_tags: bool = False) -> pa.Schema:
    """The scan's Arrow schema: time, tags (dictionary strings, or plain ones), fields [, series id].
    Remembered by its parts: building 20-odd fields costs ~20 us a query."""
    return _schema_of(t.time_column, tuple(t.tags), tuple(t.fields.items()), with_series_id, plain_tags)


@functools.lru_cache(maxsize=256)
def _schema_of(
    time_column: str,
    tags: tuple[str, ...],
    fields: tuple[tuple[str, FieldType], ...],
    with_series_id: bool,
    plain_tags: bool,
) -> pa.Schema:
    cols = [pa.field(time_column, TIME_TYPE, nullable=False)]
    cols += [pa.field(k, pa.string() if plain_tags else TAG_TYPE) for k in tags]
    cols += [pa.field(n, ft.arrow_type) for n, ft in fields]
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
    """Rows as a record batch of ``sch``: tags as dictionaries, or as plain strings where the schema
    says string."""
    return pa.RecordBatch.from_arrays(to_arrays(t, rows, sch), schema=sch)


def to_arrays(t: _Target, rows: Rows, sch: pa.Schema) -> list[pa.Array]:
    """:func:`to_arrow`'s columns (building a batch of 20-odd columns costs ~20-30 us, as does
    taking its columns out again)."""
    time = np.ascontiguousarray(rows.time, dtype=np.int64)
    arrays: list[pa.Array] = [pa.Array.from_buffers(TIME_TYPE, len(time), [None, pa.py_buffer(time)])]
    if t.tags:
        s = rows.series
        if len(s) < 2 or bool((s[1:] >= s[:-1]).all()):  # grouped by series: no sort needed
            start = np.concatenate(([True], s[1:] != s[:-1])) if len(s) else np.zeros(0, bool)
            uniq, inv = s[start], np.cumsum(start) - 1
        else:
            uniq, inv = np.unique(s, return_inverse=True)
        tagsets = [dict(ts) for _, ts in t.engine.index(t.database_id).series_tags(uniq.tolist())]
        per_series = [[ts.get(key) for ts in tagsets] for key in t.tags]
        if pa.types.is_string(sch.field(1).type):  # (_schema_of: every tag plain, or none)
            arrays.extend(take_strings(per_series, inv))
        else:
            codes_at = pa.array(inv.astype(np.int32))
            for values in per_series:
                enc = pa.array(values, type=pa.string()).dictionary_encode()
                arrays.append(pa.DictionaryArray.from_arrays(enc.indices.take(codes_at), enc.dictionary))
    for name, ftype in t.fields.items():
        col = rows.fields.get(t.stored(name))
        if col is None:
            arrays.append(pa.nulls(len(rows), ftype.arrow_type))
        elif ftype in _FUSED_TYPES:  # fixed width: Arrow over the values' buffer
            arrays.append(fixed_width(ftype.arrow_type, col.values, col.valid))
        else:
            mask = None if col.valid is None else ~col.valid
            arrays.append(pa.array(col.values, type=ftype.arrow_type, mask=mask))
    if sch.get_field_index(SERIES_ID) >= 0:
        arrays.append(pa.array(rows.series, pa.int64()))
    return arrays


def fixed_width(typ: pa.DataType, values: np.ndarray, valid: np.ndarray | None) -> pa.Array:
    """An Arrow array of fixed-width ``typ`` over ``values``' buffer, ``valid`` (None: all) packed as
    its validity bitmap (pa.array with a mask costs ~6-16 us a column however short)."""
    values = np.ascontiguousarray(values)
    nulls = 0 if valid is None else len(valid) - int(np.count_nonzero(valid))
    bitmap = pa.py_buffer(np.packbits(valid, bitorder="little")) if nulls else None
    return pa.Array.from_buffers(typ, len(values), [bitmap, pa.py_buffer(values)], nulls)


def fixed_width_rows(
    typ: pa.DataType, values: np.ndarray, valid: np.ndarray | None, which: list[int]
) -> list[pa.Array]:
    """:func:`fixed_width` of rows ``which`` of the 2-D ``values`` (``valid`` the same shape, None:
    all), over one buffer of the block: per row only the Arrow array is made (a query's aggregate
    columns cost one numpy call each, not four)."""
    if not which:
        return []
    values = np.ascontiguousarray(values)
    n = values.shape[1]
    width = n * values.itemsize
    buf = pa.py_buffer(values)
    nulls, bitmaps = [0] * len(which), None
    if valid is not None:
        sub = valid if which == list(range(len(valid))) else valid[which]
        # (ndarray.all of a 2-D block costs ~2.5 us, count_nonzero without an axis ~0.3; with an axis ~4)
        if np.count_nonzero(sub) != sub.size:
            nulls = (n - sub.sum(axis=1)).tolist()
            bits = np.packbits(sub, axis=1, bitorder="little")
            bitmaps, bw = pa.py_buffer(bits), bits.shape[1]
    out = []
    for j, k in enumerate(which):
        bitmap = bitmaps.slice(j * bw, bw) if nulls[j] else None
        out.append(pa.Array.from_buffers(typ, n, [bitmap, buf.slice(k * width, width)], nulls[j]))
    return out


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
class Footprint:
    """What a scan of some fields would read (:func:`footprint`; InfluxQL's EXPLAIN prints it)."""

    shards: int = 0  # shards holding rows of the table's selected series in the range
    series: int = 0  # series the predicate selects
    cached_values: int = 0  # values of the fields in memtables, in the range
    files: int = 0  # chunk files with row groups of those series in the range
    blocks: int = 0  # their blocks of the fields
    block_bytes: int = 0  # and those blocks' bytes


def footprint(engine: Engine, req: ScanRequest, fields: list[str]) -> Footprint:
    """What a scan of ``fields`` over ``req`` would read, without reading it: the shards, series,
    memtable values, files, blocks and bytes. A table that does not exist reads nothing."""
    try:
        t = _target(engine, req)
    except TableNotFound:
        return Footprint()
    out = Footprint(series=len(t.series))
    if not len(t.series):
        return out
    stored = [t.stored(f) for f in dict.fromkeys(fields) if f in t.fields]
    for shard in t.shards:
        src = shard.sources(t.table_id, t.table)
        touched = False
        for cache in src.caches:
            if cache.overlaps(req.tmin, req.tmax):
                rows = cache.read(t.series, req.tmin, req.tmax, stored)
                touched |= len(rows) > 0
                for name in stored:
                    col = rows.fields.get(name)
                    if col is not None:
                        out.cached_values += (
                            len(rows) if col.valid is None else int(np.count_nonzero(col.valid))
                        )
        cand, _, _ = _candidates(t, src, req.tmin, req.tmax)
        for lf, g in cand:
            out.files += 1
            touched = True
            for name in stored:
                bi = lf.chunk.column_blocks(g, name)
                bi = bi[bi >= 0]
                out.blocks += len(bi)
                out.block_bytes += int(lf.chunk.blocks["length"][bi].sum())
        out.shards += touched
    return out


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
    PostgreSQL: min skips it, max is NaN when any value is. Numeric and boolean columns only.
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
    p = aggregate_partials(engine, req, columns, every, offset, stats)
    out = {}
    for i, c in enumerate(columns):
        ftype = p.types[i]
        combined = _combine([p.column(i)], ftype)
        out[c] = pa.table({k: _agg_array(k, v, ftype) for k, v in combined.items()})
    return out


# Partials' per-piece arrays and per-column arrays (column x piece), in the order of its fields
_KEY_NAMES = ("series", "bucket", "row_tmin", "row_tmax", "rows")
_ACC_NAMES = (
    "count", "sum_i", "sum_f", "min", "max", "first", "first_time", "last", "last_time", "min_time", "max_time",
    "mean", "m2",
)  # fmt: skip


def _key(i: int) -> property:
    return property(lambda self: self.keys[i], doc=f"per piece: {_KEY_NAMES[i]}")


def _acc(i: int, dtype: type) -> property:
    if dtype is np.uint64:
        return property(lambda self: self.acc[i], doc=f"per column and piece: {_ACC_NAMES[i]}")
    return property(lambda self: self.acc[i].view(dtype), doc=f"per column and piece: {_ACC_NAMES[i]}")


class Partials:
    """Partial aggregates of several columns per piece of a (series, time bucket); one (series,
    bucket) may have several pieces (blocks, row groups, sources), to be combined by the caller.

    Per column i and piece j: ``count[i, j]`` values (0: the piece holds none of that column), their
    sum (``sum_i``: integer bits, wrapping as int64 does; ``sum_f``: float sum), and the 8-byte
    patterns of min, max, first and last (``from_bits`` by the column's type) with the times of
    first and last, and of the first rows that hold the min and the max (``min_time``, ``max_time``:
    InfluxQL's selectors answer with the selected point's time). Pieces made from block statistics
    do not know those two (0): :func:`aggregate_partials` with ``decoded`` makes none. With its
    ``spread``, ``mean`` and ``m2`` hold each piece's mean and sum of squared distances from it
    (variances), else 0.

    Held as two blocks, ``keys`` (int64, one row per name of _KEY_NAMES x piece) and ``acc`` (uint64
    bits, one plane per name of _ACC_NAMES x column x piece), the named arrays being views of them:
    making, taking and concatenating pieces is two numpy operations, not eighteen (small queries make
    many), and the kernels fill both blocks whole.
    """

    __slots__ = ("columns", "types", "keys", "acc")

    def __init__(self, columns: list[str], types: list[FieldType], keys: np.ndarray, acc: np.ndarray):
        self.columns = columns
        self.types = types
        self.keys = keys  # (5, n) int64
        self.acc = acc  # (13, len(columns), n) uint64

    series = _key(0)
    bucket = _key(1)
    row_tmin = _key(2)  # time of the piece's first row, any column present or not
    row_tmax = _key(3)  # time of its last row
    rows = _key(4)  # its rows (count(*))
    count = _acc(0, np.int64)
    sum_i = _acc(1, np.uint64)
    sum_f = _acc(2, np.float64)
    min = _acc(3, np.uint64)
    max = _acc(4, np.uint64)
    first = _acc(5, np.uint64)
    first_time = _acc(6, np.int64)
    last = _acc(7, np.uint64)
    last_time = _acc(8, np.int64)
    min_time = _acc(9, np.int64)
    max_time = _acc(10, np.int64)
    mean = _acc(11, np.float64)
    m2 = _acc(12, np.float64)

    @classmethod
    def empty(cls, columns: list[str], types: list[FieldType], n: int = 0) -> Partials:
        return cls(columns, types, np.empty((5, n), np.int64), np.zeros((13, len(columns), n), np.uint64))

    def __len__(self) -> int:
        return self.keys.shape[1]

    def take(self, idx: np.ndarray | slice) -> Partials:
        """The pieces at ``idx`` (an index array or a slice), in that order."""
        return Partials(self.columns, self.types, self.keys[:, idx], self.acc[:, :, idx])

    def replaced(self, rows: np.ndarray, count: np.ndarray) -> Partials:
        """These pieces with other ``rows`` and ``count`` (copies: the arrays given are not kept)."""
        keys, acc = self.keys.copy(), self.acc.copy()
        keys[4] = rows
        acc[0] = count.view(np.uint64)
        return Partials(self.columns, self.types, keys, acc)

    @classmethod
    def concat(cls, parts: list[Partials], columns: list[str], types: list[FieldType]) -> Partials:
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty(columns, types)
        if len(parts) == 1:
            return parts[0]
        return cls(
            columns,
            types,
            np.concatenate([p.keys for p in parts], axis=1),
            np.concatenate([p.acc for p in parts], axis=2),
        )

    def column(self, i: int) -> dict[str, np.ndarray]:
        """Column i's pieces that hold values, as the per-column dict of :func:`_partials_from_rows`."""
        ftype = self.types[i]
        sel = np.flatnonzero(self.count[i] > 0)
        if ftype is FieldType.FLOAT:
            ssum = self.sum_f[i, sel]
        elif ftype is FieldType.UNSIGNED:
            ssum = self.sum_i[i, sel]
        else:
            ssum = self.sum_i[i, sel].view(np.int64)
        return {
            "series_id": self.series[sel],
            "bucket": self.bucket[sel],
            "count": self.count[i, sel],
            "sum": ssum,
            "min": from_bits(self.min[i, sel].view(np.int64), ftype),
            "max": from_bits(self.max[i, sel].view(np.int64), ftype),
            "first": from_bits(self.first[i, sel].view(np.int64), ftype),
            "first_time": self.first_time[i, sel],
            "last": from_bits(self.last[i, sel].view(np.int64), ftype),
            "last_time": self.last_time[i, sel],
        }


def aggregate_partials(
    engine: Engine,
    req: ScanRequest,
    columns: list[str],
    every: int | None = None,
    offset: int = 0,
    stats: AggregateStats | None = None,
    conditions: list[FieldCondition] | None = None,
    max_pieces: int | None = None,
    decoded: bool = False,
    spread: bool = False,
) -> Partials:
    """Partial aggregates (:class:`Partials`) of numeric or boolean ``columns`` in one pass: block
    statistics where a row group lies in one bucket, inside the time range and no other source or
    tombstone touches it; a fused decode+aggregate kernel for the other such groups; merged rows
    (last write wins) for what overlaps. With ``conditions`` (see :func:`filtered`) only the rows
    satisfying them count (no block statistics then, except to skip row groups without a match).
    More than ``max_pieces`` pieces raise :class:`ResultTooLarge` once found (a file's pieces at a
    time: the memory held stays near that bound). With ``decoded`` every piece is decoded
    from rows (no block statistics), so each knows the times of its min and max; with ``spread``
    (which implies it) also its mean and squared distances."""
    t = _target(engine, req)
    for c in columns:
        if c not in t.fields:
            raise KeyError(f'column "{c}" is not a field of "{req.table}"')
        if t.fields[c] is FieldType.STRING:
            raise ValueError(f'column "{c}" is a string: no aggregate scan')
    for fc in conditions or []:
        if t.fields.get(fc.column) not in _FUSED_TYPES:
            raise ValueError(f'condition on "{fc.column}": a numeric field of "{req.table}" is needed')
    terms = [_term_of(fc, t.fields[fc.column], t.stored(fc.column)) for fc in conditions or []]
    types = [t.fields[c] for c in columns]
    stats = stats if stats is not None else AggregateStats()
    parts: list[Partials] = []
    budget = [max_pieces if max_pieces is not None else INT64_MAX]

    def spend(n: int) -> None:
        budget[0] -= n
        if budget[0] < 0:
            raise ResultTooLarge(max_pieces or 0)

    if len(t.series):
        for shard in t.shards:
            parts.extend(
                _aggregate_shard(
                    t,
                    shard,
                    columns,
                    req.tmin,
                    req.tmax,
                    every,
                    offset,
                    stats,
                    terms,
                    spend,
                    decoded or spread,
                    spread,
                )
            )
    return Partials.concat(parts, columns, types)


def _agg_array(name: str, v: np.ndarray, ftype: FieldType) -> pa.Array:
    if name in ("bucket", "first_time", "last_time"):
        return pa.array(v, pa.int64())
    return pa.array(v)


def _bucket(time: np.ndarray, every: int | None, offset: int) -> np.ndarray:
    if not every:
        return np.zeros(len(time), dtype=np.int64)
    return (time - offset) // every * every + offset


_TAGS = {FieldType.INTEGER: 0, FieldType.UNSIGNED: 1, FieldType.FLOAT: 2, FieldType.BOOLEAN: 0}
_FUSED_TYPES = (FieldType.INTEGER, FieldType.UNSIGNED, FieldType.FLOAT)


def _aggregate_shard(
    t: _Target,
    shard: Shard,
    columns: list[str],
    tmin: int,
    tmax: int,
    every: int | None,
    offset: int,
    stats: AggregateStats,
    terms: list[_Term] | None = None,
    spend: Callable[[int], None] | None = None,
    decoded: bool = False,
    spread: bool = False,
) -> list[Partials]:
    """Partials of one shard (``spend`` is told how many pieces each step made; ``decoded``:
    no piece from block statistics)."""
    terms = terms or []
    src: ShardSources = shard.sources(t.table_id, t.table)
    types = [t.fields[c] for c in columns]
    out: list[Partials] = []
    stored = [t.stored(c) for c in columns]
    read_cols = list(dict.fromkeys(stored + [tm.column for tm in terms]))
    fusable = FieldType.BOOLEAN not in types
    raw_parts: list[Rows] = []
    # the memtable's rows, read first: row groups whose times they only interleave with (no point of
    # the same series and time in both) need no merge, and aggregate as if alone; a memtable without
    # rows of the series in the range overlaps no row group (most reads of older hours)
    holding, cached = [], []
    for cache in src.caches:
        if cache.overlaps(tmin, tmax):
            rows = cache.read(t.series, tmin, tmax, read_cols)
            if len(rows):
                holding.append(cache)
                cached.append(rows)
    cand, isolated, among_files = _candidates(t, src, tmin, tmax, holding)
    if cached and len(isolated) and not isolated.all():
        isolated = _apart_from(cand, isolated, among_files, cached, t, tmin, tmax)
    pos = 0
    counted = 0  # pieces of ``out`` told to spend
    for lf, g in cand:
        t.check()
        if spend is not None and out:
            spend(sum(map(len, out[counted:])))
            counted = len(out)
        clean = isolated[pos : pos + len(g)]  # no other source overlaps ...
        pos += len(g)
        chunk = lf.chunk
        tombs = src.tombstones_for(lf.meta.id)
        if tombs:  # ... and no tombstone touches
            gr = chunk.groups[g]
            for tomb in tombs:
                clean = clean & ~(
                    np.isin(gr["series"], tomb.series)
                    & (gr["tmax"] >= tomb.meta.min_ns)
                    & (gr["tmin"] <= tomb.meta.max_ns)
                )
        # row groups whose statistics exclude a match hold nothing to count
        whole = clean & ~_stats_exclude(chunk, g, terms) if terms else clean
        cls, bis, counts = chunk.classify_groups(
            g, clean, whole, stored, tmin, tmax, int(every or 0), offset if every else 0,
            not terms and not decoded, fusable,
        )  # fmt: skip
        n_stats, n_fused, rows_fused, cap_fused = counts.tolist()
        if n_stats:
            sel = cls == GROUP_STATS
            stats.blocks_from_stats += n_stats
            out.append(
                _stats_partials(
                    chunk, chunk.groups[g[sel]], [b[sel] for b in bis], columns, types, every, offset
                )
            )
        every_fused = n_fused == len(g)  # (the usual: no class to pick out)
        rest_mask = None if every_fused else cls == GROUP_ROWS
        if n_fused:
            # groups no other source overlaps and no tombstone touches: decoded and aggregated block
            # by block in one kernel; what it cannot decode goes the ordinary way
            part, failed = _aggregate_fused(
                chunk, g if every_fused else g[cls == GROUP_FUSED], types, stored, tmin, tmax, every,
                offset, terms, t.interrupt, spread, cap_fused,
            )  # fmt: skip
            out.append(part)
            stats.groups_decoded += n_fused
            stats.rows_decoded += rows_fused
            if len(failed):
                hit = np.isin(g, failed)
                rest_mask = hit if rest_mask is None else rest_mask | hit
        rest = g[rest_mask] if rest_mask is not None else g[:0]
        if len(rest):
            stats.groups_decoded += len(rest)
            raw_parts.append(src.read_file(lf, rest, read_cols, tmin, tmax)[0])
    raw_parts.extend(cached)
    raw_parts = [p for p in raw_parts if len(p)]
    if raw_parts:
        rows = raw_parts[0] if len(raw_parts) == 1 else merge_rows(concat(raw_parts), dedupe=t.dedupe)
        if terms:
            rows = rows.take(np.flatnonzero(_rows_keep(rows, terms)))
        stats.rows_decoded += len(rows)
        out.append(_rows_partials(rows, columns, stored, types, every, offset, spread))
    if spend is not None:
        spend(sum(map(len, out[counted:])))
    return out


def _stats_partials(chunk, gr, bis, columns, types, every, offset) -> Partials:
    """Pieces of whole row groups (each inside one bucket) from their blocks' statistics."""
    p = Partials.empty(columns, types, len(gr))
    p.series[:] = gr["series"]
    p.bucket[:] = _bucket(gr["tmin"], every, offset)
    p.row_tmin[:] = gr["tmin"]
    p.row_tmax[:] = gr["tmax"]
    p.rows[:] = gr["nrows"]
    blocks = chunk.blocks
    for i, bi in enumerate(bis):
        has = bi >= 0
        if not has.any():
            continue
        sb = blocks[bi[has]]
        p.count[i, has] = sb["count"]
        p.sum_i[i, has] = sb["sum_i"].view(np.uint64)
        p.sum_f[i, has] = sb["sum_f"]
        p.min[i, has] = sb["min"].view(np.uint64)
        p.max[i, has] = sb["max"].view(np.uint64)
        p.first[i, has] = sb["first"].view(np.uint64)
        p.first_time[i, has] = sb["first_time"]
        p.last[i, has] = sb["last"].view(np.uint64)
        p.last_time[i, has] = sb["last_time"]
    return p


def _split(gidx: np.ndarray) -> list[np.ndarray]:
    """Row groups in parts for the kernels: at most MAX_GROUPS_PER_CALL each (the byte buffer and
    outputs of one call stay small), and two halves when there are enough to keep both cores busy
    (the kernels release the GIL)."""
    n = len(gidx)
    if n >= PARALLEL_MIN_GROUPS and _CPUS >= 2:
        k = max(2, -(-n // MAX_GROUPS_PER_CALL))
    else:
        k = -(-n // MAX_GROUPS_PER_CALL)
    if k <= 1:
        return [gidx]
    return [p for p in np.array_split(gidx, k) if len(p)]


def _in_parallel(fn, parts: list, *args, check: Callable[[], None] | None = None):
    """fn(part, *args) for every part, in order: this thread and one scan-pool thread take the next
    part until none is left; ``check()`` before each part (what it raises stops the work)."""
    if len(parts) == 1 or _CPUS < 2:
        out = []
        for p in parts:
            if check is not None:
                check()
            out.append(fn(p, *args))
        return out
    results: list = [None] * len(parts)
    lock = threading.Lock()
    nxt = [0]

    def work() -> None:
        while True:
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= len(parts):
                return
            if check is not None:
                check()
            results[i] = fn(parts[i], *args)

    helper = _POOL.submit(work)
    work()
    if not helper.cancel():  # not started (the pool busy with another scan): nothing left for it
        helper.result()
    return results


PARALLEL_MIN_GROUPS = 64  # ~64 x 11 blocks: a few ms of decoding per half, well above the hand-off
MAX_GROUPS_PER_CALL = 1024  # ~1M rows: ~5 ms of decoding per call, bounded scratch and outputs
_CPUS = os.cpu_count() or 1
_POOL = ThreadPoolExecutor(max_workers=max(1, min(4, _CPUS) - 1), thread_name_prefix="tsgres-scan")


def _aggregate_fused(
    chunk,
    gidx: np.ndarray,
    types: list[FieldType],
    stored: list[str],
    tmin,
    tmax,
    every,
    offset,
    terms=(),
    check: Callable[[], None] | None = None,
    spread: bool = False,
    cap: int | None = None,
) -> tuple[Partials, np.ndarray]:
    """Pieces of row groups ``gidx`` of one file by blockdecode.aggregate_groups (two halves on two
    threads when there are many), and the groups it could not decode. ``cap``: the bound of their
    pieces (ChunkFile.classify_groups counts it; None: counted here)."""
    args = (chunk, types, stored, tmin, tmax, every, offset, terms, spread)
    if len(gidx) < PARALLEL_MIN_GROUPS:  # (one part: what _split would say, without asking)
        return _aggregate_fused_part(gidx, *args, cap)
    parts = _split(gidx)
    if len(parts) == 1:
        return _aggregate_fused_part(gidx, *args)
    done = _in_parallel(_aggregate_fused_part, parts, *args, check=check)
    return Partials.concat([d[0] for d in done], list(stored), types), np.concatenate([d[1] for d in done])


@functools.lru_cache(maxsize=64)
def _type_tags(types: tuple[FieldType, ...]) -> np.ndarray:
    """The fused kernel's value kind per column (the kernel only reads it)."""
    return np.array([_TAGS[ft] for ft in types], dtype=np.int64)


def _pieces_cap(chunk, gidx: np.ndarray, rows, tmin: int, tmax: int, every: int, offset: int) -> int:
    """At most how many pieces the fused kernel makes of row groups ``gidx``: per group one per
    bucket of [tmin, tmax] it covers, and never more than its rows (one with no buckets). (The
    kernel reads the file's contiguous group times: a strided view of one group is contiguous to
    numba, of two not, and each layout would be a signature of its own to load on first use.)"""
    if not every:
        return len(rows)
    gidx = np.ascontiguousarray(gidx, dtype=np.int64)
    g_tmin, g_tmax = chunk.group_bounds
    return int(_pieces_cap_kernel(gidx, g_tmin, g_tmax, rows, tmin, tmax, every, offset))


@njit(cache=True, nogil=True)
def _pieces_cap_kernel(gidx, g_tmin, g_tmax, rows, tmin, tmax, every, offset):
    cap = 0
    for i in range(len(gidx)):
        hi = (min(g_tmax[gidx[i]], tmax) - offset) // every
        lo = (max(g_tmin[gidx[i]], tmin) - offset) // every
        cap += min(max(hi - lo + 1, 1), rows[i])
    return cap


def _aggregate_fused_part(
    gidx: np.ndarray,
    chunk,
    types: list[FieldType],
    stored: list[str],
    tmin,
    tmax,
    every,
    offset,
    terms=(),
    spread: bool = False,
    cap: int | None = None,
) -> tuple[Partials, np.ndarray]:
    columns = list(stored)
    # aggregated columns first
    names = list(dict.fromkeys([*stored, *(tm.column for tm in terms)])) if terms else columns
    sp = chunk.spans(gidx, names)
    if sp is None:
        return Partials.empty(columns, types), gidx
    ev = int(every or 0)
    if cap is None:
        cap = _pieces_cap(chunk, gidx, sp.rows, tmin, tmax, ev, offset if ev else 0)
    p = Partials.empty(columns, types, cap)
    tags = _type_tags(tuple(types))
    status = np.zeros(len(gidx), np.int8)
    t_col = np.array([names.index(tm.column) + 1 for tm in terms], np.int64) if terms else _NO_TERMS[0]
    t_tag, t_kind, t_op, t_i, t_u, t_f = _term_arrays(terms)
    n = blockdecode.aggregate_groups(
        sp.buf, sp.at, sp.length, sp.count, sp.validity, sp.rows, chunk.group_series[gidx], tags,
        tmin, tmax, ev, offset if ev else 0, True, spread,
        t_col, t_tag, t_kind, t_op, t_i, t_u, t_f,
        p.keys, p.acc, status,
    )  # fmt: skip
    if n < cap:
        p = p.take(slice(0, n))
    # (count_nonzero: ndarray.any goes through two Python frames)
    return p, (gidx[status != blockdecode.OK] if np.count_nonzero(status) else gidx[:0])


def _rows_partials(rows: Rows, columns, stored, types, every, offset, spread: bool = False) -> Partials:
    """Pieces per (series, bucket) run of rows sorted by (series, time) (``spread``: with their
    means and squared distances): two kernels for the runs and their keys, one per column."""
    n = len(rows)
    run_s = np.empty(n + 1, np.int64)
    run_b = np.empty(n + 1, np.int64)
    nr = blockdecode.runs(rows.series, rows.time, int(every or 0), offset if every else 0, run_s, run_b)
    p = Partials.empty(columns, types, nr)
    blockdecode.run_keys(rows.series, rows.time, run_s, run_b, nr, p.keys)
    for i, (sc, ft) in enumerate(zip(stored, types, strict=True)):
        col = rows.fields.get(sc)
        if col is None:
            continue
        vals = col.values
        if ft is FieldType.BOOLEAN:
            vals = vals.astype(np.uint64)
        bits = np.ascontiguousarray(vals).view(np.uint64)
        mask = _ALL_VALID if col.valid is None else col.valid.view(np.uint8)
        blockdecode.rows_accumulate(bits, mask, rows.time, run_s, nr, i, _TAGS[ft], spread, p.acc)
    return p


_ALL_VALID = np.empty(0, np.uint8)  # (rows_accumulate: every row holds a value)


def _candidates(
    t: _Target, src: ShardSources, tmin: int, tmax: int, caches: list | None = None
) -> tuple[list, np.ndarray, np.ndarray]:
    """The (file, row groups) of the wanted series in [tmin, tmax], and per candidate row group, in
    that order, whether no other source overlaps it: no other file's row group of its series and
    time, and no memtable row of its series within its time (and the range: rows outside it are
    not read). Writers that send out of time order leave memtable rows older than the newest rows of
    the last snapshot: the memtable's time extent of a series then overlaps file row groups that
    share no time with any of its rows. ``caches``: the memtables to look in (None: each whose
    extent overlaps the range; a caller that read them passes those that hold rows of the series
    in the range)."""
    cand = []
    for lf in src.files:
        if lf.meta.max_time < tmin or lf.meta.min_time > tmax:
            continue
        g = lf.chunk.select_groups(t.series, tmin, tmax)
        if len(g):
            cand.append((lf, g))
    if caches is None:
        caches = [c for c in src.caches if c.overlaps(tmin, tmax)]
    if len(cand) < 2 and not caches:  # one source (or none) holds the range: nothing overlaps
        alone = np.empty(len(cand[0][1]) if cand else 0, bool)
        alone.fill(True)  # (np.ones runs two Python frames: ~1 us of a small query)
        return cand, alone, alone
    parts = [lf.chunk.groups[g] for lf, g in cand]
    if len(cand) > 1:
        among_files = _isolated(
            [p["series"] for p in parts], [p["tmin"] for p in parts], [p["tmax"] for p in parts]
        )
    else:  # one file: its row groups do not overlap each other
        among_files = np.empty(len(cand[0][1]) if cand else 0, bool)
        among_files.fill(True)
    isolated = among_files.copy()
    if caches and len(isolated):
        s = np.concatenate([p["series"] for p in parts])
        lo = np.maximum(np.concatenate([p["tmin"] for p in parts]), tmin)
        hi = np.minimum(np.concatenate([p["tmax"] for p in parts]), tmax)
        for cache in caches:
            isolated &= ~cache.holds(s, lo, hi)
    return cand, isolated, among_files


def _apart_from(
    cand: list,
    isolated: np.ndarray,
    among_files: np.ndarray,
    cached: list[Rows],
    t: _Target,
    tmin: int,
    tmax: int,
) -> np.ndarray:
    """``isolated``, with the candidate row groups added that only the memtable overlaps (isolated
    ``among_files``) and that share no (series, time) with its rows ``cached``: writers sending out of
    time order leave the memtable's rows interleaved with the last snapshot's, which changes no
    point, so the group's and the memtable's pieces count apart. One time-only decode of those
    groups."""
    if t.dedupe is False:
        return isolated  # (rows without a key: any order of merging keeps them all anyway)
    maybe = among_files & ~isolated
    if not maybe.any():
        return isolated
    mem = cached[0] if len(cached) == 1 else merge_rows(concat(cached))
    out = isolated.copy()
    pos = 0
    for lf, g in cand:
        here = np.flatnonzero(maybe[pos : pos + len(g)])
        if len(here):
            rows = lf.chunk.read_groups(g[here], [])  # (the groups' rows in group order: times only)
            owner = np.repeat(np.arange(len(here)), lf.chunk.groups["nrows"][g[here]].astype(np.int64))
            hit = (
                _pairs_at(mem.series, mem.time, rows.series.astype(np.int64), rows.time.astype(np.int64)) >= 0
            )
            hit &= (rows.time >= tmin) & (rows.time <= tmax)
            out[pos + here] = np.bincount(owner[hit], minlength=len(here)) == 0
        pos += len(g)
    return out


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
    known, series = _last_direct(t, src, series, tmin, tmax, cols)
    rows = _shard_last_read(t, shard, src, series, tmin, tmax, cols) if len(series) else Rows.empty()
    if not len(known):
        return rows
    if not len(rows):
        return known
    both = concat([known, rows])
    return both.take(np.argsort(both.series, kind="stable"))


def _last_direct(
    t: _Target, src: ShardSources, series: np.ndarray, tmin: int, tmax: int, cols: list[str]
) -> tuple[Rows, np.ndarray]:
    """The last rows of the series whose newest row one source alone holds: a memtable row newer
    than anything in the files (taken as it is), or the last row of a file's row group no memtable
    row reaches and no tombstone touches (from block statistics: last value and time, no decoding).
    Returns them and the series left to read and merge. A table that keeps duplicate rows takes
    only memtable rows (a real row: the memtable's newest keeps its columns together); a file's block
    statistics could mix two rows of the same last time there."""
    if not len(series):
        return Rows.empty(), series
    per = []
    for lf in src.files:
        if lf.meta.max_time < tmin or lf.meta.min_time > tmax:
            continue
        g = lf.chunk.select_groups(series, tmin, tmax)
        if len(g):
            gs = lf.chunk.groups["series"][g]
            per.append((lf, g[np.append(gs[1:] != gs[:-1], True)]))
    if len(per) > 1:  # several files: later writes may merge into a row column by column
        return Rows.empty(), series
    caches = [c for c in src.caches if len(c)]
    if len(caches) > 1:
        return Rows.empty(), series
    # newest memtable row per requested series (c_time INT64_MIN: none in range)
    c_time = np.full(len(series), INT64_MIN, np.int64)
    c_rows = caches[0].last_rows(series, tmin, tmax, cols) if caches else Rows.empty()
    c_time[np.searchsorted(series, c_rows.series)] = c_rows.time
    # newest file row group per series
    f_tmax = np.full(len(series), INT64_MIN, np.int64)
    f_pos = np.full(len(series), -1, np.int64)
    if per:
        lf, newest = per[0]
        gr = lf.chunk.groups[newest]
        where = np.searchsorted(series, gr["series"])
        f_tmax[where] = gr["tmax"]
        f_pos[where] = np.arange(len(newest))
    from_cache = c_time > f_tmax
    from_file = (f_pos >= 0) & (f_tmax > c_time) & t.dedupe
    found: list[Rows] = []
    if from_cache.any():
        found.append(c_rows.take(np.flatnonzero(from_cache[np.searchsorted(series, c_rows.series)])))
    if from_file.any():
        lf, newest = per[0]
        pos = f_pos[from_file]
        rows, ok = _group_last_from_stats(t, src, lf, newest[pos], tmax, cols)
        if ok.any():
            found.append(rows.take(np.flatnonzero(ok)))
    if not found:
        return Rows.empty(), series
    known = concat(found)
    known = known.take(np.argsort(known.series, kind="stable"))
    return known, np.setdiff1d(series, known.series, assume_unique=True)


def _group_last_from_stats(
    t: _Target, src: ShardSources, lf, groups: np.ndarray, tmax: int, cols: list[str]
) -> tuple[Rows, np.ndarray]:
    """The last row of each given row group from its blocks' statistics, and which of them are
    right (the row inside the range, no tombstone on the group, every block ending at the row with
    usable statistics; a block ending earlier means NULL there)."""
    chunk = lf.chunk
    gr = chunk.groups[groups]
    ok = gr["tmax"] <= tmax
    for tomb in src.tombstones_for(lf.meta.id):
        ok &= ~(
            np.isin(gr["series"], tomb.series)
            & (gr["tmax"] >= tomb.meta.min_ns)
            & (gr["tmin"] <= tomb.meta.max_ns)
        )
    blocks = chunk.blocks
    types = dict(chunk.columns)
    fields: dict[str, Column] = {}
    for c in cols:
        ft = types.get(c)
        if ft is None:
            continue
        bi = chunk.column_blocks(groups, c)
        has = bi >= 0
        b = blocks[np.where(has, bi, 0)]
        at_last = has & (b["last_time"] == gr["tmax"])
        if ft is FieldType.STRING:
            ok &= ~at_last
            continue
        ok &= ~at_last | ((b["flags"] & FLAG_STATS) != 0)
        fields[c] = Column(ft, from_bits(b["last"], ft), at_last)
    return Rows(gr["series"].astype(np.int64), gr["tmax"].astype(np.int64), fields), ok


def _shard_last_read(
    t: _Target, shard: Shard, src: ShardSources, series: np.ndarray, tmin: int, tmax: int, cols: list[str]
) -> Rows:
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


def time_extent(engine: Engine, req: ScanRequest) -> tuple[int, int] | None:
    """Bounds within [tmin, tmax] of the times the request's sources may hold (file and memtable
    extents: a superset; deleted rows count), or None when no source overlaps."""
    t = _target(engine, req)
    if not len(t.series):
        return None
    lo, hi = INT64_MAX, INT64_MIN
    for shard in t.shards:
        src = shard.sources(t.table_id, t.table)
        for lf in src.files:
            lo = min(lo, lf.meta.min_time)
            hi = max(hi, lf.meta.max_time)
        for cache in src.caches:
            _s, clo, chi = cache.series_ranges()
            if len(clo):
                lo = min(lo, int(clo.min()))
                hi = max(hi, int(chi.max()))
    lo, hi = max(lo, req.tmin), min(hi, req.tmax)
    return (lo, hi) if lo <= hi else None


def may_hold(engine: Engine, req: ScanRequest) -> bool:
    """Whether any source of the request's series may hold a row within [tmin, tmax], by file
    extents and memtable bounds alone (no decoding, and, unlike :func:`time_extent`, no sorting of
    what was appended to a memtable): False means certainly none. A transaction's write past every
    stored time asks this (sql/transaction.py)."""
    t = _target(engine, req)
    if not len(t.series):
        return False
    for shard in t.shards:
        src = shard.sources(t.table_id, t.table)
        if any(lf.meta.min_time <= req.tmax and lf.meta.max_time >= req.tmin for lf in src.files):
            return True
        if any(cache.overlaps(req.tmin, req.tmax) for cache in src.caches):
            return True
    return False


def rows_at(
    engine: Engine, req: ScanRequest, series: np.ndarray, times: np.ndarray, max_rows: int | None = None
) -> pa.Table:
    """The row of each (series id, time) pair, in the pairs' order: the request's columns (the schema
    of :func:`scan`, tags as plain strings, no series id), all NULL where a pair has no row (or its
    series is not one the request selects). One filtered read of the pairs' series over their time
    extent (within the request's), matched by (series, time); that read past ``max_rows`` rows raises
    :class:`ResultTooLarge`."""
    series = np.ascontiguousarray(series, dtype=np.int64)
    times = np.ascontiguousarray(times, dtype=np.int64)
    found = None
    if len(series):
        sub = dataclasses.replace(
            req,
            tmin=max(req.tmin, int(times.min())),
            tmax=min(req.tmax, int(times.max())),
            series=tuple(np.unique(series).tolist()),
            with_series_id=True,
        )
        if sub.tmin <= sub.tmax:
            found = filtered(engine, sub, [], plain_tags=True, max_rows=max_rows)
    if found is None or not found.num_rows:
        sch = schema(engine, dataclasses.replace(req, with_series_id=False))
        sch = pa.schema(
            [pa.field(f.name, f.type.value_type) if pa.types.is_dictionary(f.type) else f for f in sch]
        )
        return pa.table({f.name: pa.nulls(len(series), f.type) for f in sch}, schema=sch)
    r_s = found.column(SERIES_ID).to_numpy()
    r_t = found.column(0).cast(pa.int64()).to_numpy()
    order = np.lexsort((r_t, r_s))
    at = _pairs_at(r_s[order], r_t[order], series, times)
    hit = at >= 0
    take = pa.array(np.where(hit, order[np.maximum(at, 0)], 0), mask=~hit)
    return found.drop_columns([SERIES_ID]).take(take)


@njit(cache=True, nogil=True)
def _pairs_at(rs, rt, qs, qt):
    """Per query pair (qs[k], qt[k]): its position in rows sorted by (series rs, time rt), or -1."""
    out = np.full(len(qs), -1, np.int64)
    n = len(rs)
    for k in range(len(qs)):
        lo, hi = 0, n
        while lo < hi:  # the first row not before (qs[k], qt[k])
            mid = (lo + hi) // 2
            if rs[mid] < qs[k] or (rs[mid] == qs[k] and rt[mid] < qt[k]):
                lo = mid + 1
            else:
                hi = mid
        if lo < n and rs[lo] == qs[k] and rt[lo] == qt[k]:
            out[k] = lo
    return out


def rows_estimate(engine: Engine, req: ScanRequest) -> int:
    """About how many rows the request's sources hold in its range, without decoding or merging: row
    groups partly in the range count whole, memtable rows in proportion to the selected series
    whose rows reach into it, rows in two sources twice."""
    t = _target(engine, req)
    n = 0
    for shard in t.shards:
        src = shard.sources(t.table_id, t.table)
        for lf in src.files:
            if lf.meta.max_time >= req.tmin and lf.meta.min_time <= req.tmax:
                n += int(lf.chunk.groups["nrows"][lf.chunk.select_groups(t.series, req.tmin, req.tmax)].sum())
        for cache in src.caches:
            s, lo, hi = cache.series_ranges()
            if len(s):
                inside = np.isin(s, t.series) & (hi >= req.tmin) & (lo <= req.tmax)
                n += len(cache) * int(inside.sum()) // len(s)
    return n


# -- filtered scan -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FieldCondition:
    """``column <op> value`` on a numeric field; op one of < <= > >= = <>. NULL values fail it; a
    float column orders NaN above every number (and NaN = NaN), as PostgreSQL does; an integer column
    compares exactly with a non-integral or out-of-range value."""

    column: str
    op: str
    value: int | float | Decimal


_OPS = {"<": blockdecode.OP_LT, "<=": blockdecode.OP_LE, ">": blockdecode.OP_GT, ">=": blockdecode.OP_GE}
_OPS |= {"=": blockdecode.OP_EQ, "<>": blockdecode.OP_NE, "!=": blockdecode.OP_NE}
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "<>": "<>", "!=": "<>"}


@dataclass
class _Term:
    column: str  # stored name
    tag: int
    kind: int
    op: int
    ci: int = 0
    cu: int = 0
    cf: float = 0.0


def _term_of(cond: FieldCondition, ftype: FieldType, stored: str) -> _Term:
    """The kernel's form of a condition: the comparison made exact in the column's own type."""
    op, v = cond.op, cond.value
    B = blockdecode
    if ftype is FieldType.FLOAT:
        return _Term(stored, B.TAG_FLOAT64, B.CMP_FLOAT, _OPS[op], cf=float(v))
    tag = B.TAG_UINT64 if ftype is FieldType.UNSIGNED else B.TAG_INT64
    lo, hi = (0, 2**64 - 1) if ftype is FieldType.UNSIGNED else (INT64_MIN, INT64_MAX)
    if isinstance(v, float) and math.isnan(v) or isinstance(v, Decimal) and v.is_nan():
        # numeric NaN is above every number
        truth = op in ("<", "<=", "<>", "!=")
        return _Term(stored, tag, B.CMP_TRUE if truth else B.CMP_FALSE, 0)
    if isinstance(v, float) and math.isinf(v):
        truth = (op in ("<", "<=", "<>", "!=")) if v > 0 else (op in (">", ">=", "<>", "!="))
        return _Term(stored, tag, B.CMP_TRUE if truth else B.CMP_FALSE, 0)
    exact = Fraction(v)
    if exact.denominator != 1:  # between two integers
        if op in ("=",):
            return _Term(stored, tag, B.CMP_FALSE, 0)
        if op in ("<>", "!="):
            return _Term(stored, tag, B.CMP_TRUE, 0)
        c = math.ceil(exact) if op in (">", ">=") else math.floor(exact)
        op = ">=" if op in (">", ">=") else "<="
    else:
        c = int(exact)
    if c < lo or c > hi:  # every stored value is on one side
        above = c > hi  # the constant is above every value
        truth = {"<": above, "<=": above, ">": not above, ">=": not above, "=": False}.get(op, True)
        return _Term(stored, tag, B.CMP_TRUE if truth else B.CMP_FALSE, 0)
    if ftype is FieldType.UNSIGNED:
        return _Term(stored, tag, B.CMP_UINT, _OPS[op], cu=c)
    return _Term(stored, tag, B.CMP_INT, _OPS[op], ci=c)


def _stats_exclude(chunk, g: np.ndarray, terms: list[_Term]) -> np.ndarray:
    """Row groups whose blocks' statistics show no row can satisfy the terms (or that have no value
    of a term's column at all)."""
    out = np.zeros(len(g), dtype=bool)
    blocks = chunk.blocks
    B = blockdecode
    for tm in terms:
        bi = chunk.column_blocks(g, tm.column)
        has = bi >= 0
        out |= ~has
        if tm.kind == B.CMP_FALSE:
            out[:] = True
            continue
        if tm.kind == B.CMP_TRUE:
            continue
        b = blocks[np.where(has, bi, 0)]
        usable = has & ((b["flags"] & FLAG_STATS) != 0)
        c: Any
        if tm.kind == B.CMP_FLOAT:
            if math.isnan(tm.cf):
                continue  # stats are kept only for blocks without NaN: only = / >= / <= ... keep it simple
            mn, mx, c = b["min"].view(np.float64), b["max"].view(np.float64), tm.cf
        elif tm.kind == B.CMP_UINT:
            mn, mx, c = b["min"].view(np.uint64), b["max"].view(np.uint64), np.uint64(tm.cu)
        else:
            mn, mx, c = b["min"], b["max"], tm.ci
        op = tm.op
        if op == B.OP_LT:
            none = mn >= c
        elif op == B.OP_LE:
            none = mn > c
        elif op == B.OP_GT:
            none = mx <= c
        elif op == B.OP_GE:
            none = mx < c
        elif op == B.OP_EQ:
            none = (c < mn) | (c > mx)
        else:
            none = (mn == c) & (mx == c)
        out |= usable & none
    return out


def filtered(
    engine: Engine,
    req: ScanRequest,
    conditions: list[FieldCondition],
    stats: AggregateStats | None = None,
    plain_tags: bool = False,
    max_rows: int | None = None,
) -> pa.Table:
    """The rows matching the request and every condition, as one Arrow table (the schema of
    :func:`scan`; tags as plain strings with ``plain_tags``). More than ``max_rows`` matches raise
    :class:`ResultTooLarge` once found (the memory held stays near that bound). Row groups no other
    source overlaps and no tombstone touches are filtered in a kernel (conditions first, other columns
    decoded only for groups with matches; groups whose block statistics exclude a match skipped); the
    rest is merged (last write wins) and then filtered."""
    t, sch, terms = _filter_target(engine, req, conditions, plain_tags)
    stats = stats if stats is not None else AggregateStats()
    budget = [max_rows if max_rows is not None else INT64_MAX]

    def spend(n: int) -> None:
        budget[0] -= n
        if budget[0] < 0:
            raise ResultTooLarge(max_rows or 0)

    found: list[Rows] = []
    for shard in t.shards:
        t.check()
        found.extend(_shard_pieces(t, shard, terms, req.tmin, req.tmax, stats, spend))
    if not found:
        return sch.empty_table()
    rows = found[0] if len(found) == 1 else concat(found)
    return pa.Table.from_batches([to_arrow(t, rows, sch)], schema=sch)


FIRST_PIECE_ROWS = 16_384  # filtered_pieces: candidate rows of the first piece (each next one twice the last)
MAX_PIECE_ROWS = 1 << 20  # ... up to this many


def filtered_pieces(
    engine: Engine,
    req: ScanRequest,
    conditions: list[FieldCondition],
    stats: AggregateStats | None = None,
    plain_tags: bool = False,
    first_rows: int | None = None,
) -> tuple[pa.Schema, Iterator[list[pa.Array]]]:
    """:func:`filtered`'s rows, in the same order, in pieces computed one at a time when asked: the
    schema, and the columns of each piece (:func:`to_arrays`). A piece holds the matches of whole
    series of one shard, the first of series with about ``first_rows`` (default FIRST_PIECE_ROWS)
    candidate rows (rows in the range, before the conditions), each next one of twice as many, up to
    MAX_PIECE_ROWS. A client reads the first rows while the rest are scanned, and the memory held is
    one piece's (a single series with more candidate rows is one piece). Pieces without rows are
    not yielded."""
    t, sch, terms = _filter_target(engine, req, conditions, plain_tags)
    stats = stats if stats is not None else AggregateStats()
    first = first_rows or FIRST_PIECE_ROWS

    def pieces() -> Iterator[list[pa.Array]]:
        for shard in t.shards:
            t.check()
            for rows in _shard_pieces(t, shard, terms, req.tmin, req.tmax, stats, _unbounded, first):
                yield to_arrays(t, rows, sch)

    return sch, pieces()


def _unbounded(n: int) -> None:
    pass


def _filter_target(
    engine: Engine, req: ScanRequest, conditions: list[FieldCondition], plain_tags: bool
) -> tuple[_Target, pa.Schema, list[_Term]]:
    t = _target(engine, req)
    sch = _schema(t, req.with_series_id, plain_tags)
    for c in conditions:
        ft = t.fields.get(c.column)
        if ft is None or ft not in _FUSED_TYPES:
            raise ValueError(f'condition on "{c.column}": a numeric field of "{req.table}" is needed')
    if not len(t.series):
        t.shards = []  # no series: nothing to read
    return t, sch, [_term_of(c, t.fields[c.column], t.stored(c.column)) for c in conditions]


def _shard_pieces(
    t: _Target,
    shard: Shard,
    terms: list[_Term],
    tmin: int,
    tmax: int,
    stats: AggregateStats,
    spend: Callable[[int], None],
    first_rows: int = 0,
) -> Iterator[Rows]:
    """The matching rows of one shard, ordered by (series, time): in one piece, or with ``first_rows``
    in pieces of whole series (:func:`filtered_pieces`). Empty pieces are not yielded."""
    src: ShardSources = shard.sources(t.table_id, t.table)
    cols = [t.stored(f) for f in t.fields]
    types = dict(zip(cols, t.fields.values(), strict=True))
    cand, isolated, among_files = _candidates(t, src, tmin, tmax)
    if len(isolated) and not isolated.all():
        # row groups that the memtable's times only interleave with are filtered as if alone (the
        # memtable's keys are enough to tell: its rows are read piece by piece below)
        cached = [c.read(t.series, tmin, tmax, []) for c in src.caches if c.overlaps(tmin, tmax)]
        cached = [r for r in cached if len(r)]
        if cached:
            isolated = _apart_from(cand, isolated, among_files, cached, t, tmin, tmax)
    # per candidate file: its row groups, which of them the kernels filter and which are merged
    files: list[tuple[Any, np.ndarray, np.ndarray, np.ndarray]] = []
    pos = 0
    for lf, g in cand:
        iso = isolated[pos : pos + len(g)]
        pos += len(g)
        chunk = lf.chunk
        gr = chunk.groups[g]
        untouched = np.ones(len(g), dtype=bool)
        for tomb in src.tombstones_for(lf.meta.id):
            untouched &= ~(
                np.isin(gr["series"], tomb.series)
                & (gr["tmax"] >= tomb.meta.min_ns)
                & (gr["tmin"] <= tomb.meta.max_ns)
            )
        whole = iso & untouched
        skip = whole & _stats_exclude(chunk, g, terms)
        stats.blocks_from_stats += int(skip.sum())
        files.append((lf, g, whole & ~skip, ~whole))
    n = len(t.series)
    cuts = _series_cuts(t.series, files, first_rows) if first_rows else [0, n]
    for a, b in zip(cuts[:-1], cuts[1:], strict=False):
        t.check()
        series = None if b - a == n else t.series[a:b]  # (None: every series, no selection)
        rows = _filter_piece(t, src, files, series, cols, types, terms, tmin, tmax, stats, spend)
        if len(rows):
            yield rows


def _series_cuts(series: np.ndarray, files: list, first_rows: int) -> list[int]:
    """Where :func:`_shard_pieces` cuts the (sorted) series: positions in ``series``, 0 first and
    len(series) last, each piece of about twice the candidate rows of the one before."""
    n = len(series)
    if n < 2 or sum(int(lf.chunk.groups["nrows"][g].sum()) for lf, g, _, _ in files) <= first_rows:
        return [0, n]  # one piece (memtable rows are not counted: it is the smaller part)
    per_series = np.zeros(n, np.float64)
    for lf, g, _, _ in files:
        gr = lf.chunk.groups[g]
        per_series += np.bincount(
            np.searchsorted(series, gr["series"]), weights=gr["nrows"].astype(np.float64), minlength=n
        )[:n]
    total = np.cumsum(per_series)
    cuts = [0]
    size = float(first_rows)
    while cuts[-1] < n:
        done = total[cuts[-1] - 1] if cuts[-1] else 0.0
        j = int(np.searchsorted(total, done + size, side="left")) + 1  # the series that reaches the size
        cuts.append(min(max(j, cuts[-1] + 1), n))
        size = min(2 * size, float(MAX_PIECE_ROWS))
    return cuts


def _filter_piece(
    t: _Target,
    src: ShardSources,
    files: list,
    series: np.ndarray | None,
    cols: list[str],
    types: dict[str, FieldType],
    terms: list[_Term],
    tmin: int,
    tmax: int,
    stats: AggregateStats,
    spend: Callable[[int], None],
) -> Rows:
    """The matches among ``series`` (a sorted slice of the target's; None: all of them)."""
    parts: list[Rows] = []
    raw_parts: list[Rows] = []
    for lf, g, fused, rest_mask in files:
        t.check()
        chunk = lf.chunk
        if series is not None:
            gs = chunk.groups["series"][g]
            inside = (gs >= series[0]) & (gs <= series[-1])
            if not inside.any():
                continue
            g, fused, rest_mask = g[inside], fused[inside], rest_mask[inside]
        if fused.any():
            rows, failed = _filter_fused(chunk, g[fused], cols, types, terms, tmin, tmax, t.interrupt)
            stats.groups_decoded += int(fused.sum())
            if len(rows):
                spend(len(rows))
                parts.append(rows)
            if len(failed):
                rest_mask = rest_mask | np.isin(g, failed)
        rest = g[rest_mask]
        if len(rest):
            stats.groups_decoded += len(rest)
            raw_parts.append(src.read_file(lf, rest, cols, tmin, tmax)[0])
    raw_parts = [p for p in raw_parts if len(p)]
    caches = [c for c in src.caches if c.overlaps(tmin, tmax)]
    # one memtable's rows, and no file's to merge with them (either could hold a key the other
    # writes again): filtered as they are read, the term columns first
    if len(caches) == 1 and not raw_parts:
        where = ([tm.column for tm in terms], lambda rows: _rows_keep(rows, terms))
        rows = caches[0].read(t.series if series is None else series, tmin, tmax, cols, where)
        if len(rows):
            spend(len(rows))
            parts.append(rows)
    else:
        read = (c.read(t.series if series is None else series, tmin, tmax, cols) for c in caches)
        raw_parts += [r for r in read if len(r)]
    if len(raw_parts) > 1 and t.dedupe and not runs_disjoint(raw_parts):
        raw_parts = [merge_rows(concat(raw_parts), dedupe=True)]
    # (parts no key repeats across, or of a table that keeps duplicates, are filtered one by one: the
    # merge of all their columns would only reorder rows the filter mostly drops)
    for rows in raw_parts:
        keep = _rows_keep(rows, terms)
        if keep.any():
            spend(int(keep.sum()))
            parts.append(rows.take(np.flatnonzero(keep)))
    if not parts:
        return Rows.empty()
    if len(parts) == 1:
        return parts[0]
    rows = concat(parts)
    return rows.take(np.lexsort((rows.time, rows.series)))


_NO_TERMS = (
    np.zeros(0, np.int64),
    np.zeros(0, np.int64),
    np.zeros(0, np.int64),
    np.zeros(0, np.int64),
    np.zeros(0, np.uint64),
    np.zeros(0, np.float64),
)


def _term_arrays(terms) -> tuple[np.ndarray, ...]:
    """The kernels' term arrays (tag, kind, op, int, uint, float constants; the kernels only read them)."""
    if not terms:
        return _NO_TERMS
    return (
        np.array([tm.tag for tm in terms], np.int64),
        np.array([tm.kind for tm in terms], np.int64),
        np.array([tm.op for tm in terms], np.int64),
        np.array([tm.ci for tm in terms], np.int64),
        np.array([tm.cu for tm in terms], np.uint64),
        np.array([tm.cf for tm in terms], np.float64),
    )


def _rows_keep(rows: Rows, terms: list[_Term]) -> np.ndarray:
    n = len(rows)
    keep = np.ones(n, np.uint8)
    for tm in terms:
        col = rows.fields.get(tm.column)
        if col is None:
            return np.zeros(n, bool)
        bits = np.ascontiguousarray(col.values).view(np.uint64)
        mask = np.ones(n, np.uint8) if col.valid is None else col.valid.view(np.uint8)
        blockdecode._term(bits, mask, n, tm.kind, tm.op, tm.ci, np.uint64(tm.cu), tm.cf, keep)
    return keep.view(bool)


def _filter_fused(chunk, gidx, cols, types, terms, tmin, tmax, check=None) -> tuple[Rows, np.ndarray]:
    """Matching rows of row groups ``gidx`` of one file (two halves on two threads when there are
    many), and the groups the kernels could not decode."""
    parts = _split(gidx)
    if len(parts) == 1:
        return _filter_fused_part(gidx, chunk, cols, types, terms, tmin, tmax)
    done = _in_parallel(_filter_fused_part, parts, chunk, cols, types, terms, tmin, tmax, check=check)
    return concat([d[0] for d in done]), np.concatenate([d[1] for d in done])


def _filter_fused_part(gidx, chunk, cols, types, terms, tmin, tmax) -> tuple[Rows, np.ndarray]:
    names = list(dict.fromkeys([tm.column for tm in terms] + [c for c in cols if types[c] in _FUSED_TYPES]))
    sp = chunk.spans(gidx, names)
    if sp is None:
        return Rows.empty(), gidx
    col_of = {n: i + 1 for i, n in enumerate(names)}
    t_col = np.array([col_of[tm.column] for tm in terms], np.int64)
    t_tag, t_kind, t_op, t_i, t_u, t_f = _term_arrays(terms)
    sel = np.empty(int(sp.rows.sum()), np.int64)
    matches = np.zeros(len(gidx), np.int64)
    status = np.zeros(len(gidx), np.int8)
    total = blockdecode.filter_groups(
        sp.buf, sp.at, sp.length, sp.count, sp.validity, sp.rows, tmin, tmax,
        t_col, t_tag, t_kind, t_op, t_i, t_u, t_f, True, sel, matches, status,
    )  # fmt: skip
    failed = status != blockdecode.OK
    sel = sel[:total]
    series = np.repeat(chunk.groups["series"][gidx].astype(np.int64), matches)
    # time (column 0) and every numeric column of the matching rows, in one kernel call
    fused = [c for c in cols if types[c] in _FUSED_TYPES]
    which = np.array([0, *(col_of[c] for c in fused)], np.int64)
    tags = np.array([blockdecode.TAG_INT64, *(_TAGS[types[c]] for c in fused)], np.int64)
    out = np.empty((len(which), total), np.uint64)
    valid = np.empty((len(which), total), np.uint8)
    bad_group = np.zeros(len(gidx), np.bool_)
    blockdecode.gather_columns(
        sp.buf, sp.at, sp.length, sp.count, sp.validity, sp.rows, which, tags, True, sel, matches, out,
        valid, bad_group,
    )  # fmt: skip
    failed |= bad_group
    time = out[0].view(np.int64)
    whole = valid.all(axis=1).tolist()  # columns without a NULL among the matches: no validity
    fields: dict[str, Column] = {
        c: Column(types[c], out[j].view(types[c].numpy_dtype), None if whole[j] else valid[j].view(bool))
        for j, c in enumerate(fused, start=1)
    }
    rows = Rows(series, time, fields)
    other = [c for c in cols if types[c] not in _FUSED_TYPES]
    if other and total:
        # strings and booleans of the matching rows: the groups with matches read the ordinary way
        have = np.flatnonzero(matches > 0)
        extra = chunk.read_groups(gidx[have], other)
        offs = np.concatenate(([0], np.cumsum(sp.rows[have])))[:-1]
        idx = np.repeat(offs, matches[have]) + sel
        for c in other:
            if c in extra.fields:
                rows.fields[c] = extra.fields[c].take(idx)
    if failed.any():
        bad = np.repeat(failed, matches)
        rows = rows.take(np.flatnonzero(~bad))
    return rows, gidx[failed]


# -- warm-up -------------------------------------------------------------------------------------------
def warm_up() -> None:
    """Compile (or load from numba's disk cache) the scan kernels with the argument types scans pass,
    on a small chunk file in a temporary directory: the first query does not wait for them."""
    import tempfile
    from pathlib import Path

    from columnar.chunkfile import ChunkFile, write_chunk_file

    n = 3000
    rng = np.random.default_rng(0)
    series = np.repeat(np.array([1, 2], np.int64), n // 2)
    time = np.tile(np.arange(n // 2, dtype=np.int64) * 10**10, 2)
    sparse = rng.random(n) < 0.5
    rows = Rows(
        series,
        time,
        {
            "i": Column(FieldType.INTEGER, rng.integers(0, 100, n)),
            "u": Column(FieldType.UNSIGNED, rng.integers(0, 100, n).astype(np.uint64), sparse),
            "f": Column(FieldType.FLOAT, np.round(rng.normal(0, 1, n), 2)),
        },
    )
    names = ["i", "u", "f"]
    types = [FieldType.INTEGER, FieldType.UNSIGNED, FieldType.FLOAT]
    with tempfile.TemporaryDirectory(prefix="tsgres-warmup-") as d:
        with ChunkFile(write_chunk_file(Path(d) / "w.tsc", "w", rows).path) as chunk:
            g = np.arange(len(chunk.groups))
            chunk.read_groups(g, names)
            from columnar.chunkfile import _select_runs

            gs = np.ascontiguousarray(chunk.groups["series"], np.int64)
            t0, t1 = (np.ascontiguousarray(chunk.groups[k], np.int64) for k in ("tmin", "tmax"))
            wanted = np.array([1], np.int64)
            _select_runs(gs, t0, t1, wanted, 0, INT64_MAX)
            wanted.flags.writeable = False  # (the series index hands out read-only ids: a type of its own)
            _select_runs(gs, t0, t1, wanted, 0, INT64_MAX)
            _aggregate_fused_part(g, chunk, types, names, 0, INT64_MAX, 60 * 10**9, 0)
            every_group = np.ones(len(g), bool)
            chunk.classify_groups(g, every_group, every_group, names, 0, INT64_MAX, 60 * 10**9, 0, True, True)
            terms = [
                _term_of(FieldCondition("i", ">", 50), FieldType.INTEGER, "i"),
                _term_of(FieldCondition("u", "<=", 7), FieldType.UNSIGNED, "u"),
                _term_of(FieldCondition("f", ">", 0.5), FieldType.FLOAT, "f"),
            ]
            _filter_fused_part(g, chunk, names, dict(zip(names, types, strict=True)), terms, 0, INT64_MAX)
    _rows_partials(rows, names, names, types, 60 * 10**9, 0)
    _pairs_at(series, time, series[:2], time[:2])
    merge_rows(concat([rows, rows.take(np.arange(2))]), sorted_prefix=len(rows))  # memtable reads
    _rows_keep(rows, terms)
    cache = TableCache()
    cache.append(rows)
    cache.append(rows.take(np.arange(2)))
    cache.read(np.array([1, 2], np.int64), 0, INT64_MAX, names)
    two = np.array([1, 2], np.int64)
    cache.holds(two, np.zeros(2, np.int64), np.full(2, INT64_MAX, np.int64))
    cache.last_rows(np.array([1, 2], np.int64), 0, INT64_MAX, names)
    strings_warm_up()
