"""TimescaleDB's management API (sql/timescale.py, retention/jobs.py): migrations written for
TimescaleDB run unchanged, retention policies delete what they should, continuous aggregates answer
what their query answers."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from compat.influx.lineprotocol import parse
from retention import enforcer, jobs
from sql import errors as E
from tests.sql.in_process import sql_engine

DAY_NS = 86_400 * 10**9


def _run(s, sql):
    r = s.execute(s.prepare(sql, []), [])
    rows = [row for b in (r.batches or []) for row in b.to_pylist()]
    return r.tag, rows


@pytest.fixture
def db(tmp_path):
    with sql_engine(tmp_path) as (storage, sql):
        s = sql.session("postgres")
        _run(s, "CREATE TABLE conditions (time TIMESTAMPTZ NOT NULL, location TEXT NOT NULL, "
                "temperature DOUBLE PRECISION NULL, humidity DOUBLE PRECISION NULL)")  # fmt: skip
        _run(s, "SELECT create_hypertable('conditions', by_range('time', INTERVAL '1 day'))")
        yield storage, s


def _insert_days_ago(s, days, location="office", temperature=70.0):
    _run(
        s, f"INSERT INTO conditions VALUES (now() - INTERVAL '{days} days', '{location}', {temperature}, 50)"
    )


# TimescaleDB's getting-started migration, as its documentation writes it
MIGRATION = [
    ("CREATE EXTENSION IF NOT EXISTS timescaledb", "CREATE EXTENSION"),
    ("SELECT create_hypertable('conditions', by_range('time'), if_not_exists => TRUE)", "SELECT 1"),
    ("SELECT add_retention_policy('conditions', INTERVAL '90 days')", "SELECT 1"),
    (
        "ALTER TABLE conditions SET (timescaledb.compress, timescaledb.compress_segmentby = 'location', "
        "timescaledb.compress_orderby = 'time DESC')",
        "ALTER TABLE",
    ),  # fmt: skip
    ("SELECT add_compression_policy('conditions', compress_after => INTERVAL '7 days')", "SELECT 1"),
    (
        "CREATE MATERIALIZED VIEW conditions_summary_hourly WITH (timescaledb.continuous) AS "
        "SELECT location, time_bucket(INTERVAL '1 hour', time) AS bucket, AVG(temperature), "
        "MAX(temperature), MIN(temperature) FROM conditions GROUP BY location, bucket WITH NO DATA",
        "CREATE MATERIALIZED VIEW",
    ),  # fmt: skip
    (
        "SELECT add_continuous_aggregate_policy('conditions_summary_hourly', start_offset => INTERVAL '1 month', "
        "end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '1 hour')",
        "SELECT 1",
    ),  # fmt: skip
    ("CALL refresh_continuous_aggregate('conditions_summary_hourly', NULL, NULL)", "CALL"),
    (
        "ALTER MATERIALIZED VIEW conditions_summary_hourly SET (timescaledb.materialized_only = false)",
        "ALTER MATERIALIZED VIEW",
    ),  # fmt: skip
]


def test_a_timescaledb_migration_runs_unchanged(db):
    storage, s = db
    for sql, tag in MIGRATION:
        assert _run(s, sql)[0] == tag, sql
    listed = {(j.proc, j.relation): j for j in jobs.jobs(storage)}
    assert [j.id for j in listed.values()] == [1000, 1001, 1002]
    assert listed["policy_retention", "conditions"].config == {"drop_after_s": 90 * 86_400.0}
    assert listed["policy_refresh_continuous_aggregate", "conditions_summary_hourly"].schedule_s == 3600.0
    assert _run(s, "DROP MATERIALIZED VIEW conditions_summary_hourly")[0] == "DROP MATERIALIZED VIEW"
    assert {j.proc for j in jobs.jobs(storage)} == {"policy_retention", "policy_compression"}


def test_policies_exist_once(db):
    _, s = db
    assert _run(s, "SELECT add_retention_policy('conditions', INTERVAL '30 days')")[1] == [
        {"add_retention_policy": 1000}
    ]
    with pytest.raises(E.DuplicateObject):
        _run(s, "SELECT add_retention_policy('conditions', INTERVAL '60 days')")
    got = _run(s, "SELECT add_retention_policy('conditions', INTERVAL '60 days', if_not_exists => true)")
    assert got[1] == [{"add_retention_policy": -1}]
    _run(s, "SELECT remove_retention_policy('conditions')")
    with pytest.raises(E.UndefinedObject):
        _run(s, "SELECT remove_retention_policy('conditions')")
    _run(s, "SELECT remove_retention_policy('conditions', if_exists => true)")
    # ids are not reused
    assert _run(s, "SELECT add_retention_policy('conditions', INTERVAL '7 days')")[1] == [
        {"add_retention_policy": 1001}
    ]


def test_policies_need_a_hypertable_and_compression(db):
    _, s = db
    _run(s, "CREATE TABLE plain (time TIMESTAMPTZ NOT NULL, v DOUBLE PRECISION)")
    with pytest.raises(E.NotAHypertable):
        _run(s, "SELECT add_retention_policy('plain', INTERVAL '1 day')")
    with pytest.raises(E.UndefinedTable):
        _run(s, "SELECT add_retention_policy('nothing', INTERVAL '1 day')")
    with pytest.raises(E.FeatureNotSupported, match="compression not enabled"):
        _run(s, "SELECT add_compression_policy('conditions', INTERVAL '1 day')")


def test_a_measurement_written_by_line_protocol_is_a_hypertable(db):
    """Line protocol creates a measurement time-partitioned on ``time`` (as InfluxDB does): the
    TimescaleDB functions take it as a hypertable, with no create_hypertable first."""
    storage, s = db
    now = time.time_ns()
    body = f"mem,host=a used=1 {now - 40 * DAY_NS}\nmem,host=a used=2 {now - DAY_NS}\n".encode()
    for b in parse(body).batches:
        storage.write("postgres", b).check()
    storage.flush()
    names = [
        r["hypertable_name"]
        for r in _run(s, "SELECT hypertable_name FROM timescaledb_information.hypertables")[1]
    ]
    assert sorted(names) == ["conditions", "mem"]
    assert _run(s, "SELECT add_retention_policy('mem', INTERVAL '30 days')")[1] == [
        {"add_retention_policy": 1000}
    ]
    old = _run(s, "SELECT show_chunks('mem', older_than => INTERVAL '30 days')")[1]
    assert len(old) == 1
    _run(s, "SELECT drop_chunks('mem', older_than => INTERVAL '30 days')")
    assert [r["used"] for r in _run(s, "SELECT used FROM mem")[1]] == [2.0]
    # a table CREATE TABLE made stays a plain table until create_hypertable
    _run(s, "CREATE TABLE plain (time TIMESTAMPTZ NOT NULL, v DOUBLE PRECISION)")
    with pytest.raises(E.NotAHypertable):
        _run(s, "SELECT show_chunks('plain')")


def test_a_retention_job_deletes_old_rows_when_due(db):
    storage, s = db
    for days in (200, 100, 10, 0):
        _insert_days_ago(s, days, temperature=float(days))
    _run(s, "SELECT add_retention_policy('conditions', INTERVAL '90 days')")
    assert _run(s, "SELECT count(*) AS n FROM conditions")[1] == [{"n": 4}]
    now = time.time_ns()
    assert [j.id for j in jobs.run_due(storage, now)] == [1000]
    got = _run(s, "SELECT temperature FROM conditions ORDER BY temperature")[1]
    assert [r["temperature"] for r in got] == [0.0, 10.0]
    _insert_days_ago(s, 120)
    assert jobs.run_due(storage, now + 60 * 10**9) == []  # ran a minute ago: not due
    enforcer.enforce(storage, now + 2 * DAY_NS)  # the server's loop, two days on
    assert _run(s, "SELECT count(*) AS n FROM conditions")[1] == [{"n": 2}]


def test_jobs_survive_a_restart(tmp_path):
    with sql_engine(tmp_path) as (_storage, sql):
        s = sql.session("postgres")
        _run(s, "CREATE TABLE m (time TIMESTAMPTZ NOT NULL, v DOUBLE PRECISION)")
        _run(s, "SELECT create_hypertable('m', 'time')")
        _run(s, "SELECT add_retention_policy('m', drop_after => INTERVAL '2 weeks', "
                "schedule_interval => INTERVAL '6 hours')")  # fmt: skip
    with sql_engine(tmp_path) as (storage, _sql):
        (job,) = jobs.jobs(storage)
        assert (job.id, job.relation, job.schedule_s, job.config) == (
            1000,
            "m",
            21_600.0,
            {"drop_after_s": 1_209_600.0},
        )


def test_drop_chunks_deletes_older_rows_now(db):
    storage, s = db
    for days in (40, 20, 1):
        _insert_days_ago(s, days, temperature=float(days))
    storage.flush()
    shown = _run(s, "SELECT show_chunks('conditions')")[1]
    assert shown and all(r["show_chunks"].startswith("_timescaledb_internal._hyper_") for r in shown)
    assert _run(s, "SELECT show_chunks('conditions', older_than => INTERVAL '1 year')")[1] == []
    _run(s, "SELECT drop_chunks('conditions', INTERVAL '30 days')")
    got = _run(s, "SELECT temperature FROM conditions ORDER BY temperature")[1]
    assert [r["temperature"] for r in got] == [1.0, 20.0]
    cutoff = (dt.datetime.now(dt.UTC) - dt.timedelta(days=10)).isoformat()
    _run(s, f"SELECT drop_chunks('conditions', older_than => '{cutoff}'::timestamptz)")
    assert [r["temperature"] for r in _run(s, "SELECT temperature FROM conditions")[1]] == [1.0]
    with pytest.raises(E.InvalidParameterValue):
        _run(s, "SELECT drop_chunks('conditions')")


def test_a_continuous_aggregate_answers_its_query(db):
    _, s = db
    for days, loc, t in [(3, "office", 20.0), (3, "office", 22.0), (2, "garage", 5.0), (0, "office", 21.0)]:
        _insert_days_ago(s, days, loc, t)
    query = ("SELECT location, time_bucket(INTERVAL '1 day', time) AS bucket, avg(temperature) AS avg_t, "
             "max(temperature) AS max_t FROM conditions GROUP BY location, bucket")  # fmt: skip
    _run(s, f"CREATE MATERIALIZED VIEW daily WITH (timescaledb.continuous, timescaledb.materialized_only = true) "
            f"AS {query} WITH DATA")  # fmt: skip
    want = _run(s, f"SELECT * FROM ({query}) q ORDER BY bucket, location")[1]
    got = _run(s, "SELECT * FROM daily ORDER BY bucket, location")[1]
    assert got == want and len(got) == 3
    _insert_days_ago(s, 0, "garage", 7.0)  # always up to date, as a real-time aggregate
    assert len(_run(s, "SELECT * FROM daily WHERE location = 'garage'")[1]) == 2
    assert _run(s, "CREATE MATERIALIZED VIEW IF NOT EXISTS daily WITH (timescaledb.continuous) AS "
                   f"{query}")[0] == "CREATE MATERIALIZED VIEW"  # fmt: skip
    with pytest.raises(E.DuplicateTable):
        _run(s, f"CREATE MATERIALIZED VIEW daily WITH (timescaledb.continuous) AS {query}")
    _run(s, "DROP MATERIALIZED VIEW daily")
    with pytest.raises(E.UndefinedTable):
        _run(s, "SELECT * FROM daily")
    _run(s, "DROP MATERIALIZED VIEW IF EXISTS daily")
    with pytest.raises(E.UndefinedTable):
        _run(s, "CALL refresh_continuous_aggregate('daily', NULL, NULL)")


def test_other_materialized_views_are_refused(db):
    _, s = db
    with pytest.raises(E.FeatureNotSupported):
        _run(s, "CREATE MATERIALIZED VIEW mv WITH (timescaledb.materialized_only = true) AS "
                "SELECT time_bucket('1 day', time) AS b, count(*) FROM conditions GROUP BY b")  # fmt: skip
    with pytest.raises(E.FeatureNotSupported, match="time bucket"):
        _run(s, "CREATE MATERIALIZED VIEW mv WITH (timescaledb.continuous) AS "
                "SELECT location, count(*) FROM conditions GROUP BY location")  # fmt: skip


def test_chunk_calls_in_from(db):
    storage, s = db
    for days in (40, 1):
        _insert_days_ago(s, days, temperature=float(days))
    storage.flush()
    chunks = [r["show_chunks"] for r in _run(s, "SELECT show_chunks('conditions')")[1]]
    got = _run(s, "SELECT c FROM show_chunks('conditions') c ORDER BY c")[1]
    assert [r["c"] for r in got] == sorted(chunks) and len(chunks) == 2
    old = _run(s, "SELECT compress_chunk(c, if_not_compressed => true) AS done "
                  "FROM show_chunks('conditions', older_than => INTERVAL '30 days') c")[1]  # fmt: skip
    assert len(old) == 1 and old[0]["done"] in chunks
    assert _run(s, "SELECT count(*) AS n FROM show_chunks('conditions', older_than => INTERVAL '1 year')")[
        1
    ] == [{"n": 0}]
    dropped = _run(s, "SELECT * FROM drop_chunks('conditions', older_than => INTERVAL '30 days')")[1]
    assert [r["drop_chunks"] for r in dropped] == [old[0]["done"]]
    assert [r["temperature"] for r in _run(s, "SELECT temperature FROM conditions")[1]] == [1.0]


def test_add_dimension_is_accepted(db):
    _, s = db
    got = _run(s, "SELECT add_dimension('conditions', by_hash('location', 4))")[1]
    assert got == [{"add_dimension": "(2,public,conditions,location,t)"}]
    with pytest.raises(E.UndefinedColumn):
        _run(s, "SELECT add_dimension('conditions', by_hash('nothing', 4))")


def test_create_hypertable_of_an_empty_table_while_another_holds_rows(db):
    """Whether the table holds rows was asked of every table's memtable in the database: another
    table's unflushed rows made create_hypertable refuse an empty table that needs a new time column."""
    _storage, s = db
    _insert_days_ago(s, 1)  # conditions: rows in the memtable
    _run(s, "CREATE TABLE events (id int, at timestamptz NOT NULL, seen timestamptz)")  # time: at
    assert _run(s, "SELECT create_hypertable('events', 'seen')")[0] == "SELECT 1"
    # TimescaleDB's default index, and not a second one when an index starts with the time column
    rows = _run(s, "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'events'")[1]
    assert rows == [
        {
            "indexname": "events_seen_idx",
            "indexdef": "CREATE INDEX events_seen_idx ON public.events USING btree (seen DESC)",
        }
    ]
    _run(s, "CREATE TABLE marks (time timestamptz NOT NULL, v int)")
    _run(s, "CREATE INDEX marks_t ON marks (time)")
    _run(s, "SELECT create_hypertable('marks', 'time')")
    assert [
        r["indexname"] for r in _run(s, "SELECT indexname FROM pg_indexes WHERE tablename = 'marks'")[1]
    ] == ["marks_t"]


