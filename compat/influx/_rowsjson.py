"""numba kernel that joins the cells of columnar series into their JSON ``values`` texts.

A row is ``[`` its slots' texts joined by ``,`` ``]``; a series' text is ``[`` its rows joined by
``,`` ``]``. Each slot of a row is one of:

    ======  ==========================================================================
    kind    text of the slot in row i
    ======  ==========================================================================
    CONST   one text in every row (constant cells already joined by ``,``)
    INT     decimal digits of an int64 (``str(int)``'s), ``null`` where not valid
    TEXT    row i of an Arrow string array (cells formatted by Arrow: floats, texts)
    TIME    ``"YYYY-MM-DDTHH:MM:SSZ"`` of an int64 of ns, a whole second of years 1000-9999
            (format_time's text, the caller having checked those bounds)
    ======  ==========================================================================

Two passes over the rows, the first sizing the output: no Python step per row or cell, and the
integers are written here, not formatted into Arrow strings first.
"""

from __future__ import annotations

from itertools import accumulate

import numpy as np
import pyarrow as pa
from numba import njit

from columnar.civil import civil

CONST, INT, TEXT, TIME = 0, 1, 2, 3
TIME_WIDTH = 22  # len('"YYYY-MM-DDTHH:MM:SSZ"')

kernel = njit(cache=True, nogil=True)
inline_kernel = njit(cache=True, nogil=True, inline="always")

_NULL = np.frombuffer(b"null", np.uint8)
_NO_TIMES = np.zeros(0, np.int64)


@inline_kernel
def _magnitude(x: int) -> tuple[bool, np.uint64]:
    if x < 0:
        return True, np.uint64(-(x + 1)) + np.uint64(1)  # (INT64_MIN's magnitude does not fit int64)
    return False, np.uint64(x)


@inline_kernel
def _digits(m: np.uint64) -> int:
    width = 1
    while m >= np.uint64(10):
        m //= np.uint64(10)
        width += 1
    return width


@inline_kernel
def _int_width(x: int) -> int:
    neg, m = _magnitude(x)
    if m < np.uint64(10):
        return 2 if neg else 1
    return _digits(m) + 1 if neg else _digits(m)


@inline_kernel
def _write_int(out: np.ndarray, at: int, x: int) -> int:
    """str(x) written at ``at`` (unsigned indexes, as in _copy): the end written."""
    neg, m = _magnitude(x)
    p = np.uint64(at)
    if neg:
        out[p] = 45  # "-"
        p += np.uint64(1)
    if m < np.uint64(10):
        out[p] = np.uint8(48) + np.uint8(m)
        return at + 2 if neg else at + 1
    width = _digits(m)
    p += np.uint64(width)
    while m:
        p -= np.uint64(1)
        out[p] = np.uint8(48) + np.uint8(m % np.uint64(10))
        m //= np.uint64(10)
    return at + width + 1 if neg else at + width


