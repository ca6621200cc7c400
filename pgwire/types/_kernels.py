"""numba kernels for the wire forms that Arrow cannot write fast enough, or not without a chain of
compute calls whose fixed cost outweighs a small batch: text of timestamps, integers, decimals and floats
(Ryu's shortest digits for float8), binary numeric, and the DataRow framing of a whole batch.

Each text kernel writes every row's text into one byte buffer and returns it with int64 offsets, so the
result becomes an Arrow large_string array without a copy. They release the GIL (nogil) so several
sessions can encode at once on the thread pool.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from columnar.civil import civil

_US_PER_DAY = 86_400_000_000
_MIN_US = -62_135_596_800_000_000  # 0001-01-01 in microseconds since 1970
_MAX_US = 253_402_300_800_000_000  # 10000-01-01


_TENS = np.array([48 + v // 10 for v in range(100)], np.uint8)  # the two digits of 0..99
_ONES = np.array([48 + v % 10 for v in range(100)], np.uint8)


@njit(cache=True, nogil=True)
def _put2(out: np.ndarray, pos: int, v: int) -> int:
    """The two digits of ``v`` (0..99) by table (no division); the position after them."""
    out[pos] = _TENS[v]
    out[pos + 1] = _ONES[v]
    return pos + 2


@njit(cache=True, nogil=True)
def _clock(out: np.ndarray, pos: int, in_day: int) -> int:
    secs = in_day // 1_000_000
    frac = in_day - secs * 1_000_000
    hours = secs // 3600
    rest = secs - hours * 3600  # (one division each for the hour and the minute: secs >= 0)
    minutes = rest // 60
    pos = _put2(out, pos, hours)
    out[pos] = 58
    pos = _put2(out, pos + 1, minutes)
    out[pos] = 58
    pos = _put2(out, pos + 1, rest - minutes * 60)
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
def _put_date(out: np.ndarray, pos: int, days: int) -> int:
    """``YYYY-MM-DD`` of ``days`` since 1970 (years 1-9999); the position after it."""
    year, month, day = civil(days)
    pos = _put2(out, pos, year // 100)
    pos = _put2(out, pos, year % 100)
    out[pos] = 45
    pos = _put2(out, pos + 1, month)
    out[pos] = 45
    return _put2(out, pos + 1, day)


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
    last_days = -(2**62)  # the day of the last date written, at out[last_at:last_at + 10]
    last_at = 0
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
        if date and days == last_days:  # rows in time order share days: copy the date written last
            for k in range(10):
                out[pos + k] = out[last_at + k]
            pos += 10
            if clock:
                out[pos] = 32
                pos += 1
        elif date:
            last_days = days
            last_at = pos
            pos = _put_date(out, pos, days)
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


def _small_words() -> tuple[np.ndarray, np.ndarray]:
    """The text of 0..9999 as one little-endian uint32 each (digits first, zero-padded), and its length."""
    words = np.zeros(_SMALL, np.uint32)
    lengths = np.zeros(_SMALL, np.int64)
    for v in range(_SMALL):
        text = str(v).encode()
        words[v] = int.from_bytes(text.ljust(4, b"\0"), "little")
        lengths[v] = len(text)
    return words, lengths


_SMALL = 10_000
_SMALL_WORDS, _SMALL_LENGTHS = _small_words()


@njit(cache=True, nogil=True)
def _small_integers_text(values: np.ndarray, nulls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """integers_text of values all in [0, 10000): each row's 4 table bytes stored whole, the cursor moved
    by its length (the bytes past it are overwritten by the next row; 4 a row always fit)."""
    n = values.size
    has_nulls = nulls.size != 0
    out = np.empty(n * 4, np.uint8)
    offsets = np.empty(n + 1, np.int64)
    offsets[0] = 0
    pos = 0
    for i in range(n):
        if not (has_nulls and nulls[i]):
            v = values[i]
            w = _SMALL_WORDS[v]
            out[pos] = w & 0xFF
            out[pos + 1] = (w >> 8) & 0xFF
            out[pos + 2] = (w >> 16) & 0xFF
            out[pos + 3] = (w >> 24) & 0xFF
            pos += _SMALL_LENGTHS[v]
        offsets[i + 1] = pos
    return out[:pos], offsets


@njit(cache=True, nogil=True)
def integers_text(values: np.ndarray, nulls: np.ndarray, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """Decimal text of integers; with ``scale`` > 0 of decimals whose unscaled values these are
    (``-0.05`` for -5 at scale 2: the point and at least one digit before it). NULL rows are empty.
    ``nulls`` has one flag per row or is empty (no NULL)."""
    n = values.size
    has_nulls = nulls.size != 0
    if scale == 0:  # small non-negative integers (counts, percentages, codes) by table
        small = True
        for i in range(n):
            if not (has_nulls and nulls[i]) and not (0 <= values[i] < _SMALL):
                small = False
                break
        if small:
            return _small_integers_text(values, nulls)
    out = np.empty(n * (22 + scale), np.uint8)
    offsets = np.empty(n + 1, np.int64)
    offsets[0] = 0
    digits = np.empty(20 + scale, np.uint8)
    pos = 0
    for i in range(n):
        if not (has_nulls and nulls[i]):
            pos = _put_int(out, pos, np.int64(values[i]), digits, scale)
        offsets[i + 1] = pos
    return out[:pos], offsets


@njit(cache=True, nogil=True)
def _put_int(out: np.ndarray, pos: int, v: np.int64, digits: np.ndarray, scale: int) -> int:
    """Decimal text of ``v`` (of the decimal with ``scale`` digits after the point whose unscaled value
    it is), using ``digits`` (20 + scale bytes) as scratch; the position after it."""
    if v == -9223372036854775807 - 1:
        for k in range(_INT64_MIN_TEXT.size):
            out[pos + k] = _INT64_MIN_TEXT[k]
        return pos + _INT64_MIN_TEXT.size
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
    return pos


# ---------------------------------------------------------------- floats as text


@njit(cache=True, nogil=True)
def _put_decimal(out: np.ndarray, pos: int, digits: np.ndarray, nd: int, e10: int, high: int) -> int:
    """Write the ``nd`` ASCII ``digits`` (no trailing zero) of a number whose first digit has the decimal
    exponent ``e10``: fixed notation for -4 <= e10 < ``high``, else ``d.ddde+XX`` (PostgreSQL's float text)."""
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
        return pos
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
    return _put2(out, pos, a % 100)


@njit(cache=True, nogil=True)
def _put_special(out: np.ndarray, pos: int, nan: bool, negative: bool) -> int:
    """PostgreSQL's text of a float that has no digits: ``NaN`` (never signed), ``Infinity`` or
    ``-Infinity``; the position after it."""
    if nan:
        for b in (78, 97, 78):
            out[pos] = b
            pos += 1
        return pos
    if negative:
        out[pos] = 45
        pos += 1
    for b in (73, 110, 102, 105, 110, 105, 116, 121):
        out[pos] = b
        pos += 1
    return pos


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
        if c == 110 or c == 105:  # nan, inf
            pos = _put_special(out, pos, c == 110, negative)
            new[i + 1] = pos
            continue
        if negative:
            out[pos] = 45
            pos += 1
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
        pos = _put_decimal(out, pos, digits, nd, point + before + exponent - 1, high)
        new[i + 1] = pos
    return out[:pos], new


# ---------------------------------------------------------------- DataRow framing (pgwire.types._rows)
#
# One kernel writes every row whole, front to back, reading each column through raw addresses: the columns
# differ in kind (fixed width, int32 or int64 offsets, a NULL mask or Arrow validity bits), and a table of
# addresses lets one compiled kernel take any mix of them. The caller keeps the arrays alive and describes
# them truthfully; the kernel checks only that it stays inside ``out``.

# the fields of a column's row in the table data_rows reads (pgwire.types._rows builds it)
COL_DATA, COL_DATA_SIZE, COL_OFFSETS, COL_OFFSET_SIZE, COL_WIDTH, COL_NULLS, COL_BITS, COL_BIT0 = range(8)
COL_KIND, COL_UNIT, COL_COUNT = 8, 9, 10
COLUMN_FIELDS = 11
# what a column's values are (COL_KIND): bytes sent as they are (fixed-width or with offsets), or values the
# kernel writes as text itself from their Arrow buffer (COL_DATA, row 0's address): integers of COL_WIDTH
# bytes, float8 bit patterns, or int64 timestamps in COL_UNIT (1: microseconds, 1000: nanoseconds) since
# 1970 UTC, with ``+00`` when COL_WIDTH is 1 (timestamptz in a UTC session) or without (timestamp); or
# dictionary-encoded bytes: indices of COL_WIDTH bytes at COL_DATA into a dictionary of COL_COUNT values
# whose offsets are at COL_OFFSETS (COL_OFFSET_SIZE each) and bytes at COL_UNIT (COL_DATA_SIZE of them)
KIND_BYTES, KIND_INT, KIND_FLOAT8, KIND_TIMESTAMP, KIND_DICTIONARY = 0, 1, 2, 3, 4
VALUE_TEXT_MAX = 36  # the longest text of such a value (a timestamp with fraction and suffix: 29)
ODD_VALUE = -2  # data_rows' answer for a timestamp it does not write (infinite, or a year outside 1-9999)


def _loader(kind):  # type: ignore[no-untyped-def]
    """An intrinsic reading the ``kind`` (a numba integer type) at an int64 address, any alignment."""

    @intrinsic
    def load(typingctx, addr):  # type: ignore[no-untyped-def]
        def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
            ptr = builder.inttoptr(args[0], context.get_value_type(types.CPointer(kind)))
            return builder.load(ptr, align=1)

        return kind(types.int64), codegen

    return load


_u8_at = _loader(types.uint8)
_i8_at = _loader(types.int8)
_i16_at = _loader(types.int16)
_i32_at = _loader(types.int32)
_i64_at = _loader(types.int64)


@intrinsic
def _put_u64(typingctx, addr, value):  # type: ignore[no-untyped-def]
    """Store the 8 bytes of ``value`` (native order) at an int64 address, any alignment."""

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        ptr = builder.inttoptr(args[0], context.get_value_type(types.CPointer(types.int64)))
        builder.store(args[1], ptr, align=1)
        return context.get_dummy_value()

    return types.void(types.int64, types.int64), codegen


@intrinsic
def _put_u32(typingctx, addr, value):  # type: ignore[no-untyped-def]
    """Store the low 32 bits of ``value`` (native order) at an int64 address, any alignment."""

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        i32 = context.get_value_type(types.int32)
        ptr = builder.inttoptr(args[0], i32.as_pointer())
        builder.store(builder.trunc(args[1], i32), ptr, align=1)
        return context.get_dummy_value()

    return types.void(types.int64, types.int64), codegen


@intrinsic
def _put_be32(typingctx, addr, value):  # type: ignore[no-untyped-def]
    """Store the low 32 bits of ``value`` big-endian at an int64 address, any alignment."""

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        i32 = context.get_value_type(types.int32)
        ptr = builder.inttoptr(args[0], i32.as_pointer())
        builder.store(builder.bswap(builder.trunc(args[1], i32)), ptr, align=1)
        return context.get_dummy_value()

    return types.void(types.int64, types.int64), codegen


@intrinsic
def _copy_bytes(typingctx, dst, src, count):  # type: ignore[no-untyped-def]
    """memcpy ``count`` bytes from address ``src`` to address ``dst`` (the ranges do not overlap)."""

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        u8p = context.get_value_type(types.CPointer(types.uint8))
        d = builder.inttoptr(args[0], u8p)
        s = builder.inttoptr(args[1], u8p)
        cgutils.raw_memcpy(builder, d, s, args[2], 1)
        return context.get_dummy_value()

    return types.void(types.int64, types.int64, types.int64), codegen


@njit(cache=True, nogil=True)
def data_rows(out: np.ndarray, columns: np.ndarray, n: int, type_code: int) -> int:
    """Write ``n`` messages 'type_code' | int32 length | int16 column count | (int32 length | bytes)* into
    ``out``, row after row; returns the bytes written, or -1 if ``out`` is too small.

    ``columns`` has one row per column (see :data:`COLUMN_FIELDS`): the address and size of its data; the
    address of its offsets (n + 1) and their size, 4 or 8, or size 0 for fixed-width values of ``width``
    bytes each at row * width (the caller checks the data holds n of them); the address of a bool NULL
    mask (0: none); of Arrow validity bits (0: none) and the first bit's index. Returns -1 also when an
    offset points outside the data.

    A value of up to 16 bytes goes as two 8-byte words when its data and ``out`` have room for them: the
    bytes written past its end are written again by what follows it (rows are written front to back).

    A column of another :data:`COL_KIND` than bytes is written as text from its values here (each at most
    :data:`VALUE_TEXT_MAX` bytes), which saves a pass over the data and a kernel call per column; a
    timestamp it cannot write so makes it stop with :data:`ODD_VALUE` (the caller encodes the batch
    column by column instead).
    """
    ncols = columns.shape[0]
    cap = out.size
    if ncols <= 0:
        # Apart, so that LLVM knows the main loop has columns: it would version that loop for none, with a
        # trip count in 128-bit division (a call to __udivti3, which numba's JIT leaves unlinked: a crash).
        if 7 * n > cap:
            return -1
        for i in range(n):
            out[7 * i : 7 * i + 7] = 0
            out[7 * i] = type_code
            out[7 * i + 4] = 6
        return 7 * n
    base = out.ctypes.data
    digits = np.empty(24, np.uint8)
    day_of = np.full(ncols, -(2**62), np.int64)  # per timestamp column: the day of the date it wrote last
    day_at = np.zeros(ncols, np.int64)  # ... and where in ``out``
    pos = 0
    for i in range(n):
        head = pos
        if pos + 7 > cap:
            return -1
        out[pos] = type_code
        out[pos + 5] = (ncols >> 8) & 0xFF
        out[pos + 6] = ncols & 0xFF
        pos += 7
        for c in range(ncols):
            nulls = columns[c, COL_NULLS]
            bits = columns[c, COL_BITS]
            null = nulls != 0 and _u8_at(nulls + i) != 0
            if not null and bits != 0:
                b = columns[c, COL_BIT0] + i
                null = (_u8_at(bits + (b >> 3)) >> (b & 7)) & 1 == 0
            if null:
                if pos + 4 > cap:
                    return -1
                _put_be32(base + pos, -1)
                pos += 4
                continue
            kind = columns[c, COL_KIND]
            if kind != KIND_BYTES and kind != KIND_DICTIONARY:
                if pos + 4 + VALUE_TEXT_MAX > cap:
                    return -1
                at = pos + 4
                src = columns[c, COL_DATA]
                if kind == KIND_INT:
                    width = columns[c, COL_WIDTH]
                    if width == 8:
                        v = _i64_at(src + 8 * i)
                    elif width == 4:
                        v = np.int64(_i32_at(src + 4 * i))
                    elif width == 2:
                        v = np.int64(_i16_at(src + 2 * i))
                    else:
                        v = np.int64(_i8_at(src + i))
                    if 0 <= v < _SMALL:  # the 4 table bytes stored whole (VALUE_TEXT_MAX leaves room)
                        _put_u32(base + at, np.int64(_SMALL_WORDS[v]))
                        end = at + _SMALL_LENGTHS[v]
                    else:
                        end = _put_int(out, at, v, digits, 0)
                elif kind == KIND_FLOAT8:
                    end = _put_float8(out, at, _i64_at(src + 8 * i), digits, 15)
                else:
                    us = _i64_at(src + 8 * i)
                    unit = columns[c, COL_UNIT]
                    if unit != 1:  # toward zero, as PostgreSQL keeps microseconds
                        q = us // unit
                        us = q + 1 if us < 0 and q * unit != us else q
                    if us < _MIN_US or us >= _MAX_US:
                        return ODD_VALUE
                    days = us // _US_PER_DAY
                    if days == day_of[c]:  # rows in time order share days: copy the date written last
                        _put_u64(base + at, _i64_at(base + day_at[c]))
                        out[at + 8] = out[day_at[c] + 8]
                        out[at + 9] = out[day_at[c] + 9]
                        end = at + 10
                    else:
                        day_of[c] = days
                        day_at[c] = at
                        end = _put_date(out, at, days)
                    out[end] = 32
                    end = _clock(out, end + 1, us - days * _US_PER_DAY)
                    if columns[c, COL_WIDTH] == 1:
                        out[end] = 43
                        out[end + 1] = 48
                        out[end + 2] = 48
                        end += 3
                _put_be32(base + pos, end - at)
                pos = end
                continue
            size = columns[c, COL_OFFSET_SIZE]
            data = columns[c, COL_DATA]
            value = i
            if kind == KIND_DICTIONARY:  # the bytes of the dictionary's value at this row's index
                width = columns[c, COL_WIDTH]
                if width == 4:
                    value = np.int64(_i32_at(data + 4 * i))
                elif width == 8:
                    value = _i64_at(data + 8 * i)
                elif width == 2:
                    value = np.int64(_i16_at(data + 2 * i))
                else:
                    value = np.int64(_i8_at(data + i))
                if value < 0 or value >= columns[c, COL_COUNT]:
                    return -1
                data = columns[c, COL_UNIT]
            if size == 0:
                length = columns[c, COL_WIDTH]
                start = i * length
            else:
                if size == 8:
                    at = columns[c, COL_OFFSETS] + 8 * value
                    start = _i64_at(at)
                    length = _i64_at(at + 8) - start
                else:
                    at = columns[c, COL_OFFSETS] + 4 * value
                    start = np.int64(_i32_at(at))
                    length = np.int64(_i32_at(at + 4)) - start
                if start < 0 or length < 0 or start + length > columns[c, COL_DATA_SIZE]:
                    return -1
            if pos + 4 + length > cap:
                return -1
            _put_be32(base + pos, length)
            pos += 4
            src = data + start
            dst = base + pos
            if length <= 16 and start + 16 <= columns[c, COL_DATA_SIZE] and pos + 16 <= cap:
                _put_u64(dst, _i64_at(src))
                if length > 8:
                    _put_u64(dst + 8, _i64_at(src + 8))
            elif length <= 16:
                for k in range(length):
                    out[pos + k] = _u8_at(src + k)
            else:
                _copy_bytes(dst, src, length)
            pos += length
        _put_be32(base + head + 1, pos - head - 1)
    return pos


# ---------------------------------------------------------------- DataRows of an exported Arrow record batch
#
# pgwire.types._rows.BatchRows hands data_rows a whole record batch as Arrow's C data interface exports it
# (``RecordBatch._export_to_c``: one call, where wrapping each column as a Python array and reading its
# buffers cost ~1.7 us a column). The kernel below reads the columns' addresses from that struct ArrowArray,
# a stable ABI: int64 length, null_count, offset, n_buffers, n_children at bytes 0-39, then the addresses
# of the buffers' address array, the children's address array, the dictionary and the release callback.
# The struct ArrowSchema exported with it says each column's type: the addresses of its format string
# (``l`` int64, ``u`` string, ``tsu:UTC`` ...), name and metadata, int64 flags and n_children, the addresses
# of the children's address array, the dictionary's schema and the release callback.
_A_LENGTH, _A_NULL_COUNT, _A_OFFSET, _A_N_BUFFERS, _A_N_CHILDREN = 0, 8, 16, 24, 32
_A_BUFFERS, _A_CHILDREN, _A_DICTIONARY, _A_RELEASE = 40, 48, 56, 64
_S_FORMAT, _S_METADATA, _S_N_CHILDREN, _S_CHILDREN, _S_DICTIONARY, _S_RELEASE = 0, 16, 32, 40, 48, 56
ARROW_ARRAY_WORDS, ARROW_SCHEMA_WORDS = 10, 9  # the structs' sizes in int64 words
# how batch_rows reads a column (``reads[c, 0]``; ``reads[c, 1]`` is the byte width of a value, of an
# offset, or of a dictionary index, ``reads[c, 2]`` a dictionary's offset width): fixed-width values at
# buffer 1; Arrow string/binary (offsets at buffer 1, bytes at buffer 2); a dictionary's indices at buffer 1
READ_FIXED, READ_VAR, READ_DICTIONARY = 0, 1, 2
NOT_READ = -3  # batch_rows' answer for a batch it does not read as planned (the caller encodes it otherwise)
NOT_PLANNED = -4  # ... for a batch whose column types are not those planned for


@intrinsic
def _release(typingctx, addr, slot):  # type: ignore[no-untyped-def]
    """Call the release callback at byte ``slot`` of the exported struct at ``addr`` with its address
    (what the struct's consumer must do once)."""

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        i8p = ir.IntType(8).as_pointer()
        callback = ir.FunctionType(ir.VoidType(), [i8p]).as_pointer()
        fn = builder.load(builder.inttoptr(builder.add(args[0], args[1]), callback.as_pointer()))
        builder.call(fn, [builder.inttoptr(args[0], i8p)])
        return context.get_dummy_value()

    return types.void(types.int64, types.int64), codegen


@njit(cache=True, nogil=True)
def batch_rows(
    template: np.ndarray,
    reads: np.ndarray,
    expected: np.ndarray,
    batch: int,
    schema: int,
    n: int,
    type_code: int,
) -> tuple[int, np.ndarray]:
    """data_rows of the first ``n`` rows of the record batch exported (and released here) at addresses
    ``batch`` (its struct ArrowArray) and ``schema`` (its struct ArrowSchema): ``template`` is data_rows'
    column table with what the types decide filled in (kind, width, unit), ``reads`` how to find each
    column's values (READ_*), ``expected`` the NUL-terminated formats of the types planned for, each
    column's (and for a dictionary, then its values'). Returns (bytes written, buffer), or a negative
    count: data_rows' -1 or ODD_VALUE; :data:`NOT_PLANNED` when a column's type is not the one planned
    for (or has metadata); :data:`NOT_READ` when the batch is not as planned (fewer rows, a missing
    buffer, a dictionary with NULL values)."""
    if _same_types(reads, expected, schema):
        written, out = _batch_rows(template, reads, batch, n, type_code)
    else:
        written, out = NOT_PLANNED, np.empty(0, np.uint8)
    _release(schema, _S_RELEASE)
    _release(batch, _A_RELEASE)
    return written, out


@njit(cache=True, nogil=True)
def _same_types(reads: np.ndarray, expected: np.ndarray, schema: int) -> bool:
    """Whether the exported schema's columns have the formats ``expected`` holds, no metadata (an
    extension type has some), and a dictionary exactly where ``reads`` plans one."""
    ncols = reads.shape[0]
    if _i64_at(schema + _S_N_CHILDREN) != ncols:
        return False
    children = _i64_at(schema + _S_CHILDREN)
    at = 0
    for c in range(ncols):
        child = _i64_at(children + 8 * c)
        dictionary = _i64_at(child + _S_DICTIONARY)
        if (dictionary != 0) != (reads[c, 0] == READ_DICTIONARY) or _i64_at(child + _S_METADATA) != 0:
            return False
        at = _same_format(_i64_at(child + _S_FORMAT), expected, at)
        if at < 0:
            return False
        if dictionary != 0:
            if _i64_at(dictionary + _S_METADATA) != 0 or _i64_at(dictionary + _S_DICTIONARY) != 0:
                return False
            at = _same_format(_i64_at(dictionary + _S_FORMAT), expected, at)
            if at < 0:
                return False
    return at == expected.size


@njit(cache=True, nogil=True)
def _same_format(text: int, expected: np.ndarray, at: int) -> int:
    """Whether the NUL-terminated string at address ``text`` is the one at ``expected[at:]``: the position
    after the expected one's NUL, or -1."""
    k = 0
    while at + k < expected.size:
        b = _u8_at(text + k)
        if b != expected[at + k]:
            return -1
        if b == 0:
            return at + k + 1
        k += 1
    return -1


@njit(cache=True, nogil=True)
def _batch_rows(
    template: np.ndarray, reads: np.ndarray, batch: int, n: int, type_code: int
) -> tuple[int, np.ndarray]:
    ncols = template.shape[0]
    none = np.empty(0, np.uint8)
    if (
        _i64_at(batch + _A_N_CHILDREN) != ncols
        or _i64_at(batch + _A_OFFSET) != 0
        or _i64_at(batch + _A_LENGTH) < n
    ):
        return NOT_READ, none
    table = template.copy()
    children = _i64_at(batch + _A_CHILDREN)
    bound = n * (7 + 4 * ncols)
    for c in range(ncols):
        child = _i64_at(children + 8 * c)
        offset = _i64_at(child + _A_OFFSET)
        how = reads[c, 0]
        width = reads[c, 1]
        if (
            _i64_at(child + _A_LENGTH) < n
            or offset < 0
            or _i64_at(child + _A_N_BUFFERS) < 2 + (how == READ_VAR)
        ):
            return NOT_READ, none
        buffers = _i64_at(child + _A_BUFFERS)
        validity = _i64_at(buffers)
        if validity != 0 and _i64_at(child + _A_NULL_COUNT) != 0:  # (-1: not counted yet)
            table[c, COL_BITS] = validity
            table[c, COL_BIT0] = offset
        values = _i64_at(buffers + 8)
        if values == 0:
            return NOT_READ, none
        if how == READ_FIXED:
            table[c, COL_DATA] = values + offset * width
            bound += n * VALUE_TEXT_MAX
        elif how == READ_VAR:
            span = _var_column(table, c, values + offset * width, width, _i64_at(buffers + 16), n)
            if span < 0:
                return -1, none
            bound += span
        else:
            dictionary = _i64_at(child + _A_DICTIONARY)
            if dictionary == 0 or _i64_at(dictionary + _A_N_BUFFERS) < 3:
                return NOT_READ, none
            count = _i64_at(dictionary + _A_LENGTH)
            start = _i64_at(dictionary + _A_OFFSET)
            words = _i64_at(dictionary + _A_BUFFERS)
            if count < 0 or start < 0 or (_i64_at(words) != 0 and _i64_at(dictionary + _A_NULL_COUNT) != 0):
                return NOT_READ, none
            size = reads[c, 2]
            offsets = _i64_at(words + 8) + start * size
            if (
                _i64_at(words + 8) == 0
                or _var_column(table, c, offsets, size, _i64_at(words + 16), count) < 0
            ):
                return -1, none
            longest = 0
            for k in range(count):
                if size == 8:
                    length = _i64_at(offsets + 8 * k + 8) - _i64_at(offsets + 8 * k)
                else:
                    length = np.int64(_i32_at(offsets + 4 * k + 4)) - np.int64(_i32_at(offsets + 4 * k))
                longest = max(longest, length)
            table[c, COL_UNIT] = table[c, COL_DATA]
            table[c, COL_DATA] = values + offset * width
            table[c, COL_COUNT] = count
            bound += n * longest
    out = np.empty(bound, np.uint8)
    return data_rows(out, table, n, type_code), out


@njit(cache=True, nogil=True)
def _var_column(table: np.ndarray, c: int, offsets: int, size: int, data: int, count: int) -> int:
    """Fill column ``c`` of data_rows' table for ``count`` Arrow string/binary values whose offsets
    (``size`` bytes each, the array's offset applied) are at ``offsets`` and bytes at ``data``; returns
    the bytes of those values, or -1 for offsets that cannot be (the table then says nothing)."""
    if size == 8:
        first = _i64_at(offsets)
        last = _i64_at(offsets + 8 * count)
    else:
        first = np.int64(_i32_at(offsets))
        last = np.int64(_i32_at(offsets + 4 * count))
    if first < 0 or last < first or (data == 0 and last > 0):
        return -1
    table[c, COL_DATA] = data
    table[c, COL_DATA_SIZE] = last  # reads end there: bytes up to the last offset are the array's
    table[c, COL_OFFSETS] = offsets
    table[c, COL_OFFSET_SIZE] = size
    return last - first


# ---------------------------------------------------------------- float8 as text: Ryu's shortest round-trip digits
#
# Ulf Adams, "Ryū: fast float-to-string conversion" (PLDI 2018), the d2s algorithm of the reference C code:
# the shortest decimal in the rounding interval of a double, nearest to it, ties to even (what PostgreSQL
# 12+ writes with extra_float_digits 1). Tables of 5^i and 2^k / 5^i with 125 significant bits each, as
# (low, high) uint64 halves, computed at import with Python integers.

_POW5_INV_BITCOUNT = 125
_POW5_BITCOUNT = 125


def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    mask = (1 << 64) - 1
    inv_lo, inv_hi, pos_lo, pos_hi = [], [], [], []
    for i in range(342):
        p = 5**i
        inv = (1 << (p.bit_length() - 1 + _POW5_INV_BITCOUNT)) // p + 1
        inv_lo.append(inv & mask)
        inv_hi.append(inv >> 64)
    for i in range(326):
        p = 5**i
        shift = p.bit_length() - _POW5_BITCOUNT
        v = p >> shift if shift > 0 else p << -shift
        pos_lo.append(v & mask)
        pos_hi.append(v >> 64)
    return tuple(np.array(t, np.uint64) for t in (inv_lo, inv_hi, pos_lo, pos_hi))  # type: ignore[return-value]


_INV_LO, _INV_HI, _POS_LO, _POS_HI = _tables()
_M32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)


