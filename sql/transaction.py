"""A transaction block's undo log: ROLLBACK, ROLLBACK TO SAVEPOINT and a failed block's end undo the
block's data writes (INSERT, COPY FROM, UPDATE, DELETE).

Writes reach storage when their statement runs, as outside a block (other sessions see them at once,
and a crash keeps them: docs/sql.md). Before each write the session notes what undoes it, per
table, in an :class:`Entry`:

    span      [tmin, tmax] (ns) and the series the write touches (their tag sets for a write, the ids
              a delete selected)
    prior     the rows those series held in that span just before (a storage scan), or None

Undoing an entry deletes its series over its span and writes ``prior`` back (sql/dml.py
``replace_span``, the step DELETE's rewriting takes too); entries are undone newest first, so each
finds its span as its write left it.

Cost: a write of new series, or one past the newest time its table's data may hold (file extents
and memtable bounds: no decoding, no sorting of the memtable), captures nothing: its entry holds its
span and tag sets, not its rows, so a bulk COPY inside a block costs a few index lookups per batch;
consecutive such appends to a table share one entry (:meth:`Transaction._extend`). A write over stored
times (an overwrite, an upsert, a backfill) and every DELETE or UPDATE read the rows they replace;
those rows are held until the block ends, at most :data:`MAX_UNDO_ROWS` per block (54000 at the
statement that would pass it). Statements outside a block (``session.txn`` is None) do none of this.

    SAVEPOINT s      -> a mark at len(entries)
    ROLLBACK TO s    -> entries past the mark undone, later savepoints gone, s kept
    RELEASE s        -> s and later savepoints gone, their entries kept (the block's)
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from columnar.batch import WriteBatch
from columnar.catalog import TableMeta
from columnar.predicate import TagPredicate
from columnar.rows import Column
from columnar.scan import ScanRequest, may_hold, scan
from columnar.types import FieldType
from sql import errors as E
from sql.tables import series_of

if TYPE_CHECKING:
    from sql.engine import SqlSession

log = logging.getLogger("tsgres.sql")

MAX_UNDO_ROWS = 1_000_000  # rows of prior data a block may hold for its undo


@dataclass
class Entry:
    table_id: int
    table: str
    rp: str | None
    tmin: int
    tmax: int
    tag_sets: set | None  # the series a write touched (their ids may be new: looked up when undone)
    ids: np.ndarray | None  # the series a delete selected
    prior: pa.Table | None  # their rows in [tmin, tmax] before (a storage scan's columns)
    clear: bool = False  # the table held no row in [tmin, tmax] before (an append: it may grow)


@dataclass
class Transaction:
    """The undo log of one transaction block (``SqlSession.txn`` while a block is open)."""

    entries: list[Entry] = field(default_factory=list)
    savepoints: list[tuple[str, int]] = field(default_factory=list)  # (name, len(entries) then)
    held: int = 0  # rows held in the entries' ``prior``
    # the newest WAL record of the block's writes, which were not waited on: COMMIT waits for it to be
    # durable (as PostgreSQL's commit waits for its WAL flush, not each statement)
    wal_seq: int = 0

    def wrote(self, wal_seq: int) -> None:
        self.wal_seq = max(self.wal_seq, wal_seq)

    def savepoint(self, name: str) -> None:
        self.savepoints.append((name, len(self.entries)))

    def _find(self, name: str) -> int:
        for i in range(len(self.savepoints) - 1, -1, -1):
            if self.savepoints[i][0] == name:
                return i
        raise E.InvalidSavepointSpecification(f'savepoint "{name}" does not exist')

    def release(self, name: str) -> None:
        del self.savepoints[self._find(name) :]

    def rollback_to(self, session: SqlSession, name: str) -> None:
        i = self._find(name)
        mark = self.savepoints[i][1]
        del self.savepoints[i + 1 :]
        self.undo(session, mark)

    def undo(self, session: SqlSession, mark: int = 0) -> None:
        """Undo the entries from ``mark`` on, newest first. Every one is tried; the first failure is
        raised after (and logged with the others)."""
        failed: Exception | None = None
        while len(self.entries) > mark:
            entry = self.entries.pop()
            if entry.prior is not None:
                self.held -= entry.prior.num_rows
            try:
                _undo(session, entry)
            except Exception as exc:  # noqa: BLE001 - the rest are still undone
                log.exception("undoing a write to %s failed", entry.table)
                failed = failed or exc
        if failed is not None:
            raise E.InternalError(f"the transaction's writes could not all be undone: {failed}") from failed

    def _extend(
        self, session: SqlSession, meta: TableMeta, rp: str | None, tmin: int, tmax: int, tag_sets
    ) -> bool:
        """Widen the newest entry to cover another append to its table instead of adding one, when
        that is the same undo: both found their spans empty, no savepoint lies between them, and the
        table holds nothing between the two spans either. (A block of a million one-row INSERTs of
        new times holds one entry.)"""
        last = self.entries[-1] if self.entries else None
        if (
            last is None
            or not last.clear
            or last.table_id != meta.id
            or last.rp != rp
            or (self.savepoints and self.savepoints[-1][1] == len(self.entries))
            or (tmin <= last.tmax and tmax >= last.tmin)
        ):
            return False
        lo, hi = (last.tmax + 1, tmin - 1) if tmin > last.tmax else (tmax + 1, last.tmin - 1)
        gap = ScanRequest(session.database, meta.name, rp=rp, tmin=lo, tmax=hi)
        if lo <= hi and may_hold(session.storage, gap):
            return False
        last.tmin, last.tmax = min(last.tmin, tmin), max(last.tmax, tmax)
        assert last.tag_sets is not None
        last.tag_sets.update(tag_sets)
        return True

    def forget_table(self, table_id: int) -> None:
        """TRUNCATE (immediate, as DDL is): the table's earlier writes are not undone."""
        kept = [e for e in self.entries if e.table_id != table_id]
        if len(kept) == len(self.entries):
            return
        for e in self.entries:
            if e.table_id == table_id and e.prior is not None:
                self.held -= e.prior.num_rows
        marks = {}
        n = 0
        for i, e in enumerate(self.entries):
            marks[i] = n
            n += e.table_id != table_id
        marks[len(self.entries)] = n
        self.savepoints = [(s, marks[m]) for s, m in self.savepoints]
        self.entries = kept


