"""The integer front end shared by dod and rans: turn a block into a small unsigned stream and back.

Both codecs store a block as a header and a stream of unsigned values ``u``; they differ only in how
they pack the stream (bit widths and runs, or entropy coding). The stream has one of three *orders*:

| order | stream (i over the values it covers)          | covers    | header parameter |
|-------|-----------------------------------------------|-----------|------------------|
| 0     | ``x[i] - min(x)``                             | 0 .. n-1  | min(x)           |
| 1     | ``zigzag(q[i] - c)``, c a median of q         | 1 .. n-1  | c                |
| 2     | ``zigzag(q[i] - q[i-1])`` (delta-of-delta)    | 2 .. n-1  | q[1]             |

where ``q[i] = (x[i] - x[i-1]) / g`` and g is the greatest common divisor of the deltas (10 s
timestamps in ns give g = 10**10, so q is 1). All arithmetic wraps modulo 2**64, so any int64 or
uint64 block round-trips.

| bytes   | field                                                                         |
|---------|-------------------------------------------------------------------------------|
| 1       | head: bits 0-1 dtype tag (0 int64, 1 uint64); bits 2-3 order; bit 4 divisor;  |
|         | bits 5-7 zero (absent fields below when count = 0: the head is the body)      |
| varint  | orders 1 and 2: zigzag(x[0])                                                  |
| 1 + var | if the divisor bit is set: k (byte, 0..19) and m (varint): g = m * 10**k      |
| varint  | zigzag(the order's header parameter)                                          |
"""

from __future__ import annotations

import numpy as np

from columnar.encodings._core import (
    E_INVALID,
    E_TRUNCATED,
    U0,
    U1,
    UMAX,
    ctz,
    get_varint,
    kernel,
    put_varint,
    unzigzag,
    zigzag,
)

HEADER_MAX = 32
_P10 = np.array([10**k for k in range(20)], np.uint64)
_GMAX = np.uint64(1 << 62)
_SAMPLE = 255


@kernel
def _gcd(a, b):
    while b:
        a, b = b, a % b
    return a


@kernel
def _inverse(odd):
    """The inverse of an odd number modulo 2**64 (Newton's iteration doubles the good bits)."""
    inv = odd
    for _ in range(6):
        inv *= np.uint64(2) - odd * inv
    return inv


@kernel
def deltas(x):
    """(q, g): the wrapping deltas of x divided by their gcd g (g = 1 when none helps).

    Divisibility by the running g is tested and the exact quotients taken with the inverse of g's
    odd part modulo 2**64, so the usual case costs multiplications, not divisions.
    """
    m = x.size - 1
    d = np.empty(max(m, 0), np.uint64)
    for i in range(m):
        d[i] = x[i + 1] - x[i]
    g = U0
    shift = U0
    inv = U0
    limit = U0
    for i in range(m):
        di = d[i]
        mag = (U0 - di) if np.int64(di) < 0 else di
        if mag == U0:
            continue
        if g != U0 and (mag & ((U1 << shift) - U1)) == U0 and (mag >> shift) * inv <= limit:
            continue  # divisible by g
        g = _gcd(g, mag)
        if g == U1:
            break
        shift = np.uint64(ctz(g))
        odd = g >> shift
        inv = _inverse(odd)
        limit = UMAX // odd
    if g == U0 or g > _GMAX:
        return d, U1
    if g != U1:
        for i in range(m):
            d[i] = np.uint64(np.int64(d[i]) >> np.int64(shift)) * inv
    return d, g


