"""Dates and times: timestamp (1114), timestamptz (1184), date (1082), time (1083).

Text (DateStyle ISO): ``2016-01-01 00:00:00``, fractional seconds only when not zero and without
trailing zeros (``00:00:00.5``); timestamptz is shown in the session TimeZone with its offset as
``+00``, ``-08`` or ``+05:30``. Binary (integer_datetimes on)::

    timestamp, timestamptz   int64 microseconds since 2000-01-01 00:00:00 (UTC for timestamptz)
    date                     int32 days since 2000-01-01
    time                     int64 microseconds since midnight
    +/-infinity              int64/int32 max and min
"""

from __future__ import annotations

import datetime as dt
import re
import struct

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pgwire.messages import WireColumn
from pgwire.types._base import Context, PgType, fixed_column, null_mask, numpy_values, raw_values
from pgwire.types._base import register as _register

TIMESTAMP_OID, TIMESTAMPTZ_OID, DATE_OID, TIME_OID = 1114, 1184, 1082, 1083

PG_EPOCH = dt.datetime(2000, 1, 1)
PG_EPOCH_UTC = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
PG_EPOCH_DATE = dt.date(2000, 1, 1)
_EPOCH_US = 946_684_800_000_000  # 2000-01-01 in microseconds since 1970
_EPOCH_DAYS = 10_957
_LATE_US = 2_145_916_800_000_000  # 2038-01-01 in microseconds since 1970
_I64_MAX, _I64_MIN = 2**63 - 1, -(2**63)
_I32_MAX, _I32_MIN = 2**31 - 1, -(2**31)
_Q = struct.Struct("!q")
_I = struct.Struct("!i")


# ---------------------------------------------------------------- scalar text


