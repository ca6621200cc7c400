"""User-defined SQL functions, differentially: CREATE [OR REPLACE] / DROP FUNCTION and calls of them
(sql/user_functions.py, sql/rewrite/user_functions.py), on PostgreSQL 15 and tsgres side by side:
each statement's SQLSTATE, then queries calling the functions over the suite's tables, and what
pg_proc and pg_get_functiondef say of them.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.sql.differential.harness import query_failures, run_on_both, same_outcomes

SCENARIO = [
    "CREATE FUNCTION f_add(a integer, b integer DEFAULT 1) RETURNS integer LANGUAGE sql IMMUTABLE"
    " AS $$ SELECT a + b $$",
    "CREATE FUNCTION f_add(a integer, b integer) RETURNS integer LANGUAGE sql AS $$ SELECT a - b $$",  # 42723
    "CREATE OR REPLACE FUNCTION f_add(a integer, b integer DEFAULT 1) RETURNS bigint LANGUAGE sql"
    " AS $$ SELECT a + b $$",  # 42P13: another return type
    "CREATE FUNCTION f_c_to_f(double precision) RETURNS double precision LANGUAGE sql"
    " AS 'SELECT $1 * 9 / 5 + 32'",
    # a body reading a table: the parameter is no column of it; hostname inside is the table's
    "CREATE FUNCTION f_host_avg(h text) RETURNS double precision LANGUAGE sql STABLE"
    " AS $$ SELECT avg(usage_user) FROM cpu WHERE hostname = h $$",
    "CREATE FUNCTION f_strict_sum(x double precision, y double precision) RETURNS double precision"
    " LANGUAGE sql STRICT RETURN x + y",
    "CREATE FUNCTION f_scaled(v double precision, k double precision DEFAULT 2) RETURNS double precision"
    " LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT f_strict_sum(v, 0) * f_scaled.k $$",
    "CREATE FUNCTION f_span(t timestamptz) RETURNS interval LANGUAGE sql"
    " AS $$ SELECT max(time) - t FROM cpu $$",
    "CREATE FUNCTION f_nosuch(x int) RETURNS int LANGUAGE sql AS $$ SELECT nosuch FROM cpu $$",  # 42703
    "CREATE FUNCTION f_nosuch(x int) RETURNS int LANGUAGE nosuchlang AS $$ SELECT 1 $$",  # 42704
    "CREATE FUNCTION f_nosuch(x int) LANGUAGE sql AS $$ SELECT 1 $$",  # 42P13: no result type
    "CREATE FUNCTION f_nosuch(x int, x int) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$",  # 42P13
    "CREATE FUNCTION f_nosuch(x int DEFAULT 1, y int) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$",  # 42P13
    "CREATE FUNCTION f_nosuch(x int) RETURNS int LANGUAGE sql AS $$ SELECT x, x $$",  # 42P13
    "CREATE FUNCTION f_nosuch(x nosuchtype) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$",  # 42704
    "DROP FUNCTION f_nosuch(integer)",  # 42883
    "DROP FUNCTION IF EXISTS f_nosuch(integer)",
    "DROP FUNCTION IF EXISTS f_nosuch, f_nosuch2",
    "CREATE FUNCTION f_pl(x int) RETURNS int LANGUAGE sql AS $$ SELECT x * 3 $$",
    "DROP FUNCTION f_pl(text)",  # 42883: no such argument types
    "DROP FUNCTION f_pl(int4) CASCADE",
    "SELECT f_pl(1)",  # 42883: dropped
    "CREATE FUNCTION f_pl(x int) RETURNS int LANGUAGE sql AS $$ SELECT x * 4 $$",
    "COMMENT ON FUNCTION f_pl(integer) IS 'times four'",
    "ALTER FUNCTION f_pl(integer) RENAME TO f_pl2",
    "SELECT f_pl(1)",  # 42883: renamed
    "CREATE FUNCTION f_pl(x int) RETURNS int LANGUAGE sql AS $$ SELECT x $$",
    "ALTER FUNCTION f_pl(integer) RENAME TO f_pl2",  # 42723
    "DROP FUNCTION f_pl",
    "COMMENT ON FUNCTION f_c_to_f(double precision) IS 'Celsius to Fahrenheit'",
    "COMMENT ON FUNCTION f_host_avg IS 'mean usage_user of a host'",
    "COMMENT ON FUNCTION f_c_to_f(text) IS 'x'",  # 42883
    # set-returning functions, called in FROM
    "CREATE FUNCTION f_recent(h text, n int DEFAULT 1) RETURNS TABLE(t timestamptz, u double precision)"
    " LANGUAGE sql STABLE AS $$ SELECT time, usage_user FROM cpu WHERE hostname = h ORDER BY time DESC LIMIT n $$",
    "CREATE FUNCTION f_nums(n int) RETURNS SETOF int LANGUAGE sql IMMUTABLE AS $$ SELECT generate_series(1, n) $$",
    "CREATE FUNCTION f_rows(h text) RETURNS SETOF cpu LANGUAGE sql AS $$ SELECT * FROM cpu WHERE hostname = h $$",
    "CREATE FUNCTION f_nosuch(x int) RETURNS TABLE (a int, b int) LANGUAGE sql AS $$ SELECT x $$",  # 42P13
    # what pg_dump's scripts say: OWNER TO after each function, bodies not checked (a table comes later)
    "ALTER FUNCTION public.f_c_to_f(double precision) OWNER TO postgres",
    "ALTER FUNCTION f_nosuch(integer) OWNER TO postgres",  # 42883
    "SET check_function_bodies = false",
    "CREATE FUNCTION f_later() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM f_notyet $$",
    "SELECT f_later()",  # 42P01
    "RESET check_function_bodies",
    "DROP FUNCTION f_later()",
    # PL/pgSQL functions (compiled into one expression: sql/plpgsql_function.py)
    "CREATE FUNCTION f_level(v double precision) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$"
    " DECLARE high CONSTANT double precision := 80; label text;"
    " BEGIN"
    "   IF v IS NULL THEN RETURN NULL; END IF;"
    "   IF v > high THEN label := 'high'; ELSIF v > high / 2 THEN label := 'mid'; ELSE label := 'low'; END IF;"
    "   RETURN label || ':' || round(v)::int;"
    " END $$",
    "CREATE FUNCTION f_clamp(x int, lo int DEFAULT 0, hi int DEFAULT 10) RETURNS int LANGUAGE plpgsql AS $$"
    " BEGIN"
    "   IF lo > hi THEN RAISE EXCEPTION 'bad range % > %', lo, hi USING ERRCODE = 'invalid_parameter_value'; END IF;"
    "   IF x < lo THEN x := lo; ELSIF x > hi THEN x := hi; END IF;"
    "   RETURN x;"
    " END $$",
    "CREATE FUNCTION f_host_peak(h text) RETURNS double precision LANGUAGE plpgsql STABLE AS $$"
    " DECLARE peak double precision; n bigint;"
    " BEGIN"
    "   SELECT max(usage_user), count(*) INTO peak, n FROM cpu WHERE hostname = h;"
    "   IF n = 0 THEN RETURN -1; END IF;"
    "   RETURN peak;"
    " END $$",
    "CREATE FUNCTION f_first_time(h text) RETURNS timestamptz LANGUAGE plpgsql AS $$"
    " DECLARE t timestamptz;"
    " BEGIN"
    "   SELECT time INTO t FROM cpu WHERE hostname = h ORDER BY time LIMIT 1;"
    "   IF NOT FOUND THEN RAISE EXCEPTION 'no host %', h; END IF;"
    "   RETURN t;"
    " END $$",
    "CREATE FUNCTION f_noret(x int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN IF x > 0 THEN RETURN x; END IF; END $$",
    "CREATE FUNCTION f_nested(x int) RETURNS int LANGUAGE plpgsql AS $$"
    " DECLARE y int := 1;"
    " BEGIN"
    "   y := y + x;"
    "   DECLARE y int := 100; BEGIN y := y + 1; x := x + y; END;"
    "   RETURN x * 1000 + y;"
    " END $$",
    "CREATE FUNCTION f_recent_pl(h text, n int DEFAULT 2) RETURNS TABLE(t timestamptz, u double precision)"
    " LANGUAGE plpgsql STABLE AS $$"
    " BEGIN RETURN QUERY SELECT time, usage_user FROM cpu WHERE hostname = h ORDER BY time DESC LIMIT n; END $$",
    "CREATE FUNCTION f_grade(score numeric, curve numeric DEFAULT 0) RETURNS text LANGUAGE plpgsql AS $$"
    " DECLARE Total numeric = $1 + curve; result TEXT;"
    " BEGIN"
    "   IF total >= 90 THEN result = 'A';"
    "   ELSEIF TOTAL >= 80 THEN"
    "     IF total >= 85 THEN result := 'B+'; ELSE result := 'B'; END IF;"
    "   ELSE result := 'C'; END IF;"
    "   IF curve > 0 THEN result := result || '*'; END IF;"
    "   RETURN result;"
    " END $$",
    "CREATE FUNCTION f_count_over(x int) RETURNS int LANGUAGE plpgsql AS $$ DECLARE y int := 0; z int := 0; BEGIN"
    + "".join(f" IF x > {k} THEN y := y + 1; END IF;" for k in range(1, 9))
    + " IF x > 0 THEN DECLARE y int := 50; BEGIN z := y + x; END; ELSIF x < 0 THEN y := -1; END IF;"
    " RETURN y * 1000 + z; END $$",
    "CREATE FUNCTION f_kind(x int) RETURNS text LANGUAGE plpgsql AS $$ BEGIN"
    " CASE x + 0 WHEN 1, 2 THEN RETURN 'small'; WHEN 3 THEN RETURN 'three'; ELSE RETURN 'other'; END CASE;"
    " END $$",
    "CREATE FUNCTION f_sgn(x int) RETURNS int LANGUAGE plpgsql AS $$ DECLARE r int; BEGIN"
    " CASE WHEN x > 0 THEN r := 1; WHEN x < 0 THEN r := -1; END CASE; RETURN r; END $$",
    "CREATE FUNCTION f_nosuch() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1 $$",  # 42601: no END
    "CREATE FUNCTION f_nosuch(x int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN zz := 1; RETURN x; END $$",  # 42601
]

QUERIES = [
    "SELECT f_add(1, 2) AS a, f_add(5) AS b, f_add(NULL, 1) AS c",
    "SELECT f_add(1, 2, 3)",  # 42883
    "SELECT f_c_to_f(100) AS f, f_c_to_f(usage_user) AS g FROM cpu ORDER BY time, hostname LIMIT 5",
    "SELECT hostname, f_host_avg(hostname) AS a FROM cpu GROUP BY hostname ORDER BY hostname",
    "SELECT f_host_avg('host_b') AS a, f_host_avg('nobody') AS none",
    "SELECT f_strict_sum(1, 2) AS s, f_strict_sum(NULL, 2) AS n, f_strict_sum(usage_user, usage_system) AS u"
    " FROM cpu ORDER BY time, hostname LIMIT 4",
    "SELECT f_scaled(3) AS a, f_scaled(3, 10) AS b, f_scaled(NULL) AS c",
    "SELECT hostname, max(f_scaled(usage_user)) AS m FROM cpu GROUP BY hostname ORDER BY hostname",
    "SELECT count(*) FROM cpu WHERE f_add(cores) > 4",
    "SELECT f_span('2024-01-01 00:30:00+00') AS s",
    "SELECT public.f_add(1) AS q",
    "SELECT f_pl2(3) AS twelve",
    "SELECT f_add(a => 2) AS a, f_add(b => 5, a => 1) AS b, f_scaled(k => 3, v => 2) AS c, f_add(4, b => 1) AS d",
    "SELECT f_add(b => 1)",  # 42883: a has no default
    "SELECT f_add(a => 1, 2)",  # 42601
    "SELECT * FROM f_recent('host_a')",
    "SELECT r.u, r.t FROM f_recent('host_b', 3) AS r ORDER BY r.t",
    "SELECT h.hostname, r.u FROM (SELECT DISTINCT hostname FROM cpu) h, LATERAL f_recent(h.hostname) r ORDER BY 1",
    "SELECT * FROM f_nums(4)",
    "SELECT sum(k) AS s FROM f_nums(10) AS s(k)",
    "SELECT n * 2 AS d FROM f_nums(3) n ORDER BY 1",
    "SELECT * FROM f_rows('host_c') ORDER BY time LIMIT 3",
    "SELECT count(*) FROM f_rows('nobody')",
    "SELECT date_trunc('minute', time) AS m, avg(f_c_to_f(usage_user)) AS f FROM cpu"
    " WHERE hostname = 'host_a' GROUP BY m ORDER BY m LIMIT 3",
    "WITH h AS (SELECT DISTINCT hostname FROM cpu) SELECT hostname, f_host_avg(hostname) > 50 AS hot FROM h"
    " ORDER BY hostname",
    "SELECT f_level(90) AS a, f_level(45.4) AS b, f_level(3) AS c, f_level(NULL) AS d",
    "SELECT hostname, f_level(max(usage_user)) AS l FROM cpu GROUP BY hostname ORDER BY hostname",
    "SELECT f_clamp(-5) AS a, f_clamp(5) AS b, f_clamp(50) AS c, f_clamp(5, 7) AS d, f_clamp(NULL) AS e",
    "SELECT f_clamp(1, 5, 2)",  # 22023 from RAISE ... USING ERRCODE
    "SELECT count(*) FROM cpu WHERE f_clamp(cores, 0, 4) = 4",
    "SELECT hostname, f_host_peak(hostname) AS p FROM (SELECT DISTINCT hostname FROM cpu) h ORDER BY 1",
    "SELECT f_host_peak('nobody') AS p",
    "SELECT f_first_time('host_a') AS t",
    "SELECT f_first_time('nobody')",  # P0001
    "SELECT f_noret(3) AS a",
    "SELECT f_noret(-3)",  # 2F005
    "SELECT f_nested(5) AS n",
    "SELECT f_kind(1) AS a, f_kind(2) AS b, f_kind(3) AS c, f_kind(9) AS d, f_kind(NULL) AS e",
    "SELECT f_sgn(5) AS a, f_sgn(-5) AS b",
    "SELECT f_sgn(0)",  # 20000: case not found
    "SELECT f_count_over(4) AS a, f_count_over(100) AS b, f_count_over(-3) AS c, f_count_over(NULL) AS d",
    "SELECT cores, f_count_over(cores) AS c FROM cpu GROUP BY cores ORDER BY cores",
    "SELECT f_grade(95) AS a, f_grade(86) AS b, f_grade(82, 1) AS c, f_grade(10, 75) AS d, f_grade(NULL) AS e",
    "SELECT * FROM f_recent_pl('host_b')",
    "SELECT r.u FROM f_recent_pl('host_c', 3) r ORDER BY r.t",
]

CATALOG = [
    "SELECT p.proname::text, pg_get_function_arguments(p.oid) AS args,"
    " pg_get_function_identity_arguments(p.oid) AS ident, pg_get_function_result(p.oid) AS res,"
    " p.provolatile::text, p.proisstrict, l.lanname::text, p.pronargs, p.pronargdefaults, n.nspname::text,"
    " p.proretset"
    " FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang JOIN pg_namespace n ON n.oid = p.pronamespace"
    " WHERE p.proname LIKE 'f\\_%' ORDER BY 1",
    "SELECT pg_get_functiondef('f_c_to_f'::regproc) AS d",
    "SELECT pg_get_functiondef('f_recent'::regproc) AS d",
    "SELECT pg_get_functiondef('f_clamp'::regproc) AS d",
    "SELECT proname::text, prosrc FROM pg_proc WHERE proname = 'f_noret'",
    "SELECT proname::text, prosrc FROM pg_proc WHERE proname = 'f_host_avg'",
    "SELECT p.proname::text, obj_description(p.oid, 'pg_proc') AS d FROM pg_proc p WHERE p.proname LIKE 'f\\_%'"
    " ORDER BY 1",
    "SELECT routine_name::text, routine_type::text, data_type::text, routine_body::text, external_language::text"
    " FROM information_schema.routines WHERE routine_name LIKE 'f\\_%' ORDER BY 1",
]


CLEANUP = [
    f"DROP FUNCTION IF EXISTS {f}"
    for f in (
        "f_add(integer, integer)",
        "f_scaled(double precision, double precision)",
        "f_strict_sum(double precision, double precision)",
        "f_c_to_f(double precision)",
        "f_host_avg(text)",
        "f_span(timestamptz)",
        "f_pl(integer)",
        "f_pl2(integer)",
        "f_later()",
        "f_recent(text, integer)",
        "f_nums(integer)",
        "f_rows(text)",
        "f_level(double precision)",
        "f_clamp(integer, integer, integer)",
        "f_host_peak(text)",
        "f_first_time(text)",
        "f_noret(integer)",
        "f_nested(integer)",
        "f_grade(numeric, numeric)",
        "f_count_over(integer)",
        "f_kind(integer)",
        "f_sgn(integer)",
        "f_recent_pl(text, integer)",
    )
] + ["RESET check_function_bodies"]


@pytest.fixture
def fn_pair(pair: Any) -> Any:
    run_on_both(pair, CLEANUP)
    try:
        yield pair
    finally:
        run_on_both(pair, CLEANUP)


@pytest.mark.parametrize("queries", [QUERIES, CATALOG], ids=["calls", "catalog"])
def test_functions(fn_pair: Any, queries: list[str]) -> None:
    for i, sql in enumerate(SCENARIO):
        same_outcomes(fn_pair, sql, i)
    failures = query_failures(fn_pair, queries)
    assert not failures, failures
