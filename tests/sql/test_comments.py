"""COMMENT ON in the storage catalog: descriptions survive a restart, follow renames, go with what
they describe, and cost a catalog query nothing when there are none (sql/comments.py)."""

from __future__ import annotations

import pytest

from sql import errors as E
from tests.sql.in_process import sql_engine


def _run(s, sql):
    r = s.execute(s.prepare(sql, []), [])
    return [tuple(row.values()) for b in (r.batches or []) for row in b.to_pylist()]


_DESCRIBED = """
SELECT c.relname AS relname, d.objsubid AS sub, d.description AS text
FROM pg_description d JOIN pg_class c ON c.oid = d.objoid AND d.classoid = 'pg_class'::regclass
ORDER BY 1, 2
"""


def _setup(s) -> None:
    for sql in (
        "CREATE TABLE m (time timestamptz NOT NULL, host text, v double precision, n int4)",
        "CREATE VIEW v AS SELECT time, v FROM m",
        "CREATE SCHEMA archive",
        "CREATE TABLE archive.old (time timestamptz NOT NULL, v double precision)",
        "COMMENT ON TABLE m IS 'metrics'",
        "COMMENT ON COLUMN m.v IS 'value'",
        "COMMENT ON COLUMN m.n IS 'count'",
        "COMMENT ON VIEW v IS 'a view'",
        "COMMENT ON COLUMN v.v IS 'its value'",
        "COMMENT ON SCHEMA archive IS 'old data'",
        "COMMENT ON TABLE archive.old IS 'archived'",
        "COMMENT ON DATABASE postgres IS 'main'",
        "COMMENT ON EXTENSION timescaledb IS 'time series'",
        "COMMENT ON FUNCTION now() IS 'the transaction time'",
    ):
        _run(s, sql)


def test_comments_survive_a_restart(tmp_path) -> None:
    with sql_engine(tmp_path) as (_storage, sql):
        _setup(sql.session("postgres"))
    with sql_engine(tmp_path) as (_storage, sql):
        s = sql.session("postgres")
        assert _run(s, _DESCRIBED) == [
            ("m", 0, "metrics"),
            ("m", 3, "value"),
            ("m", 4, "count"),
            ("old", 0, "archived"),
            ("v", 0, "a view"),
            ("v", 2, "its value"),
        ]
        assert _run(s, "SELECT obj_description('archive'::regnamespace, 'pg_namespace')") == [("old data",)]
        assert _run(s, "SELECT shobj_description(oid, 'pg_database') FROM pg_database") == [("main",)]
        assert _run(
            s, "SELECT obj_description(oid, 'pg_extension') FROM pg_extension WHERE extname = 'timescaledb'"
        ) == [("time series",)]
        assert _run(s, "SELECT obj_description('now'::regproc::oid, 'pg_proc')") == [
            ("the transaction time",)
        ]


def test_rename_keeps_and_drop_forgets(tmp_path) -> None:
    with sql_engine(tmp_path) as (storage, sql):
        s = sql.session("postgres")
        _setup(s)
        _run(s, "ALTER TABLE m RENAME COLUMN v TO value")
        _run(s, "ALTER TABLE m DROP COLUMN n")
        _run(s, "ALTER TABLE m ADD COLUMN n int4")  # a new column: no description
        _run(s, "ALTER TABLE m RENAME TO metrics")
        assert _run(s, _DESCRIBED)[:2] == [("metrics", 0, "metrics"), ("metrics", 3, "value")]
        _run(s, "DROP VIEW v")
        _run(s, "DROP TABLE metrics")
        _run(s, "DROP SCHEMA archive")
        _run(s, "CREATE SCHEMA archive")
        _run(s, "CREATE TABLE metrics (time timestamptz NOT NULL, value double precision)")
        _run(s, "CREATE VIEW v AS SELECT time, value FROM metrics")
        assert _run(s, _DESCRIBED) == []
        assert _run(s, "SELECT obj_description('archive'::regnamespace, 'pg_namespace')") == [(None,)]
        rows = storage.catalog._q("SELECT kind, object, sub FROM comments")  # nothing left behind
        assert sorted(rows) == [
            ("database", "", ""),
            ("extension", "timescaledb", ""),
            ("function", "1299", ""),
        ]


def test_continuous_aggregate_takes_materialized_view_and_view(tmp_path) -> None:
    with sql_engine(tmp_path) as (_storage, sql):
        s = sql.session("postgres")
        _run(s, "CREATE TABLE m (time timestamptz NOT NULL, v double precision)")
        _run(s, "SELECT create_hypertable('m', 'time')")
        _run(s, "CREATE MATERIALIZED VIEW hourly WITH (timescaledb.continuous) AS "
                "SELECT time_bucket('1 hour', time) AS bucket, avg(v) AS v FROM m GROUP BY 1")  # fmt: skip
        _run(s, "COMMENT ON MATERIALIZED VIEW hourly IS 'hourly means'")
        assert _run(s, "SELECT obj_description('hourly'::regclass, 'pg_class')") == [("hourly means",)]
        _run(s, "COMMENT ON VIEW hourly IS 'as a view'")  # it is one, in TimescaleDB too
        _run(s, "COMMENT ON COLUMN hourly.v IS 'mean'")
        assert _run(s, "SELECT col_description('hourly'::regclass, 2)") == [("mean",)]
        _run(s, "DROP MATERIALIZED VIEW hourly")
        _run(s, "CREATE MATERIALIZED VIEW hourly WITH (timescaledb.continuous) AS "
                "SELECT time_bucket('1 hour', time) AS bucket, avg(v) AS v FROM m GROUP BY 1")  # fmt: skip
        assert _run(s, "SELECT obj_description('hourly'::regclass, 'pg_class')") == [(None,)]


