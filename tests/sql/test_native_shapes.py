"""Native executor shapes (filtered scans, first/last, newest buckets, CTE-inlined aggregates) answer
exactly what DuckDB answers, over chunk files + memtable, overwritten rows, deleted rows and NULLs."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from decimal import Decimal

import numpy as np
import pytest

from bench.datagen import DevopsCpu
from columnar.batch import WriteBatch
from tests.sql.in_process import sql_engine

T = "'2016-01-01 {}+00'".format

FILTERED = [
    f"SELECT * FROM cpu WHERE usage_user > 90.0 AND time >= {T('00:20:00')} AND time < {T('02:20:00')}",
    "SELECT * FROM cpu WHERE usage_user > 90.0 AND hostname = 'host_2'",
    "SELECT time, hostname, temp FROM cpu WHERE temp > 20",
    "SELECT time AS t, hostname AS h, temp, usage_user FROM cpu WHERE temp < 20.5 AND usage_user >= 50 "
    "AND hostname IN ('host_1', 'host_3', 'host_4')",
    "SELECT * FROM cpu WHERE usage_user = 50",
    "SELECT time, usage_idle FROM cpu WHERE usage_idle <> 50 AND usage_idle != 51",
    "SELECT time, temp FROM cpu WHERE temp BETWEEN 15 AND 25",
    "SELECT time, usage_user FROM cpu WHERE usage_user > 90.5",
    "SELECT time, usage_user FROM cpu WHERE 50 < usage_user AND usage_user <= 60.0",
    "SELECT time, usage_user FROM cpu WHERE usage_user > -1 AND usage_user < 1e30",
    "SELECT time, usage_user FROM cpu WHERE usage_user > 1e30",
    "SELECT time, usage_user FROM cpu WHERE usage_user < -9223372036854775809",
    "SELECT time, sparse FROM cpu WHERE sparse >= 0",
    "SELECT time, sparse, usage_user FROM cpu WHERE sparse < 3 AND usage_user > 10",
    f"SELECT * FROM cpu WHERE usage_user > 10 AND time < {T('00:00:00')}",  # empty range
    "SELECT * FROM cpu WHERE usage_user > 10 AND hostname = 'nobody'",
    "SELECT time, temp FROM cpu WHERE temp = 0",
    "SELECT time, hostname, usage_user FROM cpu WHERE usage_user > 95 ORDER BY time",
    "SELECT * FROM cpu WHERE usage_user > 95 ORDER BY time DESC",
]
ORDERED_FILTERED = [
    "SELECT time, usage_user FROM cpu WHERE usage_user > 1 AND hostname = 'host_3' ORDER BY time DESC LIMIT 7",
    "SELECT time, usage_user FROM cpu WHERE usage_user > 1 AND hostname = 'host_1' ORDER BY time LIMIT 5 OFFSET 3",
]

AGGREGATES = [
    "SELECT hostname, first(usage_user, time), last(usage_user, time) FROM cpu GROUP BY hostname "
    "ORDER BY hostname",
    "SELECT time_bucket('10 minutes', time) AS b, hostname, first(sparse, time), last(sparse, time), "
    "first(temp, time), last(temp, time) FROM cpu GROUP BY b, hostname ORDER BY b, hostname",
    "SELECT time_bucket('10 minutes', time) AS b, max(sparse), min(sparse), avg(sparse), count(sparse), "
    "sum(sparse) FROM cpu GROUP BY b ORDER BY b",
    "SELECT date_trunc('minute', time) AS minute, max(usage_user) FROM cpu "
    f"WHERE time < {T('02:07:33')} GROUP BY minute ORDER BY minute DESC LIMIT 5",
    "SELECT date_trunc('minute', time) AS minute, max(usage_user) FROM cpu "
    f"WHERE time < {T('02:07:33')} GROUP BY minute ORDER BY minute DESC LIMIT 3 OFFSET 4",
    "SELECT date_trunc('minute', time) AS minute, hostname, max(temp) FROM cpu "
    f"WHERE time > {T('00:31:00')} GROUP BY minute, hostname ORDER BY minute ASC, hostname LIMIT 7",
    "SELECT time_bucket('1 minute', time) AS m, min(temp) FROM cpu WHERE hostname = 'host_5' "
    "GROUP BY m ORDER BY m DESC LIMIT 400",
    "WITH cpu_avg AS (SELECT date_trunc('hour', time) as hour, hostname, avg(usage_user) as mean_usage_user, "
    f"avg(temp) as mean_temp FROM cpu WHERE time >= {T('00:10:00')} AND time < {T('02:40:00')} "
    "GROUP BY hour, hostname) SELECT hour, hostname, mean_usage_user, mean_temp FROM cpu_avg "
    "ORDER BY hour, hostname",
    "SELECT date_trunc('hour', time) AS hour, max(usage_user), max(usage_system) FROM cpu "
    f"WHERE (hostname = 'host_1' OR hostname = 'host_4') AND time >= {T('00:10:00')} "
    f"AND time < {T('02:10:00')} GROUP BY hour ORDER BY hour",
    # no GROUP BY: one row, even over no rows
    "SELECT max(usage_user), count(usage_user), avg(temp), sum(sparse), first(temp, time) FROM cpu",
    f"SELECT max(usage_user), count(usage_user), avg(temp), sum(sparse) FROM cpu WHERE time < {T('00:00:00')}",
    "SELECT count(temp), min(temp), last(usage_user, time) FROM cpu WHERE hostname = 'nobody'",
    # field conditions: only the rows satisfying them count
    "SELECT hostname, max(usage_user), count(temp), avg(sparse), first(temp, time), last(temp, time) "
    "FROM cpu WHERE usage_user > 50 GROUP BY hostname ORDER BY hostname",
    "SELECT time_bucket('10 minutes', time) AS b, min(temp), max(temp), sum(usage_idle) FROM cpu "
    "WHERE temp BETWEEN 15 AND 25 AND usage_user < 80.5 GROUP BY b ORDER BY b",
    "SELECT date_trunc('minute', time) AS minute, max(usage_user) FROM cpu "
    f"WHERE usage_user > 90 AND time < {T('02:07:33')} GROUP BY minute ORDER BY minute DESC LIMIT 5",
    "SELECT max(usage_user), count(sparse) FROM cpu WHERE sparse >= 5",
    "SELECT max(usage_user), count(temp) FROM cpu WHERE usage_user > 1e30",
]


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    with sql_engine(tmp_path_factory.mktemp("native_shapes")) as (engine, sql):
        gen = DevopsCpu(6, hours=3, seed=7)
        rng = np.random.default_rng(3)
        for i, b in enumerate(gen.batches(2500)):
            n = len(b)
            temp = rng.normal(20, 5, n)
            temp[rng.random(n) < 0.05] = np.nan
            temp[rng.random(n) < 0.05] = 0.0
            b.fields["temp"] = WriteBatch.from_rows("x", [0] * n, fields={"t": temp}).fields["t"]
            # a sparse integer column: NULL on most rows
            sparse = WriteBatch.from_rows("x", [0] * n, fields={"s": rng.integers(-5, 10, n)}).fields["s"]
            sparse.valid = rng.random(n) < 0.3
            b.fields["sparse"] = sparse
            engine.write("postgres", b).check()
            if i in (2, 4):
                engine.flush()  # two chunk files and a memtable hold data
        s = sql.session("postgres")
        # later writes overwrite some rows of the files (last write wins), deletes leave tombstones
        s.execute(s.prepare(f"DELETE FROM cpu WHERE hostname = 'host_3' AND time >= {T('00:40:00')} "
                            f"AND time < {T('01:10:00')}", []), [])  # fmt: skip
        t0 = dt.datetime(2016, 1, 1, 0, 30, tzinfo=dt.UTC)
        over = WriteBatch.from_rows(
            "cpu",
            [int(t0.timestamp()) * 10**9 + k * 10 * 10**9 for k in range(30)],
            [{"hostname": "host_1", "region": "r", "datacenter": "d", "rack": "1", "os": "o", "arch": "a",
              "team": "t", "service": "s", "service_version": "v", "service_environment": "e"}] * 30,
            {"usage_user": np.full(30, 95, np.int64), "temp": np.full(30, 99.5)},
        )  # fmt: skip
        engine.write("postgres", over).check()
        yield s


def _rows(s, sql, params=None):
    r = s.execute(s.prepare(sql, []), params or [])
    return (
        [c.name for c in r.columns],
        [c.type_oid for c in r.columns],
        [row for b in r.batches for row in b.to_pylist()],
    )


def _same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-12, abs=1e-9)
    return a == b


def _key(row):
    return tuple((k, repr(v)) for k, v in sorted(row.items()))


def _compare(session, sql, ordered, params=None):
    session.execute(session.prepare("SET tsgres.native_executor = off", []), [])
    try:
        want = _rows(session, sql, params)
    finally:
        session.execute(session.prepare("SET tsgres.native_executor = on", []), [])
    got = _rows(session, sql, params)
    assert got[0] == want[0] and got[1] == want[1]
    g, w = got[2], want[2]
    if not ordered:
        g, w = sorted(g, key=_key), sorted(w, key=_key)
    assert len(g) == len(w)
    for a, b in zip(g, w, strict=True):
        assert all(_same(a[k], b[k]) for k in b), (a, b)
    return got[2]


@pytest.mark.parametrize("sql", FILTERED)
def test_filtered_scan_equals_duckdb(session, sql):
    assert session.prepare(sql, []).native is not None, "the planner should take this shape"
    _compare(session, sql, ordered=False)


@pytest.mark.parametrize("sql", ORDERED_FILTERED)
def test_ordered_filtered_scan_equals_duckdb(session, sql):
    assert session.prepare(sql, []).native is not None
    assert _compare(session, sql, ordered=True)


def test_filtered_scans_find_rows(session):
    assert _compare(session, FILTERED[0], ordered=False)
    assert _compare(session, FILTERED[12], ordered=False)  # sparse >= 0


@pytest.mark.parametrize("sql", AGGREGATES)
def test_aggregate_shapes_equal_duckdb(session, sql):
    assert session.prepare(sql, []).native is not None, "the planner should take this shape"
    assert _compare(session, sql, ordered=True)


@pytest.mark.parametrize("value", [90, 90.5, Decimal("89.5"), -3, None, 2**70])
def test_filtered_scan_with_a_parameter(session, value):
    sql = "SELECT time, hostname, usage_user FROM cpu WHERE usage_user > $1"
    _compare(session, sql, ordered=False, params=[value])


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM cpu WHERE usage_user > 50 ORDER BY hostname, time",
        "SELECT * FROM cpu WHERE usage_user > usage_system",
        "SELECT * FROM cpu WHERE usage_user > 50 OR hostname = 'host_1'",
        "SELECT usage_user + 1 FROM cpu WHERE usage_user > 50",
    ],
)
def test_other_filtered_shapes_stay_with_duckdb(session, sql):
    assert session.prepare(sql, []).native is None
    _rows(session, sql)


LAST = [
    "SELECT DISTINCT ON (hostname) * FROM cpu ORDER BY hostname, time DESC",
    "SELECT DISTINCT ON (hostname) hostname, time, temp, sparse, note FROM cpu "
    f"WHERE time < {T('01:00:00')} ORDER BY hostname, time DESC",
    "SELECT DISTINCT ON (region) hostname, region, usage_user, note, time FROM cpu ORDER BY region, time DESC",
    "SELECT DISTINCT ON (hostname) hostname, time, usage_user, sparse FROM cpu ORDER BY hostname, time DESC",
]


@pytest.fixture(scope="module")
def flushed(tmp_path_factory):
    """Everything in chunk files: the newest rows come from block statistics (NaN, NULL and string
    columns make some series decode instead), one host's newest rows deleted (a tombstone)."""
    with sql_engine(tmp_path_factory.mktemp("native_flushed")) as (engine, sql):
        gen = DevopsCpu(8, hours=2, seed=9)
        rng = np.random.default_rng(4)
        for b in gen.batches(3000):
            n = len(b)
            temp = rng.normal(20, 5, n)
            temp[rng.random(n) < 0.02] = np.nan
            b.fields["temp"] = WriteBatch.from_rows("x", [0] * n, fields={"t": temp}).fields["t"]
            sparse = WriteBatch.from_rows("x", [0] * n, fields={"s": rng.integers(-5, 10, n)}).fields["s"]
            sparse.valid = rng.random(n) < 0.5
            b.fields["sparse"] = sparse
            note = WriteBatch.from_rows(
                "x", [0] * n, fields={"s": np.array(["a", "b"] * (n // 2) + ["c"] * (n % 2), dtype=object)}
            ).fields["s"]
            note.valid = rng.random(n) < 0.1
            b.fields["note"] = note
            engine.write("postgres", b).check()
        engine.flush()
        s = sql.session("postgres")
        s.execute(s.prepare(f"DELETE FROM cpu WHERE hostname = 'host_2' AND time >= {T('01:50:00')}", []), [])
        # memtable rows: older than host_5's newest (the file answers), newer for host_6 (the memtable
        # answers), at host_7's newest time (merged column by column with the file's row)
        last = s.execute(s.prepare("SELECT max(time) AS t FROM cpu WHERE hostname = 'host_7'", []), [])
        t7 = next(iter(last.batches)).column(0)[0].as_py()
        names = ["region", "datacenter", "rack", "os", "arch", "team", "service", "service_version",
                 "service_environment"]  # fmt: skip
        tags = []
        for h in ("host_5", "host_6", "host_7"):  # the same series: the hosts' own tag values
            r = s.execute(
                s.prepare(f"SELECT {', '.join(names)} FROM cpu WHERE hostname = '{h}' LIMIT 1", []), []
            )
            tags.append({"hostname": h, **next(iter(r.batches)).to_pylist()[0]})
        base = int(dt.datetime(2016, 1, 1, tzinfo=dt.UTC).timestamp()) * 10**9
        engine.write(
            "postgres",
            WriteBatch.from_rows(
                "cpu",
                [base + 600 * 10**9, base + 3 * 3600 * 10**9, int(t7.timestamp()) * 10**9],
                tags,
                {"usage_user": np.array([1, 2, 3], np.int64)},
            ),
        ).check()
        yield s


@pytest.mark.parametrize("sql", LAST + AGGREGATES[:3] + AGGREGATES[-5:])
def test_newest_rows_from_statistics_equal_duckdb(flushed, sql):
    assert flushed.prepare(sql, []).native is not None
    assert _compare(flushed, sql, ordered=True)


@pytest.mark.parametrize("sql", LAST)
def test_newest_rows_over_memtable_and_files_equal_duckdb(session, sql):
    if "note" in sql:
        sql = sql.replace(", note", "")
    assert session.prepare(sql, []).native is not None
    assert _compare(session, sql, ordered=True)


@pytest.mark.parametrize("sql", [FILTERED[0], FILTERED[13], AGGREGATES[1], AGGREGATES[7], AGGREGATES[-5]])
def test_row_groups_split_over_two_threads_give_the_same_answer(session, sql, monkeypatch):
    from columnar import scan

    monkeypatch.setattr(scan, "PARALLEL_MIN_GROUPS", 2)
    monkeypatch.setattr(scan, "_CPUS", 2)
    assert _compare(session, sql, ordered=sql in AGGREGATES)


def test_row_groups_in_many_parts_give_the_same_answer(session, monkeypatch):
    from columnar import scan

    monkeypatch.setattr(scan, "MAX_GROUPS_PER_CALL", 1)
    monkeypatch.setattr(scan, "_CPUS", 2)
    for sql in (FILTERED[0], AGGREGATES[1]):
        assert _compare(session, sql, ordered=sql in AGGREGATES)


def test_scan_kernels_warm_up():
    from columnar import scan

    scan.warm_up()


# Subqueries the native executor computes for DuckDB (sql/binder.py's native bodies): a CTE's or a
# FROM's aggregate; DuckDB runs what is around it.
BODIES = [
    # gapfill's rewrite (it aggregates in a CTE) where sql/gapfill.py does not take the statement: the
    # deleted half hour of host_3 and the range's ends
    "SELECT time_bucket_gapfill('10 minutes', time) AS b, hostname, locf(max(usage_user)) AS m, "
    f"coalesce(count(*), 0) AS n FROM cpu WHERE time >= {T('00:00:00')} AND time < {T('03:30:00')} "
    "GROUP BY b, hostname ORDER BY b, hostname",
    "SELECT time_bucket_gapfill('5 minutes', time) AS b, interpolate(avg(usage_user)) AS u, avg(temp) AS t "
    f"FROM cpu WHERE hostname = 'host_3' AND time >= {T('00:20:00')} AND time < {T('01:30:00')} "
    "GROUP BY b ORDER BY b",
    # window functions over buckets
    "WITH m AS (SELECT time_bucket('10 minutes', time) AS b, max(usage_user) AS top, avg(temp) AS t "
    "FROM cpu WHERE hostname = 'host_2' GROUP BY b) "
    "SELECT b, top, top - lag(top) OVER (ORDER BY b) AS d, t FROM m ORDER BY b",
    "SELECT b, hostname, m, rank() OVER (PARTITION BY b ORDER BY m DESC, hostname) AS r FROM "
    "(SELECT date_trunc('hour', time) AS b, hostname, max(temp) AS m FROM cpu GROUP BY b, hostname) s "
    "ORDER BY b, r",
    # joins of aggregates; an avg of integers (numeric)
    "SELECT a.b, a.m, c.n, a.m - c.n AS d FROM "
    "(SELECT time_bucket('15 minutes', time) AS b, avg(usage_user) AS m FROM cpu WHERE hostname = 'host_1' "
    "GROUP BY b) a JOIN (SELECT time_bucket('15 minutes', time) AS b, avg(usage_user) AS n FROM cpu "
    "WHERE hostname = 'host_2' GROUP BY b) c ON a.b = c.b ORDER BY a.b",
    # the second CTE reads the first: only the first is native
    "WITH a AS (SELECT hostname, first(temp, time) AS f, last(temp, time) AS l, count(sparse) AS n "
    "FROM cpu GROUP BY hostname), b AS (SELECT hostname, l - f AS change, n FROM a WHERE n > 0) "
    "SELECT * FROM b ORDER BY change DESC, hostname",
]


def _bodies(session, sql, params=None):
    """The native bodies of ``sql``'s plan (after a run of it), and its rows."""
    stmt = session.prepare(sql, [])
    rows = session.execute(stmt, list(params or []))
    list(rows.batches)
    bound = stmt.memo.get("bound")
    return (bound.bodies if bound is not None else []), stmt


@pytest.mark.parametrize("sql", BODIES)
def test_native_bodies_equal_duckdb(session, sql):
    assert session.prepare(sql, []).native is None
    bodies, _ = _bodies(session, sql)
    assert bodies, "a subquery should be computed natively"
    assert _compare(session, sql, ordered=True)


def test_native_bodies_take_client_parameters(session):
    sql = (
        "WITH m AS (SELECT time_bucket('10 minutes', time) AS b, max(usage_user) AS top FROM cpu "
        "WHERE hostname = $1 AND time >= $2 GROUP BY b) "
        "SELECT b, top, sum(top) OVER (ORDER BY b) AS running FROM m WHERE top > $3::int ORDER BY b"
    )
    params = ["host_4", dt.datetime(2016, 1, 1, 0, 45, tzinfo=dt.UTC), 20]
    bodies, stmt = _bodies(session, sql, params)
    assert bodies and stmt.memo["bound"].parameters == [3]  # DuckDB's text keeps only $3
    assert _compare(session, sql, ordered=True, params=params)


@pytest.mark.parametrize(
    "sql",
    [
        # the subquery reads the CTE named cpu, not the table
        "WITH cpu AS (SELECT TIMESTAMPTZ '2016-01-01 00:00:00+00' + i * INTERVAL '1 minute' AS time, "
        "i AS usage_user FROM generate_series(0, 100) AS g(i)) SELECT b, m FROM "
        "(SELECT time_bucket('10 minutes', time) AS b, max(usage_user) AS m FROM cpu GROUP BY b) s ORDER BY b",
        # the FROM subquery inside a scalar subquery refers to the outer query's row
        "SELECT h.hostname, (SELECT max(m) FROM (SELECT max(usage_user) AS m FROM cpu "
        "WHERE hostname = h.hostname) s) AS top FROM (SELECT 'host_1' AS hostname UNION ALL "
        "SELECT 'host_2') h ORDER BY 1",
        # rows, not an aggregate: not materialised
        "WITH r AS (SELECT time, usage_user FROM cpu WHERE hostname = 'host_1') "
        "SELECT time, usage_user - lag(usage_user) OVER (ORDER BY time) FROM r ORDER BY time",
    ],
)
def test_subqueries_that_cannot_stand_alone_stay_with_duckdb(session, sql):
    bodies, _ = _bodies(session, sql)
    assert not bodies
    assert _compare(session, sql, ordered=True)


def test_native_bodies_follow_the_session_zone(session):
    """Buckets of a day follow the session's zone: the native body is computed by DuckDB then."""
    sql = (
        "WITH d AS (SELECT date_trunc('hour', time) AS h, count(*) AS n FROM cpu GROUP BY h) "
        "SELECT h, n, sum(n) OVER (ORDER BY h) AS total FROM d ORDER BY h"
    )
    session.execute(session.prepare("SET timezone = 'Asia/Kolkata'", []), [])
    try:
        utc_free = _compare(session, sql, ordered=True)
    finally:
        session.execute(session.prepare("SET timezone = 'UTC'", []), [])
    utc = _compare(session, sql, ordered=True)
    assert [r["h"] for r in utc_free] != [r["h"] for r in utc]  # (+05:30: other hours)


@pytest.mark.parametrize("analyze", ["", "ANALYZE "])
def test_explain_shows_native_bodies(session, analyze):
    plan = _rows(session, f"EXPLAIN {analyze}{BODIES[2]}")[2]
    text = "\n".join(r["QUERY PLAN"] for r in plan)
    assert "Native subquery __tsgres_body_1:" in text and "Native BucketAggregate on cpu" in text
    session.execute(session.prepare("SET tsgres.native_executor = off", []), [])
    try:
        plan = _rows(session, f"EXPLAIN {analyze}{BODIES[2]}")[2]
    finally:
        session.execute(session.prepare("SET tsgres.native_executor = on", []), [])
    text = "\n".join(r["QUERY PLAN"] for r in plan)
    assert "Native subquery" not in text and "Scan cpu" in text


# time_bucket_gapfill's common shape natively (sql/gapfill.py): the aggregate, then the filling in numpy
GAPFILL = [
    # host_3's deleted half hour, and buckets before and after the data
    "SELECT time_bucket_gapfill('10 minutes', time) AS b, hostname, locf(max(usage_user)) AS m, "
    "count(*) AS n, max(usage_user) AS raw FROM cpu WHERE time >= '2015-12-31 23:20:00+00' "
    f"AND time < {T('03:30:00')} GROUP BY b, hostname ORDER BY b, hostname",
    "SELECT time_bucket_gapfill('5 minutes', time) AS b, interpolate(avg(temp)) AS t, locf(avg(temp)) AS l, "
    "interpolate(min(temp)) AS lo "
    f"FROM cpu WHERE hostname = 'host_3' AND time >= {T('00:20:00')} AND time < {T('01:30:00')} GROUP BY b",
    # NULL aggregates of real rows are carried by locf and end interpolation; > and <= bounds
    "SELECT hostname, region, time_bucket_gapfill('3 minutes', time) AS b, locf(min(sparse)) AS s, "
    "interpolate(max(temp)) AS t FROM cpu WHERE hostname IN ('host_1', 'host_3') "
    f"AND time > {T('00:31:00')} AND time <= {T('01:20:00')} GROUP BY b, hostname, region "
    "ORDER BY hostname DESC, b DESC, region",
    # no ORDER BY: by group, then time
    "SELECT time_bucket_gapfill('20 minutes', time), hostname, locf(last(temp, time)) FROM cpu "
    f"WHERE time >= {T('00:00:00')} AND time < {T('02:00:00')} GROUP BY 1, 2",
    # no rows and no groups: every bucket a gap; no rows with groups: nothing
    "SELECT time_bucket_gapfill('15 minutes', time) AS b, locf(max(usage_user)) AS m, count(*) AS n "
    f"FROM cpu WHERE hostname = 'nobody' AND time >= {T('00:00:00')} AND time < {T('01:00:00')} GROUP BY b "
    "ORDER BY b",
    "SELECT time_bucket_gapfill('15 minutes', time) AS b, hostname, locf(max(usage_user)) AS m FROM cpu "
    f"WHERE hostname = 'nobody' AND time >= {T('00:00:00')} AND time < {T('01:00:00')} GROUP BY b, hostname",
]


@pytest.mark.parametrize("sql", GAPFILL)
def test_gapfill_natively_equals_the_rewrite(session, sql):
    from sql.gapfill import Gapfill

    assert isinstance(session.prepare(sql, []).native, Gapfill), "the planner should take this shape"
    _compare(session, sql, ordered=True)


def test_explain_shows_native_gapfill(session):
    text = "\n".join(r["QUERY PLAN"] for r in _rows(session, f"EXPLAIN {GAPFILL[1]}")[2])
    assert "Native Gapfill of cpu" in text and "fill: interpolate(t), locf(l)" in text


def test_gapfill_fills_what_it_should(session):
    rows = _rows(session, GAPFILL[0])[2]
    host3 = [r for r in rows if r["hostname"] == "host_3"]
    assert len(rows) == 25 * 6 and len(host3) == 25  # 4 h 10 min of 10-minute buckets x 6 hosts
    assert all(r["m"] is None and r["n"] is None for r in rows if r["b"].day == 31)  # nothing to carry
    gaps = [r for r in host3 if r["raw"] is None and r["b"].day == 1]
    assert len(gaps) >= 2 and all(r["n"] is None and r["m"] is not None for r in gaps)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT time_bucket_gapfill('10 minutes', time, start => '2016-01-01 00:00:00+00', "
        "finish => '2016-01-01 01:00:00+00') AS b, max(usage_user) FROM cpu GROUP BY b",
        "SELECT time_bucket_gapfill('10 minutes', time) AS b, coalesce(count(*), 0) AS n FROM cpu "
        f"WHERE time >= {T('00:00:00')} AND time < {T('01:00:00')} GROUP BY b",
        "SELECT time_bucket_gapfill('10 minutes', time) AS b, locf(max(usage_user), 0) AS n FROM cpu "
        f"WHERE time >= {T('00:00:00')} AND time < {T('01:00:00')} GROUP BY b",
        "SELECT time_bucket_gapfill('10 minutes', time) AS b, interpolate(max(usage_user)) AS n FROM cpu "
        f"WHERE time >= {T('00:00:00')} AND time < {T('01:00:00')} GROUP BY b",
        "SELECT time_bucket_gapfill('10 minutes', time) AS b, max(usage_user) AS n FROM cpu "
        f"WHERE time >= {T('00:00:00')} AND time < {T('01:00:00')} GROUP BY b LIMIT 3",
    ],
)
def test_other_gapfills_stay_with_the_rewrite(session, sql):
    from sql.gapfill import Gapfill

    assert not isinstance(session.prepare(sql, []).native, Gapfill)
    _rows(session, sql)


# Filters on a grouped subquery's group columns narrow its rows too (sql/rewrite/subquery_filters.py).
# OFFSET 0 fences the subquery (as in PostgreSQL): the same query without the added filters.
_HOURLY = (
    "(SELECT hostname, time_bucket('10 minutes', time) AS bucket, max(usage_user) AS m, count(*) AS n, "
    "avg(temp) AS t FROM cpu GROUP BY hostname, bucket{fence}) h"
)
SUBQUERY_FILTERS = [
    f"hostname = 'host_3' AND bucket >= {T('00:25:00')} AND bucket < {T('01:35:00')}",
    f"h.hostname = 'host_1' AND bucket > {T('00:30:00')} AND bucket <= {T('01:30:00')}",
    f"{T('01:00:00')} <= bucket AND {T('02:00:00')} > bucket",
    f"bucket = {T('00:40:00')}",
    f"bucket = {T('00:41:00')} OR hostname = 'host_2'",  # (not a conjunct of one column: not pushed)
    "hostname = 'host_5' AND m > 50",  # (m is an aggregate: only the hostname is pushed)
]


@pytest.mark.parametrize("where", SUBQUERY_FILTERS)
def test_subquery_filters_keep_the_answer(session, where):
    sql = f"SELECT * FROM {_HOURLY} WHERE {where} ORDER BY hostname, bucket"
    fenced = _rows(session, sql.format(fence=" OFFSET 0"))
    got = _rows(session, sql.format(fence=""))
    assert got[0] == fenced[0] and len(got[2]) == len(fenced[2])
    for a, b in zip(got[2], fenced[2], strict=True):
        assert all(_same(a[k], b[k]) for k in b), (a, b)


def test_subquery_filters_narrow_the_scan(session):
    sql = f"EXPLAIN SELECT * FROM {_HOURLY} WHERE {SUBQUERY_FILTERS[0]} ORDER BY bucket"
    text = "\n".join(r["QUERY PLAN"] for r in _rows(session, sql.format(fence=""))[2])
    lo = int(dt.datetime(2016, 1, 1, 0, 25, tzinfo=dt.UTC).timestamp()) * 10**9
    hi = int(dt.datetime(2016, 1, 1, 1, 45, tzinfo=dt.UTC).timestamp()) * 10**9 - 1  # (+ the width)
    assert f"time range: [{lo}, {hi}] ns" in text and "host_3" in text
    fenced = "\n".join(r["QUERY PLAN"] for r in _rows(session, sql.format(fence=" OFFSET 0"))[2])
    assert f"time range: [{lo}," not in fenced


def test_explain_analyze_runs_a_native_plan_natively(session):
    sql = f"EXPLAIN ANALYZE {AGGREGATES[1]}"
    text = "\n".join(r["QUERY PLAN"] for r in _rows(session, sql)[2])
    n = len(_rows(session, AGGREGATES[1])[2])
    assert "Native execution: " in text and f"ms, {n} rows" in text
    found = re.search(
        r"aggregate scans: 1, [0-9.]+ ms: (\d+) row groups from block statistics, (\d+) decoded", text
    )
    assert found is not None and int(found[1]) + int(found[2]) > 0
    assert "Total Time" not in text  # (DuckDB did not run it)
    session.execute(session.prepare("SET tsgres.native_executor = off", []), [])
    try:
        text = "\n".join(r["QUERY PLAN"] for r in _rows(session, sql)[2])
    finally:
        session.execute(session.prepare("SET tsgres.native_executor = on", []), [])
    assert "Native execution" not in text and "Execution time" in text


@pytest.mark.parametrize(
    "options", ["(ANALYZE, BUFFERS)", "(ANALYZE true, COSTS OFF, TIMING OFF, SUMMARY)", "ANALYZE VERBOSE"]
)
def test_explain_takes_postgresql_options(session, options):
    """Tools send EXPLAIN's options in parentheses: ANALYZE among them runs the statement."""
    text = "\n".join(r["QUERY PLAN"] for r in _rows(session, f"EXPLAIN {options} {AGGREGATES[1]}")[2])
    assert "Native execution: " in text
    plain = "\n".join(
        r["QUERY PLAN"] for r in _rows(session, f"EXPLAIN (VERBOSE, COSTS false) {AGGREGATES[1]}")[2]
    )
    assert "Native BucketAggregate" in plain and "Native execution" not in plain


def test_explain_format_json_is_one_json_row(session):
    names, oids, rows = _rows(session, f"EXPLAIN (ANALYZE, FORMAT JSON) {AGGREGATES[1]}")
    assert names == ["QUERY PLAN"] and oids == [114] and len(rows) == 1
    [root] = json.loads(rows[0]["QUERY PLAN"])
    text = _rows(session, f"EXPLAIN ANALYZE {AGGREGATES[1]}")[2]
    assert root["Plan"]["Node Type"] == text[0]["QUERY PLAN"]
    assert len(root["Plan"]["Plan Lines"]) == len(text) and root["Execution Time"] > 0
    described = session.prepare(f"EXPLAIN (FORMAT JSON) {AGGREGATES[1]}", [])
    assert [c.type_oid for c in described.columns] == [114]
