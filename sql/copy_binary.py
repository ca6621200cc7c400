"""COPY FROM STDIN (FORMAT binary): PostgreSQL's PGCOPY stream decoded into Arrow tables, column-wise.

Layout (all integers big-endian, PostgreSQL's ``COPY BINARY`` file format)::

    header   "PGCOPY\\n\\377\\r\\n\\0" (11 bytes) | int32 flags | int32 extension length | extension
             flags: bit 16 = rows carry OIDs (refused); bits 17-31 critical (refused); 0-15 ignored
    tuple    int16 field count (= number of columns) | (int32 length, -1 = NULL | value bytes)*
    trailer  int16 -1; nothing may follow it

Values are each type's binary (``typsend``) form: bool 1 byte, int2/int4/int8, oid (uint32),
float4/float8 IEEE, date int32 days and time/timestamp/timestamptz int64 microseconds (from
2000-01-01 for date and timestamps), interval int64 us | int32 days | int32 months, uuid 16 bytes,
text-like types and json their UTF-8 bytes (jsonb behind a version byte 1), bytea raw, numeric
int16 ndigits | int16 weight | uint16 sign | int16 dscale | int16 base-10000 digits, arrays
int32 ndim | int32 has-nulls | int32 element OID | (int32 size, int32 lower bound)* | elements.

A numba kernel walks the tuples of a buffered stretch of the stream once and records where each
field starts and how long it is; the columns are then cut out with numpy (fixed-width types: one
gather of ``n x width`` bytes, viewed big-endian) or one copy into an Arrow string buffer (variable
width). numeric and arrays are decoded value by value. Errors use PostgreSQL's words and SQLSTATEs:
22P04 for the stream's structure, 22P03 for a value of the wrong size, 22021 for text that is not
UTF-8. The stream is decoded in stretches of :data:`CHUNK_BYTES`, each completely before its rows
are handed on, so an error in the first stretch writes nothing.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
from numba import njit

from sql import errors as E

SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
HEADER_FIXED = len(SIGNATURE) + 8
CHUNK_BYTES = 16 << 20

_PG_EPOCH_DAYS = 10_957  # 2000-01-01 - 1970-01-01
_PG_EPOCH_US = _PG_EPOCH_DAYS * 86_400_000_000
_I64_MAX, _I64_MIN = 2**63 - 1, -(2**63)
_I32_MAX, _I32_MIN = 2**31 - 1, -(2**31)

# kernel outcomes
_NEED, _TRAILER, _BAD_COUNT, _BAD_SIZE = 0, 1, 2, 3


class BadCopyFileFormat(E.SqlError, sqlstate="22P04"): ...


class InvalidBinaryRepresentation(E.SqlError, sqlstate="22P03"): ...


class CharacterNotInRepertoire(E.SqlError, sqlstate="22021"): ...


class DatetimeFieldOverflow(E.SqlError, sqlstate="22008"): ...


Builder = Callable[[np.ndarray, np.ndarray], pa.Array]


@njit(cache=True, nogil=True)
def _walk(
    buf: np.ndarray, pos: int, ncols: int, starts: np.ndarray, lens: np.ndarray
) -> Any:  # (rows, end position, outcome, detail), numba integers
    """Record the fields of every complete tuple from ``pos``: (rows, end position, outcome, detail).

    The end position is after the last complete tuple (after the trailer when the outcome is
    _TRAILER); detail is the bad field count or size."""
    n = buf.shape[0]
    rows = 0
    while True:
        if pos + 2 > n:
            return rows, pos, _NEED, 0
        count = (np.int64(buf[pos]) << 8) | np.int64(buf[pos + 1])
        if count >= 32768:
            count -= 65536
        if count == -1:
            return rows, pos + 2, _TRAILER, 0
        if count != ncols:
            return rows, pos, _BAD_COUNT, count
        p = pos + 2
        for c in range(ncols):
            if p + 4 > n:
                return rows, pos, _NEED, 0
            size = (
                (np.int64(buf[p]) << 24)
                | (np.int64(buf[p + 1]) << 16)
                | (np.int64(buf[p + 2]) << 8)
                | np.int64(buf[p + 3])
            )
            if size >= 2147483648:
                size -= 4294967296
            p += 4
            if size == -1:
                starts[rows, c] = 0
                lens[rows, c] = -1
                continue
            if size < 0:
                return rows, pos, _BAD_SIZE, size
            if p + size > n:
                return rows, pos, _NEED, 0
            starts[rows, c] = p
            lens[rows, c] = size
            p += size  # type: ignore[assignment]  # (numba integers)
        rows += 1
        pos = p


@njit(cache=True, nogil=True)
def _gather(buf: np.ndarray, starts: np.ndarray, lens: np.ndarray, skip: int, total: int) -> np.ndarray:
    """The bytes of every non-NULL field (``skip`` leading bytes of each left out), end to end."""
    out = np.empty(total, np.uint8)
    k = 0
    for i in range(starts.shape[0]):
        size = lens[i]
        if size < 0:
            continue
        s = starts[i] + skip
        for j in range(size - skip):
            out[k + j] = buf[s + j]
        k += size - skip
    return out


@njit(cache=True, nogil=True)
def _gather_fixed(buf: np.ndarray, starts: np.ndarray, lens: np.ndarray, width: int) -> np.ndarray:
    """The fields of a fixed-width column as an n x width byte matrix; NULLs as zeros."""
    n = starts.shape[0]
    out = np.zeros((n, width), np.uint8)
    for i in range(n):
        if lens[i] < 0:
            continue
        s = starts[i]
        for j in range(width):
            out[i, j] = buf[s + j]
    return out


def read_binary(data: Iterator[bytes], names: list[str], oids: list[int]) -> Iterator[pa.Table]:
    """Arrow tables (one per stretch of the stream) with one column per name, typed by its OID."""
    ncols = len(names)
    parts: list[bytes] = []
    size = 0
    rest = b""
    header = False
    trailer = False
    line = 0  # tuples decoded so far, for error messages
    for chunk in _with_end(data):
        final = chunk is None
        if chunk is not None:
            if trailer:
                if chunk:
                    raise BadCopyFileFormat("received copy data after EOF marker")
                continue
            parts.append(chunk)
            size += len(chunk)
            if size < CHUNK_BYTES:
                continue
        buf = b"".join([rest, *parts]) if parts else rest
        parts, size = [], 0
        pos = 0
        if not header:
            pos = _header(buf, final)
            if pos < 0:
                rest = buf
                continue
            header = True
        if trailer:
            break
        arr = np.frombuffer(buf, np.uint8)
        cap = (len(buf) - pos) // (2 + 4 * ncols) + 1
        starts = np.empty((cap, ncols), np.int64)
        lens = np.empty((cap, ncols), np.int64)
        rows, pos, outcome, detail = _walk(arr, pos, ncols, starts, lens)
        if outcome == _BAD_COUNT:
            raise BadCopyFileFormat(
                f"row field count is {detail}, expected {ncols}", detail=_where(line + rows + 1)
            )
        if outcome == _BAD_SIZE:
            raise BadCopyFileFormat("invalid field size", detail=_where(line + rows + 1))
        if outcome == _TRAILER:
            trailer = True
            if pos != len(buf):
                raise BadCopyFileFormat("received copy data after EOF marker")
        elif final and pos != len(buf):
            raise BadCopyFileFormat("unexpected EOF in COPY data", detail=_where(line + rows + 1))
        if rows:  # every check of this stretch is done before its rows go on
            cols = [
                _column(arr, starts[:rows, c], lens[:rows, c], oid, names[c], line)
                for c, oid in enumerate(oids)
            ]
            yield pa.table(cols, names=names)
        line += rows
        rest = buf[pos:]
    if not header:
        raise BadCopyFileFormat("COPY file signature not recognized")


def _where(line: int) -> str:
    return f"COPY data, tuple {line}"


def _with_end(data: Iterator[bytes]) -> Iterator[bytes | None]:
    yield from data
    yield None


def _header(buf: bytes, final: bool) -> int:
    """Where the tuples start; -1 while the header is incomplete and more data may come."""
    if len(buf) < len(SIGNATURE):
        if not final and SIGNATURE.startswith(buf):
            return -1
        raise BadCopyFileFormat("COPY file signature not recognized")
    if not buf.startswith(SIGNATURE):
        raise BadCopyFileFormat("COPY file signature not recognized")
    if len(buf) < HEADER_FIXED:
        if not final:
            return -1
        what = "flags" if len(buf) < len(SIGNATURE) + 4 else "length"
        raise BadCopyFileFormat(f"invalid COPY file header (missing {what})")
    flags, ext = struct.unpack_from("!iI", buf, len(SIGNATURE))
    if flags & (1 << 16):
        raise BadCopyFileFormat("invalid COPY file header (WITH OIDS)")
    if flags & ~0xFFFF & ~(1 << 16):
        raise BadCopyFileFormat("unrecognized critical flags in COPY file header")
    if ext > 2**31 - 1:
        raise BadCopyFileFormat("invalid COPY file header (missing length)")
    end = HEADER_FIXED + ext
    if len(buf) < end:
        if not final:
            return -1
        raise BadCopyFileFormat("invalid COPY file header (wrong length)")
    return end


# ---------------------------------------------------------------- columns


def _validity(nulls: np.ndarray) -> pa.Buffer | None:
    if not nulls.any():
        return None
    return pa.py_buffer(np.packbits(~nulls, bitorder="little"))


def _fixed(
    arr: np.ndarray, starts: np.ndarray, lens: np.ndarray, width: int, name: str, line: int
) -> tuple[np.ndarray, np.ndarray]:
    """(n x width bytes, nulls) of a fixed-width column; 22P03 for a value of another size."""
    nulls = lens == -1
    bad = np.flatnonzero(~nulls & (lens != width))
    if bad.size:
        i = int(bad[0])
        raise InvalidBinaryRepresentation(
            "incorrect binary data format",
            detail=f"{_where(line + i + 1)}, column {name}: {int(lens[i])} bytes where the type takes {width}",
        )
    return _gather_fixed(arr, starts, lens, width), nulls


def _column(
    arr: np.ndarray, starts: np.ndarray, lens: np.ndarray, oid: int, name: str, line: int
) -> pa.Array:
    fixed = _FIXED.get(oid)
    if fixed is not None:
        width, build = fixed
        raw, nulls = _fixed(arr, starts, lens, width, name, line)
        return build(raw, nulls)
    if oid in _VARLENA:
        return _varlena(arr, starts, lens, oid, name, line)
    if oid == 1700:
        return _per_value(arr, starts, lens, _numeric, pa.large_string(), name, line)
    elem = _ARRAY_ELEMENT.get(oid)
    if elem is not None:
        return _per_value(
            arr, starts, lens, _array, pa.list_(_ELEMENT_ARROW.get(elem, pa.large_string())), name, line
        )
    return _varlena(arr, starts, lens, 25, name, line)  # any other type: its bytes as text


def _bool(raw: np.ndarray, nulls: np.ndarray) -> pa.Array:
    return pa.array(raw[:, 0] != 0, mask=nulls if nulls.any() else None)


def _number(dtype: str, arrow: pa.DataType) -> Builder:
    def build(raw: np.ndarray, nulls: np.ndarray) -> pa.Array:
        values = np.ascontiguousarray(raw).view(dtype).reshape(-1).astype(dtype.replace(">", "<"))
        return pa.array(values, type=arrow, mask=nulls if nulls.any() else None)

    return build


def _shift(values: np.ndarray, offset: int, lo: int, hi: int) -> np.ndarray:
    """Add the epoch offset, keeping PostgreSQL's -infinity/infinity (the type's extremes) as they are."""
    inf = (values == lo) | (values == hi)
    out = values + offset
    return np.where(inf, values, out) if inf.any() else out


def _timestamp(arrow: pa.DataType) -> Builder:
    def build(raw: np.ndarray, nulls: np.ndarray) -> pa.Array:
        us = np.ascontiguousarray(raw).view(">i8").reshape(-1).astype(np.int64)
        if ((us > _I64_MAX - _PG_EPOCH_US) & (us != _I64_MAX)).any():
            raise DatetimeFieldOverflow("timestamp out of range")
        us = _shift(us, _PG_EPOCH_US, _I64_MIN, _I64_MAX)
        return pa.array(us, mask=nulls if nulls.any() else None).view(arrow)

    return build


def _date(raw: np.ndarray, nulls: np.ndarray) -> pa.Array:
    days = np.ascontiguousarray(raw).view(">i4").reshape(-1).astype(np.int64)
    days = _shift(days, _PG_EPOCH_DAYS, _I32_MIN, _I32_MAX)
    if ((days > _I32_MAX) | (days < _I32_MIN)).any():
        raise DatetimeFieldOverflow("date out of range")
    return pa.array(days.astype(np.int32), mask=nulls if nulls.any() else None).view(pa.date32())


def _time(raw: np.ndarray, nulls: np.ndarray) -> pa.Array:
    us = np.ascontiguousarray(raw).view(">i8").reshape(-1).astype(np.int64)
    if ((us < 0) | (us > 86_400_000_000)).any():
        raise DatetimeFieldOverflow("time out of range")
    return pa.array(us, mask=nulls if nulls.any() else None).view(pa.time64("us"))


_MDN = np.dtype([("months", "<i4"), ("days", "<i4"), ("nanos", "<i8")])


def _interval(raw: np.ndarray, nulls: np.ndarray) -> pa.Array:
    raw = np.ascontiguousarray(raw)
    out = np.empty(len(raw), _MDN)
    us = raw[:, 0:8].copy().view(">i8").reshape(-1).astype(np.int64)
    out["nanos"] = us * 1000
    out["days"] = raw[:, 8:12].copy().view(">i4").reshape(-1)
    out["months"] = raw[:, 12:16].copy().view(">i4").reshape(-1)
    return pa.Array.from_buffers(
        pa.month_day_nano_interval(), len(out), [_validity(nulls), pa.py_buffer(out)]
    )


_HEX = np.frombuffer(b"0123456789abcdef", np.uint8)
_UUID_AT = np.array([0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34])  # text position of byte k


def _uuid(raw: np.ndarray, nulls: np.ndarray) -> pa.Array:
    n = len(raw)
    text = np.full((n, 36), ord("-"), np.uint8)
    text[:, _UUID_AT] = _HEX[raw >> 4]
    text[:, _UUID_AT + 1] = _HEX[raw & 15]
    offsets = np.arange(0, 36 * (n + 1), 36, dtype=np.int64)
    return pa.Array.from_buffers(
        pa.large_string(), n, [_validity(nulls), pa.py_buffer(offsets), pa.py_buffer(text.reshape(-1))]
    )


_FIXED: dict[int, tuple[int, Builder]] = {
    16: (1, _bool),
    21: (2, _number(">i2", pa.int16())),
    23: (4, _number(">i4", pa.int32())),
    20: (8, _number(">i8", pa.int64())),
    26: (4, _number(">u4", pa.int64())),
    700: (4, _number(">f4", pa.float32())),
    701: (8, _number(">f8", pa.float64())),
    1082: (4, _date),
    1083: (8, _time),
    1114: (8, _timestamp(pa.timestamp("us"))),
    1184: (8, _timestamp(pa.timestamp("us", tz="UTC"))),
    1186: (16, _interval),
    2950: (16, _uuid),
}
_VARLENA = {17, 18, 19, 25, 114, 142, 705, 1042, 1043, 3802}


def _varlena(
    arr: np.ndarray, starts: np.ndarray, lens: np.ndarray, oid: int, name: str, line: int
) -> pa.Array:
    n = len(starts)
    nulls = lens == -1
    skip = 1 if oid == 3802 else 0  # jsonb: version byte
    if skip:
        versions = arr[starts[~nulls]] if (lens[~nulls] > 0).all() else None
        if versions is None or (versions != 1).any():
            raise InvalidBinaryRepresentation("unsupported jsonb version number", detail=f"column {name}")
    sizes = np.where(nulls, 0, lens - skip)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(sizes, out=offsets[1:])
    data = _gather(arr, starts, lens, skip, int(offsets[-1]))
    if oid == 17:
        return pa.Array.from_buffers(
            pa.large_binary(), n, [_validity(nulls), pa.py_buffer(offsets), pa.py_buffer(data)]
        )
    if (data == 0).any():
        i = int(np.searchsorted(offsets, int(np.flatnonzero(data == 0)[0]), side="right")) - 1
        raise CharacterNotInRepertoire(
            'invalid byte sequence for encoding "UTF8": 0x00', detail=f"{_where(line + i + 1)}, column {name}"
        )
    out = pa.Array.from_buffers(
        pa.large_string(), n, [_validity(nulls), pa.py_buffer(offsets), pa.py_buffer(data)]
    )
    try:
        out.validate(full=True)
    except pa.ArrowInvalid:
        raise CharacterNotInRepertoire(
            'invalid byte sequence for encoding "UTF8"', detail=f"COPY data, column {name}"
        ) from None
    return out


def _per_value(
    arr: np.ndarray,
    starts: np.ndarray,
    lens: np.ndarray,
    decode: Callable[[bytes], object],
    arrow: pa.DataType,
    name: str,
    line: int,
) -> pa.Array:
    buf = arr.data
    values: list[object] = []
    for i, (s, size) in enumerate(zip(starts.tolist(), lens.tolist(), strict=True)):
        if size < 0:
            values.append(None)
            continue
        try:
            values.append(decode(bytes(buf[s : s + size])))
        except (struct.error, ValueError, KeyError, IndexError):
            raise InvalidBinaryRepresentation(
                "incorrect binary data format", detail=f"{_where(line + i + 1)}, column {name}"
            ) from None
    return pa.array(values, type=arrow)


_NUMERIC_SPECIAL = {0xC000: "NaN", 0xD000: "Infinity", 0xF000: "-Infinity"}


def _numeric(b: bytes) -> str:
    ndigits, weight, sign, dscale = struct.unpack_from("!hhHh", b)
    if sign in _NUMERIC_SPECIAL:
        return _NUMERIC_SPECIAL[sign]
    if sign not in (0, 0x4000) or ndigits < 0 or len(b) != 8 + 2 * ndigits:
        raise ValueError("bad numeric")
    digits = struct.unpack_from(f"!{ndigits}h", b, 8)
    if any(d < 0 or d > 9999 for d in digits):
        raise ValueError("bad numeric digit")
    text = "".join(f"{d:04d}" for d in digits) or "0"
    value = Decimal((1 if sign else 0, tuple(int(c) for c in text), (weight - ndigits + 1) * 4))
    return format(value.quantize(Decimal(1).scaleb(-dscale)) if dscale >= 0 else value, "f")


_ARRAY_ELEMENT = {
    1000: 16, 1005: 21, 1007: 23, 1016: 20, 1028: 26, 1021: 700, 1022: 701, 1009: 25, 1015: 1043, 1014: 1042,
    1003: 19, 1231: 1700, 1182: 1082, 1115: 1114, 1185: 1184, 2951: 2950, 1001: 17,
}  # fmt: skip
_ELEMENT_ARROW = {
    16: pa.bool_(), 21: pa.int16(), 23: pa.int32(), 20: pa.int64(), 26: pa.int64(), 700: pa.float32(),
    701: pa.float64(), 17: pa.large_binary(), 1082: pa.date32(), 1114: pa.timestamp("us"),
    1184: pa.timestamp("us", tz="UTC"),
}  # fmt: skip
_ELEMENT_STRUCT = {16: "?", 21: "!h", 23: "!i", 20: "!q", 26: "!I", 700: "!f", 701: "!d"}


def _element(b: bytes, oid: int) -> object:
    code = _ELEMENT_STRUCT.get(oid)
    if code is not None:
        if len(b) != struct.calcsize(code):
            raise ValueError("bad element size")
        return struct.unpack(code, b)[0]
    if oid == 17:
        return b
    if oid == 1700:
        return _numeric(b)
    if oid in (1082, 1114, 1184, 2950):
        width, build = _FIXED[oid]
        if len(b) != width:
            raise ValueError("bad element size")
        return build(np.frombuffer(b, np.uint8).reshape(1, width), np.zeros(1, bool))[0].as_py()
    return b.decode("utf-8")


def _array(b: bytes) -> list[object] | None:
    ndim, _flags, elem = struct.unpack_from("!iiI", b)
    if ndim == 0:
        return []
    if ndim != 1:
        raise ValueError("only one-dimensional arrays are stored")
    count, _lower = struct.unpack_from("!ii", b, 12)
    pos = 20
    out: list[object] = []
    for _ in range(count):
        (size,) = struct.unpack_from("!i", b, pos)
        pos += 4
        if size == -1:
            out.append(None)
            continue
        if size < 0 or pos + size > len(b):
            raise ValueError("bad element size")
        out.append(_element(b[pos : pos + size], elem))
        pos += size
    if pos != len(b):
        raise ValueError("trailing bytes")
    return out
