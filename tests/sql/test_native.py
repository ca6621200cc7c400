"""The native executor answers exactly what DuckDB answers for the shapes it takes."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.datagen import DevopsCpu
from columnar.batch import WriteBatch
from sql import errors as E
from sql.planner import FilteredScan
from tests.sql.in_process import sql_engine

QUERIES = [
    "SELECT time_bucket('1 minute', time) AS minute, max(usage_user) FROM cpu WHERE hostname IN ('host_1') AND time >= '2016-01-01 00:16:12+00' AND time < '2016-01-01 01:16:12+00' GROUP BY minute ORDER BY minute",
    "SELECT time_bucket('1 hour', time) AS hour, max(usage_user), max(usage_system) FROM cpu WHERE hostname IN ('host_1', 'host_2', 'host_3') AND time >= '2016-01-01 00:00:00+00' AND time < '2016-01-01 02:00:00+00' GROUP BY hour ORDER BY hour",
    "SELECT time_bucket('1 hour', time) AS hour, hostname, avg(usage_user), avg(usage_idle) FROM cpu WHERE time >= '2016-01-01 00:30:00+00' AND time < '2016-01-01 02:30:00+00' GROUP BY hour, hostname ORDER BY hour, hostname",
    "SELECT time_bucket('5 minutes', time) AS b, min(usage_nice), sum(usage_irq), count(usage_steal) FROM cpu GROUP BY b ORDER BY b DESC LIMIT 7",
    "SELECT hostname, max(usage_user) AS m FROM cpu WHERE hostname = 'host_2' OR region LIKE 'us-%' GROUP BY hostname ORDER BY hostname",
    "SELECT time_bucket('1 minute', time) AS minute, max(usage_user) FROM cpu WHERE time < '2016-01-01 01:00:00+00' GROUP BY minute ORDER BY minute DESC LIMIT 5",
    "SELECT time_bucket('30 minutes', time) AS b, hostname, avg(temp), max(temp), min(temp), sum(temp) FROM cpu GROUP BY 1, 2 ORDER BY 1, 2",
    "SELECT DISTINCT ON (hostname) * FROM cpu ORDER BY hostname, time DESC",
    "SELECT date_trunc('hour', time) AS hour, hostname, avg(usage_user), max(usage_system) FROM cpu WHERE time >= '2016-01-01 00:30:00+00' AND time < '2016-01-01 02:30:00+00' GROUP BY hour, hostname ORDER BY hour, hostname",
    "SELECT date_trunc('minute', time) AS minute, max(usage_user) FROM cpu WHERE time < '2016-01-01 01:00:00+00' GROUP BY minute ORDER BY minute DESC LIMIT 5",
    "SELECT DISTINCT ON (region) hostname, region, usage_user, time FROM cpu WHERE time < '2016-01-01 01:00:00+00' ORDER BY region, time DESC",
    "SELECT hostname, first(usage_user, time), last(usage_user, time), first(temp, time) FROM cpu GROUP BY hostname ORDER BY hostname",
    "SELECT hostname, max(usage_user) FROM cpu WHERE usage_user > 50 GROUP BY hostname ORDER BY hostname",
    "SELECT time, hostname, usage_user FROM cpu WHERE hostname = 'host_2' AND time >= '2016-01-01 00:30:00+00' ORDER BY time DESC LIMIT 5",
    "SELECT time, temp, region FROM cpu WHERE hostname = 'host_3' ORDER BY time LIMIT 7 OFFSET 2",
    "SELECT usage_system, time FROM cpu WHERE hostname = 'host_1' AND temp > 20 ORDER BY time DESC LIMIT 4",
    "SELECT time, temp FROM cpu WHERE hostname = 'host_4' AND temp IS NOT NULL ORDER BY time DESC LIMIT 6",
    "SELECT time, hostname, temp FROM cpu WHERE temp IS NOT NULL AND usage_user > 10 AND time < '2016-01-01 00:20:00+00'",
    # InfluxQL's selectors (sql/influxql/calls.py): the selected point's value and time; usage_user has
    # ties (the first point's time counts), temp NaN (the largest) and hosts that share times
    "SELECT ARG_MAX(time, ROW(usage_user, -EPOCH_US(time))) AS t, ARG_MAX(usage_user, ROW(usage_user, -EPOCH_US(time))) AS v FROM cpu WHERE hostname = 'host_1' AND usage_user IS NOT NULL",
    "SELECT hostname, ARG_MIN(time, ROW(usage_user, EPOCH_US(time))) AS t, ARG_MIN(usage_user, ROW(usage_user, EPOCH_US(time))) AS v FROM cpu WHERE usage_user IS NOT NULL AND time < '2016-01-01 02:00:00+00' GROUP BY hostname ORDER BY hostname",
    "SELECT region, ARG_MAX(time, ROW(temp, -EPOCH_US(time))) AS t, ARG_MAX(temp, ROW(temp, -EPOCH_US(time))) AS v FROM cpu WHERE temp IS NOT NULL GROUP BY region ORDER BY region",
    "SELECT time_bucket('20 minutes', time) AS b, ARG_MIN(time, ROW(temp, EPOCH_US(time))) AS t, ARG_MIN(temp, ROW(temp, EPOCH_US(time))) AS v FROM cpu WHERE temp IS NOT NULL AND hostname IN ('host_2', 'host_3') GROUP BY b ORDER BY b",
    "SELECT region, ARG_MIN(time, ROW(EPOCH_US(time), -usage_user)) AS t, ARG_MIN(usage_user, ROW(EPOCH_US(time), -usage_user)) AS v FROM cpu WHERE usage_user IS NOT NULL AND time >= '2016-01-01 00:40:00+00' GROUP BY region ORDER BY region",
    "SELECT ARG_MAX(time, ROW(EPOCH_US(time), temp)) AS t, ARG_MAX(temp, ROW(EPOCH_US(time), temp)) AS v FROM cpu WHERE temp IS NOT NULL AND temp < 30 AND time < '2016-01-01 01:30:00+00'",
    "SELECT time_bucket('1 hour', time) AS b, region, ARG_MIN(usage_user, ROW(time, -usage_user)) FILTER (WHERE usage_user IS NOT NULL) AS f, ARG_MAX(usage_user, ROW(time, usage_user)) FILTER (WHERE usage_user IS NOT NULL) AS l FROM cpu GROUP BY b, region ORDER BY b, region",
    "SELECT hostname, ARG_MIN(temp, time) AS f, ARG_MAX(usage_user, time) AS l FROM cpu GROUP BY hostname ORDER BY hostname",
    "SELECT ARG_MAX(time, ROW(usage_user, -EPOCH_US(time))) AS t, ARG_MAX(usage_user, ROW(usage_user, -EPOCH_US(time))) AS v FROM cpu WHERE hostname = 'host_none' AND usage_user IS NOT NULL",
    "SELECT region, ARG_MIN(time, ROW(EPOCH_US(time), -temp)) AS t, ARG_MIN(temp, ROW(EPOCH_US(time), -temp)) AS v, ARG_MAX(temp, ROW(EPOCH_US(time), temp)) AS l FROM cpu WHERE temp IS NOT NULL GROUP BY region ORDER BY region",
    "SELECT time_bucket('10 minutes', time) AS b, ARG_MIN(temp, ROW(EPOCH_US(time), -temp)) AS f, ARG_MAX(temp, ROW(EPOCH_US(time), temp)) AS l FROM cpu WHERE temp IS NOT NULL GROUP BY b ORDER BY b",
    # groups whose rows lack the field are no groups
    "SELECT time_bucket('20 minutes', time) AS b, hostname, ARG_MAX(time, ROW(sparse, -EPOCH_US(time))) AS t, ARG_MAX(sparse, ROW(sparse, -EPOCH_US(time))) AS v, count(sparse) AS n FROM cpu WHERE sparse IS NOT NULL GROUP BY b, hostname ORDER BY b, hostname",
    "SELECT time_bucket('10 minutes', time) AS b, avg(sparse), max(sparse) FROM cpu WHERE sparse IS NOT NULL AND sparse > 0 GROUP BY b ORDER BY b",
    # the groups that hold rows
    "SELECT DISTINCT hostname, region FROM cpu WHERE time >= '2016-01-01 01:00:00+00' ORDER BY hostname",
    "SELECT DISTINCT region FROM cpu ORDER BY region DESC LIMIT 3",
    "SELECT DISTINCT region FROM cpu ORDER BY region DESC NULLS LAST",
    "SELECT region, max(usage_user), count(usage_user) FROM cpu GROUP BY region ORDER BY region NULLS FIRST, 2 DESC",
    "SELECT region FROM cpu WHERE hostname LIKE 'host_%' GROUP BY region ORDER BY 1",
    "SELECT DISTINCT time_bucket('20 minutes', time) AS b, region FROM cpu WHERE hostname IN ('host_1', 'host_lone') ORDER BY b, region",
    # buckets shifted by an offset or aligned to an origin (date_bin's is required)
    "SELECT time_bucket('7 minutes', time, INTERVAL '150 seconds') AS b, hostname, max(usage_user), count(*) FROM cpu WHERE hostname IN ('host_1', 'host_2') GROUP BY b, hostname ORDER BY b, hostname",
    "SELECT time_bucket('13 minutes', time, '2016-01-01 00:05:17+00'::timestamptz) AS b, avg(temp) FROM cpu GROUP BY b ORDER BY b",
    "SELECT date_bin('25 minutes', time, '2016-01-01 01:02:03') AS b, min(usage_user), sum(usage_user) FROM cpu WHERE time >= '2016-01-01 00:10:00+00' GROUP BY b ORDER BY b DESC LIMIT 4",
    "SELECT date_bin('1 hour', time, TIMESTAMPTZ '2001-02-03 04:05:06+00') AS b, count(usage_user) FROM cpu GROUP BY b ORDER BY b",
    # variances and standard deviations (of integers: numeric)
    "SELECT hostname, stddev(usage_user), variance(usage_user), stddev_pop(temp), var_pop(temp) FROM cpu GROUP BY hostname ORDER BY hostname",
    "SELECT time_bucket('10 minutes', time) AS b, stddev_samp(temp) AS s, var_samp(usage_user) AS v FROM cpu WHERE hostname = 'host_1' GROUP BY b ORDER BY b",
    "SELECT time_bucket('20 minutes', time) AS b, STDDEV_SAMP(CAST(usage_user AS DOUBLE PRECISION)) AS s FROM cpu WHERE usage_user > 30 GROUP BY b ORDER BY b",
    "SELECT region, stddev(sparse) AS s, variance(sparse) AS v, stddev_pop(sparse) AS p FROM cpu GROUP BY region ORDER BY region",
    "SELECT time_bucket('10 seconds', time) AS b, stddev(usage_user) AS s, var_pop(usage_user) AS p FROM cpu WHERE hostname = 'host_1' AND time < '2016-01-01 00:01:00+00' GROUP BY b ORDER BY b",
    # arithmetic over aggregates (InfluxQL's spread(): MAX(f) - MIN(f))
    "SELECT time_bucket('10 minutes', time) AS b, max(usage_user) - min(usage_user) AS s, max(temp) - min(temp) AS t, count(*) * 2 - 1 AS c FROM cpu GROUP BY b ORDER BY b",
    "SELECT hostname, -(max(usage_user) * 3) + min(usage_user) AS x, avg(temp) * 100 AS p, (stddev(temp) + 1) * 2 AS d FROM cpu GROUP BY hostname ORDER BY hostname",
    "SELECT count(*) - 1 AS c, max(usage_user) - min(usage_user) AS s FROM cpu WHERE hostname = 'host_none'",
    # percentiles of the values (InfluxQL's median())
    "SELECT time_bucket('10 minutes', time) AS b, percentile_cont(0.5) WITHIN GROUP (ORDER BY usage_user) AS m, percentile_disc(0.9) WITHIN GROUP (ORDER BY usage_user) AS d FROM cpu WHERE hostname = 'host_1' GROUP BY b ORDER BY b",
    "SELECT region, percentile_cont(0.95) WITHIN GROUP (ORDER BY temp) AS p95, percentile_cont(0) WITHIN GROUP (ORDER BY temp) AS p0, percentile_disc(1) WITHIN GROUP (ORDER BY temp) AS p100, count(temp) FROM cpu GROUP BY region ORDER BY region",
    "SELECT hostname, percentile_cont(0.25) WITHIN GROUP (ORDER BY sparse) AS q, percentile_disc(0.5) WITHIN GROUP (ORDER BY sparse) AS m FROM cpu WHERE usage_user > 40 GROUP BY hostname ORDER BY hostname",
    "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY usage_user) AS m, max(usage_user) - min(usage_user) AS s FROM cpu WHERE hostname = 'host_none'",
    "SELECT time_bucket('1 hour', time) AS b, percentile_cont(0.5) WITHIN GROUP (ORDER BY usage_user) AS m FROM cpu GROUP BY b ORDER BY b DESC LIMIT 2",
    "SELECT time_bucket('20 minutes', time) AS b, region, count(DISTINCT usage_user) AS u, count(DISTINCT temp) AS t, count(DISTINCT sparse) AS s FROM cpu GROUP BY b, region ORDER BY b, region",
    "SELECT count(DISTINCT usage_user) AS u, percentile_disc(0.5) WITHIN GROUP (ORDER BY usage_user) AS m FROM cpu WHERE hostname = 'host_none'",
    # Grafana's $__timeGroup without TimescaleDB: epoch seconds (numeric), buckets from 1970
    "SELECT floor(extract(epoch from time)/60)*60 AS \"time\", avg(usage_user) AS v, count(*) FROM cpu WHERE hostname = 'host_1' GROUP BY 1 ORDER BY 1",
    'SELECT floor(extract(epoch from "time")/420)*420 AS "time", hostname AS metric, max(temp) AS "max" FROM cpu WHERE time BETWEEN \'2016-01-01 00:10:00+00\' AND \'2016-01-01 01:30:00+00\' GROUP BY 1, 2 ORDER BY 1, 2',
    # of the rows: count(*), the time's max and min
    "SELECT hostname, count(*) AS n, min(time) AS a, max(time) AS b FROM cpu GROUP BY hostname ORDER BY hostname",
    "SELECT time_bucket('20 minutes', time) AS t, count(1), count(time), max(time) FROM cpu WHERE usage_user > 60 AND region = 'us-west-1' GROUP BY t ORDER BY t",
    "SELECT count(*), max(time), min(time) FROM cpu WHERE hostname = 'host_none'",
    "SELECT count(*) AS n, max(usage_user) AS m FROM cpu WHERE time >= '2016-01-01 00:07:00+00' AND time < '2016-01-01 02:13:00+00'",
    # InfluxQL's other columns beside a selector: their values at the selected point (NULL or not;
    # each group one series, where the point is one row)
    "SELECT ARG_MAX(time, ROW(usage_user, -EPOCH_US(time))) AS t, ARG_MAX(usage_user, ROW(usage_user, -EPOCH_US(time))) AS v, ARG_MAX_NULL(usage_system, ROW(usage_user, -EPOCH_US(time))) AS s, ARG_MAX_NULL(region, ROW(usage_user, -EPOCH_US(time))) AS r FROM cpu WHERE hostname = 'host_1' AND usage_user IS NOT NULL",
    "SELECT hostname, ARG_MAX(time, ROW(EPOCH_US(time), usage_user)) AS t, ARG_MAX_NULL(temp, ROW(EPOCH_US(time), usage_user)) AS x, ARG_MAX_NULL(region, ROW(EPOCH_US(time), usage_user)) AS r FROM cpu WHERE usage_user IS NOT NULL GROUP BY hostname ORDER BY hostname",
    "SELECT time_bucket('20 minutes', time) AS b, hostname, ARG_MIN(time, ROW(temp, EPOCH_US(time))) AS t, ARG_MIN_NULL(sparse, ROW(temp, EPOCH_US(time))) AS s, ARG_MIN_NULL(usage_user, ROW(temp, EPOCH_US(time))) AS u FROM cpu WHERE temp IS NOT NULL GROUP BY b, hostname ORDER BY b, hostname",
    "SELECT time_bucket('30 minutes', time) AS b, hostname, ARG_MIN(usage_user, ROW(time, -usage_user)) FILTER (WHERE usage_user IS NOT NULL) AS f, ARG_MIN_NULL(sparse, ROW(time, -usage_user)) FILTER (WHERE usage_user IS NOT NULL) AS s FROM cpu GROUP BY b, hostname ORDER BY b, hostname",
    "SELECT hostname, ARG_MAX(temp, ROW(temp, -EPOCH_US(time))) AS m, ARG_MAX_NULL(usage_idle, ROW(temp, -EPOCH_US(time))) AS i FROM cpu WHERE temp IS NOT NULL AND usage_user > 30 GROUP BY hostname ORDER BY hostname",
    "SELECT ARG_MAX(time, ROW(usage_user, -EPOCH_US(time))) AS t, ARG_MAX_NULL(usage_system, ROW(usage_user, -EPOCH_US(time))) AS s FROM cpu WHERE hostname = 'host_none' AND usage_user IS NOT NULL",
    # hosts of a region share their last time: the largest value there is the point (no two tie here)
    "SELECT region, ARG_MAX(usage_user, ROW(EPOCH_US(time), usage_user)) AS l, ARG_MAX_NULL(hostname, ROW(EPOCH_US(time), usage_user)) AS h FROM cpu WHERE usage_user IS NOT NULL GROUP BY region ORDER BY region",
    # COUNT(DISTINCT tag): of the series holding rows (host_lone has no region)
    "SELECT count(DISTINCT hostname) AS n FROM cpu",
    "SELECT region, count(DISTINCT hostname) AS h, count(*) AS n FROM cpu WHERE time >= '2016-01-01 01:00:00+00' GROUP BY region ORDER BY region NULLS FIRST",
    "SELECT time_bucket('30 minutes', time) AS b, count(DISTINCT region) AS r, count(DISTINCT hostname) AS h FROM cpu GROUP BY b ORDER BY b",
    "SELECT hostname, count(DISTINCT region) AS r FROM cpu WHERE usage_user > 95 GROUP BY hostname ORDER BY hostname",
    "SELECT count(DISTINCT hostname) AS n, count(*) AS c FROM cpu WHERE hostname = 'host_none'",
    "SELECT region, count(DISTINCT hostname) AS h FROM cpu GROUP BY region HAVING count(DISTINCT hostname) > 1 ORDER BY region",
    # FILTER (WHERE ...): field comparisons, tags and time bounds; groups whose rows all fail it get
    # NULL (0 for counts)
    "SELECT avg(usage_user) FILTER (WHERE hostname IN ('host_1', 'host_2')) AS a, count(*) AS n FROM cpu",
    "SELECT region, count(*) FILTER (WHERE usage_user > 90) AS hot, count(*) AS n, sum(temp) FILTER (WHERE temp > 25 AND hostname IN ('host_1', 'host_3', 'host_lone')) AS s FROM cpu GROUP BY region ORDER BY region NULLS FIRST",
    "SELECT hostname, max(usage_user) FILTER (WHERE time >= '2016-01-01 01:00:00+00') AS late, min(usage_user) AS lo FROM cpu GROUP BY hostname ORDER BY hostname",
    "SELECT time_bucket('30 minutes', time) AS b, avg(temp) FILTER (WHERE hostname = 'host_lone') AS l, count(*) FILTER (WHERE hostname = 'host_lone') AS c, max(temp) AS m FROM cpu GROUP BY b ORDER BY b",
    "SELECT hostname, min(temp) FILTER (WHERE temp > 20) AS f, sum(usage_user) FILTER (WHERE usage_user < 10) AS l, stddev(usage_user) FILTER (WHERE usage_user BETWEEN 10 AND 60) AS d FROM cpu GROUP BY hostname ORDER BY hostname",
    "SELECT count(*) AS n, avg(sparse) FILTER (WHERE sparse >= 2) AS s, count(sparse) FILTER (WHERE usage_user > 50) AS c FROM cpu",
    # HAVING over aggregates (NaN above every number, NULL aggregates unknown)
    "SELECT hostname, avg(usage_user) AS a FROM cpu GROUP BY hostname HAVING avg(usage_user) > 48 ORDER BY hostname",
    "SELECT region, count(*) AS n FROM cpu GROUP BY region HAVING count(*) > 2000 OR max(temp) - min(temp) >= 30 ORDER BY region NULLS FIRST",
    "SELECT time_bucket('20 minutes', time) AS b, max(sparse) FROM cpu GROUP BY b HAVING max(sparse) IS NULL OR NOT (sum(sparse) < 800) ORDER BY b",
    "SELECT hostname, max(temp) AS m FROM cpu GROUP BY hostname HAVING max(temp) > 30 ORDER BY hostname",
    "SELECT hostname, min(temp) FROM cpu GROUP BY hostname HAVING max(temp) = 'NaN'::float8 OR min(temp) <= -1.5 ORDER BY hostname",
    "SELECT time_bucket('1 hour', time) AS h, count(usage_user) FROM cpu WHERE hostname = 'host_2' GROUP BY h HAVING stddev(usage_user) >= 1 AND count(*) <> 7 ORDER BY h",
    "SELECT count(*) AS n FROM cpu HAVING count(*) > 10",
    # InfluxQL's integer sums
    "SELECT time_bucket('10 minutes', time) AS b, CAST(SUM(usage_user) AS BIGINT) AS s FROM cpu WHERE hostname = 'host_1' GROUP BY b ORDER BY b",
]


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    with sql_engine(tmp_path_factory.mktemp("native")) as (storage, engine):
        gen = DevopsCpu(6, hours=3, seed=4)
        rng = np.random.default_rng(2)
        for i, b in enumerate(gen.batches(2000)):
            temp = rng.normal(20, 5, len(b))
            temp[rng.random(len(b)) < 0.1] = np.nan if i % 2 else 0.0
            b.fields["temp"] = WriteBatch.from_rows("x", [0] * len(b), fields={"t": temp}).fields["t"]
            if i % 2 == 0:  # a field only some stretches of time have (the others: NULL)
                sparse = rng.integers(0, 4, len(b)).astype(np.float64)
                b.fields["sparse"] = WriteBatch.from_rows("x", [0] * len(b), fields={"s": sparse}).fields["s"]
            storage.write("postgres", b).check()
            if i == 2:
                storage.flush()  # files and memtable both hold data; some blocks come from statistics
        # a series without a region (NULL in that column)
        t = gen.start_ns + np.arange(5, dtype=np.int64) * 7 * 10**9
        lone = WriteBatch.from_rows(
            "cpu", t, [{"hostname": "host_lone"}] * 5, {"usage_user": [1, 2, 3, 4, 5]}
        )
        storage.write("postgres", lone).check()
        yield engine.session("postgres")


def _rows(s, sql):
    r = s.execute(s.prepare(sql, []), [])
    return (
        [c.name for c in r.columns],
        [c.type_oid for c in r.columns],
        [row for b in r.batches for row in b.to_pylist()],
    )


def _same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-12, abs=1e-9)
    if isinstance(a, Decimal) and isinstance(b, Decimal):  # (variances: both add doubles, in other orders)
        return a == pytest.approx(b, rel=Decimal("1e-12"), abs=Decimal("1e-9"))
    return a == b


# rows of a time range and tags, no condition on fields, no LIMIT: a filtered scan; the unordered
# ones (and ties of time between series) compare as multisets
RAW_SCANS = [
    "SELECT time, usage_user FROM cpu WHERE hostname = 'host_2' AND time >= '2016-01-01 00:30:00+00' AND time < '2016-01-01 01:30:00+00' ORDER BY time",
    "SELECT * FROM cpu WHERE hostname IN ('host_1', 'host_4') ORDER BY time DESC",
    "SELECT time, hostname, temp, sparse FROM cpu WHERE region LIKE 'us-%'",
    "SELECT * FROM cpu",
    "SELECT usage_system, hostname FROM cpu WHERE hostname = 'host_none'",
]


def _duckdb_and_native(session, sql: str) -> tuple:
    """The statement's columns, types and rows from DuckDB (the native executor off), then from the
    native executor."""
    session.execute(session.prepare("SET tsgres.native_executor = off", []), [])
    want = _rows(session, sql)
    session.execute(session.prepare("SET tsgres.native_executor = on", []), [])
    return want, _rows(session, sql)


@pytest.mark.parametrize("sql", RAW_SCANS)
def test_raw_scans_equal_duckdb(session, sql):
    assert isinstance(session.prepare(sql, []).native, FilteredScan)
    want, got = _duckdb_and_native(session, sql)
    assert got[0] == want[0] and got[1] == want[1]
    if "ORDER BY" in sql:
        assert [r["time"] for r in got[2]] == [r["time"] for r in want[2]]
    assert sorted(map(_text, got[2])) == sorted(map(_text, want[2]))


def _text(row: dict) -> str:
    return repr(sorted(row.items()))  # (NaN equals NaN as text)


# ORDER BY time [DESC] LIMIT: read from a window at that end of the range (hosts share times: which
# rows of the last time shown make the cut is the database's choice, as in PostgreSQL)
EDGE_SCANS = [
    "SELECT * FROM cpu ORDER BY time DESC LIMIT 10",
    "SELECT * FROM cpu ORDER BY time LIMIT 25 OFFSET 7",
    "SELECT time, hostname, temp FROM cpu WHERE temp > 25 ORDER BY time DESC LIMIT 40",
    "SELECT time, hostname, sparse FROM cpu WHERE sparse IS NOT NULL ORDER BY time DESC LIMIT 30",
    "SELECT time, usage_user FROM cpu WHERE hostname = 'host_2' AND time < '2016-01-01 02:00:00+00' ORDER BY time DESC LIMIT 500",
    "SELECT time, hostname, usage_user FROM cpu WHERE usage_user > 99 ORDER BY time LIMIT 3",
    "SELECT time, hostname FROM cpu WHERE time >= '2016-01-01 01:00:00+00' ORDER BY time LIMIT 7",
    "SELECT time, region FROM cpu ORDER BY time DESC LIMIT 100000",
    "SELECT * FROM cpu WHERE hostname = 'host_none' ORDER BY time LIMIT 5",
    "SELECT time, hostname FROM cpu ORDER BY time DESC LIMIT 0",
]


@pytest.mark.parametrize("sql", EDGE_SCANS)
def test_ordered_limits_equal_duckdb(session, sql):
    assert isinstance(session.prepare(sql, []).native, FilteredScan)
    everything = _rows(session, sql.split(" ORDER BY")[0])[2]
    want, got = _duckdb_and_native(session, sql)
    assert got[0] == want[0] and got[1] == want[1]
    assert [r["time"] for r in got[2]] == [r["time"] for r in want[2]]
    cut = want[2][-1]["time"] if want[2] else None
    assert sorted(_text(r) for r in got[2] if r["time"] != cut) == sorted(
        _text(r) for r in want[2] if r["time"] != cut
    )
    rows = {_text(r) for r in everything}
    assert all(_text(r) in rows for r in got[2])


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM cpu LIMIT 10",
        "SELECT time, hostname, sparse FROM cpu WHERE sparse IS NOT NULL LIMIT 1500 OFFSET 40",
        "SELECT time, hostname FROM cpu WHERE usage_user > 90 LIMIT 20",
        "SELECT time, temp FROM cpu WHERE hostname IN ('host_1', 'host_3') LIMIT 100000",
        "SELECT time FROM cpu LIMIT 0",
    ],
)
def test_a_limit_without_order_gives_that_many_of_the_rows(session, sql):
    """LIMIT without ORDER BY: any OFFSET + LIMIT rows of the answer (PostgreSQL's order is its own)."""
    assert isinstance(session.prepare(sql, []).native, FilteredScan)
    head, _, rest = sql.partition(" LIMIT ")
    limit, _, offset = rest.partition(" OFFSET ")
    everything = _rows(session, head)[2]
    got = _rows(session, sql)[2]
    assert len(got) == max(min(int(limit), len(everything) - int(offset or 0)), 0)
    left = {}
    for r in everything:
        left[_text(r)] = left.get(_text(r), 0) + 1
    for r in got:  # (each row of the answer, as often as it is there)
        assert left.get(_text(r), 0) > 0, r
        left[_text(r)] -= 1


def test_a_huge_limit_without_order_streams_from_duckdb(session, monkeypatch):
    """LIMIT without ORDER BY gathers pieces until it has enough rows: past NATIVE_RESULT_VALUES it
    gives up and DuckDB runs the statement (which streams), with as many rows."""
    from sql import executor

    sql = "SELECT * FROM cpu WHERE usage_user > 20 LIMIT 100000"
    p = session.prepare(sql, [])
    assert isinstance(p.native, FilteredScan)
    n = len(_rows(session, sql)[2])
    assert n > 1000
    monkeypatch.setattr(executor, "NATIVE_RESULT_VALUES", 1024 * len(p.columns))  # 1024 rows
    with pytest.raises(executor.NotNative):
        executor.run(session, p.native, list(p.extra_params), [c.type_oid for c in p.columns])
    assert len(_rows(session, sql)[2]) == n


def test_selected_points_spanning_too_much_are_read_back_by_duckdb(session, monkeypatch):
    """InfluxQL's other columns beside a selector read the selected points' rows back: past
    NATIVE_RESULT_VALUES rows to read, DuckDB runs the statement, with the same answer."""
    from sql import executor

    sql = "SELECT hostname, ARG_MAX(time, ROW(EPOCH_US(time), usage_user)) AS t, ARG_MAX_NULL(usage_idle, ROW(EPOCH_US(time), usage_user)) AS i FROM cpu WHERE usage_user IS NOT NULL GROUP BY hostname ORDER BY hostname"
    p = session.prepare(sql, [])
    assert p.native is not None
    want = _rows(session, sql)
    monkeypatch.setattr(executor, "NATIVE_RESULT_VALUES", 16)
    with pytest.raises(executor.NotNative):
        executor.run(session, p.native, list(p.extra_params), [c.type_oid for c in p.columns])
    assert _rows(session, sql) == want


def test_limits_read_a_part_of_the_table(session, monkeypatch):
    """LIMIT without ORDER BY stops after the pieces that hold enough rows; ORDER BY time DESC LIMIT
    reads a window at the end of the range, not every row."""
    from sql import executor

    total = _rows(session, "SELECT count(*) AS n FROM cpu")[2][0]["n"]
    read: list[int] = []
    filtered, pieces = executor.filtered, executor.filtered_pieces

    def counted(*a, **k):
        t = filtered(*a, **k)
        read.append(t.num_rows)
        return t

    def counted_pieces(*a, **k):
        sch, found = pieces(*a, **k)

        def each():
            for cols in found:
                read.append(len(cols[0]))
                yield cols

        return sch, each()

    monkeypatch.setattr(executor, "filtered", counted)
    monkeypatch.setattr(executor, "filtered_pieces", counted_pieces)
    assert len(_rows(session, "SELECT * FROM cpu ORDER BY time DESC LIMIT 10")[2]) == 10
    assert read and sum(read) < total / 10, (read, total)
    read.clear()
    assert len(_rows(session, "SELECT * FROM cpu LIMIT 10")[2]) == 10
    assert read and sum(read) < total / 2, (read, total)


@pytest.mark.parametrize("sql", QUERIES)
def test_native_equals_duckdb(session, sql):
    p = session.prepare(sql, [])
    assert p.native is not None, "the planner should take this shape"
    want, got = _duckdb_and_native(session, sql)
    assert got[0] == want[0] and got[1] == want[1]
    assert len(got[2]) == len(want[2]) and len(got[2]) > 0
    for g, w in zip(got[2], want[2], strict=True):
        assert all(_same(g[k], w[k]) for k in w), (g, w)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT time_bucket('1 month', time) AS b, max(usage_user) FROM cpu GROUP BY b",
        "SELECT count(DISTINCT (hostname, region)) FROM cpu",
        "SELECT hostname, sum(usage_user) + 1 FROM cpu GROUP BY hostname",
        "SELECT hostname, max(usage_user) + 1.5 FROM cpu GROUP BY hostname",
        "SELECT c.hostname, max(c.usage_user) FROM cpu c JOIN cpu d ON c.time = d.time GROUP BY c.hostname",
        "SELECT hostname, count(*) FROM cpu GROUP BY hostname HAVING hostname LIKE 'host_1%'",
        "SELECT count(*) FILTER (WHERE lower(region) = 'x') FROM cpu",
        "SELECT hostname, count(*) FILTER (WHERE usage_user > 50), percentile_cont(0.5) WITHIN GROUP (ORDER BY temp) FROM cpu GROUP BY hostname",
        "SELECT hostname, count(*) FROM cpu GROUP BY hostname HAVING max(time) > '2016-01-01 01:00:00+00'",
        "SELECT count(*) FROM cpu WHERE hostname = 'host_1' HAVING count(*) > length(max(region))",
    ],
)
def test_other_shapes_stay_with_duckdb(session, sql):
    assert session.prepare(sql, []).native is None
    _rows(session, sql)


