"""dictionary: strings as indices into a block-local dictionary of the distinct values.

The dictionary is stored with the zstd strings layout (lengths + zstd-compressed bytes); the indices,
in first-occurrence order, go through the best integer codec (often rle or dod for a few distinct
values, rans when they are noisy).

| bytes    | field                                                                      |
|----------|----------------------------------------------------------------------------|
| varint D | number of distinct strings                                                 |
| varint B | byte length of the dictionary section                                      |
| B        | the D strings, as a zstd strings body (see zstd_strings.py)                |
| ...      | nested integer payload [codec id][body] of the count indices, to the end   |

Not applicable (encode returns None) when more than half the values are distinct.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from columnar.encodings import _select, zstd_strings
from columnar.encodings._core import CorruptPayload, read_uvarint, uvarint

ID = 8
NAME = "dictionary"
KINDS = ("str",)


def encode(values: np.ndarray) -> bytes | None:
    n = values.size
    arr, lengths, data, flags = zstd_strings.utf8(values)
    if arr is not None:
        enc = arr.dictionary_encode()
        distinct: pa.LargeStringArray = enc.dictionary
        if len(distinct) > max(1, n // 2):
            return None
        indices = enc.indices.to_numpy().astype(np.int64)
        dlen, ddata = zstd_strings._buffers(distinct)
        section = zstd_strings.pack(dlen, ddata, 0)
    else:
        uniq, inverse = np.unique(values, return_inverse=True)
        if len(uniq) > max(1, n // 2):
            return None
        indices = inverse.astype(np.int64).reshape(-1)
        _, ulen, udata, uflags = zstd_strings.utf8(uniq)
        section = zstd_strings.pack(ulen, udata, uflags)
        distinct = uniq
    return uvarint(len(distinct)) + uvarint(len(section)) + section + _select.encode_nested(indices, "int")


def decode(body: memoryview, count: int) -> np.ndarray:
    ndict, pos = read_uvarint(body, 0)
    size, pos = read_uvarint(body, pos)
    if pos + size > len(body) or ndict > count:
        raise CorruptPayload("dictionary: section runs past the body")
    distinct = zstd_strings.unpack(body[pos : pos + size], ndict)
    indices = _select.decode_nested(body[pos + size :], count, np.dtype(np.int64))
    if count and (int(indices.min()) < 0 or int(indices.max()) >= ndict):
        raise CorruptPayload("dictionary: index out of range")
    out: np.ndarray = distinct[indices]
    return out
