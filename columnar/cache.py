"""The memtable: recent writes of one shard, queryable at once (read-your-writes).

Appends are O(1) (a list of Rows parts in write order). The first read after appends merges the
parts into one sorted, deduplicated part (columnar.merge), so the cost of sorting is paid once per
burst of writes, not per read. A frozen cache is the input of a chunk-file snapshot.
"""

from __future__ import annotations

import threading
import time as _time

import numpy as np

from columnar.merge import is_sorted_unique, merge_rows
from columnar.rows import Rows, concat


class TableCache:
    def __init__(self, dedupe: bool = True) -> None:
        self.dedupe = dedupe
        self._parts: list[Rows] = []
        self._merged = True  # _parts is [] or one sorted, deduplicated part
        self._base = 0  # rows of _parts[0] known sorted and deduplicated (what the last merge made)
        self.nbytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return sum(len(p) for p in self._parts)

    def append(self, rows: Rows) -> None:
        if not len(rows):
            return
        with self._lock:
            self._parts.append(rows)
            self._merged = len(self._parts) == 1 and _sorted_unique(rows)
            if self._merged:
                self._base = len(rows)
            self.nbytes += rows.nbytes

    def merged(self) -> Rows:
        with self._lock:
            if not self._merged:
                # the part the last merge made is in order already: only the parts written since
                # are sorted, then merged with it in one pass
                base = self._base if self._parts and len(self._parts[0]) == self._base else 0
                rows = merge_rows(concat(self._parts), dedupe=self.dedupe, sorted_prefix=base)
                self._parts = [rows]
                self.nbytes = rows.nbytes
                self._merged = True
                self._base = len(rows)
            return self._parts[0] if self._parts else Rows.empty()

    def read(self, series: np.ndarray | None, tmin: int, tmax: int, columns: list[str] | None) -> Rows:
        rows = self.merged()
        if not len(rows):
            return rows.select_columns(columns)
        mask = (rows.time >= tmin) & (rows.time <= tmax)
        if series is not None:
            mask &= np.isin(rows.series, series)
        return rows.select_columns(columns).take(np.flatnonzero(mask))

    def delete(self, series: np.ndarray | None, tmin: int, tmax: int) -> int:
        rows = self.merged()
        hit = (rows.time >= tmin) & (rows.time <= tmax)
        if series is not None:
            hit &= np.isin(rows.series, series)
        n = int(hit.sum())
        if n:
            with self._lock:
                kept = rows.take(np.flatnonzero(~hit))
                self._parts = [kept] if len(kept) else []
                self.nbytes = kept.nbytes
                self._base = len(kept)
        return n

    def series_ranges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(series, min time, max time) per series present, for overlap checks of aggregate scans."""
        rows = self.merged()
        if not len(rows):
            e = np.empty(0, np.int64)
            return e, e, e
        starts = np.flatnonzero(np.concatenate(([True], rows.series[1:] != rows.series[:-1])))
        ends = np.append(starts[1:], len(rows)) - 1
        return rows.series[starts], rows.time[starts], rows.time[ends]


def _sorted_unique(rows: Rows) -> bool:
    return is_sorted_unique(rows.series, rows.time)


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