def test_date_trunc_buckets_follow_the_session_time_zone(session):
    sql = "SELECT date_trunc('hour', time) AS h, count(usage_user) FROM cpu GROUP BY h ORDER BY h"
    session.execute(session.prepare("SET TimeZone = 'Asia/Kolkata'", []), [])  # UTC+05:30
    try:
        names, oids, rows = _rows(session, sql)
        # hours start at :30 UTC there (DuckDB ran it in the session's zone)
        assert rows and all(r["h"].astimezone(dt.UTC).minute == 30 for r in rows)
    finally:
        session.execute(session.prepare("SET TimeZone = 'UTC'", []), [])
    assert all(r["h"].astimezone(dt.UTC).minute == 0 for r in _rows(session, sql)[2])


def test_a_filtered_scan_beyond_its_bound_streams_from_duckdb(session, monkeypatch):
    """A native filtered scan in time order gathers its rows before sending them: past
    NATIVE_RESULT_VALUES the statement is answered by DuckDB (which streams), with the same rows."""
    session = session.sql_engine.session("postgres")  # (UTC: other tests change the fixture's zone)
    from columnar.errors import ResultTooLarge
    from columnar.scan import FieldCondition, ScanRequest, filtered
    from sql import executor

    sql = "SELECT * FROM cpu WHERE usage_user > 20 AND time < '2016-01-01 01:00:00+00' ORDER BY time"
    p = session.prepare(sql, [])
    assert type(p.native).__name__ == "FilteredScan"

    def key(r):
        return (r["time"], r["hostname"])

    small = _rows(session, sql)
    small[2].sort(key=key)
    assert len(small[2]) > 100
    monkeypatch.setattr(executor, "NATIVE_RESULT_VALUES", 50 * len(p.columns))  # 50 rows
    with pytest.raises(executor.NotNative):  # (the engine then runs it on DuckDB)
        executor.run(session, p.native, list(p.extra_params), [c.type_oid for c in p.columns])
    big = _rows(session, sql)
    big[2].sort(key=key)
    assert big[:2] == small[:2] and len(big[2]) == len(small[2])
    assert all(
        _same(a, b)
        for x, y in zip(big[2], small[2], strict=True)
        for a, b in zip(x.values(), y.values(), strict=True)
    )
    storage = session.storage
    req = ScanRequest("postgres", "cpu")
    with pytest.raises(ResultTooLarge):
        filtered(storage, req, [FieldCondition("usage_user", ">", 20.0)], max_rows=50)
    assert filtered(storage, req, [FieldCondition("usage_user", ">", 20.0)], max_rows=10**6).num_rows > 50


