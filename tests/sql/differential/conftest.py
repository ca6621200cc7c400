"""The loaded pair the corpus runs against: one PostgreSQL connection and one tsgres session, both
holding the same tables and rows (tests/fixtures/sql/differential_schema.sql + data.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.sql.differential import data
from tests.sql.differential.harness import pg_connection_setup


@dataclass
class Pair:
    pg: Any  # psycopg.Connection (autocommit)
    ts: Any  # sql.engine.SqlSession


def _ts_run(session: Any, sql: str) -> Any:
    stmt = session.prepare(sql, [])
    result = session.execute(stmt, [])
    for _ in result.batches:
        pass
    return result


def load_pg(conn: Any) -> None:
    for stmt in data.statements(data.SCHEMA_SQL):
        conn.execute(stmt)
    conn.execute(data.PG_SHIM_SQL.read_text())
    for stmt in data.insert_statements():
        conn.execute(stmt)
    with conn.cursor().copy(data.tsbs_copy_sql()) as copy:
        for chunk in data.tsbs_csv():
            copy.write(chunk)
    conn.execute("ANALYZE")


def load_tsgres(session: Any) -> None:
    for stmt in data.statements(data.SCHEMA_SQL):
        _ts_run(session, stmt)
    result = _ts_run(session, data.tsbs_copy_sql())
    tag = session.copy_in(result.copy, data.tsbs_csv())
    gen = data.tsbs_generator()
    assert tag == f"COPY {gen.n_rows}", tag
    # the TSBS rows are read from chunk files, the small tables from the memtable
    session.storage.flush()
    for stmt in data.insert_statements():
        _ts_run(session, stmt)


@pytest.fixture(scope="session")
def pair(pg_server: Any, tsgres_session: Any) -> Iterator[Pair]:
    conn = pg_server.connect()
    pg_connection_setup(conn)
    load_pg(conn)
    load_tsgres(tsgres_session)
    try:
        yield Pair(conn, tsgres_session)
    finally:
        conn.close()


@pytest.fixture
def fresh_pair(pg_server: Any, tsgres_sql: Any) -> Iterator[Pair]:
    """A new PostgreSQL connection and a new tsgres session, for steps that change session state
    (SET) or make tables of their own."""
    conn = pg_server.connect()
    try:
        yield Pair(conn, tsgres_sql.session("postgres", "postgres"))
    finally:
        conn.close()
