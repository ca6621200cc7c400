"""Temporary tables (sql/temp_tables.py): private to their session in a pg_temp_N schema of its own,
shadowing permanent tables of their name; their lifetimes: the session's end, DISCARD, ON COMMIT in a
transaction block, and a server that stopped without its sessions ending. (What they hold, CREATE
TABLE AS, SELECT INTO and the catalog's view of them are compared with PostgreSQL in
tests/sql/differential/test_dml.py.)"""

from __future__ import annotations

import pytest

from sql.errors import SqlError
from tests.sql.in_process import sql_engine


def _q(session, sql: str) -> list[tuple]:
    result = session.execute(session.prepare(sql, []), [])
    return [tuple(r.values()) for b in result.batches for r in b.to_pylist()]


def _missing(session, table: str) -> bool:
    try:
        _q(session, f"SELECT * FROM {table}")
    except SqlError as e:
        return e.sqlstate == "42P01"
    return False


def test_a_session_drops_its_temporary_tables_when_it_ends(tmp_path):
    with sql_engine(tmp_path) as (_storage, engine):
        other, mine = engine.session("postgres"), engine.session("postgres")
        _q(mine, "CREATE TEMP TABLE scratch (a int)")
        _q(mine, "SELECT 1 AS a INTO TEMP picked")
        _q(mine, "CREATE TABLE kept (a int)")
        _q(mine, "INSERT INTO scratch VALUES (1), (2)")
        assert _q(mine, "SELECT count(*) FROM scratch") == [(2,)]
        assert _missing(other, "scratch") and _missing(other, "picked")  # (private to their session)
        schema = mine.temp_schema
        assert _q(other, f"SELECT count(*) FROM pg_namespace WHERE nspname = '{schema}'") == [(1,)]
        mine.close()
        assert _q(other, "SELECT count(*) FROM pg_class WHERE relname IN ('scratch', 'picked')") == [(0,)]
        assert _q(other, f"SELECT count(*) FROM pg_namespace WHERE nspname = '{schema}'") == [(0,)]
        assert _q(other, "SELECT count(*) FROM kept") == [(0,)]


def test_on_commit_drop_and_delete_rows_at_the_end_of_a_block(tmp_path):
    with sql_engine(tmp_path) as (_storage, engine):
        s = engine.session("postgres")
        _q(s, "BEGIN")
        _q(s, "CREATE TEMP TABLE d (a int) ON COMMIT DROP")
        _q(s, "CREATE TEMP TABLE e (a int) ON COMMIT DELETE ROWS")
        _q(s, "INSERT INTO d VALUES (1)")
        _q(s, "INSERT INTO e VALUES (1)")
        assert _q(s, "SELECT a FROM d") == [(1,)] and _q(s, "SELECT a FROM e") == [(1,)]
        _q(s, "ROLLBACK")  # (a rollback ends the block too)
        assert _missing(s, "d") and _q(s, "SELECT a FROM e") == []
        _q(s, "CREATE TEMP TABLE f (a int)")
        _q(s, "DISCARD TEMP")
        assert _missing(s, "f") and _missing(s, "e")


def test_a_dropped_temporary_table_is_forgotten(tmp_path):
    """Dropped by hand, then a permanent table of the same name: the session's end leaves it."""
    with sql_engine(tmp_path) as (_storage, engine):
        s = engine.session("postgres")
        _q(s, "CREATE TEMP TABLE t (a int)")
        _q(s, "DROP TABLE t")
        _q(s, "CREATE TABLE t (a int)")
        s.close()
        assert _q(engine.session("postgres"), "SELECT count(*) FROM t") == [(0,)]


