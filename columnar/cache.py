"""The memtable: recent writes of one shard, queryable at once (read-your-writes).

Appends are O(1) (a list of Rows parts in write order). Reads see the memtable as sorted *runs*:
a large base and a small delta, each sorted by (series, time) and deduplicated, the delta written
after the base. The first read after appends sorts only what was appended since and merges it into
the delta; the delta is merged into the base once it outgrows a fraction of it (``DELTA_FRACTION``),
so a row is copied a bounded number of times however the reads and writes interleave, and a read
right after a small write costs in proportion to that write, not to the memtable.

Readers ask for the rows of some series within a time range (:meth:`TableCache.read`), their extents
(:meth:`TableCache.ranges`) or their newest rows (:meth:`TableCache.last_rows`): each run is searched
per series and only those rows are copied; rows found in both runs are merged as one merge of all
writes would (a later write wins column by column). :meth:`TableCache.merged` gives the whole
memtable as one run (a snapshot's input). A frozen cache is the input of a chunk-file snapshot.
"""

from __future__ import annotations

import threading
import time as _time
from collections.abc import Callable

import numpy as np

from columnar import blockdecode
from columnar.merge import is_sorted_unique, merge_rows, runs_disjoint
from columnar.rows import Rows, concat

_INT64_MAX, _INT64_MIN = np.iinfo(np.int64).max, np.iinfo(np.int64).min
Where = tuple[list[str], Callable[[Rows], np.ndarray]]  # TableCache.read's row filter: columns read, mask
DELTA_FRACTION = 0.125  # the delta is merged into the base when it holds more rows than this of it


