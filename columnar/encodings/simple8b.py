"""simple8b: zigzag deltas packed into 64-bit words, as many values a word as their width allows.

The first value is a varint; every later value is the zigzag of its wrapping difference from the one
before. Each word holds a 4-bit selector and 60 bits of payload:

| bytes    | field                                                       |
|----------|-------------------------------------------------------------|
| 1        | head: bits 0-1 dtype tag (0 int64, 1 uint64)                |
| varint   | zigzag(first value)                                         |
| 8 x W    | words, little-endian                                        |

| word bits | field                                                      |
|-----------|------------------------------------------------------------|
| 60-63     | selector                                                   |
| 0-59      | values, the first in the lowest bits                       |

| selector | 0   | 1   | 2  | 3  | 4  | 5  | 6  | 7  | 8 | 9 | 10 | 11 | 12 | 13 | 14 | 15 |
|----------|-----|-----|----|----|----|----|----|----|---|---|----|----|----|----|----|----|
| values   | 240 | 120 | 60 | 30 | 20 | 15 | 12 | 10 | 8 | 7 | 6  | 5  | 4  | 3  | 2  | 1  |
| bits     | 0   | 0   | 1  | 2  | 3  | 4  | 5  | 6  | 7 | 8 | 10 | 12 | 15 | 20 | 30 | 60 |

Selectors 0 and 1 are runs of 240 and 120 zero deltas (a constant or an exact linear ramp). The last
word may describe more values than remain; the extra slots are zero and ignored. A delta needing more
than 60 bits makes the codec inapplicable (encode returns None); dod and raw cover such blocks.
"""

from __future__ import annotations

import numpy as np

from columnar.encodings._core import (
    E_COUNT,
    E_TRAILING,
    E_TRUNCATED,
    CorruptPayload,
    as_u64,
    bitlen,
    byte_array,
    check,
    from_u64,
    get_varint,
    kernel,
    ld64,
    low_mask,
    put_varint,
    st64,
    tag_of,
    unzigzag,
    zigzag,
)

ID = 2
NAME = "simple8b"
KINDS = ("time", "int", "uint")

_N = np.array([240, 120, 60, 30, 20, 15, 12, 10, 8, 7, 6, 5, 4, 3, 2, 1], np.int64)
_B = np.array([0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 30, 60], np.int64)


@kernel
def _encode(x, tag):
    n = x.size
    m = max(n - 1, 0)
    out = np.empty(16 + 8 * m, np.uint8)
    out[0] = tag
    if n == 0:
        return out[:1]
    pos = put_varint(out, 1, zigzag(x[0]))
    u = np.empty(m, np.uint64)
    for i in range(m):
        u[i] = zigzag(x[i + 1] - x[i])
    i = 0
    while i < m:
        r = m - i
        k = 0
        mb = 0
        sel = 16
        for s in range(15, -1, -1):
            cnt = min(_N[s], r)
            while k < cnt:
                b = bitlen(u[i + k])
                if b > mb:
                    mb = b
                k += 1
            if mb > _B[s]:
                break
            sel = s
        if sel == 16:
            return np.empty(0, np.uint8)  # a delta needs more than 60 bits
        cnt = min(_N[sel], r)
        b = _B[sel]
        word = np.uint64(sel) << np.uint64(60)
        if b:
            for j in range(cnt):
                word |= u[i + j] << np.uint64(j * b)
        st64(out, pos, word)
        pos += 8
        i += cnt
    return out[:pos]


@kernel
def _decode(buf, end, out):
    n = out.size
    if n == 0:
        return 1 if end == 1 else E_TRAILING
    first, pos = get_varint(buf, 1, end)
    if pos < 0:
        return pos
    if (end - pos) % 8:
        return E_TRUNCATED
    out[0] = unzigzag(first)
    k = 1
    while k < n:
        if pos + 8 > end:
            return E_COUNT
        word = ld64(buf, pos)
        pos += 8
        sel = np.int64(word >> np.uint64(60))
        cnt = min(_N[sel], n - k)
        b = _B[sel]
        if b == 0:
            for j in range(cnt):
                out[k + j] = out[k + j - 1]
        else:
            mask = low_mask(b)
            prev = out[k - 1]
            for j in range(cnt):
                prev = prev + unzigzag((word >> np.uint64(j * b)) & mask)
                out[k + j] = prev
        k += cnt
    if pos != end:
        return E_TRAILING
    return pos


def encode(values: np.ndarray) -> bytes | None:
    out = _encode(as_u64(values), tag_of(values))
    return out.tobytes() if out.size else None


def decode(body: memoryview, count: int) -> np.ndarray:
    if len(body) < 1 or body[0] > 1:
        raise CorruptPayload("simple8b: missing or unknown head byte")
    out = np.empty(count, np.uint64)
    check(_decode(byte_array(body), len(body), out), NAME)
    return from_u64(out, body[0])