def test_an_unordered_filtered_scan_hands_over_its_rows_in_pieces(session, monkeypatch):
    """Without ORDER BY or LIMIT a native filtered scan computes its first piece at execute and each
    next one when the client reads on: the same rows, in the same order, as the scan gathered whole,
    and DuckDB's rows; the tag counts every piece's."""
    session = session.sql_engine.session("postgres")
    from columnar import scan
    from sql import executor

    sql = "SELECT * FROM cpu WHERE usage_user > 20"
    whole = _rows(session, sql)
    monkeypatch.setattr(scan, "FIRST_PIECE_ROWS", 300)
    pieces = []
    real = scan._filter_piece
    monkeypatch.setattr(scan, "_filter_piece", lambda *a: pieces.append(a[3]) or real(*a))
    p = session.prepare(sql, [])
    assert type(p.native).__name__ == "FilteredScan"
    r = session.execute(p, [])
    assert len(pieces) == 1  # the first piece only, so far
    batches = list(r.batches)
    assert len(pieces) >= 4 and len(batches) >= 4
    series = [s for s in pieces if s is not None]
    assert [s[0] for s in series] == sorted(s[0] for s in series)
    got = [row for b in batches for row in b.to_pylist()]
    assert r.tag == f"SELECT {len(got)}" and len(got) == len(whole[2])
    assert [(x["time"], x["hostname"]) for x in got] == [(x["time"], x["hostname"]) for x in whole[2]]
    session.execute(session.prepare("SET tsgres.native_executor = off", []), [])
    try:
        duck = _rows(session, sql)
    finally:
        session.execute(session.prepare("SET tsgres.native_executor = on", []), [])

    def key(r):
        return (r["time"], r["hostname"])

    assert all(
        _same(a, b)
        for x, y in zip(sorted(got, key=key), sorted(duck[2], key=key), strict=True)
        for a, b in zip(x.values(), y.values(), strict=True)
    )
    oids = [c.type_oid for c in p.columns]
    assert isinstance(executor.run(session, p.native, list(p.extra_params), oids), executor.Streamed)


