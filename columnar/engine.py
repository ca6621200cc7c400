"""The storage engine: databases -> retention policies -> shards, with one WAL and one series index
per database.

Write path: :meth:`Engine.write` checks the batch against the table's schema (adding new columns),
resolves its tag sets to series ids once per distinct tag set, drops rows outside the retention
window, appends one WAL record and applies the rows to the memtables of the shards they fall in,
then waits for the WAL's durability policy before returning. A snapshot (:meth:`Engine.flush`)
writes every memtable to chunk files and removes the WAL segments they came from; compaction
(columnar.compaction) merges small files in the background.
"""

from __future__ import annotations

import json
import logging
import struct
import threading
import time as _time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pyroaring import BitMap

from columnar.batch import WriteBatch
from columnar.cache import ShardCache
from columnar.catalog import (
    Catalog,
    DatabaseMeta,
    FileMeta,
    Rename,
    RetentionPolicyMeta,
    TableMeta,
)
from columnar.chunkfile import ChunkFile, ChunkWriter, write_chunk_file
from columnar.errors import (
    ColumnKindConflict,
    DatabaseNotFound,
    FieldTypeConflict,
    PointsBeyondRetention,
    SeriesLimitExceeded,
    StorageError,
    TableNotFound,
)
from columnar.index import SeriesIndex
from columnar.options import EngineOptions
from columnar.predicate import TagPredicate
from columnar.rows import Rows, bitmap_ids
from columnar.shard import LoadedFile, Shard, Tombstone
from columnar.types import TIME_COLUMN, FieldType
from columnar.wal import WAL

log = logging.getLogger("tsgres.storage")

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
_REC_WRITE = b"W"
_REC_DELETE = b"D"


@dataclass
class WriteResult:
    """What a write did. ``errors`` holds the reasons rows were dropped; good rows are written."""

    rows_written: int = 0
    values_written: int = 0
    rows_dropped: int = 0
    errors: list[StorageError] = field(default_factory=list)
    wal_seq: int = 0

    def check(self) -> WriteResult:
        """Raise the first error, if any (for callers that treat a partial write as a failure)."""
        if self.errors:
            raise self.errors[0]
        return self


SETTLE_QUIET_S = 0.5  # writes paused this long: the background thread sorts the memtables' new rows