@inline_kernel
def _two(out: np.ndarray, at: np.uint64, v: int) -> None:
    out[at] = np.uint8(48 + v // 10)
    out[at + np.uint64(1)] = np.uint8(48 + v % 10)


@inline_kernel
def _write_time(out: np.ndarray, at: int, ns: int) -> int:
    """format_time's quoted text of a whole second (ns) of years 1000-9999, UTC."""
    return _write_second(out, at, ns // 1_000_000_000)


@inline_kernel
def _write_second(out: np.ndarray, at: int, sec: int) -> int:
    """The quoted RFC3339 text of a second of years 1000-9999, UTC (TIME_WIDTH bytes): the civil
    date of its day (columnar/civil.py), then the time of day."""
    days = sec // 86400
    p = np.uint64(at)
    _write_date(out, p, days)
    _write_clock(out, p, sec - days * 86400)
    return at + TIME_WIDTH


@inline_kernel
def _write_date(out: np.ndarray, p: np.uint64, days: int) -> None:
    """'"YYYY-MM-DDT' of a day (days since 1970-01-01) at ``p``."""
    year, month, day = civil(days)
    out[p] = 34  # '"'
    _two(out, p + np.uint64(1), year // 100)
    _two(out, p + np.uint64(3), year % 100)
    out[p + np.uint64(5)] = 45  # "-"
    _two(out, p + np.uint64(6), month)
    out[p + np.uint64(8)] = 45
    _two(out, p + np.uint64(9), day)
    out[p + np.uint64(11)] = 84  # "T"


@inline_kernel
def _write_clock(out: np.ndarray, p: np.uint64, sod: int) -> None:
    """'HH:MM:SSZ"' of a second of the day after the date written at ``p``."""
    _two(out, p + np.uint64(12), sod // 3600)
    out[p + np.uint64(14)] = 58  # ":"
    _two(out, p + np.uint64(15), sod // 60 % 60)
    out[p + np.uint64(17)] = 58
    _two(out, p + np.uint64(18), sod % 60)
    out[p + np.uint64(20)] = 90  # "Z"
    out[p + np.uint64(21)] = 34


@kernel
def _seconds_text(sec: np.ndarray, out: np.ndarray) -> None:
    """Each second's text; a second of the same day as the one before it copies that one's date
    (the civil date is most of the work)."""
    last_day = np.int64(-(2**62))
    for i in range(sec.size):
        p = np.uint64(i * TIME_WIDTH)
        days = sec[i] // 86400
        if days != last_day:
            _write_date(out, p, days)
            last_day = days
        else:
            for k in range(np.uint64(12)):
                out[p + k] = out[p - np.uint64(TIME_WIDTH) + k]
        _write_clock(out, p, sec[i] - days * 86400)


def seconds_text(sec: np.ndarray) -> np.ndarray:
    """The quoted RFC3339 texts of UTC seconds of years 1000-9999 (the caller checks the bounds),
    TIME_WIDTH bytes each, one after the other (uint8)."""
    out = np.empty(len(sec) * TIME_WIDTH, np.uint8)
    _seconds_text(np.ascontiguousarray(sec, np.int64), out)
    return out


@kernel
def _copy(out: np.ndarray, at: int, src: np.ndarray, lo: int, hi: int) -> int:
    """src[lo:hi] written at ``at``: the end written. (Unsigned indexes: numba's wraparound test
    of a signed one, maybe negative, keeps LLVM from turning the loop into a block copy, ~30x.)"""
    to = np.uint64(at)
    start = np.uint64(lo)
    for b in range(np.uint64(hi - lo)):
        out[to + b] = src[start + b]
    return at + hi - lo


@kernel
def _join(
    n: int,
    kinds: np.ndarray,
    which: np.ndarray,
    const_data: np.ndarray,
    const_off: np.ndarray,
    ints: np.ndarray,
    ivalid: np.ndarray,
    text_data: np.ndarray,
    text_off: np.ndarray,
    times: np.ndarray,
    ends: np.ndarray,
    null: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    nslots = len(kinds)
    nseries = len(ends)
    size = n * (2 + max(nslots - 1, 0)) + 2 * nseries  # brackets and commas of the rows and series
    lo = 0
    for k in range(nseries):
        size += max(ends[k] - lo - 1, 0)  # commas between the rows of a series
        lo = ends[k]
    for s in range(nslots):
        w = which[s]
        if kinds[s] == 0:
            size += (const_off[w + 1] - const_off[w]) * n
        elif kinds[s] == 1:
            for i in range(n):
                size += _int_width(ints[w, i]) if ivalid[w, i] else 4
        elif kinds[s] == 2:
            size += text_off[w, n] - text_off[w, 0]
        else:
            size += TIME_WIDTH * n
    out = np.empty(size, np.uint8)
    series_off = np.zeros(nseries + 1, np.int64)
    at = 0
    i = 0
    for k in range(nseries):
        out[at] = 91  # "["
        at += 1
        first = True
        while i < ends[k]:
            if not first:
                out[at] = 44  # ","
                at += 1
            first = False
            out[at] = 91
            at += 1
            for s in range(nslots):
                if s:
                    out[at] = 44
                    at += 1
                w = which[s]
                if kinds[s] == 0:
                    at = _copy(out, at, const_data, const_off[w], const_off[w + 1])
                elif kinds[s] == 1:
                    if ivalid[w, i]:
                        at = _write_int(out, at, ints[w, i])
                    else:
                        at = _copy(out, at, null, 0, 4)
                elif kinds[s] == 2:
                    at = _copy(out, at, text_data, text_off[w, i], text_off[w, i + 1])
                else:
                    at = _write_time(out, at, times[i])
            out[at] = 93  # "]"
            at += 1
            i += 1
        out[at] = 93
        at += 1
        series_off[k + 1] = at
    return out[:at], series_off


def join_rows(n: int, slots: list[tuple[int, object]], lens: list[int]) -> list[str]:
    """The ``values`` text of each series (of ``lens`` rows each, ``n`` in all) whose rows are made
    of ``slots``: (CONST, text), (INT, (int64 values, validity)), (TEXT, Arrow string array) or, at
    most once, (TIME, int64 ns of whole seconds of years 1000-9999)."""
    kinds = np.empty(len(slots), np.int64)
    which = np.empty(len(slots), np.int64)
    consts: list[bytes] = []
    int_cols: list[np.ndarray] = []
    valids: list[np.ndarray] = []
    texts: list[pa.Array] = []
    times = _NO_TIMES
    for s, (kind, payload) in enumerate(slots):
        kinds[s] = kind
        if kind == CONST:
            which[s] = len(consts)
            consts.append(payload.encode())  # type: ignore[attr-defined]
        elif kind == INT:
            which[s] = len(int_cols)
            values, valid = payload  # type: ignore[misc]
            int_cols.append(values)
            valids.append(valid)
        elif kind == TIME:
            which[s] = 0
            times = np.ascontiguousarray(payload, np.int64)
            assert len(times) == n
        else:
            which[s] = len(texts)
            texts.append(payload)  # type: ignore[arg-type]
    const_off = np.array([0, *accumulate(map(len, consts))], np.int64)
    const_data = np.frombuffer(b"".join(consts), np.uint8)
    ints = np.array(int_cols, np.int64).reshape(len(int_cols), n)
    ivalid = np.array(valids, bool).reshape(len(valids), n)
    text_data, text_off = _texts(texts, n)
    ends = np.array(list(accumulate(lens)), np.int64)
    out, series_off = _join(
        n, kinds, which, const_data, const_off, ints, ivalid, text_data, text_off, times, ends, _NULL
    )
    bounds = series_off.tolist()
    text = memoryview(out)
    return [str(text[lo:hi], "utf-8") for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]


def _texts(arrays: list[pa.Array], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Arrow string arrays (each of ``n`` rows, no nulls) as one byte buffer and each array's
    row offsets into it."""
    off = np.empty((len(arrays), n + 1), np.int64)
    parts: list[np.ndarray] = []
    base = 0
    for j, arr in enumerate(arrays):
        _validity, offsets_buf, data_buf = arr.buffers()
        offsets = np.frombuffer(offsets_buf, np.int32, n + 1, arr.offset * 4)
        lo, hi = int(offsets[0]), int(offsets[n])
        parts.append(np.frombuffer(data_buf, np.uint8, hi - lo, lo) if hi > lo else np.empty(0, np.uint8))
        off[j] = offsets
        off[j] += base - lo
        base += hi - lo
    data = np.concatenate(parts) if parts else np.empty(0, np.uint8)
    return data, off


def warm_up() -> None:
    """Compile (or load from numba's disk cache) the kernel with the types it is called with."""
    join_rows(
        2,
        [
            (CONST, "a"),
            (INT, (np.array([1, -2], np.int64), np.array([True, False]))),
            (TEXT, pa.array(["x", "yz"])),
        ],
        [1, 1],
    )
    times = np.array([0, 10**9], np.int64)
    times.flags.writeable = False  # (times read from storage are read-only views: a type of their own)
    join_rows(2, [(TIME, times), (INT, (np.array([1, 2], np.int64), np.array([True, True])))], [2])
    seconds_text(np.array([0, 1], np.int64))