@settings(max_examples=40, deadline=None)
@given(
    first=st.integers(1, 6000),
    above=st.floats(0, 100),
    lo_min=st.integers(0, 170),
    span_min=st.integers(1, 200),
)
def test_pieces_are_the_gathered_scan_cut_between_series(session, first, above, lo_min, span_min):
    """However small the first piece, the pieces put together are the gathered scan's rows in its
    order (files and memtable both hold rows of the fixture), and no series spans two pieces."""
    import pyarrow as pa

    from columnar.scan import FieldCondition, ScanRequest, filtered, filtered_pieces

    t0 = 1451606400 * 10**9 + lo_min * 60 * 10**9
    req = ScanRequest("postgres", "cpu", tmin=t0, tmax=t0 + span_min * 60 * 10**9, with_series_id=True)
    conds = [FieldCondition("usage_user", ">", above)]
    whole = filtered(session.storage, req, conds, plain_tags=True)
    sch, pieces = filtered_pieces(session.storage, req, conds, plain_tags=True, first_rows=first)
    parts = [pa.Table.from_arrays(cols, schema=sch) for cols in pieces]
    got = pa.concat_tables(parts) if parts else sch.empty_table()
    assert got.schema == whole.schema and got.num_rows == whole.num_rows
    for name in whole.column_names:  # (NaN equal to NaN: the fixture's temp has some)
        assert all(map(_same, got.column(name).to_pylist(), whole.column(name).to_pylist())), name
    seen: set[int] = set()
    for part in parts:
        ids = set(part.column("__series_id").to_pylist())
        assert part.num_rows and not ids & seen
        seen |= ids