def _trim_fraction(text: str) -> str:
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _format_offset(offset: dt.timedelta | None) -> str:
    seconds = int(offset.total_seconds()) if offset is not None else 0
    sign = "-" if seconds < 0 else "+"
    seconds = abs(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    out = f"{sign}{h:02d}"
    if m or s:
        out += f":{m:02d}"
    if s:
        out += f":{s:02d}"
    return out


def format_timestamp(v: dt.datetime) -> str:
    if v == dt.datetime.max:
        return "infinity"
    if v == dt.datetime.min:
        return "-infinity"
    return _trim_fraction(v.replace(tzinfo=None).isoformat(sep=" "))


def format_timestamptz(v: dt.datetime, ctx: Context) -> str:
    if v.replace(tzinfo=None) == dt.datetime.max:
        return "infinity"
    if v.replace(tzinfo=None) == dt.datetime.min:
        return "-infinity"
    if v.tzinfo is None:
        v = v.replace(tzinfo=dt.UTC)
    local = v.astimezone(ctx.zone)
    return format_timestamp(local.replace(tzinfo=None)) + _format_offset(local.utcoffset())


def format_date(v: dt.date) -> str:
    if v == dt.date.max:
        return "infinity"
    if v == dt.date.min:
        return "-infinity"
    return v.isoformat()


def format_time(v: dt.time) -> str:
    return _trim_fraction(v.replace(tzinfo=None).isoformat())


# ---------------------------------------------------------------- scalar parse


_TZ_TAIL = re.compile(r"(?:\s*(Z|UTC|[+-]\d{1,2}(?::?\d{2}(?::?\d{2})?)?))$", re.IGNORECASE)


def _parse_offset(text: str) -> dt.timezone:
    if text.upper() in ("Z", "UTC"):
        return dt.UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    if len(digits) <= 2:
        h, m, s = int(digits), 0, 0
    else:
        h, m, s = int(digits[:-2] if len(digits) in (3, 4) else digits[:-4]), 0, 0
        if len(digits) in (3, 4):
            m = int(digits[-2:])
        else:
            m, s = int(digits[-4:-2]), int(digits[-2:])
    return dt.timezone(sign * dt.timedelta(hours=h, minutes=m, seconds=s))


def _split_tz(text: str) -> tuple[str, dt.tzinfo | None]:
    # a bare date has '-' in it; only look for an offset after the time part
    if len(text) > 10:
        m = _TZ_TAIL.search(text, 10)
        if m:
            return text[: m.start()].strip(), _parse_offset(m.group(1))
    return text, None


def _parse_naive(text: str) -> dt.datetime:
    text = text.strip()
    if "." in text:  # fromisoformat wants 3 or 6 fraction digits
        head, _, frac = text.partition(".")
        frac = (frac + "000000")[:6] if len(frac) <= 6 else frac[:6]
        text = f"{head}.{frac}"
    return dt.datetime.fromisoformat(text)


def parse_timestamp_text(data: bytes, ctx: Context) -> dt.datetime:
    text = data.decode("ascii").strip()
    low = text.lower()
    if low == "infinity":
        return dt.datetime.max
    if low == "-infinity":
        return dt.datetime.min
    body, _ = _split_tz(text)
    return _parse_naive(body)


def parse_timestamptz_text(data: bytes, ctx: Context) -> dt.datetime:
    text = data.decode("ascii").strip()
    low = text.lower()
    if low == "infinity":
        return dt.datetime.max.replace(tzinfo=dt.UTC)
    if low == "-infinity":
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    body, tz = _split_tz(text)
    naive = _parse_naive(body)
    local = naive.replace(tzinfo=tz if tz is not None else ctx.zone)
    return local.astimezone(dt.UTC)


def _parse_date_text(data: bytes, ctx: Context) -> dt.date:
    text = data.decode("ascii").strip()
    if text.lower() == "infinity":
        return dt.date.max
    if text.lower() == "-infinity":
        return dt.date.min
    return dt.date.fromisoformat(text)


def _parse_time_text(data: bytes, ctx: Context) -> dt.time:
    text = data.decode("ascii").strip()
    if "." in text:
        head, _, frac = text.partition(".")
        text = f"{head}.{(frac + '000000')[:6]}"
    return dt.time.fromisoformat(text)


# ---------------------------------------------------------------- scalar binary


def _micros(v: dt.datetime) -> int:
    delta = v - (PG_EPOCH_UTC if v.tzinfo is not None else PG_EPOCH)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def _ts_binary(v: object, ctx: Context) -> bytes:
    assert isinstance(v, dt.datetime)
    naive = v.replace(tzinfo=None)
    if naive == dt.datetime.max:
        return _Q.pack(_I64_MAX)
    if naive == dt.datetime.min:
        return _Q.pack(_I64_MIN)
    return _Q.pack(_micros(v))


def _tstz_binary(v: object, ctx: Context) -> bytes:
    assert isinstance(v, dt.datetime)
    if v.tzinfo is None:
        v = v.replace(tzinfo=dt.UTC)
    return _ts_binary(v, ctx)


def _parse_ts_binary(data: bytes, ctx: Context) -> dt.datetime:
    if len(data) != 8:
        raise ValueError("timestamp is 8 bytes")
    us = _Q.unpack(data)[0]
    if us == _I64_MAX:
        return dt.datetime.max
    if us == _I64_MIN:
        return dt.datetime.min
    return PG_EPOCH + dt.timedelta(microseconds=us)


def _parse_tstz_binary(data: bytes, ctx: Context) -> dt.datetime:
    return _parse_ts_binary(data, ctx).replace(tzinfo=dt.UTC)


def _date_binary(v: object, ctx: Context) -> bytes:
    assert isinstance(v, dt.date)
    if isinstance(v, dt.datetime):
        v = v.date()
    if v == dt.date.max:
        return _I.pack(_I32_MAX)
    if v == dt.date.min:
        return _I.pack(_I32_MIN)
    return _I.pack((v - PG_EPOCH_DATE).days)


def _parse_date_binary(data: bytes, ctx: Context) -> dt.date:
    if len(data) != 4:
        raise ValueError("date is 4 bytes")
    days = _I.unpack(data)[0]
    if days == _I32_MAX:
        return dt.date.max
    if days == _I32_MIN:
        return dt.date.min
    return PG_EPOCH_DATE + dt.timedelta(days=days)


def _time_binary(v: object, ctx: Context) -> bytes:
    assert isinstance(v, dt.time)
    return _Q.pack(((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000 + v.microsecond)


def _parse_time_binary(data: bytes, ctx: Context) -> dt.time:
    if len(data) != 8:
        raise ValueError("time is 8 bytes")
    us = _Q.unpack(data)[0]
    if not 0 <= us <= 86_400_000_000:
        raise ValueError("time out of range")
    if us == 86_400_000_000:
        return dt.time(23, 59, 59, 999999)  # 24:00:00 has no Python time
    s, us = divmod(us, 1_000_000)
    m, s = divmod(s, 60)
    h, m = divmod(m, 60)
    return dt.time(h, m, s, us)


# ---------------------------------------------------------------- vectorised columns (numba, no per-value Python)

_US_PER_DAY = 86_400_000_000
_NEVER = 2**63 - 1
_NO_NULLS = np.zeros(0, np.bool_)
_NO_OFFSETS = np.zeros(0, np.int64)
_UNIT_US = {"s": 1_000_000, "ms": 1_000, "us": 1}


def format_timestamps(
    micros: np.ndarray,
    nulls: np.ndarray | None = None,
    zone_offsets: np.ndarray | None = None,
    *,
    utc: bool = False,
    date: bool = True,
    clock: bool = True,
    late: int = _NEVER,
) -> tuple[WireColumn, np.ndarray]:
    """Text of wall-clock microseconds since 1970 by the numba kernel, with the suffix ``+00`` (``utc``) or
    each row's UTC offset (``zone_offsets``, seconds). Returns the column and the mask of rows it left
    empty for the caller: years outside 1-9999, and instants at or after ``late``."""
    from pgwire.types._kernels import timestamps_text

    suffix = 2 if zone_offsets is not None else 1 if utc else 0
    data, offsets, odd = timestamps_text(
        np.ascontiguousarray(micros, np.int64),
        _NO_NULLS if nulls is None else nulls,
        _NO_OFFSETS if zone_offsets is None else np.ascontiguousarray(zone_offsets, np.int64),
        suffix,
        late,
        date,
        clock,
    )
    return WireColumn(nulls=nulls, offsets=offsets, data=data), odd


def _patch(col: WireColumn, odd: np.ndarray, values: pa.Array) -> WireColumn:
    """``col`` with the rows flagged ``odd`` (rare) replaced by ``values``, one per flagged row."""
    assert col.var is not None
    mask = pa.array(odd)
    return WireColumn(var=pc.replace_with_mask(col.var, mask, values.cast(col.var.type)), nulls=col.nulls)


def _trunc_div(values: np.ndarray, d: int) -> np.ndarray:
    """Integer division rounding toward zero, as Arrow's unsafe casts to a coarser unit do."""
    q = values // d
    return q + ((values < 0) & (q * d != values))


def _column_micros(arr: pa.Array) -> tuple[np.ndarray, str | None]:
    """int64 microseconds since 1970 of any time-like column (the UTC instant of a zoned one; NULL rows hold
    anything) and its time zone. At most microsecond precision, as PostgreSQL keeps."""
    t = arr.type
    if pa.types.is_timestamp(t):
        raw = raw_values(arr)
        assert raw is not None
        if t.unit == "ns":
            return _trunc_div(raw, 1000), t.tz
        return (raw if t.unit == "us" else raw * _UNIT_US[t.unit]), t.tz
    if pa.types.is_date32(t):
        return _days(_raw_days(arr)) * _US_PER_DAY, None
    if pa.types.is_integer(t):  # int64 nanoseconds since 1970 (the storage engine's time column)
        return _trunc_div(numpy_values(arr, "int64"), 1000), None
    us = pc.cast(arr, pa.timestamp("us"))
    return raw_values(us), None  # type: ignore[return-value]


def _instants(micros: np.ndarray, nulls: np.ndarray | None, tz: str) -> pa.Array:
    """A zoned Arrow timestamp array of ``micros`` (NULL rows as 0, so Arrow sees no stray value)."""
    if nulls is not None:
        micros = np.where(nulls, 0, micros)
    return pa.Array.from_buffers(
        pa.timestamp("us", tz=tz), len(micros), [None, pa.py_buffer(np.ascontiguousarray(micros))]
    )


def _wall(micros: np.ndarray, nulls: np.ndarray | None, tz: str) -> np.ndarray:
    """Wall-clock microseconds in ``tz`` of the instants ``micros`` (Arrow's zone rules)."""
    return raw_values(pc.local_timestamp(_instants(micros, nulls, tz)))  # type: ignore[return-value]


def _from_micros(v: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=v)


# DuckDB's infinite timestamps and dates (PostgreSQL's DT_NOEND / DT_NOBEGIN in binary)
_INF_US, _INF_DAYS = 2**63 - 1, 2**31 - 1


def _infinite(values: np.ndarray, inf: int) -> np.ndarray | None:
    """Rows holding +inf or -inf (None: none), NULL rows included (their value is anything)."""
    mask = (values >= inf) | (values <= -inf)
    return mask if mask.any() else None


def _with_infinities(col: WireColumn, raw: np.ndarray, inf: np.ndarray | None) -> WireColumn:
    """``col`` (formatted with the infinite rows as 0) with 'infinity' / '-infinity' in those rows."""
    if inf is None:
        return col
    return _patch(col, inf, pa.array(np.where(raw[inf] > 0, "infinity", "-infinity")))


def _timestamp_text_column(arr: pa.Array, ctx: Context) -> WireColumn:
    raw, tz = _column_micros(arr)
    nulls = null_mask(arr)
    inf = _infinite(raw, _INF_US)
    micros = raw if inf is None else np.where(inf, 0, raw)
    if tz is not None:  # a zoned array shown as timestamp: its wall-clock time
        micros = _wall(micros, nulls, tz)
    col, odd = format_timestamps(micros, nulls)
    if odd.any():
        col = _patch(col, odd, pa.array([format_timestamp(_from_micros(int(v))) for v in micros[odd]]))
    return _with_infinities(col, raw, inf)


UTC_NAMES = ("UTC", "Etc/UTC", "GMT", "Etc/GMT", "Etc/UCT", "UCT", "Zulu")


def _timestamptz_text_column(arr: pa.Array, ctx: Context) -> WireColumn:
    raw, _ = _column_micros(arr)
    nulls = null_mask(arr)
    inf = _infinite(raw, _INF_US)
    instant = raw if inf is None else np.where(inf, 0, raw)
    if ctx.timezone in UTC_NAMES:
        col, odd = format_timestamps(instant, nulls, utc=True)
    else:
        wall = _wall(instant, nulls, ctx.timezone)
        # Arrow's time zone rules stop at 2037 where the zone database's own POSIX rule goes on; zoneinfo
        # (like PostgreSQL) follows the rule, so those rare values are formatted one by one.
        col, odd = format_timestamps(wall, nulls, (wall - instant) // 1_000_000, late=_LATE_US)
    if odd.any():
        fixed = [format_timestamptz(_from_micros(int(v)).replace(tzinfo=dt.UTC), ctx) for v in instant[odd]]
        col = _patch(col, odd, pa.array(fixed))
    return _with_infinities(col, raw, inf)


def _timestamp_binary_column(arr: pa.Array, ctx: Context) -> WireColumn:
    micros, _ = _column_micros(arr)
    pg = micros - _EPOCH_US
    inf = _infinite(micros, _INF_US)
    if inf is not None:  # PostgreSQL's infinities are int64's extremes
        pg = np.where(inf, np.where(micros > 0, _INF_US, -_INF_US - 1), pg)
    return fixed_column(pg, ">i8", null_mask(arr))


def _date32(arr: pa.Array) -> pa.Array:
    return arr if pa.types.is_date32(arr.type) else pc.cast(arr, pa.date32())


def _raw_days(arr: pa.Array) -> np.ndarray:
    return np.asarray(raw_values(arr), np.int64)


def _days(raw: np.ndarray) -> np.ndarray:
    # int32 days times a day's microseconds can pass int64; any day this far out is outside years 1-9999
    return np.clip(raw, -(10**7), 10**7)


def _date_text_column(arr: pa.Array, ctx: Context) -> WireColumn:
    arr = _date32(arr)
    nulls = null_mask(arr)
    raw = _raw_days(arr)
    inf = _infinite(raw, _INF_DAYS)
    days = _days(raw if inf is None else np.where(inf, 0, raw))
    col, odd = format_timestamps(days * _US_PER_DAY, nulls, clock=False)
    if odd.any():  # Arrow's own form for the rare days outside years 1-9999
        col = _patch(col, odd, pc.filter(pc.cast(arr, pa.large_string()), pa.array(odd)))
    return _with_infinities(col, raw, inf)


def _date_binary_column(arr: pa.Array, ctx: Context) -> WireColumn:
    raw = _raw_days(_date32(arr))
    days = _days(raw) - _EPOCH_DAYS
    inf = _infinite(raw, _INF_DAYS)
    if inf is not None:  # PostgreSQL's infinities are int32's extremes
        days = np.where(inf, np.where(raw > 0, _INF_DAYS, -_INF_DAYS - 1), days)
    return fixed_column(days, ">i4", null_mask(arr))


def _time_us(arr: pa.Array) -> np.ndarray:
    if not (pa.types.is_time64(arr.type) and arr.type.unit == "us"):
        arr = pc.cast(arr, pa.time64("us"), safe=False)
    return raw_values(arr)  # type: ignore[return-value]


def _time_text_column(arr: pa.Array, ctx: Context) -> WireColumn:
    return format_timestamps(_time_us(arr), null_mask(arr), date=False)[0]


def _time_binary_column(arr: pa.Array, ctx: Context) -> WireColumn:
    return fixed_column(_time_us(arr), ">i8", null_mask(arr))


def register() -> None:
    _register(
        PgType(
            TIMESTAMP_OID,
            "timestamp",
            8,
            1115,
            lambda v, c: format_timestamp(v).encode(),
            _ts_binary,  # type: ignore[arg-type]
            parse_timestamp_text,
            _parse_ts_binary,
            _timestamp_text_column,
            _timestamp_binary_column,
        )
    )
    _register(
        PgType(
            TIMESTAMPTZ_OID,
            "timestamptz",
            8,
            1185,
            lambda v, c: format_timestamptz(v, c).encode(),
            _tstz_binary,  # type: ignore[arg-type]
            parse_timestamptz_text,
            _parse_tstz_binary,
            _timestamptz_text_column,
            _timestamp_binary_column,
        )
    )
    _register(
        PgType(
            DATE_OID,
            "date",
            4,
            1182,
            lambda v, c: format_date(v).encode(),
            _date_binary,  # type: ignore[arg-type]
            _parse_date_text,
            _parse_date_binary,
            _date_text_column,
            _date_binary_column,
        )
    )
    _register(
        PgType(
            TIME_OID,
            "time",
            8,
            1183,
            lambda v, c: format_time(v).encode(),
            _time_binary,  # type: ignore[arg-type]
            _parse_time_text,
            _parse_time_binary,
            _time_text_column,
            _time_binary_column,
        )
    )
