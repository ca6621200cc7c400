"""The native executor answers exactly what DuckDB answers for the shapes it takes."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from bench.datagen import DevopsCpu
from columnar.batch import WriteBatch
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
            storage.write("postgres", b).check()
            if i == 2:
                storage.flush()  # files and memtable both hold data; some blocks come from statistics
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
    return a == b


@pytest.mark.parametrize("sql", QUERIES)
def test_native_equals_duckdb(session, sql):
    p = session.prepare(sql, [])
    assert p.native is not None, "the planner should take this shape"
    session.execute(session.prepare("SET tsgres.native_executor = off", []), [])
    want = _rows(session, sql)
    session.execute(session.prepare("SET tsgres.native_executor = on", []), [])
    got = _rows(session, sql)
    assert got[0] == want[0] and got[1] == want[1]
    assert len(got[2]) == len(want[2]) and len(got[2]) > 0
    for g, w in zip(got[2], want[2], strict=True):
        assert all(_same(g[k], w[k]) for k in w), (g, w)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT time_bucket('1 month', time) AS b, max(usage_user) FROM cpu GROUP BY b",
        "SELECT count(*) FROM cpu",
        "SELECT hostname, max(usage_user) + 1 FROM cpu GROUP BY hostname",
        "SELECT c.hostname, max(c.usage_user) FROM cpu c JOIN cpu d ON c.time = d.time GROUP BY c.hostname",
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
    """A native filtered scan gathers its rows before sending them: past NATIVE_RESULT_VALUES the
    statement is answered by DuckDB (which streams), with the same rows."""
    session = session.sql_engine.session("postgres")  # (UTC: other tests change the fixture's zone)
    from columnar.errors import ResultTooLarge
    from columnar.scan import FieldCondition, ScanRequest, filtered
    from sql import executor

    sql = "SELECT * FROM cpu WHERE usage_user > 20 AND time < '2016-01-01 01:00:00+00'"
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
