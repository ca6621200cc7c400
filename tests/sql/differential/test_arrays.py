"""Array columns, differentially (sql/arrays.py): written as ARRAY[...], as PostgreSQL's array text and
by array expressions, read back whole and element by element, on PostgreSQL 15 and tsgres side by
side: each statement's SQLSTATE, the table after each write, then queries over it.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.sql.differential.harness import (
    differences,
    query_failures,
    run_on_both,
    run_pg,
    run_tsgres,
    same_outcomes,
)

TABLE = "w_arrays"

WRITES = [
    "CREATE TABLE w_arrays (time timestamptz NOT NULL, host text, tags text[], n int4[], big int8[],"
    " s int2[], f float8[], r real[], b bool[], v varchar[])",
    "INSERT INTO w_arrays VALUES ('2024-01-01 00:00:00+00', 'a', ARRAY['x', 'y z'], ARRAY[1, 2],"
    " ARRAY[10000000000], ARRAY[7], ARRAY[1.5, -2], ARRAY[0.1], ARRAY[true, false], ARRAY['v'])",
    r"""INSERT INTO w_arrays VALUES ('2024-01-01 00:00:01+00', 'b', '{p,"q, r",NULL,"NULL",""}',"""
    r""" '{3, 4 ,NULL}', '{}', '{-32768}', '{Infinity,-0.5,NaN}', '{1e-3}', '{t,NULL, FALSE}', '{ a b }')""",
    "INSERT INTO w_arrays (time, host) VALUES ('2024-01-01 00:00:02+00', 'c')",
    r"""INSERT INTO w_arrays (time, host, tags) VALUES ('2024-01-01 00:00:03+00', 'd', '{"a\"b",c\,d,"{}"}')""",
    "INSERT INTO w_arrays (time, host, tags) VALUES ('2024-01-01 00:00:04+00', 'e', '{a')",  # 22P02
    "INSERT INTO w_arrays (time, host, tags) VALUES ('2024-01-01 00:00:04+00', 'e', '{a,,b}')",  # 22P02
    "INSERT INTO w_arrays (time, host, n) VALUES ('2024-01-01 00:00:04+00', 'e', '{1,x}')",  # 22P02
    "INSERT INTO w_arrays (time, host, n) VALUES ('2024-01-01 00:00:04+00', 'e', '{99999999999}')",  # 22003
    "INSERT INTO w_arrays (time, host, b) VALUES ('2024-01-01 00:00:04+00', 'e', '{maybe}')",  # 22P02
    "UPDATE w_arrays SET tags = '{z}' WHERE host = 'c'",
    "UPDATE w_arrays SET n = array_append(n, 9) WHERE host = 'a'",
    "UPDATE w_arrays SET tags = array_prepend('first', tags) WHERE host = 'b'",
    "INSERT INTO w_arrays SELECT time + interval '1 minute', host || '2', tags, n, big, s, f, r, b, v"
    " FROM w_arrays WHERE host IN ('a', 'b')",
    "DELETE FROM w_arrays WHERE host = 'a2'",
]

QUERIES = [
    "SELECT host, tags[1] AS t1, tags[2] AS t2, n[1] AS n1, f[3] AS f3 FROM w_arrays ORDER BY time",
    "SELECT host, array_length(tags, 1) AS l, cardinality(n) AS c, array_to_string(tags, '|', '*') AS s"
    " FROM w_arrays ORDER BY time",
    "SELECT host, unnest(tags) AS u FROM w_arrays WHERE host IN ('a', 'd') ORDER BY time, u",
    "SELECT count(*) FROM w_arrays WHERE 'x' = ANY(tags)",
    "SELECT host FROM w_arrays WHERE 4 = ANY(n) ORDER BY host",
    "SELECT host, tags || ARRAY['new'] AS t FROM w_arrays ORDER BY time",
    "SELECT '{1,2,3}'::int[] AS a, '{a,\"b c\",NULL}'::text[] AS b, '{}'::float8[] AS c, '{t,NULL}'::bool[] AS d",
    "SELECT ('{10,20}'::int[])[2] AS second",
    "SELECT '{1,x}'::int[]",  # 22P02
    "SELECT host, n FROM w_arrays WHERE n IS NULL ORDER BY host",
]


TIME_WRITES = [
    "CREATE TABLE w_time_arrays (time timestamptz NOT NULL, host text, d date[], ts timestamp[], tz timestamptz[])",
    "INSERT INTO w_time_arrays VALUES ('2024-01-01 00:00:00+00', 'a', ARRAY['2024-01-31'::date, NULL],"
    " ARRAY['2024-01-01 10:00:00'::timestamp], ARRAY['2024-03-01 12:00:00+00'::timestamptz])",
    """INSERT INTO w_time_arrays VALUES ('2024-01-01 00:00:01+00', 'b', '{2024-02-01,"2024-02-29"}',"""
    """ '{"2024-01-01 10:00:00.5",NULL}', '{"2024-01-01 00:00:00+02","2024-06-01 12:00:00-05"}')""",
    "INSERT INTO w_time_arrays (time, host, d) VALUES ('2024-01-01 00:00:02+00', 'c', '{2024-02-30}')",  # 22008
    "UPDATE w_time_arrays SET d = array_append(d, '2025-01-01'::date) WHERE host = 'a'",
]

TIME_QUERIES = [
    "SELECT host, d[1] AS d1, ts[1] AS t1, tz[2] AS z2, cardinality(tz) AS n FROM w_time_arrays ORDER BY time",
    "SELECT host, unnest(tz) AS z FROM w_time_arrays ORDER BY time, z",
    "SELECT '{2024-01-01,NULL}'::date[] AS a, '{\"2024-01-01 00:00:00+00\"}'::timestamptz[] AS b",
]

SCENARIOS = [(TABLE, WRITES, QUERIES), ("w_time_arrays", TIME_WRITES, TIME_QUERIES)]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_array_columns(pair: Any, scenario: tuple[str, list[str], list[str]]) -> None:
    table, writes, queries = scenario
    run_on_both(pair, [f"DROP TABLE IF EXISTS {table}"])
    try:
        for i, sql in enumerate(writes):
            same_outcomes(pair, sql, i)
            diff = differences(f"SELECT * FROM {table}", run_pg(pair.pg, f"SELECT * FROM {table}"),
                               run_tsgres(pair.ts, f"SELECT * FROM {table}"))  # fmt: skip
            assert not diff, f"step {i}: {sql}\n" + "\n".join(diff)
        failures = query_failures(pair, queries)
        assert not failures, failures
    finally:
        run_on_both(pair, [f"DROP TABLE IF EXISTS {table}"])
