"""Last-write-wins merge of rows into (series, time) order: the one dedup rule of the engine.

Rows arrive in write order (older first). After a stable sort by (series, time), rows sharing a
(series, time) key collapse into one; for every field the last *present* value wins, so a later write
that carries only some fields overwrites those fields and keeps the others (InfluxDB's behaviour).
The memtable, scans over several sources and compaction all go through :func:`merge_rows`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from columnar.rows import Column, Rows, blank


def is_sorted_unique(series: np.ndarray, time: np.ndarray) -> bool:
    """True when rows are strictly increasing by (series, time)."""
    if len(series) < 2:
        return True
    ds = np.diff(series)
    if (ds < 0).any():
        return False
    same = ds == 0
    return bool((np.diff(time)[same] > 0).all())


def runs_disjoint(parts: list[Rows]) -> bool:
    """True when every part is in (series, time) order without repeats and no key is in two parts:
    then their rows are what a merge of them would keep, and each part may be filtered on its own."""
    if len(parts) < 2:
        return all(is_sorted_unique(p.series, p.time) for p in parts)
    if not all(is_sorted_unique(p.series, p.time) for p in parts):
        return False
    bounds = np.cumsum([0] + [len(p) for p in parts]).astype(np.int64)
    series = np.concatenate([p.series for p in parts])
    time = np.concatenate([p.time for p in parts])
    return not _repeats(series, time, _merge_run_list(series, time, bounds))


@njit(cache=True, nogil=True)
def _repeats(series, time, order):
    """Whether two rows next to each other in ``order`` share a (series, time) key."""
    for i in range(1, len(order)):
        a, b = order[i - 1], order[i]
        if series[a] == series[b] and time[a] == time[b]:
            return True
    return False


def merge_rows(rows: Rows, *, dedupe: bool = True, sorted_prefix: int = 0) -> Rows:
    """Sort by (series, time) keeping write order among equal keys, then collapse duplicates.

    ``dedupe=False`` (SQL tables without a key: PostgreSQL keeps duplicate rows) only sorts.
    ``sorted_prefix``: the first that many rows are already in order (a memtable's merged part):
    only the rest is sorted, then the two runs are merged in one pass.
    """
    n = len(rows)
    if n < 2:
        return rows
    ds = np.diff(rows.series)
    # where the rows stop increasing by (series, time): the starts of runs in order (the parts of
    # a scan: row groups of a file, a memtable's rows)
    breaks = np.flatnonzero((ds < 0) | ((ds == 0) & (np.diff(rows.time) <= 0))) + 1
    if not len(breaks):
        return rows
    k = sorted_prefix
    if len(breaks) <= FEW_RUNS:  # merged run by run: linear, where a sort is n log n
        order = _merge_run_list(rows.series, rows.time, np.concatenate(([0], breaks, [n])))
    elif 0 < k < n:
        tail = np.lexsort((rows.time[k:], rows.series[k:])) + k
        order = _merge_runs(rows.series, rows.time, k, tail)
    else:
        order = np.lexsort((rows.time, rows.series))  # stable: among equal keys, write order is kept
    if not dedupe:
        return rows.take(order)
    s = rows.series[order]
    t = rows.time[order]
    starts = np.ones(n, dtype=bool)
    starts[1:] = (s[1:] != s[:-1]) | (t[1:] != t[:-1])
    if starts.all():
        return rows.take(order)
    group = np.cumsum(starts) - 1
    ngroups = int(group[-1]) + 1
    start_pos = np.flatnonzero(starts)
    ends = np.empty(ngroups, dtype=np.int64)
    ends[:-1] = start_pos[1:] - 1
    ends[-1] = n - 1
    fields: dict[str, Column] = {}
    for name, col in rows.fields.items():
        vals = col.values[order]
        if col.valid is None:
            fields[name] = Column(col.type, vals[ends])
            continue
        valid = col.valid[order]
        idx = np.flatnonzero(valid)
        g = group[idx]
        last = np.ones(len(idx), dtype=bool)
        last[:-1] = g[1:] != g[:-1]
        out_valid = np.zeros(ngroups, dtype=bool)
        out_valid[g[last]] = True
        out_vals = blank(col.type, ngroups)
        out_vals[g[last]] = vals[idx[last]]
        fields[name] = Column(col.type, out_vals, out_valid)
    return Rows(s[start_pos], t[start_pos], fields)


FEW_RUNS = 16  # rows in at most this many runs in order are merged pairwise instead of sorted


@njit(cache=True, nogil=True)
def _merge_run_list(series, time, bounds):
    """The stable (series, time) order of rows that are runs in order, run r being rows
    bounds[r] .. bounds[r + 1] - 1: adjacent runs merged pairwise until one is left (the earlier
    run's row first among equal keys, so write order is kept)."""
    n = bounds[-1]
    order = np.arange(n)
    scratch = np.empty(n, np.int64)
    b = bounds.copy()
    while len(b) > 2:
        nb = [b[0]]
        r = 0
        while r + 1 < len(b):
            lo, mid = b[r], b[r + 1]
            hi = b[r + 2] if r + 2 < len(b) else mid
            i, j, o = lo, mid, lo
            while i < mid or j < hi:
                if j >= hi:
                    take_left = True
                elif i >= mid:
                    take_left = False
                else:
                    x, y = order[i], order[j]
                    take_left = series[x] < series[y] or (series[x] == series[y] and time[x] <= time[y])
                if take_left:
                    scratch[o] = order[i]
                    i += 1
                else:
                    scratch[o] = order[j]
                    j += 1
                o += 1
            nb.append(hi)
            r += 2
        order[:n] = scratch[:n]
        b = np.array(nb, np.int64)
    return order


@njit(cache=True, nogil=True)
def _merge_runs(series, time, k, tail):
    """The order of rows 0..k-1 (in (series, time) order already) merged with the rows ``tail`` (in
    order): stable, so among equal keys the prefix (written earlier) comes first."""
    n = k + len(tail)
    out = np.empty(n, np.int64)
    i = 0
    j = 0
    for o in range(n):
        if j >= len(tail):
            out[o] = i
            i += 1
        elif i >= k:
            out[o] = tail[j]
            j += 1
        else:
            b = tail[j]
            if series[i] < series[b] or (series[i] == series[b] and time[i] <= time[b]):
                out[o] = i
                i += 1
            else:
                out[o] = b
                j += 1
    return out
