"""dod: timestamps (and other integer sequences) as divided deltas or delta-of-deltas, bit-packed.

The block becomes an unsigned stream through the integer front end (``_ints.py``): divided deltas
around their median (order 1: jitter around an interval), delta-of-deltas (order 2: a drifting
interval, a few early samples) or values minus their minimum (order 0: indices, bounded gauges),
whichever packs smallest. The divisor g of the deltas (10 s timestamps in ns: g = 10**10;
ms-jittered: 10**6) keeps the stream small. A regular interval makes the order 1 and 2 streams all
zero.

The stream is cut into chunks: a run of >= 24 zeros is one varint however long it is (1,024
timestamps at exactly 10 s take 18 bytes in all, header included); other stretches are groups of up
to 128 values packed at one bit width chosen per group, with the rare wider values patched in as
exceptions (so one late sample does not widen its group).

| bytes        | field                                                                   |
|--------------|-------------------------------------------------------------------------|
| ...          | the integer front-end header (head byte, first value, divisor, base)    |
| ...          | chunks until the stream's values are described                          |

| chunk        | field                                                                   |
|--------------|-------------------------------------------------------------------------|
| varint h     | bit 0: 0 = zero run, 1 = packed group; h >> 1 = number of values        |
| byte w       | group only: bit width 0..64                                             |
| varint e     | group only: number of exceptions                                        |
| ceil(n*w/8)  | group only: low w bits of each value, LSB-first, first value lowest     |
| e x (1+var)  | group only: exception position in the group (byte), value >> w (varint) |

An empty block is the head byte alone.
"""

from __future__ import annotations

import numpy as np

from columnar.encodings import _ints
from columnar.encodings._core import (
    E_COUNT,
    E_INVALID,
    E_TRAILING,
    E_TRUNCATED,
    TAG_DTYPES,
    U0,
    U1,
    CorruptPayload,
    as_u64,
    bitlen,
    check,
    get_varint,
    kernel,
    ld32,
    ld64,
    ld64_tail,
    low_mask,
    put_varint,
    st64,
    tag_of,
    varint_len,
)

ID = 3
NAME = "dod"
KINDS = ("time", "int", "uint")

RUN_MIN = 24
GROUP = 128


