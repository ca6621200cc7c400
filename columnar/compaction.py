"""Background compaction: merge a shard's chunk files of one table, deduplicate, apply tombstones.

Files of a table are ordered by id (= write order). The planner is pure: it picks runs of adjacent
files of one level (at least ``min_files`` of them) and merges each run into one file of the next
level; a *full* compaction (cold shard, tombstones waiting, or asked for) merges every file of the
table into one. The output takes the largest id of its inputs, which keeps ids in write order, and
swaps in for the inputs in one catalog transaction.
"""

from __future__ import annotations

import logging
import time as _time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from columnar.catalog import FileMeta
from columnar.merge import merge_rows
from columnar.rows import Rows, concat
from columnar.shard import LoadedFile, Shard
from columnar.types import FieldType

if TYPE_CHECKING:
    from columnar.engine import Engine

log = logging.getLogger("tsgres.storage")

COLD_SHARD_S = 3600.0  # a shard without writes for this long gets a full compaction
MERGE_ROWS = 1 << 18  # rows read from the inputs per merged piece (whole series; ~27 MB of TSBS rows)


def plan(files: list[FileMeta], min_files: int, *, full: bool = False) -> list[list[FileMeta]]:
    """Runs of files to merge, each run adjacent in id order; ``files`` sorted by id."""
    if len(files) < 2:
        return []
    if full:
        return [list(files)]
    runs: list[list[FileMeta]] = []
    cur: list[FileMeta] = []
    for f in files:
        if cur and f.level != cur[-1].level:
            if len(cur) >= min_files:
                runs.append(cur)
            cur = []
        cur.append(f)
    if len(cur) >= min_files:
        runs.append(cur)
    return runs


def compact_due(engine: Engine, *, full: bool = False, table_ids: set[int] | None = None) -> int:
    """Run every compaction that is due (or every table fully) of the tables ``table_ids`` (None:
    all); returns the number of merges."""
    merges = 0
    now = _time.monotonic()
    for shard in engine.shards():
        cold = now - shard.last_write >= COLD_SHARD_S
        for table_id in list(shard.files):
            if table_ids is not None and table_id not in table_ids:
                continue
            files = shard.table_files(table_id)
            has_tombs = any(t.meta.table_id == table_id for t in shard.tombstones)
            runs = plan(
                [f.meta for f in files],
                engine.options.compaction_min_files,
                full=full or (cold and len(files) > 1) or has_tombs,
            )
            if has_tombs and not runs and files:
                runs = [[f.meta for f in files]]  # one file with tombstones: rewrite it alone
            for run in runs:
                if compact_run(engine, shard, table_id, run):
                    merges += 1
    return merges


def compact_run(engine: Engine, shard: Shard, table_id: int, run: list[FileMeta]) -> bool:
    """Merge ``run`` into one file of the next level. Deletes and snapshots wait meanwhile."""
    with engine._flush_lock:
        current = {f.meta.id: f for f in shard.table_files(table_id)}
        if any(f.id not in current for f in run):
            return False  # the set changed (a drop ran first)
        meta = engine.catalog.table_by_id(table_id)
        if meta is None:
            return False
        inputs = [current[f.id] for f in run]
        tombs = [t for t in shard.tombstones if t.meta.table_id == table_id]
        columns: dict[str, FieldType] = {}
        for lf in inputs:
            columns.update(dict(lf.chunk.columns))
        pieces = _merged_pieces(inputs, tombs, meta.dedupe)
        out_id = max(f.id for f in run)
        level = max(f.level for f in run) + 1
        added: list[LoadedFile] = []
        written = engine._write_pieces(
            shard, meta, list(columns.items()), pieces, level=level, file_id=out_id
        )
        if written is not None:
            added.append(LoadedFile(*written))
        removed = [f.id for f in run]
        engine.catalog.replace_files([a.meta for a in added], removed)
        gone = shard.replace_files(table_id, set(removed), added)
        for lf in gone:
            try:
                (shard.dir / lf.meta.name).unlink()
            except FileNotFoundError:
                pass
        log.debug(
            "compacted %d files of table %s in shard %d into level %d (%d rows)",
            len(run),
            meta.name,
            shard.meta.id,
            level,
            sum(a.meta.rows for a in added),
        )
        return True


def _merged_pieces(inputs: list[LoadedFile], tombs: list, dedupe: bool) -> Iterator[Rows]:
    """The rows of ``inputs`` merged (last write wins, tombstoned rows dropped), a range of series at a
    time: each piece holds whole series and about MERGE_ROWS rows read from the inputs, so a merge of
    large files holds one piece in memory, not the files."""
    series = [lf.chunk.groups["series"] for lf in inputs]  # per file, in (series, time) order
    ids = np.unique(np.concatenate(series))
    if not len(ids):
        return
    rows_of = np.zeros(len(ids), np.int64)
    for lf, s in zip(inputs, series, strict=True):
        np.add.at(rows_of, np.searchsorted(ids, s), lf.chunk.groups["nrows"].astype(np.int64))
    # a piece ends after the series where the running row count passes the next multiple of MERGE_ROWS
    total = np.cumsum(rows_of)
    ends = np.searchsorted(total, np.arange(1, int(total[-1]) // MERGE_ROWS + 1) * MERGE_ROWS) + 1
    bounds = [0, *sorted({int(e) for e in ends if 0 < e < len(ids)}), len(ids)]
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=False):
        first, last = ids[lo], ids[hi - 1]
        parts: list[Rows] = []
        for lf, s in zip(inputs, series, strict=True):
            a, b = np.searchsorted(s, first, "left"), np.searchsorted(s, last, "right")
            if a == b:
                continue
            rows = lf.chunk.read_groups(np.arange(a, b))
            drop = np.zeros(len(rows), dtype=bool)
            for t in tombs:
                if lf.meta.id in t.meta.file_ids:
                    drop |= t.mask(rows)
            parts.append(rows.take(np.flatnonzero(~drop)) if drop.any() else rows)
        if parts:
            merged = merge_rows(concat(parts), dedupe=dedupe)
            if len(merged):
                yield merged