def before_write(session: SqlSession, rp: str | None, meta: TableMeta, batch: WriteBatch) -> None:
    """Note what undoes ``batch`` (about to be written to ``meta``): its series' span and, when they
    may hold rows in it already, those rows."""
    txn = session.txn
    if txn is None or not len(batch):
        return
    tmin, tmax = int(batch.time.min()), int(batch.time.max())
    used = np.unique(batch.series)
    tag_sets = [batch.tag_sets[i] for i in used.tolist()]
    storage = session.storage
    # (table-wide: file extents and memtable bounds, no decoding; false for an append past every
    # stored time, the common case)
    req = ScanRequest(session.database, meta.name, rp=rp, tmin=tmin, tmax=tmax)
    clear = not may_hold(storage, req)
    if clear and txn._extend(session, meta, rp, tmin, tmax, tag_sets):
        return
    prior = None
    if not clear:
        idx = storage.index(storage.catalog.database(session.database).id)
        ids = idx.lookup_many(meta.name, tag_sets)
        ids = ids[ids > 0]
        if len(ids):  # (series new to the table hold nothing)
            prior = _capture(session, txn, dataclasses.replace(req, series=tuple(ids.tolist())))
    txn.entries.append(Entry(meta.id, meta.name, rp, tmin, tmax, set(tag_sets), None, prior, clear))


def before_delete(
    session: SqlSession, rp: str | None, meta: TableMeta, tmin: int, tmax: int, predicate: TagPredicate | None
) -> None:
    """Note what undoes the storage's delete of ``predicate``'s series over [tmin, tmax]: the rows
    it is about to delete."""
    txn = session.txn
    if txn is None:
        return
    storage = session.storage
    idx = storage.index(storage.catalog.database(session.database).id)
    ids = np.array(idx.select_ids(meta.name, predicate), dtype=np.int64)
    if not len(ids):
        return
    req = ScanRequest(session.database, meta.name, rp=rp, tmin=tmin, tmax=tmax, series=tuple(ids.tolist()))
    prior = _capture(session, txn, req)
    txn.entries.append(Entry(meta.id, meta.name, rp, tmin, tmax, None, ids, prior))


def _capture(session: SqlSession, txn: Transaction, req: ScanRequest) -> pa.Table | None:
    """The rows ``req`` reads (None: none), counted against the block's :data:`MAX_UNDO_ROWS`."""
    batches = []
    n = 0
    for b in scan(session.storage, req):
        n += b.num_rows
        if txn.held + n > MAX_UNDO_ROWS:
            raise E.ProgramLimitExceeded(
                f"this transaction block would hold more than {MAX_UNDO_ROWS} rows to undo",
                hint="Commit the block before this statement, or run it outside a transaction block.",
            )
        if b.num_rows:
            batches.append(b)
    if not n:
        return None
    txn.held += n
    return pa.Table.from_batches(batches)


def _undo(session: SqlSession, e: Entry) -> None:
    from sql.dml import replace_span

    storage = session.storage
    db = storage.catalog.database(session.database)
    rpm = storage.catalog.retention_policy(session.database, e.rp)
    meta = storage.table(db.id, rpm.name, e.table)
    if meta is None or meta.id != e.table_id:
        return  # dropped or renamed since (DDL is not undone): its writes went with it
    if e.ids is not None:
        ids = e.ids
    else:
        ids = storage.index(db.id).lookup_many(e.table, list(e.tag_sets or ()))
        ids = ids[ids > 0]
    rows = _to_batch(meta, e.prior) if e.prior is not None else None
    replace_span(session, e.rp, meta, e.tmin, e.tmax, rows, series=ids)


def _to_batch(meta: TableMeta, t: pa.Table) -> WriteBatch:
    """A storage scan's rows (time, tags, fields) as the write batch that stores them again."""
    n = t.num_rows
    time = t.column(meta.time_column).cast(pa.int64()).to_numpy()
    series, tag_sets = series_of(t, [k for k in meta.tags if k in t.column_names])
    fields = {}
    for name, ft in meta.fields.items():
        if name not in t.column_names:
            continue
        arr = t.column(name).combine_chunks()
        valid = (
            None if not arr.null_count else np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), bool)
        )
        if ft is FieldType.STRING:
            values = np.empty(n, dtype=object)
            values[:] = arr.fill_null("").to_pylist()
        else:
            values = arr.fill_null(pa.scalar(False if ft is FieldType.BOOLEAN else 0, arr.type)).to_numpy(
                zero_copy_only=False
            )
        fields[name] = Column(ft, values, valid)
    return WriteBatch(meta.name, time, tag_sets, series.astype(np.int32), fields)