@njit(cache=True, nogil=True)
def _mul_shift(m: int, lo: np.uint64, hi: np.uint64, j: int) -> int:
    """floor(m * (hi * 2^64 + lo) / 2^j) for m < 2^56 and 64 < j < 128."""
    a = np.uint64(m)
    a0 = a & _M32
    a1 = a >> _S32
    # m * lo: only its high 64 bits count
    b0 = lo & _M32
    b1 = lo >> _S32
    p00 = a0 * b0
    p01 = a0 * b1
    p10 = a1 * b0
    mid = (p00 >> _S32) + (p01 & _M32) + (p10 & _M32)
    lo_high = a1 * b1 + (p01 >> _S32) + (p10 >> _S32) + (mid >> _S32)
    # m * hi as 128 bits
    c0 = hi & _M32
    c1 = hi >> _S32
    q00 = a0 * c0
    q01 = a0 * c1
    q10 = a1 * c0
    mid2 = (q00 >> _S32) + (q01 & _M32) + (q10 & _M32)
    h_lo = (mid2 << _S32) | (q00 & _M32)
    h_hi = a1 * c1 + (q01 >> _S32) + (q10 >> _S32) + (mid2 >> _S32)
    s_lo = h_lo + lo_high
    s_hi = h_hi + (np.uint64(1) if s_lo < h_lo else np.uint64(0))
    dist = np.uint64(j - 64)
    return np.int64((s_hi << (np.uint64(64) - dist)) | (s_lo >> dist))


