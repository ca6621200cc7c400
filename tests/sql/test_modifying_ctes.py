"""Data-modifying statements in WITH (sql/modifying_ctes.py), and INSERT ... SELECT * of a subquery or
CTE without a column list (which kept only the first column before)."""

from __future__ import annotations

import datetime as dt

import pytest

from sql import errors as E
from tests.sql.in_process import sql_engine

UTC = dt.UTC


def _run(s, sql, params=()):
    r = s.execute(s.prepare(sql, [0] * len(params)), list(params))
    rows = [tuple(row.values()) for b in (r.batches or []) for row in b.to_pylist()]
    return r.tag or f"SELECT {len(rows)}", rows


@pytest.fixture
def s(tmp_path):
    with sql_engine(tmp_path) as (_storage, sql):
        session = sql.session("postgres")
        for t in ("metrics", "archive"):
            _run(session, f"CREATE TABLE {t} (time TIMESTAMPTZ NOT NULL, host TEXT, v FLOAT8)")
        _run(session, "INSERT INTO metrics VALUES ('2024-01-01 00:00:00+00', 'h1', 1), "
                      "('2024-01-02 00:00:00+00', 'h2', 2), ('2024-06-01 00:00:00+00', 'h1', 3)")  # fmt: skip
        yield session


def test_insert_select_star_of_a_subquery_or_cte_keeps_every_column(s):
    _run(s, "INSERT INTO archive SELECT * FROM (VALUES (CAST('2024-02-01 00:00:00+00' AS TIMESTAMPTZ), 'a', 1.5)) "
            "AS r(time, host, v)")  # fmt: skip
    _run(
        s,
        "WITH m AS (SELECT time, host, v * 10 AS v FROM metrics WHERE host = 'h2') INSERT INTO archive SELECT * FROM m",
    )
    assert _run(s, "SELECT host, v FROM archive ORDER BY time")[1] == [("h2", 20.0), ("a", 1.5)]
    with pytest.raises(E.SyntaxError_, match="more expressions than target columns"):
        _run(s, "INSERT INTO archive SELECT *, 1 AS extra FROM metrics")


def test_moving_rows_to_an_archive(s):
    tag, rows = _run(
        s,
        "WITH moved AS (DELETE FROM metrics WHERE time < '2024-03-01' RETURNING *) "
        "INSERT INTO archive SELECT * FROM moved",
    )
    assert (tag, rows) == ("INSERT 0 2", [])
    assert _run(s, "SELECT time, host, v FROM archive ORDER BY time")[1] == [
        (dt.datetime(2024, 1, 1, tzinfo=UTC), "h1", 1.0),
        (dt.datetime(2024, 1, 2, tzinfo=UTC), "h2", 2.0),
    ]
    assert _run(s, "SELECT host FROM metrics")[1] == [("h1",)]


def test_a_query_over_what_a_cte_wrote(s):
    tag, rows = _run(
        s,
        "WITH ins AS (INSERT INTO metrics VALUES ('2024-07-01 00:00:00+00', 'h3', 9) RETURNING host, v) "
        "SELECT host, v * 2 AS dbl FROM ins",
    )
    assert (tag, rows) == ("SELECT 1", [("h3", 18.0)])
    got = _run(s, "WITH u AS (UPDATE metrics SET v = v + 100 WHERE host = 'h1' RETURNING host, v) "
                  "SELECT count(*), sum(v) FROM u")  # fmt: skip
    assert got[1] == [(2, 204.0)]
    # nothing returned: the columns all the same; parameters reach the CTE
    got = _run(
        s, "WITH d AS (DELETE FROM metrics WHERE host = $1 RETURNING *) SELECT count(*) FROM d", ["nope"]
    )
    assert got[1] == [(0,)]
    got = _run(s, "WITH d AS (DELETE FROM metrics WHERE host = $1 RETURNING time) SELECT time FROM d", ["h3"])
    assert got[1] == [(dt.datetime(2024, 7, 1, tzinfo=UTC),)]
    assert _run(s, "SELECT count(*) FROM metrics WHERE host = 'h3'")[1] == [(0,)]


def test_described_before_it_runs(s):
    p = s.prepare(
        "WITH d AS (DELETE FROM metrics WHERE host = 'h1' RETURNING host, v) SELECT host, v FROM d", []
    )
    assert [(c.name, c.type_oid) for c in p.columns] == [("host", 25), ("v", 701)]
    assert _run(s, "SELECT count(*) FROM metrics")[1] == [(3,)]  # (preparing deleted nothing)


def test_nested_data_modifying_ctes_are_refused(s):
    with pytest.raises(E.FeatureNotSupported, match="top level"):
        _run(s, "SELECT * FROM (WITH d AS (DELETE FROM metrics RETURNING *) SELECT * FROM d) x")
    assert _run(s, "SELECT count(*) FROM metrics")[1] == [(3,)]
