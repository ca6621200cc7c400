"""DataRow framing of a whole batch (the body of :func:`pgwire.messages.encode_data_rows`).

One numba kernel (``_kernels.data_rows``) writes the rows whole, front to back, into one buffer: one pass
over the output, where a pass per column would walk the whole (megabytes) buffer once per column and miss
the cache on every value. It reads the columns where they are, through a table of addresses built here:
Arrow's buffers for a ``var`` column, the numpy arrays for a matrix or kernel offsets + bytes. Building
the table costs well under a microsecond a column, so a batch of ten rows pays little for it.
"""

from __future__ import annotations

import struct

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numba import njit

from pgwire.messages import WireColumn
from pgwire.types._base import Context, encode_column
from pgwire.types._kernels import (
    COL_BIT0,
    COL_BITS,
    COL_COUNT,
    COL_DATA,
    COL_DATA_SIZE,
    COL_KIND,
    COL_NULLS,
    COL_OFFSET_SIZE,
    COL_OFFSETS,
    COL_UNIT,
    COL_WIDTH,
    COLUMN_FIELDS,
    KIND_DICTIONARY,
    KIND_FLOAT8,
    KIND_INT,
    KIND_TIMESTAMP,
    ODD_VALUE,
    VALUE_TEXT_MAX,
    data_rows,
)
from pgwire.types.datetime import UTC_NAMES
from pgwire.types.text import BPCHAR_OID, CHAR_OID, NAME_OID, TEXT_OID, UNKNOWN_OID, VARCHAR_OID

# the Arrow arrays read as they are, by class (a class lookup is much cheaper than testing the type):
# the size of their offsets and how to read one
_VAR = {
    pa.StringArray: (4, struct.Struct("<i")),
    pa.BinaryArray: (4, struct.Struct("<i")),
    pa.LargeStringArray: (8, struct.Struct("<q")),
    pa.LargeBinaryArray: (8, struct.Struct("<q")),
}


@njit(cache=True, nogil=True)
def _address(a: np.ndarray) -> int:
    """Where a contiguous array's data starts (cheaper than ``a.ctypes.data`` or the array interface)."""
    return a.ctypes.data


def _var_entry(var: pa.Array, n: int, row: list[int], keep: list[object]) -> int:
    """Fill ``row`` for an Arrow variable-width array; returns its bytes for the n rows."""
    reader = _VAR.get(type(var))
    if reader is None:
        if pa.types.is_dictionary(var.type):
            var = var.dictionary_decode()
        reader = _VAR.get(type(var))
        if reader is None:
            var = var.cast(pa.large_binary())
            reader = _VAR[pa.LargeBinaryArray]
        keep.append(var)
    if len(var) < n:
        raise ValueError("column shorter than the batch")
    size, word = reader
    validity, offsets, data = var.buffers()
    first_at = var.offset * size
    if offsets is None or offsets.size < first_at + (n + 1) * size:
        raise ValueError("offsets shorter than the batch")
    first = word.unpack_from(offsets, first_at)[0]
    last = word.unpack_from(offsets, first_at + n * size)[0]
    data_size = 0 if data is None else data.size
    if first < 0 or last < first or last > data_size:
        raise ValueError("offsets outside the column's data")
    row[COL_DATA] = 0 if data is None else data.address
    row[COL_DATA_SIZE] = data_size
    row[COL_OFFSETS] = offsets.address + first_at
    row[COL_OFFSET_SIZE] = size
    if validity is not None and var.null_count:
        if validity.size * 8 < var.offset + n:
            raise ValueError("validity bitmap shorter than the batch")
        row[COL_BITS] = validity.address
        row[COL_BIT0] = var.offset
    return last - first


def frame_rows(columns: list[WireColumn], n: int, type_code: int) -> memoryview:
    """``n`` messages of ``type_code`` (DataRow 'D', or 'd' for binary COPY rows), one value of each
    column in each. Every column must hold at least ``n`` rows.

    The result is a read-only view of the kernel's own buffer, not a bytes copy of it: copying a few
    megabytes into fresh memory costs more than writing them (page faults), and every caller copies the
    rows once more anyway (into the connection's output buffer).
    """
    flat: list[int] = []
    keep: list[object] = []  # arrays made here that the table points into: alive until the kernel returns
    bound = n * (1 + 4 + 2 + 4 * len(columns))
    for col in columns:
        row = [0] * COLUMN_FIELDS
        bound += _wire_entry(col, n, row, keep)
        flat += row
    written, out = _frame(flat, len(columns), n, type_code, bound)
    if written < 0:  # offsets that go back or past the data (not a valid Arrow array)
        raise ValueError("column offsets are not monotonic inside the column's data")
    del keep
    return memoryview(out)[:written].toreadonly()


