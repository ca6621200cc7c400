"""DataRow framing of a whole batch (the body of :func:`pgwire.messages.encode_data_rows`).

One numba kernel (``_kernels.data_rows``) writes the rows whole, front to back, into one buffer: one pass
over the output, where a pass per column would walk the whole (megabytes) buffer once per column and miss
the cache on every value. It reads the columns where they are, through a table of addresses built here:
Arrow's buffers for a ``var`` column, the numpy arrays for a matrix or kernel offsets + bytes. Building
the table costs well under a microsecond a column, so a batch of ten rows pays little for it.
"""

from __future__ import annotations

import ctypes
import struct

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numba import njit

from pgwire.messages import WireColumn
from pgwire.types._base import Context, encode_column
from pgwire.types._kernels import (
    ARROW_ARRAY_WORDS,
    ARROW_SCHEMA_WORDS,
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
    KIND_BYTES,
    KIND_DICTIONARY,
    KIND_FLOAT8,
    KIND_INT,
    KIND_TIMESTAMP,
    NOT_PLANNED,
    ODD_VALUE,
    READ_DICTIONARY,
    READ_FIXED,
    READ_VAR,
    VALUE_TEXT_MAX,
    batch_rows,
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


class BatchRows:
    """DataRows of whole record batches, as :func:`text_rows` of their columns writes them (the same
    bytes), for a connection's results: what the columns are (Arrow types, OIDs, formats, the session's
    zone) is worked out once and kept (:class:`_Plan`), and the batch reaches the kernel as Arrow's C data
    interface exports it, one call (``RecordBatch._export_to_c``), where text_rows takes each column as
    a Python array and reads its buffers (``batch.columns`` alone costs ~0.85 us a column). The kernel
    checks the exported types against the plan's (comparing a new result's schema with
    ``Schema.equals`` computes its fingerprint: ~18 us for 21 columns). TSBS high-cpu-1's 21 columns
    (timestamp, ten tags, ten integers): ~42 -> ~7 us before the kernel, whatever the row count. A batch
    the plan does not cover (a type the kernel does not write itself, a timestamp it does not write,
    a dictionary with NULL values, field metadata) goes to text_rows.

    One per connection: not to be used by two threads at once (the export goes to its own buffers).
    """

    __slots__ = ("_array", "_array_at", "_plan", "_schema", "_schema_at")

    def __init__(self) -> None:
        self._plan: _Plan | None = None
        self._array = np.zeros(ARROW_ARRAY_WORDS, np.int64)
        self._schema = np.zeros(ARROW_SCHEMA_WORDS, np.int64)
        self._array_at, self._schema_at = _address(self._array), _address(self._schema)

    def encode(self, batch: pa.RecordBatch, oids: list[int], formats: list[int], ctx: Context) -> memoryview:
        """DataRows of every row of ``batch`` (its columns sent as ``oids`` in ``formats``)."""
        n = batch.num_rows
        utc = ctx.timezone in UTC_NAMES
        plan = self._plan
        if plan is None or plan.utc is not utc or plan.oids != oids or plan.formats != formats:
            plan = self._plan = _Plan(batch.schema, oids, formats, utc)
        elif plan.template is None and not plan.schema.equals(batch.schema):
            plan = self._plan = _Plan(batch.schema, oids, formats, utc)  # (the kernel checks the others)
        if plan.template is not None and n:
            written, out = self._rows(batch, plan, n)
            if written == NOT_PLANNED:  # other column types than last time
                plan = self._plan = _Plan(batch.schema, oids, formats, utc)
                if plan.template is not None:
                    written, out = self._rows(batch, plan, n)
            if written >= 0:
                return memoryview(out)[:written].toreadonly()
        return text_rows(batch.columns, oids, formats, ctx, n)

    def _rows(self, batch: pa.RecordBatch, plan: _Plan, n: int) -> tuple[int, np.ndarray]:
        try:
            batch._export_to_c(self._array_at, self._schema_at)
        except pa.ArrowException:  # (a type without a C data interface form: text_rows encodes it)
            return -1, self._array
        return batch_rows(plan.template, plan.reads, plan.expected, self._array_at, self._schema_at, n, 68)  # type: ignore[arg-type,no-any-return]


class _Plan:
    """How batch_rows reads the columns of one schema sent as ``oids`` in ``formats``: its column table
    with what the types decide (``template``), where each column's values are (``reads``), and the
    formats the C data interface gives those types (``expected``); no template when a column is of a
    type the kernel does not write (text_rows encodes it) or has metadata."""

    __slots__ = ("expected", "formats", "oids", "reads", "schema", "template", "utc")

    def __init__(self, schema: pa.Schema, oids: list[int], formats: list[int], utc: bool) -> None:
        self.schema, self.oids, self.formats, self.utc = schema, list(oids), list(formats), utc
        ncols = len(schema)
        template = np.zeros((ncols, COLUMN_FIELDS), np.int64)
        reads = np.zeros((ncols, 3), np.int64)
        ok = ncols > 0 and ncols == len(oids) == len(formats)
        for c in range(ncols if ok else 0):
            field = schema.field(c)
            if field.metadata or not _plan_column(
                field.type, oids[c], formats[c], utc, template[c], reads[c]
            ):
                ok = False
                break
        self.template = template if ok else None
        self.reads = reads
        self.expected = _exported_formats(schema) if ok else np.zeros(0, np.uint8)


def _exported_formats(schema: pa.Schema) -> np.ndarray:
    """The format strings of the schema's columns as the C data interface exports them, each
    NUL-terminated, a dictionary's followed by its values' (what batch_rows compares with)."""
    words = (ctypes.c_int64 * ARROW_SCHEMA_WORDS)()
    schema._export_to_c(ctypes.addressof(words))
    try:
        out = bytearray()
        children = (ctypes.c_int64 * int(words[4])).from_address(words[5]) if words[4] else ()
        for child in children:
            column = (ctypes.c_int64 * ARROW_SCHEMA_WORDS).from_address(child)
            out += ctypes.string_at(column[0]) + b"\0"
            if column[6]:
                dictionary = (ctypes.c_int64 * ARROW_SCHEMA_WORDS).from_address(column[6])
                out += ctypes.string_at(dictionary[0]) + b"\0"
    finally:
        ctypes.CFUNCTYPE(None, ctypes.c_void_p)(words[7])(ctypes.addressof(words))
    return np.frombuffer(bytes(out), np.uint8).copy()


_INTEGER_TYPES = {pa.int64(): 8, pa.int32(): 4, pa.int16(): 2, pa.int8(): 1}
_OFFSET_SIZES = {pa.string(): 4, pa.binary(): 4, pa.large_string(): 8, pa.large_binary(): 8}


def _plan_column(t: pa.DataType, oid: int, fmt: int, utc: bool, row: np.ndarray, read: np.ndarray) -> bool:
    """Fill a column's ``row`` of the template and its ``read`` as text_rows would take an array of type
    ``t`` sent as ``oid`` in ``fmt`` (strings as they are, in text and binary; integers, float8 and UTC
    timestamps written as text by the kernel); False when text_rows would encode it first."""
    if oid in _STRING_OIDS:
        size = _OFFSET_SIZES.get(t)
        if size is not None:
            row[COL_KIND] = KIND_BYTES
            read[:2] = (READ_VAR, size)
            return True
        if pa.types.is_dictionary(t):
            width = _INTEGER_TYPES.get(t.index_type)
            size = _OFFSET_SIZES.get(t.value_type)
            if width is None or size is None:
                return False
            row[COL_KIND] = KIND_DICTIONARY
            row[COL_WIDTH] = width
            read[:] = (READ_DICTIONARY, width, size)
            return True
        return False
    if fmt != 0:
        return False
    width = _INTEGER_TYPES.get(t)
    unit = 0
    zoned = oid == _TIMESTAMPTZ_OID
    if width is not None:
        if oid in _INTEGER_OIDS:
            row[COL_KIND] = KIND_INT
            row[COL_WIDTH] = width
        elif width == 8 and (oid == _TIMESTAMP_OID or (zoned and utc)):
            unit = 1000  # the storage engine's int64 nanoseconds since 1970
        else:
            return False
    elif t == pa.float64() and oid == _FLOAT8_OID:
        row[COL_KIND] = KIND_FLOAT8
        width = 8
    elif pa.types.is_timestamp(t):
        if not ((zoned and utc) or (oid == _TIMESTAMP_OID and t.tz is None)):
            return False
        unit = _UNITS.get(t.unit, 0)
        if not unit:
            return False
        width = 8
    else:
        return False
    if unit:
        row[COL_KIND] = KIND_TIMESTAMP
        row[COL_UNIT] = unit
        row[COL_WIDTH] = 1 if zoned else 0  # the suffix +00
    read[:2] = (READ_FIXED, width)
    return True