def test_a_cancel_reaches_a_filtered_scan_between_its_pieces(session, monkeypatch):
    """A cancel (or statement_timeout) while the client reads a piecewise answer stops the next piece
    with 57014, and the session answers the next statement."""
    session = session.sql_engine.session("postgres")
    from columnar import scan
    from sql import errors as E

    monkeypatch.setattr(scan, "FIRST_PIECE_ROWS", 300)
    r = session.execute(session.prepare("SELECT * FROM cpu WHERE usage_user > 20", []), [])
    next(r.batches)
    session.cancel()
    with pytest.raises(E.QueryCanceled, match="user request"):
        list(r.batches)
    assert _rows(session, "SELECT count(*) AS n FROM cpu")[2][0]["n"] > 0
    session.execute(session.prepare("SET statement_timeout = 300", []), [])
    try:
        r = session.execute(session.prepare("SELECT * FROM cpu WHERE usage_user > 21", []), [])
        next(r.batches)
        import time

        time.sleep(0.35)  # the statement's deadline passes while the client reads
        with pytest.raises(E.QueryCanceled, match="statement timeout"):
            list(r.batches)
    finally:
        session.execute(session.prepare("SET statement_timeout = 0", []), [])


def test_an_aggregate_beyond_its_bound_runs_on_duckdb(session, monkeypatch):
    """A native aggregate holds one partial per series, bucket and block: past NATIVE_PARTIAL_VALUES
    the statement is answered by DuckDB instead, with the same rows."""
    session = session.sql_engine.session("postgres")
    from columnar.errors import ResultTooLarge
    from columnar.scan import ScanRequest, aggregate_partials
    from sql import executor

    sql = (
        "SELECT time_bucket('1 minute', time) AS m, hostname, max(usage_user) AS mx, count(usage_system) AS n "
        "FROM cpu WHERE time < '2016-01-01 02:00:00+00' GROUP BY m, hostname ORDER BY m, hostname"
    )
    p = session.prepare(sql, [])
    assert type(p.native).__name__ == "BucketAggregate"
    small = _rows(session, sql)
    assert len(small[2]) > 100
    monkeypatch.setattr(executor, "NATIVE_PARTIAL_VALUES", 50 * 2)  # 50 pieces of the two fields
    with pytest.raises(executor.NotNative):  # (the engine then runs it on DuckDB)
        executor.run(session, p.native, list(p.extra_params), [c.type_oid for c in p.columns])
    big = _rows(session, sql)
    assert big == small
    req = ScanRequest("postgres", "cpu")
    with pytest.raises(ResultTooLarge):
        aggregate_partials(session.storage, req, ["usage_user"], every=60 * 10**9, max_pieces=50)
    assert (
        len(aggregate_partials(session.storage, req, ["usage_user"], every=60 * 10**9, max_pieces=10**7)) > 50
    )


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_one_kernel_combines_as_the_numpy_path(data):
    """count/sum/avg/min/max of segments by the kernel equal _combine's over random pieces: empty
    pieces, NaN, infinities, -0.0, integer extremes (sums wrap), unsigned and boolean columns."""
    from columnar.scan import Partials
    from columnar.types import FieldType
    from sql import executor

    n = data.draw(st.integers(1, 12))
    types = [FieldType.FLOAT, FieldType.INTEGER, FieldType.UNSIGNED, FieldType.BOOLEAN]
    p = Partials.empty([f"c{i}" for i in range(4)], types, n)
    floats = st.sampled_from([0.0, -0.0, 1.5, -2.25, np.nan, np.inf, -np.inf, 1e300])
    ints = st.sampled_from([0, 1, -1, 7, 2**63 - 1, -(2**63)])
    for r in range(n):
        p.count[:, r] = data.draw(st.lists(st.integers(0, 3), min_size=4, max_size=4))
        x, y, z = data.draw(floats), data.draw(floats), data.draw(floats)
        p.sum_f[0, r], p.min[0, r], p.max[0, r] = (
            x,
            np.float64(y).view(np.uint64),
            np.float64(z).view(np.uint64),
        )
        for c in (1, 3):
            a, b, s_ = data.draw(ints), data.draw(ints), data.draw(ints)
            if c == 3:
                a, b = abs(a) % 2, abs(b) % 2
            p.min[c, r], p.max[c, r] = np.int64(a).view(np.uint64), np.int64(b).view(np.uint64)
            p.sum_i[c, r] = np.int64(s_).view(np.uint64)
        u = data.draw(st.sampled_from([0, 1, 2**63, 2**64 - 1]))
        p.min[2, r], p.max[2, r], p.sum_i[2, r] = u, data.draw(st.sampled_from([0, 5, 2**64 - 1])), u
    order = np.array(data.draw(st.permutations(range(n))), np.int64)
    cuts = sorted(set(data.draw(st.lists(st.integers(1, n - 1), max_size=4)) if n > 1 else []))
    starts = np.array([0, *cuts], np.int64)
    seg = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, n)))
    for func in ("count", "sum", "avg", "min", "max"):
        for c, ft in enumerate(types):
            if ft is FieldType.BOOLEAN and func in ("sum", "avg"):
                continue
            plan = type("P", (), {})()
            plan.aggs = [type("A", (), {"func": func, "field": f"c{c}", "filter": None})()]
            got = executor._simple_aggregates(plan, p, {f"c{i}": i for i in range(4)}, order, starts)[0]
            with np.errstate(all="ignore"):  # (inf - inf in the reference's sums)
                want = executor._combine(func, p, c, order, starts, seg)
            assert got.type == want.type, (func, ft)
            g, w = got.to_pylist(), want.to_pylist()
            for a, b in zip(g, w, strict=True):
                if isinstance(b, float) and b != b:
                    assert a != a, (func, ft, g, w)
                elif isinstance(b, float) and func in ("sum", "avg"):
                    assert a == pytest.approx(b, rel=1e-12, abs=0) or (math.isinf(b) and a == b), (
                        func,
                        ft,
                        g,
                        w,
                    )
                else:  # (0.0 and -0.0 tie: which one wins is the order's, in PostgreSQL too)
                    assert a == b, (func, ft, g, w)