@kernel
def center(q):
    """A median of q (as int64), from at most 255 evenly spaced samples."""
    m = q.size
    if m == 0:
        return U0
    k = min(m, _SAMPLE)
    s = np.empty(k, np.int64)
    for j in range(k):
        s[j] = np.int64(q[(j * m) // k])
    s.sort()
    return np.uint64(s[k // 2])


@kernel
def vmin(x):
    lo = np.int64(x[0])
    for i in range(1, x.size):
        if np.int64(x[i]) < lo:
            lo = np.int64(x[i])
    return np.uint64(lo)


@kernel
def stream(x, q, order, base):
    """The unsigned stream of an order (see the module table)."""
    if order == 0:
        u = np.empty(x.size, np.uint64)
        for i in range(x.size):
            u[i] = x[i] - base
    elif order == 1:
        u = np.empty(q.size, np.uint64)
        for i in range(q.size):
            u[i] = zigzag(q[i] - base)
    else:
        u = np.empty(max(q.size - 1, 0), np.uint64)
        for i in range(1, q.size):
            u[i - 1] = zigzag(q[i] - q[i - 1])
    return u


@kernel
def put_header(out, tag, order, g, x0, base):
    """Write the header; return the position after it. Order 0 ignores g and x0."""
    head = tag | (order << 2)
    if order and g != U1:
        head |= 16
    out[0] = head
    pos = 1
    if order:
        pos = put_varint(out, pos, zigzag(x0))
        if g != U1:
            k = 0
            gm = g
            while k < 19 and gm % np.uint64(10) == U0:
                gm //= np.uint64(10)
                k += 1
            out[pos] = k
            pos = put_varint(out, pos + 1, gm)
    return put_varint(out, pos, zigzag(base))


@kernel
def get_header(buf, end, n):
    """(pos or negative status, order, g, x0, base) of a header at buf[0]; see put_header."""
    head = np.int64(buf[0])
    order = (head >> 2) & 3
    if (head & 3) > 1 or head >> 5 or order == 3 or (order == 0 and head & 16) or (order == 2 and n < 2):
        return E_INVALID, 0, U1, U0, U0
    g = U1
    x0 = U0
    pos = 1
    if order:
        v, pos = get_varint(buf, pos, end)
        if pos < 0:
            return pos, 0, U1, U0, U0
        x0 = unzigzag(v)
        if head & 16:
            if pos >= end:
                return E_TRUNCATED, 0, U1, U0, U0
            k = np.int64(buf[pos])
            if k > 19:
                return E_INVALID, 0, U1, U0, U0
            gm, pos = get_varint(buf, pos + 1, end)
            if pos < 0:
                return pos, 0, U1, U0, U0
            if gm == U0 or gm > _GMAX // _P10[k]:
                return E_INVALID, 0, U1, U0, U0
            g = gm * _P10[k]
    v, pos = get_varint(buf, pos, end)
    if pos < 0:
        return pos, 0, U1, U0, U0
    return pos, order, g, x0, unzigzag(v)


@kernel
def undo(out, order, g, x0, base):
    """Rebuild the values in place from the stream stored at out[order:] (out[0:] for order 0)."""
    n = out.size
    if order == 0:
        for i in range(n):
            out[i] += base
        return
    out[0] = x0
    x = x0
    if order == 1:
        if g == U1:
            for i in range(1, n):
                x += unzigzag(out[i]) + base
                out[i] = x
        else:
            for i in range(1, n):
                x += (unzigzag(out[i]) + base) * g
                out[i] = x
        return
    q = base
    x += q * g
    out[1] = x
    for i in range(2, n):
        q += unzigzag(out[i])
        x += q * g
        out[i] = x


@kernel
def stream_size(order, n):
    """How many stream values an order has for n values."""
    if order == 0:
        return n
    return max(n - order, 0)


@kernel
def candidates(x):
    """For each order 0, 1, 2: (stream, base), plus q, g and whether orders 1/2 apply."""
    n = x.size
    q, g = deltas(x)
    lo = vmin(x) if n else U0
    c = center(q)
    u0 = stream(x, q, 0, lo)
    u1 = stream(x, q, 1, c)
    u2 = stream(x, q, 2, U0)
    q1 = q[0] if q.size else U0
    return u0, lo, u1, c, u2, q1, g
