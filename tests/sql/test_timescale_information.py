"""TimescaleDB's timescaledb_information views and size functions (sql/pgcatalog_timescale.py,
sql/rewrite/catalog_functions.py): they list what the management API created, and stop listing it
once it is removed."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
import pytest

from sql import errors as E
from tests.sql.in_process import sql_engine

DAY = pa.MonthDayNano([0, 1, 0])
# TimescaleDB's views tsgres has, by name (tests/sql/test_pgcatalog.py's JDBC listing expects them too)
VIEWS = (
    "chunk_columnstore_settings",
    "chunk_compression_settings",
    "chunks",
    "compression_settings",
    "continuous_aggregates",
    "dimensions",
    "hypertable_columnstore_settings",
    "hypertable_compression_settings",
    "hypertables",
    "job_errors",
    "job_stats",
    "jobs",
)


def _run(s, sql):
    r = s.execute(s.prepare(sql, []), [])
    return [row for b in (r.batches or []) for row in b.to_pylist()]


def _one(s, sql):
    (row,) = _run(s, sql)
    (value,) = row.values()
    return value


@pytest.fixture
def db(tmp_path):
    with sql_engine(tmp_path) as (storage, sql):
        s = sql.session("postgres")
        _run(s, "CREATE TABLE conditions (time TIMESTAMPTZ NOT NULL, location TEXT NOT NULL, "
                "temperature DOUBLE PRECISION NULL)")  # fmt: skip
        _run(s, "SELECT create_hypertable('conditions', by_range('time', INTERVAL '1 day'))")
        _run(s, "CREATE TABLE plain (time TIMESTAMPTZ NOT NULL, v DOUBLE PRECISION)")
        yield storage, sql, s


def _insert_days_ago(s, *days):
    values = ", ".join(f"(now() - INTERVAL '{d} days', 'office', {float(d)})" for d in days)
    _run(s, f"INSERT INTO conditions VALUES {values}")


CAGG = (
    "CREATE MATERIALIZED VIEW hourly WITH (timescaledb.continuous) AS SELECT location, "
    "time_bucket(INTERVAL '1 hour', time) AS bucket, avg(temperature) AS t FROM conditions "
    "GROUP BY location, bucket WITH NO DATA"
)


def test_hypertables_lists_the_hypertables_of_this_database(db):
    storage, sql, s = db
    got = _run(s, "SELECT * FROM timescaledb_information.hypertables")
    assert got == [
        {
            "hypertable_schema": "public",
            "hypertable_name": "conditions",
            "owner": "postgres",
            "num_dimensions": 1,
            "num_chunks": 0,
            "compression_enabled": False,
            "tablespaces": None,
        }
    ]
    _insert_days_ago(s, 0, 1, 30)  # chunks of the hypertable's one day: three
    _run(s, "ALTER TABLE conditions SET (timescaledb.compress)")
    query = ("SELECT num_chunks, compression_enabled FROM timescaledb_information.hypertables "
             "WHERE hypertable_name = 'conditions'")  # fmt: skip
    assert _run(s, query) == [{"num_chunks": 3, "compression_enabled": True}]
    assert _one(s, "SELECT num_chunks FROM timescaledb_information.hypertables") == len(
        _run(s, "SELECT show_chunks('conditions')")
    )
    other = sql.session("postgres")  # another database's hypertables are not listed
    _run(other, "CREATE DATABASE elsewhere")
    there = sql.session("elsewhere")
    assert _run(there, "SELECT * FROM timescaledb_information.hypertables") == []
    _run(s, "DROP TABLE conditions")
    assert _run(s, "SELECT * FROM timescaledb_information.hypertables") == []


def test_jobs_lists_the_policies_until_they_are_removed(db):
    _, _, s = db
    _run(s, "SELECT add_retention_policy('conditions', INTERVAL '90 days')")
    _run(s, "ALTER TABLE conditions SET (timescaledb.compress)")
    _run(s, "SELECT add_compression_policy('conditions', compress_after => INTERVAL '7 days')")
    _run(s, CAGG)
    _run(s, "SELECT add_continuous_aggregate_policy('hourly', start_offset => INTERVAL '3 days', "
            "end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '1 hour')")  # fmt: skip
    got = _run(s, "SELECT * FROM timescaledb_information.jobs ORDER BY job_id")
    assert [(j["job_id"], j["application_name"], j["proc_name"], j["hypertable_name"]) for j in got] == [
        (1000, "Retention Policy [1000]", "policy_retention", "conditions"),
        (1001, "Compression Policy [1001]", "policy_compression", "conditions"),
        (1002, "Refresh Continuous Aggregate Policy [1002]", "policy_refresh_continuous_aggregate", "hourly"),
    ]
    retention = got[0]
    assert retention["schedule_interval"] == DAY
    assert retention["proc_schema"] == retention["check_schema"] == "_timescaledb_functions"
    assert retention["check_name"] == "policy_retention_check"
    assert (retention["scheduled"], retention["fixed_schedule"], retention["next_start"]) == (
        True,
        False,
        None,
    )
    table_id = json.loads(retention["config"])["hypertable_id"]
    assert retention["config"] == f'{{"drop_after": "90 days", "hypertable_id": {table_id}}}'
    assert json.loads(got[2]["config"]) == {"end_offset": "01:00:00", "start_offset": "3 days"}
    assert got[2]["schedule_interval"] == got[2]["retry_period"] == pa.MonthDayNano([0, 0, 3600 * 10**9])
    # joins, and jsonb operators on config
    assert _run(
        s,
        "SELECT h.hypertable_name, j.config->>'drop_after' AS drop_after FROM timescaledb_information.jobs j "
        "JOIN timescaledb_information.hypertables h USING (hypertable_schema, hypertable_name) "
        "WHERE j.proc_name = 'policy_retention'",
    ) == [{"hypertable_name": "conditions", "drop_after": "90 days"}]
    _run(s, "SELECT remove_retention_policy('conditions')")
    _run(s, "DROP MATERIALIZED VIEW hourly")
    assert _run(s, "SELECT job_id FROM timescaledb_information.jobs") == [{"job_id": 1001}]


def test_jobs_of_another_database_are_not_listed(db):
    _, sql, s = db
    _run(s, "SELECT add_retention_policy('conditions', INTERVAL '90 days')")
    _run(s, "CREATE DATABASE elsewhere")
    assert _run(sql.session("elsewhere"), "SELECT * FROM timescaledb_information.jobs") == []
    assert len(_run(s, "SELECT * FROM timescaledb_information.jobs")) == 1


def test_continuous_aggregates_lists_the_views(db):
    _, _, s = db
    _run(s, "CREATE VIEW not_one AS SELECT * FROM conditions")
    _run(s, CAGG)
    got = _run(s, "SELECT * FROM timescaledb_information.continuous_aggregates")
    assert len(got) == 1
    (cagg,) = got
    assert (cagg["hypertable_schema"], cagg["hypertable_name"], cagg["view_schema"], cagg["view_name"]) == (
        "public",
        "conditions",
        "public",
        "hourly",
    )
    assert (cagg["materialized_only"], cagg["compression_enabled"], cagg["finalized"]) == (True, False, True)
    assert "time_bucket" in cagg["view_definition"].lower()
    _run(s, "ALTER MATERIALIZED VIEW hourly SET (timescaledb.materialized_only = false)")
    assert _one(s, "SELECT materialized_only FROM timescaledb_information.continuous_aggregates") is False
    _run(s, "DROP MATERIALIZED VIEW hourly")
    assert _run(s, "SELECT * FROM timescaledb_information.continuous_aggregates") == []


def test_dimensions_show_the_time_column_and_chunk_interval(db):
    _, _, s = db
    _run(s, "CREATE TABLE ints (ts TIMESTAMP NOT NULL, v INT)")
    _run(s, "SELECT create_hypertable('ints', 'ts')")
    got = _run(s, "SELECT * FROM timescaledb_information.dimensions ORDER BY hypertable_name")
    assert [(d["hypertable_name"], d["column_name"], d["column_type"], d["time_interval"]) for d in got] == [
        ("conditions", "time", "timestamp with time zone", DAY),
        ("ints", "ts", "timestamp without time zone", pa.MonthDayNano([0, 7, 0])),  # the default
    ]
    assert {(d["dimension_number"], d["dimension_type"], d["integer_interval"]) for d in got} == {
        (1, "Time", None)
    }
    _run(s, "SELECT set_chunk_time_interval('ints', INTERVAL '2 hours')")
    got = _one(
        s, "SELECT time_interval FROM timescaledb_information.dimensions WHERE hypertable_name = 'ints'"
    )
    assert got == pa.MonthDayNano([0, 0, 2 * 3600 * 10**9])


def test_chunks_are_what_show_chunks_lists(db):
    storage, _, s = db
    _insert_days_ago(s, 0, 30)
    got = _run(s, "SELECT * FROM timescaledb_information.chunks ORDER BY range_start")
    shown = sorted(r["show_chunks"] for r in _run(s, "SELECT show_chunks('conditions')"))
    assert sorted(f"{c['chunk_schema']}.{c['chunk_name']}" for c in got) == shown and len(shown) == 2
    now = dt.datetime.now(dt.UTC)
    old, new = got
    assert old["range_start"] <= now - dt.timedelta(days=30) < old["range_end"] <= new["range_start"]
    assert new["range_start"] <= now < new["range_end"]
    assert {(c["primary_dimension"], c["primary_dimension_type"]) for c in got} == {
        ("time", "timestamp with time zone")
    }
    assert {c["is_compressed"] for c in got} == {False}
    _run(s, "ALTER TABLE conditions SET (timescaledb.compress)")
    storage.flush()  # in chunk files, compressed columnar: compressed
    assert {c["is_compressed"] for c in _run(s, "SELECT * FROM timescaledb_information.chunks")} == {True}
    assert _run(s, "SELECT * FROM timescaledb_information.chunks WHERE hypertable_name = 'plain'") == []
    _run(s, "DROP TABLE conditions")
    assert _run(s, "SELECT * FROM timescaledb_information.chunks") == []


def test_views_are_in_the_catalog_but_not_on_the_search_path(db):
    _, _, s = db
    _run(s, CAGG)
    # psql's \dv: views visible on the search path only (TimescaleDB's are not)
    dv = ("SELECT n.nspname AS schema, c.relname AS name FROM pg_catalog.pg_class c "
          "LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('v','') "
          "AND n.nspname <> 'pg_catalog' AND n.nspname !~ '^pg_toast' AND n.nspname <> 'information_schema' "
          "AND pg_catalog.pg_table_is_visible(c.oid) ORDER BY 1,2")  # fmt: skip
    assert _run(s, dv) == [{"schema": "public", "name": "hourly"}]
    # \dv timescaledb_information.*
    listed = _run(
        s,
        "SELECT c.relname FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n "
        "ON n.oid = c.relnamespace WHERE c.relkind IN ('v','') "
        "AND n.nspname OPERATOR(pg_catalog.~) '^(timescaledb_information)$' COLLATE pg_catalog.default "
        "ORDER BY 1",
    )
    assert [r["relname"] for r in listed] == list(VIEWS)
    cols = _run(
        s,
        "SELECT attname, format_type(atttypid, atttypmod) AS t FROM pg_attribute "
        "WHERE attrelid = 'timescaledb_information.jobs'::regclass AND attname IN ('schedule_interval', 'config') "
        "ORDER BY attnum",
    )
    assert cols == [{"attname": "schedule_interval", "t": "interval"}, {"attname": "config", "t": "jsonb"}]


def test_size_functions_grow_with_rows(db):
    storage, _, s = db
    sizes = ("SELECT hypertable_size('conditions') AS size, approximate_row_count('conditions') AS n, "
             "(SELECT total_bytes FROM hypertable_detailed_size('conditions')) AS total, "
             "(SELECT sum(total_bytes) FROM chunks_detailed_size('conditions')) AS chunks")  # fmt: skip
    assert _run(s, sizes) == [{"size": 0, "n": 0, "total": 0, "chunks": None}]
    _insert_days_ago(s, 0, 1, 30)
    in_memory = _run(s, sizes)[0]
    assert in_memory["size"] > 0 and in_memory["n"] == 3
    assert in_memory["size"] == in_memory["total"] == in_memory["chunks"]
    storage.flush()
    flushed = _run(s, sizes)[0]
    assert (
        flushed["size"] > 0 and flushed["n"] == 3 and flushed["size"] == flushed["total"] == flushed["chunks"]
    )
    assert flushed["size"] == _one(s, "SELECT pg_total_relation_size('conditions')")  # (all in files now)
    _insert_days_ago(s, *range(2, 40))
    storage.flush()
    grown = _run(s, sizes)[0]
    assert grown["size"] > flushed["size"] and grown["n"] == 41
    detailed = _run(s, "SELECT * FROM public.hypertable_detailed_size('conditions')")
    assert detailed == [
        {
            "table_bytes": grown["size"],
            "index_bytes": 0,
            "toast_bytes": 0,
            "total_bytes": grown["size"],
            "node_name": None,
        }
    ]
    chunks = _run(s, "SELECT chunk_schema, chunk_name FROM chunks_detailed_size('conditions') ORDER BY 2")
    listed = _run(s, "SELECT chunk_schema, chunk_name FROM timescaledb_information.chunks ORDER BY 2")
    assert chunks == listed and len(chunks) >= 6
    assert _one(s, "SELECT * FROM hypertable_size('conditions')") == grown["size"]


def test_size_functions_of_other_relations(db):
    _, _, s = db
    _run(s, "INSERT INTO plain VALUES (now(), 1), (now(), 2)")
    # not a hypertable: NULL (no rows), as TimescaleDB 2.x answers; approximate_row_count counts any table
    assert _one(s, "SELECT hypertable_size('plain')") is None
    assert _run(s, "SELECT * FROM hypertable_detailed_size('plain')") == []
    assert _run(s, "SELECT * FROM chunks_detailed_size('plain')") == []
    assert _one(s, "SELECT approximate_row_count('plain')") == 2
    for call in (
        "SELECT hypertable_size('nope')",
        "SELECT approximate_row_count('public.nope')",
        "SELECT * FROM hypertable_detailed_size('nope')",
        "SELECT * FROM chunks_detailed_size('nope'::regclass)",
    ):
        with pytest.raises(E.UndefinedTable, match='relation "(public.)?nope" does not exist'):
            _run(s, call)


def test_approximate_size_and_index_size(db):
    _, _, s = db
    _insert_days_ago(s, 0, 1, 2)
    size = _one(s, "SELECT hypertable_size('conditions')")
    assert size > 0
    assert _one(s, "SELECT hypertable_approximate_size('conditions')") == size
    # an index takes no bytes of its own; an unknown one is 42P01
    assert _one(s, "SELECT hypertable_index_size('conditions_time_idx')") == 0
    assert _one(s, "SELECT * FROM hypertable_index_size('conditions_time_idx')") == 0
    with pytest.raises(E.UndefinedTable):
        _run(s, "SELECT hypertable_index_size('no_such_idx')")
