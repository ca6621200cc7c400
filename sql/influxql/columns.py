"""Arrow result columns as typed :class:`~sql.influxql.functions.Col` (values, validity, kind), and
InfluxQL expressions (arithmetic, math calls, literals, casts) evaluated over them, vectorised."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa

from sql import arrays
from sql.influxql import ast as A
from sql.influxql.compile import MATH_FUNCTIONS
from sql.influxql.functions import BOOLEAN, FLOAT, INTEGER, NUMERIC, STRING, UNSIGNED, Col, binary, math_call


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
    t = type(e)
    if t is A.VarRef or (t is A.Call and e.name not in MATH_FUNCTIONS):  # type: ignore[attr-defined]
        return lookup(e)  # (most fields: a reference or a call, what the checks below come to)
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


def text_cols(table: pa.Table) -> dict[str, Col]:
    """arrow_col of every text column of ``table`` (tags, string fields), with one dictionary over
    all of them: SELECT *'s ten tag columns are encoded by one kernel call, not ten; a column of
    one text (in a result of enough rows) has a dictionary of its own, found without hashing."""
    names = [f.name for f in table.schema if pa.types.is_string(f.type)]
    n = table.num_rows
    out = {}
    if n >= _ONE_TEXT_ROWS:
        # a column whose rows hold one text (a series' tags: all of a one-host query's) is found from
        # its buffers, without hashing each row's text (~20 ns a row): its one word, code 0
        varying = []
        codes = np.zeros(n, np.int64)  # (shared by those columns, read-only: no Col changes its arrays)
        codes.flags.writeable = False
        valid = all_valid(n)
        for name in names:
            word = _one_text(_single(table.column(name)))
            if word is None:
                varying.append(name)
                continue
            values = np.empty(n, object)
            values.fill(word)
            out[name] = Col(values, valid, STRING, codes, np.array([word, None], dtype=object))
        names = varying
    if len(names) < 2:
        out.update((name, arrow_col(table.column(name), STRING)) for name in names)
        return out
    enc = pa.concat_arrays([_single(table.column(name)) for name in names]).dictionary_encode()
    nwords = len(enc.dictionary)
    words = np.array(enc.dictionary.to_pylist() + [None], dtype=object)
    codes = enc.indices.fill_null(nwords) if enc.null_count else enc.indices
    idx = codes.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    for j, name in enumerate(names):
        part = idx[j * n : (j + 1) * n]
        valid = part != nwords if enc.null_count else np.ones(n, bool)
        out[name] = Col(words[part], valid, STRING, part, words)
    return out


_ONE_TEXT_ROWS = 64  # below, hashing every text costs less than a column's buffer checks


def _one_text(arr: pa.Array) -> str | None:
    """The text of a string column whose rows all hold the same one (no nulls), None otherwise:
    every row as long as the first (its offsets that progression), and the bytes repeating with
    that period (the data equal to itself shifted by one row). Buffers compared by memcmp."""
    n = len(arr)
    if arr.null_count:
        return None
    _validity, offsets_buf, data_buf = arr.buffers()
    offsets_buf = offsets_buf.slice(arr.offset * 4, 4 * (n + 1))
    offsets = memoryview(offsets_buf).cast("i")  # (three of them read: no numpy array to make)
    lo, end = offsets[0], offsets[n]
    width = offsets[1] - lo
    if end - lo != width * n:
        return None
    if not width:
        return "" if lo == end else None
    if not _progression(lo, width, n).equals(offsets_buf):
        return None
    if not data_buf.slice(lo + width, end - lo - width).equals(data_buf.slice(lo, end - lo - width)):
        return None
    return data_buf.slice(lo, width).to_pybytes().decode()


_PROGRESSIONS: dict[int, pa.Buffer] = {}  # width -> offsets 0, width, 2 * width, ... (int32)
_KEPT_PROGRESSION_ROWS = 1 << 16  # (at most 64 widths kept of 256 KiB)


def _progression(lo: int, width: int, n: int) -> pa.Buffer:
    """The offsets of ``n`` rows of ``width`` bytes from ``lo``: from offsets kept by width for
    ``lo`` 0 (the columns of one text a result repeats, the tags of one series: few widths)."""
    if lo or n > _KEPT_PROGRESSION_ROWS:
        return pa.py_buffer(np.arange(lo, lo + width * n + 1, width, dtype=np.int32))
    buf = _PROGRESSIONS.get(width)
    if buf is None or buf.size < 4 * (n + 1):
        if len(_PROGRESSIONS) >= 64:
            _PROGRESSIONS.clear()
        rows = max(n, 1024 if buf is None else min(2 * (buf.size // 4), _KEPT_PROGRESSION_ROWS))
        buf = _PROGRESSIONS[width] = pa.py_buffer(np.arange(0, width * rows + 1, width, dtype=np.int32))
    return buf.slice(0, 4 * (n + 1))


def _single(arr: pa.ChunkedArray | pa.Array) -> pa.Array:
    if isinstance(arr, pa.ChunkedArray):
        return arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    return arr


_ALL_VALID = np.ones(1 << 16, bool)
_ALL_VALID.flags.writeable = False


def all_valid(n: int) -> np.ndarray:
    """A validity of ``n`` rows all valid: a read-only view of one kept array (np.ones costs ~1.7 us
    a column; no Col changes its arrays in place, and a read-only one raises if it would)."""
    return _ALL_VALID[:n] if n <= len(_ALL_VALID) else np.ones(n, bool)


def every_valid(valid: np.ndarray) -> bool:
    """``valid.all()``, known without a pass for a view of all_valid's read-only array of trues."""
    return valid.base is _ALL_VALID or bool(valid.all())


