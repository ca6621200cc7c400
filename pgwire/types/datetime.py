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
from pgwire.types._base import Context, PgType, fixed_column, null_mask
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



# ---------------------------------------------------------------- vectorised text (numpy, no per-value Python)

_US_PER_DAY = 86_400_000_000
_MIN_US = -62_135_596_800_000_000  # 0001-01-01 in microseconds since 1970
_MAX_US = 253_402_300_800_000_000  # 10000-01-01


def format_timestamps(micros: np.ndarray, nulls: np.ndarray | None = None, suffix: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
                      *, date: bool = True, clock: bool = True) -> WireColumn:
    """Text of microseconds since 1970 (years 1-9999) by the numba kernel; ``suffix`` = (table, lengths, which)."""
    from pgwire.types._kernels import timestamps_text

    n = len(micros)
    if suffix is None:
        suffix = (np.zeros((1, 0), np.uint8), np.zeros(1, np.int64), np.zeros(n, np.int64))
    table, lengths, which = suffix
    data, offsets = timestamps_text(np.ascontiguousarray(micros, np.int64),
                                    np.zeros(n, np.bool_) if nulls is None else nulls,
                                    table, lengths, np.ascontiguousarray(which, np.int64), date, clock)
    arr = pa.Array.from_buffers(pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])
    return WireColumn(var=arr, nulls=nulls)


