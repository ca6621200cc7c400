"""CREATE PROCEDURE and CALL, step by step against PostgreSQL 15: PL/pgSQL and SQL bodies, defaults,
named arguments, a failed CALL undoing its writes, what the catalog says, and the errors of calling
a procedure as a function and the reverse."""

from __future__ import annotations

from typing import Any

from tests.sql.differential.harness import step_failures

STEPS = [
    "CREATE TABLE prc_t (time timestamptz NOT NULL, host text, v int)",
    "CREATE PROCEDURE prc_fill(n int, host text DEFAULT 'a'::text) LANGUAGE plpgsql AS $$"
    " BEGIN FOR i IN 1..n LOOP INSERT INTO prc_t VALUES (timestamptz '2024-01-01 00:00:00+00' + i * interval '1 min',"
    " host, i); END LOOP; END $$",
    "CALL prc_fill(3)",
    "CALL prc_fill(2, host => 'b')",
    "CALL prc_fill(n => 1, host => 'c')",
    "SELECT host, v, time FROM prc_t ORDER BY host, v",
    "CREATE PROCEDURE prc_trim(keep int) LANGUAGE sql AS $$ DELETE FROM prc_t WHERE v > keep; UPDATE prc_t SET v = v * 10 WHERE host = $1::text $$",
    "CALL prc_trim(2)",
    "SELECT host, v FROM prc_t ORDER BY host, v",
    # an error in the body undoes the call's writes
    "CREATE PROCEDURE prc_fail() LANGUAGE plpgsql AS $$ BEGIN INSERT INTO prc_t VALUES (now(), 'z', 0);"
    " RAISE EXCEPTION 'failed after an insert'; END $$",
    "CALL prc_fail()",
    "SELECT count(*) FROM prc_t WHERE host = 'z'",
    # what the catalog says
    "SELECT proname, prokind, prorettype::regtype::text, pg_get_function_arguments(oid),"
    " pg_get_function_result(oid) IS NULL FROM pg_proc WHERE proname LIKE 'prc\\_%' ORDER BY 1",
    "SELECT routine_name, routine_type FROM information_schema.routines WHERE routine_name LIKE 'prc\\_%' ORDER BY 1",
    # the errors
    "CALL prc_nosuch(1)",
    "CALL prc_fill()",
    "SELECT prc_fill(1)",
    "CREATE FUNCTION prc_f(x int) RETURNS int LANGUAGE sql AS $$ SELECT x $$",
    "CALL prc_f(1)",
    "DROP FUNCTION prc_fill",
    "DROP PROCEDURE prc_f",
    "CREATE OR REPLACE FUNCTION prc_trim(keep int) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$",
    "CREATE PROCEDURE prc_trim(keep int) LANGUAGE sql AS $$ SELECT 1 $$",
    "DROP PROCEDURE prc_fill",
    "DROP PROCEDURE IF EXISTS prc_fill",
    "DROP PROCEDURE prc_trim, prc_fail",
    "DROP FUNCTION prc_f",
]


def test_procedures_match_postgres(fresh_pair: Any) -> None:
    for sql in ["DROP TABLE IF EXISTS prc_t", "DROP FUNCTION IF EXISTS prc_f"] + [
        f"DROP PROCEDURE IF EXISTS {p}" for p in ("prc_fill", "prc_trim", "prc_fail")
    ]:
        fresh_pair.pg.execute(sql)
    failures = step_failures(fresh_pair.pg, fresh_pair.ts, STEPS)
    assert not failures, failures