class Engine:
    def __init__(
        self, data_dir: Path, options: EngineOptions, on_wal_fsync: Callable[[float], None] | None = None
    ) -> None:
        self.data_dir = Path(data_dir)
        self.options = options
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "shards").mkdir(exist_ok=True)
        (self.data_dir / "index").mkdir(exist_ok=True)
        self.catalog = Catalog(self.data_dir / "catalog.sqlite")
        self._write_lock = threading.Lock()  # orders WAL records and memtable appends
        self._flush_lock = threading.Lock()  # one snapshot/delete/drop at a time
        self._meta_lock = threading.RLock()
        self._indexes: dict[int, SeriesIndex] = {}
        self._shards: dict[int, Shard] = {}
        # shards() sorted, tagged with the count of shard changes it was sorted at (a change made
        # while one thread sorts is never hidden by that thread storing its list afterwards)
        self._shard_changes = 0
        # (database id, rp) -> (shard changes when made, (starts, ends, shards)): see _rp_shards
        self._rp_spans: dict[tuple[int, str], tuple[int, tuple[np.ndarray, np.ndarray, list[Shard]]]] = {}
        self._shard_order: tuple[int, list[Shard]] = (-1, [])
        # table schemas by (database id, rp, name), each with the catalog's schema_version read before
        # it: a schema read before a DDL and stored after it is not used (see table)
        self._tables: dict[tuple[int, str, str], tuple[int, TableMeta]] = {}
        self._renames = 0  # renames (of tags or tables) made, under the write lock: see write
        self._closed = False
        self._load_shards()
        self.wal = WAL(
            self.data_dir / "wal",
            fsync=options.wal_fsync,
            interval_ms=options.wal_fsync_interval_ms,
            segment_bytes=options.wal_segment_bytes,
            on_fsync=on_wal_fsync,
        )
        self.catalog.create_database(options.default_database)
        self._replay()
        self._last_write = 0.0  # monotonic time of the last write (see _settle_quiet_memtables)
        self._settled_write = 0.0  # ... and of the last write whose rows the storage thread sorted
        if any(len(s.cache) for s in self._shards.values()):
            self._last_write = _time.monotonic()  # replayed rows: sorted in the background too
        self._stop = threading.Event()
        self._wake = threading.Event()  # set by writers when the memtables reach the snapshot size
        self._unflushed = 0  # bytes appended to memtables since the last snapshot began
        self._flushed = threading.Condition()  # writers held back by a lagging snapshot wait here
        self._bg: threading.Thread | None = None
        if options.compaction_interval_s > 0:
            self._bg = threading.Thread(target=self._background, name="tsgres-storage", daemon=True)
            self._bg.start()

    @classmethod
    def open(
        cls,
        data_dir: Path | str,
        options: EngineOptions | None = None,
        *,
        on_wal_fsync: Callable[[float], None] | None = None,
    ) -> Engine:
        """``on_wal_fsync(seconds)`` is told how long each WAL fsync took (metrics)."""
        return cls(Path(data_dir), options or EngineOptions(), on_wal_fsync)

    def watch_wal_fsync(self, callback: Callable[[float], None] | None) -> None:
        """``callback(seconds)`` is told how long each WAL fsync takes (metrics)."""
        self.wal._on_fsync = callback

    def sync(self, seq: int) -> None:
        """Wait until writes up to WAL seq ``seq`` (WriteResult.wal_seq) meet the fsync policy;
        for callers that write several batches with sync=False and acknowledge them together."""
        if seq:
            self.wal.sync_to(seq)

    # -- databases and retention policies -------------------------------------------------------------
    def create_database(self, name: str, *, if_not_exists: bool = True) -> DatabaseMeta:
        return self.catalog.create_database(name, if_not_exists=if_not_exists)

    def database(self, name: str) -> DatabaseMeta:
        return self.catalog.database(name)

    def databases(self) -> list[DatabaseMeta]:
        return self.catalog.databases()

    def drop_database(self, name: str) -> None:
        with self._flush_lock, self._write_lock:
            db = self.catalog.database(name)
            for shard in [s for s in self._shards.values() if s.meta.database_id == db.id]:
                self._drop_shard_locked(shard)
            self.catalog.drop_database(name)
            idx = self._indexes.pop(db.id, None)
            if idx is not None:
                idx.close()
            _rmtree(self.data_dir / "index" / str(db.id))
            self._tables = {k: v for k, v in self._tables.items() if k[0] != db.id}

    def create_retention_policy(
        self,
        database: str,
        name: str,
        duration_ns: int,
        *,
        shard_duration_ns: int = 0,
        replication: int = 1,
        default: bool = False,
    ) -> RetentionPolicyMeta:
        """A retention policy (duration 0 = forever; shard duration 0 = InfluxDB's default rule)."""
        return self.catalog.create_retention_policy(
            database,
            name,
            duration_ns,
            shard_duration_ns=shard_duration_ns,
            replication=replication,
            default=default,
        )

    def retention_policy(self, database: str, name: str | None = None) -> RetentionPolicyMeta:
        return self.catalog.retention_policy(database, name)

    def index(self, database_id: int) -> SeriesIndex:
        idx = self._indexes.get(database_id)
        if idx is None:
            with self._meta_lock:
                idx = self._indexes.get(database_id)
                if idx is None:
                    name = next((d.name for d in self.catalog.databases() if d.id == database_id), "")
                    idx = SeriesIndex(
                        self.data_dir / "index" / str(database_id),
                        database=name,
                        series_limit=self.options.series_limit or 2**62,
                    )
                    self._indexes[database_id] = idx
        return idx

    # -- tables ----------------------------------------------------------------------------------------
    def table(self, database_id: int, rp: str, name: str) -> TableMeta | None:
        key = (database_id, rp, name)
        version = self.catalog.schema_version
        hit = self._tables.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        meta = self.catalog.table(database_id, rp, name)
        if meta is not None:
            self._tables[key] = (version, meta)
        return meta

    def tables(self, database: str, rp: str | None = None) -> list[TableMeta]:
        return self.catalog.tables(self.catalog.database(database).id, rp)

    def create_table(
        self,
        database: str,
        name: str,
        columns: list[tuple[str, str, FieldType | None, str | None]],
        *,
        rp: str | None = None,
        time_column: str = TIME_COLUMN,
        options: dict | None = None,
    ) -> TableMeta:
        """Create a table with declared columns ((name, 'time'|'tag'|'field', type, pg_type) each)."""
        rpm = self.catalog.retention_policy(database, rp)
        with self._meta_lock:
            version = self.catalog.schema_version
            meta = self.catalog.create_table(
                rpm.database_id, rpm.name, name, time_column=time_column, columns=columns, options=options
            )
            self._tables[(rpm.database_id, rpm.name, name)] = (version, meta)
            return meta

    def invalidate_tables(self) -> None:
        """Forget cached table schemas after a catalog change made outside write (ALTER, RENAME)."""
        with self._meta_lock:
            self._tables.clear()

    def rename_tag(
        self,
        database: str,
        table: str,
        old: str,
        new: str,
        *,
        rp: str | None = None,
        table_options: dict[int, dict] | None = None,
        catalog_meta: dict[str, str] | None = None,
    ) -> None:
        """Rename tag column ``old`` of a table to ``new`` (ALTER TABLE ... RENAME COLUMN).

        The rename is physical: the series index rewrites the keys of the table's series with the
        new tag key, each series keeping its id (columnar.index, RENAME_TAG), so line protocol,
        InfluxQL and SQL all see one name, and a later write with the new key lands in the same
        series. A dropped tag that still holds ``new`` in the keys is moved aside to ``new~k``
        first (the name its dropped column is then recorded under).

        Durability, with writes held off (write lock): (1) one catalog transaction renames the
        column and records the rename (``renames``: its steps and the WAL's last seq); that
        commit is the rename. (2) The index applies it and fsyncs its log, remembering the rename
        id. A crash before (1) leaves nothing renamed; after (1), opening the engine applies every
        recorded rename the index has not (by id, so exactly once) before replaying the WAL. WAL
        records written before the rename hold the old tag key: replay renames their keys through
        every rename recorded after them. A rename is forgotten once a snapshot has taken the WAL
        records before it out of the WAL (:meth:`flush`). Costs O(series of the table).

        ``table_options`` and ``catalog_meta``: catalog changes made in the transaction of (1),
        where other objects name the column (keys, foreign keys, views; Catalog.rename_column).

        Raises StorageError when the measurement also exists in another retention policy (the
        index, shared by a database's retention policies, would rename its tag too) or when ``new``
        is a tag key of the measurement's series already.
        """
        db = self.catalog.database(database)
        rpm = self.catalog.retention_policy(database, rp)
        idx = self.index(db.id)
        with self._write_lock:
            meta = self.catalog.table(db.id, rpm.name, table)
            if meta is None:
                raise TableNotFound(table)
            col = meta.column(old)
            if col is None or col.kind != "tag" or meta.column(new) is not None:
                raise StorageError(f'cannot rename "{old}" of "{table}" to "{new}": not a tag, or taken')
            self._check_one_rp(db.id, rpm.name, table, "its tags")
            keys = set(idx.tag_keys(table))
            steps: list[tuple[str, str]] = []
            if self.catalog.dropped_tag(meta.id, new):
                k = 1
                while f"{new}~{k}" in keys or self.catalog.dropped_tag(meta.id, f"{new}~{k}"):
                    k += 1
                steps.append((new, f"{new}~{k}"))
            elif new in keys:
                raise StorageError(f'tag key "{new}" already exists in measurement "{table}"')
            steps.append((old, new))
            rename = Rename(db.id, table, tuple(steps), self.wal.last_seq)
            self._rename_locked(
                idx,
                rename,
                lambda: self.catalog.rename_column(
                    meta.id, old, new, tag=rename, table_options=table_options, meta=catalog_meta
                ),
            )
        self.catalog.schema_changed()  # (plans made between the two steps: made again)

    def rename_table(
        self,
        database: str,
        table: str,
        new: str,
        *,
        rp: str | None = None,
        table_options: dict[int, dict] | None = None,
        catalog_meta: dict[str, str | None] | None = None,
    ) -> None:
        """Rename a table, the measurement, to ``new`` in its retention policy (ALTER TABLE ...
        RENAME TO), as :meth:`rename_tag` renames a tag: the series index rewrites the keys of its
        series with the new measurement name, each keeping its id (columnar.index, RENAME), with the
        same durability (one catalog transaction renames the table and records the rename in
        ``renames``; the index applies it; recovery applies what the index lacks, by id). Its chunk
        files, tombstones, comments and privileges are kept by table id; its memtables are keyed
        by name and re-keyed here. WAL records written before the rename hold the old table name:
        replay reads them as the new one. A later write to ``new`` lands in the same series; one to
        the old name makes a new, separate table (the name is free again), as in InfluxDB.

        ``table_options`` and ``catalog_meta``: catalog changes made in the same transaction, where
        other objects name the table (foreign keys, views, jobs; Catalog.rename_table).

        Raises TableNotFound, or StorageError when ``new`` is taken in the retention policy, or the
        table's name or ``new`` is a table in another retention policy too (the index, shared by
        the database's retention policies, keeps their series under one measurement name).
        """
        db = self.catalog.database(database)
        rpm = self.catalog.retention_policy(database, rp)
        idx = self.index(db.id)
        with self._flush_lock, self._write_lock:  # (a snapshot finds its memtables' tables by name)
            meta = self.catalog.table(db.id, rpm.name, table)
            if meta is None:
                raise TableNotFound(table)
            if self.catalog.table(db.id, rpm.name, new) is not None:
                raise StorageError(f'table "{new}" already exists')
            self._check_one_rp(db.id, rpm.name, table, "it")
            self._check_one_rp(db.id, rpm.name, new, f'"{table}" to it')
            rename = Rename(db.id, table, (), self.wal.last_seq, to=new)

            def commit() -> int:
                return self.catalog.rename_table(
                    meta.id, new, rename=rename, table_options=table_options, meta=catalog_meta
                )

            def rekey() -> None:
                for shard in self._shards.values():
                    if shard.meta.database_id == db.id and shard.meta.rp == rpm.name:
                        shard.rename_table(table, new)

            self._rename_locked(idx, rename, commit, rekey)
        self.catalog.schema_changed()

    def _check_one_rp(self, database_id: int, rp: str, table: str, what: str) -> None:
        if any(t.name == table and t.rp != rp for t in self.catalog.tables(database_id)):
            raise StorageError(
                f'measurement "{table}" also exists in another retention policy, which shares its '
                f"series: renaming {what} is not supported"
            )

    def _rename_locked(
        self,
        idx: SeriesIndex,
        rename: Rename,
        commit: Callable[[], int],
        rekey: Callable[[], None] | None = None,
    ) -> None:
        """(1) ``commit()`` the catalog's transaction (it records ``rename`` and returns its id):
        the rename is made. (2) The index applies it, (3) ``rekey()`` the memtables. The index is
        held from its check to (3), so no series is made meanwhile under a name (1) gave away or
        took (a write resolves its series after reading the renamed schema, never before)."""
        with idx.held():
            idx.check_rename(rename.table, rename.steps, to=rename.to)
            rename_id = commit()
            idx.rename(rename.table, rename.steps, rename_id, to=rename.to)
            if rekey is not None:
                rekey()
        self._tables.clear()
        self._renames += 1  # (after the clear: a writer that sees it reads the schema afresh)

    def _recover_renames(self) -> dict[int, list[Rename]]:
        """Apply the recorded renames the series indexes lack (a crash inside rename_tag or
        rename_table); returns them by database id, in order, for the WAL replay."""
        out: dict[int, list[Rename]] = {}
        databases = {d.id for d in self.catalog.databases()}
        for r in self.catalog.renames():
            if r.database_id in databases:
                self.index(r.database_id).rename(r.table, r.steps, r.id, to=r.to)
                out.setdefault(r.database_id, []).append(r)
        return out

    def _forget_renames(self, through_seq: int) -> None:
        """Forget renames whose earlier WAL records a snapshot removed (and that the index holds)."""
        done = [
            r.id
            for r in self.catalog.renames()
            if r.wal_seq <= through_seq
            and (r.database_id not in self._indexes or r.id <= self._indexes[r.database_id].renamed)
        ]
        if done:
            self.catalog.forget_renames(done)

    def _refresh_table(self, meta: TableMeta) -> TableMeta:
        version = self.catalog.schema_version
        new = self.catalog.table_by_id(meta.id)
        if new is None:  # (renamed or dropped meanwhile: the write reads it again)
            raise StorageError(f'table "{meta.name}" changed during the write; retry')
        self._tables[(new.database_id, new.rp, new.name)] = (version, new)
        return new

    def _check_schema(
        self,
        db: DatabaseMeta,
        rp: str,
        batch: WriteBatch,
        result: WriteResult,
        *,
        stored_names: bool = False,
        table_id: int | None = None,
    ) -> TableMeta:
        """Return the table's schema, adding new columns; drop fields whose type conflicts.

        On return the batch's fields are keyed by their storage names (a renamed column keeps
        storing under its old name). ``stored_names``: the batch comes from the WAL, already so keyed.
        """
        meta = self.table(db.id, rp, batch.table)
        if table_id is not None and (meta is None or meta.id != table_id):
            raise TableNotFound(batch.table)
        if meta is None:
            with self._meta_lock:
                version = self.catalog.schema_version
                meta = self.table(db.id, rp, batch.table) or self.catalog.create_table(db.id, rp, batch.table)
                self._tables[(db.id, rp, batch.table)] = (version, meta)
        dropped: set[str] | None = None  # (read once, when a replayed name is not a column)

        def was_dropped(name: str) -> bool:
            nonlocal dropped
            if dropped is None:
                dropped = self.catalog.dropped_storage(meta.id)
            return name in dropped

        if stored_names:
            # (a WAL record written before a column was dropped still holds it: the column stays
            # dropped, and a dropped field's values with it; a name written again after the drop is
            # in the catalog by then, added before its record was)
            named = {}
            for n, c in batch.fields.items():
                col = meta.by_storage(n)
                if col is None and was_dropped(n):
                    continue
                named[col.name if col is not None else n] = c
            batch.fields = named
        tag_keys = {k for ts in batch.tag_sets for k, _ in ts}
        new_cols: list[tuple[str, str, FieldType | None, str | None]] = []
        for key in sorted(tag_keys):
            col = meta.column(key)
            if col is None:
                if stored_names and was_dropped(key):
                    continue  # a dropped tag: its values stay in the series keys, unread
                if key == meta.time_column:
                    raise ColumnKindConflict(batch.table, key, "time column", "tag")
                new_cols.append((key, "tag", None, None))
            elif col.kind != "tag":
                raise ColumnKindConflict(batch.table, key, col.kind, "tag")
        for name, fcol in list(batch.fields.items()):
            col = meta.column(name)
            if col is None:
                if name == meta.time_column or name in tag_keys:
                    raise ColumnKindConflict(
                        batch.table, name, "time column" if name == meta.time_column else "tag", "field"
                    )
                new_cols.append((name, "field", fcol.type, None))
            elif col.kind != "field":
                raise ColumnKindConflict(batch.table, name, col.kind, "field")
            elif col.type is not fcol.type:
                conflict = FieldTypeConflict(batch.table, name, _type_name(col.type), fcol.type.influx_name)
                result.errors.append(conflict)
                del batch.fields[name]
                has = np.ones(len(batch), bool) if fcol.valid is None else fcol.valid
                # InfluxDB drops the points that carry the conflicting field, and writes the rest
                keep = np.flatnonzero(~has)
                result.rows_dropped += len(batch) - len(keep)
                _take_batch(batch, keep)
        if new_cols:
            with self._meta_lock:
                self.catalog.add_columns(meta.id, new_cols)
                meta = self._refresh_table(meta)
            # a concurrent writer may have added the same name with another type first
            for name, fcol in batch.fields.items():
                col = meta.column(name)
                if col is not None and col.type is not fcol.type:
                    raise FieldTypeConflict(batch.table, name, _type_name(col.type), fcol.type.influx_name)
        batch.fields = {meta.storage_name(n): c for n, c in batch.fields.items()}
        return meta

    # -- writing ---------------------------------------------------------------------------------------
    def write(
        self,
        database: str,
        batch: WriteBatch,
        *,
        rp: str | None = None,
        sync: bool = True,
        table_id: int | None = None,
    ) -> WriteResult:
        """Write a batch; returns once the WAL policy is met (``sync=False``: before fsync).

        ``table_id``: the table the caller resolved the batch's name to (SQL): when the name no
        longer names it (renamed or dropped meanwhile) raises TableNotFound rather than making a
        new table of that name, as a line-protocol write does."""
        self._check_open()
        db = self.catalog.database(database)
        rpm = self.catalog.retention_policy(database, rp)
        result = WriteResult()
        if len(batch) == 0:
            return result
        keyed = False  # the batch's fields are keyed by their stored names (a second round)
        while True:
            renames = self._renames
            meta = self._check_schema(db, rpm.name, batch, result, stored_names=keyed, table_id=table_id)
            keyed = True
            if len(batch) == 0:
                return result
            ids = self._resolve(db, batch, result)
            if len(batch) == 0:
                return result
            keep = self._retention_mask(rpm, batch.time)
            if keep is not None:
                dropped = int((~keep).sum())
                result.rows_dropped += dropped
                result.errors.append(PointsBeyondRetention(dropped))
                rows_idx = np.flatnonzero(keep)
                _take_batch(batch, rows_idx)
                ids = ids[rows_idx]
                if len(batch) == 0:
                    return result
            payload = _write_record(db.name, rpm.name, batch)
            rows = Rows(ids, batch.time, dict(batch.fields))
            self._hold_back()
            with self._write_lock:
                # A rename since the schema check: the table and tag keys are read again against
                # the renamed schema, as for a write made after it (its WAL record must replay
                # alike; a write to a renamed table's old name makes a new table).
                if renames != self._renames:
                    continue
                seq = self.wal.append(payload, sync=False)
                self._apply(db, rpm, meta, rows)
                self._unflushed += rows.nbytes
            break
        self._last_write = _time.monotonic()
        if self._unflushed >= self.options.cache_snapshot_bytes:
            self._wake.set()
        if sync:
            self.wal.sync_to(seq)
        result.rows_written += len(rows)
        result.values_written += batch.value_count
        result.wal_seq = seq
        return result

    def _resolve(self, db: DatabaseMeta, batch: WriteBatch, result: WriteResult) -> np.ndarray:
        idx = self.index(db.id)
        try:
            per_set = idx.resolve(batch.table, batch.tag_sets)
        except SeriesLimitExceeded:
            per_set = np.asarray(idx.lookup_many(batch.table, batch.tag_sets), dtype=np.int64)
            row_ids = per_set[batch.series]
            keep = np.flatnonzero(row_ids != 0)
            dropped_series = int((per_set == 0).sum())
            result.errors.append(SeriesLimitExceeded(db.name, self.options.series_limit, dropped_series))
            result.rows_dropped += len(batch) - len(keep)
            _take_batch(batch, keep)
            return row_ids[keep]
        return np.asarray(per_set, dtype=np.int64)[batch.series]

    def _retention_mask(self, rpm: RetentionPolicyMeta, time: np.ndarray) -> np.ndarray | None:
        if not rpm.duration_ns:
            return None
        cutoff = _time.time_ns() - rpm.duration_ns
        keep = time >= cutoff
        return None if keep.all() else keep

    def _apply(self, db: DatabaseMeta, rpm: RetentionPolicyMeta, meta: TableMeta, rows: Rows) -> None:
        """Append rows to the memtables of their shards (caller holds the write lock).

        A row goes to the shard of its retention policy that covers its time; only times no shard
        covers get a new one, of the policy's shard duration (aligned to it), cut to the gap between
        the shards around it. So a shard duration changed (ALTER RETENTION POLICY ... SHARD DURATION,
        create_hypertable's chunk interval) applies to new shards only, and shards never overlap: a
        point written again after the change replaces the first one instead of standing beside it in
        a second shard."""
        starts, ends, shards = self._rp_shards(db.id, rpm.name)
        time = rows.time
        lo, hi = int(time.min()), int(time.max())
        i = int(np.searchsorted(starts, lo, "right")) - 1
        if i >= 0 and hi < ends[i]:  # (the usual write: one shard holds every row)
            self._append(shards[i], meta, rows)
            return
        idx = np.searchsorted(starts, time, "right") - 1
        covered = (idx >= 0) & (time < ends[np.maximum(idx, 0)]) if len(starts) else np.zeros(len(time), bool)
        if not covered.all():
            dur = rpm.shard_duration_ns
            for window in np.unique((time[~covered] // dur) * dur).tolist():
                self._fill_window(db.id, rpm.name, window, window + dur, starts, ends)
            starts, ends, shards = self._rp_shards(db.id, rpm.name)
            idx = np.searchsorted(starts, time, "right") - 1
        for k in np.unique(idx).tolist():
            sel = np.flatnonzero(idx == k)
            self._append(shards[k], meta, rows if len(sel) == len(time) else rows.take(sel))

    @staticmethod
    def _append(shard: Shard, meta: TableMeta, rows: Rows) -> None:
        shard.cache.table(meta.name, meta.dedupe).append(rows)
        shard.last_write = _time.monotonic()

    def _rp_shards(self, database_id: int, rp: str) -> tuple[np.ndarray, np.ndarray, list[Shard]]:
        """The open shards of one retention policy by start: (starts, ends, shards); kept until a shard
        is created or dropped."""
        key = (database_id, rp)
        got = self._rp_spans.get(key)
        if got is not None and got[0] == self._shard_changes:
            return got[1]
        mine = sorted(
            (s for s in self._shards.values() if s.meta.database_id == database_id and s.meta.rp == rp),
            key=lambda s: s.meta.start_ns,
        )
        spans = (
            np.array([s.meta.start_ns for s in mine], np.int64),
            np.array([s.meta.end_ns for s in mine], np.int64),
            mine,
        )
        self._rp_spans[key] = (self._shard_changes, spans)
        return spans

    def _fill_window(
        self, database_id: int, rp: str, lo: int, hi: int, starts: np.ndarray, ends: np.ndarray
    ) -> None:
        """New shards for the parts of [lo, hi) that no shard of the policy covers (one per gap)."""
        at = lo
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):  # (a policy holds few shards)
            if e <= at or s >= hi:
                continue
            if s > at:
                self._new_shard(database_id, rp, at, s)
            at = max(at, e)
            if at >= hi:
                return
        if at < hi:
            self._new_shard(database_id, rp, at, hi)

    def _new_shard(self, database_id: int, rp: str, start: int, end: int) -> Shard:
        with self._meta_lock:
            meta = self.catalog.create_shard(database_id, rp, start, end)
            shard = self._shards.get(meta.id)
            if shard is None:
                shard = Shard(meta, self.data_dir / "shards" / str(meta.id))
                shard.dir.mkdir(parents=True, exist_ok=True)
                self._shards[meta.id] = shard
                self._shard_changes += 1
            return shard

    # -- deleting --------------------------------------------------------------------------------------
    def delete(
        self,
        database: str,
        table: str | None,
        *,
        tmin: int = INT64_MIN,
        tmax: int = INT64_MAX,
        predicate: TagPredicate | None = None,
        rp: str | None = None,
        series: np.ndarray | None = None,
    ) -> int:
        """Delete points by time range and tag predicate (all tables when ``table`` is None).
        ``series``: only these series ids of those the predicate selects (a transaction's undo
        names the series it wrote by id: sql/transaction.py).

        Memtables are filtered at once; chunk files get a tombstone that every read honours and
        compaction applies. Returns the number of series touched.
        """
        self._check_open()
        db = self.catalog.database(database)
        rps = (
            [self.catalog.retention_policy(database, rp)] if rp else self.catalog.retention_policies(database)
        )
        touched = 0
        with self._flush_lock, self._write_lock:
            for rpm in rps:
                metas = (
                    [self.table(db.id, rpm.name, table)] if table else self.catalog.tables(db.id, rpm.name)
                )
                for meta in metas:
                    if meta is None:
                        continue
                    ids = bitmap_ids(self.index(db.id).select(meta.name, predicate))
                    if series is not None:
                        ids = np.intersect1d(ids, series)
                    if not len(ids):
                        continue
                    touched += len(ids)
                    rec = {"db": db.name, "rp": rpm.name, "table": meta.name, "tmin": tmin, "tmax": tmax}
                    self.wal.append(_delete_record(rec, ids), sync=False)
                    self._delete_locked(db.id, rpm.name, meta, ids, tmin, tmax, persist=True)
            self.wal.sync_to(self.wal.last_seq)
        return touched

    def _delete_locked(
        self,
        database_id: int,
        rp: str,
        meta: TableMeta,
        ids: np.ndarray,
        tmin: int,
        tmax: int,
        *,
        persist: bool,
    ) -> None:
        for shard in list(self._shards.values()):
            m = shard.meta
            if m.database_id != database_id or m.rp != rp or m.end_ns <= tmin or m.start_ns > tmax:
                continue
            for cache in (shard.cache, shard.frozen):
                if cache is not None and meta.name in cache.tables:
                    cache.tables[meta.name].delete(ids, tmin, tmax)
            if not persist:
                continue
            files = [
                f.meta.id
                for f in shard.table_files(meta.id)
                if f.meta.max_time >= tmin and f.meta.min_time <= tmax
            ]
            if files:
                ser = BitMap(ids.tolist()).serialize()
                tm = self.catalog.add_tombstone(m.id, meta.id, tmin, tmax, ser, files)
                with shard.lock:
                    shard.tombstones.append(Tombstone(tm, np.sort(ids)))

    def _table_of(
        self, database: str, table: str, rp: str | None
    ) -> tuple[DatabaseMeta, RetentionPolicyMeta, TableMeta]:
        db = self.catalog.database(database)
        rpm = self.catalog.retention_policy(database, rp)
        meta = self.table(db.id, rpm.name, table)
        if meta is None:
            raise TableNotFound(table)
        return db, rpm, meta

    def _clear_table(self, shard: Shard, meta: TableMeta, *, unlist: bool) -> None:
        """Remove every row of ``meta`` from ``shard``: its memtables and its chunk files (``unlist``:
        also from the catalog's file list, which DROP TABLE clears with the table). The caller holds
        the flush and write locks, and has logged what WAL replay must repeat."""
        for cache in (shard.cache, shard.frozen):
            if cache is not None:
                cache.tables.pop(meta.name, None)
        files = {f.meta.id for f in shard.table_files(meta.id)}
        if files and unlist:
            self.catalog.replace_files([], sorted(files))
        for lf in shard.replace_files(meta.id, files, []):
            _unlink(shard.dir / lf.meta.name)

    def drop_table(self, database: str, table: str, *, rp: str | None = None) -> None:
        """DROP MEASUREMENT / DROP TABLE: data, schema and series."""
        db, rpm, meta = self._table_of(database, table, rp)
        with self._flush_lock, self._write_lock:
            # (a drop record: WAL replay skips the writes to the table before it, which would make
            # it anew; a delete of every row would leave it there, empty)
            rec = {
                "db": db.name,
                "rp": rpm.name,
                "table": table,
                "tmin": INT64_MIN,
                "tmax": INT64_MAX,
                "drop": True,
            }
            ids = bitmap_ids(self.index(db.id).select(table, None))
            self.wal.append(_delete_record(rec, ids), sync=False)
            for shard in self._shards.values():
                if shard.meta.database_id == db.id and shard.meta.rp == rpm.name:
                    self._clear_table(shard, meta, unlist=False)
            self.catalog.drop_table(meta.id)
            self._tables.pop((db.id, rpm.name, table), None)
            if not any(t.name == table for t in self.catalog.tables(db.id)):
                self.index(db.id).drop_table(table)
            self.wal.sync_to(self.wal.last_seq)

    def drop_chunk(self, database: str, table: str, shard_id: int, *, rp: str | None = None) -> bool:
        """TimescaleDB's drop_chunks for one chunk: every row of ``table`` in shard ``shard_id``, its
        memtable rows and its chunk files alike, goes at once (no tombstone is left to compact away,
        so the chunk is no longer listed); other tables' rows in the shard stay. Whether the table
        held rows there."""
        db, rpm, meta = self._table_of(database, table, rp)
        with self._flush_lock, self._write_lock:
            shard = self._shards.get(shard_id)
            if shard is None or shard.meta.database_id != db.id or shard.meta.rp != rpm.name:
                return False
            held = shard.table_stats(meta.id, meta.name).holds
            # (a delete record: WAL replay drops the table's writes to the shard made before it)
            rec = {"db": db.name, "rp": rpm.name, "table": table, "tmin": shard.meta.start_ns,
                   "tmax": shard.meta.end_ns - 1}  # fmt: skip
            self.wal.append(
                _delete_record(rec, bitmap_ids(self.index(db.id).select(table, None))), sync=False
            )
            self._clear_table(shard, meta, unlist=True)
            self.wal.sync_to(self.wal.last_seq)
            return held

    def drop_shard(self, shard_id: int) -> None:
        """Drop a whole shard (retention enforcement, DROP SHARD)."""
        with self._flush_lock, self._write_lock:
            shard = self._shards.get(shard_id)
            if shard is not None:
                self._drop_shard_locked(shard)

    def _drop_shard_locked(self, shard: Shard) -> None:
        self._shards.pop(shard.meta.id, None)
        self._shard_changes += 1
        self.catalog.drop_shard(shard.meta.id)
        shard.close()
        _rmtree(shard.dir)

    def shards(self, database: str | None = None, rp: str | None = None) -> list[Shard]:
        """Open shards by (database id, retention policy, start); every query asks, so the sorted list
        is kept until a shard is created or dropped."""
        changes = self._shard_changes
        at, out = self._shard_order
        if at != changes:
            out = sorted(
                list(self._shards.values()), key=lambda s: (s.meta.database_id, s.meta.rp, s.meta.start_ns)
            )
            self._shard_order = (changes, out)
        if database is not None:
            db = self.catalog.database(database)
            out = [s for s in out if s.meta.database_id == db.id]
        if rp is not None:
            out = [s for s in out if s.meta.rp == rp]
        return list(out)

    # -- snapshots ----------------------------------------------------------------------------------------
    @property
    def cache_bytes(self) -> int:
        return sum(s.cache_bytes for s in self._shards.values())

    def flush(self) -> int:
        """Write every memtable to chunk files and drop the WAL segments they came from.

        Returns the number of files written.
        """
        with self._flush_lock:
            with self._write_lock:
                last_seq = self.wal.last_seq
                self.wal.rotate()
                frozen = [(s, s.freeze()) for s in list(self._shards.values())]
                self._unflushed = 0
            written = 0
            for shard, cache in frozen:
                if cache is not None:
                    written += self._write_cache(shard, cache)
            self.wal.remove_through(last_seq)
            self._forget_renames(last_seq)
        _release_memory()
        with self._flushed:
            self._flushed.notify_all()
        return written

    def _write_cache(self, shard: Shard, cache: ShardCache) -> int:
        written = []
        for name, tc in cache.tables.items():
            rows = tc.merged()
            if not len(rows):
                continue
            meta = self.table(shard.meta.database_id, shard.meta.rp, name)
            if meta is None:  # dropped while frozen
                continue
            written.append((meta, self._write_file(shard, meta, rows, level=0)))
        if written:
            self.index(shard.meta.database_id).sync()  # ids in the files must be durable first
            self.catalog.replace_files([fm for _, (fm, _) in written], [])
            for _meta, (fm, chunk) in written:
                shard.add_file(LoadedFile(fm, chunk))
        shard.release_frozen()
        return len(written)

    def _write_file(
        self, shard: Shard, meta: TableMeta, rows: Rows, *, level: int, file_id: int | None = None
    ) -> tuple[FileMeta, ChunkFile]:
        """Write a chunk file (not yet listed in the manifest)."""
        fid, name = self._file_name(meta, level, file_id)
        wf = write_chunk_file(shard.dir / name, meta.name, rows, level=level)
        fm = FileMeta(fid, shard.meta.id, meta.id, level, name, wf.rows, wf.bytes, wf.min_time, wf.max_time)
        return fm, ChunkFile(wf.path)

    def _write_pieces(
        self,
        shard: Shard,
        meta: TableMeta,
        columns: list[tuple[str, FieldType]],
        pieces: Iterable[Rows],
        *,
        level: int,
        file_id: int | None = None,
    ) -> tuple[FileMeta, ChunkFile] | None:
        """Write a chunk file from pieces in (series, time) order, one at a time (not yet listed in the
        manifest); None when the pieces hold no row."""
        fid, name = self._file_name(meta, level, file_id)
        with ChunkWriter(shard.dir / name, meta.name, columns, level=level) as w:
            for rows in pieces:
                w.add(rows)
            if not w.rows:
                return None
            wf = w.finish()
        fm = FileMeta(fid, shard.meta.id, meta.id, level, name, wf.rows, wf.bytes, wf.min_time, wf.max_time)
        return fm, ChunkFile(wf.path)

    def _file_name(self, meta: TableMeta, level: int, file_id: int | None) -> tuple[int, str]:
        fid = file_id if file_id is not None else self.catalog.next_file_id()
        return fid, f"t{meta.id}-{fid:010d}-L{level}-{self.catalog.next_file_id():010d}.tsc"

    # -- start-up ------------------------------------------------------------------------------------------
    def _load_shards(self) -> None:
        files_by_shard: dict[int, list[FileMeta]] = {}
        for fm in self.catalog.files():
            files_by_shard.setdefault(fm.shard_id, []).append(fm)
        tombs: dict[int, list] = {}
        for tm in self.catalog.tombstones():
            tombs.setdefault(tm.shard_id, []).append(tm)
        for meta in self.catalog.shards():
            shard = Shard(meta, self.data_dir / "shards" / str(meta.id))
            shard.dir.mkdir(parents=True, exist_ok=True)
            listed = set()
            for fm in files_by_shard.get(meta.id, []):
                listed.add(fm.name)
                shard.add_file(LoadedFile(fm, ChunkFile(shard.dir / fm.name)))
            shard.tombstones = [Tombstone.of(t) for t in tombs.get(meta.id, [])]
            for p in shard.dir.iterdir():
                if p.name not in listed:
                    log.warning(
                        "removing %s: not in the manifest (left by an interrupted flush or compaction)", p
                    )
                    _unlink(p)
            self._shards[meta.id] = shard
        self._shard_changes += 1

    def _replay(self) -> None:
        renames = self._recover_renames()
        drops = self._wal_drops()
        n = 0
        for _seq, payload in self.wal.replay():
            kind = payload[:1]
            try:
                if kind == _REC_WRITE:
                    dbname, rpname, batch = _read_write_record(payload)
                    if not _dropped_later(drops, dbname, rpname, batch.table, _seq):
                        self._replay_write(dbname, rpname, batch, _seq, renames, drops)
                elif kind == _REC_DELETE:
                    rec, ids = _read_delete_record(payload)
                    if rec.get("drop") or _dropped_later(drops, rec["db"], rec["rp"], rec["table"], _seq):
                        n += 1
                        continue  # (the catalog dropped the table when the record was written)
                    db = self.catalog.database(rec["db"])
                    rec["table"], _ = _renamed(renames.get(db.id, ()), _seq, rec["table"])
                    meta = self.table(db.id, rec["rp"], rec["table"])
                    if meta is not None:
                        self._delete_locked(
                            db.id, rec["rp"], meta, ids, rec["tmin"], rec["tmax"], persist=False
                        )
                else:
                    log.error("WAL record %d has unknown type %r; skipped", _seq, kind)
                n += 1
            except (DatabaseNotFound, StorageError) as exc:
                log.warning("WAL record %d not replayed: %s", _seq, exc)
        for line in self.wal.replay_report:
            log.warning("WAL: %s", line)
        if n:
            log.info("replayed %d WAL records", n)
        if renames:
            self.catalog.clamp_renames(self.wal.last_seq)

    def _wal_drops(self) -> dict[tuple[str, str, str], int]:
        """(database, rp, table) -> the WAL sequence number of the last DROP of it in the WAL: the
        writes before it are of a table that is gone (a table of that name made after is another).
        A pass over the WAL of its own, before replay, reading only the delete records."""
        drops: dict[tuple[str, str, str], int] = {}
        for seq, payload in self.wal.replay(report=False):
            if payload[:1] == _REC_DELETE:
                rec, _ = _read_delete_record(payload)
                if rec.get("drop"):
                    drops[(rec["db"], rec["rp"], rec["table"])] = seq
        return drops

    def _replay_write(
        self,
        dbname: str,
        rpname: str,
        batch: WriteBatch,
        seq: int,
        renames: dict[int, list[Rename]],
        drops: dict[tuple[str, str, str], int] | None = None,
    ) -> None:
        db = self.catalog.database(dbname)
        rpm = self.catalog.retention_policy(dbname, rpname)
        batch.table, steps = _renamed(renames.get(db.id, ()), seq, batch.table)
        if drops and _dropped_later(drops, dbname, rpname, batch.table, seq):
            return
        for old, new in steps:
            batch.tag_sets = [
                tuple(sorted((new if k == old else k, v) for k, v in ts)) for ts in batch.tag_sets
            ]
        result = WriteResult()
        meta = self._check_schema(db, rpm.name, batch, result, stored_names=True)
        if not len(batch):
            return
        ids = self._resolve(db, batch, result)
        if len(batch):
            self._apply(db, rpm, meta, Rows(ids, batch.time, dict(batch.fields)))

    # -- background work ------------------------------------------------------------------------------------
    HOLD_BACK_FACTOR = 4  # writers wait while memtables hold this many snapshot sizes unflushed

    def _hold_back(self) -> None:
        """Bound memory: when snapshots lag far behind the writers, writers wait for one."""
        limit = self.HOLD_BACK_FACTOR * self.options.cache_snapshot_bytes
        if self._bg is None or self._unflushed < limit:
            return
        with self._flushed:
            while self._unflushed >= limit and not self._closed:
                self._wake.set()
                self._flushed.wait(timeout=1.0)

    def _background(self) -> None:
        """Snapshots (woken by writers at the size threshold) and compaction, until close."""
        from columnar.compaction import compact_due

        due = _time.monotonic() + self.options.compaction_interval_s
        while not self._stop.is_set():
            woken = self._wake.wait(min(SETTLE_QUIET_S, max(due - _time.monotonic(), 0.0)))
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                if woken or _time.monotonic() >= due:
                    due = _time.monotonic() + self.options.compaction_interval_s
                    self.maybe_flush()
                    compact_due(self)
                self._settle_quiet_memtables()
            except Exception:  # keep the server alive; the next round tries again
                log.exception("background storage work failed")

    def _settle_quiet_memtables(self) -> None:
        """Once writes have paused for SETTLE_QUIET_S, sort what they appended to the memtables:
        else the first read after a bulk load pays for it (~35 ms for 164k rows) instead of this
        thread, while nobody writes."""
        last = self._last_write
        if last == self._settled_write or _time.monotonic() - last < SETTLE_QUIET_S:
            return  # (nothing written since the last sort, or writes still going on)
        for shard in list(self._shards.values()):
            for table in list(shard.cache.tables.values()):
                if table.unsettled:
                    table.settle()
        self._settled_write = last  # (a write meanwhile is newer: the next tick sorts its rows)

    def maybe_flush(self) -> bool:
        """Snapshot when the memtables exceed the size threshold or the oldest is too old."""
        now = _time.monotonic()
        big = self.cache_bytes >= self.options.cache_snapshot_bytes
        old = any(
            len(s.cache) and now - s.cache.created >= self.options.cache_snapshot_age_s
            for s in self._shards.values()
        )
        if big or old:
            self.flush()
            return True
        return False

    def compact(self, *, full: bool = False) -> int:
        """Run due compactions now (``full``: merge every table of every shard into one file)."""
        from columnar.compaction import compact_due

        return compact_due(self, full=full)

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("storage engine is closed")

    def close(self) -> None:
        """Stop background work, sync the WAL, close files. Memtables stay in the WAL for replay."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        self._wake.set()
        if self._bg is not None:
            self._bg.join()
        with self._flush_lock, self._write_lock:
            self.wal.close()
            for idx in self._indexes.values():
                idx.close()
            for shard in self._shards.values():
                shard.close()
            self.catalog.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- WAL records ----------------------------------------------------------------------------------------------
def _write_record(db: str, rp: str, batch: WriteBatch) -> bytes:
    d, r = db.encode(), rp.encode()
    return _REC_WRITE + struct.pack("<HH", len(d), len(r)) + d + r + batch.to_bytes()


def _read_write_record(payload: bytes) -> tuple[str, str, WriteBatch]:
    dl, rl = struct.unpack_from("<HH", payload, 1)
    db = payload[5 : 5 + dl].decode()
    rp = payload[5 + dl : 5 + dl + rl].decode()
    return db, rp, WriteBatch.from_bytes(memoryview(payload)[5 + dl + rl :])


def _delete_record(rec: dict, ids: np.ndarray) -> bytes:
    j = json.dumps(rec).encode()
    return _REC_DELETE + struct.pack("<I", len(j)) + j + BitMap(ids.tolist()).serialize()


def _read_delete_record(payload: bytes) -> tuple[dict, np.ndarray]:
    (jl,) = struct.unpack_from("<I", payload, 1)
    rec = json.loads(payload[5 : 5 + jl])
    ids = bitmap_ids(BitMap.deserialize(payload[5 + jl :]))
    return rec, ids


def _renamed(renames: Iterable[Rename], seq: int, table: str) -> tuple[str, list[tuple[str, str]]]:
    """What WAL record ``seq`` of ``table`` is after the renames recorded after it (in order): the
    table's name, and the tag key renames to apply to its tag sets in turn."""
    steps: list[tuple[str, str]] = []
    for r in renames:
        if seq <= r.wal_seq and r.table == table:  # written before the rename: under the old names
            steps += r.steps
            if r.to is not None:
                table = r.to
    return table, steps


def _dropped_later(drops: dict[tuple[str, str, str], int], db: str, rp: str, table: str, seq: int) -> bool:
    """Whether WAL record ``seq`` of ``table`` was written before a DROP of it later in the WAL."""
    dropped = drops.get((db, rp, table))
    return dropped is not None and seq < dropped


def _take_batch(batch: WriteBatch, idx: np.ndarray) -> None:
    """Keep only rows ``idx`` of a batch, in place."""
    batch.time = batch.time[idx]
    batch.series = batch.series[idx]
    batch.fields = {n: c.take(idx) for n, c in batch.fields.items()}


def _type_name(t: FieldType | None) -> str:
    return t.influx_name if t is not None else "tag"


def _release_memory() -> None:
    """Give the memory of flushed memtables back to the OS (glibc keeps freed arenas otherwise)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
