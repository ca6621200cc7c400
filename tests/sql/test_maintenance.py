"""What CHECKPOINT and VACUUM do to storage (sql/maintenance.py), and what DROP DATABASE takes along;
the statements' tags and errors are compared with PostgreSQL's in tests/sql/differential/test_dml.py
("maintenance")."""

from __future__ import annotations

import pytest

from columnar.engine import Engine
from columnar.options import EngineOptions
from sql.errors import SqlError
from tests.sql.in_process import sql_engine


def _run(session, sql: str):
    result = session.execute(session.prepare(sql, []), [])
    rows = [r for b in result.batches for r in b.to_pylist()]
    return result.tag, rows


def _stored(storage: Engine, name: str) -> list:
    (table,) = [m for m in storage.tables("postgres") if m.name == name]
    return [f for s in storage.shards("postgres") for f in s.table_files(table.id)]


def _files(storage: Engine, name: str) -> int:
    return len(_stored(storage, name))


def _insert(session, first_second: int, n: int) -> None:
    values = ", ".join(
        f"('2024-01-01 00:00:00+00'::timestamptz + interval '{first_second + i} seconds', 'h{i % 3}', {i})"
        for i in range(n)
    )
    _run(session, f"INSERT INTO m VALUES {values}")


def test_checkpoint_writes_the_memtable_out_and_a_restart_replays_nothing(tmp_path):
    with sql_engine(tmp_path) as (storage, engine):
        session = engine.session("postgres")
        _run(session, "CREATE TABLE m (time timestamptz NOT NULL, host text, v int8)")
        _insert(session, 0, 30)
        assert storage.cache_bytes > 0 and _files(storage, "m") == 0
        assert _run(session, "CHECKPOINT") == ("CHECKPOINT", [])
        assert storage.cache_bytes == 0 and _files(storage, "m") == 1
    reopened = Engine.open(tmp_path, EngineOptions(compaction_interval_s=0, wal_fsync="off"))
    try:
        assert reopened.cache_bytes == 0  # nothing left in the WAL to replay
    finally:
        reopened.close()
    with sql_engine(tmp_path) as (storage, engine):
        assert _run(engine.session("postgres"), "SELECT count(*), sum(v) FROM m")[1] == [
            {"count": 30, "sum": sum(range(30))}
        ]


def test_checkpoint_needs_a_superuser(tmp_path):
    with sql_engine(tmp_path) as (storage, engine):
        admin = engine.session("postgres")
        _run(admin, "CREATE ROLE reader LOGIN")
        with pytest.raises(SqlError) as e:
            _run(engine.session("postgres", user="reader"), "CHECKPOINT")
        assert e.value.sqlstate == "42501"


def test_vacuum_rewrites_files_without_deleted_rows_and_full_merges_them(tmp_path):
    with sql_engine(tmp_path) as (storage, engine):
        session = engine.session("postgres")
        _run(session, "CREATE TABLE m (time timestamptz NOT NULL, host text, v int8)")
        _run(session, "CREATE TABLE other (time timestamptz NOT NULL, v int8)")
        for k in range(3):  # three files of m, two of other
            _insert(session, 100 * k, 30)
            if k < 2:
                _run(session, f"INSERT INTO other VALUES ('2024-01-01 00:00:0{k}+00', {k})")
            storage.flush()
        assert _files(storage, "m") == 3 and _files(storage, "other") == 2
        _run(session, "DELETE FROM m WHERE host = 'h1'")
        tombstones = sum(len(s.tombstones) for s in storage.shards("postgres"))
        assert tombstones > 0
        assert _run(session, "VACUUM m") == ("VACUUM", [])
        assert sum(len(s.tombstones) for s in storage.shards("postgres")) == 0
        assert (
            sum(f.meta.rows for f in _stored(storage, "m")) == 60
        )  # the deleted 30 are gone from the files, not only hidden
        assert _files(storage, "other") == 2  # a table not named is left alone
        _run(session, "VACUUM FULL m")
        assert _files(storage, "m") == 1 and _files(storage, "other") == 2
        _run(session, "VACUUM FULL")  # every table of the database
        assert _files(storage, "other") == 1
        assert _run(session, "SELECT count(*) AS n, count(DISTINCT host) AS hosts FROM m")[1] == [
            {"n": 60, "hosts": 2}
        ]


def test_a_database_made_again_under_a_dropped_ones_name_starts_empty(tmp_path):
    """Enum types, sequences and views are kept by database name: DROP DATABASE takes them along (a
    CREATE TYPE in the new database said "already exists"); another database's stay."""
    with sql_engine(tmp_path) as (_storage, engine):
        admin = engine.session("postgres")
        for db in ("r_1", "rx1"):  # ("_" is a LIKE wildcard: rx1's objects must not go with r_1)
            _run(admin, f"CREATE DATABASE {db}")
            s = engine.session(db)
            _run(s, "CREATE TYPE mood AS ENUM ('a')")
            _run(s, "CREATE SEQUENCE sq")
            _run(s, "CREATE TABLE t (time timestamptz NOT NULL, v int8)")
            _run(s, "CREATE VIEW vv AS SELECT * FROM t")
            s.close()
        _run(admin, "DROP DATABASE r_1")
        _run(admin, "CREATE DATABASE r_1")
        s = engine.session("r_1")
        _run(s, "CREATE TYPE mood AS ENUM ('b')")
        _run(s, "CREATE SEQUENCE sq")
        with pytest.raises(SqlError) as e:
            _run(s, "SELECT * FROM vv")
        assert e.value.sqlstate == "42P01"
        other = engine.session("rx1")
        assert _run(other, "SELECT nextval('sq')")[1] == [{"nextval": 1}]
        assert _run(other, "SELECT 'a'::mood AS m")[1] == [{"m": "a"}]


def test_privileges_of_users_who_are_not_superusers(tmp_path):
    """REINDEX and CLUSTER need ownership, LOCK a privilege by its mode; VACUUM and ANALYZE skip
    what the user does not own with PostgreSQL's WARNING."""
    import types

    with sql_engine(tmp_path) as (storage, engine):
        admin = engine.session("postgres")
        _run(admin, "CREATE TABLE t (time timestamptz NOT NULL, v int8)")
        _run(admin, "CREATE ROLE reader LOGIN")
        _run(admin, "GRANT SELECT ON t TO reader")
        reader = engine.session("postgres", user="reader")
        seen: list = []
        reader.connection = types.SimpleNamespace(notice=seen.append)  # (what pgwire would send)
        assert _run(reader, "VACUUM t")[0] == "VACUUM"
        assert _run(reader, "ANALYZE t")[0] == "ANALYZE"
        assert [(w.severity, w.sqlstate, w.message) for w in seen] == [
            ("WARNING", "42501", 'skipping "t" --- only table or database owner can vacuum it'),
            ("WARNING", "42501", 'skipping "t" --- only table or database owner can analyze it'),
        ]
        _run(reader, "BEGIN")
        assert _run(reader, "LOCK TABLE t IN ACCESS SHARE MODE")[0] == "LOCK TABLE"
        for sql in ("LOCK TABLE t", "REINDEX TABLE t", "CLUSTER t USING t_idx", "REINDEX SCHEMA public"):
            with pytest.raises(SqlError) as e:
                _run(reader, sql)
            assert e.value.sqlstate == "42501", sql
            _run(reader, "ROLLBACK")
            _run(reader, "BEGIN")
