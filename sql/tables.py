"""The SQL view of a storage table: its columns with PostgreSQL types, and conversions both ways.

Tables written by line protocol have no declared types: time is timestamptz, tags text, fields
float8 / int8 / numeric (unsigned) / bool / text. SQL-created tables report the types they were
declared with (the catalog keeps them), whatever storage widened them to: an int4 column is stored
as an int64 field and read back as int4; a tag declared int4 is stored as a string tag.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from columnar.batch import WriteBatch
from columnar.catalog import TableMeta
from columnar.rows import Column
from columnar.types import FieldType
from sql import arrays
from sql import types as pgt
from sql.enums import check_values as check_enum
from sql.enums import column_type as enum_type
from sql.errors import (
    DatatypeMismatch,
    InvalidTextRepresentation,
    NotNullViolation,
    NumericValueOutOfRange,
    StringDataRightTruncation,
)
from sql.jsonb import jsonb_text
from sql.jsonb import parse as jsonb_parse

HIDDEN_TIME = "_tsgres_rowtime"  # time column of a SQL table declared without a timestamp column

_DEFAULT_FIELD_TYPE = {
    FieldType.FLOAT: "float8",
    FieldType.INTEGER: "int8",
    FieldType.UNSIGNED: "numeric",
    FieldType.BOOLEAN: "bool",
    FieldType.STRING: "text",
}


@dataclass(frozen=True)
class SqlColumn:
    name: str
    kind: str  # "time" | "tag" | "field"
    type: pgt.PgType
    storage: FieldType | None  # field storage type; None for time and tags
    position: int  # 1-based attnum
    not_null: bool = False


def is_hypertable(meta: TableMeta) -> bool:
    """Whether TimescaleDB's functions take the table as a hypertable: a SQL table once
    create_hypertable made it one; a table that line protocol created (a measurement: time-partitioned
    into shards on its ``time`` column from its first point, as every InfluxDB measurement is) always."""
    return bool(meta.options.get("hypertable")) or not meta.options.get("sql")


def naive_time(meta: TableMeta) -> bool:
    """Whether the time column is a timestamp without time zone (its values are wall-clock times).
    (Its own column only, as sql_columns types it: every native execution asks.)"""
    col = meta.column(meta.time_column)
    return col is not None and bool(col.pg_type) and pgt.lookup(col.pg_type).name == "timestamp"


def sql_columns(meta: TableMeta) -> list[SqlColumn]:
    """Visible columns in declaration order (the hidden row-time column of keyless tables is left out).
    Computed once per TableMeta (a DDL makes a new one; every INSERT asked twice, ~17 us each)."""
    got = meta.__dict__.get("_sql_columns")  # (as functools.cached_property keeps its value)
    if got is None:
        got = meta.__dict__["_sql_columns"] = tuple(_sql_columns(meta))
    return list(got)


def _sql_columns(meta: TableMeta) -> list[SqlColumn]:
    out = []
    pos = 0
    for c in meta.columns:
        if c.name == HIDDEN_TIME:
            continue
        pos += 1
        if c.pg_type:
            t = pgt.lookup(c.pg_type)
            if t.name == "numeric":
                t = _numeric(c.pg_type, t)
        elif c.kind == "time":
            t = pgt.BY_NAME["timestamptz"]
        elif c.kind == "tag":
            t = pgt.TEXT
        else:
            t = pgt.BY_NAME[_DEFAULT_FIELD_TYPE[c.type or FieldType.FLOAT]]
        enum = (meta.options.get("enums") or {}).get(c.name)  # sql/enums.py
        if enum is not None:
            t = enum_type(enum)
        declared = bool(meta.options.get("not_null", {}).get(c.name))
        if c.kind == "time" and not meta.options.get("time_nullability_declared"):
            declared = True  # line-protocol tables, and SQL tables from before it was recorded
        not_null = declared
        out.append(SqlColumn(c.name, c.kind, t, c.type, pos, not_null))
    return out


def _numeric(declared: str, t: pgt.PgType) -> pgt.PgType:
    """numeric(p, s) reads as an exact decimal(p, s) (stored as float64), so results are numeric;
    without a typmod, decimal(38, 10)."""
    m = re.search(r"\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)", declared)
    precision, scale = (int(m[1]), int(m[2] or 0)) if m else (38, 10)
    precision = min(max(precision, 1), 38)
    return dataclasses.replace(t, arrow=pa.decimal128(precision, min(scale, precision)))


# Every table answers this column name, when a query names it, with its time in epoch nanoseconds
# (bigint): SQL's timestamps stop at microseconds, InfluxQL's times do not.
TIME_NS = "tsgres_time_ns"
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)


def instant_ns(value: _dt.datetime) -> int:
    """Epoch nanoseconds of a datetime with a zone (exact: no float on the way)."""
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1000


def time_ns_column() -> SqlColumn:
    return SqlColumn(TIME_NS, "time_ns", pgt.BY_NAME["int8"], None, 0)


def arrow_schema(cols: list[SqlColumn]) -> pa.Schema:
    return pa.schema([pa.field(c.name, c.type.arrow) for c in cols])


_NS_UTC = pa.timestamp("ns", tz="UTC")
_US_UTC = pa.timestamp("us", tz="UTC")


def to_sql_batch(batch: pa.RecordBatch, cols: list[SqlColumn], time_column: str) -> pa.RecordBatch:
    """A storage scan batch (time ns UTC, dictionary tags, storage-typed fields) -> declared SQL types."""
    arrays = to_sql_arrays(batch.columns, batch.schema.names, cols, time_column)
    # (each array has its column's type already: naming them costs less than building the schema)
    return pa.RecordBatch.from_arrays(arrays, names=[c.name for c in cols])


def to_sql_arrays(
    arrays: list[pa.Array], names: list[str], cols: list[SqlColumn], time_column: str
) -> list[pa.Array]:
    """:func:`to_sql_batch` of a scan's columns ``arrays`` named ``names``: the columns ``cols``."""
    at = dict(zip(names, arrays, strict=True))
    out = []
    for c in cols:
        if c.kind == "time_ns":
            out.append(at[time_column].cast(pa.int64()))
            continue
        arr = at[c.name]
        if c.kind == "time":
            if arr.type == _NS_UTC and c.type.name == "timestamptz":  # (the one cast _from_ns ends with)
                arr = arr.cast(_US_UTC, safe=False)
            else:
                arr = _from_ns(arr.cast(pa.int64()), c.type)
        elif c.kind == "tag":
            if not pa.types.is_string(arr.type):
                arr = arr.cast(pa.string())
            if not pa.types.is_string(c.type.arrow):
                arr = arr.cast(c.type.arrow)
        else:
            arr = _field_to_sql(arr, c)
        out.append(arr)
    return out