def _ranges(s):
    rows = _run(s, "SELECT range_start, range_end FROM timescaledb_information.chunks ORDER BY range_start")[
        1
    ]
    return [(r["range_start"], r["range_end"]) for r in rows]


def _at(text):
    return dt.datetime.fromisoformat(text)


def test_chunks_span_the_hypertables_chunk_interval(db):
    """create_hypertable's chunk_time_interval is the length of the chunks made (they were the
    storage's week-long shards whatever the call said); set_chunk_time_interval changes only the
    chunks made after it, as in TimescaleDB."""
    _storage, s = db  # conditions: chunk_time_interval 1 day
    _run(
        s,
        "INSERT INTO conditions VALUES ('2026-11-10 05:00+00', 'a', 1, 1), ('2026-11-11 23:00+00', 'a', 2, 2)",
    )
    assert _ranges(s) == [
        (_at("2026-11-10T00:00:00+00:00"), _at("2026-11-11T00:00:00+00:00")),
        (_at("2026-11-11T00:00:00+00:00"), _at("2026-11-12T00:00:00+00:00")),
    ]
    _run(s, "SELECT set_chunk_time_interval('conditions', INTERVAL '6 hours')")
    _run(
        s,
        "INSERT INTO conditions VALUES ('2026-11-11 13:00+00', 'b', 3, 3), ('2026-11-20 07:00+00', 'b', 4, 4)",
    )
    assert _ranges(s)[1:] == [
        (_at("2026-11-11T00:00:00+00:00"), _at("2026-11-12T00:00:00+00:00")),  # (the old chunk holds it)
        (_at("2026-11-20T06:00:00+00:00"), _at("2026-11-20T12:00:00+00:00")),
    ]
    _run(s, "CREATE TABLE tiny (time timestamptz NOT NULL, v int)")
    _run(s, "SELECT create_hypertable('tiny', 'time', chunk_time_interval => INTERVAL '1 minute')")
    _run(s, "INSERT INTO tiny VALUES ('2026-12-01 10:30+00', 1)")  # (an hour at least: InfluxDB's floor)
    assert _ranges(s)[-1] == (_at("2026-12-01T10:00:00+00:00"), _at("2026-12-01T11:00:00+00:00"))
    for bad in ("0", "INTERVAL '-1 day'", "'soon'"):
        with pytest.raises(E.InvalidParameterValue):
            _run(s, f"SELECT set_chunk_time_interval('tiny', {bad})")


