"""InfluxQL's functions over columns of values, vectorised with numpy.

The SQL engine scans, filters and runs the SQL-shaped aggregates (sql/influxql/select.py); what is
InfluxDB-specific is computed here on the (small) aggregated or selected rows, per series:

- :class:`Col` is a typed column with a validity mask; :func:`binary` and :func:`math_call` give
  InfluxQL's arithmetic (integer division yields a float, division by zero yields 0, integer
  operations stay integers) and math functions (NaN rather than an error outside the domain).
- Selectors and reducers over points grouped by window: :func:`select_points` (max, min, first, last,
  percentile, top, bottom, sample, with InfluxDB's tie rules), :func:`distinct_points`,
  :func:`mode_points`, :func:`integral_points`.
- Transformations over one series' points in query order: :func:`transform` (derivative,
  non_negative_derivative, difference, non_negative_difference, cumulative_sum, moving_average,
  elapsed).
- :func:`fill_series`: fill(null | none | previous | linear | <number>) over a window grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sql.influxql.technical import TECHNICAL, technical

FLOAT, INTEGER, UNSIGNED, STRING, BOOLEAN = "float", "integer", "unsigned", "string", "boolean"
NUMERIC = (FLOAT, INTEGER, UNSIGNED)


@dataclass
class Col:
    values: np.ndarray
    valid: np.ndarray  # bool
    kind: str  # float | integer | unsigned | string | boolean
    # text read from a dictionary (tags): values == words[codes], kept so that encoders convert
    # each distinct word once
    codes: np.ndarray | None = None
    words: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.values)

    def take(self, idx: np.ndarray | slice) -> Col:
        if self.codes is not None:
            return Col(self.values[idx], self.valid[idx], self.kind, self.codes[idx], self.words)
        return Col(self.values[idx], self.valid[idx], self.kind)

    def tolist(self) -> list:
        vals = self.values.tolist()
        if self.valid.all():
            return vals
        return [v if ok else None for v, ok in zip(vals, self.valid.tolist(), strict=True)]

    @staticmethod
    def nulls(n: int, kind: str = FLOAT) -> Col:
        dtype = _DTYPES.get(kind, object)
        return Col(
            np.zeros(n, dtype=dtype) if dtype is not object else np.full(n, None, object),
            np.zeros(n, bool),
            kind,
        )

    @staticmethod
    def const(value: object, n: int) -> Col:
        kind = kind_of_value(value)
        arr: np.ndarray = np.full(n, value, dtype=_DTYPES.get(kind, object))
        return Col(arr, np.ones(n, bool), kind)


_DTYPES = {FLOAT: np.float64, INTEGER: np.int64, UNSIGNED: np.uint64, BOOLEAN: np.bool_}


def kind_of_value(v: object) -> str:
    if isinstance(v, bool):
        return BOOLEAN
    if isinstance(v, int):
        return INTEGER
    if isinstance(v, float):
        return FLOAT
    return STRING


def as_float(c: Col) -> np.ndarray:
    if c.kind in NUMERIC:
        return c.values.astype(np.float64)
    if c.kind == BOOLEAN:
        return c.values.astype(np.float64)
    return np.zeros(len(c), np.float64)


# -- arithmetic --------------------------------------------------------------------------------------------
def binary(op: str, a: Col, b: Col) -> Col:
    n = max(len(a), len(b))
    valid = a.valid & b.valid
    if a.kind not in NUMERIC or b.kind not in NUMERIC:
        if op in ("&", "|", "^") and a.kind == BOOLEAN and b.kind == BOOLEAN:
            f = {"&": np.logical_and, "|": np.logical_or, "^": np.logical_xor}[op]
            return Col(f(a.values, b.values), valid, BOOLEAN)
        if op == "+" and a.kind == STRING and b.kind == STRING:
            out = np.array(
                [x + y if ok else None for x, y, ok in zip(a.values, b.values, valid, strict=True)],
                dtype=object,
            )
            return Col(out, valid, STRING)
        return Col.nulls(n)
    ints = a.kind in (INTEGER, UNSIGNED) and b.kind in (INTEGER, UNSIGNED)
    with np.errstate(all="ignore"):
        if op in ("+", "-", "*") and ints:
            av, bv = a.values.astype(np.int64), b.values.astype(np.int64)
            res = av + bv if op == "+" else av - bv if op == "-" else av * bv
            return Col(res, valid, INTEGER)
        if op in ("&", "|", "^", "%") and ints:
            av, bv = a.values.astype(np.int64), b.values.astype(np.int64)
            if op == "%":
                safe = np.where(bv == 0, 1, bv)
                res = np.fmod(av, safe)  # Go's % truncates toward zero
                return Col(np.where(bv == 0, 0, res), valid, INTEGER)
            bits: dict[str, Any] = {"&": np.bitwise_and, "|": np.bitwise_or, "^": np.bitwise_xor}
            return Col(bits[op](av, bv), valid, INTEGER)
        if op in ("&", "|", "^"):
            return Col.nulls(n)
        af, bf = as_float(a), as_float(b)
        if op == "+":
            res = af + bf
        elif op == "-":
            res = af - bf
        elif op == "*":
            res = af * bf
        elif op == "/":
            res = np.where(bf == 0, 0.0, af / np.where(bf == 0, 1.0, bf))
        elif op == "%":
            res = np.fmod(af, bf)  # NaN (shown as null) for a zero divisor, as Go's math.Mod
        else:
            return Col.nulls(n)
    return Col(res, valid, FLOAT)


def _ln(x: np.ndarray) -> np.ndarray:
    return np.log(x)


def math_call(name: str, args: list[Col]) -> Col:
    a = args[0]
    valid = a.valid.copy()
    for other in args[1:]:
        valid &= other.valid
    if a.kind not in NUMERIC:
        return Col.nulls(len(a))
    x = as_float(a)
    with np.errstate(all="ignore"):
        if name == "abs":
            if a.kind == INTEGER:
                return Col(a.values, valid, INTEGER)  # InfluxDB 1.x leaves integers as they are
            if a.kind == UNSIGNED:
                return Col(a.values, valid, UNSIGNED)
            return Col(np.abs(x), valid, FLOAT)
        if name in ("floor", "ceil", "round"):
            if a.kind in (INTEGER, UNSIGNED):
                return Col(a.values, valid, a.kind)
            if name == "round":  # Go's math.Round: half away from zero
                return Col(np.sign(x) * np.floor(np.abs(x) + 0.5), valid, FLOAT)
            return Col(np.floor(x) if name == "floor" else np.ceil(x), valid, FLOAT)
        unary: dict[str, Any] = {
            "sin": np.sin,
            "cos": np.cos,
            "tan": np.tan,
            "asin": np.arcsin,
            "acos": np.arccos,
            "atan": np.arctan,
            "exp": np.exp,
            "ln": _ln,
            "log2": np.log2,
            "log10": np.log10,
            "sqrt": np.sqrt,
        }
        if name in unary:
            return Col(unary[name](x), valid, FLOAT)
        y = as_float(args[1])
        if name == "atan2":
            return Col(np.arctan2(x, y), valid, FLOAT)
        if name == "pow":
            return Col(np.power(x, y), valid, FLOAT)
        if name == "log":
            return Col(np.log(x) / np.log(y), valid, FLOAT)
    raise ValueError(name)


# -- grouping helpers ----------------------------------------------------------------------------------------
def group_starts(keys: np.ndarray) -> np.ndarray:
    """Start index of every run of equal keys in a sorted key array."""
    if not len(keys):
        return np.zeros(0, np.int64)
    return np.concatenate(([0], np.flatnonzero(keys[1:] != keys[:-1]) + 1))


@dataclass
class Points:
    """Points of one series, grouped by window: window start, point time, value (+ aux columns)."""

    window: np.ndarray  # int64, per point
    time: np.ndarray  # int64
    value: Col
    aux: dict[str, Col]


def _sort_key_value(c: Col) -> np.ndarray:
    if c.kind == STRING:
        # rank strings so that numpy can lexsort them: each distinct value's rank among the distinct
        # values (code point order, as numpy's), by Arrow's dictionary (a fixed-width unicode copy
        # and np.unique of 36k tag values took ~10 ms)
        enc = pc.dictionary_encode(pc.fill_null(pa.array(c.values, type=pa.string(), from_pandas=True), ""))
        rank = np.empty(len(enc.dictionary), np.int64)
        rank[pc.sort_indices(enc.dictionary).to_numpy()] = np.arange(len(enc.dictionary))
        codes = enc.indices.to_numpy(zero_copy_only=False)
        return rank[codes] if len(codes) else np.zeros(0, np.int64)
    if c.kind == BOOLEAN:
        return c.values.astype(np.int64)
    return c.values


def select_points(name: str, p: Points, args: list) -> np.ndarray:
    """Indexes of the selected points (per window), in output order (window, then time)."""
    n = len(p.time)
    if not n:
        return np.zeros(0, np.int64)
    w = p.window
    v = _sort_key_value(p.value)
    t = p.time
    if name in ("max", "min", "first", "last"):
        if name == "max":
            order = np.lexsort((t, -v.astype(np.float64) if v.dtype != np.int64 else -v, w))
        elif name == "min":
            order = np.lexsort((t, v, w))
        elif name == "first":
            order = np.lexsort((-v.astype(np.float64) if v.dtype != np.int64 else -v, t, w))
        else:
            order = np.lexsort((-v.astype(np.float64) if v.dtype != np.int64 else -v, -t, w))
        starts = group_starts(w[order])
        return order[starts]
    if name == "percentile":
        pct = float(args[0])
        order = np.lexsort((t, v, w))
        ws = w[order]
        starts = group_starts(ws)
        ends = np.concatenate((starts[1:], [len(ws)]))
        out = []
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            cnt = e - s
            i = int(math.floor(cnt * pct / 100.0 + 0.5)) - 1
            if 0 <= i < cnt:
                out.append(order[s + i])
        return np.array(out, dtype=np.int64)
    if name in ("top", "bottom", "sample"):
        k = int(args[-1])
        if name == "top":
            order = np.lexsort((t, -v.astype(np.float64) if v.dtype != np.int64 else -v, w))
        elif name == "bottom":
            order = np.lexsort((t, v, w))
        else:
            rnd = np.random.default_rng().random(n)
            order = np.lexsort((rnd, w))
        ws = w[order]
        starts = group_starts(ws)
        rank = np.arange(len(ws)) - np.repeat(starts, np.diff(np.concatenate((starts, [len(ws)]))))
        chosen = order[rank < k]
        # output: by window, then time
        return chosen[np.lexsort((t[chosen], w[chosen]))]
    raise ValueError(name)


def top_bottom_by_tags(name: str, p: Points, tag_cols: list[Col], k: int) -> np.ndarray:
    """top(field, tag..., N): the best point per distinct tag combination, then the best N of those."""
    n = len(p.time)
    if not n:
        return np.zeros(0, np.int64)
    keys = np.zeros(n, np.int64)
    for c in tag_cols:
        codes = _sort_key_value(Col(np.where(c.valid, c.values, ""), c.valid, STRING))
        keys = keys * (int(codes.max()) + 1 if len(codes) else 1) + codes
    v = _sort_key_value(p.value)
    neg = -v.astype(np.float64) if v.dtype != np.int64 else -v
    primary = neg if name == "top" else v
    order = np.lexsort((p.time, primary, keys, p.window))
    gk = np.stack([p.window[order], keys[order]])
    first = np.concatenate(([True], np.any(gk[:, 1:] != gk[:, :-1], axis=0))) if n > 1 else np.array([True])
    best = order[first]
    sub = Points(p.window[best], p.time[best], p.value.take(best), {})
    picked = select_points(name, sub, [k])
    return best[picked]


def distinct_points(p: Points, ascending: bool = True) -> np.ndarray:
    """Index of the first point of every distinct value per window, in first-seen order (reading
    descending, the latest point is seen first and windows come last to first)."""
    n = len(p.time)
    if not n:
        return np.zeros(0, np.int64)
    v = _sort_key_value(p.value)
    order = np.lexsort((p.time if ascending else -p.time, v, p.window))
    wv = np.stack(
        [p.window[order], v[order].astype(np.int64) if v.dtype != np.float64 else v[order].view(np.int64)]
    )
    first = np.concatenate(([True], np.any(wv[:, 1:] != wv[:, :-1], axis=0)))
    chosen = order[first]
    if not ascending:
        return chosen[np.lexsort((-p.time[chosen], -p.window[chosen]))]
    return chosen[np.lexsort((p.time[chosen], p.window[chosen]))]


def mode_points(p: Points) -> tuple[np.ndarray, np.ndarray]:
    """(window, index of a point holding the mode) per window, with InfluxDB's reducer: values sorted,
    a run must outgrow the leading one (a tie goes to the run that started earlier), so with every
    value once the smallest wins; booleans: true unless false is more frequent."""
    n = len(p.time)
    if not n:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    v = _sort_key_value(p.value)
    order = np.lexsort((p.time, v, p.window))
    w_s = p.window[order]
    starts = group_starts(w_s)
    ends = np.concatenate((starts[1:], [n]))
    out_w, out_i = [], []
    vals = v[order].tolist()
    times = p.time[order].tolist()
    for s0, e0 in zip(starts.tolist(), ends.tolist(), strict=True):
        if p.value.kind == BOOLEAN:
            seg = vals[s0:e0]
            trues = sum(1 for x in seg if x)
            want = trues >= len(seg) - trues
            pick = next(k for k in range(s0, e0) if bool(vals[k]) == want)
        else:
            most_freq, curr_freq = 0, 0
            curr_mode = vals[s0]
            pick = s0
            most_time = curr_time = times[s0]
            for k in range(s0, e0):
                if vals[k] != curr_mode:
                    curr_freq, curr_mode, curr_time = 1, vals[k], times[k]
                    continue
                curr_freq += 1
                if most_freq > curr_freq or (most_freq == curr_freq and curr_time > most_time):
                    continue
                most_freq, pick, most_time = curr_freq, k, times[k]
        out_w.append(int(w_s[s0]))
        out_i.append(int(order[pick]))
    return np.array(out_w, np.int64), np.array(out_i, np.int64)


def integral_points(p: Points, unit: int, interval: int, window_of) -> tuple[np.ndarray, np.ndarray]:
    """InfluxDB's integral: trapezoids between consecutive points, split at window edges by linear
    interpolation; one value per window that has points. Returns (windows, values)."""
    t = p.time.tolist()
    vals = as_float(p.value).tolist()
    out_w: list[int] = []
    out_v: list[float] = []
    if not t:
        return np.zeros(0, np.int64), np.zeros(0)
    prev_t, prev_v = t[0], vals[0]
    win_start, win_end = window_of(prev_t)
    total = 0.0
    for ti, vi in zip(t[1:], vals[1:], strict=True):
        if ti == prev_t:
            prev_v = vi
            continue
        if interval and ti >= win_end:
            if prev_t != win_end:
                value = prev_v + (vi - prev_v) * (win_end - prev_t) / (ti - prev_t)
                total += 0.5 * (value + prev_v) * (win_end - prev_t) / unit
                prev_v, prev_t = value, win_end
            out_w.append(win_start)
            out_v.append(total)
            win_start, win_end = window_of(ti)
            total = 0.0
        total += 0.5 * (vi + prev_v) * (ti - prev_t) / unit
        prev_t, prev_v = ti, vi
    out_w.append(win_start)
    out_v.append(total)
    return np.array(out_w, np.int64), np.array(out_v)


# -- transformations ---------------------------------------------------------------------------------------------
def transform(
    name: str, times: np.ndarray, col: Col, arg: int | tuple[int, int, str] | None, ascending: bool
) -> tuple[np.ndarray, Col]:
    """Apply a transformation to one series (points in query order; NULL points are skipped).
    ``arg``: the interval of derivative and elapsed, moving_average's window, (period, hold
    period, warmup type) of the technical analysis functions (sql/influxql/technical.py)."""
    keep = col.valid.copy()
    if len(times) > 1 and name not in TECHNICAL:
        # several series merged: only the first point of each time advances the stream (InfluxDB;
        # the technical analysis functions take every point)
        keep[1:] &= times[1:] != times[:-1]
    t = times[keep]
    c = col.take(np.flatnonzero(keep))
    n = len(t)
    if name == "cumulative_sum":
        if c.kind in (INTEGER, UNSIGNED):
            return t, Col(np.cumsum(c.values.astype(np.int64)), np.ones(n, bool), INTEGER)
        return t, Col(np.cumsum(as_float(c)), np.ones(n, bool), FLOAT)
    if name in TECHNICAL:
        assert isinstance(arg, tuple)
        at, out = technical(name, as_float(c), *arg)
        return t[at], Col(out, ~np.isnan(out), FLOAT)
    if name == "moving_average":
        assert not isinstance(arg, tuple)
        k = int(arg or 2)
        if n < k:
            return t[:0], Col(np.zeros(0), np.zeros(0, bool), FLOAT)
        x = as_float(c)
        cs = np.concatenate(([0.0], np.cumsum(x)))
        avg = (cs[k:] - cs[:-k]) / k
        return t[k - 1 :], Col(avg, np.ones(len(avg), bool), FLOAT)
    if n < 2:
        kind = (
            FLOAT
            if name in ("derivative", "non_negative_derivative")
            else INTEGER
            if name == "elapsed"
            else c.kind
        )
        return t[:0], Col.nulls(0, kind)
    dt_ = (t[1:] - t[:-1]).astype(np.int64)
    if not ascending:
        dt_ = -dt_
    assert not isinstance(arg, tuple)
    if name == "elapsed":
        unit = int(arg or 1)
        el = np.abs(t[1:] - t[:-1]) // unit
        return t[1:], Col(el.astype(np.int64), np.ones(n - 1, bool), INTEGER)
    if name in ("difference", "non_negative_difference"):
        if c.kind in (INTEGER, UNSIGNED):
            d = c.values[1:].astype(np.int64) - c.values[:-1].astype(np.int64)
            kind = INTEGER
        else:
            d = as_float(c)
            d = d[1:] - d[:-1]
            kind = FLOAT
        tt = t[1:]
        if name == "non_negative_difference":
            ok = d >= 0
            d, tt = d[ok], tt[ok]
        return tt, Col(d, np.ones(len(d), bool), kind)
    if name in ("derivative", "non_negative_derivative"):
        unit = int(arg or 10**9)
        x = as_float(c)
        diff = x[1:] - x[:-1]
        with np.errstate(all="ignore"):
            value = diff / (dt_.astype(np.float64) / unit)
        tt = t[1:]
        if name == "non_negative_derivative":
            ok = ~(diff < 0)
            value, tt = value[ok], tt[ok]
        return tt, Col(value, np.ones(len(value), bool), FLOAT)
    raise ValueError(name)


def positions(grid: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Index of every key in ``grid`` (sorted ascending or descending), -1 where absent."""
    if not len(grid) or not len(keys):
        return np.full(len(keys), -1, dtype=np.int64)
    desc = len(grid) > 1 and grid[0] > grid[-1]
    g = grid[::-1] if desc else grid
    i = np.searchsorted(g, keys)
    i = np.minimum(i, len(g) - 1)
    hit = g[i] == keys
    if desc:
        i = len(g) - 1 - i
    return np.where(hit, i, -1).astype(np.int64)


