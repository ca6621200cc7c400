"""TimescaleDB 2.18+'s API beside the policies (sql/timescale.py, retention/jobs.py,
sql/pgcatalog_timescale.py): CREATE TABLE ... WITH (tsdb.hypertable, ...), the columnstore names of
compression, job control (alter_job, run_job, delete_job) and what job_stats / job_errors report."""

from __future__ import annotations

import json
import time

import pytest

from retention import jobs
from sql import errors as E
from tests.sql.in_process import sql_engine

DAY_NS = 86_400 * 10**9


def _run(s, sql):
    r = s.execute(s.prepare(sql, []), [])
    return [row for b in (r.batches or []) for row in b.to_pylist()]


def _tag(s, sql):
    return s.execute(s.prepare(sql, []), []).tag


@pytest.fixture
def db(tmp_path):
    with sql_engine(tmp_path) as (storage, sql):
        yield storage, sql.session("postgres")


# TimescaleDB's current getting-started table, as its documentation writes it
CRYPTO = """CREATE TABLE crypto_ticks (
    "time" TIMESTAMPTZ,
    symbol TEXT,
    price DOUBLE PRECISION,
    day_volume NUMERIC
) WITH (
   tsdb.hypertable,
   tsdb.partition_column='time',
   tsdb.segmentby='symbol',
   tsdb.orderby='time DESC'
)"""


