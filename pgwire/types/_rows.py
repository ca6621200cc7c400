"""DataRow framing of a whole batch (the body of :func:`pgwire.messages.encode_data_rows`).

The columns arrive as the framing layouts of ``pgwire.messages._layout``: (data, offsets, width, nulls,
validity bits, first bit), numpy views with no copy. One numba kernel (``_kernels.data_rows``) then
writes the rows whole, front to back, into one buffer: one pass over the output, where a pass per column
would walk the whole (megabytes) buffer once per column and miss the cache on every value.
"""

from __future__ import annotations

import numpy as np

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

Layout = tuple[np.ndarray, np.ndarray, int, np.ndarray, np.ndarray, int]


def _address(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


def frame_rows(layouts: list[Layout], n: int, type_code: int) -> memoryview:
    """``n`` messages of ``type_code`` (DataRow 'D', or 'd' for binary COPY rows), one value per layout
    in each. Every layout must describe at least ``n`` rows.

    The result is a read-only view of the kernel's own buffer, not a bytes copy of it: copying a few
    megabytes into fresh memory costs more than writing them (page faults), and every caller copies the
    rows once more anyway (into the connection's output buffer).
    """
    ncols = len(layouts)
    table = np.zeros((ncols, COLUMN_FIELDS), np.int64)
    keep = []  # the arrays whose addresses the table holds: alive until the kernel returns
    bound = n * (1 + 4 + 2 + 4 * ncols)
    for c, (data, offsets, width, nulls, bits, bit0) in enumerate(layouts):
        row = table[c]
        data = np.ascontiguousarray(data, np.uint8)
        keep.append(data)
        row[COL_DATA] = _address(data)
        row[COL_DATA_SIZE] = data.size
        if width >= 0:
            if data.size < n * width:
                raise ValueError("fixed-width column shorter than the batch")
            row[COL_WIDTH] = width
            bound += n * width
        else:
            if offsets.dtype != np.int32:
                offsets = offsets.astype(np.int64, copy=False)
            offsets = np.ascontiguousarray(offsets)
            if offsets.size < n + 1:
                raise ValueError("offsets shorter than the batch")
            keep.append(offsets)
            row[COL_OFFSETS] = _address(offsets)
            row[COL_OFFSET_SIZE] = offsets.itemsize
            first, last = int(offsets[0]), int(offsets[n])
            if first < 0 or last > data.size or last < first:
                raise ValueError("offsets outside the column's data")
            bound += last - first
        if nulls.size:
            nulls = np.ascontiguousarray(nulls, np.bool_)
            if nulls.size < n:
                raise ValueError("NULL mask shorter than the batch")
            keep.append(nulls)
            row[COL_NULLS] = _address(nulls)
        if bits.size:
            bits = np.ascontiguousarray(bits, np.uint8)
            if bits.size * 8 < bit0 + n:
                raise ValueError("validity bitmap shorter than the batch")
            keep.append(bits)
            row[COL_BITS] = _address(bits)
            row[COL_BIT0] = bit0
    out = np.empty(bound, np.uint8)
    written = data_rows(out, table, n, type_code)
    if written < 0:  # offsets that go back or past the data (not a valid Arrow array)
        raise ValueError("column offsets are not monotonic inside the column's data")
    del keep
    view = memoryview(out)[:written]
    return view.toreadonly()
