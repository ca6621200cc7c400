"""Temporary tables' lifetimes (sql/temp_tables.py): the session's end, DISCARD, ON COMMIT in a
transaction block, and a server that stopped without its sessions ending. (What they hold, CREATE
TABLE AS and SELECT INTO are compared with PostgreSQL in tests/sql/differential/test_dml.py.)"""

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
        assert _q(other, "SELECT count(*) FROM scratch") == [(2,)]  # (not private, unlike PostgreSQL)
        mine.close()
        assert _missing(other, "scratch") and _missing(other, "picked")
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
        assert _q(s, "SELECT count(*) FROM left_over") == [(0,)]
        temp_tables.drop_leftovers(engine)
        assert _missing(s, "left_over") and _q(s, "SELECT count(*) FROM stays") == [(0,)]


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