def test_drop_chunks_drops_whole_chunks_only(db):
    """TimescaleDB drops the chunks lying wholly before older_than (after newer_than): a chunk that
    straddles the bound keeps every row, a dropped one is no longer listed, and another table's rows
    in the same time partition stay. Called in FROM, the chunks are dropped and named once."""
    storage, s = db
    _run(s, "INSERT INTO conditions SELECT t, 'a', extract(day from t), 0 FROM generate_series("
            "timestamptz '2026-11-10 05:00+00', timestamptz '2026-11-14 05:00+00', INTERVAL '1 hour') t")  # fmt: skip
    _run(s, "CREATE TABLE other (time timestamptz NOT NULL, v int)")
    _run(s, "INSERT INTO other VALUES ('2026-11-10 06:00+00', 1)")
    storage.flush()
    _run(s, "INSERT INTO conditions VALUES ('2026-11-10 23:30+00', 'b', 10, 0)")  # (a memtable row too)
    got = _run(s, "SELECT * FROM drop_chunks('conditions', older_than => timestamptz '2026-11-12 12:00+00')")[
        1
    ]
    assert len(got) == 2 and len(_ranges(s)) == 3
    assert _run(s, "SELECT min(time) AS t, count(*) AS n FROM conditions")[1] == [
        {"t": _at("2026-11-12T00:00:00+00:00"), "n": 54}
    ]
    assert _run(s, "SELECT count(*) AS n FROM other")[1] == [{"n": 1}]
    assert (
        _run(s, "SELECT drop_chunks('conditions', older_than => timestamptz '2026-11-12 12:00+00')")[1] == []
    )
    _run(s, "SELECT drop_chunks('conditions', newer_than => timestamptz '2026-11-13 00:00+00')")
    assert _run(s, "SELECT max(time) AS t FROM conditions")[1] == [{"t": _at("2026-11-12T23:00:00+00:00")}]


