"""raw: the values as they are, 8 little-endian bytes each. The fallback that always applies.

Wins only for data no other codec can shrink (random doubles, random 64-bit integers).

| bytes      | field                                                  |
|------------|--------------------------------------------------------|
| 1          | head: bits 0-1 dtype tag (0 int64, 1 uint64, 2 float64) |
| 8 x count  | values, little-endian                                  |
"""

from __future__ import annotations

import numpy as np

from columnar.encodings._core import TAG_DTYPES, CorruptPayload, tag_of

ID = 0
NAME = "raw"
KINDS = ("time", "int", "uint", "float")


def encode(values: np.ndarray) -> bytes | None:
    tag = tag_of(values)
    return bytes((tag,)) + np.ascontiguousarray(values).astype(TAG_DTYPES[tag].newbyteorder("<")).tobytes()


def decode(body: memoryview, count: int) -> np.ndarray:
    if len(body) != 1 + 8 * count:
        raise CorruptPayload(f"raw: body of {len(body)} bytes cannot hold {count} values")
    tag = body[0]
    if tag > 2:
        raise CorruptPayload(f"raw: unknown dtype tag {tag}")
    dtype = TAG_DTYPES[tag]
    return np.frombuffer(body, dtype=dtype.newbyteorder("<"), offset=1).astype(dtype)
