"""INSERT ... VALUES with parameters, as ORMs send it one row at a time, through psycopg on a real
PostgreSQL 15 and on tsgres: the rows read back and the errors are the same. tsgres builds the rows
of constants and parameters of their columns' kinds without DuckDB (sql/dml.py ``_plain_values``)
and takes DuckDB's casts for the rest; both sides of that line are here, repeatedly, so the kept
result schema is used."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tests.compat.pg.conftest import PgServer
from tests.sql.conftest import PgServer as RealPg
from tests.sql.conftest import running_pg

UTC = dt.UTC


@pytest.fixture(scope="module")
def real_pg() -> Iterator[RealPg]:
    yield from running_pg()


ROWS: list[tuple[Any, ...]] = [
    (dt.datetime(2024, 1, 1, tzinfo=UTC), "a", 1.5, 1, 2, True, "x"),
    (dt.datetime(2024, 1, 1, 0, 0, 1, 123456, tzinfo=UTC), "b", -2, -7, None, False, None),
    (dt.datetime(2024, 1, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=2))), None, None, None, 3, None, "é"),
    (dt.datetime(2024, 1, 1, 0, 0, 2, tzinfo=UTC), "c", 1e300, 2**31 - 1, -(2**15), True, ""),
    (dt.datetime(2024, 1, 1, 0, 0, 3, tzinfo=UTC), "d", 0.1, 5, 4, False, "it's"),
]
BAD: list[tuple[Any, ...]] = [
    (dt.datetime(2024, 1, 1, 0, 0, 4, tzinfo=UTC), "e", 1.0, 2**31, 1, True, "x"),  # int4 out of range
    (dt.datetime(2024, 1, 1, 0, 0, 5, tzinfo=UTC), "e", 1.0, 1, 2**15, True, "x"),  # int2 out of range
    (None, "e", 1.0, 1, 1, True, "x"),  # NOT NULL
]


def _session(dsn: str) -> list[Any]:
    seen: list[Any] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS iv_t")
        conn.execute(
            "CREATE TABLE iv_t (time timestamptz NOT NULL, host text, v double precision, n int4, s int2,"
            " ok boolean, note text, f real)"
        )
        sql = "INSERT INTO iv_t (time, host, v, n, s, ok, note) VALUES (%s, %s, %s, %s, %s, %s, %s)"
        for _ in range(2):  # (the second round: every row takes the kept schema)
            for row in ROWS:
                conn.execute(sql, row)
            for row in BAD:
                with pytest.raises(psycopg.Error) as err:
                    conn.execute(sql, row)
                seen.append(err.value.sqlstate)
        # constants, now(), a text for a number, a float for an integer, an expression, a real
        for stmt in (
            "INSERT INTO iv_t (time, host, v, n, ok) VALUES ('2024-01-02 00:00:00+00', 'k', 2, -3, true)",
            "INSERT INTO iv_t (time, host, v, n, ok) VALUES ('2024-01-02 00:00:01+00', 'k', 2.5, 4, false)",
            "INSERT INTO iv_t (time, host, v, n, ok) VALUES (now(), 'now', -1.25, 0, NULL)",
        ):
            conn.execute(stmt)
        for args in (("2024-01-03 00:00:00+00", "t", "1.5", "42"), ("2024-01-03 00:00:01+00", "t", 2, 3)):
            conn.execute(
                "INSERT INTO iv_t (time, host, v, n) VALUES (%s::timestamptz, %s, %s, %s::int)", args
            )
        conn.execute("INSERT INTO iv_t (time, host, n) VALUES ('2024-01-04 00:00:00+00', 'r', 2.5)")  # rounds
        conn.execute("INSERT INTO iv_t (time, host, n) VALUES ('2024-01-04 00:00:01+00', 'r', 1 + 1)")
        # (float8 -> real: an overflow is 22003; an underflow to 0 too in PostgreSQL, which tsgres does
        # not report: DuckDB casts it to 0, docs/sql.md)
        for f in (1.1, 3.4028234e38, 1e39, -2.5):
            try:
                conn.execute(
                    "INSERT INTO iv_t (time, host, f) VALUES (%s, 'f', %s)",
                    (dt.datetime(2024, 1, 5, tzinfo=UTC), f),
                )
                seen.append(("real", f, None))
            except psycopg.Error as exc:
                seen.append(("real", f, exc.sqlstate))
        now_rows = conn.execute(
            "SELECT count(*) FROM iv_t WHERE host = 'now' AND time > now() - interval '1 minute'"
        ).fetchone()
        seen.append(("now", now_rows))
        rows = conn.execute(
            "SELECT time, host, v, n, s, ok, note, f FROM iv_t WHERE host IS DISTINCT FROM 'now'"
            " ORDER BY time, host NULLS FIRST, v NULLS FIRST, f"
        ).fetchall()
        seen.append([tuple(float(x) if isinstance(x, decimal.Decimal) else x for x in r) for r in rows])
        conn.execute("DROP TABLE iv_t")
    return seen


def test_parameters_and_constants_read_back_as_postgresql(pg_server: PgServer, real_pg: RealPg) -> None:
    want = _session(real_pg.conninfo())
    got = _session(pg_server.dsn(pg_server.database("insert_values")))
    assert got == want
