"""Arrow string columns built from a few distinct values and a row -> value index, in one kernel.

Scans hand tags over per series: a handful of distinct strings (one per series and tag key) and, per
result row, the index of its series. pyarrow's ``take`` costs ~10 us per call before it copies a byte,
which was most of a small query's result building when a table has ten tag keys. Here the values of
every column are laid out at once (one Arrow array of all of them), one kernel call copies each row's
bytes of every column into one buffer, and each column is that buffer with its own offsets:

    a, b = take_strings([["x", None, "yz"], ["p", "q", "r"]], np.array([2, 0, 0, 1]))
    # a: ["yz", "x", "x", None]   b: ["r", "p", "p", "q"]

A column of one value (a single series' tags) is that value's bytes repeated, with no copying loop.
The kernel wins below a few thousand strings. Beyond (``KERNEL_STRINGS``), rows in long runs of one
value (a scan's rows come grouped by series) are built run by run the same way; otherwise Arrow's
own take is faster: it copies each value with memcpy into memory its allocator keeps mapped, where
the kernel's byte loop and fresh pages cost ~10 ns a string; there the columns are taken by Arrow in
one call.
All columns together hold at most 2 GiB of bytes (Arrow's string layout has 32-bit offsets); scans
build batches far below that.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from columnar.encodings._core import kernel

_MAX_BYTES = (1 << 31) - 1
KERNEL_STRINGS = 8192  # rows x columns up to which the kernel builds the columns
RUN_ROWS = 64  # above the kernel's size: rows a run of one value must average to build by runs


@kernel
def _copy_strings(offsets, data, width, idx):
    """Column c's row k is value c * width + idx[k] (data[offsets[v] : offsets[v + 1]]).
    Returns (out_offsets: ncols x (n + 1) int64, absolute into out, out bytes)."""
    ncols = (offsets.size - 1) // width if width else 0
    n = idx.size
    total = 0
    for c in range(ncols):
        base = c * width
        for k in range(n):
            v = base + idx[k]
            total += offsets[v + 1] - offsets[v]
    out_offsets = np.empty((ncols, n + 1), np.int64)
    out = np.empty(total, np.uint8)
    pos = 0
    for c in range(ncols):
        base = c * width
        out_offsets[c, 0] = pos
        for k in range(n):
            v = base + idx[k]
            for j in range(offsets[v], offsets[v + 1]):
                out[pos] = data[j]
                pos += 1
            out_offsets[c, k + 1] = pos
    return out_offsets, out


def take_strings(columns: Sequence[Sequence[str | None]], idx: np.ndarray) -> list[pa.Array]:
    """Per column of values (all of one length): the string array whose row k is ``values[idx[k]]``
    (None: NULL)."""
    if not columns:
        return []
    width = len(columns[0])
    if width == 1:  # one value a column (a single series' tags): its bytes repeated, no copying loop
        return [_repeated(values[0], len(idx)) for values in columns]
    if len(idx) * len(columns) > KERNEL_STRINGS:
        starts = np.flatnonzero(np.concatenate(([True], idx[1:] != idx[:-1]))) if len(idx) else idx
        if len(starts) * RUN_ROWS <= len(idx):  # long runs of one value (rows grouped by series)
            return [_runs(values, idx, starts) for values in columns]
        arrays = [pa.array(values, type=pa.string()) for values in columns]
        names = [str(i) for i in range(len(arrays))]
        return pa.RecordBatch.from_arrays(arrays, names=names).take(pa.array(idx)).columns
    flat = [v for values in columns for v in values]
    arr = pa.array(flat, type=pa.string())
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], np.int32, count=len(flat) + 1)
    data = np.frombuffer(bufs[2], np.uint8) if bufs[2] is not None and len(bufs[2]) else np.zeros(1, np.uint8)
    idx = np.ascontiguousarray(idx, dtype=np.int64)
    out_offsets, out = _copy_strings(offsets, data, width, idx)
    if len(out) > _MAX_BYTES:
        raise OverflowError(f"string columns of {len(out)} bytes exceed Arrow's 2 GiB string layout")
    out_offsets = out_offsets.astype(np.int32)
    data_buf = pa.py_buffer(out)
    n = len(idx)
    result = []
    for c, values in enumerate(columns):
        validity = None
        nulls = 0
        if arr.null_count:
            present = np.array([v is not None for v in values], dtype=bool)[idx]
            nulls = n - int(present.sum())
            if nulls:
                validity = pa.py_buffer(np.packbits(present, bitorder="little"))
        result.append(
            pa.Array.from_buffers(pa.string(), n, [validity, pa.py_buffer(out_offsets[c]), data_buf], nulls)
        )
    return result


def _runs(values: Sequence[str | None], idx: np.ndarray, starts: np.ndarray) -> pa.Array:
    """The column of ``values[idx[k]]`` where idx is runs of one value starting at ``starts``: each
    run's bytes repeated (bytes * n runs in C; a Python step per run, not per row)."""
    n = len(idx)
    counts = np.diff(np.append(starts, n))
    which = idx[starts]
    encoded = [b"" if v is None else v.encode() for v in values]
    lengths = np.array([len(b) for b in encoded], np.int64)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(np.repeat(lengths[which], counts), out=offsets[1:])
    if offsets[-1] > _MAX_BYTES:
        raise OverflowError(f"a string column of {offsets[-1]} bytes exceeds Arrow's 2 GiB string layout")
    data = b"".join([encoded[v] * c for v, c in zip(which.tolist(), counts.tolist(), strict=True)])
    validity, nulls = None, 0
    if any(v is None for v in values):
        present = np.repeat(np.array([v is not None for v in values], bool)[which], counts)
        nulls = n - int(np.count_nonzero(present))
        if nulls:
            validity = pa.py_buffer(np.packbits(present, bitorder="little"))
    bufs = [validity, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data)]
    return pa.Array.from_buffers(pa.string(), n, bufs, nulls)


def _repeated(value: str | None, n: int) -> pa.Array:
    """``n`` rows of ``value``: its UTF-8 bytes repeated (bytes * n runs in C) and evenly spaced offsets."""
    if value is None:
        return pa.nulls(n, pa.string())
    b = value.encode()
    if len(b) * n > _MAX_BYTES:
        raise OverflowError(f"a string column of {len(b) * n} bytes exceeds Arrow's 2 GiB string layout")
    offsets = np.arange(0, (n + 1) * len(b), len(b), dtype=np.int32) if b else np.zeros(n + 1, np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(b * n)], 0)


def warm_up() -> None:
    """Compile (or load from numba's disk cache) the kernel with the types it is called with."""
    take_strings([["a", None], ["b", "c"]], np.array([0, 1, 0], np.int64))
