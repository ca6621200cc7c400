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


def merge_rows(rows: Rows, *, dedupe: bool = True, sorted_prefix: int = 0) -> Rows:
    """Sort by (series, time) keeping write order among equal keys, then collapse duplicates.

    ``dedupe=False`` (SQL tables without a key: PostgreSQL keeps duplicate rows) only sorts.
    ``sorted_prefix``: the first that many rows are already in order (a memtable's merged part):
    only the rest is sorted, then the two runs are merged in one pass.
    """
    n = len(rows)
    if n == 0 or is_sorted_unique(rows.series, rows.time):
        return rows
    k = sorted_prefix
    if 0 < k < n:
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
