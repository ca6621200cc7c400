"""Character types: text (25), varchar (1043), name (19), bpchar (1042), "char" (18), unknown (705).

Text and binary forms are the same: the UTF-8 bytes of the string.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from pgwire.messages import WireColumn
from pgwire.types._base import Context, PgType
from pgwire.types._base import register as _register

TEXT_OID, VARCHAR_OID, NAME_OID, BPCHAR_OID, CHAR_OID, UNKNOWN_OID = 25, 1043, 19, 1042, 18, 705


def _value(v: object, ctx: Context) -> bytes:
    if isinstance(v, bytes):
        return v
    return str(v).encode("utf-8")


def _parse(data: bytes, ctx: Context) -> str:
    return data.decode("utf-8")


def string_column(arr: pa.Array, ctx: Context) -> WireColumn:
    t = arr.type
    if pa.types.is_dictionary(t):
        arr = arr.dictionary_decode()
        t = arr.type
    if (
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_binary(t)
        or pa.types.is_large_binary(t)
    ):
        return WireColumn(var=arr)
    if pa.types.is_boolean(t) or pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return WireColumn(var=pc.cast(arr, pa.large_string()))
    return WireColumn(
        var=pa.array([None if v is None else str(v) for v in arr.to_pylist()], pa.large_string())
    )


def register() -> None:
    for oid, name, size, array_oid in (
        (TEXT_OID, "text", -1, 1009),
        (VARCHAR_OID, "varchar", -1, 1015),
        (NAME_OID, "name", 64, 1003),
        (BPCHAR_OID, "bpchar", -1, 1014),
        (CHAR_OID, "char", 1, 1002),
        (UNKNOWN_OID, "unknown", -2, 0),
    ):
        _register(
            PgType(oid, name, size, array_oid, _value, _value, _parse, _parse, string_column, string_column)
        )
