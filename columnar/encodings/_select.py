"""The codec registry and the choice of the smallest encoding for a block.

``CODECS`` is the one mapping from codec id to module. It lives here rather than in the package
``__init__`` so that codecs which nest another encoding (ALP's scaled integers, the dictionary's
indices, the zstd stage's inner payload) can reach it without an import cycle; the package fills it
once at import and re-exports it.

A *nested* encoding is ``[codec id: 1 byte][codec body]``: the count is known from the outer payload.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from columnar.encodings._core import CorruptPayload

CODECS: dict[int, ModuleType] = {}
STAGE_ID = 15  # the entropy stage: wraps another codec's output, never nests itself

# kind -> codecs that may encode it, in registry order (ties go to the earlier one). Built by register().
_BY_KIND: dict[str, tuple[ModuleType, ...]] = {}


def register(modules: tuple[ModuleType, ...], kinds: tuple[str, ...]) -> None:
    for m in modules:
        if m.ID in CODECS:
            raise RuntimeError(f"codec id {m.ID} registered twice ({CODECS[m.ID].NAME}, {m.NAME})")
        CODECS[m.ID] = m
    for kind in kinds:
        _BY_KIND[kind] = tuple(m for m in modules if kind in m.KINDS and m.ID != STAGE_ID)


def choose(values: np.ndarray, kind: str) -> tuple[int, bytes]:
    """The (codec id, body) of the smallest encoding of values among the codecs for kind."""
    best_id = -1
    best: bytes | None = None
    for m in _BY_KIND[kind]:
        body = m.encode(values)
        if body is not None and (best is None or len(body) < len(best)):
            best_id, best = m.ID, body
    if best is None:
        raise RuntimeError(f"no codec could encode this {kind} block")
    return best_id, best


def encode_nested(values: np.ndarray, kind: str) -> bytes:
    codec_id, body = choose(values, kind)
    return bytes((codec_id,)) + body


def decode_nested(body: bytes | memoryview, count: int, dtype: np.dtype | None = None) -> np.ndarray:
    """Decode ``[codec id][body]`` running to the end of the given bytes; check the dtype if given."""
    if len(body) < 1:
        raise CorruptPayload("nested payload is empty")
    m = CODECS.get(body[0])
    if m is None or m.ID == STAGE_ID:
        raise CorruptPayload(f"nested payload names unknown codec id {body[0]}")
    out: np.ndarray = m.decode(memoryview(body)[1:], count)
    if dtype is not None and out.dtype != dtype:
        raise CorruptPayload(f"nested payload holds {out.dtype}, expected {dtype}")
    return out
