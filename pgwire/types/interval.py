"""interval (1186), as ``pyarrow.MonthDayNano(months, days, nanoseconds)`` on the Python side.

Text (IntervalStyle postgres): ``1 year 2 mons 3 days 04:05:06.5``, ``-1 days +02:03:00``,
``00:00:00``; a field is shown only when not zero, plural unless exactly 1, and after a negative
field a positive one carries ``+``. Binary::

    int64 microseconds | int32 days | int32 months

Text input takes that style, ``@ ... ago``, ISO 8601 (``P1Y2M3DT4H5M6S``) and ``[-]HH:MM[:SS[.f]]``.
"""

from __future__ import annotations

import datetime as dt
import re
import struct

import pyarrow as pa

from pgwire.types._base import Context, PgType
from pgwire.types._base import register as _register

INTERVAL_OID = 1186
_BIN = struct.Struct("!qii")
_US_PER_DAY = 86_400_000_000


def _trunc_div(a: int, b: int) -> tuple[int, int]:
    """C-style division: the quotient rounds toward zero and the remainder takes a's sign."""
    q = abs(a) // abs(b)
    q = q if (a >= 0) == (b >= 0) else -q
    return q, a - q * b


def as_parts(v: object) -> tuple[int, int, int]:
    """(months, days, microseconds) of an interval-like value."""
    if isinstance(v, dt.timedelta):
        return 0, v.days, v.seconds * 1_000_000 + v.microseconds
    months, days, nanos = (int(x) for x in v)  # type: ignore[attr-defined]
    return months, days, _trunc_div(nanos, 1000)[0]


def format_interval(months: int, days: int, micros: int) -> str:
    years, mons = _trunc_div(months, 12)
    parts: list[str] = []
    is_before = False
    for value, unit in ((years, "year"), (mons, "mon"), (days, "day")):
        if value == 0:
            continue
        plus = "+" if is_before and value > 0 else ""
        parts.append(f"{plus}{value} {unit}{'' if value == 1 else 's'}")
        is_before = value < 0
    if not parts or micros != 0:
        minus = micros < 0
        total = abs(micros)
        secs, frac = divmod(total, 1_000_000)
        mins, sec = divmod(secs, 60)
        hours, mins = divmod(mins, 60)
        sign = "-" if minus else ("+" if is_before else "")
        clock = f"{sign}{hours:02d}:{mins:02d}:{sec:02d}"
        if frac:
            clock += f".{frac:06d}".rstrip("0")
        parts.append(clock)
    return " ".join(parts)


def _text_value(v: object, ctx: Context) -> bytes:
    return format_interval(*as_parts(v)).encode()


def _binary_value(v: object, ctx: Context) -> bytes:
    months, days, micros = as_parts(v)
    return _BIN.pack(micros, days, months)


def _parse_binary(data: bytes, ctx: Context) -> pa.MonthDayNano:
    if len(data) != 16:
        raise ValueError("interval is 16 bytes")
    micros, days, months = _BIN.unpack(data)
    return pa.MonthDayNano([months, days, micros * 1000])


_UNITS: dict[str, tuple[str, float]] = {}
for _names, _target in (
    (("millennium", "millennia", "millenniums", "mil", "mils"), ("months", 12000)),
    (("century", "centuries", "cent", "c"), ("months", 1200)),
    (("decade", "decades", "dec", "decs"), ("months", 120)),
    (("year", "years", "y", "yr", "yrs"), ("months", 12)),
    (("month", "months", "mon", "mons"), ("months", 1)),
    (("week", "weeks", "w"), ("days", 7)),
    (("day", "days", "d"), ("days", 1)),
    (("hour", "hours", "h", "hr", "hrs"), ("us", 3_600_000_000)),
    (("minute", "minutes", "m", "min", "mins"), ("us", 60_000_000)),
    (("second", "seconds", "s", "sec", "secs"), ("us", 1_000_000)),
    (("millisecond", "milliseconds", "ms", "msec", "msecs"), ("us", 1000)),
    (("microsecond", "microseconds", "us", "usec", "usecs"), ("us", 1)),
):
    for _name in _names:
        _UNITS[_name] = _target

_TOKEN = re.compile(
    r"\s*([+-]?\d+(?:\.\d*)?|[+-]?\.\d+)\s*([a-z]+)|\s*([+-]?\d+:\d+(?::\d+(?:\.\d*)?)?)", re.I
)
_ISO = re.compile(
    r"^P(?:(-?\d+(?:\.\d+)?)Y)?(?:(-?\d+(?:\.\d+)?)M)?(?:(-?\d+(?:\.\d+)?)W)?(?:(-?\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(-?\d+(?:\.\d+)?)H)?(?:(-?\d+(?:\.\d+)?)M)?(?:(-?\d+(?:\.\d+)?)S)?)?$",
    re.I,
)


def _clock_us(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    fields = text.lstrip("+-").split(":")
    h, m = int(fields[0]), int(fields[1])
    s = float(fields[2]) if len(fields) > 2 else 0.0
    return sign * (h * 3_600_000_000 + m * 60_000_000 + round(s * 1_000_000))


def parse_interval(text: str) -> pa.MonthDayNano:
    s = text.strip()
    months = days = 0
    us = 0.0
    iso = _ISO.match(s)
    if iso and len(s) > 1:
        y, mo, w, d, h, mi, se = (float(g) if g else 0.0 for g in iso.groups())
        months = round(y * 12 + mo)
        days = round(w * 7 + d)
        us = h * 3_600_000_000 + mi * 60_000_000 + se * 1_000_000
        return pa.MonthDayNano([months, days, int(round(us)) * 1000])
    low = s.lower()
    ago = False
    if low.startswith("@"):
        low = low[1:].strip()
    if low.endswith(" ago"):
        ago, low = True, low[:-4].strip()
    pos = 0
    seen = False
    while pos < len(low):
        m = _TOKEN.match(low, pos)
        if not m:
            if low[pos:].strip() == "":
                break
            raise ValueError(text)
        pos = m.end()
        seen = True
        if m.group(3):
            us += _clock_us(m.group(3))
            continue
        number, unit = float(m.group(1)), m.group(2)
        target = _UNITS.get(unit)
        if target is None:
            raise ValueError(text)
        kind, factor = target
        if kind == "months":
            whole = int(number * factor)
            months += whole
            days_frac = (number * factor - whole) * 30
            days += int(days_frac)
            us += (days_frac - int(days_frac)) * _US_PER_DAY
        elif kind == "days":
            whole = int(number * factor)
            days += whole
            us += (number * factor - whole) * _US_PER_DAY
        else:
            us += number * factor
    if not seen:
        # a bare number is seconds
        us = float(low) * 1_000_000
    micros = int(round(us))
    if ago:
        months, days, micros = -months, -days, -micros
    return pa.MonthDayNano([months, days, micros * 1000])


def _parse_text(data: bytes, ctx: Context) -> pa.MonthDayNano:
    return parse_interval(data.decode("ascii"))


def register() -> None:
    _register(
        PgType(INTERVAL_OID, "interval", 16, 1187, _text_value, _binary_value, _parse_text, _parse_binary)
    )