@njit(cache=True, nogil=True)
def _pow5_factor(v: int) -> int:
    count = 0
    while v > 0 and v % 5 == 0:
        v //= 5
        count += 1
    return count


@njit(cache=True, nogil=True)
def _shortest(bits: int) -> tuple[int, int]:
    """(digits, exponent) with digits * 10^exponent the shortest nearest decimal of a finite nonzero double."""
    mantissa = bits & ((1 << 52) - 1)
    biased = (bits >> 52) & 0x7FF
    if biased == 0:
        e2 = 1 - 1023 - 52 - 2
        m2 = mantissa
    else:
        e2 = biased - 1023 - 52 - 2
        m2 = (1 << 52) | mantissa
    accept_bounds = (m2 & 1) == 0
    mv = 4 * m2
    mm_shift = 1 if (mantissa != 0 or biased <= 1) else 0
    vm_trailing = False
    vr_trailing = False
    if e2 >= 0:
        q = ((e2 * 78913) >> 18) - (1 if e2 > 3 else 0)
        e10 = q
        k = _POW5_INV_BITCOUNT + ((q * 1217359) >> 19) + 1 - 1
        i = -e2 + q + k
        lo = _INV_LO[q]
        hi = _INV_HI[q]
        vr = _mul_shift(4 * m2, lo, hi, i)
        vp = _mul_shift(4 * m2 + 2, lo, hi, i)
        vm = _mul_shift(4 * m2 - 1 - mm_shift, lo, hi, i)
        if q <= 21:
            if mv % 5 == 0:
                vr_trailing = _pow5_factor(mv) >= q
            elif accept_bounds:
                vm_trailing = _pow5_factor(mv - 1 - mm_shift) >= q
            else:
                vp -= 1 if _pow5_factor(mv + 2) >= q else 0
    else:
        q = ((-e2 * 732923) >> 20) - (1 if -e2 > 1 else 0)
        e10 = q + e2
        i = -e2 - q
        k = ((i * 1217359) >> 19) + 1 - _POW5_BITCOUNT
        j = q - k
        lo = _POS_LO[i]
        hi = _POS_HI[i]
        vr = _mul_shift(4 * m2, lo, hi, j)
        vp = _mul_shift(4 * m2 + 2, lo, hi, j)
        vm = _mul_shift(4 * m2 - 1 - mm_shift, lo, hi, j)
        if q <= 1:
            vr_trailing = True
            if accept_bounds:
                vm_trailing = mm_shift == 1
            else:
                vp -= 1
        elif q < 63:
            vr_trailing = (mv & ((1 << q) - 1)) == 0
    removed = 0
    last = 0
    if vm_trailing or vr_trailing:
        while vp // 10 > vm // 10:
            vm_trailing = vm_trailing and vm % 10 == 0
            vr_trailing = vr_trailing and last == 0
            last = vr % 10
            vr //= 10
            vp //= 10
            vm //= 10
            removed += 1
        if vm_trailing:
            while vm % 10 == 0:
                vr_trailing = vr_trailing and last == 0
                last = vr % 10
                vr //= 10
                vp //= 10
                vm //= 10
                removed += 1
        if vr_trailing and last == 5 and vr % 2 == 0:
            last = 4
        up = (vr == vm and (not accept_bounds or not vm_trailing)) or last >= 5
        return vr + (1 if up else 0), e10 + removed
    round_up = False
    if vp // 100 > vm // 100:
        round_up = vr % 100 >= 50
        vr //= 100
        vp //= 100
        vm //= 100
        removed += 2
    while vp // 10 > vm // 10:
        round_up = vr % 10 >= 5
        vr //= 10
        vp //= 10
        vm //= 10
        removed += 1
    return vr + (1 if (vr == vm or round_up) else 0), e10 + removed