def _offset_table(seconds: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(table, lengths, which): suffix bytes (``+00``, ``-04``, ``+05:30``, ``-04:56:02``) per distinct UTC
    offset in seconds, and which one each row uses."""
    distinct, which = np.unique(seconds, return_inverse=True)
    names = [_format_offset(dt.timedelta(seconds=int(s))).encode() for s in distinct]
    width = max((len(x) for x in names), default=0)
    table = np.zeros((max(len(names), 1), width), np.uint8)
    for i, name in enumerate(names):
        table[i, : len(name)] = np.frombuffer(name, np.uint8)
    lengths = np.array([len(x) for x in names] or [0], np.int64)
    return table, lengths, which.reshape(-1).astype(np.int64)


# ---------------------------------------------------------------- vectorised columns


def _as_timestamp(arr: pa.Array) -> pa.Array:
    """Any time-like column as an Arrow timestamp of at most microsecond precision (PostgreSQL's)."""
    t = arr.type
    if pa.types.is_timestamp(t):
        if t.unit == "ns":
            return pc.cast(arr, pa.timestamp("us", tz=t.tz), safe=False)
        return arr
    if pa.types.is_date(t):
        return pc.cast(arr, pa.timestamp("us"))
    if pa.types.is_integer(t):  # int64 nanoseconds since 1970 (the storage engine's time column)
        return pc.cast(pc.cast(arr, pa.int64()).view(pa.timestamp("ns")), pa.timestamp("us"), safe=False)
    return pc.cast(arr, pa.timestamp("us"))


def _trim_fraction_column(text: pa.Array) -> pa.Array:
    text = pc.replace_substring_regex(text, r"\.0+$", "")
    return pc.replace_substring_regex(text, r"(\.\d*[1-9])0+$", r"\1")


def _micros_of(ts: pa.Array) -> np.ndarray:
    """int64 microseconds since 1970 (UTC instant for zoned arrays; NULL as 0)."""
    if ts.type.unit != "us":
        ts = pc.cast(ts, pa.timestamp("us", tz=ts.type.tz), safe=False)
    return np.asarray(ts.view(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False), np.int64)


def _text_with_fallback(micros: np.ndarray, nulls: np.ndarray | None, build: object, one: object) -> WireColumn:
    """Vectorised text for years 1-9999; anything else goes through ``one`` value by value."""
    odd = (micros < _MIN_US) | (micros >= _MAX_US)
    if nulls is not None:
        odd &= ~nulls
    col: WireColumn = build(np.where(odd, 0, micros))  # type: ignore[operator]
    if odd.any():
        fixed = [one(int(v)) for v in micros[odd]]  # type: ignore[operator]
        assert col.var is not None
        col = WireColumn(var=pc.replace_with_mask(col.var, pa.array(odd), pa.array(fixed, pa.large_string())), nulls=nulls)
    return col


def _from_micros(v: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=v)


def _timestamp_text_column(arr: pa.Array, ctx: Context) -> WireColumn:
    ts = _as_timestamp(arr)
    if ts.type.tz is not None:  # a zoned array shown as timestamp: its wall-clock time
        ts = pc.local_timestamp(ts)
    nulls = null_mask(arr)
    return _text_with_fallback(_micros_of(ts), nulls, lambda us: format_timestamps(us, nulls),
                               lambda v: format_timestamp(_from_micros(v)))


_UTC_NAMES = ("UTC", "Etc/UTC", "GMT", "Etc/GMT", "Etc/UCT", "UCT", "Zulu")
_PLUS00 = (np.frombuffer(b"+00", np.uint8).reshape(1, 3).copy(), np.array([3], np.int64))


def _timestamptz_text_column(arr: pa.Array, ctx: Context) -> WireColumn:
    ts = _as_timestamp(arr)
    utc = ts.cast(pa.timestamp(ts.type.unit, tz="UTC"))
    instant = _micros_of(utc)
    nulls = null_mask(arr)

    def one(v: int) -> str:
        return format_timestamptz(_from_micros(v).replace(tzinfo=dt.UTC), ctx)

    if ctx.timezone in _UTC_NAMES:
        suffix = (*_PLUS00, np.zeros(len(instant), np.int64))
        return _text_with_fallback(instant, nulls, lambda us: format_timestamps(us, nulls, suffix), one)
    wall = _micros_of(pc.local_timestamp(utc.cast(pa.timestamp("us", tz=ctx.timezone))))
    suffix = _offset_table((wall - instant) // 1_000_000)
    # Arrow's time zone rules stop at 2037 where the zone database's own POSIX rule goes on; zoneinfo
    # (like PostgreSQL) follows the rule, so those rare values are formatted one by one.
    redo = (instant >= _LATE_US) | (wall < _MIN_US) | (wall >= _MAX_US)
    if nulls is not None:
        redo &= ~nulls
    col = format_timestamps(np.where(redo, 0, wall), nulls, suffix)
    if redo.any():
        fixed = [one(int(v)) for v in instant[redo]]
        assert col.var is not None
        col = WireColumn(var=pc.replace_with_mask(col.var, pa.array(redo), pa.array(fixed, pa.large_string())), nulls=nulls)
    return col


def _timestamp_binary_column(arr: pa.Array, ctx: Context) -> WireColumn:
    ts = _as_timestamp(arr)
    if ts.type.unit != "us":
        ts = pc.cast(ts, pa.timestamp("us", tz=ts.type.tz), safe=False)
    us = np.asarray(ts.view(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False), np.int64) - _EPOCH_US
    return fixed_column(us, ">i8", null_mask(arr))


def _date_text_column(arr: pa.Array, ctx: Context) -> WireColumn:
    if not pa.types.is_date32(arr.type):
        arr = pc.cast(arr, pa.date32())
    days = np.asarray(arr.view(pa.int32()).fill_null(0).to_numpy(zero_copy_only=False), np.int64)
    nulls = null_mask(arr)
    odd = (days < -719_162) | (days >= 2_932_897)  # outside 0001-01-01 .. 9999-12-31
    if nulls is not None:
        odd &= ~nulls
    col = format_timestamps(np.where(odd, 0, days) * 86_400_000_000, nulls, clock=False)
    if odd.any():  # Arrow's own form for the rare days outside years 1-9999
        assert col.var is not None
        text = pc.cast(arr, pa.large_string())
        col = WireColumn(var=pc.replace_with_mask(col.var, pa.array(odd), pc.filter(text, pa.array(odd))), nulls=nulls)
    return col


def _date_binary_column(arr: pa.Array, ctx: Context) -> WireColumn:
    if not pa.types.is_date32(arr.type):
        arr = pc.cast(arr, pa.date32())
    days = np.asarray(arr.view(pa.int32()).fill_null(0).to_numpy(zero_copy_only=False), np.int64) - _EPOCH_DAYS
    return fixed_column(days, ">i4", null_mask(arr))


def _time_us(arr: pa.Array) -> pa.Array:
    if not (pa.types.is_time64(arr.type) and arr.type.unit == "us"):
        arr = pc.cast(arr, pa.time64("us"), safe=False)
    return arr


def _time_text_column(arr: pa.Array, ctx: Context) -> WireColumn:
    us = np.asarray(_time_us(arr).view(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False), np.int64)
    return format_timestamps(us, null_mask(arr), date=False)


def _time_binary_column(arr: pa.Array, ctx: Context) -> WireColumn:
    us = np.asarray(_time_us(arr).view(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False), np.int64)
    return fixed_column(us, ">i8", null_mask(arr))


def register() -> None:
    _register(PgType(TIMESTAMP_OID, "timestamp", 8, 1115,
                     lambda v, c: format_timestamp(v).encode(), _ts_binary,  # type: ignore[arg-type]
                     parse_timestamp_text, _parse_ts_binary, _timestamp_text_column, _timestamp_binary_column))
    _register(PgType(TIMESTAMPTZ_OID, "timestamptz", 8, 1185,
                     lambda v, c: format_timestamptz(v, c).encode(), _tstz_binary,  # type: ignore[arg-type]
                     parse_timestamptz_text, _parse_tstz_binary, _timestamptz_text_column, _timestamp_binary_column))
    _register(PgType(DATE_OID, "date", 4, 1182,
                     lambda v, c: format_date(v).encode(), _date_binary,  # type: ignore[arg-type]
                     _parse_date_text, _parse_date_binary, _date_text_column, _date_binary_column))
    _register(PgType(TIME_OID, "time", 8, 1183,
                     lambda v, c: format_time(v).encode(), _time_binary,  # type: ignore[arg-type]
                     _parse_time_text, _parse_time_binary, _time_text_column, _time_binary_column))