def test_a_retention_job_drops_whole_chunks(db):
    storage, s = db
    now = time.time_ns()
    start = now // DAY_NS * DAY_NS  # today's chunk: [start, start + 1 day)
    _run(s, "SELECT add_retention_policy('conditions', INTERVAL '36 hours')")
    for hours in (12, 30, 47, 49, 80):  # (hours before the start of today)
        at = dt.datetime.fromtimestamp((start - hours * 3600 * 10**9) / 1e9, dt.UTC).isoformat()
        _run(s, f"INSERT INTO conditions VALUES ('{at}', 'x', {hours}, 0)")
    jobs.run_due(storage, start + 10 * 3600 * 10**9)  # cutoff: 26 h before the start of today
    got = _run(s, "SELECT temperature FROM conditions ORDER BY temperature")[1]
    # the chunk of two days back straddles the cutoff: kept whole (a row deletion kept 30 only);
    # the chunks of three and four days back lie wholly before it
    assert [r["temperature"] for r in got] == [12.0, 30.0, 47.0]


def test_management_calls_run_once_per_row_of_their_query(db):
    """TimescaleDB's documentation pauses jobs with SELECT alter_job(job_id, scheduled => false) FROM
    timescaledb_information.jobs WHERE ...: a management call over a FROM runs once per row, its
    arguments read from the row (it was 42883, only a call alone in a SELECT ran)."""
    _storage, s = db
    _run(s, "CREATE TABLE metrics (time TIMESTAMPTZ NOT NULL, v DOUBLE PRECISION)")
    _run(s, "SELECT create_hypertable('metrics', 'time')")
    tag, rows = _run(
        s,
        "SELECT add_retention_policy(format('%I.%I', hypertable_schema, hypertable_name), INTERVAL '30 days') "
        "AS id FROM timescaledb_information.hypertables ORDER BY hypertable_name",
    )
    assert (tag, rows) == ("SELECT 2", [{"id": 1000}, {"id": 1001}])
    tag, rows = _run(
        s,
        "SELECT alter_job(job_id, scheduled => false) FROM timescaledb_information.jobs "
        "WHERE hypertable_name = 'metrics'",
    )
    assert tag == "SELECT 1" and rows[0]["alter_job"].startswith("(1001,")
    got = _run(s, "SELECT hypertable_name AS t, scheduled FROM timescaledb_information.jobs ORDER BY 1")[1]
    assert got == [{"t": "conditions", "scheduled": True}, {"t": "metrics", "scheduled": False}]
    assert _run(s, "SELECT delete_job(job_id) FROM timescaledb_information.jobs WHERE job_id > 5000") == (
        "SELECT 0",
        [],
    )
    with pytest.raises(E.SqlError):  # a row whose call fails fails the statement
        _run(s, "SELECT alter_job(j, scheduled => true) FROM (VALUES (1000), (4242)) AS v(j)")
    _run(s, "SELECT remove_retention_policy(hypertable_name) FROM timescaledb_information.hypertables")
    assert _run(s, "SELECT count(*) AS n FROM timescaledb_information.jobs")[1] == [{"n": 0}]