def test_create_table_with_tsdb_options_makes_a_hypertable_with_a_columnstore_policy(db):
    storage, s = db
    assert _tag(s, CRYPTO) == "CREATE TABLE"
    assert _run(
        s, "SELECT hypertable_name, compression_enabled FROM timescaledb_information.hypertables"
    ) == [{"hypertable_name": "crypto_ticks", "compression_enabled": True}]
    dims = _run(s, "SELECT column_name, time_interval::text AS i FROM timescaledb_information.dimensions")
    assert dims == [{"column_name": "time", "i": "7 days"}]
    assert _run(s, "SELECT * FROM timescaledb_information.hypertable_columnstore_settings") == [
        {
            "hypertable": "crypto_ticks",
            "segmentby": "symbol",
            "orderby": "time DESC",
            "compress_interval_length": None,
        }
    ]
    # the columnstore policy TimescaleDB adds: after one chunk interval
    (job,) = _run(s, "SELECT proc_name, config FROM timescaledb_information.jobs")
    assert job["proc_name"] == "policy_compression"
    assert json.loads(job["config"])["compress_after"] == "7 days"
    assert _run(s, "SELECT indexname FROM pg_indexes WHERE tablename = 'crypto_ticks'") == [
        {"indexname": "crypto_ticks_time_idx"}
    ]
    # the time column became NOT NULL, and rows go in and out as into any table
    assert _run(
        s,
        "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'crypto_ticks'::regclass AND attname = 'time'",
    ) == [{"attnotnull": True}]
    _run(s, "INSERT INTO crypto_ticks VALUES ('2026-01-01 00:00:00+00', 'BTC', 1.5, 10)")
    assert _run(s, "SELECT symbol, price FROM crypto_ticks") == [{"symbol": "BTC", "price": 1.5}]
    # IF NOT EXISTS of the table there is changes nothing, and adds no second policy
    assert _tag(s, CRYPTO.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS")) == "CREATE TABLE"
    assert len(jobs.jobs(storage)) == 1
    with pytest.raises(E.DuplicateTable):
        _run(s, CRYPTO)


def test_create_table_with_options_picks_the_first_timestamp_and_keeps_the_rest(db):
    storage, s = db
    _run(s, "CREATE TABLE m (id INT, ts TIMESTAMPTZ NOT NULL, at TIMESTAMPTZ, dev TEXT, v FLOAT8, CHECK (v > 0)) "
            "WITH (timescaledb.hypertable, timescaledb.chunk_interval = '1 day', fillfactor = 70, "
            "timescaledb.enable_columnstore = false, timescaledb.create_default_indexes = false)")  # fmt: skip
    dims = _run(s, "SELECT column_name, time_interval::text AS i FROM timescaledb_information.dimensions")
    assert dims == [{"column_name": "ts", "i": "1 day"}]
    assert _run(s, "SELECT compression_enabled FROM timescaledb_information.hypertables") == [
        {"compression_enabled": False}
    ]
    assert jobs.jobs(storage) == []  # no columnstore: no policy
    assert _run(s, "SELECT indexname FROM pg_indexes WHERE tablename = 'm'") == []
    with pytest.raises(E.CheckViolation):  # the CHECK of the statement holds
        _run(s, "INSERT INTO m VALUES (1, now(), now(), 'a', -1)")
    # a segmentby of two columns, a quoted comma inside the value
    _run(s, "CREATE TABLE n (ts TIMESTAMPTZ, dev TEXT, site TEXT, v FLOAT8) "
            "WITH (tsdb.hypertable, tsdb.segmentby = 'dev, site')")  # fmt: skip
    got = _run(s, "SELECT attname, segmentby_column_index AS i FROM timescaledb_information.compression_settings "
                  "WHERE hypertable_name = 'n' AND segmentby_column_index IS NOT NULL ORDER BY 2")  # fmt: skip
    assert got == [{"attname": "dev", "i": 1}, {"attname": "site", "i": 2}]


@pytest.mark.parametrize(
    ("columns", "options", "error"),
    [
        ("a INT, c TEXT", "tsdb.hypertable", E.InvalidTableDefinition),  # no timestamp to partition by
        ("a INT, b TIMESTAMPTZ", "tsdb.hypertable, tsdb.partition_column = 'nope'", E.UndefinedColumn),
        ("a INT, b TIMESTAMPTZ", "tsdb.hypertable, tsdb.bogus = 1", E.FeatureNotSupported),
        (
            "a INT, b TIMESTAMPTZ",
            "tsdb.segmentby = 'a'",
            E.FeatureNotSupported,
        ),  # no hypertable, no columnstore
        ("a INT, b TIMESTAMPTZ", "tsdb.hypertable, tsdb.segmentby = 'zz'", E.UndefinedColumn),
    ],
)
def test_bad_create_table_options_make_no_table(db, columns, options, error):
    storage, s = db
    with pytest.raises(error):
        _run(s, f"CREATE TABLE bad ({columns}) WITH ({options})")
    assert _run(s, "SELECT count(*) AS n FROM pg_class WHERE relname = 'bad'") == [{"n": 0}]
    assert jobs.jobs(storage) == []


@pytest.fixture
def hyper(db):
    storage, s = db
    _run(s, "CREATE TABLE conditions (time TIMESTAMPTZ NOT NULL, location TEXT NOT NULL, temperature FLOAT8)")
    _run(s, "SELECT create_hypertable('conditions', by_range('time', INTERVAL '1 day'))")
    return storage, s


def test_columnstore_names_of_compression(hyper):
    storage, s = hyper
    with pytest.raises(E.FeatureNotSupported, match="columnstore not enabled"):
        _run(s, "CALL add_columnstore_policy('conditions', after => INTERVAL '1d')")
    assert _tag(s, "ALTER TABLE conditions SET (timescaledb.enable_columnstore, "
                   "timescaledb.segmentby = 'location', timescaledb.orderby = 'time')") == "ALTER TABLE"  # fmt: skip
    assert _run(
        s, "SELECT segmentby, orderby FROM timescaledb_information.hypertable_compression_settings"
    ) == [{"segmentby": "location", "orderby": "time"}]
    with pytest.raises(E.UndefinedColumn):
        _run(s, "ALTER TABLE conditions SET (tsdb.orderby = 'nope DESC')")
    assert _tag(s, "CALL add_columnstore_policy('conditions', after => INTERVAL '1d')") == "CALL"
    (job,) = jobs.jobs(storage)
    assert (job.proc, job.config) == ("policy_compression", {"compress_after_s": 86_400.0})
    with pytest.raises(E.DuplicateObject):
        _run(s, "CALL add_columnstore_policy('conditions', after => INTERVAL '2d')")
    _run(s, "CALL add_columnstore_policy('conditions', after => INTERVAL '2d', if_not_exists => true)")
    with pytest.raises(E.WrongObjectType, match="is a procedure"):  # a procedure is CALLed
        _run(s, "SELECT add_columnstore_policy('conditions', after => INTERVAL '2d')")
    _run(s, "CALL remove_columnstore_policy('conditions')")
    assert jobs.jobs(storage) == []
    with pytest.raises(E.UndefinedObject):
        _run(s, "CALL remove_columnstore_policy('conditions')")
    _run(s, "CALL remove_columnstore_policy('conditions', if_exists => true)")
    _run(s, "INSERT INTO conditions VALUES (now(), 'a', 1)")
    (chunk,) = _run(s, "SELECT show_chunks('conditions') AS c")
    assert _tag(s, f"CALL convert_to_columnstore('{chunk['c']}')") == "CALL"
    assert _run(s, f"SELECT compress_chunk('{chunk['c']}') AS c") == [chunk]
    with pytest.raises(E.UndefinedTable):
        _run(s, "CALL convert_to_rowstore('_timescaledb_internal._hyper_1_999_chunk')")
    with pytest.raises(E.UndefinedFunction, match="procedure nope"):
        _run(s, "CALL nope(1)")


def test_alter_job_pauses_reschedules_and_reconfigures(hyper):
    storage, s = hyper
    for days in (100, 50, 0):
        _run(s, f"INSERT INTO conditions VALUES (now() - INTERVAL '{days} days', 'a', {days})")
    (job_id,) = _run(s, "SELECT add_retention_policy('conditions', INTERVAL '80 days') AS j")[0].values()
    record = _run(
        s, f"SELECT alter_job({job_id}, schedule_interval => INTERVAL '2 hours', scheduled => false)"
    )
    text = record[0]["alter_job"]
    assert text.startswith(f"({job_id},02:00:00,00:05:00,-1,00:05:00,f,")
    assert '"{""drop_after"": ""80 days""' in text
    row = _run(s, "SELECT schedule_interval::text AS i, scheduled FROM timescaledb_information.jobs")
    assert row == [{"i": "02:00:00", "scheduled": False}]
    assert jobs.run_due(storage, time.time_ns()) == []  # paused: never due
    assert _run(s, "SELECT count(*) AS n FROM conditions") == [{"n": 3}]
    # a new drop_after, then run now whether due or not
    _run(s, f"""SELECT alter_job({job_id}, config => '{{"drop_after": "40 days", "hypertable_id": 1}}')""")
    assert _tag(s, f"CALL run_job({job_id})") == "CALL"
    assert _run(s, "SELECT temperature FROM conditions") == [{"temperature": 0.0}]
    stats = _run(s, "SELECT job_id, total_runs, total_successes, total_failures, last_run_status, job_status, "
                    "last_run_started_at IS NOT NULL AS ran FROM timescaledb_information.job_stats")  # fmt: skip
    assert stats == [
        {"job_id": job_id, "total_runs": 1, "total_successes": 1, "total_failures": 0,
         "last_run_status": "Success", "job_status": "Paused", "ran": True}
    ]  # fmt: skip
    with pytest.raises(E.InvalidParameterValue, match="unrecognized key"):
        _run(s, f"""SELECT alter_job({job_id}, config => '{{"drop_afterr": "40 days"}}')""")
    # scheduled again, with a next start in an hour: not due before then
    _run(s, f"SELECT alter_job({job_id}, scheduled => true, next_start => now() + INTERVAL '1 hour')")
    now = time.time_ns()
    assert jobs.run_due(storage, now) == []
    assert [j.id for j in jobs.run_due(storage, now + 2 * 3600 * 10**9)] == [job_id]
    # unknown ids
    with pytest.raises(E.UndefinedObject, match="job 4242 not found"):
        _run(s, "SELECT alter_job(4242, scheduled => false)")
    assert _run(s, "SELECT alter_job(4242, scheduled => false, if_exists => true)") == [{"alter_job": None}]
    assert _run(s, f"SELECT delete_job({job_id})") == [{"delete_job": ""}]
    assert _run(s, "SELECT count(*) AS n FROM timescaledb_information.jobs") == [{"n": 0}]
    with pytest.raises(E.UndefinedObject):
        _run(s, f"SELECT delete_job({job_id})")
    with pytest.raises(E.UndefinedObject):
        _run(s, f"CALL run_job({job_id})")


def test_a_failed_run_is_reported_and_retried_after_the_retry_period(hyper):
    storage, s = hyper
    (job_id,) = _run(s, "SELECT add_retention_policy('conditions', INTERVAL '1 day') AS j")[0].values()
    jobs.update(storage, job_id, config={})  # a config without drop_after: the run fails
    now = time.time_ns()
    assert jobs.run_due(storage, now) == []
    errors = _run(
        s, "SELECT job_id, proc_name, sqlerrcode, err_message FROM timescaledb_information.job_errors"
    )
    assert len(errors) == 1 and errors[0]["job_id"] == job_id and errors[0]["proc_name"] == "policy_retention"
    assert "drop_after" in errors[0]["err_message"]
    stats = _run(
        s, "SELECT total_runs, total_failures, last_run_status FROM timescaledb_information.job_stats"
    )
    assert stats == [{"total_runs": 1, "total_failures": 1, "last_run_status": "Failed"}]
    # due again after the retry period (5 minutes for retention), not after the day's schedule
    assert jobs.run_due(storage, now + 60 * 10**9) == []
    jobs.update(storage, job_id, config={"drop_after_s": 86_400.0})
    assert [j.id for j in jobs.run_due(storage, now + 301 * 10**9)] == [job_id]
    jobs.update(storage, job_id, config={})
    with pytest.raises(E.InternalError, match=f"job {job_id} failed"):
        _run(s, f"CALL run_job({job_id})")


def test_reorder_policy_restore_hooks_and_user_jobs(hyper):
    storage, s = hyper
    got = _run(s, "SELECT add_reorder_policy('conditions', 'conditions_time_idx') AS j")
    assert got == [{"j": 1000}]
    assert jobs.jobs(storage)[0].proc == "policy_reorder"
    with pytest.raises(E.UndefinedObject, match="invalid reorder index"):
        _run(s, "SELECT add_reorder_policy('conditions', 'no_such_idx', if_not_exists => true)")
    _run(s, "SELECT remove_reorder_policy('conditions')")
    assert jobs.jobs(storage) == []
    _run(s, "INSERT INTO conditions VALUES (now(), 'a', 1)")
    assert _run(s, "SELECT reorder_chunk(c) FROM show_chunks('conditions') c") == [{"reorder_chunk": ""}]
    (chunk,) = _run(s, "SELECT show_chunks('conditions') AS c")
    with pytest.raises(E.UndefinedObject, match='tablespace "fast" does not exist'):
        _run(s, f"SELECT move_chunk(chunk => '{chunk['c']}', destination_tablespace => 'fast')")
    _run(s, f"SELECT move_chunk(chunk => '{chunk['c']}', destination_tablespace => 'pg_default')")
    assert _run(s, "SELECT timescaledb_pre_restore() AS a") == [{"a": True}]
    assert _run(s, "SELECT timescaledb_post_restore() AS a") == [{"a": True}]
    with pytest.raises(E.UndefinedFunction, match=r"public.my_action\(integer,jsonb\) not found"):
        _run(s, "SELECT add_job('my_action', '1h')")


def test_dropping_a_hypertable_drops_its_policies(hyper):
    storage, s = hyper
    _run(s, "SELECT add_retention_policy('conditions', INTERVAL '30 days')")
    _run(s, "CREATE TABLE other (time TIMESTAMPTZ NOT NULL, v FLOAT8) WITH (tsdb.hypertable)")
    assert sorted(j.relation for j in jobs.jobs(storage)) == ["conditions", "other"]
    _run(s, "DROP TABLE conditions")
    assert [j.relation for j in jobs.jobs(storage)] == ["other"]
    assert _run(s, "SELECT hypertable_name FROM timescaledb_information.jobs") == [
        {"hypertable_name": "other"}
    ]


def test_user_defined_actions_run_their_procedure_on_schedule(db):
    """add_job's procedure runs with the job's id and config: at once when the loop finds it due,
    by run_job in the session, again a schedule_interval later, with the config alter_job gives it;
    a failing run is in job_stats and job_errors; delete_job ends it. The jobs view lists it as
    TimescaleDB does."""
    storage, s = db
    _run(s, "CREATE TABLE runs (job int, msg text)")
    _run(
        s,
        """CREATE PROCEDURE note_run(job_id int, config jsonb) LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO runs VALUES (job_id, config->>'msg'); END $$""",
    )
    (row,) = _run(s, """SELECT add_job('note_run', '1 hour', config => '{"msg": "hi"}') AS id""")
    job_id = row["id"]
    assert job_id >= 1000
    assert _run(s, "SELECT application_name, proc_schema, proc_name, hypertable_name, config::text AS c, "
                   "schedule_interval::text AS i FROM timescaledb_information.jobs") == [
        {"application_name": f"User-Defined Action [{job_id}]", "proc_schema": "public",
         "proc_name": "note_run", "hypertable_name": None, "c": '{"msg": "hi"}', "i": "01:00:00"}
    ]  # fmt: skip
    actions = jobs.Actions(storage)
    try:
        now = time.time_ns()
        assert [j.id for j in jobs.run_due(storage, now, actions)] == [job_id]  # (due at once)
        assert jobs.run_due(storage, now + 60 * 10**9, actions) == []  # (an hour later next)
        _tag(s, f"CALL run_job({job_id})")
        _run(s, f"""SELECT alter_job({job_id}, config => '{{"msg": "changed"}}')""")
        assert [j.id for j in jobs.run_due(storage, now + 2 * 3600 * 10**9, actions)] == [job_id]
        assert _run(s, "SELECT job, msg FROM runs ORDER BY msg") == [
            {"job": job_id, "msg": "changed"}, {"job": job_id, "msg": "hi"}, {"job": job_id, "msg": "hi"}
        ]  # fmt: skip
        _run(
            s,
            """CREATE PROCEDURE failing(job_id int, config jsonb) LANGUAGE plpgsql AS $$
          BEGIN INSERT INTO runs VALUES (job_id, 'undone'); RAISE EXCEPTION 'boom %', job_id; END $$""",
        )
        (row,) = _run(s, "SELECT add_job('failing', '5 minutes', scheduled => true) AS id")
        assert jobs.run_due(storage, now + 2 * 3600 * 10**9, actions) == []
        assert _run(s, f"SELECT sqlerrcode, err_message FROM timescaledb_information.job_errors "
                       f"WHERE job_id = {row['id']}") == [{"sqlerrcode": "P0001", "err_message": f"boom {row['id']}"}]  # fmt: skip
        assert _run(s, "SELECT count(*) AS n FROM runs WHERE msg = 'undone'") == [
            {"n": 0}
        ]  # (its writes undone)
        assert _run(s, f"SELECT total_failures AS f FROM timescaledb_information.job_stats WHERE job_id = {row['id']}") == [
            {"f": 1}
        ]  # fmt: skip
        _run(s, f"SELECT delete_job({row['id']})")
        assert [r["proc_name"] for r in _run(s, "SELECT proc_name FROM timescaledb_information.jobs")] == [
            "note_run"
        ]
    finally:
        actions.close()
    with pytest.raises(E.InvalidParameterValue, match="schedule interval"):
        _run(s, "SELECT add_job('note_run', '-1 hour')")
