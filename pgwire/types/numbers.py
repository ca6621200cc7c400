"""Integers and floats: int2 (21), int4 (23), int8 (20), oid (26), float4 (700), float8 (701).

Text of integers is the decimal number. Text of floats is PostgreSQL's (12+) shortest round-trip form:
fixed notation when the decimal exponent is in [-4, 15) for float8 and [-4, 6) for float4, otherwise
``d.ddde+XX`` with at least two exponent digits; ``NaN``, ``Infinity``, ``-Infinity``, ``-0``.
Binary is big-endian two's complement / IEEE 754 of the type's width.
"""

from __future__ import annotations

import math
import struct

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pgwire.messages import WireColumn
from pgwire.types._base import Context, PgType, fixed_column, null_mask, numpy_values, raw_values
from pgwire.types._base import register as _register

INT2_OID, INT4_OID, INT8_OID, OID_OID, FLOAT4_OID, FLOAT8_OID = 21, 23, 20, 26, 700, 701


def format_float(x: float, float4: bool = False) -> str:
    """PostgreSQL's float4out/float8out text for one value."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "-0" if math.copysign(1.0, x) < 0 else "0"
    sci = np.format_float_scientific(np.float32(x) if float4 else np.float64(x), unique=True, trim="-")
    mantissa, _, exp_text = sci.partition("e")
    exp = int(exp_text)
    sign = ""
    if mantissa.startswith("-"):
        sign, mantissa = "-", mantissa[1:]
    digits = mantissa.replace(".", "")
    if -4 <= exp < (6 if float4 else 15):
        if exp >= 0:
            whole = digits[: exp + 1].ljust(exp + 1, "0")
            frac = digits[exp + 1 :]
            return sign + whole + ("." + frac if frac else "")
        return sign + "0." + "0" * (-exp - 1) + digits
    body = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{sign}{body}e{'-' if exp < 0 else '+'}{abs(exp):02d}"


def integers_column(values: np.ndarray, nulls: np.ndarray | None, scale: int = 0) -> WireColumn:
    """Decimal text of integer ``values`` (of decimals with ``scale`` digits after the point)."""
    from pgwire.types._kernels import integers_text

    data, offsets = integers_text(values, _NO_NULLS if nulls is None else nulls, scale)
    return WireColumn(nulls=nulls, offsets=offsets, data=data)


def float8_column(values: np.ndarray, nulls: np.ndarray | None) -> WireColumn:
    """PostgreSQL's float8 text (Ryu's shortest round-trip digits, see ``_kernels.float8_text``)."""
    from pgwire.types._kernels import float8_text

    data, offsets = float8_text(values.view(np.int64), _NO_NULLS if nulls is None else nulls, 15)
    return WireColumn(nulls=nulls, offsets=offsets, data=data)


def floats_column(text: pa.Array, high: int) -> WireColumn:
    """PostgreSQL's float text from Arrow's large_string text of the same floats (see ``floats_text``)."""
    from pgwire.types._kernels import floats_text

    offsets = np.frombuffer(text.buffers()[1], np.int64, count=len(text) + 1, offset=text.offset * 8)
    data_buf = text.buffers()[2]
    data = np.frombuffer(data_buf, np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    out, new = floats_text(data, offsets, high)
    return WireColumn(nulls=null_mask(text), offsets=new, data=out)


_NO_NULLS = np.zeros(0, np.bool_)


def _parse_float(data: bytes, ctx: Context) -> float:
    s = data.decode("ascii").strip()
    low = s.lower()
    if low in ("infinity", "+infinity", "inf", "+inf"):
        return math.inf
    if low in ("-infinity", "-inf"):
        return -math.inf
    if low == "nan":
        return math.nan
    return float(s)


def _int_type(oid: int, name: str, size: int, array_oid: int, lo: int, hi: int, code: str) -> PgType:
    st = struct.Struct("!" + code)
    be = ">" + {"h": "i2", "i": "i4", "q": "i8", "I": "u4"}[code]
    np_dtype = {"h": "int16", "i": "int32", "q": "int64", "I": "uint32"}[code]

    def text_value(v: object, ctx: Context) -> bytes:
        return str(int(v)).encode()  # type: ignore[call-overload]

    def binary_value(v: object, ctx: Context) -> bytes:
        return st.pack(int(v))  # type: ignore[call-overload]

    def parse_text(data: bytes, ctx: Context) -> int:
        n = int(data.decode("ascii").strip(), 10)
        if not lo <= n <= hi:
            from sql.errors import NumericValueOutOfRange

            raise NumericValueOutOfRange(f'value "{n}" is out of range for type {name}')
        return n

    def parse_binary(data: bytes, ctx: Context) -> int:
        if len(data) != size:
            raise ValueError(f"{name} is {size} bytes")
        return int(st.unpack(data)[0])

    def text_column(arr: pa.Array, ctx: Context) -> WireColumn:
        if not pa.types.is_integer(arr.type):
            arr = pc.cast(arr, getattr(pa, np_dtype)())
        if arr.type == pa.uint64():
            return WireColumn(var=pc.cast(arr, pa.large_string()))
        return integers_column(raw_values(arr), null_mask(arr))

    def binary_column(arr: pa.Array, ctx: Context) -> WireColumn:
        return fixed_column(numpy_values(arr, np_dtype), be, null_mask(arr))

    return PgType(
        oid,
        name,
        size,
        array_oid,
        text_value,
        binary_value,
        parse_text,
        parse_binary,
        text_column,
        binary_column,
    )


def _float_type(oid: int, name: str, size: int, array_oid: int) -> PgType:
    float4 = size == 4
    st = struct.Struct("!f" if float4 else "!d")
    be, np_dtype = (">f4", "float32") if float4 else (">f8", "float64")
    high = 6 if float4 else 15  # decimal exponents below this (and from -4) are written in fixed notation

    def text_value(v: object, ctx: Context) -> bytes:
        return format_float(float(v), float4).encode()  # type: ignore[arg-type]

    def binary_value(v: object, ctx: Context) -> bytes:
        return st.pack(float(v))  # type: ignore[arg-type]

    def parse_binary(data: bytes, ctx: Context) -> float:
        if len(data) != size:
            raise ValueError(f"{name} is {size} bytes")
        return float(st.unpack(data)[0])

    def text_column(arr: pa.Array, ctx: Context) -> WireColumn:
        target = pa.float32() if float4 else pa.float64()
        if arr.type != target:
            arr = pc.cast(arr, target, safe=False)
        if float4:  # Arrow writes float4's shortest digits; a kernel puts them in PostgreSQL's notation
            return floats_column(pc.cast(arr, pa.large_string()), high)
        return float8_column(raw_values(arr), null_mask(arr))  # type: ignore[arg-type]

    def binary_column(arr: pa.Array, ctx: Context) -> WireColumn:
        return fixed_column(numpy_values(arr, np_dtype), be, null_mask(arr))

    def parse_text(data: bytes, ctx: Context) -> float:
        x = _parse_float(data, ctx)
        return float(np.float32(x)) if float4 else x

    return PgType(
        oid,
        name,
        size,
        array_oid,
        text_value,
        binary_value,
        parse_text,
        parse_binary,
        text_column,
        binary_column,
    )


def register() -> None:
    _register(_int_type(INT2_OID, "int2", 2, 1005, -(2**15), 2**15 - 1, "h"))
    _register(_int_type(INT4_OID, "int4", 4, 1007, -(2**31), 2**31 - 1, "i"))
    _register(_int_type(INT8_OID, "int8", 8, 1016, -(2**63), 2**63 - 1, "q"))
    _register(_int_type(OID_OID, "oid", 4, 1028, 0, 2**32 - 1, "I"))
    _register(_float_type(FLOAT4_OID, "float4", 4, 1021))
    _register(_float_type(FLOAT8_OID, "float8", 8, 1022))