def test_is_not_null_drops_the_rows_without_the_field(tmp_path):
    """A field written on some rows only: the filtered scan's IS NOT NULL keeps the rows that have it,
    before ORDER BY time LIMIT (as DuckDB does)."""
    with sql_engine(tmp_path) as (storage, engine):
        t = np.arange(20, dtype=np.int64) * 10**9
        storage.write(
            "postgres", WriteBatch.from_rows("m", t, [{"h": "a"}] * 20, {"v": list(range(20))})
        ).check()
        storage.flush()
        w = [float(i) if i % 3 == 0 else None for i in range(20)]
        storage.write("postgres", WriteBatch.from_rows("m", t, [{"h": "a"}] * 20, {"w": w})).check()
        s = engine.session("postgres")
        sql = "SELECT time, w FROM m WHERE h = 'a' AND w IS NOT NULL ORDER BY time DESC LIMIT 3"
        p = s.prepare(sql, [])
        assert p.native is not None and p.native.not_null == [("w",)]
        native = _rows(s, sql)
        s.execute(s.prepare("SET tsgres.native_executor = off", []), [])
        assert _rows(s, sql) == native
        assert [r["w"] for r in native[2]] == [18.0, 15.0, 12.0]
        # several fields ORed (InfluxQL's raw SELECT of several fields): rows with none of them drop
        later = np.arange(20, 25, dtype=np.int64) * 10**9
        storage.write("postgres", WriteBatch.from_rows("m", later, [{"h": "a"}] * 5, {"x": [1] * 5})).check()
        storage.write("postgres", WriteBatch.from_rows("m", later[:1], [{"h": "a"}], {"w": [7.0]})).check()
        sql = "SELECT time, v, w FROM m WHERE h = 'a' AND (v IS NOT NULL OR (w IS NOT NULL)) ORDER BY time DESC LIMIT 3"
        s.execute(s.prepare("SET tsgres.native_executor = on", []), [])
        p = s.prepare(sql, [])
        assert p.native is not None and p.native.not_null == [("v", "w")]
        native = _rows(s, sql)
        assert [(r["v"], r["w"]) for r in native[2]] == [(None, 7.0), (19, None), (18, 18.0)]
        s.execute(s.prepare("SET tsgres.native_executor = off", []), [])
        assert _rows(s, sql) == native


