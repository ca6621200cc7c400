"""WARNINGs and NOTICEs reach the client as PostgreSQL 15 sends them: the same statements run on a real
PostgreSQL and on tsgres, and each statement's notices (severity, SQLSTATE, message) are compared.
Before, sessions collected these texts in a list nobody sent (and that grew for the session's life).
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests.compat.pg.conftest import PgServer
from tests.sql.conftest import PgServer as RealPg
from tests.sql.conftest import running_pg

STATEMENTS = [
    "BEGIN",
    "BEGIN",
    "COMMIT",
    "COMMIT",
    "ROLLBACK",
    "CREATE TABLE n_t (time timestamptz NOT NULL, v int8)",
    "CREATE TABLE IF NOT EXISTS n_t (time timestamptz NOT NULL, v int8)",
    "ALTER TABLE n_t DROP CONSTRAINT IF EXISTS nope",
    "DROP TABLE IF EXISTS n_nope",
    "CREATE SEQUENCE n_s",
    "CREATE SEQUENCE IF NOT EXISTS n_s",
    "DROP SEQUENCE IF EXISTS n_nope_s",
    "CREATE TYPE n_mood AS ENUM ('sad', 'ok')",
    "ALTER TYPE n_mood ADD VALUE IF NOT EXISTS 'ok'",
    "DROP TYPE IF EXISTS n_nope_type",
    "DROP ROLE IF EXISTS n_nope_role",
    "CREATE ROLE n_a",
    "CREATE ROLE n_b",
    "GRANT n_a TO n_b",
    "GRANT n_a TO n_b",
    "REVOKE n_a FROM n_b",
    "REVOKE n_a FROM n_b",
    "DROP TABLE n_t",
    "DROP SEQUENCE n_s",
    "DROP TYPE n_mood",
    "DROP ROLE n_b",
    "DROP ROLE n_a",
]


@pytest.fixture(scope="module")
def real_pg() -> Iterator[RealPg]:
    yield from running_pg()


def _notices(conn: psycopg.Connection) -> list[list[tuple[str, str, str]]]:  # type: ignore[type-arg]
    seen: list[tuple[str, str, str]] = []
    conn.add_notice_handler(
        lambda d: seen.append((d.severity or "", d.sqlstate or "", d.message_primary or ""))
    )
    out = []
    for sql in STATEMENTS:
        seen.clear()
        conn.execute(sql)
        out.append(list(seen))
    return out


def test_notices_match_postgresql(pg_server: PgServer, real_pg: RealPg) -> None:
    with real_pg.connect() as conn:
        expected = _notices(conn)
    with pg_server.connect() as conn:
        got = _notices(conn)
    assert sum(map(len, expected)) >= 10  # (the statements do warn)
    for sql, want, have in zip(STATEMENTS, expected, got, strict=True):
        assert have == want, sql
