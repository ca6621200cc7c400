"""boolean (OID 16): text ``t``/``f``; binary one byte, 1 or 0."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pgwire.messages import WireColumn
from pgwire.types._base import Context, PgType, null_mask
from pgwire.types._base import register as _register

BOOL_OID = 16

_TRUE = {"t", "true", "y", "yes", "on", "1"}
_FALSE = {"f", "false", "n", "no", "off", "0"}


def _text_value(v: object, ctx: Context) -> bytes:
    return b"t" if v else b"f"


def _binary_value(v: object, ctx: Context) -> bytes:
    return b"\x01" if v else b"\x00"


def parse_bool_text(data: bytes, ctx: Context) -> bool:
    s = data.decode("ascii").strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise ValueError(s)


def _parse_binary(data: bytes, ctx: Context) -> bool:
    if len(data) != 1:
        raise ValueError("boolean is one byte")
    return data != b"\x00"


def _bools(arr: pa.Array) -> np.ndarray:
    """0/1 per row as uint8 (NULL rows hold anything), unpacked from Arrow's bitmap."""
    if not pa.types.is_boolean(arr.type):
        arr = pc.cast(arr, pa.bool_())
    n = len(arr)
    if n == 0:
        return np.zeros(0, np.uint8)
    bits = np.frombuffer(arr.buffers()[1], np.uint8)
    return np.unpackbits(bits, count=arr.offset + n, bitorder="little")[arr.offset :]


_TEXT = np.array([ord("f"), ord("t")], np.uint8)


def _text_column(arr: pa.Array, ctx: Context) -> WireColumn:
    return WireColumn(fixed=_TEXT[_bools(arr)].reshape(-1, 1), nulls=null_mask(arr))


def _binary_column(arr: pa.Array, ctx: Context) -> WireColumn:
    return WireColumn(fixed=np.ascontiguousarray(_bools(arr)).reshape(-1, 1), nulls=null_mask(arr))


def register() -> None:
    _register(
        PgType(
            BOOL_OID,
            "bool",
            1,
            1000,
            _text_value,
            _binary_value,
            parse_bool_text,
            _parse_binary,
            _text_column,
            _binary_column,
        )
    )
