"""numba kernels for the text forms that Arrow cannot write fast enough (timestamps above all).

Each kernel writes every row's text into one byte buffer and returns it with int64 offsets, so the
result becomes an Arrow large_string array without a copy. They release the GIL (nogil) so several
sessions can encode at once on the thread pool.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_US_PER_DAY = 86_400_000_000


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
def timestamps_text(micros: np.ndarray, nulls: np.ndarray, table: np.ndarray, table_len: np.ndarray,
                    which: np.ndarray, date: bool, clock: bool) -> tuple[np.ndarray, np.ndarray]:
    """``YYYY-MM-DD``, ``HH:MM:SS[.f]`` or both, then suffix ``table[which[i]]`` (years 1-9999)."""
    n = micros.size
    width = (11 if date else 0) + (15 if clock else 0) + table.shape[1]
    out = np.empty(n * width, np.uint8)
    offsets = np.empty(n + 1, np.int64)
    offsets[0] = 0
    pos = 0
    for i in range(n):
        if not nulls[i]:
            us = micros[i]
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
            k = which[i]
            for j in range(table_len[k]):
                out[pos] = table[k, j]
                pos += 1
        offsets[i + 1] = pos
    return out[:pos], offsets


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
