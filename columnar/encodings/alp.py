"""alp: decimal floats as scaled integers (after ALP, Afroozeh et al., SIGMOD 2023).

A sensor reading such as 20.37 is stored as a float64 that is not 20.37, but ``2037 / 10**2`` gives
back exactly the same float64. The encoder finds the smallest exponent e (0..18) for which the most
values v satisfy ``float(int(rint(v * 10**e))) / 10**e == v`` bit for bit, and stores those integers
through the best integer codec (a nested payload: usually rans or simple8b on their deltas). Values
that do not (NaN, infinities, -0.0, too many decimals, magnitudes past 2**53) are *exceptions*, kept
raw; their slot in the integer stream repeats the previous integer so the deltas stay small.

| bytes      | field                                                             |
|------------|-------------------------------------------------------------------|
| 1          | e                                                                 |
| varint X   | number of exceptions                                              |
| X x varint | exception positions, each as the gap from the previous one        |
| X x 8      | exception values' bits, little-endian                             |
| ...        | nested integer payload to the end: [codec id][body] of the        |
|            | count scaled integers (see _select.py)                            |

Not applicable (encode returns None) when more than count/8 values would be exceptions.
"""

from __future__ import annotations

import math

import numpy as np

from columnar.encodings import _select
from columnar.encodings._core import (
    E_INVALID,
    E_TRUNCATED,
    byte_array,
    check,
    get_varint,
    kernel,
    ld64,
    put_varint,
    st64,
)

ID = 6
NAME = "alp"
KINDS = ("float",)

MAX_E = 18
_P10 = np.array([10.0**k for k in range(MAX_E + 1)], np.float64)
_LIMIT = 2.0**53


@kernel
def _exact(v, f):
    r = np.rint(v * f)
    if not abs(r) < _LIMIT:
        return False
    d = np.float64(np.int64(r)) / f
    return d == v and (v != 0.0 or math.copysign(1.0, v) == 1.0)


@kernel
def _misses(x, e, stop_after):
    f = _P10[e]
    bad = 0
    for i in range(x.size):
        if not _exact(x[i], f):
            bad += 1
            if bad > stop_after:
                return bad
    return bad


@kernel
def _search(x):
    """(e, misses): the smallest exponent with the fewest misses over all of x."""
    best_e = 0
    best = _misses(x, 0, x.size)
    for e in range(1, MAX_E + 1):
        if best == 0:
            break
        bad = _misses(x, e, best - 1)
        if bad < best:
            best_e = e
            best = bad
    return best_e, best


@kernel
def _choose_exponent(x, max_misses):
    """(e, misses), or misses > max_misses when ALP does not pay. Searches a sample of <= 64 values
    first, so data that is not decimal is turned down after a few hundred multiplications."""
    n = x.size
    if n <= 128:
        return _search(x)
    k = 64
    sample = np.empty(k, np.float64)
    for j in range(k):
        sample[j] = x[(j * n) // k]
    e, bad = _search(sample)
    if bad > k // 8:
        return e, n
    bad = _misses(x, e, n)
    for e2 in range(e + 1, min(e + 3, MAX_E) + 1):  # values with a decimal or two more than the sample's
        if bad == 0:
            break
        bad2 = _misses(x, e2, bad - 1)
        if bad2 < bad:
            e, bad = e2, bad2
    if bad <= max_misses:
        return e, bad
    return _search(x)  # the sample misled us: search everything


@kernel
def _scale(x, bits, e, nexc):
    n = x.size
    f = _P10[e]
    ints = np.empty(n, np.int64)
    head = np.empty(1 + 10 + 18 * nexc, np.uint8)
    head[0] = e
    pos = put_varint(head, 1, np.uint64(nexc))
    raw = np.empty(8 * nexc, np.uint8)
    k = 0
    last_pos = 0
    prev = np.int64(0)
    for i in range(n):
        v = x[i]
        if _exact(v, f):
            prev = np.int64(np.rint(v * f))
        else:
            pos = put_varint(head, pos, np.uint64(i - last_pos))
            last_pos = i
            st64(raw, 8 * k, bits[i])
            k += 1
        ints[i] = prev
    out = np.empty(pos + raw.size, np.uint8)
    out[:pos] = head[:pos]
    out[pos:] = raw
    return ints, out


@kernel
def _parse(buf, end, n):
    empty = np.empty(0, np.int64)
    if end < 2:
        return E_TRUNCATED, 0, empty, np.empty(0, np.uint64)
    e = np.int64(buf[0])
    if e > MAX_E:
        return E_INVALID, 0, empty, np.empty(0, np.uint64)
    nexc, pos = get_varint(buf, 1, end)
    if pos < 0:
        return pos, 0, empty, np.empty(0, np.uint64)
    if nexc > np.uint64(n):
        return E_INVALID, 0, empty, np.empty(0, np.uint64)
    x = np.int64(nexc)
    positions = np.empty(x, np.int64)
    values = np.empty(x, np.uint64)
    p = 0
    for k in range(x):
        gap, pos = get_varint(buf, pos, end)
        if pos < 0:
            return pos, 0, empty, np.empty(0, np.uint64)
        if gap >= np.uint64(n - p) or (k and gap == 0):
            return E_INVALID, 0, empty, np.empty(0, np.uint64)
        p += np.int64(gap)
        positions[k] = p
    if pos + 8 * x > end:
        return E_TRUNCATED, 0, empty, np.empty(0, np.uint64)
    for k in range(x):
        values[k] = ld64(buf, pos + 8 * k)
    return pos + 8 * x, e, positions, values


@kernel
def _finish(ints, e, positions, values, out):
    f = _P10[e]
    for i in range(ints.size):
        out[i] = np.float64(ints[i]) / f
    bits = out.view(np.uint64)
    for k in range(positions.size):
        bits[positions[k]] = values[k]


def encode(values: np.ndarray) -> bytes | None:
    x = np.ascontiguousarray(values, dtype=np.float64)
    if x.size == 0:
        return bytes((0, 0)) + _select.encode_nested(np.empty(0, np.int64), "int")
    e, nexc = _choose_exponent(x, x.size // 8)
    if nexc > x.size // 8:
        return None
    ints, head = _scale(x, x.view(np.uint64), e, nexc)
    return head.tobytes() + _select.encode_nested(ints, "int")


def decode(body: memoryview, count: int) -> np.ndarray:
    pos, e, positions, values = _parse(byte_array(body), len(body), count)
    check(pos, NAME)
    ints = _select.decode_nested(body[pos:], count, np.dtype(np.int64))
    out = np.empty(count, np.float64)
    _finish(ints, e, positions, values, out)
    return out
