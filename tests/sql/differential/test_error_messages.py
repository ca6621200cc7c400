"""Errors as PostgreSQL 15 words them: the same SQLSTATE and the same primary message, step by step on
a fresh session of each (the corpus compares SQLSTATEs only).

DuckDB runs much of what tsgres answers, and its messages name its own types ("Could not convert string
'x' to INT32", "Overflow in addition of INT32"); these steps hold the translation to PostgreSQL's
words ('invalid input syntax for type integer: "x"', "integer out of range"), the type checks
PostgreSQL makes before running anything (a condition that is not a boolean, max with two arguments),
and numeric(p, s) columns refusing what they cannot hold (a value was stored, and read back as another
number).
"""

from __future__ import annotations

from typing import Any

from tests.sql.differential.harness import run_tsgres, step_failures

SETUP = [
    "CREATE TABLE em1 (time timestamptz NOT NULL, host text, v int, f double precision, b boolean,"
    " n numeric(6,2), sm smallint)",
    "CREATE TABLE em2 (time timestamptz NOT NULL, host text, w int)",
    "INSERT INTO em1 VALUES ('2024-01-01 00:00:00+00', 'a', 1, 1.5, true, 1.25, 1)",
    "INSERT INTO em2 VALUES ('2024-01-01 00:00:00+00', 'a', 7)",
]

STEPS = [
    # input that is not of the column's type
    "INSERT INTO em1 (time, host, v) VALUES ('2024-01-02', 'a', 'x')",
    "INSERT INTO em1 (time, host, v) VALUES ('2024-01-02', 'a', '99999999999')",
    "INSERT INTO em1 (time, host, sm) VALUES ('2024-01-02', 'a', 70000)",
    "INSERT INTO em1 (time, host, f) VALUES ('2024-01-02', 'a', 'abc')",
    "INSERT INTO em1 (time, host, b) VALUES ('2024-01-02', 'a', 'maybe')",
    "UPDATE em1 SET v = 'x'",
    "SELECT 'abc'::int",
    "SELECT '99999999999'::int",
    "SELECT 'abc'::bigint",
    "SELECT 'x'::numeric",
    "SELECT '1.5'::int",
    "SELECT ' -12 '::int, '+7'::smallint",
    "INSERT INTO em1 (time, host, v) VALUES ('2024-01-02', 'a', '1.5')",
    "SELECT * FROM em1 WHERE v = 'a'",
    "SELECT * FROM em1 LIMIT 'a'",
    # numeric(p, s): rounded to s places, 22003 past p - s digits
    "INSERT INTO em1 (time, host, n) VALUES ('2024-01-02', 'a', 123456.7)",
    "INSERT INTO em1 (time, host, n) VALUES ('2024-01-02', 'a', 9999.995)",
    "INSERT INTO em1 (time, host, n) VALUES ('2024-01-02', 'b', 9999.994)",
    "INSERT INTO em1 (time, host, n) VALUES ('2024-01-03', 'c', -12.345)",
    "UPDATE em1 SET n = n * 1000 WHERE host = 'b'",
    "SELECT host, n FROM em1 WHERE n IS NOT NULL ORDER BY host",
    # overflow
    "SELECT 2147483647::int + 1",
    "SELECT 9223372036854775807::bigint + 1",
    "SELECT (-32768)::smallint - 1::smallint",
    # no such function or operator, named with the argument types
    "SELECT sum(host) FROM em1",
    "SELECT avg(b) FROM em1",
    "SELECT host + 1 FROM em1",
    "SELECT now() + now()",
    "SELECT max(v, 1) FROM em1",
    # conditions must be booleans
    "SELECT * FROM em1 WHERE v",
    "SELECT count(*) FILTER (WHERE v) FROM em1",
    "SELECT CASE WHEN host THEN 1 END FROM em1",
    "SELECT count(*) FROM em1 GROUP BY host HAVING count(*)",
    "SELECT 1 FROM em1 JOIN em2 ON 1",
    "SELECT * FROM em1 WHERE 't'",
    "SELECT * FROM em1 WHERE NULL",
    # function arguments
    "SELECT generate_series(1, 10, 0)",
    "SELECT width_bucket(1, 0, 0, 5)",
    "SELECT width_bucket(1, 0, 10, 0)",
    "SELECT width_bucket(5, 10, 0, 5), width_bucket(10, 10, 0, 5), width_bucket(0, 10, 0, 5),"
    " width_bucket(11, 10, 0, 5), width_bucket(7.5, 10, 0, 4), width_bucket(5, 0, 10, 5), width_bucket(3, 0, 10, 4)",
    "SELECT ntile(0) OVER () FROM em1",
    "SELECT split_part('a,b', ',', 0)",
    # names
    "SELECT em1.nosuch FROM em1",
    "SELECT host, count(*) FROM em1 GROUP BY 99",
    "SELECT host FROM em1 ORDER BY 2",
    "SELECT host, v FROM em1 ORDER BY 2 DESC, 1",
    "SELECT * FROM em1 JOIN em2 USING (nosuch)",
    "SELECT * FROM em1 JOIN em2 USING (v)",
    "SELECT * FROM em1 JOIN em2 ON true JOIN em1 ON true",
    "SELECT $1",
    "CREATE SCHEMA public",
    "CREATE SCHEMA IF NOT EXISTS public",
    "SELECT 1",  # (the session goes on after all of them)
]


def test_errors_match_postgres_with_their_messages(fresh_pair: Any) -> None:
    for sql in ["DROP TABLE IF EXISTS em1", "DROP TABLE IF EXISTS em2", *SETUP]:
        fresh_pair.pg.execute(sql)
        assert not run_tsgres(fresh_pair.ts, sql).failed, sql
    failures = step_failures(fresh_pair.pg, fresh_pair.ts, STEPS)
    assert not failures, failures