class TableCache:
    def __init__(self, dedupe: bool = True) -> None:
        self.dedupe = dedupe
        self._runs: list[Rows] = []  # [base] or [base, delta]: sorted, deduplicated, oldest first
        self._parts: list[Rows] = []  # appended since the last read, in write order
        self.nbytes = 0
        self._lock = threading.Lock()
        # the times of every row appended (a superset once rows are deleted): a read of a range
        # outside them answers nothing at once (the memtable holds the newest hours; most reads of
        # older ranges never touch it)
        self.min_time = _INT64_MAX
        self.max_time = _INT64_MIN

    def __len__(self) -> int:
        """Rows held (rows written again since the last read count twice)."""
        return sum(len(r) for r in self._runs) + sum(len(p) for p in self._parts)

    def append(self, rows: Rows) -> None:
        if not len(rows):
            return
        lo, hi = int(rows.time.min()), int(rows.time.max())
        with self._lock:
            self._parts.append(rows)
            self.nbytes += rows.nbytes
            self.min_time = min(self.min_time, lo)
            self.max_time = max(self.max_time, hi)

    def overlaps(self, tmin: int, tmax: int) -> bool:
        """Whether rows within [tmin, tmax] may be here (False: certainly none)."""
        return self.min_time <= tmax and self.max_time >= tmin

    @property
    def unsettled(self) -> bool:
        """Whether rows were appended since the last read sorted them in (see :meth:`settle`)."""
        return bool(self._parts)

    def settle(self) -> None:
        """Sort what was appended into the runs now (a read would do it first otherwise)."""
        with self._lock:
            if self._parts:
                self._settle()

    def runs(self) -> list[Rows]:
        """The memtable as sorted, deduplicated runs, oldest first (at most two)."""
        with self._lock:
            if self._parts:
                self._settle()
            return list(self._runs)

    def _settle(self) -> None:
        """Sort what was appended since the last read into the delta (under the lock)."""
        parts = self._parts
        new = parts[0] if len(parts) == 1 else concat(parts)
        if not is_sorted_unique(new.series, new.time):
            new = merge_rows(new, dedupe=self.dedupe)
        runs = self._runs
        if not runs:
            runs = [new]
        elif len(runs) == 1:
            runs = [runs[0], new]
        else:
            runs = [runs[0], _merge(runs[1], new, self.dedupe)]
        if len(runs) == 2 and len(runs[1]) > DELTA_FRACTION * len(runs[0]):
            runs = [_merge(runs[0], runs[1], self.dedupe)]
        self._runs = runs
        self._parts = []
        self.nbytes = sum(r.nbytes for r in runs)

    def merged(self) -> Rows:
        """Every row as one sorted, deduplicated run."""
        with self._lock:
            if self._parts:
                self._settle()
            if len(self._runs) == 2:
                self._runs = [_merge(self._runs[0], self._runs[1], self.dedupe)]
                self.nbytes = self._runs[0].nbytes
            return self._runs[0] if self._runs else Rows.empty()

    def read(
        self,
        series: np.ndarray | None,
        tmin: int,
        tmax: int,
        columns: list[str] | None,
        where: Where | None = None,
    ) -> Rows:
        """The rows of ``series`` (sorted ids; None: all) within [tmin, tmax], sorted and deduplicated;
        only those rows are copied (one series' rows, or all of a run, are views of it: runs are
        replaced, never changed in place, and readers do not write to what they get).

        ``where`` (the columns a row filter reads, and the filter: rows -> bool mask): only the
        rows it keeps. Each run is filtered on those columns before the others are copied, unless
        the runs share a key in the range (then their merged rows are)."""
        if not self.overlaps(tmin, tmax):
            return Rows.empty().select_columns(columns)
        if series is not None and len(series) > 1 and not bool((series[1:] > series[:-1]).all()):
            series = np.unique(series)
        runs = self.runs()
        if where is not None:
            picks = [(run, _run_rows(run, series, tmin, tmax)) for run in runs]
            picks = [(run, ix) for run, ix in picks if ix is None or len(run.time[ix])]
            if len(picks) < 2 or not self.dedupe or runs_disjoint([_keys(run, ix) for run, ix in picks]):
                names, keep = where
                parts = []
                for run, ix in picks:
                    ix = _compose(ix, np.flatnonzero(keep(_pick(run, ix, names))))
                    if len(ix):
                        parts.append(run.select_columns(columns).take(ix))
                return _merge_parts(parts, columns, self.dedupe)
        wanted = columns if where is None or columns is None else list(dict.fromkeys(columns + where[0]))
        parts = []
        for run in runs:
            part = _read_run(run, series, tmin, tmax, wanted)
            if len(part):
                parts.append(part)
        rows = _merge_parts(parts, wanted, self.dedupe)
        if where is not None:
            rows = rows.select_columns(columns).take(np.flatnonzero(where[1](rows)))
        return rows

    def ranges(self, series: np.ndarray, tmin: int, tmax: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(series, first time, last time) of the given series' rows within [tmin, tmax] (sorted ids)."""
        if not self.overlaps(tmin, tmax):
            return series[:0], np.empty(0, np.int64), np.empty(0, np.int64)
        first = np.full(len(series), _INT64_MAX, np.int64)
        last = np.full(len(series), _INT64_MIN, np.int64)
        for run in self.runs():
            a, b = spans(run, series, tmin, tmax)
            has = b > a
            first[has] = np.minimum(first[has], run.time[a[has]])
            last[has] = np.maximum(last[has], run.time[b[has] - 1])
        has = last >= first
        return series[has], first[has], last[has]

    def holds(self, series: np.ndarray, tmin: np.ndarray, tmax: np.ndarray) -> np.ndarray:
        """Per i: whether a row of series ``series[i]`` has a time in [tmin[i], tmax[i]] (int64
        arrays, any order): a file's row group the memtable holds no row beside needs no merge."""
        out = np.zeros(len(series), bool)
        if not len(series):
            return out
        for run in self.runs():
            a = run.series.searchsorted(series, "left")
            b = run.series.searchsorted(series, "right")
            blockdecode.time_hits(run.time, a, b, tmin, tmax, out)
        return out

    def last_rows(self, series: np.ndarray, tmin: int, tmax: int, columns: list[str] | None) -> Rows:
        """The newest row within [tmin, tmax] of each of ``series`` (sorted ids) that has one, in
        series order (columns as a merge of every write would give them)."""
        if not self.overlaps(tmin, tmax):
            return Rows.empty().select_columns(columns)
        found = []
        for run in self.runs():
            idx = np.full(len(series), -1, np.int64)
            lo = run.series.searchsorted(series, "left")
            hi = run.series.searchsorted(series, "right")
            blockdecode.last_in_range(run.time, lo, hi, tmin, tmax, idx)
            if (idx >= 0).any():
                found.append(run.select_columns(columns).take(idx[idx >= 0]))
        if not found:
            return Rows.empty().select_columns(columns)
        if len(found) == 1:
            return found[0]
        rows = _merge(found[0], found[1], self.dedupe)  # at most two rows a series
        return rows.take(np.flatnonzero(np.append(rows.series[1:] != rows.series[:-1], True)))

    def delete(self, series: np.ndarray | None, tmin: int, tmax: int) -> int:
        rows = self.merged()
        hit = (rows.time >= tmin) & (rows.time <= tmax)
        if series is not None:
            hit &= np.isin(rows.series, series)
        n = int(hit.sum())
        if n:
            with self._lock:
                kept = rows.take(np.flatnonzero(~hit))
                self._runs = [kept] if len(kept) else []
                self.nbytes = kept.nbytes + sum(p.nbytes for p in self._parts)
        return n

    def series_ranges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(series, min time, max time) per series present, for overlap checks of aggregate scans."""
        out = []
        for run in self.runs():
            if not len(run):
                continue
            starts = np.flatnonzero(np.concatenate(([True], run.series[1:] != run.series[:-1])))
            ends = np.append(starts[1:], len(run)) - 1
            out.append((run.series[starts], run.time[starts], run.time[ends]))
        if not out:
            e = np.empty(0, np.int64)
            return e, e, e
        if len(out) == 1:
            return out[0]
        s = np.concatenate([o[0] for o in out])
        uniq, inv = np.unique(s, return_inverse=True)
        lo = np.full(len(uniq), np.iinfo(np.int64).max, np.int64)
        hi = np.full(len(uniq), np.iinfo(np.int64).min, np.int64)
        np.minimum.at(lo, inv, np.concatenate([o[1] for o in out]))
        np.maximum.at(hi, inv, np.concatenate([o[2] for o in out]))
        return uniq, lo, hi


def _merge(older: Rows, newer: Rows, dedupe: bool) -> Rows:
    """Two sorted, deduplicated runs as one (the newer one's rows win, column by column)."""
    if not len(older):
        return newer
    if not len(newer):
        return older
    return merge_rows(concat([older, newer]), dedupe=dedupe, sorted_prefix=len(older))


def spans(rows: Rows, series: np.ndarray, tmin: int, tmax: int) -> tuple[np.ndarray, np.ndarray]:
    """Per requested series (sorted ids), the index range [a, b) of its rows of the run ``rows``
    within [tmin, tmax]. (ndarray.searchsorted: np.searchsorted adds two Python frames.)"""
    lo = rows.series.searchsorted(series, "left")
    hi = rows.series.searchsorted(series, "right")
    a = np.empty(len(series), np.int64)
    b = np.empty(len(series), np.int64)
    blockdecode.time_slices(rows.time, lo, hi, tmin, tmax, a, b)
    return a, b


def _read_run(rows: Rows, series: np.ndarray | None, tmin: int, tmax: int, columns: list[str] | None) -> Rows:
    return _pick(rows, _run_rows(rows, series, tmin, tmax), columns)


def _run_rows(rows: Rows, series: np.ndarray | None, tmin: int, tmax: int) -> np.ndarray | slice | None:
    """Which rows of the run ``rows`` :meth:`TableCache.read` answers: None (all of them), a slice
    (one series' rows: a view) or positions."""
    if not len(rows):
        return slice(0, 0)
    if series is None:
        mask = (rows.time >= tmin) & (rows.time <= tmax)
        return None if mask.all() else np.flatnonzero(mask)
    a, b = spans(rows, series, tmin, tmax)
    n = b - a
    total = int(n.sum())
    if total == len(rows):
        return None
    if total == 0:  # (most reads of a range the memtable spans find none of their series' rows)
        return slice(0, 0)
    if len(n) == 1 or int(n[0]) == total:  # one series' rows (a dashboard's usual read): a view
        return slice(int(a[0]), int(b[0]))
    return np.repeat(a - np.concatenate(([0], np.cumsum(n)[:-1])), n) + np.arange(total)


def _pick(rows: Rows, ix: np.ndarray | slice | None, columns: list[str] | None) -> Rows:
    sel = rows.select_columns(columns)
    return sel if ix is None else sel.take(ix)


def _keys(rows: Rows, ix: np.ndarray | slice | None) -> Rows:
    return _pick(rows, ix, [])


def _compose(ix: np.ndarray | slice | None, kept: np.ndarray) -> np.ndarray:
    """Positions in the run of the ``kept`` positions within the selection ``ix`` of its rows."""
    if ix is None:
        return kept
    if isinstance(ix, slice):
        return kept + (ix.start or 0)
    return ix[kept]


def _merge_parts(parts: list[Rows], columns: list[str] | None, dedupe: bool) -> Rows:
    if not parts:
        return Rows.empty().select_columns(columns)
    if len(parts) == 1:
        return parts[0]
    return _merge(parts[0], parts[1], dedupe)


class ShardCache:
    """Every table's memtable of one shard."""

    def __init__(self) -> None:
        self.tables: dict[str, TableCache] = {}
        self.created = _time.monotonic()
        self._lock = threading.Lock()

    def table(self, name: str, dedupe: bool = True) -> TableCache:
        t = self.tables.get(name)
        if t is None:
            with self._lock:
                t = self.tables.setdefault(name, TableCache(dedupe))
        return t

    @property
    def nbytes(self) -> int:
        return sum(t.nbytes for t in self.tables.values())

    def __len__(self) -> int:
        return sum(len(t) for t in self.tables.values())