def test_compression_stats(db):
    """hypertable_compression_stats / chunk_compression_stats (and the columnstore names) were 42883.
    A chunk counts as compressed once compression is enabled and compress_chunk wrote its rows from
    memory to chunk files; after compression is the files' size, before it the rows' size in a
    PostgreSQL heap (estimated: 28 bytes a row, 8 per timestamp or double, the tag's length + 1)."""
    _storage, s = db
    _run(s, "INSERT INTO conditions SELECT t, 'office', 20, 50 FROM generate_series("
            "timestamptz '2026-11-10 00:00+00', timestamptz '2026-11-11 23:59+00', INTERVAL '1 minute') t")  # fmt: skip
    stats = "SELECT * FROM hypertable_compression_stats('conditions')"
    (got,) = _run(s, stats)[1]
    assert (got["total_chunks"], got["number_compressed_chunks"], got["before_compression_total_bytes"]) == (
        2,
        0,
        None,
    )
    _run(s, "ALTER TABLE conditions SET (timescaledb.compress)")
    chunks = (
        "SELECT chunk_name, compression_status AS st FROM chunk_compression_stats('conditions') ORDER BY 1"
    )
    assert [r["st"] for r in _run(s, chunks)[1]] == ["Uncompressed", "Uncompressed"]  # rows in memory
    _run(s, "SELECT compress_chunk(c) FROM show_chunks('conditions') c")
    (got,) = _run(s, "SELECT * FROM hypertable_columnstore_stats('conditions')")[1]
    row = 28 + 8 + len("office") + 1 + 8 + 8
    assert got["number_compressed_chunks"] == 2
    assert got["before_compression_table_bytes"] == got["before_compression_total_bytes"] == 2880 * row
    after = got["after_compression_total_bytes"]
    assert 0 < after < got["before_compression_total_bytes"] // 4  # (a constant series compresses well)
    per_chunk = _run(s, "SELECT * FROM chunk_columnstore_stats('conditions') ORDER BY chunk_name")[1]
    assert [r["compression_status"] for r in per_chunk] == ["Compressed", "Compressed"]
    assert sum(r["after_compression_total_bytes"] for r in per_chunk) == after
    assert sum(r["before_compression_table_bytes"] for r in per_chunk) == 2880 * row
    with pytest.raises(E.UndefinedTable):
        _run(s, "SELECT * FROM chunk_compression_stats('nothing')")
