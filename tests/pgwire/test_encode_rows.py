"""The DataRow framing kernel (pgwire.types._rows via encode_data_rows) against DataRow.encode row by row:
every form a WireColumn takes (fixed-width matrix, Arrow string/binary with 32- and 64-bit offsets, sliced
so that offsets and validity bits start mid-buffer, dictionaries, kernel offsets + bytes), NULLs from a
mask and from validity bits, empty and non-ASCII values, values on both sides of the 16-byte word copy
and at the very end of their buffer, 0 and 1 rows, no column; and layouts that lie are refused."""

from __future__ import annotations

import contextlib
import ctypes
import mmap
import sys
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pgwire import messages as m
from pgwire.types import BatchRows, Context
from pgwire.types._rows import frame_rows

# values short and long (the kernel copies up to 16 bytes as two words, more with memcpy), non-ASCII
VALUES = st.binary(max_size=40) | st.text(max_size=12).map(lambda s: s.encode()) | st.just(b"")
TEXTS = st.text(alphabet=st.characters(codec="utf-8"), max_size=24)


@st.composite
def wire_column(draw: st.DrawFn, n: int) -> tuple[m.WireColumn, list[bytes | None]]:
    """A column of ``n`` rows in one of the WireColumn forms, and the bytes each row must carry."""
    kind = draw(
        st.sampled_from(["fixed", "string", "large_string", "binary", "large_binary", "dictionary", "kernel"])
    )
    skip = draw(st.integers(0, 9))  # rows sliced off the front: offsets and bits start mid-buffer
    extra = draw(st.integers(0, 3))  # rows past the end: the column's buffers are longer than the batch
    total = skip + n + extra
    if kind == "fixed":
        width = draw(st.sampled_from([1, 2, 4, 8, 16, 17]))
        raw = np.frombuffer(draw(st.binary(min_size=total * width, max_size=total * width)), np.uint8)
        matrix = raw.reshape(total, width)[skip : skip + n]
        nulls = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), np.bool_) if n else None
        if nulls is not None and not nulls.any() and draw(st.booleans()):
            nulls = None
        col = m.WireColumn(fixed=matrix, nulls=nulls)
        rows = [None if nulls is not None and nulls[i] else bytes(matrix[i]) for i in range(n)]
        return col, rows
    if kind == "kernel":  # int64 offsets + uint8 bytes as the type kernels return them, NULLs by mask
        values = draw(st.lists(VALUES, min_size=n, max_size=n))
        nulls = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), np.bool_)
        offsets = np.zeros(n + 1, np.int64)
        offsets[1:] = np.cumsum([0 if nulls[i] else len(v) for i, v in enumerate(values)])
        data = np.frombuffer(b"".join(v for i, v in enumerate(values) if not nulls[i]), np.uint8)
        col = m.WireColumn(offsets=offsets, data=data, nulls=nulls if nulls.any() else None)
        return col, [None if nulls[i] else v for i, v in enumerate(values)]
    if kind in ("string", "large_string", "dictionary"):
        texts = draw(st.lists(st.none() | TEXTS, min_size=total, max_size=total))
        typ = pa.large_string() if kind == "large_string" else pa.string()
        arr = pa.array(texts, typ)
        if kind == "dictionary":
            arr = arr.dictionary_encode()
        expected = [None if t is None else t.encode() for t in texts]
    else:
        blobs = draw(st.lists(st.none() | VALUES, min_size=total, max_size=total))
        arr = pa.array(blobs, pa.large_binary() if kind == "large_binary" else pa.binary())
        expected = list(blobs)
    return m.WireColumn(var=arr.slice(skip, n)), expected[skip : skip + n]


@st.composite
def batches(draw: st.DrawFn) -> tuple[list[m.WireColumn], int, list[list[bytes | None]]]:
    n = draw(st.sampled_from([0, 1]) | st.integers(0, 60))
    drawn = draw(st.lists(wire_column(n), min_size=0, max_size=6))
    return [c for c, _ in drawn], n, [rows for _, rows in drawn]


def _expected(n: int, rows: list[list[bytes | None]], type_code: bytes) -> bytes:
    out = b"".join(m.DataRow([col[i] for col in rows]).encode() for i in range(n))
    return out if type_code == b"D" else _retag(out, type_code)


def _retag(data: bytes, type_code: bytes) -> bytes:
    """The same messages under another type byte (binary COPY rows are DataRow bodies under 'd')."""
    parts, p = [], 0
    while p < len(data):
        length = int.from_bytes(data[p + 1 : p + 5], "big")
        parts.append(type_code + data[p + 1 : p + 1 + length])
        p += 1 + length
    return b"".join(parts)


@settings(max_examples=400, deadline=None)
@given(batch=batches(), type_code=st.sampled_from([b"D", b"d"]))
def test_framed_rows_match_datarow_encode(
    batch: tuple[list[m.WireColumn], int, list[list[bytes | None]]], type_code: bytes
) -> None:
    columns, n, rows = batch
    got = m.encode_data_rows(columns, n, type_code)
    assert bytes(got) == _expected(n, rows, type_code)


def test_values_at_the_end_of_their_buffer_and_long_values() -> None:
    """The last value of a buffer cannot be read as a word past its end; long values go by memcpy."""
    long = "é" * 40 + "x"
    arr = pa.array(["", "ab", None, long, "z"], pa.string())
    fixed = np.arange(15, dtype=np.uint8).reshape(5, 3)  # 15 bytes in all: every word read would overrun
    got = m.encode_data_rows([m.WireColumn(var=arr), m.WireColumn(fixed=fixed)], 5)
    expected = b"".join(
        m.DataRow([None if v is None else v.encode(), bytes(fixed[i])]).encode()
        for i, v in enumerate(arr.to_pylist())
    )
    assert bytes(got) == expected


