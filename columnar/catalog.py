"""Catalog metadata in SQLite (stdlib) inside the data directory.

Holds databases, retention policies, tables and their columns, shards, the chunk files of each shard
(the manifest: a file on disk that is not listed here is a leftover of an interrupted flush or
compaction and is removed at start) and tombstones. Every change is one transaction, so the manifest
moves atomically from the old set of files to the new one.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from columnar.errors import DatabaseExists, DatabaseNotFound, RetentionPolicyNotFound, StorageError
from columnar.types import NS_PER_DAY, NS_PER_HOUR, FieldType

DEFAULT_RP = "autogen"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS databases (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, default_rp TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS retention_policies (
    database_id INTEGER NOT NULL, name TEXT NOT NULL, duration_ns INTEGER NOT NULL,
    shard_duration_ns INTEGER NOT NULL, replication INTEGER NOT NULL,
    PRIMARY KEY (database_id, name));
CREATE TABLE IF NOT EXISTS tables (
    id INTEGER PRIMARY KEY, database_id INTEGER NOT NULL, rp TEXT NOT NULL, name TEXT NOT NULL,
    time_column TEXT NOT NULL, options TEXT NOT NULL DEFAULT '{}', UNIQUE (database_id, rp, name));
CREATE TABLE IF NOT EXISTS columns (
    table_id INTEGER NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL, type INTEGER,
    pg_type TEXT, position INTEGER NOT NULL, storage TEXT, PRIMARY KEY (table_id, name));
CREATE TABLE IF NOT EXISTS dropped_columns (table_id INTEGER NOT NULL, storage TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS shards (
    id INTEGER PRIMARY KEY, database_id INTEGER NOT NULL, rp TEXT NOT NULL,
    start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL, UNIQUE (database_id, rp, start_ns));
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY, shard_id INTEGER NOT NULL, table_id INTEGER NOT NULL,
    level INTEGER NOT NULL, name TEXT NOT NULL, rows INTEGER NOT NULL, bytes INTEGER NOT NULL,
    min_time INTEGER NOT NULL, max_time INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tombstones (
    id INTEGER PRIMARY KEY, shard_id INTEGER NOT NULL, table_id INTEGER NOT NULL,
    min_ns INTEGER NOT NULL, max_ns INTEGER NOT NULL, series BLOB NOT NULL, file_ids TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS renames (
    id INTEGER PRIMARY KEY AUTOINCREMENT, database_id INTEGER NOT NULL, table_name TEXT NOT NULL,
    steps TEXT NOT NULL, wal_seq INTEGER NOT NULL, new_table TEXT);
CREATE TABLE IF NOT EXISTS comments (
    database_id INTEGER NOT NULL, kind TEXT NOT NULL, object TEXT NOT NULL, sub TEXT NOT NULL,
    description TEXT NOT NULL, PRIMARY KEY (database_id, kind, object, sub));
"""


def default_shard_duration(duration_ns: int) -> int:
    """InfluxDB's rule: < 2 days -> 1 hour; up to 6 months -> 1 day; longer or infinite -> 7 days."""
    if duration_ns == 0:
        return 7 * NS_PER_DAY
    if duration_ns < 2 * NS_PER_DAY:
        return NS_PER_HOUR
    if duration_ns <= 182 * NS_PER_DAY:
        return NS_PER_DAY
    return 7 * NS_PER_DAY


@dataclass(frozen=True)
class DatabaseMeta:
    id: int
    name: str
    default_rp: str


@dataclass(frozen=True)
class RetentionPolicyMeta:
    database_id: int
    name: str
    duration_ns: int  # 0 = infinite
    shard_duration_ns: int
    replication: int


@dataclass(frozen=True)
class ColumnMeta:
    name: str
    kind: str  # "time" | "tag" | "field"
    type: FieldType | None  # fields only
    pg_type: str | None  # the declared PostgreSQL type of SQL-created tables
    position: int
    storage: str = ""  # the name its data is stored under (differs after RENAME COLUMN)


