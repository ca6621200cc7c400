"""Exact decimal → float64 conversion inside numba: the parser's float values without Python ``float()``.

A float field ``d1 d2 ... dn . f1 ... fm e±x`` reaches :func:`decimal_to_bits` as a significand ``w``
(its first at most 19 significant digits, so it fits a uint64) and a power of ten ``q``; the value is
``w × 10^q``. The result must equal what Python's ``float()`` (correct rounding, ties to even) gives.

Two routes, both exact:

* **Clinger's fast path**: ``w ≤ 2^53`` and ``|q| ≤ 22``. Then ``w`` and ``10^|q|`` are both exact
  float64 values, and one IEEE multiplication or division rounds correctly. Covers most metrics
  (integers, a few decimals).
* **Eisel–Lemire** (Lemire, "Number Parsing at a Gigabyte per Second", 2021, with the Mushtak–Lemire
  proof that a 128-bit power-of-five approximation always suffices for 19-digit significands, 2023):
  multiply the normalised ``w`` by a 128-bit truncated approximation of ``5^q``, keep 55 bits, round to
  53 bits. Handles the 16–17 digit shortest-round-trip floats that Telegraf and client libraries write.

Significands longer than 19 digits are not handled here: the scanner flags them and Python's
``float()`` converts them (rare: they only arise from hand-written or over-precise input).

Power-of-five table (651 rows, q = -342 … 308), two uint64 words per row (high, low):

=========  ===============================================================================
q ≥ 0      ``5^q`` shifted so its top bit is bit 127, truncated to 128 bits (exact for q ≤ 55)
q < 0      ``floor(2^b / 5^-q) + 1`` for ``b`` large enough, then truncated to 128 bits with its
           top bit at bit 127 (an approximation from above of ``2^b' / 5^-q``)
=========  ===============================================================================

The table is computed at import with Python integers (a few milliseconds); nothing is copied from
elsewhere.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.cpython.unsafe.numbers import leading_zeros

inline_kernel = njit(cache=True, nogil=True, inline="always")
kernel = njit(cache=True, nogil=True)  # called, not inlined: inlining this much IR costs seconds of compile

SMALLEST_POWER = -342  # below: the value rounds to zero whatever the 19-digit significand
LARGEST_POWER = 308  # above: the value overflows to infinity

U1 = np.uint64(1)
U2 = np.uint64(2)
U3 = np.uint64(3)
U32 = np.uint64(32)
U52 = np.uint64(52)
U63 = np.uint64(63)
M32 = np.uint64(0xFFFFFFFF)
MASK9 = np.uint64(0x1FF)  # 64 - 55 low bits of the high word: all ones means the product may be inexact
HIDDEN = np.uint64(1 << 52)
TWO_HIDDEN = np.uint64(2 << 52)
INF_BITS = np.uint64(0x7FF << 52)
MAX_FAST_W = np.uint64(1 << 53)


def _power_of_five_table() -> tuple[np.ndarray, np.ndarray]:
    hi = np.empty(LARGEST_POWER - SMALLEST_POWER + 1, dtype=np.uint64)
    lo = np.empty_like(hi)
    for i, q in enumerate(range(SMALLEST_POWER, LARGEST_POWER + 1)):
        if q >= 0:
            p = 5**q
            shift = 128 - p.bit_length()
            v = p << shift if shift >= 0 else p >> -shift
        else:
            p = 5**-q
            z = p.bit_length()  # 2^(z-1) < p < 2^z
            b = z + 127 if q >= -27 else 2 * z + 128
            v = (1 << b) // p + 1
            while v >= 1 << 128:
                v >>= 1
        hi[i] = v >> 64
        lo[i] = v & 0xFFFFFFFFFFFFFFFF
    return hi, lo


POW5_HI, POW5_LO = _power_of_five_table()
EXACT_POW10 = np.array([10.0**k for k in range(23)], dtype=np.float64)  # 1e0 … 1e22, all exact


@inline_kernel
def mul128(a: np.uint64, b: np.uint64) -> tuple[np.uint64, np.uint64]:
    """Full 64×64→128-bit product as (high, low)."""
    a0 = a & M32
    a1 = a >> U32
    b0 = b & M32
    b1 = b >> U32
    p00 = a0 * b0
    p01 = a0 * b1
    p10 = a1 * b0
    p11 = a1 * b1
    mid = (p00 >> U32) + (p01 & M32) + (p10 & M32)
    hi = p11 + (p01 >> U32) + (p10 >> U32) + (mid >> U32)
    lo = (mid << U32) | (p00 & M32)
    return hi, lo


@kernel
def _eisel_lemire(w: np.uint64, q: int, pow5_hi: np.ndarray, pow5_lo: np.ndarray) -> np.uint64:
    """Bits (sign clear) of the float64 nearest ``w × 10^q``; ``w > 0``, q within the table."""
    lz = np.int64(leading_zeros(w))  # type: ignore[call-arg]  # numba intrinsic
    w = w << np.uint64(lz)
    idx = q - SMALLEST_POWER
    hi, lo = mul128(w, pow5_hi[idx])
    if (hi & MASK9) == MASK9:  # the truncated table may have lost a carry: add the next 64 bits
        hi2, _ = mul128(w, pow5_lo[idx])
        lo = lo + hi2
        if hi2 > lo:
            hi = hi + U1
    upper = hi >> U63
    shift = upper + np.uint64(9)
    mant = hi >> shift
    power2 = ((217706 * q) >> 16) + 63 + np.int64(upper) - lz + 1023
    if power2 <= 0:  # subnormal (or zero)
        if 1 - power2 >= 64:
            return np.uint64(0)
        mant = mant >> np.uint64(1 - power2)
        mant = mant + (mant & U1)
        mant = mant >> U1
        # rounding may carry into the smallest normal exponent: bit 52 then doubles as exponent 1
        return mant
    # exactly half way between two floats (only possible when 5^q fits 64 bits): round to even
    if lo <= U1 and -4 <= q <= 23 and (mant & U3) == U1 and (mant << shift) == hi:
        mant = mant & ~U1
    mant = mant + (mant & U1)
    mant = mant >> U1
    if mant >= TWO_HIDDEN:
        mant = HIDDEN
        power2 += 1
    mant = mant & ~HIDDEN
    if power2 >= 0x7FF:
        return INF_BITS
    return (np.uint64(power2) << U52) | mant


@kernel
def decimal_to_bits(
    w: np.uint64, q: int, negative: bool, pow5_hi: np.ndarray, pow5_lo: np.ndarray, pow10: np.ndarray
) -> np.uint64:
    """IEEE bits of the float64 nearest ``±w × 10^q`` (``w`` at most 19 digits). Overflow gives ±inf."""
    if w == 0 or q < SMALLEST_POWER:
        bits = np.uint64(0)
    elif q > LARGEST_POWER:
        bits = INF_BITS
    elif w <= MAX_FAST_W and -22 <= q <= 22:
        if q >= 0:
            v = np.float64(w) * pow10[q]
        else:
            v = np.float64(w) / pow10[-q]
        bits = np.uint64(np.int64(np.float64(v).view(np.int64)))
    else:
        bits = _eisel_lemire(w, q, pow5_hi, pow5_lo)
    if negative:
        bits = bits | (U1 << U63)
    return bits


@njit(cache=True, nogil=True)
def convert(w: np.ndarray, q: np.ndarray, negative: np.ndarray) -> np.ndarray:
    """Vector form of :func:`decimal_to_bits` as float64 (for tests)."""
    out = np.empty(len(w), dtype=np.uint64)
    for i in range(len(w)):
        out[i] = decimal_to_bits(w[i], q[i], negative[i], POW5_HI, POW5_LO, EXACT_POW10)
    return out.view(np.float64)