# -- fill --------------------------------------------------------------------------------------------------------
def fill_series(
    grid: np.ndarray, windows: np.ndarray, col: Col, mode: str, value: object, count_like: bool
) -> Col:
    """Values on every window of ``grid`` (sorted as the query orders): data where a window has a
    point (possibly a null one, as stddev() of one point), else per the fill mode. ``count_like``:
    count() shows 0 in empty windows under fill(null)."""
    idx = positions(grid, windows)
    ok = idx >= 0
    return fill_at(len(grid), idx[ok], col.take(ok), mode, value, count_like)


def fill_at(n: int, at: np.ndarray, col: Col, mode: str, value: object, count_like: bool) -> Col:
    """:func:`fill_series` with the windows' positions known: ``col``'s values at ``at`` of ``n``."""
    out_kind = col.kind
    dtype = _DTYPES.get(out_kind, object)
    if len(at) == n and col.values.dtype == dtype and (n < 2 or bool((at[1:] > at[:-1]).all())):
        return col  # a row for every window, in order (at is 0..n-1): nothing to place, none to fill
    vals = np.zeros(n, dtype=dtype) if dtype is not object else np.full(n, None, object)
    valid = np.zeros(n, bool)
    present = np.zeros(n, bool)
    vals[at] = col.values.astype(dtype) if dtype is not object else col.values
    valid[at] = col.valid
    present[at] = True
    if mode == "none":
        return Col(vals, valid, out_kind)
    missing = ~present
    if mode == "null":
        if count_like:
            vals[missing] = 0
            valid[missing] = True
    elif mode == "number":
        fillv = value
        if out_kind in (INTEGER, UNSIGNED):
            fillv = int(value)  # type: ignore[call-overload]
        if out_kind in NUMERIC:
            vals[missing] = fillv
        elif out_kind == STRING:
            vals[missing] = ""  # InfluxDB casts a number fill to the column's type
        else:
            vals[missing] = False
        valid[missing] = True
    elif mode == "previous":
        # the previous window's point, even a null one (InfluxDB keeps the last point it emitted)
        last = np.maximum.accumulate(np.where(present, np.arange(n), -1))
        src = np.where(last >= 0, last, 0)
        fill_here = missing & (last >= 0)
        vals = (
            np.where(fill_here, vals[src], vals)
            if dtype is not object
            else np.array([vals[src[k]] if fill_here[k] else vals[k] for k in range(n)], dtype=object)
        )
        valid = np.where(fill_here, valid[src], valid)
    elif mode == "linear":
        if out_kind in NUMERIC and valid.sum() >= 2:
            xi = np.flatnonzero(valid)
            yf = vals[xi].astype(np.float64)
            inner = missing & (np.arange(n) > xi[0]) & (np.arange(n) < xi[-1])
            if inner.any():
                interp = np.interp(np.flatnonzero(inner), xi, yf)
                if out_kind in (INTEGER, UNSIGNED):
                    # InfluxDB interpolates integers in integer arithmetic
                    lo = np.searchsorted(xi, np.flatnonzero(inner)) - 1
                    x0, x1 = xi[lo], xi[lo + 1]
                    y0, y1 = vals[x0].astype(np.int64), vals[x1].astype(np.int64)
                    xs = np.flatnonzero(inner)
                    slope = (y1 - y0).astype(np.float64) / (x1 - x0)
                    interp = np.trunc(slope * (xs - x0) + y0).astype(np.int64)
                vals[inner] = interp
                valid[inner] = True
    return Col(vals, valid, out_kind)
