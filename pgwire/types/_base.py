"""The type registry and the generic paths every family shares."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from pgwire.errors import InvalidBinaryRepresentation
from pgwire.messages import WireColumn
from sql.errors import InvalidTextRepresentation

UNKNOWN_OID = 705
TEXT_OID = 25


@dataclass(frozen=True)
class Context:
    """Session settings that change how values look on the wire."""

    timezone: str = "UTC"

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.timezone)


_ZONES: dict[str, ZoneInfo] = {}


def _zone(name: str) -> ZoneInfo:
    z = _ZONES.get(name)
    if z is None:
        z = _ZONES[name] = ZoneInfo(name)
    return z


ColumnEncoder = Callable[[pa.Array, Context], WireColumn]
ValueEncoder = Callable[[object, Context], bytes]
Decoder = Callable[[bytes, Context], object]


@dataclass(frozen=True)
class PgType:
    oid: int
    name: str
    size: int  # pg_type.typlen: bytes of a fixed-width value, -1 variable
    array_oid: int
    text_value: ValueEncoder  # one Python value -> its text form (UTF-8 bytes)
    binary_value: ValueEncoder
    parse_text: Decoder
    parse_binary: Decoder
    text_column: ColumnEncoder | None = None  # vectorised; None: text_value over the column's values
    binary_column: ColumnEncoder | None = None
    element_oid: int = 0  # for array types: the element type
    extra: dict[str, object] = field(default_factory=dict)

    def encode_text_column(self, arr: pa.Array, ctx: Context) -> WireColumn:
        if self.text_column is not None:
            return self.text_column(arr, ctx)
        return values_column(arr, self.text_value, ctx)

    def encode_binary_column(self, arr: pa.Array, ctx: Context) -> WireColumn:
        if self.binary_column is not None:
            return self.binary_column(arr, ctx)
        return values_column(arr, self.binary_value, ctx)


REGISTRY: dict[int, PgType] = {}


def register(t: PgType) -> None:
    REGISTRY[t.oid] = t


def lookup(oid: int) -> PgType:
    """The type for ``oid``; an unknown OID is read and written as text."""
    t = REGISTRY.get(oid)
    if t is None:
        return REGISTRY[TEXT_OID]
    return t


def type_size(oid: int) -> int:
    t = REGISTRY.get(oid)
    return -1 if t is None else t.size


def values_column(arr: pa.Array, encode: ValueEncoder, ctx: Context) -> WireColumn:
    """The fallback: one Python call per value."""
    values = arr.to_pylist()
    out = [None if v is None else encode(v, ctx) for v in values]
    return WireColumn(var=pa.array(out, pa.large_binary()))


def encode_column(arr: pa.Array | pa.ChunkedArray, oid: int, fmt: int, ctx: Context) -> WireColumn:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    t = lookup(oid)
    return t.encode_binary_column(arr, ctx) if fmt == 1 else t.encode_text_column(arr, ctx)


def encode_value(value: object, oid: int, fmt: int, ctx: Context) -> bytes | None:
    if value is None:
        return None
    t = lookup(oid)
    return t.binary_value(value, ctx) if fmt == 1 else t.text_value(value, ctx)


def decode_param(data: bytes | None, oid: int, fmt: int, ctx: Context) -> object:
    """A Bind parameter as a Python value. An unknown type in text stays a str for the engine to cast."""
    if data is None:
        return None
    t = REGISTRY.get(oid)
    if fmt == 1:
        if t is None:
            if oid in (0, UNKNOWN_OID):
                return _utf8(data)
            raise InvalidBinaryRepresentation(f"no binary input function available for type {oid}")
        try:
            return t.parse_binary(data, ctx)
        except (ValueError, IndexError, OverflowError) as e:
            raise InvalidBinaryRepresentation(
                f"incorrect binary data format in bind parameter ({t.name}): {e}"
            ) from None
    text = _utf8(data)
    if t is None:
        return text
    try:
        return t.parse_text(data, ctx)
    except (ValueError, IndexError, OverflowError, ArithmeticError) as e:
        if isinstance(e, InvalidTextRepresentation):
            raise
        raise InvalidTextRepresentation(f'invalid input syntax for type {t.name}: "{text}"') from None


def _utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidTextRepresentation('invalid byte sequence for encoding "UTF8"') from None


# ---------------------------------------------------------------- helpers for family modules


def null_mask(arr: pa.Array) -> np.ndarray | None:
    """A bool mask of the NULL rows, or None when there is none (read from the validity bitmap)."""
    if arr.null_count == 0:
        return None
    validity = arr.buffers()[0]
    if validity is None:  # a null-typed array or a union: no bitmap, every NULL counted
        return np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    bits = np.unpackbits(np.frombuffer(validity, np.uint8), count=arr.offset + len(arr), bitorder="little")
    return bits[arr.offset :] == 0


def fixed_column(values: np.ndarray, big_endian_dtype: str, nulls: np.ndarray | None) -> WireColumn:
    """A fixed-width binary column from numpy ``values`` (NULL positions hold anything)."""
    be = np.ascontiguousarray(values.astype(big_endian_dtype, copy=False))
    width = be.dtype.itemsize
    return WireColumn(fixed=be.view(np.uint8).reshape(len(values), width), nulls=nulls)


_PLAIN = {
    pa.int8(): np.int8,
    pa.int16(): np.int16,
    pa.int32(): np.int32,
    pa.int64(): np.int64,
    pa.uint8(): np.uint8,
    pa.uint16(): np.uint16,
    pa.uint32(): np.uint32,
    pa.uint64(): np.uint64,
    pa.float16(): np.float16,
    pa.float32(): np.float32,
    pa.float64(): np.float64,
    pa.date32(): np.int32,
    pa.date64(): np.int64,
    pa.time32("s"): np.int32,
    pa.time32("ms"): np.int32,
    pa.time64("us"): np.int64,
    pa.time64("ns"): np.int64,
}


def raw_values(arr: pa.Array) -> np.ndarray | None:
    """The values buffer of a fixed-width primitive (or timestamp/duration) Arrow array as numpy, no copy;
    NULL positions hold whatever is there. None for any other type."""
    t = arr.type
    dtype = _PLAIN.get(t)
    if dtype is None:
        if pa.types.is_timestamp(t) or pa.types.is_duration(t):
            dtype = np.int64
        else:
            return None
    data = arr.buffers()[1]
    itemsize = np.dtype(dtype).itemsize
    if data is None or len(arr) == 0:
        return np.zeros(len(arr), dtype)
    return np.frombuffer(data, dtype, count=len(arr), offset=arr.offset * itemsize)


def numpy_values(arr: pa.Array, dtype: str) -> np.ndarray:
    """The values of a numeric Arrow array as numpy of ``dtype`` (NULL positions hold anything)."""
    values = raw_values(arr)
    if values is None or (values.dtype.kind == "f" and np.dtype(dtype).kind != "f"):  # NaN in a NULL slot
        if arr.null_count:
            arr = arr.fill_null(0)
        values = np.asarray(arr.to_numpy(zero_copy_only=False))
    return values.astype(dtype, copy=False)


def text_bytes(value: object) -> bytes:
    return str(value).encode("utf-8")
