"""numba kernels for the text forms that Arrow cannot write fast enough (timestamps above all).

Each kernel writes every row's text into one byte buffer and returns it with int64 offsets, so the
result becomes an Arrow large_string array without a copy. They release the GIL (nogil) so several
sessions can encode at once on the thread pool.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_US_PER_DAY = 86_400_000_000
_MIN_US = -62_135_596_800_000_000  # 0001-01-01 in microseconds since 1970
_MAX_US = 253_402_300_800_000_000  # 10000-01-01


@njit(cache=True, nogil=True, inline="always")
def _put2(out: np.ndarray, pos: int, v: int) -> int:
    out[pos] = 48 + v // 10
    out[pos + 1] = 48 + v % 10
    return pos + 2


@njit(cache=True, nogil=True, inline="always")
def _civil(days: int) -> tuple[int, int, int]:
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (1 if month <= 2 else 0)
    return year, month, day


@njit(cache=True, nogil=True, inline="always")
def _clock(out: np.ndarray, pos: int, in_day: int) -> int:
    secs = in_day // 1_000_000
    frac = in_day - secs * 1_000_000
    pos = _put2(out, pos, secs // 3600)
    out[pos] = 58
    pos = _put2(out, pos + 1, secs // 60 % 60)
    out[pos] = 58
    pos = _put2(out, pos + 1, secs % 60)
    if frac:
        out[pos] = 46
        pos += 1
        digits = 6
        while frac % 10 == 0:
            frac //= 10
            digits -= 1
        for k in range(digits - 1, -1, -1):
            out[pos + k] = 48 + frac % 10
            frac //= 10
        pos += digits
    return pos


@njit(cache=True, nogil=True)
def timestamps_text(
    micros: np.ndarray,
    nulls: np.ndarray,
    zone_offsets: np.ndarray,
    suffix: int,
    late: int,
    date: bool,
    clock: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``YYYY-MM-DD``, ``HH:MM:SS[.f]`` or both of wall-clock microseconds since 1970, then a suffix:
    none (``suffix`` 0), ``+00`` (1), or the row's UTC offset ``zone_offsets[i]`` in seconds as ``-05``,
    ``+05:30``, ``-04:56:02`` (2). ``nulls`` has one flag per row or is empty.

    Returns (data, offsets, odd): rows outside years 1-9999, or (with per-row offsets) whose instant is
    at or after ``late``, are left empty and flagged in ``odd`` for the caller to write another way.
    """
    n = micros.size
    has_nulls = nulls.size != 0
    out = np.empty(n * 36, np.uint8)
    offsets = np.empty(n + 1, np.int64)
    odd = np.zeros(n, np.bool_)
    offsets[0] = 0
    pos = 0
    for i in range(n):
        if has_nulls and nulls[i]:
            offsets[i + 1] = pos
            continue
        us = micros[i]
        if (date and (us < _MIN_US or us >= _MAX_US)) or (
            suffix == 2 and us - zone_offsets[i] * 1_000_000 >= late
        ):
            odd[i] = True
            offsets[i + 1] = pos
            continue
        days = us // _US_PER_DAY
        if date:
            year, month, day = _civil(days)
            pos = _put2(out, pos, year // 100)
            pos = _put2(out, pos, year % 100)
            out[pos] = 45
            pos = _put2(out, pos + 1, month)
            out[pos] = 45
            pos = _put2(out, pos + 1, day)
            if clock:
                out[pos] = 32
                pos += 1
        if clock:
            pos = _clock(out, pos, us - days * _US_PER_DAY)
        if suffix == 1:
            out[pos] = 43
            out[pos + 1] = 48
            out[pos + 2] = 48
            pos += 3
        elif suffix == 2:
            s = zone_offsets[i]
            out[pos] = 45 if s < 0 else 43
            s = -s if s < 0 else s
            pos = _put2(out, pos + 1, s // 3600)
            if s % 3600:
                out[pos] = 58
                pos = _put2(out, pos + 1, s // 60 % 60)
                if s % 60:
                    out[pos] = 58
                    pos = _put2(out, pos + 1, s % 60)
        offsets[i + 1] = pos
    return out[:pos], offsets, odd


@njit(cache=True, nogil=True)
def numeric_binary(unscaled: np.ndarray, nulls: np.ndarray, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """PostgreSQL binary numeric of int64 unscaled values with ``scale`` digits after the point.

    The caller guarantees |value| * 10^pad fits int64, pad aligning the scale to 4-digit groups.
    """
    n = unscaled.size
    frac_groups = (scale + 3) // 4
    pad = frac_groups * 4 - scale
    mult = 1
    for _ in range(pad):
        mult *= 10
    out = np.empty(n * (8 + 2 * 6), np.uint8)
    offsets = np.empty(n + 1, np.int64)
    offsets[0] = 0
    pos = 0
    groups = np.empty(6, np.int64)
    for i in range(n):
        if nulls[i]:
            offsets[i + 1] = pos
            continue
        v = unscaled[i]
        negative = v < 0
        a = (-v if negative else v) * mult
        g = 0
        while a > 0:
            groups[g] = a % 10000
            a //= 10000
            g += 1
        weight = g - frac_groups - 1 if g else 0
        low = 0
        while low < g and groups[low] == 0:
            low += 1
        ndigits = g - low
        header = (ndigits, weight, 0x4000 if negative and ndigits else 0, scale)
        for h in header:
            out[pos] = (h >> 8) & 0xFF
            out[pos + 1] = h & 0xFF
            pos += 2
        for k in range(g - 1, low - 1, -1):
            out[pos] = groups[k] >> 8
            out[pos + 1] = groups[k] & 0xFF
            pos += 2
        offsets[i + 1] = pos
    return out[:pos], offsets


# ---------------------------------------------------------------- integers and decimals as text

_INT64_MIN_TEXT = np.frombuffer(b"-9223372036854775808", np.uint8).copy()


@njit(cache=True, nogil=True)
def integers_text(values: np.ndarray, nulls: np.ndarray, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """Decimal text of integers; with ``scale`` > 0 of decimals whose unscaled values these are
    (``-0.05`` for -5 at scale 2: the point and at least one digit before it). NULL rows are empty.
    ``nulls`` has one flag per row or is empty (no NULL)."""
    n = values.size
    has_nulls = nulls.size != 0
    out = np.empty(n * (22 + scale), np.uint8)
    offsets = np.empty(n + 1, np.int64)
    offsets[0] = 0
    digits = np.empty(20 + scale, np.uint8)
    pos = 0
    for i in range(n):
        if has_nulls and nulls[i]:
            offsets[i + 1] = pos
            continue
        v = np.int64(values[i])
        if v == -9223372036854775807 - 1:
            for k in range(_INT64_MIN_TEXT.size):
                out[pos + k] = _INT64_MIN_TEXT[k]
            pos += _INT64_MIN_TEXT.size
            offsets[i + 1] = pos
            continue
        if v < 0:
            out[pos] = 45
            pos += 1
            v = -v
        k = 0
        while v > 0 or k <= scale:
            digits[k] = 48 + v % 10
            v //= 10
            k += 1
        for j in range(k - 1, -1, -1):
            out[pos] = digits[j]
            pos += 1
            if j == scale and scale > 0:
                out[pos] = 46
                pos += 1
        offsets[i + 1] = pos
    return out[:pos], offsets


# ---------------------------------------------------------------- floats as text


@njit(cache=True, nogil=True)
def floats_text(data: np.ndarray, offsets: np.ndarray, high: int) -> tuple[np.ndarray, np.ndarray]:
    """PostgreSQL's float text from Arrow's (the same shortest round-trip digits, other notation).

    Arrow writes ``nan``, ``inf``, ``-0``, ``123``, ``0.00001``, ``1e-7``, ``1.5e+300``; PostgreSQL
    writes fixed notation for decimal exponents in [-4, ``high``), else ``d.ddde+XX``, and ``NaN``,
    ``Infinity``, ``-Infinity``. NULL rows (empty in Arrow's output) stay empty.
    """
    n = offsets.size - 1
    out = np.empty(n * 32, np.uint8)
    new = np.empty(n + 1, np.int64)
    new[0] = 0
    digits = np.empty(32, np.uint8)
    pos = 0
    for i in range(n):
        start = offsets[i]
        stop = offsets[i + 1]
        if stop == start:
            new[i + 1] = pos
            continue
        p = start
        negative = data[p] == 45
        if negative:
            p += 1
        c = data[p]
        if c == 110:  # nan
            for b in (78, 97, 78):
                out[pos] = b
                pos += 1
            new[i + 1] = pos
            continue
        if negative:
            out[pos] = 45
            pos += 1
        if c == 105:  # inf
            for b in (73, 110, 102, 105, 110, 105, 116, 121):
                out[pos] = b
                pos += 1
            new[i + 1] = pos
            continue
        # digits (leading zeros dropped), where the point is, and the exponent after 'e'
        nd = 0
        point = -1
        before = 0  # digits kept before the point
        exponent = 0
        while p < stop:
            c = data[p]
            if c == 46:
                point = nd
            elif c == 101:
                exp_negative = data[p + 1] == 45
                q = p + 1 if data[p + 1] == 45 or data[p + 1] == 43 else p
                for r in range(q + 1, stop):
                    exponent = exponent * 10 + data[r] - 48
                if exp_negative:
                    exponent = -exponent
                break
            elif nd == 0 and c == 48:
                if point >= 0:
                    before -= 1  # a zero after the point, before the first digit
            elif nd < 20:  # Arrow writes at most 17; the bound keeps any input inside the buffers
                digits[nd] = c
                nd += 1
            p += 1
        if point < 0:
            point = nd
        while nd > 0 and digits[nd - 1] == 48:
            nd -= 1
        if nd == 0:
            out[pos] = 48
            pos += 1
            new[i + 1] = pos
            continue
        e10 = point + before + exponent - 1  # scientific exponent of the first digit
        if -4 <= e10 < high:
            if e10 >= 0:
                for k in range(e10 + 1):
                    out[pos] = digits[k] if k < nd else 48
                    pos += 1
                if nd > e10 + 1:
                    out[pos] = 46
                    pos += 1
                    for k in range(e10 + 1, nd):
                        out[pos] = digits[k]
                        pos += 1
            else:
                out[pos] = 48
                out[pos + 1] = 46
                pos += 2
                for _ in range(-e10 - 1):
                    out[pos] = 48
                    pos += 1
                for k in range(nd):
                    out[pos] = digits[k]
                    pos += 1
        else:
            out[pos] = digits[0]
            pos += 1
            if nd > 1:
                out[pos] = 46
                pos += 1
                for k in range(1, nd):
                    out[pos] = digits[k]
                    pos += 1
            out[pos] = 101
            out[pos + 1] = 45 if e10 < 0 else 43
            pos += 2
            a = -e10 if e10 < 0 else e10
            if a >= 100:
                out[pos] = 48 + a // 100
                pos += 1
            pos = _put2(out, pos, a % 100)
        new[i + 1] = pos
    return out[:pos], new


# ---------------------------------------------------------------- DataRow framing (pgwire.messages.encode_data_rows)
#
# A column arrives as ``data`` (uint8) with either ``width`` >= 0 (every value ``width`` bytes, row i at
# i * width) or ``width`` -1 and ``offsets`` (n + 1, int32 or int64, as Arrow keeps them). A row is NULL
# when ``nulls[i]`` (bool, empty if none) or its bit in the Arrow validity ``bits`` (empty if none, from
# bit ``bit0``) is clear.


@njit(cache=True, nogil=True)
def add_value_sizes(
    total: np.ndarray, offsets: np.ndarray, width: int, nulls: np.ndarray, bits: np.ndarray, bit0: int
) -> None:
    """Add each row's length word and value bytes of one column to ``total``."""
    has_nulls = nulls.size != 0
    has_bits = bits.size != 0
    for i in range(total.size):
        if (has_nulls and nulls[i]) or (has_bits and (bits[(bit0 + i) >> 3] >> ((bit0 + i) & 7)) & 1 == 0):
            total[i] += 4
        elif width >= 0:
            total[i] += 4 + width
        else:
            total[i] += 4 + offsets[i + 1] - offsets[i]


@njit(cache=True, nogil=True)
def row_heads(total: np.ndarray, type_code: int, ncols: int) -> tuple[np.ndarray, np.ndarray]:
    """The output buffer with every row's type byte, length and column count written, and where each
    row's first value goes. ``total`` holds each row's length word plus contents."""
    n = total.size
    size = 0
    for i in range(n):
        size += 1 + total[i]
    out = np.empty(size, np.uint8)
    cursor = np.empty(n, np.int64)
    pos = 0
    for i in range(n):
        t = total[i]
        out[pos] = type_code
        out[pos + 1] = (t >> 24) & 0xFF
        out[pos + 2] = (t >> 16) & 0xFF
        out[pos + 3] = (t >> 8) & 0xFF
        out[pos + 4] = t & 0xFF
        out[pos + 5] = (ncols >> 8) & 0xFF
        out[pos + 6] = ncols & 0xFF
        cursor[i] = pos + 7
        pos += 1 + t
    return out, cursor


@njit(cache=True, nogil=True)
def put_values(
    out: np.ndarray,
    cursor: np.ndarray,
    data: np.ndarray,
    offsets: np.ndarray,
    width: int,
    nulls: np.ndarray,
    bits: np.ndarray,
    bit0: int,
) -> None:
    """Write one column's length word and bytes into every row at ``cursor``, and move the cursor on."""
    has_nulls = nulls.size != 0
    has_bits = bits.size != 0
    for i in range(cursor.size):
        pos = cursor[i]
        if (has_nulls and nulls[i]) or (has_bits and (bits[(bit0 + i) >> 3] >> ((bit0 + i) & 7)) & 1 == 0):
            out[pos] = 0xFF
            out[pos + 1] = 0xFF
            out[pos + 2] = 0xFF
            out[pos + 3] = 0xFF
            cursor[i] = pos + 4
            continue
        if width >= 0:
            start = i * width
            length = width
        else:
            start = offsets[i]
            length = offsets[i + 1] - start
        out[pos] = (length >> 24) & 0xFF
        out[pos + 1] = (length >> 16) & 0xFF
        out[pos + 2] = (length >> 8) & 0xFF
        out[pos + 3] = length & 0xFF
        pos += 4
        for k in range(length):
            out[pos + k] = data[start + k]
        cursor[i] = pos + length
