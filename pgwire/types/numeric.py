"""numeric (OID 1700): arbitrary precision decimals as :class:`decimal.Decimal`.

Text is the plain decimal with the value's scale (``1.50``), never an exponent; ``NaN``, ``Infinity``,
``-Infinity``. Binary layout (all int16, big-endian)::

    ndigits | weight | sign | dscale | digit[ndigits]
    digit: base-10000 groups, most significant first; value = sum(digit[i] * 10000^(weight - i))
    sign: 0x0000 positive, 0x4000 negative, 0xC000 NaN, 0xD000 +Infinity, 0xF000 -Infinity
    dscale: digits shown after the decimal point
"""

from __future__ import annotations

import struct
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pgwire.messages import WireColumn
from pgwire.types._base import Context, PgType, null_mask, raw_values, values_column
from pgwire.types._base import register as _register
from pgwire.types.numbers import integers_column

NUMERIC_OID = 1700
_POS, _NEG, _NAN, _PINF, _NINF = 0x0000, 0x4000, 0xC000, 0xD000, 0xF000
_HEAD = struct.Struct("!hhHh")


def _decimal(v: object) -> Decimal:
    if isinstance(v, Decimal):
        return v
    if isinstance(v, float):
        return Decimal(repr(v)) if v == v and v not in (float("inf"), float("-inf")) else Decimal(str(v))
    return Decimal(v)  # type: ignore[arg-type]


def format_numeric(d: Decimal) -> str:
    if d.is_nan():
        return "NaN"
    if d.is_infinite():
        return "Infinity" if d > 0 else "-Infinity"
    return format(d, "f")


def _text_value(v: object, ctx: Context) -> bytes:
    return format_numeric(_decimal(v)).encode()


def encode_numeric_binary(d: Decimal) -> bytes:
    if d.is_nan():
        return _HEAD.pack(0, 0, _NAN, 0)
    if d.is_infinite():
        return _HEAD.pack(0, 0, _PINF if d > 0 else _NINF, 0)
    sign, digit_tuple, exp = d.as_tuple()
    assert isinstance(exp, int)
    digits = "".join(map(str, digit_tuple))
    if exp > 0:
        digits += "0" * exp
        exp = 0
    dscale = -exp
    if len(digits) <= dscale:
        digits = "0" * (dscale - len(digits) + 1) + digits
    whole, frac = digits[: len(digits) - dscale], digits[len(digits) - dscale :]
    whole = whole.zfill((len(whole) + 3) // 4 * 4)
    frac = frac.ljust((len(frac) + 3) // 4 * 4, "0")
    groups = [int(whole[i : i + 4]) for i in range(0, len(whole), 4)]
    weight = len(groups) - 1
    groups += [int(frac[i : i + 4]) for i in range(0, len(frac), 4)]
    while groups and groups[0] == 0:
        groups.pop(0)
        weight -= 1
    while groups and groups[-1] == 0:
        groups.pop()
    if not groups:
        weight = 0
    return _HEAD.pack(len(groups), weight, _NEG if sign else _POS, dscale) + struct.pack(
        f"!{len(groups)}h", *groups
    )


def decode_numeric_binary(data: bytes) -> Decimal:
    ndigits, weight, sign, dscale = _HEAD.unpack_from(data)
    if len(data) != 8 + 2 * ndigits or ndigits < 0:
        raise ValueError("numeric length does not match its digit count")
    if sign == _NAN:
        return Decimal("NaN")
    if sign == _PINF:
        return Decimal("Infinity")
    if sign == _NINF:
        return Decimal("-Infinity")
    if sign not in (_POS, _NEG) or dscale < 0:
        raise ValueError("invalid numeric sign or scale")
    groups = struct.unpack_from(f"!{ndigits}h", data, 8)
    if any(not 0 <= g < 10000 for g in groups):
        raise ValueError("invalid numeric digit")
    digits = "".join(f"{g:04d}" for g in groups)
    point = 4 * (weight + 1)  # digits before the decimal point
    if point <= 0:
        digits = "0" * (-point) + digits
        point = 0
    elif point > len(digits):
        digits += "0" * (point - len(digits))
    whole = digits[:point].lstrip("0") or "0"
    frac = digits[point:][:dscale].ljust(dscale, "0")
    d = Decimal(f"{whole}.{frac}" if dscale else whole)
    return d.copy_negate() if sign == _NEG else d


def _binary_value(v: object, ctx: Context) -> bytes:
    return encode_numeric_binary(_decimal(v))


def _parse_text(data: bytes, ctx: Context) -> Decimal:
    s = data.decode("ascii").strip()
    low = s.lower()
    if low in ("infinity", "+infinity", "inf", "+inf"):
        return Decimal("Infinity")
    if low in ("-infinity", "-inf"):
        return Decimal("-Infinity")
    d = Decimal(s)
    if d.is_snan():
        raise ValueError(s)
    return d


def _parse_binary(data: bytes, ctx: Context) -> Decimal:
    return decode_numeric_binary(data)


def _unscaled(arr: pa.Array) -> np.ndarray | None:
    """The unscaled int64 values of a decimal128 column when every one (times 10^pad, pad aligning its scale
    to 4-digit groups) fits int64 and its scale is 0-1000; else None. NULL rows hold anything."""
    if not (pa.types.is_decimal128(arr.type) and 0 <= arr.type.scale <= 1000) or not len(arr):
        return None
    scale = arr.type.scale
    raw = np.frombuffer(arr.buffers()[1], np.int64, count=2 * len(arr), offset=arr.offset * 16).reshape(-1, 2)
    low, high = raw[:, 0], raw[:, 1]
    pad = (scale + 3) // 4 * 4 - scale
    limit = (2**63 - 1) // 10**pad
    fits = (high == (low >> 63)) & (low > -limit) & (low < limit)
    nulls = null_mask(arr)
    if nulls is not None:
        fits |= nulls
    return np.ascontiguousarray(low) if fits.all() else None


def _text_column(arr: pa.Array, ctx: Context) -> WireColumn:
    unscaled = _unscaled(arr)
    if unscaled is not None:
        return integers_column(unscaled, null_mask(arr), arr.type.scale)
    if pa.types.is_integer(arr.type) and arr.type != pa.uint64():
        return integers_column(raw_values(arr), null_mask(arr))  # type: ignore[arg-type]
    if pa.types.is_decimal(arr.type) or pa.types.is_integer(arr.type):
        return WireColumn(var=pc.cast(arr, pa.large_string()))
    return WireColumn(
        var=pa.array(
            [None if v is None else format_numeric(_decimal(v)) for v in arr.to_pylist()], pa.large_string()
        )
    )


def _binary_column(arr: pa.Array, ctx: Context) -> WireColumn:
    """decimal128 columns whose values fit int64 go through a numba kernel; others value by value."""
    unscaled = _unscaled(arr)
    if unscaled is None:
        return values_column(arr, _binary_value, ctx)
    from pgwire.types._kernels import numeric_binary

    nulls = null_mask(arr)
    data, offsets = numeric_binary(
        unscaled, np.zeros(len(arr), np.bool_) if nulls is None else nulls, arr.type.scale
    )
    return WireColumn(nulls=nulls, offsets=offsets, data=data)


def register() -> None:
    _register(
        PgType(
            NUMERIC_OID,
            "numeric",
            -1,
            1231,
            _text_value,
            _binary_value,
            _parse_text,
            _parse_binary,
            _text_column,
            _binary_column,
        )
    )
