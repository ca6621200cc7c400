"""dod: timestamps (and other integer sequences) as divided deltas or delta-of-deltas, bit-packed.

The encoder takes the wrapping deltas ``d[i] = x[i] - x[i-1]`` and their greatest common divisor ``g``
(10 s intervals in ns give ``g = 10**10``; ms-jittered ones ``10**6``), so ``q[i] = d[i] / g`` is small.
It then writes one of three *orders*, whichever is smallest for the block:

* order 1: ``q[i] - min(q)`` (frame of reference on the deltas; best for jitter around an interval),
* order 2: ``zigzag(q[i] - q[i-1])`` (delta-of-delta; best when the interval drifts or a few samples
  arrive early),
* order 0: ``x[i] - min(x)`` without deltas (dictionary indices, bounded gauges).

A regular interval makes the order 1 and 2 streams all zero. The resulting unsigned stream is cut into
chunks: a run of >= 24 zeros is one varint however long it is (1,024 timestamps at exactly 10 s take 17
bytes in all); other stretches are groups of up to 128 values packed at one bit width chosen per group,
with the rare wider values patched in as exceptions (so one late sample does not widen its group).

| bytes   | field                                                                      |
|---------|----------------------------------------------------------------------------|
| 1       | head: bits 0-1 dtype tag (0 int64, 1 uint64); bits 2-3 order; bit 4 divisor |
| 8       | order 1/2: first value; order 0: min(x). Little-endian. (Absent if count=0) |
| 1 + var | if divisor bit: k (byte) and m (varint), g = m * 10**k                     |
| varint  | order 1: zigzag(min q); order 2: zigzag(q[1]); order 0: absent             |
| ...     | chunks until count - order values (count values for order 0) are described |

| chunk        | field                                                                   |
|--------------|-------------------------------------------------------------------------|
| varint h     | bit 0: 0 = zero run, 1 = packed group; h >> 1 = number of values        |
| byte w       | group only: bit width 0..64                                             |
| varint e     | group only: number of exceptions                                        |
| ceil(n*w/8)  | group only: low w bits of each value, LSB-first, first value lowest     |
| e x (1+var)  | group only: exception position in the group (byte), value >> w (varint) |

All arithmetic wraps modulo 2**64, so any int64 or uint64 sequence round-trips.
"""

from __future__ import annotations

import numpy as np

from columnar.encodings._core import (
    E_COUNT,
    E_INVALID,
    E_TRAILING,
    E_TRUNCATED,
    U0,
    U1,
    CorruptPayload,
    as_u64,
    bitlen,
    check,
    from_u64,
    get_varint,
    kernel,
    ld64,
    low_mask,
    padded,
    put_varint,
    st64,
    tag_of,
    unzigzag,
    zigzag,
)

ID = 3
NAME = "dod"
KINDS = ("time", "int", "uint")

RUN_MIN = 24
GROUP = 128
_P10 = np.array([10**k for k in range(20)], np.uint64)
_GMAX = np.uint64(1 << 62)


@kernel
def _emit_group(u, a, b, out, pos):
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
def _emit_literal(u, a, b, out, pos):
    while a < b:
        e = min(a + GROUP, b)
        pos = _emit_group(u, a, e, out, pos)
        a = e
    return pos


@kernel
def _emit_stream(u, out, pos):
    m = u.size
    i = 0
    lit = 0
    while i < m:
        if u[i] == U0:
            j = i + 1
            while j < m and u[j] == U0:
                j += 1
            if j - i >= RUN_MIN:
                pos = _emit_literal(u, lit, i, out, pos)
                pos = put_varint(out, pos, np.uint64((j - i) << 1))
                lit = j
            i = j
        else:
            i += 1
    return _emit_literal(u, lit, m, out, pos)