@dataclass(frozen=True)
class TableMeta:
    id: int
    database_id: int
    rp: str
    name: str
    time_column: str
    columns: tuple[ColumnMeta, ...]
    options: dict

    def column(self, name: str) -> ColumnMeta | None:
        return self._by_name.get(name)

    @functools.cached_property
    def _by_name(self) -> dict[str, ColumnMeta]:  # (every query's scan resolves its columns by name)
        return {c.name: c for c in self.columns}

    @property
    def dedupe(self) -> bool:
        """Whether rows of one series and time collapse (last write wins); SQL tables without a key keep both."""
        return bool(self.options.get("dedupe", True))

    @functools.cached_property
    def tags(self) -> list[str]:
        """Tag columns in order (computed once per TableMeta; callers must not change the list)."""
        return [c.name for c in self.columns if c.kind == "tag"]

    @functools.cached_property
    def fields(self) -> dict[str, FieldType]:
        """Field columns and their types (computed once per TableMeta; callers must not change it)."""
        return {c.name: c.type for c in self.columns if c.kind == "field" and c.type is not None}

    def storage_name(self, name: str) -> str:
        col = self.column(name)
        return col.storage if col is not None and col.storage else name

    @functools.cached_property
    def storage_names(self) -> dict[str, str]:
        """Field name -> the name its data is stored under (computed once; callers must not change it)."""
        return {f: self.storage_name(f) for f in self.fields}

    def by_storage(self, storage: str) -> ColumnMeta | None:
        for c in self.columns:
            if (c.storage or c.name) == storage:
                return c
        return None


@dataclass(frozen=True)
class Rename:
    """A rename the series index applies too: of tag columns (recorded with the column's, see
    :meth:`Catalog.rename_column`), or of the table, the measurement (:meth:`Catalog.rename_table`).
    Applied in id order: the steps, then ``to``."""

    database_id: int
    table: str  # the table's name before the rename
    steps: tuple[tuple[str, str], ...]  # tag keys renamed in the series index, in order
    wal_seq: int  # the WAL records up to this seq were written before the rename
    id: int = 0  # given by the catalog: increasing, never reused
    to: str | None = None  # the table's new name (None: it keeps its name)


@dataclass(frozen=True)
class ShardMeta:
    id: int
    database_id: int
    rp: str
    start_ns: int
    end_ns: int


@dataclass(frozen=True)
class FileMeta:
    id: int
    shard_id: int
    table_id: int
    level: int
    name: str
    rows: int
    bytes: int
    min_time: int
    max_time: int


@dataclass(frozen=True)
class TombstoneMeta:
    id: int
    shard_id: int
    table_id: int
    min_ns: int
    max_ns: int
    series: bytes  # a serialised roaring bitmap of series ids
    file_ids: tuple[int, ...]  # the files it applies to (those that existed when it was made)


