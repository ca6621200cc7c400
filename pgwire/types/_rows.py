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
from numba import njit

from pgwire.messages import WireColumn
from pgwire.types._kernels import (
    COL_BIT0,
    COL_BITS,
    COL_DATA,
    COL_DATA_SIZE,
    COL_NULLS,
    COL_OFFSET_SIZE,
    COL_OFFSETS,
    COL_WIDTH,
    COLUMN_FIELDS,
    data_rows,
)

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
    ncols = len(columns)
    flat: list[int] = []
    keep: list[
        object
    ] = []  # arrays made here whose addresses the table holds: alive until the kernel returns
    bound = n * (1 + 4 + 2 + 4 * ncols)
    for col in columns:
        row = [0] * COLUMN_FIELDS
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
        flat += row
    table = np.array(flat, np.int64).reshape(ncols, COLUMN_FIELDS)
    out = np.empty(bound, np.uint8)
    written = data_rows(out, table, n, type_code)
    if written < 0:  # offsets that go back or past the data (not a valid Arrow array)
        raise ValueError("column offsets are not monotonic inside the column's data")
    del keep
    return memoryview(out)[:written].toreadonly()
