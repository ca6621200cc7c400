"""A shard: one time range of one retention policy, dropped as a unit.

It owns the memtables (active, and frozen while a snapshot is being written), the chunk files of each
table (ordered by file id, which orders them by write time) and the tombstones of deletes that
apply to those files. :meth:`Shard.read` answers a table scan by merging all of them, newest last,
with the engine's last-write-wins rule.

:class:`ShardReader` is the interface the scan layer talks to; a remote shard (Arrow Flight, later)
implements the same methods.
"""

from __future__ import annotations

import threading
import time as _time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
from pyroaring import BitMap

from columnar.cache import ShardCache, TableCache
from columnar.catalog import FileMeta, ShardMeta, TombstoneMeta
from columnar.chunkfile import ChunkFile
from columnar.merge import merge_rows
from columnar.rows import Rows, bitmap_ids, concat


class ShardReader(Protocol):
    """What the scan layer needs of a shard, local or remote."""

    meta: ShardMeta

    def read(
        self,
        table_id: int,
        table: str,
        series: np.ndarray | None,
        tmin: int,
        tmax: int,
        columns: list[str] | None,
    ) -> Rows: ...

    def sources(self, table_id: int, table: str) -> ShardSources: ...


@dataclass
class LoadedFile:
    meta: FileMeta
    chunk: ChunkFile


@dataclass(frozen=True)
class TableStats:
    """Sizes of one table in one shard. Rows deleted but not yet compacted away still count, and
    memtable rows written twice count twice (approximate_row_count, relation sizes)."""

    holds: bool  # any chunk file or memtable of the table
    file_bytes: int
    file_rows: int
    mem_bytes: int
    mem_rows: int


@dataclass
class Tombstone:
    meta: TombstoneMeta
    series: np.ndarray  # sorted int64 ids

    @classmethod
    def of(cls, meta: TombstoneMeta) -> Tombstone:
        return cls(meta, bitmap_ids(BitMap.deserialize(meta.series)))

    def mask(self, rows: Rows) -> np.ndarray:
        """Rows this tombstone deletes."""
        return (
            (rows.time >= self.meta.min_ns)
            & (rows.time <= self.meta.max_ns)
            & np.isin(rows.series, self.series)
        )


@dataclass
class ShardSources:
    """A consistent snapshot of what holds a table's data in a shard, oldest first."""

    files: list[LoadedFile]
    tombstones: list[Tombstone]
    caches: list[TableCache] = field(default_factory=list)

    def tombstones_for(self, file_id: int) -> list[Tombstone]:
        return [t for t in self.tombstones if file_id in t.meta.file_ids]

    def read_file(
        self, lf: LoadedFile, groups: np.ndarray, columns: list[str] | None, tmin: int, tmax: int
    ) -> tuple[Rows, bool]:
        """Row groups of a file, trimmed to [tmin, tmax], without what tombstones delete.

        Also says whether a tombstone removed rows (last-row readers then look further back).
        """
        rows = lf.chunk.read_groups(groups, columns)
        keep = (rows.time >= tmin) & (rows.time <= tmax)
        trimmed = keep.copy()
        for t in self.tombstones_for(lf.meta.id):
            keep &= ~t.mask(rows)
        tombstoned = not np.array_equal(keep, trimmed)
        return (rows if keep.all() else rows.take(np.flatnonzero(keep))), tombstoned