def test_temporary_tables_left_by_a_stopped_server_are_dropped_at_start(tmp_path):
    from sql import temp_tables

    with sql_engine(tmp_path) as (_storage, engine):
        s = engine.session("postgres")
        _q(s, "CREATE TEMP TABLE left_over (a int)")
        _q(s, "CREATE TABLE stays (a int)")
    with sql_engine(tmp_path) as (_storage, engine):  # the session never ended
        s = engine.session("postgres")
        left = "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        left += " WHERE relname = 'left_over' AND nspname = 'pg_temp_1'"
        assert _q(s, left) == [(1,)]
        temp_tables.drop_leftovers(engine)
        assert _q(s, left) == [(0,)] and _q(s, "SELECT count(*) FROM stays") == [(0,)]
        assert _q(s, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'pg_temp%'") == [(0,)]


def test_on_commit_needs_a_temporary_table(tmp_path):
    with sql_engine(tmp_path) as (_storage, engine):
        with pytest.raises(SqlError) as e:
            _q(engine.session("postgres"), "CREATE TABLE p (a int) ON COMMIT DELETE ROWS")
        assert e.value.sqlstate == "42P16"


def test_temporary_tables_of_users_who_are_not_superusers(tmp_path):
    """TEMPORARY on the database is what a temporary table needs (PUBLIC has it), not CREATE on the
    schema; CREATE TABLE AS checks what its query reads before it makes anything."""
    with sql_engine(tmp_path) as (_storage, engine):
        admin = engine.session("postgres")
        _q(admin, "CREATE ROLE reader LOGIN")
        _q(admin, "CREATE TABLE secret (a int)")
        reader = engine.session("postgres", user="reader")
        _q(reader, "SELECT 1 AS a INTO TEMP mine")
        assert _q(reader, "SELECT a FROM mine") == [(1,)]
        with pytest.raises(SqlError) as e:
            _q(reader, "CREATE TEMP TABLE copied AS SELECT * FROM secret")
        assert e.value.sqlstate == "42501" and _missing(admin, "copied")
        with pytest.raises(SqlError) as e:
            _q(reader, "CREATE TABLE plain (a int)")  # (no CREATE on public)
        assert e.value.sqlstate == "42501"
        _q(admin, "REVOKE TEMPORARY ON DATABASE postgres FROM PUBLIC")
        with pytest.raises(SqlError) as e:
            _q(reader, "CREATE TEMP TABLE t2 (a int)")
        assert e.value.sqlstate == "42501"


def test_two_sessions_each_have_a_staging_table_of_their_own(tmp_path):
    """The same text in two sessions reads each one's table (plans are cached by text: not shared)."""
    with sql_engine(tmp_path) as (_storage, engine):
        a, b = engine.session("postgres"), engine.session("postgres")
        _q(a, "CREATE TEMP TABLE staging (id int, name text)")
        _q(b, "CREATE TEMP TABLE staging (v float8)")  # (no 42P07)
        _q(a, "INSERT INTO staging VALUES (1, 'one'), (2, 'two')")
        _q(b, "INSERT INTO staging VALUES (0.5)")
        for _ in range(2):
            assert _q(a, "SELECT * FROM staging ORDER BY 1") == [(1, "one"), (2, "two")]
            assert _q(b, "SELECT * FROM staging ORDER BY 1") == [(0.5,)]
        assert _q(a, "SELECT count(*) FROM pg_temp.staging") == [(2,)]
        assert a.temp_schema != b.temp_schema
        _q(a, "TRUNCATE staging")
        assert _q(a, "SELECT count(*) FROM staging") == [(0,)] and _q(b, "SELECT count(*) FROM staging") == [
            (1,)
        ]
        _q(a, "UPDATE staging SET name = 'x' WHERE id = 1")
        _q(b, "DELETE FROM staging")
        assert _q(b, "SELECT count(*) FROM staging") == [(0,)]
        with pytest.raises(SqlError) as e:
            _q(b, f"SELECT * FROM {a.temp_schema}.staging")
        assert e.value.sqlstate == "0A000"  # cannot access temporary tables of other sessions
        a.close()
        assert _q(b, "SELECT count(*) FROM staging") == [(0,)]


def test_a_temporary_table_shadows_a_permanent_one_until_dropped(tmp_path):
    with sql_engine(tmp_path) as (_storage, engine):
        s, other = engine.session("postgres"), engine.session("postgres")
        _q(s, "CREATE TABLE metrics (time timestamptz NOT NULL, host text, v float8)")
        _q(s, "INSERT INTO metrics VALUES ('2024-01-01 00:00:00+00', 'a', 1)")
        _q(s, "CREATE TEMP TABLE metrics (v int)")  # (pg_temp is searched first)
        _q(s, "INSERT INTO metrics VALUES (5), (6)")
        assert _q(s, "SELECT sum(v) FROM metrics") == [(11,)]  # (the native executor's path)
        assert _q(s, "SELECT m.v FROM metrics m JOIN public.metrics p ON true ORDER BY 1") == [(5,), (6,)]
        assert _q(s, "SELECT v FROM public.metrics") == [(1.0,)]
        assert _q(other, "SELECT v FROM metrics") == [(1.0,)]
        _q(s, "CREATE TABLE kept (a int)")  # (a permanent table is made in public)
        _q(s, "DROP TABLE metrics")  # the temporary one
        assert _q(s, "SELECT v FROM metrics") == [(1.0,)]
        _q(s, "DROP TABLE kept")
        assert _missing(s, "kept")


def test_pg_temp_names_the_sessions_own_schema(tmp_path):
    with sql_engine(tmp_path) as (_storage, engine):
        s = engine.session("postgres")
        with pytest.raises(SqlError) as e:
            _q(s, "SELECT * FROM pg_temp.nothing")  # (no temporary schema yet)
        assert e.value.sqlstate == "42P01"
        _q(s, "CREATE TABLE pg_temp.made (a int)")  # a temporary table, as in PostgreSQL
        _q(s, "INSERT INTO pg_temp.made VALUES (1)")
        assert _q(s, "SELECT a FROM made") == [(1,)] and _q(s, "SELECT a FROM pg_temp.made") == [(1,)]
        assert _q(s, "SELECT relpersistence FROM pg_class WHERE relname = 'made'") == [("t",)]
        _q(s, "SELECT 2 AS b INTO pg_temp.into_made")
        assert set(s.temp_tables) == {(s.temp_schema, "made"), (s.temp_schema, "into_made")}
        with pytest.raises(SqlError) as e:
            _q(s, "CREATE TEMP TABLE public.nope (a int)")
        assert e.value.sqlstate == "42P16"
        _q(s, "CREATE SCHEMA other")
        with pytest.raises(SqlError) as e:
            _q(s, "CREATE TEMPORARY TABLE other.nope AS SELECT 1")
        assert e.value.sqlstate == "42P16"
        _q(s, "DISCARD TEMP")  # (the tables go; the schema stays the session's)
        assert _missing(s, "made") and s.temp_schema is not None
        assert _q(
            s,
            f"SELECT pg_my_temp_schema() = (SELECT oid FROM pg_namespace WHERE nspname = '{s.temp_schema}')",
        ) == [(True,)]


def test_copy_into_a_temporary_table(tmp_path):
    with sql_engine(tmp_path) as (_storage, engine):
        s = engine.session("postgres")
        _q(s, "CREATE TABLE loaded (a int)")
        _q(s, "CREATE TEMP TABLE loaded (a int, b text)")
        r = s.execute(s.prepare("COPY loaded FROM STDIN", []), [])
        assert s.copy_in(r.copy, iter([b"1\tx\n2\ty\n"])) == "COPY 2"
        assert _q(s, "SELECT a, b FROM loaded ORDER BY a") == [(1, "x"), (2, "y")]
        assert _q(s, "SELECT count(*) FROM public.loaded") == [(0,)]


def test_influxql_does_not_list_sessions_temporary_tables(tmp_path):
    """SHOW MEASUREMENTS and SHOW RETENTION POLICIES leave out what only a SQL session's temporary
    schema holds; a measurement that a temporary table shadows is still listed."""
    from sql.influxql.execute import run

    def influxql(storage, text: str) -> list[list]:
        (result,) = run(storage, engine, text, database="postgres")
        assert result.error is None, result.error
        return [v for s in result.series for v in s.values]

    with sql_engine(tmp_path) as (storage, engine):
        s = engine.session("postgres")
        _q(s, "CREATE TABLE cpu (time timestamptz NOT NULL, host text, v float8)")
        _q(s, "INSERT INTO cpu VALUES ('2024-01-01 00:00:00+00', 'a', 1)")
        _q(s, "CREATE TEMP TABLE cpu (time timestamptz NOT NULL, host text, v float8)")
        _q(s, "CREATE TEMP TABLE private_scratch (time timestamptz NOT NULL, host text, v float8)")
        _q(s, "INSERT INTO cpu VALUES ('2024-01-01 00:00:00+00', 'b', 2)")
        _q(s, "INSERT INTO private_scratch VALUES ('2024-01-01 00:00:00+00', 'c', 3)")
        assert influxql(storage, "SHOW MEASUREMENTS") == [["cpu"]]
        assert [r[0] for r in influxql(storage, "SHOW RETENTION POLICIES")] == ["autogen"]
        assert influxql(storage, "SELECT v FROM cpu") == [[1704067200000000000, 1.0]]


def test_serial_sequences_and_comments_of_temporary_tables(tmp_path):
    """A SERIAL's sequence is made in the temporary schema and found there by nextval('t_id_seq');
    COMMENT ON TABLE names the temporary table that shadows a permanent one."""
    with sql_engine(tmp_path) as (_storage, engine):
        s, other = engine.session("postgres"), engine.session("postgres")
        _q(s, "CREATE TABLE jobs (id int)")
        _q(s, "CREATE TEMP TABLE jobs (id serial PRIMARY KEY, name text)")
        _q(s, "INSERT INTO jobs (name) VALUES ('a'), ('b')")
        assert _q(s, "SELECT id, name FROM jobs ORDER BY id") == [(1, "a"), (2, "b")]
        assert _q(s, "SELECT nextval('jobs_id_seq') AS a, nextval('pg_temp.jobs_id_seq') AS b") == [(3, 4)]
        with pytest.raises(SqlError) as e:
            _q(other, "SELECT nextval('jobs_id_seq')")
        assert e.value.sqlstate == "42P01"
        _q(s, "COMMENT ON TABLE jobs IS 'scratch'")
        assert _q(s, "SELECT obj_description('jobs'::regclass)") == [("scratch",)]
        assert _q(s, "SELECT obj_description('public.jobs'::regclass)") == [(None,)]
        s.close()
        assert _q(other, "SELECT count(*) FROM pg_class WHERE relname = 'jobs_id_seq'") == [(0,)]


def test_statements_prepared_before_a_temporary_table_came_or_went(tmp_path):
    """A statement prepared before is planned again at its next execution, as PostgreSQL does: the
    name it gave may mean the temporary table now, or the permanent one again."""
    with sql_engine(tmp_path) as (_storage, engine):
        s = engine.session("postgres")
        _q(s, "CREATE TABLE loads (a int)")
        _q(s, "CREATE TEMP TABLE other (a int)")  # (the session has a temporary schema)
        insert, select = (
            s.prepare("INSERT INTO loads VALUES (1)", []),
            s.prepare("SELECT count(*) FROM loads", []),
        )
        _q(s, "CREATE TEMP TABLE loads (a int)")
        s.execute(insert, [])
        assert [tuple(r.values()) for b in s.execute(select, []).batches for r in b.to_pylist()] == [(1,)]
        assert _q(s, "SELECT count(*) FROM public.loads") == [(0,)]
        _q(s, "DROP TABLE loads")
        s.execute(insert, [])
        assert _q(s, "SELECT count(*) FROM loads") == [(1,)]


def test_temporary_views(tmp_path):
    """A view over the session's temporary tables is temporary, as in PostgreSQL (and CREATE TEMP
    VIEW): private to the session, dropped with it; 42P16 in another schema."""
    with sql_engine(tmp_path) as (_storage, engine):
        s, other = engine.session("postgres"), engine.session("postgres")
        with pytest.raises(SqlError) as e:
            _q(s, "CREATE TEMP TABLE public.first (a int)")  # (a session without a temporary schema yet)
        assert e.value.sqlstate == "42P16"
        _q(s, "CREATE TEMP VIEW constant AS SELECT 1 AS one")
        _q(s, "CREATE TEMP TABLE staged (a int)")
        _q(s, "INSERT INTO staged VALUES (1), (2)")
        _q(s, "CREATE VIEW doubled AS SELECT a * 2 AS b FROM staged")  # NOTICE: a temporary view
        assert _q(s, "SELECT b FROM doubled ORDER BY b") == [(2,), (4,)]
        assert _q(s, "SELECT one FROM pg_temp.constant") == [(1,)]
        persistence = "SELECT relname, relpersistence FROM pg_class WHERE relkind = 'v' AND relpersistence = 't' ORDER BY 1"
        assert _q(s, persistence) == [("constant", "t"), ("doubled", "t")]
        assert _missing(other, "doubled") and _missing(other, "constant")
        with pytest.raises(SqlError) as e:
            _q(s, "CREATE VIEW public.leak AS SELECT a FROM staged")
        assert e.value.sqlstate == "42P16"
        _q(s, "DROP VIEW constant")
        assert _missing(s, "constant")
        s.close()
        assert _q(other, persistence) == []
