"""tsgres_time_ns: every table's time at full nanosecond precision, for whoever names it."""

from __future__ import annotations

import pytest

from compat.influx.lineprotocol import parse
from tests.sql.in_process import sql_engine

BODY = b"""m,host=a v=1 1700000000123456789
m,host=b v=2 1700000000123456001
m,host=a v=3 1700000001000000999
"""


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    with sql_engine(tmp_path_factory.mktemp("ns")) as (storage, engine):
        for b in parse(BODY).batches:
            storage.write("postgres", b).check()
        yield engine.session("postgres")


def _rows(s, sql):
    r = s.execute(s.prepare(sql, []), [])
    return [c.type_oid for c in r.columns], [tuple(x.values()) for b in r.batches for x in b.to_pylist()]


def test_time_ns_keeps_nanoseconds(session):
    oids, rows = _rows(session, "SELECT tsgres_time_ns, host, v FROM m ORDER BY tsgres_time_ns")
    assert oids[0] == 20
    assert rows == [
        (1700000000123456001, "b", 2.0),
        (1700000000123456789, "a", 1.0),
        (1700000001000000999, "a", 3.0),
    ]
    # the timestamp column itself is PostgreSQL's microseconds
    _, rows = _rows(
        session, "SELECT extract(microseconds FROM time) FROM m WHERE host = 'a' ORDER BY time LIMIT 1"
    )
    assert rows[0][0] == 20_123_456  # seconds and microseconds, as PostgreSQL counts them


def test_time_ns_is_not_a_listed_column(session):
    _, rows = _rows(session, "SELECT * FROM m ORDER BY time LIMIT 1")
    assert len(rows[0]) == 3
    _, cols = _rows(session, "SELECT column_name FROM information_schema.columns WHERE table_name = 'm'")
    assert ("tsgres_time_ns",) not in cols


def test_time_ns_in_filters_and_aggregates(session):
    _, rows = _rows(
        session,
        "SELECT host, max(tsgres_time_ns) FROM m WHERE tsgres_time_ns > 1700000000123456001 GROUP BY host ORDER BY host",
    )
    assert rows == [("a", 1700000001000000999)]


def test_time_ns_bounds_are_pushed_down_exactly(session):
    from sql.parse import parse
    from sql.rewrite.pushdown import table_pushdown

    where = parse(
        "SELECT 1 FROM m WHERE tsgres_time_ns > 1700000000123456001 AND tsgres_time_ns <= 1700000001000000999"
    ).args["where"]
    pd = table_pushdown(where, "m", "time", {"host"}, lambda e: None)
    assert (pd.tmin, pd.tmax, pd.exact) == (1700000000123456002, 1700000001000000999, True)
    # the native executor keeps the plan, and the bound is exact to the nanosecond
    sql = "SELECT host, count(v) FROM m WHERE tsgres_time_ns > {} GROUP BY host ORDER BY host"
    p = session.prepare(sql.format(1700000000123456001), [])
    assert p.native is not None
    _, rows = _rows(session, sql.format(1700000000123456001))
    assert rows == [("a", 2)]
    _, rows = _rows(session, sql.format(1700000000123456789))
    assert rows == [("a", 1)]