def _from_ns(ns: pa.Array, t: pgt.PgType) -> pa.Array:
    if t.name == "timestamptz":
        return ns.cast(pa.timestamp("ns", tz="UTC")).cast(pa.timestamp("us", tz="UTC"), safe=False)
    if t.name == "timestamp":
        return ns.cast(pa.timestamp("ns")).cast(pa.timestamp("us"), safe=False)
    if t.name == "date":
        return pc.divide(ns, 86_400 * 10**9).cast(pa.int32()).cast(pa.date32())
    if t.name == "time":
        return ns.cast(pa.time64("ns")).cast(pa.time64("us"), safe=False)
    return ns


def _field_to_sql(arr: pa.Array, c: SqlColumn) -> pa.Array:
    want = c.type.arrow
    if c.type.name in ("timestamptz", "timestamp", "date", "time"):
        return _from_ns(arr, c.type)
    if c.type.name == "interval":
        return (
            pa.array(
                [None if v is None else pa.scalar(v, pa.duration("ns")).as_py() for v in arr.to_pylist()],
                pa.month_day_nano_interval(),
            )
            if len(arr)
            else pa.array([], pa.month_day_nano_interval())
        )
    if c.type.name == "bytea":
        return pa.array([None if v is None else bytes.fromhex(v) for v in arr.to_pylist()], pa.binary())
    if pa.types.is_list(want):  # an array column: its stored text (sql/arrays.py)
        return arrays.parse_column(arr, c.type.name[:-2])
    if arr.type == want:
        return arr
    return arr.cast(want, safe=False)


def to_sql_reader(
    batches: Iterator[pa.RecordBatch], cols: list[SqlColumn], time_column: str
) -> pa.RecordBatchReader:
    schema = arrow_schema(cols)
    return pa.RecordBatchReader.from_batches(schema, (to_sql_batch(b, cols, time_column) for b in batches))


# -- SQL rows -> storage write batch ------------------------------------------------------------------
def series_of(table: pa.Table, tag_names: list[str]) -> tuple[np.ndarray, list[tuple]]:
    """The rows' series: per row an index into the distinct tag sets (each a sorted tuple of
    (tag, value); a NULL is no tag, '' a value), one code per distinct combination, resolved once."""
    n = table.num_rows
    if not tag_names:
        return np.zeros(n, dtype=np.int64), [()]
    if n == 1 and all(pa.types.is_string(table.column(name).type) for name in tag_names):
        # (an ORM's one-row INSERT: its tag set as it is, ~25 us of encoding less)
        values = [(name, table.column(name)[0].as_py()) for name in tag_names]
        return np.zeros(1, dtype=np.int64), [tuple(sorted((k, v) for k, v in values if v is not None))]
    codes = np.zeros(n, dtype=np.int64)
    dicts = []
    for name in tag_names:
        col = table.column(name)
        if not pa.types.is_string(col.type):  # (a dictionary: each scan batch has one of its own)
            col = col.cast(pa.string())
        enc = col.combine_chunks().dictionary_encode()
        idx = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64) + 1
        codes = codes * (len(enc.dictionary) + 1) + idx
        dicts.append((name, enc.dictionary.to_pylist()))
    uniq, series = np.unique(codes, return_inverse=True)
    tag_sets = []
    for code in uniq.tolist():
        parts = []
        for name, values in reversed(dicts):
            code, i = divmod(code, len(values) + 1)
            if i:  # (0: NULL, no tag)
                parts.append((name, values[i - 1]))
        tag_sets.append(tuple(sorted(parts)))
    return series, tag_sets


