"""zstd-stage: an entropy stage around another codec's output, kept only when it is smaller.

:func:`columnar.encodings.encode` offers the winning payload of every block to :func:`wrap` (except
the string codecs', which end in zstd already) and keeps the stage only when it is smaller. On the
benchmark data (docs/format/encodings.md) it never wins: the codecs already model those blocks. It
pays on what they do not model, such as a periodic pattern (LZ matches) or random-looking but
repetitive bytes. The count stays in the outer header; the inner payload is [codec id][body].

| bytes  | field                                                                        |
|--------|------------------------------------------------------------------------------|
| varint | size of the inner [codec id][body]                                           |
| ...    | a magic-less zstd frame (no checksum, no content size) of [codec id][body]  |
"""

from __future__ import annotations

import numpy as np

from columnar.encodings import _select
from columnar.encodings._core import CorruptPayload, zstd_pack, zstd_unpack

ID = 15
NAME = "zstd-stage"
KINDS = ("time", "float", "int", "uint", "bool", "str")

# zstd's frame and block headers cost ~6 bytes: an inner body this short never shrinks.
MIN_INNER = 24
# The string codecs already end in zstd; wrapping them again never pays.
SKIP = frozenset({"zstd", "dictionary"})

_KIND_OF_DTYPE = {
    np.dtype(np.int64): "int",
    np.dtype(np.uint64): "uint",
    np.dtype(np.float64): "float",
    np.dtype(np.bool_): "bool",
    np.dtype(object): "str",
}


def wrap(codec_id: int, body: bytes) -> bytes | None:
    """The stage's body around an inner encoding, or None when it cannot pay."""
    if len(body) < MIN_INNER or _select.CODECS[codec_id].NAME in SKIP:
        return None
    return zstd_pack(bytes((codec_id,)) + body)


def encode(values: np.ndarray) -> bytes | None:
    kind = _KIND_OF_DTYPE.get(np.asarray(values).dtype)
    if kind is None:
        return None
    codec_id, body = _select.choose(values, kind)
    return zstd_pack(bytes((codec_id,)) + body)


def _inner(body: memoryview) -> bytes:
    return zstd_unpack(body, 0)


def decode(body: memoryview, count: int) -> np.ndarray:
    return _select.decode_nested(_inner(body), count)


def inner_name(body: memoryview) -> str:
    inner = _inner(body)
    m = _select.CODECS.get(inner[0]) if inner else None
    if m is None:
        raise CorruptPayload("zstd-stage: unknown inner codec")
    return str(m.NAME)