@contextlib.contextmanager
def _page_before_a_guard() -> Iterator[tuple[mmap.mmap, int, np.ndarray]]:
    """A page whose last 7 bytes are b"abcdefg", followed by an inaccessible page (a read past the end
    of the data would crash the process): (the mapping, its address, the accessible page's bytes)."""
    page = mmap.PAGESIZE
    region = mmap.mmap(-1, 2 * page)
    anchor = ctypes.c_char.from_buffer(region)
    base = ctypes.addressof(anchor)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    assert libc.mprotect(base + page, page, 0) == 0  # PROT_NONE
    try:
        tail = np.frombuffer(region, np.uint8, count=page)
        tail[page - 7 :] = np.frombuffer(b"abcdefg", np.uint8)
        yield region, base, tail
    finally:
        libc.mprotect(base + page, page, mmap.PROT_READ | mmap.PROT_WRITE)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mprotect through libc")
def test_no_read_past_the_end_of_a_buffer() -> None:
    """Values that end where a page ends, with an inaccessible page after it: a word read past the end of
    the data would crash the process."""
    page = mmap.PAGESIZE
    with _page_before_a_guard() as (_region, _base, tail):
        data = tail  # the values are the last 7 bytes of the accessible page
        offsets = np.array([page - 7, page - 5, page - 5, page], np.int64)
        fixed = tail[page - 6 :].reshape(3, 2)
        columns = [m.WireColumn(offsets=offsets, data=data), m.WireColumn(fixed=fixed)]
        got = frame_rows(columns, 3, ord("D"))
        expected = b"".join(
            m.DataRow([a, b]).encode()
            for a, b in zip([b"ab", b"", b"cdefg"], [b"bc", b"de", b"fg"], strict=True)
        )
        assert bytes(got) == expected


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mprotect through libc")
def test_batch_rows_read_no_byte_past_a_string_column() -> None:
    """BatchRows reads string values (as they are and as a dictionary's) up to their last offset: values
    that end where a page ends, an inaccessible page after it, would crash a word read past the end."""
    page = mmap.PAGESIZE
    with _page_before_a_guard() as (region, base, tail):
        data = pa.foreign_buffer(base + page - 7, 7, base=region)
        offsets = pa.py_buffer(np.array([0, 2, 2, 7], np.int32).tobytes())
        strings = pa.Array.from_buffers(pa.string(), 3, [None, offsets, data])
        hosts = pa.DictionaryArray.from_arrays(pa.array([2, 0, 1], pa.int8()), strings)
        batch = pa.record_batch([strings, hosts], names=["a", "b"])
        got = BatchRows().encode(batch, [25, 25], [0, 0], Context())
        expected = b"".join(
            m.DataRow([a, b]).encode()
            for a, b in zip([b"ab", b"", b"cdefg"], [b"cdefg", b"ab", b""], strict=True)
        )
        assert bytes(got) == expected
        del got, batch, hosts, strings, data, tail


def test_zero_rows_and_no_columns() -> None:
    assert bytes(m.encode_data_rows([m.WireColumn(var=pa.array([], pa.string()))], 0)) == b""
    assert bytes(m.encode_data_rows([], 3)) == m.DataRow([]).encode() * 3


def test_the_result_reads_like_bytes() -> None:
    got = m.encode_data_rows([m.WireColumn(var=pa.array(["a", "bc"]))], 2)
    buf = bytearray(b"x")
    buf += got
    assert bytes(buf) == b"x" + m.DataRow([b"a"]).encode() + m.DataRow([b"bc"]).encode()
    assert b"" + got[:5] == b"D\x00\x00\x00\x0b"


@pytest.mark.parametrize(
    "offsets",
    [
        np.array([0, 5, 3, 6], np.int64),  # goes back
        np.array([0, 2, 9, 10], np.int64),  # past the data (10 bytes needed, 6 held)
        np.array([-2, 1, 2, 3], np.int32),  # before the data
    ],
)
def test_offsets_that_lie_are_refused(offsets: np.ndarray) -> None:
    data = np.frombuffer(b"abcdef", np.uint8)
    with pytest.raises(ValueError):
        frame_rows([m.WireColumn(offsets=offsets, data=data)], 3, ord("D"))
    try:
        arrow = pa.Array.from_buffers(
            pa.string(), 3, [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data)]
        )
    except pa.ArrowInvalid:
        return  # Arrow itself refuses offsets past its data
    with pytest.raises(ValueError):
        frame_rows([m.WireColumn(var=arrow)], 3, ord("D"))


def test_short_columns_are_refused() -> None:
    data = np.frombuffer(b"abcdef", np.uint8)
    short = [
        m.WireColumn(offsets=np.array([0, 1, 2], np.int64), data=data),  # 3 rows need 4 offsets
        m.WireColumn(fixed=data.reshape(3, 2)),
        m.WireColumn(fixed=data.reshape(6, 1), nulls=np.zeros(3, np.bool_)),
        m.WireColumn(var=pa.array(["a", "b", None])),
    ]
    for col in short:
        with pytest.raises(ValueError):
            frame_rows([col], 4, ord("D"))