def to_write_batch(meta: TableMeta, table: pa.Table, hidden_time_start: int | None = None) -> WriteBatch:
    """Rows in SQL types (columns by name; missing columns are NULL) -> a storage write batch."""
    cols = {c.name: c for c in sql_columns(meta)}
    n = table.num_rows
    for name in table.column_names:
        if name not in cols:
            raise DatatypeMismatch(f'column "{name}" of relation "{meta.name}" does not exist')
    # time
    if meta.time_column == HIDDEN_TIME:
        start = hidden_time_start or 0
        time = np.arange(start, start + n, dtype=np.int64)
    else:
        tcol = cols[meta.time_column]
        if tcol.name not in table.column_names:
            raise NotNullViolation(
                f'null value in column "{tcol.name}" of relation "{meta.name}" violates not-null constraint'
            )
        arr = table.column(tcol.name).combine_chunks()
        if arr.null_count:
            raise NotNullViolation(
                f'null value in column "{tcol.name}" of relation "{meta.name}" violates not-null constraint'
            )
        time = to_ns(arr, tcol.type)
    for c in cols.values():
        if c.not_null and c.kind != "time":
            if c.name not in table.column_names or table.column(c.name).null_count:
                raise NotNullViolation(
                    f'null value in column "{c.name}" of relation "{meta.name}" violates not-null constraint'
                )
    for name in (meta.options.get("enums") or {}).keys() & set(table.column_names):
        check_enum(meta, name, table.column(name).combine_chunks())  # 22P02 for a value no label
    table = _fit_lengths(meta, table)
    # tags: one code per distinct combination, resolved once per batch
    tag_names = [c.name for c in cols.values() if c.kind == "tag" and c.name in table.column_names]
    series, tag_sets = series_of(table, tag_names)
    fields: dict[str, Column] = {}
    for c in cols.values():
        if c.kind != "field" or c.name not in table.column_names:
            continue
        arr = table.column(c.name).combine_chunks()
        valid = (
            None if not arr.null_count else np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), bool)
        )
        fields[c.name] = Column(c.storage or FieldType.STRING, _field_to_storage(arr, c), valid)
    return WriteBatch(meta.name, time, tag_sets, series.astype(np.int32), fields)


def _fit_lengths(meta: TableMeta, table: pa.Table) -> pa.Table:
    """Values written to varchar(n) / char(n) columns, as PostgreSQL stores them: one longer than n
    characters is 22001, unless all it has past n are spaces (then cut to n). (char(n)'s blank
    padding is not kept: a shorter value is stored as written.)"""
    for c in meta.columns:
        if not c.pg_type or c.name not in table.column_names:
            continue
        limit = length_limit(c.pg_type)
        if limit is None:
            continue
        arr = table.column(c.name)
        if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
            continue
        longest = pc.max(pc.utf8_length(arr)).as_py()
        if longest is None or longest <= limit[0]:
            continue
        if (pc.max(pc.utf8_length(pc.utf8_rtrim(arr, characters=" "))).as_py() or 0) > limit[0]:
            raise StringDataRightTruncation(f"value too long for type {limit[1]}")
        fitted = pc.utf8_slice_codeunits(arr, 0, limit[0])
        table = table.set_column(table.column_names.index(c.name), c.name, fitted)
    return table


@functools.lru_cache(maxsize=1024)  # (every write batch asks, per column: ~3-9 us a lookup)
def length_limit(declared: str) -> tuple[int, str] | None:
    """(n, the type's name in PostgreSQL's message) of a varchar(n) / char(n) declaration, else None."""
    from sql.pgcatalog_model import typmod_of

    t = pgt.lookup(declared)
    if t.name not in ("varchar", "bpchar"):
        return None
    size = typmod_of(declared, t.name) - 4
    if size <= 0:
        return None
    return size, f"character varying({size})" if t.name == "varchar" else f"character({size})"


_NS_PER = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


