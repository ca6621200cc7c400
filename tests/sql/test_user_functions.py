"""User-defined SQL functions (sql/user_functions.py) in process: what the differential suite
(tests/sql/differential/test_functions.py) cannot compare with PostgreSQL side by side: schemas,
restarts, dropped databases, replaced bodies under cached plans, and what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from sql import errors as E
from tests.sql.in_process import sql_engine


def _one(session, sql: str):
    r = session.execute(session.prepare(sql, []), [])
    rows = [
        tuple(b.column(i)[j].as_py() for i in range(b.num_columns))
        for b in r.batches
        for j in range(b.num_rows)
    ]
    return rows[0] if len(rows) == 1 and len(rows[0]) > 1 else (rows[0][0] if rows else None)


def _run(session, sql: str) -> None:
    session.execute(session.prepare(sql, []), [])


def test_a_replaced_body_is_used_by_the_next_call_of_a_cached_statement(tmp_path: Path) -> None:
    with sql_engine(tmp_path) as (_, engine):
        s = engine.session("postgres")
        _run(s, "CREATE FUNCTION twice(x int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT x * 2 $$")
        assert _one(s, "SELECT twice(21)") == 42
        _run(s, "CREATE OR REPLACE FUNCTION twice(x int) RETURNS int LANGUAGE sql AS $$ SELECT x * 3 $$")
        assert _one(s, "SELECT twice(21)") == 63
        other = engine.session("postgres")  # (another session's plans are the same engine's)
        assert _one(other, "SELECT twice(2)") == 6


def test_functions_survive_a_restart_and_go_with_their_database(tmp_path: Path) -> None:
    with sql_engine(tmp_path) as (_, engine):
        s = engine.session("postgres")
        _run(s, "CREATE DATABASE fdb")
        f = engine.session("fdb")
        _run(f, "CREATE FUNCTION inc(x bigint) RETURNS bigint LANGUAGE sql AS 'SELECT x + 1'")
        with pytest.raises(E.UndefinedFunction):  # (per database)
            _one(s, "SELECT inc(1)")
    with sql_engine(tmp_path) as (_, engine):
        f = engine.session("fdb")
        assert _one(f, "SELECT inc(41)") == 42
        s = engine.session("postgres")
        _run(s, "DROP DATABASE fdb")
        _run(s, "CREATE DATABASE fdb")
        with pytest.raises(E.UndefinedFunction):
            _one(engine.session("fdb"), "SELECT inc(1)")


def test_a_function_of_another_schema_is_called_by_its_qualified_name(tmp_path: Path) -> None:
    with sql_engine(tmp_path) as (_, engine):
        s = engine.session("postgres")
        _run(s, "CREATE SCHEMA util")
        _run(
            s,
            "CREATE FUNCTION util.half(x double precision) RETURNS double precision LANGUAGE sql AS $$ SELECT x / 2 $$",
        )
        assert _one(s, "SELECT util.half(3)") == 1.5
        with pytest.raises(E.UndefinedFunction):  # (util is not on the search path)
            _one(s, "SELECT half(3)")
        with pytest.raises(E.InvalidSchemaName):
            _run(s, "CREATE FUNCTION nosuch.f(x int) RETURNS int LANGUAGE sql AS $$ SELECT x $$")
        assert (
            _one(s, "SELECT pronamespace = 'util'::regnamespace FROM pg_proc WHERE proname = 'half'") is True
        )


def test_overloads_by_number_of_arguments(tmp_path: Path) -> None:
    with sql_engine(tmp_path) as (_, engine):
        s = engine.session("postgres")
        _run(s, "CREATE FUNCTION pick(a int) RETURNS int LANGUAGE sql AS $$ SELECT a $$")
        _run(s, "CREATE FUNCTION pick(a int, b int) RETURNS int LANGUAGE sql AS $$ SELECT b $$")
        assert _one(s, "SELECT pick(1), pick(1, 2)") == (1, 2)
        with pytest.raises(E.FeatureNotSupported):  # (told apart by their number of arguments here)
            _run(s, "CREATE FUNCTION pick(a text) RETURNS int LANGUAGE sql AS $$ SELECT 0 $$")
        with pytest.raises(E.AmbiguousFunction):
            _run(s, "DROP FUNCTION pick")
        _run(s, "DROP FUNCTION pick(integer, integer)")
        assert _one(s, "SELECT pick(7)") == 7


@pytest.mark.parametrize(
    ("sql", "error"),
    [
        (
            "CREATE FUNCTION p(x int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN FOR i IN 1..x LOOP NULL; END LOOP;"
            " RETURN x; END $$",
            E.FeatureNotSupported,
        ),
        (
            "CREATE FUNCTION p() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
            E.FeatureNotSupported,
        ),
        (
            "CREATE FUNCTION p(x int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN INSERT INTO t VALUES (x); RETURN x; END $$",
            E.FeatureNotSupported,
        ),
        (  # (each IF doubles the copies of y: refused as it grows, not after 2**40 steps)
            "CREATE FUNCTION p(x int) RETURNS int LANGUAGE plpgsql AS $$ DECLARE y int := 0; BEGIN"
            + " IF x > 1 THEN y := y + 1; END IF;" * 40
            + " RETURN y; END $$",
            E.FeatureNotSupported,
        ),
        (
            "CREATE FUNCTION p(x int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN y := 1; RETURN x; END $$",
            E.SyntaxError_,
        ),
        ("CREATE FUNCTION p(x int) RETURNS SETOF nosuch LANGUAGE sql AS $$ SELECT x $$", E.UndefinedObject),
        (
            "CREATE FUNCTION p(x int) RETURNS TABLE (y int, z int) LANGUAGE sql AS $$ SELECT x $$",
            E.InvalidFunctionDefinition,
        ),
        ("CREATE FUNCTION p(x int, OUT y int) LANGUAGE sql AS $$ SELECT x $$", E.FeatureNotSupported),
        ("CREATE PROCEDURE p(INOUT x int) LANGUAGE sql AS $$ SELECT 1 $$", E.FeatureNotSupported),
        (
            "CREATE FUNCTION p(x int) RETURNS int LANGUAGE sql AS $$ INSERT INTO t VALUES (1) $$",
            E.FeatureNotSupported,
        ),
        (
            "CREATE FUNCTION p(x int) RETURNS int LANGUAGE sql AS $$ SELECT 1; SELECT 2 $$",
            E.FeatureNotSupported,
        ),
        (
            "CREATE FUNCTION p(x int) RETURNS int LANGUAGE sql SET work_mem = '1MB' AS $$ SELECT 1 $$",
            E.FeatureNotSupported,
        ),
    ],
)
def test_what_is_refused_says_so(tmp_path: Path, sql: str, error: type) -> None:
    with sql_engine(tmp_path) as (_, engine):
        s = engine.session("postgres")
        with pytest.raises(error):
            _run(s, sql)
        assert _one(s, "SELECT count(*) FROM pg_proc WHERE proname = 'p'") == 0  # nothing was kept


def test_a_recursive_function_is_refused_when_called(tmp_path: Path) -> None:
    with sql_engine(tmp_path) as (_, engine):
        s = engine.session("postgres")
        _run(s, "CREATE FUNCTION base(x int) RETURNS int LANGUAGE sql AS $$ SELECT x $$")
        _run(s, "CREATE FUNCTION loop1(x int) RETURNS int LANGUAGE sql AS $$ SELECT base(x) $$")
        _run(s, "CREATE OR REPLACE FUNCTION base(x int) RETURNS int LANGUAGE sql AS $$ SELECT loop1(x) $$")
        with pytest.raises(E.FeatureNotSupported, match="recursive"):
            _one(s, "SELECT loop1(1)")


def test_a_builtin_of_the_same_name_wins(tmp_path: Path) -> None:
    """pg_catalog comes first on the search path: public.lower(text) does not replace lower()."""
    with sql_engine(tmp_path) as (_, engine):
        s = engine.session("postgres")
        _run(s, "CREATE FUNCTION lower(x text) RETURNS text LANGUAGE sql AS $$ SELECT 'mine' $$")
        assert _one(s, "SELECT lower('ABC')") == "abc"


def test_a_set_returning_function_is_called_in_from_only(tmp_path: Path) -> None:
    """PostgreSQL also runs one in the select list (a row per value): 0A000 here, said so."""
    with sql_engine(tmp_path) as (_, engine):
        s = engine.session("postgres")
        _run(
            s,
            "CREATE FUNCTION upto(n int) RETURNS SETOF int LANGUAGE sql AS $$ SELECT generate_series(1, n) $$",
        )
        _run(s, "CREATE FUNCTION one(n int) RETURNS int LANGUAGE sql AS $$ SELECT n $$")
        assert _one(s, "SELECT sum(x) FROM upto(4) AS t(x)") == 10
        with pytest.raises(E.FeatureNotSupported, match="in FROM only"):
            _run(s, "SELECT upto(3)")
        with pytest.raises(E.FeatureNotSupported, match="returns no set"):
            _run(s, "SELECT * FROM one(3)")