def test_integer_sums_that_may_leave_int64_run_on_duckdb(tmp_path):
    """The native integer sums wrap past int64: where the values could get there the statement runs
    on DuckDB, whose sum is exact (PostgreSQL's numeric), and a cast to bigint fails as it does."""
    with sql_engine(tmp_path) as (storage, engine):
        t = np.arange(6, dtype=np.int64) * 10**9
        big = [2**62, 2**62, 2**62, 2**62 - 1, -5, 7]
        storage.write("postgres", WriteBatch.from_rows("m", t, [{"h": "a"}] * 6, {"v": big})).check()
        storage.write("postgres", WriteBatch.from_rows("m", t, [{"h": "b"}] * 6, {"v": [1] * 6})).check()
        s = engine.session("postgres")
        sql = "SELECT h, sum(v) AS s, avg(v) AS a FROM m GROUP BY h ORDER BY h"
        assert s.prepare(sql, []).native is not None
        got = _rows(s, sql)[2]
        assert got[0]["s"] == sum(big) and got[1]["s"] == 6
        assert float(got[0]["a"]) == pytest.approx(sum(big) / 6, rel=1e-12)
        small = "SELECT h, CAST(SUM(v) AS BIGINT) AS s FROM m WHERE h = 'b' GROUP BY h"
        assert s.prepare(small, []).native is not None
        assert _rows(s, small)[2] == [{"h": "b", "s": 6}]
        for overflow in [
            "SELECT CAST(SUM(v) AS BIGINT) AS s FROM m WHERE h = 'a'",
            "SELECT max(v) * 4 AS s FROM m WHERE h = 'a'",  # (the native arithmetic checks, DuckDB says)
        ]:
            assert s.prepare(overflow, []).native is not None
            with pytest.raises(E.SqlError) as exc:
                _rows(s, overflow)
            assert exc.value.sqlstate == "22003"


def test_a_date_bin_origin_is_in_the_session_time_zone(session):
    """date_bin's origin text without a zone is read in the session's TimeZone (as DuckDB's cast)."""
    sql = "SELECT date_bin('1 hour', time, '2016-01-01 00:00:00') AS h, count(usage_user) AS n FROM cpu GROUP BY h ORDER BY h"
    assert session.prepare(sql, []).native is not None
    session.execute(session.prepare("SET TimeZone = 'Asia/Kolkata'", []), [])  # UTC+05:30
    try:
        got = _rows(session, sql)
        session.execute(session.prepare("SET tsgres.native_executor = off", []), [])
        assert got == _rows(session, sql)
        assert all(r["h"].astimezone(dt.UTC).minute == 30 for r in got[2])
    finally:
        session.execute(session.prepare("SET tsgres.native_executor = on", []), [])
        session.execute(session.prepare("SET TimeZone = 'UTC'", []), [])