class Shard:
    def __init__(self, meta: ShardMeta, directory: Path) -> None:
        self.meta = meta
        self.dir = directory
        self.cache = ShardCache()
        self.frozen: ShardCache | None = None
        self.files: dict[int, list[LoadedFile]] = {}  # table id -> files by id
        self.tombstones: list[Tombstone] = []
        self.lock = threading.RLock()
        self.last_write = _time.monotonic()

    def contains(self, t: int) -> bool:
        return self.meta.start_ns <= t < self.meta.end_ns

    # -- manifest ------------------------------------------------------------------------------------
    def add_file(self, lf: LoadedFile) -> None:
        with self.lock:
            lst = self.files.setdefault(lf.meta.table_id, [])
            lst.append(lf)
            lst.sort(key=lambda f: f.meta.id)

    def replace_files(self, table_id: int, removed: set[int], added: list[LoadedFile]) -> list[LoadedFile]:
        with self.lock:
            old = self.files.get(table_id, [])
            gone = [f for f in old if f.meta.id in removed]
            kept = [f for f in old if f.meta.id not in removed] + added
            kept.sort(key=lambda f: f.meta.id)
            self.files[table_id] = kept
            self.tombstones = [
                t
                for t in (
                    Tombstone(
                        TombstoneMeta(
                            t.meta.id,
                            t.meta.shard_id,
                            t.meta.table_id,
                            t.meta.min_ns,
                            t.meta.max_ns,
                            t.meta.series,
                            tuple(i for i in t.meta.file_ids if i not in removed),
                        ),
                        t.series,
                    )
                    for t in self.tombstones
                )
                if t.meta.file_ids
            ]
            return gone

    def table_files(self, table_id: int) -> list[LoadedFile]:
        with self.lock:
            return list(self.files.get(table_id, []))

    def table_stats(self, table_id: int, table: str) -> TableStats:
        """What the shard holds of one table: its chunk files and its memtables (active and frozen)."""
        with self.lock:
            files = list(self.files.get(table_id, []))
            caches = [
                c.tables[table] for c in (self.frozen, self.cache) if c is not None and table in c.tables
            ]
        return TableStats(
            bool(files or caches),
            sum(f.meta.bytes for f in files),
            sum(f.meta.rows for f in files),
            sum(c.nbytes for c in caches),
            sum(len(c) for c in caches),
        )

    # -- reading -------------------------------------------------------------------------------------
    def sources(self, table_id: int, table: str) -> ShardSources:
        with self.lock:
            files = list(self.files.get(table_id, []))
            tombs = [t for t in self.tombstones if t.meta.table_id == table_id]
            caches = []
            for c in (self.frozen, self.cache):
                if c is not None and table in c.tables:
                    caches.append(c.tables[table])
        return ShardSources(files, tombs, caches)

    def read(
        self,
        table_id: int,
        table: str,
        series: np.ndarray | None,
        tmin: int,
        tmax: int,
        columns: list[str] | None,
        *,
        dedupe: bool = True,
    ) -> Rows:
        src = self.sources(table_id, table)
        parts: list[Rows] = []
        for lf in src.files:
            if lf.meta.max_time < tmin or lf.meta.min_time > tmax:
                continue
            groups = lf.chunk.select_groups(series, tmin, tmax)
            if len(groups):
                parts.append(src.read_file(lf, groups, columns, tmin, tmax)[0])
        for c in src.caches:
            parts.append(c.read(series, tmin, tmax, columns))
        parts = [p for p in parts if len(p)]
        if not parts:
            return Rows.empty()
        if len(parts) == 1:
            return parts[0]
        return merge_rows(concat(parts), dedupe=dedupe)

    # -- memtable lifecycle ----------------------------------------------------------------------------
    def freeze(self) -> ShardCache | None:
        """Move the active memtable aside for a snapshot; writes go to a fresh one."""
        with self.lock:
            if self.frozen is not None or not len(self.cache):
                return None
            self.frozen, self.cache = self.cache, ShardCache()
            return self.frozen

    def rename_table(self, old: str, new: str) -> None:
        """A table renamed (columnar.engine.Engine.rename_table): its memtables, found by name, are
        found under ``new`` (at once for readers, which look them up under the lock too)."""
        with self.lock:
            for cache in (self.cache, self.frozen):
                if cache is not None and old in cache.tables:
                    cache.tables[new] = cache.tables.pop(old)

    def release_frozen(self) -> None:
        with self.lock:
            self.frozen = None

    @property
    def cache_bytes(self) -> int:
        return self.cache.nbytes + (self.frozen.nbytes if self.frozen is not None else 0)

    def close(self) -> None:
        with self.lock:
            for lst in self.files.values():
                for lf in lst:
                    lf.chunk.close()
            self.files.clear()
