"""bits: booleans as a hybrid of bit-packed literals and run lengths.

Random booleans cost one bit each (plus a header of a byte or two per block); a long run of one value
costs a varint however long it is. The body is a sequence of segments until count values are described:

| bytes    | field                                                                     |
|----------|---------------------------------------------------------------------------|
| varint h | bit 0 = 0: a run; bit 1 = its value; h >> 2 = its length (>= 1)          |
|          | bit 0 = 1: a literal; h >> 1 = B, the number of bytes that follow         |
| B        | literal only: min(8B, values left) booleans, LSB-first (value j at bit     |
|          | j % 8 of byte j // 8); the unused high bits of the last byte are zero      |

The encoder starts a run at a run of >= 24 equal values (after the preceding literal is rounded up to
whole bytes); everything else goes into literals.
"""

from __future__ import annotations

import numpy as np

from columnar.encodings._core import (
    E_COUNT,
    E_INVALID,
    E_TRAILING,
    E_TRUNCATED,
    U1,
    byte_array,
    check,
    get_varint,
    kernel,
    put_varint,
)

ID = 7
NAME = "bits"
KINDS = ("bool",)

RUN_MIN = 24


@kernel
def _emit_literal(x, a, b, out, pos):
    nbytes = (b - a + 7) // 8
    pos = put_varint(out, pos, np.uint64((nbytes << 1) | 1))
    for j in range(nbytes):
        byte = 0
        base = a + 8 * j
        for t in range(min(8, b - base)):
            if x[base + t]:
                byte |= 1 << t
        out[pos + j] = byte
    return pos + nbytes


@kernel
def _encode(x):
    n = x.size
    out = np.empty(16 + n // 8 + 12 * (n // RUN_MIN + 1), np.uint8)
    pos = 0
    i = 0
    lit = 0
    while i < n:
        v = x[i] != 0
        j = i + 1
        while j < n and (x[j] != 0) == v:
            j += 1
        if j - i >= RUN_MIN:
            a = lit + ((i - lit + 7) // 8) * 8
            if j - a >= RUN_MIN:
                if a > lit:
                    pos = _emit_literal(x, lit, a, out, pos)
                pos = put_varint(out, pos, np.uint64(((j - a) << 2) | (2 if v else 0)))
                lit = j
        i = j
    if lit < n:
        pos = _emit_literal(x, lit, n, out, pos)
    return out[:pos]


@kernel
def _decode(buf, end, out):
    n = out.size
    pos = 0
    k = 0
    while k < n:
        h, pos = get_varint(buf, pos, end)
        if pos < 0:
            return pos
        if (h & U1) == 0:
            length = np.int64(h >> np.uint64(2))
            if length <= 0 or length > n - k:
                return E_COUNT
            out[k : k + length] = np.uint8((h >> U1) & U1)
            k += length
        else:
            nbytes = np.int64(h >> U1)
            if nbytes <= 0 or nbytes > (n - k + 7) // 8:
                return E_INVALID
            if pos + nbytes > end:
                return E_TRUNCATED
            cnt = min(8 * nbytes, n - k)
            for j in range(cnt):
                out[k + j] = (buf[pos + (j >> 3)] >> (j & 7)) & 1
            pos += nbytes
            k += cnt
    return pos if pos == end else E_TRAILING


def encode(values: np.ndarray) -> bytes | None:
    return _encode(np.ascontiguousarray(values).view(np.uint8)).tobytes()


def decode(body: memoryview, count: int) -> np.ndarray:
    out = np.empty(count, np.bool_)
    check(_decode(byte_array(body), len(body), out.view(np.uint8)), NAME)
    return out