def text_rows(
    arrays: list[pa.Array], oids: list[int], formats: list[int], ctx: Context, n: int
) -> memoryview:
    """DataRows of ``n`` rows of ``arrays`` (Arrow arrays of at least ``n`` rows, sent as ``oids`` in
    ``formats``), as ``frame_rows`` of each column's ``encode_column`` gives them.

    Text of integers, float8, and timestamps in UTC (timestamptz in a UTC session, timestamp of a naive
    array), the common result columns, is written by the framing kernel itself straight from the Arrow
    buffer: no text column in between and one kernel call for the batch, where each column's encoder
    costs some ~5-15 us of numpy and kernel calls even for ten rows. A timestamp that kernel does not
    write (infinite, or a year outside 1-9999) sends the batch through the encoders. Arrow strings of
    a string type are read where they are (as their encoder would hand them on)."""
    flat: list[int] = []
    keep: list[object] = []
    bound = n * (1 + 4 + 2 + 4 * len(arrays))
    utc = ctx.timezone in UTC_NAMES
    direct = False
    for arr, oid, fmt in zip(arrays, oids, formats, strict=True):
        row = [0] * COLUMN_FIELDS
        cls = type(arr)
        if oid in _STRING_OIDS and cls in _VAR:  # strings go as they are, in text and binary
            size = _var_entry(arr, n, row, keep)
        elif (
            oid in _STRING_OIDS
            and cls is pa.DictionaryArray
            and (span := _dictionary_entry(arr, n, row, keep)) >= 0
        ):
            size = n * (span if span <= _DICTIONARY_BOUND else _longest(arr.dictionary))
        else:
            size = _text_entry(arr, oid, utc, n, row) if fmt == 0 else -1
            if size < 0:
                wire = encode_column(arr, oid, fmt, ctx)
                keep.append(wire)
                size = _wire_entry(wire, n, row, keep)
            else:
                direct = True
        bound += size
        flat += row
    written, out = _frame(flat, len(arrays), n, ord("D"), bound)
    if written == ODD_VALUE and direct:
        wire = [encode_column(a, oid, fmt, ctx) for a, oid, fmt in zip(arrays, oids, formats, strict=True)]
        return frame_rows(wire, n, ord("D"))
    if written < 0:
        raise ValueError("column offsets are not monotonic inside the column's data")
    del keep, arrays
    return memoryview(out)[:written].toreadonly()


def _frame(flat: list[int], ncols: int, n: int, type_code: int, bound: int) -> tuple[int, np.ndarray]:
    table = np.array(flat, np.int64).reshape(ncols, COLUMN_FIELDS)
    out = np.empty(bound, np.uint8)
    return data_rows(out, table, n, type_code), out


# Arrow array classes whose values data_rows writes as text itself, for the OIDs that send them so
_INTEGERS = {pa.Int64Array: 8, pa.Int32Array: 4, pa.Int16Array: 2, pa.Int8Array: 1}
_INTEGER_OIDS = frozenset({20, 21, 23, 26})  # int8, int2, int4, oid
_FLOAT8_OID, _TIMESTAMP_OID, _TIMESTAMPTZ_OID = 701, 1114, 1184
# the string types (string_column): an Arrow string or binary array is sent as it is, in text and binary
_STRING_OIDS = frozenset({TEXT_OID, VARCHAR_OID, NAME_OID, BPCHAR_OID, CHAR_OID, UNKNOWN_OID})
_UNITS = {"us": 1, "ns": 1000}


