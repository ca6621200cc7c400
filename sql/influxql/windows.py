"""GROUP BY time() windows as InfluxDB forms them: epoch-aligned, shifted by the offset and by the
tz() zone's offset (daylight-saving changes make a window longer or shorter)."""

from __future__ import annotations

import datetime as dt

import numpy as np

from sql.influxql.values import MIN_TIME


class Windows:
    """InfluxDB's time windows: epoch-aligned, shifted by the GROUP BY offset and the tz() offset."""

    def __init__(self, interval: int, offset: int, tz: dt.tzinfo) -> None:
        self.interval = interval
        self.offset = offset
        self.tz = tz
        self.utc = tz is dt.UTC

    def _zone(self, t: int) -> int:
        d = dt.datetime.fromtimestamp(t // 10**9, tz=self.tz)
        off = d.utcoffset()
        return int(off.total_seconds()) * 10**9 if off else 0

    def start(self, t: int) -> int:
        t2 = t - self.offset
        zone = 0 if self.utc else self._zone(t2)
        d = (t2 + zone) % self.interval
        start = MIN_TIME if MIN_TIME + d >= t2 else t2 - d
        if not self.utc:
            o = zone - self._zone(start)
            if o != 0 and abs(o) < self.interval:
                start += o
        return start + self.offset

    def starts(self, t: np.ndarray) -> np.ndarray:
        if self.utc:
            t2 = t - self.offset
            return t2 - np.mod(t2, self.interval) + self.offset
        return np.array([self.start(int(x)) for x in t.tolist()], dtype=np.int64)

    def span(self, t: int) -> tuple[int, int]:
        s = self.start(t)
        return s, self._next(s)

    def _next(self, w: int) -> int:
        nxt = self.start(w + self.interval)
        if nxt <= w:  # a daylight-saving change shortened the window
            nxt = self.start(w + self.interval + 3600 * 10**9)
        return nxt

    def grid(self, first: int, last: int) -> np.ndarray:
        if self.utc:
            return np.arange(self.start(first), self.start(last) + 1, self.interval, dtype=np.int64)
        out = []
        w = self.start(first)
        end = self.start(last)
        while w <= end:
            out.append(w)
            w = self._next(w)
        return np.array(out, dtype=np.int64)

    def sql_origin(self) -> int | None:
        """The time_bucket origin that gives these windows, None when SQL cannot (sub-µs, tz)."""
        if not self.utc or self.interval % 1000 or self.offset % 1000:
            return None
        return self.offset