class Catalog:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._reads: dict[tuple, Any] = {}  # database / retention policy lookups (see _remember)
        self._generation = 0  # write transactions committed or rolled back
        # Bumped by every transaction that may change what a statement means (databases, retention
        # policies, tables, columns, views and other meta keys), whoever makes it (SQL DDL, a write
        # that adds a field, InfluxQL DROP ...): plans cached above the catalog are keyed by it.
        self.schema_version = 0
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        _migrate(self._db)
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _tx(self, *, schema: bool = False) -> _Tx:
        return _Tx(self, schema)

    def schema_changed(self) -> None:
        """Something outside the catalog's tables changed what statements mean: bump schema_version."""
        with self._lock:
            self.schema_version += 1

    def _q(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # -- databases ---------------------------------------------------------------------------------
    def create_database(self, name: str, *, if_not_exists: bool = True) -> DatabaseMeta:
        if not name:
            raise StorageError("database name is required")
        with self._tx(schema=True) as cur:
            row = cur.execute("SELECT id, name, default_rp FROM databases WHERE name=?", (name,)).fetchone()
            if row:
                if not if_not_exists:
                    raise DatabaseExists(name)
                return DatabaseMeta(*row)
            cur.execute("INSERT INTO databases (name, default_rp) VALUES (?, ?)", (name, DEFAULT_RP))
            db_id = _rowid(cur)
            cur.execute(
                "INSERT INTO retention_policies VALUES (?, ?, 0, ?, 1)",
                (db_id, DEFAULT_RP, default_shard_duration(0)),
            )
            return DatabaseMeta(db_id, name, DEFAULT_RP)

    def database(self, name: str) -> DatabaseMeta:
        hit = self._reads.get(("db", name))
        if hit is not None:
            return hit
        generation = self._generation
        rows = self._q("SELECT id, name, default_rp FROM databases WHERE name=?", (name,))
        if not rows:
            raise DatabaseNotFound(name)
        return self._remember(("db", name), DatabaseMeta(*rows[0]), generation)

    def _remember(self, key: tuple, value, generation: int):
        """Every query resolves its database and retention policy: answered from memory until the
        next write transaction (which clears this); a value read before a write is not kept."""
        with self._lock:
            if generation == self._generation:
                self._reads[key] = value
        return value

    def databases(self) -> list[DatabaseMeta]:
        return [DatabaseMeta(*r) for r in self._q("SELECT id, name, default_rp FROM databases ORDER BY name")]

    def drop_database(self, name: str) -> DatabaseMeta:
        db = self.database(name)
        with self._tx(schema=True) as cur:
            tables = [r[0] for r in cur.execute("SELECT id FROM tables WHERE database_id=?", (db.id,))]
            for tid in tables:
                cur.execute("DELETE FROM columns WHERE table_id=?", (tid,))
            for sql in (
                "DELETE FROM tables WHERE database_id=?",
                "DELETE FROM files WHERE shard_id IN (SELECT id FROM shards WHERE database_id=?)",
                "DELETE FROM tombstones WHERE shard_id IN (SELECT id FROM shards WHERE database_id=?)",
                "DELETE FROM shards WHERE database_id=?",
                "DELETE FROM retention_policies WHERE database_id=?",
                "DELETE FROM databases WHERE id=?",
                "DELETE FROM comments WHERE database_id=?",
                "DELETE FROM renames WHERE database_id=?",
            ):
                cur.execute(sql, (db.id,))
            _drop_acls(cur, tables)
            cur.execute("DELETE FROM meta WHERE key=?", (f"acl:database:{db.id}",))
            for kind in ("view", "schema"):  # (keyed by the database's name: sql/roles.py)
                cur.execute("DELETE FROM meta WHERE key LIKE ?", (f"acl:{kind}:{json.dumps([name])[:-1]},%",))
        return db

    # -- retention policies ------------------------------------------------------------------------
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
        db = self.database(database)
        if duration_ns and duration_ns < NS_PER_HOUR:
            raise StorageError("retention policy duration must be at least 1h0m0s")
        sd = shard_duration_ns or default_shard_duration(duration_ns)
        with self._tx(schema=True) as cur:
            exists = cur.execute(
                "SELECT 1 FROM retention_policies WHERE database_id=? AND name=?", (db.id, name)
            ).fetchone()
            if exists:
                raise StorageError(f'retention policy already exists: "{name}"')
            cur.execute(
                "INSERT INTO retention_policies VALUES (?, ?, ?, ?, ?)",
                (db.id, name, duration_ns, sd, replication),
            )
            if default:
                cur.execute("UPDATE databases SET default_rp=? WHERE id=?", (name, db.id))
        return RetentionPolicyMeta(db.id, name, duration_ns, sd, replication)

    def alter_retention_policy(
        self,
        database: str,
        name: str,
        *,
        duration_ns: int | None = None,
        shard_duration_ns: int | None = None,
        replication: int | None = None,
        default: bool = False,
    ) -> RetentionPolicyMeta:
        rp = self.retention_policy(database, name)
        new = RetentionPolicyMeta(
            rp.database_id,
            rp.name,
            rp.duration_ns if duration_ns is None else duration_ns,
            rp.shard_duration_ns if shard_duration_ns is None else shard_duration_ns,
            rp.replication if replication is None else replication,
        )
        with self._tx(schema=True) as cur:
            cur.execute(
                "UPDATE retention_policies SET duration_ns=?, shard_duration_ns=?, replication=? "
                "WHERE database_id=? AND name=?",
                (new.duration_ns, new.shard_duration_ns, new.replication, rp.database_id, rp.name),
            )
            if default:
                cur.execute("UPDATE databases SET default_rp=? WHERE id=?", (name, rp.database_id))
        return new

    def drop_retention_policy(self, database: str, name: str) -> RetentionPolicyMeta:
        rp = self.retention_policy(database, name)
        with self._tx(schema=True) as cur:
            cur.execute(
                "DELETE FROM retention_policies WHERE database_id=? AND name=?", (rp.database_id, name)
            )
            for tid in [
                r[0]
                for r in cur.execute(
                    "SELECT id FROM tables WHERE database_id=? AND rp=?", (rp.database_id, name)
                )
            ]:
                cur.execute("DELETE FROM columns WHERE table_id=?", (tid,))
                cur.execute("DELETE FROM tables WHERE id=?", (tid,))
                _drop_acls(cur, [tid])
                _drop_comments(cur, rp.database_id, TABLE_COMMENT_KINDS, str(tid))
            _drop_comments(cur, rp.database_id, ("schema",), name)
        return rp

    def retention_policy(self, database: str, name: str | None = None) -> RetentionPolicyMeta:
        hit = self._reads.get(("rp", database, name))
        if hit is not None:
            return hit
        generation = self._generation
        db = self.database(database)
        key = ("rp", database, name)
        name = name or db.default_rp
        rows = self._q(
            "SELECT database_id, name, duration_ns, shard_duration_ns, replication FROM retention_policies "
            "WHERE database_id=? AND name=?",
            (db.id, name),
        )
        if not rows:
            raise RetentionPolicyNotFound(database, name)
        return self._remember(key, RetentionPolicyMeta(*rows[0]), generation)

    def retention_policies(self, database: str, *, order: str = "name") -> list[RetentionPolicyMeta]:
        """The database's retention policies by name, or with ``order="created"`` in creation order
        (InfluxDB's SHOW RETENTION POLICIES)."""
        db = self.database(database)
        by = {"name": "name", "created": "rowid"}[order]
        rows = self._q(
            "SELECT database_id, name, duration_ns, shard_duration_ns, replication FROM retention_policies "
            f"WHERE database_id=? ORDER BY {by}",
            (db.id,),
        )
        return [RetentionPolicyMeta(*r) for r in rows]

    # -- tables and columns ------------------------------------------------------------------------
    def table(self, database_id: int, rp: str, name: str) -> TableMeta | None:
        rows = self._q(
            "SELECT id, database_id, rp, name, time_column, options FROM tables "
            "WHERE database_id=? AND rp=? AND name=?",
            (database_id, rp, name),
        )
        return self._table(rows[0]) if rows else None

    def table_by_id(self, table_id: int) -> TableMeta | None:
        rows = self._q(
            "SELECT id, database_id, rp, name, time_column, options FROM tables WHERE id=?", (table_id,)
        )
        return self._table(rows[0]) if rows else None

    def tables(self, database_id: int, rp: str | None = None) -> list[TableMeta]:
        if rp is None:
            rows = self._q(
                "SELECT id, database_id, rp, name, time_column, options FROM tables WHERE database_id=? "
                "ORDER BY rp, name",
                (database_id,),
            )
        else:
            rows = self._q(
                "SELECT id, database_id, rp, name, time_column, options FROM tables "
                "WHERE database_id=? AND rp=? ORDER BY name",
                (database_id, rp),
            )
        return [self._table(r) for r in rows]

    def _table(self, row: tuple) -> TableMeta:
        cols = self._q(
            "SELECT name, kind, type, pg_type, position, COALESCE(storage, name) FROM columns WHERE table_id=? "
            "ORDER BY position",
            (row[0],),
        )
        columns = tuple(
            ColumnMeta(n, k, None if t is None else FieldType(t), pg, pos, st)
            for n, k, t, pg, pos, st in cols
        )
        return TableMeta(row[0], row[1], row[2], row[3], row[4], columns, json.loads(row[5]))

    def create_table(
        self,
        database_id: int,
        rp: str,
        name: str,
        *,
        time_column: str = "time",
        columns: list[tuple[str, str, FieldType | None, str | None]] = (),  # type: ignore[assignment]
        options: dict | None = None,
    ) -> TableMeta:
        """Create a table (or return the existing one) with its time column first."""
        with self._tx(schema=True) as cur:
            row = cur.execute(
                "SELECT id FROM tables WHERE database_id=? AND rp=? AND name=?", (database_id, rp, name)
            ).fetchone()
            if row is None:
                cur.execute(
                    "INSERT INTO tables (database_id, rp, name, time_column, options) VALUES (?, ?, ?, ?, ?)",
                    (database_id, rp, name, time_column, json.dumps(options or {})),
                )
                tid = cur.lastrowid
                has_time = any(kind == "time" for _, kind, _, _ in columns)
                if not has_time:
                    cur.execute(
                        "INSERT INTO columns VALUES (?, ?, 'time', NULL, 'timestamptz', 0, NULL)",
                        (tid, time_column),
                    )
                pos = 0 if has_time else 1
                for cname, kind, ftype, pg in columns:
                    cur.execute(
                        "INSERT INTO columns VALUES (?, ?, ?, ?, ?, ?, NULL)",
                        (tid, cname, kind, None if ftype is None else int(ftype), pg, pos),
                    )
                    pos += 1
        meta = self.table(database_id, rp, name)
        assert meta is not None
        return meta

    def add_columns(
        self, table_id: int, columns: list[tuple[str, str, FieldType | None, str | None]]
    ) -> None:
        with self._tx(schema=True) as cur:
            (pos,) = cur.execute(
                "SELECT COALESCE(MAX(position), -1) + 1 FROM columns WHERE table_id=?", (table_id,)
            ).fetchone()
            taken = {
                r[0] for r in cur.execute("SELECT storage FROM dropped_columns WHERE table_id=?", (table_id,))
            }
            taken |= {
                r[0]
                for r in cur.execute(
                    "SELECT COALESCE(storage, name) FROM columns WHERE table_id=?", (table_id,)
                )
            }
            for cname, kind, ftype, pg in columns:
                storage, k = cname, 1
                while storage in taken:  # never reuse the stored name of a dropped or renamed column
                    storage, k = f"{cname}~{k}", k + 1
                taken.add(storage)
                cur.execute(
                    "INSERT OR IGNORE INTO columns VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        table_id,
                        cname,
                        kind,
                        None if ftype is None else int(ftype),
                        pg,
                        pos,
                        None if storage == cname else storage,
                    ),
                )
                pos += 1

    def set_column_kind(self, table_id: int, name: str, kind: str, ftype: FieldType | None) -> None:
        """Make a column the time column, a tag or a field, keeping its place and declared type."""
        with self._tx(schema=True) as cur:
            cur.execute(
                "UPDATE columns SET kind=?, type=? WHERE table_id=? AND name=?",
                (kind, None if ftype is None else int(ftype), table_id, name),
            )

    def set_column_pg_type(self, table_id: int, name: str, pg_type: str) -> None:
        """Change the type a column is declared with (its stored field type stays)."""
        with self._tx(schema=True) as cur:
            cur.execute("UPDATE columns SET pg_type=? WHERE table_id=? AND name=?", (pg_type, table_id, name))

    def dropped_storage(self, table_id: int) -> set[str]:
        """The stored names of the table's dropped columns."""
        return {r[0] for r in self._q("SELECT storage FROM dropped_columns WHERE table_id=?", (table_id,))}

    def dropped_tag(self, table_id: int, name: str) -> bool:
        """Whether a tag named ``name`` was dropped from the table: the stored series keys still hold
        its values under that name, so a new column of that name must not be a tag."""
        return bool(self._q("SELECT 1 FROM dropped_columns WHERE table_id=? AND storage=?", (table_id, name)))

    def drop_column(self, table_id: int, name: str) -> None:
        """Drop a column; its stored data stays behind under a name no later column will take."""
        with self._tx(schema=True) as cur:
            row = cur.execute(
                "SELECT COALESCE(storage, name) FROM columns WHERE table_id=? AND name=?", (table_id, name)
            ).fetchone()
            if row:
                cur.execute("INSERT INTO dropped_columns VALUES (?, ?)", (table_id, row[0]))
            cur.execute("DELETE FROM columns WHERE table_id=? AND name=?", (table_id, name))
            cur.execute(
                "DELETE FROM comments WHERE kind='table' AND object=? AND sub=?", (str(table_id), name)
            )

    def rename_column(
        self,
        table_id: int,
        old: str,
        new: str,
        *,
        tag: Rename | None = None,
        table_options: dict[int, dict] | None = None,
        meta: dict[str, str] | None = None,
    ) -> int:
        """Rename a column. A field or the time column keeps its data under its stored name. A tag
        (``tag``) is renamed in the series index's keys too (columnar.engine.Engine.rename_tag): it
        stays stored under its name, a dropped tag whose keys the rename moves aside is recorded
        under its new stored name, and the rename is recorded in ``renames``; returns its id (0
        for other columns). ``table_options`` (table id -> options) and ``meta`` (key -> value): what
        names the column elsewhere (keys, foreign keys, views), changed in the same transaction."""
        with self._tx(schema=True) as cur:
            for tid, options in (table_options or {}).items():
                cur.execute("UPDATE tables SET options=? WHERE id=?", (json.dumps(options), tid))
            for key, value in (meta or {}).items():
                cur.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
            storage = "NULL" if tag is not None else "COALESCE(storage, name)"
            cur.execute(
                f"UPDATE columns SET name=?, storage={storage} WHERE table_id=? AND name=?",
                (new, table_id, old),
            )
            rename_id = 0
            if tag is not None:
                for key, moved in tag.steps:
                    cur.execute(
                        "UPDATE dropped_columns SET storage=? WHERE table_id=? AND storage=?",
                        (moved, table_id, key),
                    )
                rename_id = _record_rename(cur, tag)
            cur.execute("UPDATE tables SET time_column=? WHERE id=? AND time_column=?", (new, table_id, old))
            cur.execute(
                "UPDATE comments SET sub=? WHERE kind='table' AND object=? AND sub=?",
                (new, str(table_id), old),
            )
            return rename_id

    def renames(self) -> list[Rename]:
        """The renames recorded and not yet forgotten (:meth:`forget_renames`), by id."""
        rows = self._q(
            "SELECT database_id, table_name, steps, wal_seq, id, new_table FROM renames ORDER BY id"
        )
        return [
            Rename(d, t, tuple((str(a), str(b)) for a, b in json.loads(steps)), seq, i, to)
            for d, t, steps, seq, i, to in rows
        ]

    def forget_renames(self, ids: list[int]) -> None:
        with self._tx() as cur:
            cur.executemany("DELETE FROM renames WHERE id=?", [(i,) for i in ids])

    def clamp_renames(self, wal_seq: int) -> None:
        """The WAL ends at ``wal_seq`` (its later records were lost in a crash): renames recorded after
        later seqs are after every record it holds, and later records must not count as before them."""
        with self._tx() as cur:
            cur.execute("UPDATE renames SET wal_seq=? WHERE wal_seq>?", (wal_seq, wal_seq))

    def set_table_options(self, table_id: int, time_column: str, options: dict) -> None:
        with self._tx(schema=True) as cur:
            cur.execute(
                "UPDATE tables SET time_column=?, options=? WHERE id=?",
                (time_column, json.dumps(options), table_id),
            )

    def rename_table(
        self,
        table_id: int,
        new_name: str,
        *,
        rename: Rename | None = None,
        table_options: dict[int, dict] | None = None,
        meta: dict[str, str | None] | None = None,
    ) -> int:
        """Rename a table (ALTER TABLE ... RENAME TO). Its columns, files, tombstones, comments and
        privileges are kept by its id and follow it. ``rename``: the series index renames the
        measurement too (columnar.engine.Engine.rename_table), recorded in ``renames``; returns its
        id (0 without). ``table_options`` (table id -> options) and ``meta`` (key -> value, None
        deletes): what names the table elsewhere (foreign keys, views, jobs), changed in the same
        transaction. Raises StorageError when the name is taken in its retention policy."""
        with self._tx(schema=True) as cur:
            try:
                cur.execute("UPDATE tables SET name=? WHERE id=?", (new_name, table_id))
            except sqlite3.IntegrityError:
                raise StorageError(f'table "{new_name}" already exists') from None
            for tid, options in (table_options or {}).items():
                cur.execute("UPDATE tables SET options=? WHERE id=?", (json.dumps(options), tid))
            for key, value in (meta or {}).items():
                if value is None:
                    cur.execute("DELETE FROM meta WHERE key=?", (key,))
                else:
                    cur.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
            return _record_rename(cur, rename) if rename is not None else 0

    def get_meta(self, key: str) -> str | None:
        rows = self._q("SELECT value FROM meta WHERE key=?", (key,))
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str | None) -> None:
        """Small named settings (views, extensions): value None deletes the key."""
        with self._tx(schema=True) as cur:
            if value is None:
                cur.execute("DELETE FROM meta WHERE key=?", (key,))
            else:
                cur.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def sequence_update(self, key: str, change, new_key: str | None = None):
        """Read, change and write one sequence's state (a JSON object, sql/sequences.py) in one
        transaction, durably (synchronous=FULL: a value handed out is never handed out again after a
        crash).
        ``change(state or None) -> (new state, or None to delete it, result)``; ``new_key`` stores
        the new state under another key (a rename). Exceptions from ``change`` leave it as it was."""
        with self._tx(schema=new_key is not None) as cur:
            row = cur.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
            state, result = change(json.loads(row[0]) if row else None)
            if state is None:
                cur.execute("DELETE FROM meta WHERE key=?", (key,))
            else:
                if new_key is not None and new_key != key:
                    cur.execute("DELETE FROM meta WHERE key=?", (key,))
                cur.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (new_key or key, json.dumps(state)))
            return result

    def meta_items(self, prefix: str) -> list[tuple[str, str]]:
        """The meta keys that start with ``prefix`` (LIKE narrows them down; its ``_`` and ``%`` match
        more, so the prefix is checked as well), in key order."""
        return [
            (k, v)
            for k, v in self._q("SELECT key, value FROM meta WHERE key LIKE ? ORDER BY key", (prefix + "%",))
            if k.startswith(prefix)
        ]

    def drop_table(self, table_id: int) -> None:
        with self._tx(schema=True) as cur:
            cur.execute("DELETE FROM columns WHERE table_id=?", (table_id,))
            cur.execute("DELETE FROM dropped_columns WHERE table_id=?", (table_id,))
            cur.execute("DELETE FROM tables WHERE id=?", (table_id,))
            cur.execute("DELETE FROM files WHERE table_id=?", (table_id,))
            cur.execute("DELETE FROM tombstones WHERE table_id=?", (table_id,))
            cur.execute(
                f"DELETE FROM comments WHERE kind IN {TABLE_COMMENT_KINDS} AND object=?", (str(table_id),)
            )
            _drop_acls(cur, [table_id])

    # -- comments (COMMENT ON) ---------------------------------------------------------------------
    # One row per described object: ``kind`` says what ``object`` and ``sub`` name. table: the table
    # id, and '' or a column name; index: the table id and its key columns joined by ',' (a key's
    # index) or 'index:<name>' (CREATE INDEX's, sql/indexes.py); view: the
    # JSON list [schema, name], and '' or a column name; schema and extension: the name; database:
    # '' (under its own id); function: the OID. An empty description hides a built-in default.
    def set_comment(self, database_id: int, kind: str, obj: str, sub: str, text: str | None) -> None:
        """Set an object's description; None removes it."""
        with self._tx(schema=True) as cur:
            if text is None:
                cur.execute(
                    "DELETE FROM comments WHERE database_id=? AND kind=? AND object=? AND sub=?",
                    (database_id, kind, obj, sub),
                )
            else:
                cur.execute(
                    "INSERT OR REPLACE INTO comments VALUES (?, ?, ?, ?, ?)",
                    (database_id, kind, obj, sub, text),
                )

    def drop_comments(self, database_id: int, kind: str, obj: str) -> None:
        """Forget the descriptions of an object and of its parts (a dropped view)."""
        with self._tx(schema=True) as cur:
            _drop_comments(cur, database_id, (kind,), obj)

    def comments(self, database_id: int | None) -> dict[tuple[str, str, str], str]:
        """(kind, object, sub) -> description, of one database's objects, or with None of every
        database (kind 'database', object the database id). Read once per catalog change."""
        key = ("comments", database_id)
        hit = self._reads.get(key)
        if hit is not None:
            return hit
        generation = self._generation
        if database_id is None:
            rows = self._q("SELECT 'database', CAST(database_id AS TEXT), '', description FROM comments "
                           "WHERE kind='database'")  # fmt: skip
        else:
            rows = self._q(
                "SELECT kind, object, sub, description FROM comments WHERE database_id=?", (database_id,)
            )
        return self._remember(key, {(k, o, sub): d for k, o, sub, d in rows}, generation)

    # -- shards, files, tombstones -----------------------------------------------------------------
    def create_shard(self, database_id: int, rp: str, start_ns: int, end_ns: int) -> ShardMeta:
        with self._tx() as cur:
            row = cur.execute(
                "SELECT id, database_id, rp, start_ns, end_ns FROM shards "
                "WHERE database_id=? AND rp=? AND start_ns=?",
                (database_id, rp, start_ns),
            ).fetchone()
            if row:
                return ShardMeta(*row)
            cur.execute(
                "INSERT INTO shards (database_id, rp, start_ns, end_ns) VALUES (?, ?, ?, ?)",
                (database_id, rp, start_ns, end_ns),
            )
            return ShardMeta(_rowid(cur), database_id, rp, start_ns, end_ns)

    def shards(self, database_id: int | None = None) -> list[ShardMeta]:
        if database_id is None:
            rows = self._q("SELECT id, database_id, rp, start_ns, end_ns FROM shards ORDER BY id")
        else:
            rows = self._q(
                "SELECT id, database_id, rp, start_ns, end_ns FROM shards WHERE database_id=? ORDER BY start_ns",
                (database_id,),
            )
        return [ShardMeta(*r) for r in rows]

    def drop_shard(self, shard_id: int) -> None:
        with self._tx() as cur:
            cur.execute("DELETE FROM files WHERE shard_id=?", (shard_id,))
            cur.execute("DELETE FROM tombstones WHERE shard_id=?", (shard_id,))
            cur.execute("DELETE FROM shards WHERE id=?", (shard_id,))

    def files(self, shard_id: int | None = None) -> list[FileMeta]:
        cols = "id, shard_id, table_id, level, name, rows, bytes, min_time, max_time"
        if shard_id is None:
            rows = self._q(f"SELECT {cols} FROM files ORDER BY id")
        else:
            rows = self._q(f"SELECT {cols} FROM files WHERE shard_id=? ORDER BY id", (shard_id,))
        return [FileMeta(*r) for r in rows]

    def next_file_id(self) -> int:
        with self._tx() as cur:
            row = cur.execute("SELECT value FROM meta WHERE key='next_file_id'").fetchone()
            nxt = int(row[0]) if row else 1
            cur.execute("INSERT OR REPLACE INTO meta VALUES ('next_file_id', ?)", (str(nxt + 1),))
            return nxt

    def replace_files(
        self,
        added: list[FileMeta],
        removed: list[int],
        tombstones_done: list[int] = (),  # type: ignore[assignment]
    ) -> None:
        """Atomically unlist replaced files, list new ones and forget tombstones they absorbed.

        A compaction output takes the largest id of its inputs (file ids order data by write time),
        so removal comes first.
        """
        with self._tx() as cur:
            for fid in removed:
                cur.execute("DELETE FROM files WHERE id=?", (fid,))
            removed_set = set(removed)
            if removed_set:
                for tid, ids in cur.execute("SELECT id, file_ids FROM tombstones").fetchall():
                    left = [i for i in json.loads(ids) if i not in removed_set]
                    cur.execute("UPDATE tombstones SET file_ids=? WHERE id=?", (json.dumps(left), tid))
                cur.execute("DELETE FROM tombstones WHERE file_ids='[]'")
            for tid in tombstones_done:
                cur.execute("DELETE FROM tombstones WHERE id=?", (tid,))
            for f in added:
                cur.execute(
                    "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (f.id, f.shard_id, f.table_id, f.level, f.name, f.rows, f.bytes, f.min_time, f.max_time),
                )

    def add_tombstone(
        self, shard_id: int, table_id: int, min_ns: int, max_ns: int, series: bytes, file_ids: list[int]
    ) -> TombstoneMeta:
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO tombstones (shard_id, table_id, min_ns, max_ns, series, file_ids) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (shard_id, table_id, min_ns, max_ns, series, json.dumps(file_ids)),
            )
            return TombstoneMeta(_rowid(cur), shard_id, table_id, min_ns, max_ns, series, tuple(file_ids))

    def tombstones(self, shard_id: int | None = None) -> list[TombstoneMeta]:
        cols = "id, shard_id, table_id, min_ns, max_ns, series, file_ids"
        if shard_id is None:
            rows = self._q(f"SELECT {cols} FROM tombstones ORDER BY id")
        else:
            rows = self._q(f"SELECT {cols} FROM tombstones WHERE shard_id=? ORDER BY id", (shard_id,))
        return [TombstoneMeta(r[0], r[1], r[2], r[3], r[4], r[5], tuple(json.loads(r[6]))) for r in rows]


