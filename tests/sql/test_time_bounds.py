"""The pushdown's time bounds computed without DuckDB equal DuckDB's (now() and intervals)."""

from __future__ import annotations

import time

import pytest
import sqlglot

from tests.sql.in_process import sql_engine


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    with sql_engine(tmp_path_factory.mktemp("bounds")) as (_storage, engine):
        yield engine.session("postgres")


def _expr(text: str):
    return sqlglot.parse_one(f"SELECT {text}", read="postgres").expressions[0]


def _duckdb_ns(session, text: str) -> int:
    q = f"SELECT CAST(EXTRACT(EPOCH FROM {text}) * 1000000 AS BIGINT) AS us"
    r = session.execute(session.prepare(q, []), [])
    return [row for b in r.batches for row in b.to_pylist()][0]["us"] * 1000


TEXTS = [
    "'2016-01-01T00:00:00Z'::timestamptz - interval '1 hour'",
    "'2016-03-27 01:30:00'::timestamptz + interval '90 minutes'",
    "'2016-03-27 01:30:00'::timestamptz - interval '1 day'",
    "'2016-03-26 12:00:00+00'::timestamptz + interval '2 weeks'",
    "'2016-01-31 00:00:00+00'::timestamptz + interval '1 month'",
    "'2016-01-01 00:00:00+00'::timestamptz - interval '2.5 seconds'",
]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin"])
@pytest.mark.parametrize("text", TEXTS)
def test_literal_bounds_equal_duckdbs(session, zone, text):
    session.execute(session.prepare(f"SET TimeZone = '{zone}'", []), [])
    try:
        e = _expr(text)
        fast = session._literal_ns(e, [])
        if "month" in text or (zone != "UTC" and ("day" in text or "week" in text)):
            assert fast is None  # (the zone's calendar decides: DuckDB computes it)
        assert session.evaluate_ns(e, []) == _duckdb_ns(session, text)
        if fast is not None:
            assert fast == _duckdb_ns(session, text)
    finally:
        session.execute(session.prepare("SET TimeZone = 'UTC'", []), [])


def test_now_minus_an_interval_is_now(session):
    before = time.time_ns()
    got = session.evaluate_ns(_expr("now() - interval '1 hour'"), [])
    after = time.time_ns()
    assert before - 3600 * 10**9 - 1000 <= got <= after - 3600 * 10**9
    assert session._literal_ns(_expr("now() - interval '1 hour'"), []) is not None