def test_percentiles_of_many_values_run_on_duckdb(session, monkeypatch):
    """Past NATIVE_PERCENTILE_VALUES (counted from the partials, before any row is read) DuckDB sorts
    the values instead, with the same answer."""
    session = session.sql_engine.session("postgres")
    from sql import executor

    sql = (
        "SELECT hostname, percentile_cont(0.3) WITHIN GROUP (ORDER BY usage_user) AS p "
        "FROM cpu GROUP BY hostname ORDER BY hostname"
    )
    p = session.prepare(sql, [])
    native = _rows(session, sql)
    monkeypatch.setattr(executor, "NATIVE_PERCENTILE_VALUES", 100)
    with pytest.raises(executor.NotNative):
        executor.run(session, p.native, list(p.extra_params), [c.type_oid for c in p.columns])
    assert _rows(session, sql) == native


@pytest.mark.parametrize("lo_min, span_min", [(0, 180), (30, 20), (100, 5), (170, 60)])
def test_the_row_estimate_sizes_windows_from_statistics(session, lo_min, span_min):
    """rows_estimate (the first window of ORDER BY time LIMIT) counts whole row groups and memtable
    shares: near the rows the range holds (row groups partly in it count whole)."""
    from columnar.scan import ScanRequest, rows_estimate

    t0 = 1451606400 * 10**9 + lo_min * 60 * 10**9
    t1 = t0 + span_min * 60 * 10**9 - 1
    exact = _rows(
        session,
        f"SELECT count(*) AS n FROM cpu WHERE time >= to_timestamp({t0 / 1e9}) AND time <= to_timestamp({t1 / 1e9})",
    )[2][0]["n"]
    est = rows_estimate(session.storage, ScanRequest("postgres", "cpu", tmin=t0, tmax=t1))
    assert exact // 4 <= est <= 4 * exact + 6 * 2000, (exact, est)


@pytest.mark.parametrize("overwrite", [False, True])
def test_memtable_rows_interleaved_with_a_file_count_apart_unless_a_point_repeats(
    tmp_path, monkeypatch, overwrite
):
    """Writers out of time order leave the memtable's rows between a file's: a row group that shares no
    (series, time) with them aggregates alone (no merge); one that does is merged, and the memtable's
    write of the repeated point wins. Both answer as DuckDB over the merged rows."""
    from columnar import scan

    with sql_engine(tmp_path) as (storage, engine):
        even = np.arange(0, 400, 2, dtype=np.int64) * 10**9
        storage.write(
            "postgres",
            WriteBatch.from_rows("m", even, [{"h": "a"}] * len(even), {"v": (even // 10**9).tolist()}),
        ).check()
        storage.flush()
        odd = even + 10**9
        storage.write(
            "postgres",
            WriteBatch.from_rows("m", odd, [{"h": "a"}] * len(odd), {"v": (1000 + odd // 10**9).tolist()}),
        ).check()
        if overwrite:
            storage.write(
                "postgres", WriteBatch.from_rows("m", even[50:51], [{"h": "a"}], {"v": [-5]})
            ).check()
        marked: list[tuple[int, int]] = []
        apart = scan._apart_from

        def spy(cand, isolated, *rest):
            got = apart(cand, isolated, *rest)
            marked.append((int(isolated.sum()), int(got.sum())))
            return got

        monkeypatch.setattr(scan, "_apart_from", spy)
        s = engine.session("postgres")
        for sql in (
            "SELECT count(v) AS n, sum(v) AS s, min(v) AS lo, max(v) AS hi FROM m",
            "SELECT time_bucket('1 minute', time) AS b, count(*) AS n, sum(v) AS s, min(v) AS lo, first(v, time) AS f, last(v, time) AS l FROM m GROUP BY b ORDER BY b",
        ):
            want, got = _duckdb_and_native(s, sql)
            assert got == want, sql
        n, total, lo = _rows(s, "SELECT count(v) AS n, sum(v) AS s, min(v) AS lo FROM m")[2][0].values()
        assert n == 400 and lo == (-5 if overwrite else 0)
        assert total == sum(range(0, 400, 2)) + sum(1000 + x for x in range(1, 400, 2)) - (
            105 if overwrite else 0
        )
        assert marked and all(after == before + (0 if overwrite else 1) for before, after in marked), marked


@pytest.mark.parametrize(
    ("sql", "native"),
    [
        # ORMs qualify every column: ORDER BY t.c is the output c when that output is the column
        (
            "SELECT cpu.hostname, max(cpu.usage_user) AS m FROM cpu GROUP BY cpu.hostname ORDER BY cpu.hostname DESC",
            True,
        ),
        ("SELECT c.hostname, count(*) AS n FROM cpu AS c GROUP BY c.hostname ORDER BY c.hostname", True),
        ("SELECT hostname, min(temp) AS t FROM cpu GROUP BY hostname ORDER BY cpu.hostname, t", True),
        # ... and not when the output of that name is something else (the input column is meant)
        (
            "SELECT upper(hostname) AS hostname, max(temp) AS m FROM cpu GROUP BY cpu.hostname ORDER BY cpu.hostname",
            False,
        ),
        ("SELECT hostname AS h, max(temp) AS m FROM cpu GROUP BY hostname ORDER BY cpu.hostname", False),
    ],
)
def test_a_qualified_order_by_column_is_the_output_only_when_it_is_that_column(session, sql, native):
    assert (type(session.prepare(sql, []).native).__name__ == "BucketAggregate") is native
    want, got = _duckdb_and_native(session, sql)
    assert got[:2] == want[:2] and [_text(r) for r in got[2]] == [_text(r) for r in want[2]]


def test_tablesample_samples(tmp_path):
    """TABLESAMPLE on one of our tables was dropped with the table reference (every row came back):
    it now reaches DuckDB, and the native executor leaves such a query to it. REPEATABLE gives the
    same sample again."""
    with sql_engine(tmp_path) as (_storage, sql):
        s = sql.session("postgres")

        def one(q):
            r = s.execute(s.prepare(q, []), [])
            return [row for b in r.batches for row in b.to_pylist()]

        one("CREATE TABLE m (time timestamptz NOT NULL, host text, v double precision)")
        one("INSERT INTO m SELECT t, 'a', 1 FROM generate_series(timestamptz '2026-11-10 00:00+00', "
            "timestamptz '2026-11-10 23:59:59+00', INTERVAL '1 second') t")  # fmt: skip
        assert one("SELECT count(*) AS n FROM m") == [{"n": 86_400}]
        for q in (
            "SELECT count(*) AS n FROM m TABLESAMPLE BERNOULLI (10) REPEATABLE (7)",
            "SELECT count(*) AS n FROM m AS x TABLESAMPLE BERNOULLI (10) REPEATABLE (7) WHERE x.v > 0",
        ):
            n = one(q)[0]["n"]
            assert 7_000 < n < 10_500 and one(q)[0]["n"] == n
        got = one("SELECT time_bucket('1 hour', time) AS b, count(*) AS n FROM m TABLESAMPLE BERNOULLI (10) "
                  "REPEATABLE (1) GROUP BY b ORDER BY b")  # fmt: skip
        assert len(got) == 24 and all(200 < r["n"] < 600 for r in got)
        assert one("SELECT count(*) AS n FROM m TABLESAMPLE SYSTEM (100)") == [{"n": 86_400}]
