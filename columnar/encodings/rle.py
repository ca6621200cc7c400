"""rle: run-length encoding for constants and long runs of one value (any 64-bit kind).

Runs compare bit patterns, so NaN payloads and -0.0 run and round-trip exactly. Each run's value is
stored as the zigzag of its wrapping difference from the previous run's value (the first run's from 0),
so a slowly stepping gauge costs a byte or two per run.

| bytes        | field                                                        |
|--------------|--------------------------------------------------------------|
| 1            | head: bits 0-1 dtype tag (0 int64, 1 uint64, 2 float64)      |
| then per run:                                                               |
| varint       | zigzag(value bits - previous run's value bits), wrapping     |
| varint       | run length (>= 1)                                            |

Not applicable (encode returns None) when the block has more than count/4 runs: then a delta or
XOR codec is always smaller.
"""

from __future__ import annotations

import numpy as np

from columnar.encodings._core import (
    E_COUNT,
    E_INVALID,
    E_TRAILING,
    U0,
    CorruptPayload,
    as_u64,
    byte_array,
    check,
    from_u64,
    get_varint,
    kernel,
    put_varint,
    tag_of,
    unzigzag,
    zigzag,
)

ID = 1
NAME = "rle"
KINDS = ("time", "int", "uint", "float")


@kernel
def _encode(x, tag, max_runs):
    n = x.size
    runs = 0
    for i in range(n):
        if i == 0 or x[i] != x[i - 1]:
            runs += 1
            if runs > max_runs:
                return np.empty(0, np.uint8)
    out = np.empty(1 + 20 * runs, np.uint8)
    out[0] = tag
    pos = 1
    prev = U0
    i = 0
    while i < n:
        j = i + 1
        while j < n and x[j] == x[i]:
            j += 1
        pos = put_varint(out, pos, zigzag(x[i] - prev))
        pos = put_varint(out, pos, np.uint64(j - i))
        prev = x[i]
        i = j
    return out[:pos]


@kernel
def _decode(buf, end, out):
    n = out.size
    pos = 1
    k = 0
    prev = U0
    while k < n:
        d, pos = get_varint(buf, pos, end)
        if pos < 0:
            return pos
        length, pos = get_varint(buf, pos, end)
        if pos < 0:
            return pos
        if length == U0 or length > np.uint64(n - k):
            return E_COUNT if length else E_INVALID
        prev = prev + unzigzag(d)
        out[k : k + np.int64(length)] = prev
        k += np.int64(length)
    if pos != end:
        return E_TRAILING
    return pos


def encode(values: np.ndarray) -> bytes | None:
    out = _encode(as_u64(values), tag_of(values), max(1, values.size // 4))
    return out.tobytes() if out.size else None


def decode(body: memoryview, count: int) -> np.ndarray:
    if len(body) < 1:
        raise CorruptPayload("rle: empty body")
    buf = byte_array(body)
    out = np.empty(count, np.uint64)
    check(_decode(buf, len(body), out), NAME)
    return from_u64(out, body[0])
