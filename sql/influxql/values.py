"""Value formatting and time literals as InfluxDB 1.x has them.

- :func:`format_float`: Go's encoding/json text for a float64 (shortest round-trip digits,
  positional between 1e-6 and 1e21, else ``1e-7`` / ``1e+21``): ``10``, ``0.1``, ``1e-7``.
- :func:`format_time`: RFC3339 with nanoseconds and trailing zeros trimmed
  (``2020-09-13T12:26:40.5Z``), in a time zone when ``tz()`` asks for one.
- :func:`parse_time`: the string forms a time literal may take in a WHERE clause:
  ``2020-09-13``, ``2020-09-13T12:26:40.5Z`` / ``...+02:00``, ``2020-09-13 12:26:40.5`` (in the
  query's time zone, UTC by default).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zoneinfo

import numpy as np

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MIN_TIME = -9223372036854775806  # InfluxDB's influxql.MinTime
MAX_TIME = 9223372036854775806  # influxql.MaxTime


def format_float(f: float) -> str:
    if math.isnan(f) or math.isinf(f):
        return "null"
    a = abs(f)
    if a != 0 and (a < 1e-6 or a >= 1e21):
        s = repr(float(f))
        m = re.match(r"^(-?[\d.]+)e([+-])(\d+)$", s)
        if m:
            mant, sign, exp = m.groups()
            return f"{mant}e{sign}{int(exp):02d}" if sign == "+" else f"{mant}e-{int(exp)}"
        return s
    return np.format_float_positional(float(f), trim="-")


def location(name: str | None) -> dt.tzinfo:
    if not name:
        return dt.UTC
    return zoneinfo.ZoneInfo(name)


_EPOCH_NAIVE = dt.datetime(1970, 1, 1)


def format_time(ns: int, tz: dt.tzinfo | None = None) -> str:
    sec, frac = divmod(ns, 10**9)
    if tz is None or tz is dt.UTC:  # isoformat of a naive time: half strftime's cost
        text = (_EPOCH_NAIVE + dt.timedelta(seconds=sec)).isoformat()
        return f"{text}.{frac:09d}".rstrip("0") + "Z" if frac else text + "Z"
    t = EPOCH + dt.timedelta(seconds=sec)
    if tz is not None and tz is not dt.UTC:
        t = t.astimezone(tz)
    base = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.year < 1000:
        base = f"{t.year:04d}" + base[len(str(t.year)) :]
    if frac:
        base += "." + f"{frac:09d}".rstrip("0")
    off = t.utcoffset()
    if off is None or off == dt.timedelta(0):
        return base + "Z"
    total = int(off.total_seconds())
    sign = "+" if total >= 0 else "-"
    total = abs(total)
    return f"{base}{sign}{total // 3600:02d}:{total % 3600 // 60:02d}"


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}.+")
_RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$")
_SPACED = re.compile(r"^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$")


def is_time_string(s: str) -> bool:
    return bool(_DATE.match(s) or _DATETIME.match(s))


class BadTime(ValueError):
    pass


def _to_ns(t: dt.datetime, frac: str | None) -> int:
    delta = t - EPOCH
    ns = (delta.days * 86400 + delta.seconds) * 10**9
    if frac:
        ns += int(frac.ljust(9, "0"))
    return ns


# "YYYY-MM-DD" -> days since the epoch, of the valid dates of UTC time strings seen: the bounds of
# a dashboard's or a benchmark's queries fall on few days
_UTC_DAYS: dict[str, int] = {}
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


def _utc_ns(s: str, frac: str | None) -> int | None:
    """parse_time's nanoseconds of an RFC3339 text in UTC (``...Z``) of a valid date and time of day
    (hour < 24, minute and second < 60), without a datetime; None otherwise."""
    h, mi, sec = int(s[11:13]), int(s[14:16]), int(s[17:19])
    if h > 23 or mi > 59 or sec > 59:
        return None  # (the datetime's error)
    date = s[:10]
    days = _UTC_DAYS.get(date)
    if days is None:
        try:
            days = dt.date(int(s[:4]), int(s[5:7]), int(s[8:10])).toordinal() - _EPOCH_ORDINAL
        except ValueError:
            return None
        if len(_UTC_DAYS) >= 4096:
            _UTC_DAYS.clear()
        _UTC_DAYS[date] = days
    ns = (((days * 24 + h) * 60 + mi) * 60 + sec) * 10**9
    return ns + int(frac.ljust(9, "0")) if frac else ns


def utc_time(s: str) -> int | None:
    """parse_time's nanoseconds of an RFC3339 text in UTC (``...Z``, the usual time bound) of a
    valid date and time of day; None for any other text (parse_time's to read)."""
    m = _RFC3339.match(s)
    if m is not None and s[-1] == "Z":
        return _utc_ns(s, m.group(7))
    return None


def parse_time(s: str, tz: dt.tzinfo | None = None) -> int:
    """Nanoseconds since the epoch of a time-literal string; BadTime if it is none."""
    ns = utc_time(s)
    if ns is not None:
        return ns
    zone: dt.tzinfo = tz or dt.UTC
    try:
        if _DATE.match(s):
            ymd = [int(x) for x in s.split("-")]
            return _to_ns(dt.datetime(ymd[0], ymd[1], ymd[2], tzinfo=zone), None)
        m = _RFC3339.match(s)
        if m:
            g = m.groups()
            off = g[7]
            if off != "Z":
                sign = 1 if off[0] == "+" else -1
                zone = dt.timezone(sign * dt.timedelta(hours=int(off[1:3]), minutes=int(off[4:6])))
            else:
                zone = dt.UTC
            f = [int(x) for x in g[:6]]
            return _to_ns(dt.datetime(f[0], f[1], f[2], f[3], f[4], f[5], tzinfo=zone), g[6])
        m = _SPACED.match(s)
        if m:
            g = m.groups()
            f = [int(x) for x in g[:6]]
            return _to_ns(dt.datetime(f[0], f[1], f[2], f[3], f[4], f[5], tzinfo=zone), g[6])
    except ValueError as e:
        raise BadTime(str(e)) from None
    raise BadTime(s)


def epoch_value(ns: int, unit: str) -> int:
    """The ``epoch=`` form of a time: nanoseconds divided by the unit, truncated toward zero as Go."""
    div = {
        "n": 1,
        "ns": 1,
        "u": 1000,
        "µ": 1000,
        "us": 1000,
        "ms": 10**6,
        "s": 10**9,
        "m": 60 * 10**9,
        "h": 3600 * 10**9,
    }[unit]
    q = abs(ns) // div
    return q if ns >= 0 else -q