def to_ns(arr: pa.Array, t: pgt.PgType) -> np.ndarray:
    if pa.types.is_timestamp(arr.type) and not arr.null_count and isinstance(arr, pa.Array):
        # (no NULL: the values' buffer scaled by numpy, where no ns value can leave int64; else the
        # casts below, which say which value does not fit)
        raw = arr.view(pa.int64()).to_numpy()
        per = _NS_PER[arr.type.unit]
        limit = np.iinfo(np.int64).max // per
        if not len(raw) or (int(raw.max()) <= limit and int(raw.min()) >= -limit):
            return raw * per
    if pa.types.is_timestamp(arr.type):
        if arr.type.tz is None and t.name == "timestamptz":
            arr = arr.cast(pa.timestamp(arr.type.unit, tz="UTC"))
        return arr.cast(pa.timestamp("ns", tz=arr.type.tz)).cast(pa.int64()).fill_null(0).to_numpy()
    if pa.types.is_date(arr.type):
        return (
            arr.cast(pa.date32()).cast(pa.int32()).fill_null(0).to_numpy().astype(np.int64) * 86_400 * 10**9
        )
    if pa.types.is_time(arr.type):
        return arr.cast(pa.time64("ns")).cast(pa.int64()).fill_null(0).to_numpy()
    if pa.types.is_integer(arr.type):
        return arr.cast(pa.int64()).fill_null(0).to_numpy()
    raise DatatypeMismatch(f"column is of type {t.sql_name} but expression is of type {arr.type}")


def _json_values(out: np.ndarray, arr: pa.Array, kind: str) -> None:
    """Check json values as PostgreSQL does on input (22P02), and store jsonb as the text it writes
    (sql/jsonb.py), so that reading a jsonb column back is free. One parse per value written, the
    work PostgreSQL's jsonb input does too."""
    present = np.flatnonzero(np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), bool))
    for i in present.tolist():
        if kind == "jsonb":
            out[i] = jsonb_text(out[i])
        else:
            jsonb_parse(out[i], "json")


def _numeric_values(values: np.ndarray, typ: pa.Decimal128Type) -> np.ndarray:
    """numeric(p, s) values as PostgreSQL stores them: rounded to s places (halves away from zero);
    22003 for one whose rounding has more than p - s digits before the point (stored as float64
    and read as decimal(p, s), it would come back as another number)."""
    scale = 10.0**typ.scale
    rounded = np.sign(values) * np.floor(np.abs(values) * scale + 0.5) / scale
    limit = 10.0 ** (typ.precision - typ.scale)
    if len(rounded) and not bool((np.abs(rounded) < limit).all()):
        raise NumericValueOutOfRange(
            "numeric field overflow",
            detail=f"A field with precision {typ.precision}, scale {typ.scale} must round to an absolute"
            f" value less than {'1' if typ.precision == typ.scale else f'10^{typ.precision - typ.scale}'}.",
        )
    return rounded


def _field_to_storage(arr: pa.Array, c: SqlColumn) -> np.ndarray:
    st = c.storage or FieldType.STRING
    if c.type.name in ("timestamptz", "timestamp", "date", "time"):
        return to_ns(arr, c.type)
    if c.type.name == "interval":
        return np.array(
            [
                0 if v is None else v.months * 30 * 86_400 * 10**9 + v.days * 86_400 * 10**9 + v.nanoseconds
                for v in arr.to_pylist()
            ],
            dtype=np.int64,
        )
    if c.type.name == "bytea":
        out = np.empty(len(arr), dtype=object)
        out[:] = ["" if v is None else bytes(v).hex() for v in arr.to_pylist()]
        return out
    if pa.types.is_list(c.type.arrow):  # an array column: its canonical text (sql/arrays.py)
        return arrays.to_storage(arr, c.type.name[:-2], c.type.sql_name)
    if st is FieldType.STRING:
        if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
            arr = arr.cast(pa.string())
        out = np.empty(len(arr), dtype=object)
        out[:] = (arr.fill_null("") if arr.null_count else arr).to_pylist()
        if c.type.name in ("json", "jsonb"):
            _json_values(out, arr, c.type.name)
        return out
    try:
        if st is FieldType.BOOLEAN:
            if arr.type != pa.bool_():
                arr = arr.cast(pa.bool_())
            return (arr.fill_null(False) if arr.null_count else arr).to_numpy(zero_copy_only=False)
        target = (
            pa.float64() if st is FieldType.FLOAT else pa.int64() if st is FieldType.INTEGER else pa.uint64()
        )
        if arr.type != target:  # (each compute call costs ~5-10 us, most of a one-row INSERT's field)
            arr = arr.cast(target)
        out = (arr.fill_null(0) if arr.null_count else arr).to_numpy(zero_copy_only=False)
        if pa.types.is_decimal(c.type.arrow):
            return _numeric_values(out, c.type.arrow)
        return out
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InvalidTextRepresentation(f"invalid input syntax for type {c.type.sql_name}: {exc}") from exc
