"""Temporary tables private to their session, compared with PostgreSQL 15: two sessions on each side,
each with a temporary table of the same name (and other columns) shadowing a permanent one; pg_temp
qualification; 42P16; and what the catalog tells each session of them, where its answer does not
depend on the session's number (pg_temp_N is compared as "a temporary schema")."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sql.differential.harness import differences, pg_connection_setup, run_pg, run_tsgres

_CATALOG = (
    "SELECT c.relname, c.relkind, c.relpersistence, n.nspname LIKE 'pg_temp%' AS temp_schema,"
    " n.oid = pg_my_temp_schema() AS mine, pg_is_other_temp_schema(n.oid) AS other,"
    " pg_table_is_visible(c.oid) AS visible"
    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.relname IN ('t_stage', 't_other') ORDER BY 1, 2, 3, 4, 5, 6, 7"
)
_TABLES = (
    "SELECT table_name, table_type, table_schema LIKE 'pg_temp%' AS temp_schema"
    " FROM information_schema.tables WHERE table_name IN ('t_stage', 't_other') ORDER BY 1, 2, 3"
)
_COLUMNS = (
    "SELECT table_schema = 'public' AS permanent, column_name, data_type FROM information_schema.columns"
    " WHERE table_name = 't_stage' ORDER BY 1, ordinal_position"
)

# (session, statement): each runs in session a or b of both servers; results and errors compared
STEPS: list[tuple[str, str]] = [
    ("a", "CREATE TABLE t_stage (id int, note text)"),
    ("a", "INSERT INTO t_stage VALUES (1, 'permanent')"),
    ("a", "CREATE TEMP TABLE t_stage (v float8, tag text)"),  # shadows public.t_stage
    ("b", "CREATE TEMP TABLE t_stage (n int8)"),  # a table of its own, not 42P07
    ("a", "INSERT INTO t_stage VALUES (0.5, 'x'), (1.5, 'y')"),
    ("b", "INSERT INTO t_stage VALUES (7)"),
    ("a", "SELECT * FROM t_stage ORDER BY v"),
    ("b", "SELECT * FROM t_stage"),
    ("a", "SELECT * FROM pg_temp.t_stage ORDER BY v"),
    ("a", "SELECT * FROM public.t_stage"),
    ("a", "SELECT sum(v), count(*) FROM t_stage"),
    ("a", "SELECT s.tag, p.note FROM t_stage s JOIN public.t_stage p ON s.v > p.id ORDER BY 1"),
    ("b", "CREATE TEMP TABLE t_stage (n int8)"),  # 42P07: it has one
    ("a", "CREATE TEMP TABLE public.t_other (a int)"),  # 42P16
    ("a", "CREATE SCHEMA pg_temp_99"),  # 42939: pg_ is reserved
    ("a", "CREATE TABLE pg_temp.t_other (a int)"),  # temporary: made in pg_temp
    ("b", "SELECT * FROM t_other"),  # 42P01: not b's
    ("a", _CATALOG),
    ("b", _CATALOG),
    ("a", _TABLES),
    ("b", _TABLES),
    ("a", _COLUMNS),
    ("a", "CREATE VIEW t_view AS SELECT v FROM t_stage"),  # over a temporary table: temporary
    ("a", "SELECT * FROM t_view ORDER BY v"),
    ("b", "SELECT * FROM t_view"),  # 42P01
    ("a", "CREATE VIEW public.t_view2 AS SELECT v FROM t_stage"),  # 42P16
    ("a", "SELECT relname, relpersistence FROM pg_class WHERE relname LIKE 't_view%'"),
    ("a", "DROP VIEW t_view"),
    ("a", "SELECT 't_stage'::regclass = 'pg_temp.t_stage'::regclass"),
    ("a", "TRUNCATE t_stage"),
    ("a", "SELECT count(*) FROM t_stage"),
    ("b", "SELECT count(*) FROM t_stage"),
    ("a", "DROP TABLE t_stage"),  # the temporary one: the permanent one shows again
    ("a", "SELECT * FROM t_stage"),
    ("a", _CATALOG),
    ("b", "SELECT * FROM t_stage"),
    ("b", "DISCARD TEMP"),
    ("b", "SELECT * FROM t_stage"),
    ("b", _CATALOG),
    ("a", "DROP TABLE t_other"),
    ("a", "SELECT * FROM t_other"),
    ("a", "SELECT 1 AS one INTO TEMP t_other"),
    ("a", "SELECT * FROM t_other"),
    ("a", "DROP TABLE t_other"),
    ("a", "CREATE TEMP TABLE t_other AS SELECT id, note FROM t_stage"),
    ("a", "SELECT * FROM t_other"),
    ("a", "SELECT relpersistence FROM pg_class WHERE relname = 't_other'"),
]


@pytest.fixture
def two_each(pg_server: Any, tsgres_sql: Any):  # -> Iterator[dict[str, tuple[pg conn, tsgres session]]]
    sessions: dict[str, tuple[Any, Any]] = {}
    for who in ("a", "b"):
        conn = pg_server.connect()
        pg_connection_setup(conn)
        conn.prepare_threshold = None  # (one name, other columns: no prepared SELECT *)
        sessions[who] = (conn, tsgres_sql.session("postgres"))
    try:
        yield sessions
    finally:
        for conn, session in sessions.values():
            conn.close()
            session.close()  # (their temporary tables go)
        cleanup = tsgres_sql.session("postgres")
        for sql in ("DROP TABLE IF EXISTS t_stage", "DROP TABLE IF EXISTS t_other"):
            for _ in cleanup.execute(cleanup.prepare(sql, []), []).batches:
                pass
        cleanup.close()
        with pg_server.connect() as conn:
            conn.execute("DROP TABLE IF EXISTS t_stage, t_other")


def test_temporary_tables_of_two_sessions(two_each: dict[str, tuple[Any, Any]]) -> None:
    for i, (who, sql) in enumerate(STEPS):
        conn, session = two_each[who]
        pg, ts = run_pg(conn, sql), run_tsgres(session, sql)
        diff = differences(sql, pg, ts)
        assert not diff, f"step {i} (session {who}): {sql}\n" + "\n".join(diff)