@njit(cache=True, nogil=True)
def float8_text(bits: np.ndarray, nulls: np.ndarray, high: int) -> tuple[np.ndarray, np.ndarray]:
    """PostgreSQL's float8 text of doubles given as their int64 bit patterns (see ``_put_decimal``)."""
    n = bits.size
    has_nulls = nulls.size != 0
    out = np.empty(n * 26, np.uint8)
    offsets = np.empty(n + 1, np.int64)
    offsets[0] = 0
    digits = np.empty(20, np.uint8)
    pos = 0
    for i in range(n):
        if not (has_nulls and nulls[i]):
            pos = _put_float8(out, pos, bits[i], digits, high)
        offsets[i + 1] = pos
    return out[:pos], offsets


@njit(cache=True, nogil=True)
def _put_float8(out: np.ndarray, pos: int, b: np.int64, digits: np.ndarray, high: int) -> int:
    """PostgreSQL's float8 text of the double whose int64 bit pattern is ``b`` (at most 26 bytes), using
    ``digits`` (20 bytes) as scratch; the position after it."""
    negative = b < 0
    magnitude = b & 0x7FFFFFFFFFFFFFFF
    if magnitude >= 0x7FF0000000000000:  # NaN (any payload) or an infinity
        return _put_special(out, pos, magnitude > 0x7FF0000000000000, negative)
    if negative:
        out[pos] = 45
        pos += 1
    if magnitude == 0:
        out[pos] = 48
        return pos + 1
    value, exponent = _shortest(magnitude)
    nd = 0
    while value > 0:
        digits[nd] = 48 + value % 10
        value //= 10
        nd += 1
    for k in range(nd // 2):  # most significant first
        t = digits[k]
        digits[k] = digits[nd - 1 - k]
        digits[nd - 1 - k] = t
    while nd > 1 and digits[nd - 1] == 48:
        nd -= 1
        exponent += 1
    return _put_decimal(out, pos, digits, nd, exponent + nd - 1, high)