@kernel
def _bound(m):
    return 32 + 9 * m + 8 * (m // GROUP + 2) + 8 * (m // RUN_MIN + 2)


@kernel
def _gcd(a, b):
    while b:
        a, b = b, a % b
    return a


@kernel
def _encode(x, tag):
    n = x.size
    if n < 2:
        out = np.empty(9, np.uint8)
        out[0] = tag | (1 << 2)
        if n == 0:
            return out[:1]
        st64(out, 1, x[0])
        return out
    m = n - 1
    d = np.empty(m, np.uint64)
    g = U0
    for i in range(m):
        di = x[i + 1] - x[i]
        d[i] = di
        if g != U1:
            g = _gcd(g, (U0 - di) if np.int64(di) < 0 else di)
    if g == U0 or g > _GMAX:
        g = U1
    q = np.empty(m, np.uint64)
    qmin = np.int64(0)
    for i in range(m):
        qi = np.int64(d[i]) // np.int64(g)
        q[i] = np.uint64(qi)
        if i == 0 or qi < qmin:
            qmin = qi
    # the part shared by orders 1 and 2: head, first value, divisor
    pre = np.empty(32, np.uint8)
    head = tag | (16 if g != U1 else 0)
    st64(pre, 1, x[0])
    plen = 9
    if g != U1:
        k = 0
        gm = g
        while k < 19 and gm % np.uint64(10) == U0:
            gm //= np.uint64(10)
            k += 1
        pre[plen] = k
        plen = put_varint(pre, plen + 1, gm)

    # order 1: frame of reference on the divided deltas
    best = np.empty(_bound(m) + plen, np.uint8)
    best[:plen] = pre[:plen]
    best[0] = head | (1 << 2)
    pos = put_varint(best, plen, zigzag(np.uint64(qmin)))
    u = np.empty(m, np.uint64)
    for i in range(m):
        u[i] = q[i] - np.uint64(qmin)
    blen = _emit_stream(u, best, pos)

    # order 2: zigzag delta-of-delta
    if m >= 2:
        cand = np.empty(_bound(m) + plen, np.uint8)
        cand[:plen] = pre[:plen]
        cand[0] = head | (2 << 2)
        pos = put_varint(cand, plen, zigzag(q[0]))
        for i in range(1, m):
            u[i - 1] = zigzag(q[i] - q[i - 1])
        clen = _emit_stream(u[: m - 1], cand, pos)
        if clen < blen:
            best, blen = cand, clen

    # order 0: frame of reference on the values themselves
    xmin = np.int64(x[0])
    for i in range(n):
        if np.int64(x[i]) < xmin:
            xmin = np.int64(x[i])
    u0 = np.empty(n, np.uint64)
    for i in range(n):
        u0[i] = x[i] - np.uint64(xmin)
    cand = np.empty(_bound(n) + 9, np.uint8)
    cand[0] = tag
    st64(cand, 1, np.uint64(xmin))
    clen = _emit_stream(u0, cand, 9)
    if clen < blen:
        best, blen = cand, clen
    return best[:blen]


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
        else:
            mask = low_mask(w)
            uw = np.uint64(w)
            bit = np.uint64(0)
            for j in range(length):
                byte = pos + np.int64(bit >> np.uint64(3))
                sh = bit & np.uint64(7)
                v = ld64(buf, byte) >> sh
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
                if p >= length or (hi >> np.uint64(64 - w)) != U0:
                    return E_INVALID
                out[k + p] |= hi << np.uint64(w)
        k += length
    return pos


@kernel
def _decode(buf, end, out):
    n = out.size
    head = np.int64(buf[0])
    order = (head >> 2) & 3
    if (head & 3) > 1 or head >> 5 or order == 3:
        return E_INVALID
    if n == 0:
        return 1 if end == 1 else E_TRAILING
    if end < 9:
        return E_TRUNCATED
    first = ld64(buf, 1)
    pos = 9
    if order == 0:
        if head & 16:
            return E_INVALID
        pos = _read_stream(buf, pos, end, out, 0, n)
        if pos < 0:
            return pos
        for i in range(n):
            out[i] += first
        return pos if pos == end else E_TRAILING
    out[0] = first
    if n == 1:
        return pos if pos == end else E_TRAILING
    g = U1
    if head & 16:
        if pos >= end:
            return E_TRUNCATED
        k = np.int64(buf[pos])
        if k > 19:
            return E_INVALID
        gm, pos = get_varint(buf, pos + 1, end)
        if pos < 0:
            return pos
        if gm == U0 or gm > _GMAX // _P10[k]:
            return E_INVALID
        g = gm * _P10[k]
    b, pos = get_varint(buf, pos, end)
    if pos < 0:
        return pos
    qb = unzigzag(b)
    x = first
    if order == 1:
        pos = _read_stream(buf, pos, end, out, 1, n - 1)
        if pos < 0:
            return pos
        for i in range(1, n):
            x += (out[i] + qb) * g
            out[i] = x
    else:
        x += qb * g
        out[1] = x
        pos = _read_stream(buf, pos, end, out, 2, n - 2)
        if pos < 0:
            return pos
        q = qb
        for i in range(2, n):
            q += unzigzag(out[i])
            x += q * g
            out[i] = x
    return pos if pos == end else E_TRAILING


def encode(values: np.ndarray) -> bytes | None:
    return bytes(_encode(as_u64(values), tag_of(values)))


def decode(body: memoryview, count: int) -> np.ndarray:
    if len(body) < 1:
        raise CorruptPayload("dod: empty body")
    out = np.empty(count, np.uint64)
    check(_decode(padded(body), len(body), out), NAME)
    return from_u64(out, body[0] & 3)