@kernel
def _emit_group(u, a, b, out, pos, dry):
    """Write one packed group (or, when dry, only advance pos by its size)."""
    n = b - a
    hist = np.zeros(65, np.int64)
    for k in range(a, b):
        hist[bitlen(u[k])] += 1
    maxb = 64
    while maxb > 0 and hist[maxb] == 0:
        maxb -= 1
    best_w = maxb
    best_cost = n * maxb
    for w in range(maxb - 1, -1, -1):
        cost = n * w
        for bits in range(w + 1, maxb + 1):
            if hist[bits]:
                cost += hist[bits] * (8 + 8 * ((bits - w + 6) // 7))
        if cost < best_cost:
            best_cost = cost
            best_w = w
    w = best_w
    nexc = 0
    for bits in range(w + 1, maxb + 1):
        nexc += hist[bits]
    if dry:
        pos += varint_len(np.uint64((n << 1) | 1)) + 1 + varint_len(np.uint64(nexc)) + (n * w + 7) // 8
        for bits in range(w + 1, maxb + 1):
            pos += hist[bits] * (1 + (bits - w + 6) // 7)
        return pos
    pos = put_varint(out, pos, np.uint64((n << 1) | 1))
    out[pos] = w
    pos = put_varint(out, pos + 1, np.uint64(nexc))
    if w:
        mask = low_mask(w)
        acc = U0
        nacc = 0
        for k in range(a, b):
            v = u[k] & mask
            acc |= v << np.uint64(nacc)
            if nacc + w >= 64:
                st64(out, pos, acc)
                pos += 8
                used = 64 - nacc
                acc = (v >> np.uint64(used)) if used < 64 else U0
                nacc = nacc + w - 64
            else:
                nacc += w
        for j in range((nacc + 7) // 8):
            out[pos + j] = np.uint8((acc >> np.uint64(8 * j)) & np.uint64(0xFF))
        pos += (nacc + 7) // 8
    if nexc:
        for k in range(a, b):
            if bitlen(u[k]) > w:
                out[pos] = k - a
                pos = put_varint(out, pos + 1, u[k] >> np.uint64(w))
    return pos


@kernel
def _emit_literal(u, a, b, out, pos, dry):
    while a < b:
        e = min(a + GROUP, b)
        pos = _emit_group(u, a, e, out, pos, dry)
        a = e
    return pos


@kernel
def _emit_stream(u, out, pos, dry):
    """Write the chunks of a stream at pos (when dry: only compute where they would end)."""
    m = u.size
    i = 0
    lit = 0
    while i < m:
        if u[i] == U0:
            j = i + 1
            while j < m and u[j] == U0:
                j += 1
            if j - i >= RUN_MIN:
                pos = _emit_literal(u, lit, i, out, pos, dry)
                if dry:
                    pos += varint_len(np.uint64((j - i) << 1))
                else:
                    pos = put_varint(out, pos, np.uint64((j - i) << 1))
                lit = j
            i = j
        else:
            i += 1
    return _emit_literal(u, lit, m, out, pos, dry)


@kernel
def _bound(m):
    return _ints.HEADER_MAX + 9 * m + 8 * (m // GROUP + 2) + 8 * (m // RUN_MIN + 2)


@kernel
def _encode(x, tag):
    n = x.size
    if n == 0:
        out = np.empty(1, np.uint8)
        out[0] = tag
        return out
    u0, lo, u1, c, u2, q1, g = _ints.candidates(x)
    out = np.empty(_bound(n), np.uint8)
    # size each order without writing it, then write the smallest
    best_order = 0
    best_len = 0
    for order in range(3):
        if order > n - 1 or (order == 2 and n < 3):
            break
        base = lo if order == 0 else (c if order == 1 else q1)
        u = u0 if order == 0 else (u1 if order == 1 else u2)
        pos = _ints.put_header(out, tag, order, g, x[0], base)
        size = _emit_stream(u, out, pos, True)
        if order == 0 or size < best_len:
            best_order = order
            best_len = size
    order = best_order
    base = lo if order == 0 else (c if order == 1 else q1)
    pos = _ints.put_header(out, tag, order, g, x[0], base)
    pos = _emit_stream(u0 if order == 0 else (u1 if order == 1 else u2), out, pos, False)
    return out[:pos]


@kernel
def _read_stream(buf, pos, end, out, start, m):
    k = start
    stop = start + m
    while k < stop:
        h, pos = get_varint(buf, pos, end)
        if pos < 0:
            return pos
        length = np.int64(h >> U1)
        if length <= 0 or length > stop - k:
            return E_COUNT
        if (h & U1) == U0:
            out[k : k + length] = U0
            k += length
            continue
        if pos >= end:
            return E_TRUNCATED
        w = np.int64(buf[pos])
        if w > 64:
            return E_INVALID
        nexc, pos = get_varint(buf, pos + 1, end)
        if pos < 0:
            return pos
        nbytes = (length * w + 7) >> 3
        if pos + nbytes > end:
            return E_TRUNCATED
        if w == 0:
            out[k : k + length] = U0
        elif w <= 32:
            # a 64-bit bit buffer refilled 32 bits at a time (bytes past the group are never used)
            mask = low_mask(w)
            acc = U0
            nacc = 0
            bp = pos
            for j in range(length):
                if nacc < w:
                    if bp + 4 <= end:
                        acc |= ld32(buf, bp) << np.uint64(nacc)
                        bp += 4
                        nacc += 32
                    else:
                        while nacc <= 56 and bp < end:
                            acc |= np.uint64(buf[bp]) << np.uint64(nacc)
                            bp += 1
                            nacc += 8
                out[k + j] = acc & mask
                acc >>= np.uint64(w)
                nacc -= w
        else:
            mask = low_mask(w)
            uw = np.uint64(w)
            bit = np.uint64(0)
            for j in range(length):
                byte = pos + np.int64(bit >> np.uint64(3))
                sh = bit & np.uint64(7)
                if byte + 9 <= end:
                    v = ld64(buf, byte) >> sh
                else:
                    v = ld64_tail(buf, byte, end) >> sh
                if sh + uw > np.uint64(64):
                    v |= np.uint64(buf[byte + 8]) << (np.uint64(64) - sh)
                out[k + j] = v & mask
                bit += uw
        pos += nbytes
        if nexc:
            if w == 64 or nexc > np.uint64(length):
                return E_INVALID
            for _ in range(np.int64(nexc)):
                if pos >= end:
                    return E_TRUNCATED
                p = np.int64(buf[pos])
                hi, pos = get_varint(buf, pos + 1, end)
                if pos < 0:
                    return pos
                if p >= length or (w and (hi >> np.uint64(64 - w)) != U0):
                    return E_INVALID
                out[k + p] |= hi << np.uint64(w)
        k += length
    return pos


@kernel
def _decode(buf, end, out):
    n = out.size
    if n == 0:
        if buf[0] > 1:
            return E_INVALID
        return 1 if end == 1 else E_TRAILING
    pos, order, g, x0, base = _ints.get_header(buf, end, n)
    if pos < 0:
        return pos
    start = min(order, n)
    pos = _read_stream(buf, pos, end, out, start, n - start)
    if pos < 0:
        return pos
    _ints.undo(out, order, g, x0, base)
    return pos if pos == end else E_TRAILING


def encode(values: np.ndarray) -> bytes | None:
    return bytes(_encode(as_u64(values), tag_of(values)))


def decode(body: memoryview, count: int) -> np.ndarray:
    # kept lean: this runs once per block of every scan
    end = len(body)
    if end < 1:
        raise CorruptPayload("dod: empty body")
    out = np.empty(count, np.uint64)
    status = _decode(np.frombuffer(body, np.uint8), end, out)
    if status < 0:
        check(status, NAME)
    return out.view(TAG_DTYPES[body[0] & 1])  # the kernel rejected other tags
