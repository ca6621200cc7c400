"""``tag IN (SELECT ...)``: the subquery's values narrow the outer scan to those series (the query still
applies the IN itself), and the answers are those of a scan of every series."""

from __future__ import annotations

import numpy as np
import pytest

from bench.datagen import DevopsCpu
from columnar.batch import WriteBatch
from sql.engine import SqlSession
from tests.sql.in_process import sql_engine


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    with sql_engine(tmp_path_factory.mktemp("subq")) as (storage, engine):
        for b in DevopsCpu(6, hours=2, seed=3).batches(2000):
            storage.write("postgres", b).check()
        t = 1451606400 * 10**9 + np.arange(3, dtype=np.int64) * 10**10
        lone = WriteBatch.from_rows("cpu", t, [{"hostname": "host_lone"}] * 3, {"usage_user": [1, 2, 3]})
        storage.write("postgres", lone).check()  # (a series without a region)
        yield engine.session("postgres")


def _rows(s, sql: str, params: list | None = None) -> list:
    st = s.prepare(sql, [])
    r = s.execute(st, params or [])
    return sorted(repr(sorted(row.items())) for b in r.batches for row in b.to_pylist())


PUSHED = [
    "SELECT time_bucket('30 minutes', time) AS b, avg(usage_user) FROM cpu WHERE hostname IN (SELECT DISTINCT hostname FROM cpu WHERE region = 'eu-west-1') GROUP BY b",
    "SELECT hostname, count(*) FROM cpu WHERE hostname IN (SELECT hostname FROM cpu WHERE usage_user > 95 AND time < '2016-01-01 00:30:00+00') GROUP BY hostname",
    "SELECT count(*) FROM cpu WHERE region IN (SELECT region FROM cpu WHERE hostname IN ('host_1', 'host_lone')) AND usage_user > 10",
    "SELECT time, usage_user FROM cpu WHERE hostname IN (SELECT hostname FROM cpu WHERE hostname LIKE 'host_%' GROUP BY hostname HAVING max(usage_user) > 98) ORDER BY time, usage_user LIMIT 50",
    "SELECT count(*) FROM cpu WHERE hostname IN (SELECT hostname FROM cpu WHERE hostname = 'nobody')",
    # a subquery DuckDB runs
    "SELECT count(*) FROM cpu WHERE hostname IN (SELECT lower(hostname) FROM cpu WHERE usage_user > 97)",
]
NOT_PUSHED = [
    # correlated: the subquery cannot run alone
    "SELECT count(*) FROM cpu c WHERE hostname IN (SELECT hostname FROM cpu d WHERE d.region = c.region AND d.usage_user > 97)",
    # not a conjunct of the WHERE (NOT IN's NULLs): read in full
    "SELECT count(*) FROM cpu WHERE hostname NOT IN (SELECT hostname FROM cpu WHERE region = 'eu-west-1')",
]


@pytest.mark.parametrize("sql", PUSHED + NOT_PUSHED)
def test_answers_equal_a_scan_of_every_series(session, sql, monkeypatch):
    calls: list[object] = []
    values = SqlSession._subquery_values

    def spy(self, sub, params):
        got = values(self, sub, params)
        calls.append(got)
        return got

    monkeypatch.setattr(SqlSession, "_subquery_values", spy)
    pushed = _rows(session, sql)
    if sql in PUSHED:
        assert calls and all(c is not None for c in calls), calls
    else:
        assert not any(calls), calls
    monkeypatch.setattr(SqlSession, "_subquery_values", lambda self, sub, params: None)
    assert pushed == _rows(session, sql)


def test_the_subquery_takes_the_statement_parameters(session, monkeypatch):
    sql = "SELECT hostname, max(usage_user) FROM cpu WHERE time >= $1 AND hostname IN (SELECT DISTINCT hostname FROM cpu WHERE region = $2) GROUP BY hostname"
    import datetime as dt

    params = [dt.datetime(2016, 1, 1, 1, tzinfo=dt.UTC), "eu-west-1"]
    seen: list[object] = []
    values = SqlSession._subquery_values
    monkeypatch.setattr(
        SqlSession, "_subquery_values", lambda self, sub, p: seen.append(values(self, sub, p)) or seen[-1]
    )
    st = session.prepare(sql, [0, 25])
    got = sorted(r["hostname"] for b in session.execute(st, params).batches for r in b.to_pylist())
    assert seen and seen[0] is not None and sorted(seen[0]) == got
    want = sorted(
        r["hostname"]
        for b in session.execute(
            session.prepare("SELECT DISTINCT hostname FROM cpu WHERE region = 'eu-west-1'", []), []
        ).batches
        for r in b.to_pylist()
    )
    assert got == want and got


def test_the_scan_reads_only_the_subquerys_series(session, monkeypatch):
    from sql import binder

    requests = []
    scan = binder.scan

    def recorded(storage, req):
        requests.append(req)
        return scan(storage, req)

    monkeypatch.setattr(binder, "scan", recorded)
    _rows(session, PUSHED[0])
    outer = [r for r in requests if r.predicate is not None and "hostname" in repr(r.predicate)]
    assert outer, requests
    assert all("region" not in repr(r.predicate) for r in outer)


def test_a_native_subquery_runs_under_the_statement_timeout(session, monkeypatch):
    """The subquery run for the pushdown is held to statement_timeout like the statement (its scan's
    interrupt keeps the deadline), and the session has no deadline left afterwards."""
    from sql import executor

    seen: list[float] = []
    run = executor.run

    def recorded(s, plan, params, oids):
        seen.append(s.native_deadline)
        return run(s, plan, params, oids)

    monkeypatch.setattr(executor, "run", recorded)
    session.execute(session.prepare("SET statement_timeout = 60000", []), [])
    try:
        _rows(session, PUSHED[0])
    finally:
        session.execute(session.prepare("SET statement_timeout = 0", []), [])
    assert seen and seen[0] > 0
    assert session.native_deadline == 0.0