TABLE_COMMENT_KINDS = ("table", "index", "rowtype")  # the comment kinds whose object is a table id


def _drop_comments(cur: sqlite3.Cursor, database_id: int, kinds: tuple[str, ...], obj: str) -> None:
    for kind in kinds:
        cur.execute(
            "DELETE FROM comments WHERE database_id=? AND kind=? AND object=?", (database_id, kind, obj)
        )


def _record_rename(cur: sqlite3.Cursor, r: Rename) -> int:
    cur.execute(
        "INSERT INTO renames (database_id, table_name, steps, wal_seq, new_table) VALUES (?, ?, ?, ?, ?)",
        (r.database_id, r.table, json.dumps(r.steps), r.wal_seq, r.to),
    )
    return _rowid(cur)


def _migrate(db: sqlite3.Connection) -> None:
    """Bring a catalog written by an earlier version up to _SCHEMA: ``tag_renames`` became
    ``renames`` (with table renames: ``new_table``); its ids go on from where they were."""
    if db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='tag_renames'").fetchone():
        db.execute("ALTER TABLE tag_renames RENAME TO renames")
    columns = {r[1] for r in db.execute("PRAGMA table_info(renames)")}
    if columns and "new_table" not in columns:
        db.execute("ALTER TABLE renames ADD COLUMN new_table TEXT")


def _rowid(cur: sqlite3.Cursor) -> int:
    """The id of the row an INSERT just made (always set after an INSERT)."""
    assert cur.lastrowid is not None
    return cur.lastrowid


class _Tx:
    """BEGIN IMMEDIATE ... COMMIT under the catalog lock; ROLLBACK on error."""

    def __init__(self, catalog: Catalog, schema: bool) -> None:
        self.catalog = catalog
        self.schema = schema

    def __enter__(self) -> sqlite3.Cursor:
        self.catalog._lock.acquire()
        self.cur = self.catalog._db.cursor()
        self.cur.execute("BEGIN IMMEDIATE")
        return self.cur

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self.cur.execute("ROLLBACK" if exc_type else "COMMIT")
            self.cur.close()
        finally:
            self.catalog._generation += 1
            if self.schema:
                self.catalog.schema_version += 1
            self.catalog._reads.clear()
            self.catalog._lock.release()


def _drop_acls(cur, table_ids) -> None:
    """A dropped table's owner and privileges (sql/roles.py keeps them in meta), so a table that
    later gets its id does not inherit them."""
    for tid in table_ids:
        cur.execute("DELETE FROM meta WHERE key=?", (f"acl:table:{tid}",))