_INT64, _FLOAT64 = pa.int64().id, pa.float64().id  # SQL's usual results: a view of their buffer


def arrow_col(arr: pa.ChunkedArray | pa.Array, kind: str | None = None) -> Col:
    t = arr.type.id
    if (t == _INT64 or (t == _FLOAT64 and kind != UNSIGNED)) and not arr.null_count:
        # (a chunked array's to_numpy: ~0.5 us where its chunk's costs ~1.5)
        values = arr.to_numpy()
        return Col(values, all_valid(len(values)), INTEGER if t == _INT64 else FLOAT)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    t = arr.type
    nulls = arr.null_count
    if nulls:
        valid = np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    else:
        valid = all_valid(len(arr))
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        arr = arr.dictionary_encode()  # each distinct text becomes one Python string
        t = arr.type
    if pa.types.is_dictionary(t):
        if pa.types.is_string(t.value_type) or pa.types.is_large_string(t.value_type):
            # tags: each distinct value converted once
            words = np.array(arr.dictionary.to_pylist() + [None], dtype=object)
            idx = arr.indices
            idx = (idx.fill_null(len(arr.dictionary)) if nulls else idx).to_numpy(zero_copy_only=False)
            return Col(words[idx], valid, STRING, idx, words)
        arr = arr.dictionary_decode()
        t = arr.type
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        vals = _numbers(arr, pa.float64(), nulls)
        k = FLOAT
    elif pa.types.is_unsigned_integer(t):
        vals = _numbers(arr, pa.uint64(), nulls)
        k = UNSIGNED
    elif pa.types.is_integer(t):
        vals = _numbers(arr, pa.int64(), nulls)
        k = INTEGER
    elif pa.types.is_boolean(t):
        vals = arr.fill_null(False).to_numpy(zero_copy_only=False).astype(bool)
        k = BOOLEAN
    elif pa.types.is_null(t):
        return Col.nulls(len(arr), kind or FLOAT)
    elif pa.types.is_timestamp(t):
        vals = arr.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()).fill_null(0).to_numpy() * 1000
        k = INTEGER
    elif pa.types.is_list(t) and (element := arrays.element_of_arrow(t.value_type)) is not None:
        # an array column of a SQL table (sql/arrays.py): a string field holding its text, as stored
        vals = arrays.to_storage(arr, element, "")
        k = STRING
    else:
        vals = arr.cast(pa.string()).to_numpy(zero_copy_only=False).astype(object, copy=False)
        k = STRING
    if kind == UNSIGNED and k == FLOAT:
        vals = vals.astype(np.uint64)
        k = UNSIGNED
    return Col(vals, valid, k)


def _numbers(arr: pa.Array, to: pa.DataType, nulls: int) -> np.ndarray:
    """``arr`` as a numpy array of ``to``, nulls as 0 (no Arrow call that would change nothing)."""
    if arr.type != to:
        arr = arr.cast(to)
    if nulls:
        arr = arr.fill_null(0)
    return arr.to_numpy(zero_copy_only=False)


_TIMESTAMP_US = pa.timestamp("us").id


def time_ns(arr: pa.ChunkedArray) -> np.ndarray:
    t = arr.type
    if t.id == _TIMESTAMP_US and t.unit == "us" and not arr.null_count:  # SQL's times: a view
        return arr.to_numpy().view(np.int64) * 1000
    if t.id == _INT64 and not arr.null_count:  # stored times' nanoseconds (sql.tables.TIME_NS)
        return arr.to_numpy()
    if isinstance(arr, pa.ChunkedArray):
        a = arr.chunk(0) if arr.num_chunks == 1 else arr.combine_chunks()
    else:
        a = arr
    if pa.types.is_null(a.type):
        return np.zeros(len(a), np.int64)
    if pa.types.is_timestamp(a.type):
        a = a.cast(pa.timestamp("us", tz="UTC") if a.type.tz else pa.timestamp("us"))
        return a.cast(pa.int64()).fill_null(0).to_numpy() * 1000
    return a.cast(pa.int64()).fill_null(0).to_numpy()
