"""uuid (2950): text is the lowercase 8-4-4-4-12 hex form; binary the 16 bytes."""

from __future__ import annotations

import uuid as _uuid

import pyarrow as pa
import pyarrow.compute as pc

from pgwire.messages import WireColumn
from pgwire.types._base import Context, PgType, values_column
from pgwire.types._base import register as _register

UUID_OID = 2950


def _as_uuid(v: object) -> _uuid.UUID:
    if isinstance(v, _uuid.UUID):
        return v
    if isinstance(v, bytes):
        return _uuid.UUID(bytes=v)
    return _uuid.UUID(str(v))


def _text_value(v: object, ctx: Context) -> bytes:
    return str(_as_uuid(v)).encode()


def _binary_value(v: object, ctx: Context) -> bytes:
    return _as_uuid(v).bytes


def _parse_text(data: bytes, ctx: Context) -> _uuid.UUID:
    return _uuid.UUID(data.decode("ascii").strip())


def _parse_binary(data: bytes, ctx: Context) -> _uuid.UUID:
    if len(data) != 16:
        raise ValueError("uuid is 16 bytes")
    return _uuid.UUID(bytes=bytes(data))


def _text_column(arr: pa.Array, ctx: Context) -> WireColumn:
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        return WireColumn(var=pc.utf8_lower(arr))
    return values_column(arr, _text_value, ctx)


def register() -> None:
    _register(
        PgType(
            UUID_OID, "uuid", 16, 2951, _text_value, _binary_value, _parse_text, _parse_binary, _text_column
        )
    )
