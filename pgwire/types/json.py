"""json (114) and jsonb (3802). Values are JSON text; jsonb's binary form is a version byte 1 then the text.

A parameter arrives as the JSON text (a str): the engine parses it where it needs to.
"""

from __future__ import annotations

import json as _json

import pyarrow as pa

from pgwire.messages import WireColumn
from pgwire.types._base import Context, PgType
from pgwire.types._base import register as _register
from pgwire.types.text import string_column

JSON_OID, JSONB_OID = 114, 3802


def _text(v: object, ctx: Context) -> bytes:
    if isinstance(v, bytes):
        return v
    if isinstance(v, str):
        return v.encode("utf-8")
    return _json.dumps(v).encode("utf-8")


def _jsonb_binary(v: object, ctx: Context) -> bytes:
    return b"\x01" + _text(v, ctx)


def _parse(data: bytes, ctx: Context) -> str:
    text = data.decode("utf-8")
    _json.loads(text)  # reject what is not JSON at the boundary, as PostgreSQL does
    return text


def _parse_jsonb_binary(data: bytes, ctx: Context) -> str:
    if not data or data[0] != 1:
        raise ValueError("unsupported jsonb version number")
    return _parse(data[1:], ctx)


def _jsonb_binary_column(arr: pa.Array, ctx: Context) -> WireColumn:
    import pyarrow.compute as pc

    text = string_column(arr, ctx).var
    assert text is not None
    return WireColumn(
        var=pc.binary_join_element_wise(
            pa.scalar(b"\x01", pa.large_binary()),
            text.cast(pa.large_binary()),
            pa.scalar(b"", pa.large_binary()),
        )
    )


def register() -> None:
    _register(PgType(JSON_OID, "json", -1, 199, _text, _text, _parse, _parse, string_column, string_column))
    _register(
        PgType(
            JSONB_OID,
            "jsonb",
            -1,
            3807,
            _text,
            _jsonb_binary,
            _parse,
            _parse_jsonb_binary,
            string_column,
            _jsonb_binary_column,
        )
    )