def test_public_and_postgres_keep_postgres_defaults_until_replaced(tmp_path) -> None:
    with sql_engine(tmp_path) as (_storage, sql):
        s = sql.session("postgres")
        probe = "SELECT obj_description('public'::regnamespace, 'pg_namespace')"
        assert _run(s, probe) == [("standard public schema",)]
        _run(s, "COMMENT ON SCHEMA public IS NULL")
        assert _run(s, probe) == [(None,)]
        _run(s, "COMMENT ON SCHEMA public IS 'ours'")
        assert _run(s, probe) == [("ours",)]
        db = "SELECT shobj_description(oid, 'pg_database') FROM pg_database"
        assert _run(s, db) == [("default administrative connection database",)]
        _run(s, "COMMENT ON DATABASE postgres IS ''")
        assert _run(s, db) == [(None,)]


@pytest.mark.parametrize(
    ("sql", "error", "message"),
    [  # PostgreSQL 15's messages, but for TRIGGER (42P01 or a comment there)
        ("COMMENT ON TABLE m IS", E.SyntaxError_, "syntax error at end of input"),
        ("COMMENT ON TABLE IS 'x'", E.SyntaxError_, 'syntax error at or near "IS"'),
        ("COMMENT ON m IS 'x'", E.SyntaxError_, 'syntax error at or near "m"'),
        ("COMMENT ON SCHEMA a.b IS 'x'", E.SyntaxError_, 'syntax error at or near "."'),
        ("COMMENT ON TYPE IS 'x'", E.SyntaxError_, "syntax error at or near \"'x'\""),
        ("COMMENT ON TYPE t IS", E.SyntaxError_, "syntax error at end of input"),
        ("COMMENT ON TYPE t", E.SyntaxError_, "syntax error at end of input"),
        ("COMMENT ON TYPE t IS 'x' 'y'", E.SyntaxError_, "syntax error at or near \"'y'\""),
        ("COMMENT ON TRIGGER t ON m IS 'x'", E.FeatureNotSupported, "COMMENT ON TRIGGER is not supported"),
    ],
)
def test_refused_at_parse(tmp_path, sql: str, error: type, message: str) -> None:
    with sql_engine(tmp_path) as (_storage, engine):
        s = engine.session("postgres")
        with pytest.raises(error) as raised:
            s.prepare(sql, [])
        assert str(raised.value) == message


def test_no_comments_reads_the_catalog_once_per_change(tmp_path) -> None:
    """Descriptions are read from SQLite once per catalog change, not per statement."""
    with sql_engine(tmp_path) as (storage, sql):
        s = sql.session("postgres")
        _run(s, "CREATE TABLE m (time timestamptz NOT NULL, v double precision)")
        cat = storage.catalog
        reads = []
        original = cat._q
        cat._q = lambda q, a=(): (reads.append(q) if "FROM comments" in q else None) or original(q, a)
        try:
            for _ in range(3):
                _run(s, "SELECT count(*) FROM pg_description")
                _run(s, "SELECT obj_description('m'::regclass, 'pg_class')")
        finally:
            cat._q = original
        assert len(reads) == len(set(reads)) == 2  # this database's, and every database's (pg_shdescription)


def test_drop_database_forgets_its_descriptions(tmp_path) -> None:
    with sql_engine(tmp_path) as (storage, sql):
        _run(sql.session("postgres"), "CREATE DATABASE other")
        s = sql.session("other")
        _run(s, "CREATE TABLE m (time timestamptz NOT NULL, v double precision)")
        _run(s, "COMMENT ON TABLE m IS 'in other'")
        _run(s, "COMMENT ON DATABASE other IS 'the other one'")
        s.close()
        main = sql.session("postgres")
        shown = "SELECT d.datname AS name, shobj_description(d.oid, 'pg_database') AS d FROM pg_database d ORDER BY 1"
        assert _run(main, shown) == [
            ("other", "the other one"),
            ("postgres", "default administrative connection database"),
        ]
        _run(main, "DROP DATABASE other")
        assert storage.catalog._q("SELECT count(*) FROM comments") == [(0,)]
        _run(main, "CREATE DATABASE other")
        assert _run(main, shown)[0] == ("other", None)


def test_pgjdbc_metadata_reports_remarks(tmp_path) -> None:
    """pgjdbc's getTables (REMARKS) and getColumns (description), as captured from pgjdbc."""
    from tests.sql.test_pgcatalog import load

    jdbc = {e.title: e.sql for e in load("jdbc.sql")}
    with sql_engine(tmp_path) as (_storage, sql):
        s = sql.session("postgres")
        _run(s, "CREATE TABLE cpu (time timestamptz NOT NULL, host text, usage double precision)")
        _run(s, "COMMENT ON TABLE cpu IS 'cpu per host'")
        _run(s, "COMMENT ON COLUMN cpu.usage IS 'percent'")
        r = s.execute(s.prepare(jdbc["getTables"], []), [])
        tables = [row for b in r.batches for row in b.to_pylist()]
        assert [(t["TABLE_NAME"], t["REMARKS"]) for t in tables if t["TABLE_NAME"] == "cpu"] == [
            ("cpu", "cpu per host")
        ]
        r = s.execute(s.prepare(jdbc["getColumns"], []), [])
        columns = [row for b in r.batches for row in b.to_pylist()]
        assert [(c["attname"], c["description"]) for c in columns] == [
            ("time", None),
            ("host", None),
            ("usage", "percent"),
        ]
