"""gorilla: floats as the XOR of each value with the one before (Facebook's Gorilla, VLDB 2015).

The body is one bit stream, most significant bit first, zero-padded to a whole byte:

| bits        | meaning                                                              |
|-------------|----------------------------------------------------------------------|
| 64          | the first value's bits                                               |
| then, for each later value, with x = bits XOR previous bits:                       |
| `0`         | x = 0 (the value repeats)                                            |
| `10` + m    | x's significant bits fit the previous window: its m = 64 - lead -    |
|             | trail bits, shifted left by the previous trail                       |
| `11` + 5 + 6 + m | a new window: leading zeros (5 bits, capped at 31), significant  |
|             | length m - 1 (6 bits), then the m bits; trail = 64 - lead - m        |

Bit patterns are XORed, so NaN payloads, -0.0 and infinities round-trip exactly. Constant data costs
one bit a value after the first.
"""

from __future__ import annotations

import numpy as np

from columnar.encodings._core import (
    E_INVALID,
    E_TRAILING,
    E_TRUNCATED,
    U0,
    as_u64,
    byte_array,
    check,
    clz,
    ctz,
    kernel,
)

ID = 5
NAME = "gorilla"
KINDS = ("float",)


@kernel
def _put(words, bitpos, v, nb):
    """Append the nb (1..64) low bits of v at bitpos, MSB-first; the words start zeroed."""
    wi = bitpos >> 6
    free = 64 - (bitpos & 63)
    if nb <= free:
        words[wi] |= v << np.uint64(free - nb)
    else:
        words[wi] |= v >> np.uint64(nb - free)
        words[wi + 1] |= v << np.uint64(64 - (nb - free))
    return bitpos + nb


@kernel
def _get(words, bitpos, nb):
    """The nb (1..64) bits at bitpos, MSB-first."""
    wi = bitpos >> 6
    off = bitpos & 63
    hi = words[wi] << np.uint64(off)
    if off:
        hi |= words[wi + 1] >> np.uint64(64 - off)
    return hi >> np.uint64(64 - nb)


@kernel
def _encode(x):
    n = x.size
    words = np.zeros(2 + (n * 78) // 64, np.uint64)
    if n == 0:
        return np.empty(0, np.uint8)
    bp = _put(words, 0, x[0], 64)
    prev = x[0]
    plead = -1
    ptrail = 0
    for i in range(1, n):
        xor = x[i] ^ prev
        prev = x[i]
        if xor == U0:
            bp += 1
            continue
        lead = min(clz(xor), 31)
        trail = ctz(xor)
        if plead >= 0 and lead >= plead and trail >= ptrail:
            bp = _put(words, bp, np.uint64(2), 2)
            bp = _put(words, bp, xor >> np.uint64(ptrail), 64 - plead - ptrail)
        else:
            mlen = 64 - lead - trail
            bp = _put(words, bp, np.uint64((3 << 11) | (lead << 6) | (mlen - 1)), 13)
            bp = _put(words, bp, xor >> np.uint64(trail), mlen)
            plead = lead
            ptrail = trail
    nbytes = (bp + 7) // 8
    out = np.empty(len(words) * 8, np.uint8)
    for w in range((nbytes + 7) // 8):
        v = words[w]
        for k in range(8):
            out[8 * w + k] = np.uint8((v >> np.uint64(56 - 8 * k)) & np.uint64(0xFF))
    return out[:nbytes]


@kernel
def _decode(buf, end, out):
    n = out.size
    if n == 0:
        return 0 if end == 0 else E_TRAILING
    nw = (end + 7) // 8 + 1
    words = np.empty(nw, np.uint64)
    for w in range(nw):
        v = U0
        for k in range(8):
            v = (v << np.uint64(8)) | (np.uint64(buf[8 * w + k]) if 8 * w + k < end else U0)
        words[w] = v
    total = 8 * end
    if total < 64:
        return E_TRUNCATED
    prev = _get(words, 0, 64)
    out[0] = prev
    bp = 64
    plead = -1
    ptrail = 0
    mlen = 0
    for i in range(1, n):
        if bp + 2 > total:
            if bp + 1 > total:
                return E_TRUNCATED
            if _get(words, bp, 1) != U0:
                return E_TRUNCATED
            bp += 1
            out[i] = prev
            continue
        ctl = np.int64(_get(words, bp, 2))
        if ctl < 2:
            bp += 1
            out[i] = prev
            continue
        bp += 2
        if ctl == 3:
            if bp + 11 > total:
                return E_TRUNCATED
            hdr = np.int64(_get(words, bp, 11))
            bp += 11
            plead = hdr >> 6
            mlen = (hdr & 63) + 1
            ptrail = 64 - plead - mlen
            if ptrail < 0:
                return E_INVALID
        elif plead < 0:
            return E_INVALID
        if bp + mlen > total:
            return E_TRUNCATED
        prev ^= _get(words, bp, mlen) << np.uint64(ptrail)
        bp += mlen
        out[i] = prev
    return end if (bp + 7) // 8 == end else E_TRAILING


def encode(values: np.ndarray) -> bytes | None:
    return _encode(as_u64(values)).tobytes()


def decode(body: memoryview, count: int) -> np.ndarray:
    out = np.empty(count, np.uint64)
    check(_decode(byte_array(body), len(body), out), NAME)
    return out.view(np.float64)
