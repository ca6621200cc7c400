"""Block codecs: encode a column block (numpy array) into a self-describing payload and back.

A payload is::

    | byte    | codec id (the key of CODECS)                 |
    | varint  | value count (LEB128)                         |
    | ...     | the codec's body, drawn in its module        |

:func:`encode` tries every codec registered for the block's kind and keeps the smallest payload, then
tries the zstd entropy stage (:mod:`.zstd_stage`, id 15) on it and keeps that when it is smaller still.
Decoding needs nothing but the payload. See ``docs/format/encodings.md`` for the layouts and the
measured sizes and speeds.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np

from columnar.encodings import (
    alp,
    bits,
    dictionary,
    dod,
    gorilla,
    rans,
    raw,
    rle,
    simple8b,
    zstd_stage,
    zstd_strings,
)
from columnar.encodings._core import MAX_COUNT, CorruptPayload, read_uvarint, uvarint
from columnar.encodings._select import CODECS, STAGE_ID, choose, register

Kind = Literal["time", "float", "int", "uint", "bool", "str"]
KINDS: tuple[Kind, ...] = get_args(Kind)

__all__ = ["CODECS", "KINDS", "CorruptPayload", "Kind", "decode", "decode_count", "describe", "encode"]

# Registry order is the tie-break order: on equal size the earlier codec wins.
register(
    (rle, dod, simple8b, rans, alp, gorilla, bits, dictionary, zstd_strings, raw, zstd_stage),
    KINDS,
)

_DTYPE: dict[str, np.dtype] = {
    "time": np.dtype(np.int64),
    "int": np.dtype(np.int64),
    "uint": np.dtype(np.uint64),
    "float": np.dtype(np.float64),
    "bool": np.dtype(np.bool_),
    "str": np.dtype(object),
}


def _coerce(values: np.ndarray, kind: str) -> np.ndarray:
    values = np.asarray(values)
    if values.ndim != 1:
        raise ValueError(f"a block is one-dimensional, got shape {values.shape}")
    if values.size > MAX_COUNT:
        raise ValueError(f"a block holds at most {MAX_COUNT} values, got {values.size}")
    want = _DTYPE[kind]
    if kind == "str":
        return values if values.dtype == want else values.astype(object)
    if kind == "time" and values.dtype.kind == "M":
        values = values.astype("datetime64[ns]").view(np.int64)
    if values.dtype != want:
        if not np.can_cast(values.dtype, want, casting="safe"):
            raise TypeError(f"cannot encode {values.dtype} values as kind {kind!r} without loss")
        values = values.astype(want)
    return np.ascontiguousarray(values)


def encode(values: np.ndarray, kind: Kind) -> bytes:
    """Encode a block of values of the given kind into the smallest payload the codecs can make."""
    if kind not in _DTYPE:
        raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
    values = _coerce(values, kind)
    codec_id, body = choose(values, kind)
    count = uvarint(values.size)
    wrapped = zstd_stage.wrap(codec_id, body)
    if wrapped is not None and len(wrapped) < len(body):
        codec_id, body = STAGE_ID, wrapped
    return bytes((codec_id,)) + count + body


def _header(payload: bytes | memoryview) -> tuple[memoryview, int, int]:
    """(the payload as bytes, its value count, where the body starts)."""
    view = memoryview(payload)
    if view.format != "B":
        view = view.cast("B")
    n = len(view)
    if n < 2:
        raise CorruptPayload(f"payload of {n} bytes is shorter than its header")
    b1 = view[1]
    if b1 < 0x80:  # the count's varint in one or two bytes: every block of up to 16,383 values
        return view, b1, 2
    if n > 2 and view[2] < 0x80:
        return view, (b1 & 0x7F) | (view[2] << 7), 3
    count, pos = read_uvarint(view, 1)
    if count > MAX_COUNT:
        raise CorruptPayload(f"payload claims {count} values")
    return view, count, pos


def decode(payload: bytes | memoryview) -> np.ndarray:
    """Decode a payload made by :func:`encode`. Raises CorruptPayload (a ValueError) if it is damaged."""
    view, count, pos = _header(payload)
    m = CODECS.get(view[0])
    if m is None:
        raise CorruptPayload(f"unknown codec id {view[0]}")
    out: np.ndarray = m.decode(view[pos:], count)
    if len(out) != count:
        raise CorruptPayload(f"{m.NAME}: decoded {len(out)} values, header says {count}")
    return out


def decode_count(payload: bytes | memoryview) -> int:
    """The number of values in a payload, read from its header without decoding the body."""
    return _header(payload)[1]


def describe(payload: bytes | memoryview) -> str:
    """The codec that made a payload, e.g. ``"dod"`` or ``"zstd-stage(simple8b)"`` (for inspection)."""
    view, _, pos = _header(payload)
    m = CODECS.get(view[0])
    if m is None:
        raise CorruptPayload(f"unknown codec id {view[0]}")
    if m.ID == STAGE_ID:
        return f"{m.NAME}({zstd_stage.inner_name(view[pos:])})"
    return str(m.NAME)