def _text_entry(arr: pa.Array, oid: int, utc: bool, n: int, row: list[int]) -> int:
    """Fill ``row`` for data_rows to write ``arr``'s values as ``oid``'s text itself; returns the bytes its
    n values take at most, or -1 when it cannot (the column is encoded first)."""
    cls = type(arr)
    width = _INTEGERS.get(cls)
    unit = 0
    if width is not None:
        if oid in _INTEGER_OIDS:
            row[COL_KIND] = KIND_INT
            row[COL_WIDTH] = width
        elif width == 8 and (oid == _TIMESTAMP_OID or (oid == _TIMESTAMPTZ_OID and utc)):
            unit = 1000  # the storage engine's int64 nanoseconds since 1970
        else:
            return -1
    elif cls is pa.DoubleArray and oid == _FLOAT8_OID:
        row[COL_KIND] = KIND_FLOAT8
        width = 8
    elif cls is pa.TimestampArray:
        t = arr.type
        zoned = t.tz is not None
        if not ((oid == _TIMESTAMPTZ_OID and utc) or (oid == _TIMESTAMP_OID and not zoned)):
            return -1
        unit = _UNITS.get(t.unit, 0)
        if not unit:
            return -1
        width = 8
    else:
        return -1
    if unit:
        row[COL_KIND] = KIND_TIMESTAMP
        row[COL_UNIT] = unit
        row[COL_WIDTH] = 1 if oid == _TIMESTAMPTZ_OID else 0  # the suffix +00
    if len(arr) < n:
        raise ValueError("column shorter than the batch")
    validity, data = arr.buffers()[:2]
    offset = arr.offset
    if data is None or data.size < (offset + n) * width:
        raise ValueError("values buffer shorter than the batch")
    row[COL_DATA] = data.address + offset * width
    if validity is not None and arr.null_count:
        row[COL_BITS] = validity.address
        row[COL_BIT0] = offset
    return n * VALUE_TEXT_MAX


_DICTIONARY_BOUND = 64  # a dictionary of more bytes is bounded by its longest value


def _dictionary_entry(arr: pa.DictionaryArray, n: int, row: list[int], keep: list[object]) -> int:
    """Fill ``row`` for data_rows to write the dictionary's values of ``arr``'s indices itself (signed
    indices, a string or binary dictionary without NULLs); returns the bytes of all the dictionary's
    values, or -1 when it cannot (the column is decoded first)."""
    indices = arr.indices
    width = _INTEGERS.get(type(indices))
    dictionary = arr.dictionary
    if width is None or type(dictionary) not in _VAR or dictionary.null_count:
        return -1
    if len(indices) < n:
        raise ValueError("column shorter than the batch")
    span = _var_entry(dictionary, len(dictionary), row, keep)
    validity, data = indices.buffers()[:2]
    offset = indices.offset
    if data is None or data.size < (offset + n) * width:
        raise ValueError("index buffer shorter than the batch")
    row[COL_KIND] = KIND_DICTIONARY
    row[COL_UNIT] = row[COL_DATA]
    row[COL_DATA] = data.address + offset * width
    row[COL_WIDTH] = width
    row[COL_COUNT] = len(dictionary)
    if validity is not None and indices.null_count:
        row[COL_BITS] = validity.address
        row[COL_BIT0] = offset
    keep.append(arr)
    return span


def _longest(values: pa.Array) -> int:
    """The byte length of the longest of ``values`` (a string or binary array)."""
    if not len(values):
        return 0
    return int(pc.max(pc.binary_length(values)).as_py() or 0)


def _wire_entry(col: WireColumn, n: int, row: list[int], keep: list[object]) -> int:
    """Fill ``row`` for an encoded column; returns its bytes for the n rows."""
    bound = 0
    if col.fixed is not None:
        fixed = np.ascontiguousarray(col.fixed, np.uint8)
        if fixed.ndim != 2 or fixed.shape[0] < n:
            raise ValueError("fixed-width column shorter than the batch")
        keep.append(fixed)
        width = fixed.shape[1]
        row[COL_DATA] = _address(fixed) if fixed.size else 0
        row[COL_DATA_SIZE] = fixed.size
        row[COL_WIDTH] = width
        bound += n * width
    elif col.offsets is not None:
        assert col.data is not None
        data = np.ascontiguousarray(col.data, np.uint8)
        offsets = col.offsets
        if offsets.dtype != np.int32:
            offsets = offsets.astype(np.int64, copy=False)
        offsets = np.ascontiguousarray(offsets)
        keep.append(data)
        keep.append(offsets)
        if offsets.size < n + 1:
            raise ValueError("offsets shorter than the batch")
        first, last = int(offsets[0]), int(offsets[n])
        if first < 0 or last < first or last > data.size:
            raise ValueError("offsets outside the column's data")
        row[COL_DATA] = _address(data) if data.size else 0
        row[COL_DATA_SIZE] = data.size
        row[COL_OFFSETS] = _address(offsets)
        row[COL_OFFSET_SIZE] = offsets.itemsize
        bound += last - first
    else:
        var = col.var
        assert var is not None
        bound += _var_entry(var, n, row, keep)
    nulls = col.nulls
    if nulls is not None and nulls.size:
        nulls = np.ascontiguousarray(nulls, np.bool_)
        if nulls.size < n:
            raise ValueError("NULL mask shorter than the batch")
        keep.append(nulls)
        row[COL_NULLS] = _address(nulls)
    return bound
