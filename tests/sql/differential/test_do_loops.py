"""DO blocks with variables, loops, dynamic SQL and diagnostics, step by step against PostgreSQL 15:
what migrations and maintenance scripts write (FOR over a query running EXECUTE format(...), FOREACH
over an array of names, SELECT INTO and FOUND, GET DIAGNOSTICS, handlers reading SQLSTATE / SQLERRM).
Each block writes what it computed into a table, which is compared; errors compare SQLSTATE and
message."""

from __future__ import annotations

from typing import Any

from tests.sql.differential.harness import step_failures

TABLES = ["dob_t", "dob_log", "dob_a", "dob_b"]

STEPS = [
    "CREATE TABLE dob_t (time timestamptz NOT NULL, host text, n int)",
    "CREATE TABLE dob_log (k int, msg text)",
    # an integer FOR loop's variable in an INSERT
    "DO $$ BEGIN FOR i IN 1..5 LOOP INSERT INTO dob_t VALUES (timestamptz '2024-01-01 00:00:00+00'"
    " + i * interval '1 hour', 'h' || i, i * i); END LOOP; END $$",
    "SELECT time, host, n FROM dob_t ORDER BY n",
    # REVERSE, BY, assignments
    "DO $$ DECLARE s text := ''; BEGIN FOR i IN REVERSE 10..1 BY 3 LOOP s := s || i || ','; END LOOP;"
    " INSERT INTO dob_log VALUES (1, s); END $$",
    # a query loop over a record, its fields read
    "DO $$ DECLARE r record; total int := 0; BEGIN FOR r IN SELECT host, n FROM dob_t ORDER BY n LOOP"
    " total := total + r.n; INSERT INTO dob_log VALUES (2, r.host || '=' || r.n); END LOOP;"
    " INSERT INTO dob_log VALUES (3, total::text); END $$",
    # WHILE, CONTINUE WHEN, EXIT WHEN
    "DO $$ DECLARE i int := 0; acc text := ''; BEGIN WHILE i < 20 LOOP i := i + 1; CONTINUE WHEN i % 2 = 0;"
    " EXIT WHEN i > 9; acc := acc || i; END LOOP; INSERT INTO dob_log VALUES (4, acc); END $$",
    # LOOP, a labelled EXIT from the inner loop
    "DO $$ DECLARE i int := 0; j int; BEGIN <<outer>> LOOP i := i + 1; j := 0; LOOP j := j + 1;"
    " EXIT outer WHEN i * j > 6; EXIT WHEN j >= 3; END LOOP; END LOOP outer;"
    " INSERT INTO dob_log VALUES (5, i || '/' || j); END $$",
    # FOREACH over an array
    "DO $$ DECLARE x int; s int := 0; BEGIN FOREACH x IN ARRAY ARRAY[3, 4, 5] LOOP s := s + x * x; END LOOP;"
    " INSERT INTO dob_log VALUES (6, s::text); END $$",
    # SELECT INTO, FOUND, STRICT
    "DO $$ DECLARE m int; BEGIN SELECT max(n) INTO m FROM dob_t; INSERT INTO dob_log VALUES (7, m::text);"
    " SELECT n INTO m FROM dob_t WHERE host = 'none'; IF NOT FOUND THEN"
    " INSERT INTO dob_log VALUES (8, 'not found ' || coalesce(m::text, 'null')); END IF; END $$",
    "DO $$ DECLARE m int; BEGIN SELECT n INTO STRICT m FROM dob_t WHERE host = 'none'; END $$",
    "DO $$ DECLARE m int; BEGIN SELECT n INTO STRICT m FROM dob_t; END $$",
    # EXECUTE format(...) INTO ... USING
    "DO $$ DECLARE c bigint; BEGIN EXECUTE format('SELECT count(*) FROM %I WHERE n > $1', 'dob_t') INTO c"
    " USING 3; INSERT INTO dob_log VALUES (9, c::text); END $$",
    # the migration pattern: DDL per name, then per row of the catalog
    "DO $$ DECLARE t text; BEGIN FOREACH t IN ARRAY ARRAY['dob_a', 'dob_b'] LOOP"
    " EXECUTE 'CREATE TABLE ' || quote_ident(t) || ' (time timestamptz NOT NULL, v int)'; END LOOP; END $$",
    "SELECT table_name FROM information_schema.tables WHERE table_name IN ('dob_a', 'dob_b') ORDER BY 1",
    "DO $$ DECLARE r record; BEGIN FOR r IN SELECT table_name FROM information_schema.tables"
    " WHERE table_name IN ('dob_a', 'dob_b') LOOP EXECUTE format('DROP TABLE %I', r.table_name); END LOOP; END $$",
    "SELECT count(*) FROM information_schema.tables WHERE table_name IN ('dob_a', 'dob_b')",
    # GET DIAGNOSTICS ROW_COUNT, FOUND after an UPDATE
    "DO $$ DECLARE k int; BEGIN UPDATE dob_t SET n = n + 1 WHERE n > 4; GET DIAGNOSTICS k = ROW_COUNT;"
    " INSERT INTO dob_log VALUES (10, k::text || ' ' || FOUND::text); END $$",
    # handlers: SQLSTATE, SQLERRM, GET STACKED DIAGNOSTICS
    "DO $$ BEGIN PERFORM 1 / 0; EXCEPTION WHEN division_by_zero THEN"
    " INSERT INTO dob_log VALUES (11, SQLSTATE || ': ' || SQLERRM); END $$",
    "DO $$ DECLARE m text; c text; BEGIN INSERT INTO dob_nosuch VALUES (1); EXCEPTION WHEN undefined_table THEN"
    " GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, c = RETURNED_SQLSTATE; INSERT INTO dob_log VALUES (12, c || ' ' || m);"
    " END $$",
    # RAISE and ASSERT with variables (the error's message is compared)
    "DO $$ DECLARE v int := 42; b boolean := true; BEGIN RAISE EXCEPTION 'v=% b=% n=% 100%%', v, b, NULL::int; END $$",
    "DO $$ DECLARE v int := 1; BEGIN ASSERT v = 2, 'v is ' || v; END $$",
    "DO $$ DECLARE v int := 1; BEGIN ASSERT v = 2; END $$",
    # types: a variable's declared type decides
    "DO $$ DECLARE a int := 7; f float8 := 7; t timestamptz := '2024-01-01 00:00:00+00'; BEGIN"
    " INSERT INTO dob_log VALUES (13, (a / 2)::text || ' ' || (f / 2)::text || ' ' || (t + interval '1 day')::text); END $$",
    "DO $$ DECLARE a int; BEGIN a := 2.6; INSERT INTO dob_log VALUES (14, a::text); END $$",
    # nested blocks: a declaration shadows until its END
    "DO $$ DECLARE x int := 1; BEGIN DECLARE x int := 2; BEGIN INSERT INTO dob_log VALUES (15, x::text); END;"
    " INSERT INTO dob_log VALUES (16, x::text); END $$",
    # a list of scalars as a query loop's target
    "DO $$ DECLARE h text; v int; BEGIN FOR h, v IN SELECT host, n FROM dob_t WHERE n < 5 ORDER BY n LOOP"
    " INSERT INTO dob_log VALUES (17, h || v); END LOOP; END $$",
    # an integer loop's variable is the loop's own
    "DO $$ BEGIN FOR i IN 1..2 LOOP NULL; END LOOP; INSERT INTO dob_log VALUES (18, i::text); END $$",
    "DO $$ BEGIN FOR i IN 1..NULL LOOP NULL; END LOOP; END $$",
    "DO $$ BEGIN FOR i IN 1..3 BY 0 LOOP NULL; END LOOP; END $$",
    "DO $$ DECLARE c CONSTANT int := 1; BEGIN c := 2; END $$",
    "DO $$ DECLARE x int; BEGIN FOREACH x IN ARRAY NULL::int[] LOOP NULL; END LOOP; END $$",
    "DO $$ BEGIN EXECUTE NULL; END $$",
    "DO $$ BEGIN RAISE; END $$",
    "DO $$ BEGIN BEGIN PERFORM 1 / 0; EXCEPTION WHEN others THEN RAISE; END; END $$",
    "DO $$ DECLARE r record; BEGIN INSERT INTO dob_log VALUES (19, r.x); END $$",
    "DO $$ DECLARE r record; BEGIN SELECT 1 AS a INTO r; INSERT INTO dob_log VALUES (19, r.b); END $$",
    # variables in WHERE, SET, RETURNING INTO; a %TYPE; quotes in a value
    "DO $$ DECLARE inc int := 100; lim dob_t.n%TYPE := 10; got int; BEGIN"
    " UPDATE dob_t SET n = n + inc WHERE n > lim RETURNING n INTO got;"
    " INSERT INTO dob_log VALUES (20, got::text); DELETE FROM dob_t WHERE n > inc + lim; END $$",
    "SELECT host, n FROM dob_t ORDER BY n",
    "DO $$ DECLARE s text := 'it''s \\ %'; BEGIN INSERT INTO dob_log VALUES (21, s || length(s)); END $$",
    # a labelled block left by EXIT, CASE over a variable, a boolean and an array variable
    "DO $$ BEGIN <<blk>> BEGIN INSERT INTO dob_log VALUES (22, 'in'); EXIT blk; INSERT INTO dob_log VALUES (22, 'after');"
    " END; INSERT INTO dob_log VALUES (22, 'out'); END $$",
    "DO $$ DECLARE k int := 2; flag boolean := false; arr int[] := ARRAY[1, 2]; BEGIN"
    " CASE k WHEN 1 THEN INSERT INTO dob_log VALUES (23, 'one'); WHEN 2, 3 THEN INSERT INTO dob_log VALUES (23, 'two');"
    " END CASE; IF NOT flag THEN arr := arr || 3; END IF;"
    " INSERT INTO dob_log VALUES (24, array_length(arr, 1) || ':' || arr[3]); END $$",
    # FOR over EXECUTE, EXECUTE INTO a record, %L quoting, intervals and NULLs
    "DO $$ DECLARE r record; q record; step interval := '90 minutes'; z int; BEGIN"
    " FOR r IN EXECUTE 'SELECT host, time FROM dob_t WHERE n < $1 ORDER BY time' USING 5 LOOP"
    " EXECUTE format('SELECT %L::text || %s AS s', r.host, 1) INTO q;"
    " INSERT INTO dob_log VALUES (25, q.s || ' ' || (r.time + step)::text || ' ' || coalesce(z::text, 'null'));"
    " END LOOP; END $$",
    "DO $$ BEGIN PERFORM 1 FROM dob_t WHERE false; INSERT INTO dob_log VALUES (26, FOUND::text); END $$",
    "DO $$ DECLARE n int := 0; BEGIN LOOP n := n + 1; IF n >= 1000 THEN EXIT; END IF; END LOOP;"
    " INSERT INTO dob_log VALUES (27, n::text); END $$",
    # a handled error undoes what its block wrote (a savepoint at the block's BEGIN); an unhandled
    # one undoes the whole DO
    "DO $$ BEGIN INSERT INTO dob_log VALUES (30, 'undone'); PERFORM 1 / 0; EXCEPTION WHEN division_by_zero THEN"
    " INSERT INTO dob_log VALUES (30, 'handled'); END $$",
    "DO $$ BEGIN INSERT INTO dob_log VALUES (31, 'undone too'); PERFORM 1 / 0; END $$",
    # a name that is a variable and a table alias: qualified, it is the alias's column
    "DO $$ DECLARE d int := 5; lim int := 2; BEGIN INSERT INTO dob_log SELECT 32, d.host || d.n FROM dob_t d"
    " WHERE d.n < 5 ORDER BY d.n LIMIT lim; END $$",
    "SELECT k, msg FROM dob_log ORDER BY k, msg",
]


def test_do_block_loops_and_variables_match_postgres(fresh_pair: Any) -> None:
    for name in TABLES:
        fresh_pair.pg.execute(f"DROP TABLE IF EXISTS {name}")
    failures = step_failures(fresh_pair.pg, fresh_pair.ts, STEPS)
    assert not failures, failures
