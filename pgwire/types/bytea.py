"""bytea (17): text is hex, ``\\x`` then two lowercase hex digits per byte; binary is the bytes.

Text input also takes the old escape format (``\\\\`` and ``\\ooo`` octal), as PostgreSQL does.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pgwire.messages import WireColumn
from pgwire.types._base import Context, PgType
from pgwire.types._base import register as _register

BYTEA_OID = 17
_HEX = np.frombuffer(b"".join(f"{i:02x}".encode() for i in range(256)), np.uint8).reshape(256, 2)


def _text_value(v: object, ctx: Context) -> bytes:
    return b"\\x" + bytes(v).hex().encode()  # type: ignore[call-overload]


def _binary_value(v: object, ctx: Context) -> bytes:
    return bytes(v)  # type: ignore[call-overload]


def parse_bytea_text(data: bytes, ctx: Context) -> bytes:
    if data[:2] == b"\\x":
        return bytes.fromhex(data[2:].decode("ascii"))
    out = bytearray()
    i = 0
    while i < len(data):
        c = data[i]
        if c != 0x5C:
            out.append(c)
            i += 1
        elif data[i + 1 : i + 2] == b"\\":
            out.append(0x5C)
            i += 2
        else:
            octal = data[i + 1 : i + 4]
            if len(octal) != 3 or not all(0x30 <= b <= 0x37 for b in octal):
                raise ValueError("invalid input syntax for type bytea")
            out.append(int(octal, 8))
            i += 4
    return bytes(out)


def _parse_binary(data: bytes, ctx: Context) -> bytes:
    return bytes(data)


def _as_binary(arr: pa.Array) -> pa.Array:
    if pa.types.is_large_binary(arr.type):
        return arr
    if pa.types.is_fixed_size_binary(arr.type):
        return pa.array(arr.to_pylist(), pa.large_binary())
    return arr.cast(pa.large_binary())


def _text_column(arr: pa.Array, ctx: Context) -> WireColumn:
    arr = _as_binary(arr)
    n = len(arr)
    offsets = np.frombuffer(arr.buffers()[1], np.int64, count=n + 1, offset=arr.offset * 8)
    raw = arr.buffers()[2]
    start, stop = int(offsets[0]), int(offsets[-1])
    data = (
        np.frombuffer(raw, np.uint8, count=stop - start, offset=start)
        if raw is not None and stop > start
        else np.zeros(0, np.uint8)
    )
    hexed = _HEX[data].reshape(-1)
    hex_offsets = (offsets - start) * 2
    hex_arr = pa.Array.from_buffers(
        pa.large_binary(), n, [None, pa.py_buffer(hex_offsets), pa.py_buffer(hexed)]
    )
    prefix = pa.scalar(b"\\x", pa.large_binary())
    out = pc.binary_join_element_wise(prefix, hex_arr, pa.scalar(b"", pa.large_binary()))
    if arr.null_count:
        out = pc.if_else(arr.is_valid(), out, pa.scalar(None, pa.large_binary()))
    return WireColumn(var=out)


def _binary_column(arr: pa.Array, ctx: Context) -> WireColumn:
    return WireColumn(var=_as_binary(arr))


def register() -> None:
    _register(
        PgType(
            BYTEA_OID,
            "bytea",
            -1,
            1001,
            _text_value,
            _binary_value,
            parse_bytea_text,
            _parse_binary,
            _text_column,
            _binary_column,
        )
    )
