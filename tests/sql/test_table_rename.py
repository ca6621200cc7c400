"""ALTER TABLE ... RENAME TO through SQL (what migrations run): the rows under the new name after a
restart, statements prepared before it, and what names the table elsewhere (TimescaleDB jobs,
hypertables, continuous aggregates, privileges, comments, owned sequences, views); a table of
another schema (retention policy) stays in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from sql import errors as E
from sql.view_renames import rename_table_in_view
from tests.sql.in_process import sql_engine


def _run(s, sql):
    r = s.execute(s.prepare(sql, []), [])
    return [tuple(row.values()) for b in (r.batches or []) for row in b.to_pylist()]


def test_renamed_table_after_a_restart_and_what_follows_it(tmp_path: Path) -> None:
    with sql_engine(tmp_path) as (storage, sql):
        s = sql.session("postgres")
        for q in (
            "CREATE TABLE t (time timestamptz NOT NULL, id serial, host text, v int8)",
            "SELECT create_hypertable('t', 'time')",
            "INSERT INTO t (time, host, v) VALUES ('2024-01-01', 'a', 1), ('2024-01-02', 'b', 2)",
            "SELECT add_retention_policy('t', INTERVAL '30 days')",
            "ALTER TABLE t SET (timescaledb.compress)",
            "SELECT add_compression_policy('t', INTERVAL '7 days')",
            "CREATE MATERIALIZED VIEW t_daily WITH (timescaledb.continuous) AS"
            " SELECT time_bucket('1 day', time) AS day, host, sum(v) AS v FROM t GROUP BY day, host",
            "CREATE VIEW t_hosts AS SELECT DISTINCT t.host FROM t",
            "CREATE ROLE reader",
            "GRANT SELECT ON t TO reader",
            "COMMENT ON TABLE t IS 'readings'",
            "CREATE SEQUENCE sq",
        ):
            _run(s, q)
        storage.flush()  # (rows in a chunk file, and one in the memtable and WAL)
        _run(s, "INSERT INTO t (time, host, v) VALUES ('2024-01-03', 'c', 3)")
        prepared = s.prepare("SELECT count(*) FROM t", [])
        with pytest.raises(E.DuplicateTable):
            _run(s, "ALTER TABLE t RENAME TO sq")
        with pytest.raises(E.DuplicateTable):
            _run(s, "ALTER TABLE t RENAME TO t_hosts")
        _run(s, "ALTER TABLE t RENAME TO x")
        with pytest.raises(E.UndefinedTable):  # prepared before: planned again, as PostgreSQL does
            s.execute(prepared, [])
    with sql_engine(tmp_path) as (_storage, sql):
        s = sql.session("postgres")
        assert _run(s, "SELECT id, host, v FROM x ORDER BY id") == [(1, "a", 1), (2, "b", 2), (3, "c", 3)]
        with pytest.raises(E.UndefinedTable):
            _run(s, "SELECT * FROM t")
        _run(s, "INSERT INTO x (time, host, v) VALUES ('2024-01-04', 'd', 4)")
        assert _run(s, "SELECT max(id) FROM x") == [(4,)]  # (the sequence it owns goes on)
        assert _run(s, "SELECT pg_get_serial_sequence('x', 'id')") == [("public.t_id_seq",)]
        assert _run(
            s,
            "SELECT hypertable_name, proc_name FROM timescaledb_information.jobs"
            " WHERE hypertable_name IS NOT NULL ORDER BY proc_name",
        ) == [("x", "policy_compression"), ("x", "policy_retention")]
        assert _run(s, "SELECT hypertable_name FROM timescaledb_information.hypertables") == [("x",)]
        assert _run(s, "SELECT host, v FROM t_daily ORDER BY host") == [
            ("a", 1),
            ("b", 2),
            ("c", 3),
            ("d", 4),
        ]
        assert _run(s, "SELECT count(*) FROM t_hosts") == [(4,)]
        assert _run(s, "SELECT has_table_privilege('reader', 'x', 'SELECT')") == [(True,)]
        assert _run(s, "SELECT obj_description('x'::regclass)") == [("readings",)]
        _run(s, "CREATE TABLE t (time timestamptz NOT NULL, w int8)")  # the name is free again
        assert _run(s, "SELECT count(*) FROM t") == [(0,)]


def test_a_table_of_another_schema_stays_in_it(tmp_path: Path) -> None:
    with sql_engine(tmp_path) as (storage, sql):
        s = sql.session("postgres")
        for q in (
            "CREATE SCHEMA archive",
            "CREATE TABLE archive.m (time timestamptz NOT NULL, host text, v int8)",
            "INSERT INTO archive.m VALUES ('2024-01-01', 'a', 1)",
            "CREATE VIEW av AS SELECT m.host FROM archive.m",
            "ALTER TABLE archive.m RENAME TO n",
        ):
            _run(s, q)
        assert [t.name for t in storage.tables("postgres", "archive")] == ["n"]
        assert storage.tables("postgres", "autogen") == []
        assert _run(s, "SELECT host, v FROM archive.n") == [("a", 1)]
        assert _run(s, "SELECT host FROM av") == [("a",)]
        with pytest.raises(E.UndefinedTable):
            _run(s, "SELECT * FROM n")
        # the same measurement in another retention policy shares its series: not renamed
        _run(s, "CREATE TABLE n (time timestamptz NOT NULL, w int8)")
        with pytest.raises(E.FeatureNotSupported, match="another retention policy"):
            _run(s, "ALTER TABLE archive.n RENAME TO k")
        assert _run(s, "SELECT host, v FROM archive.n") == [("a", 1)]


@pytest.mark.parametrize(
    ("query", "renamed"),
    [
        ("SELECT m.host FROM m", 'SELECT "n2".host FROM "n2"'),
        ("SELECT host, avg(v) FROM m GROUP BY host", 'SELECT host, AVG(v) FROM "n2" GROUP BY host'),
        ("SELECT a.host FROM m AS a JOIN n ON n.x = a.v", 'SELECT a.host FROM "n2" AS a JOIN n ON n.x = a.v'),
        (
            "SELECT m.host FROM m WHERE EXISTS (SELECT 1 FROM o WHERE o.x = m.host)",
            'SELECT "n2".host FROM "n2" WHERE EXISTS(SELECT 1 FROM o WHERE o.x = "n2".host)',
        ),
        (
            "SELECT x FROM (SELECT m.host AS x FROM public.m) AS s",
            'SELECT x FROM (SELECT "n2".host AS x FROM public."n2") AS s',
        ),
        (  # another table under the name "m": its columns stay
            "SELECT m.y FROM other AS m WHERE EXISTS (SELECT 1 FROM m AS q WHERE q.h = m.y)",
            'SELECT m.y FROM other AS m WHERE EXISTS(SELECT 1 FROM "n2" AS q WHERE q.h = m.y)',
        ),
        ("WITH m AS (SELECT 1 AS x) SELECT m.x FROM m", None),  # (a CTE of that name)
        ("SELECT host FROM n", None),
        ("SELECT * FROM archive.m", None),  # another schema's table of that name
    ],
)
def test_rename_table_in_view(query: str, renamed: str | None) -> None:
    assert rename_table_in_view(query, "public", "m", "n2") == renamed


def test_a_renamed_temporary_table_stays_temporary(tmp_path: Path) -> None:
    from sql import temp_tables

    with sql_engine(tmp_path) as (storage, sql):
        s = sql.session("postgres")
        _run(s, "CREATE TEMP TABLE scratch (time timestamptz NOT NULL, v int8)")
        _run(s, "INSERT INTO scratch VALUES ('2024-01-01', 1)")
        _run(s, "ALTER TABLE scratch RENAME TO scratch2")
        assert _run(s, "SELECT v FROM scratch2") == [(1,)]
        s.close()  # (the session ends: its temporary tables go, under their names now)
        assert [t.name for t in storage.tables("postgres")] == []
        storage.flush()  # (a dropped table's rows still in the WAL bring it back at a restart: not ours)
        s = sql.session("postgres")
        _run(s, "CREATE TEMP TABLE left_over (time timestamptz NOT NULL, v int8)")
        _run(s, "ALTER TABLE left_over RENAME TO left_over2")
    with sql_engine(tmp_path) as (storage, sql):  # (a server stopped without ending the session)
        temp_tables.drop_leftovers(sql)
        assert [t.name for t in storage.tables("postgres")] == []
