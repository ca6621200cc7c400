"""json and jsonb through a real client: the type OIDs psycopg decodes by (114 / 3802), the text, and
jsonb in binary format (a version byte 1, then the text), over the simple and the extended protocol.

What each function writes is checked against PostgreSQL 15 in tests/sql/differential/corpus/json.sql;
this checks that what the engine announces and sends is what clients (psycopg, asyncpg) receive.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from psycopg.adapt import Loader

from tests.compat.pg.conftest import PgServer

QUERY = """SELECT to_json(t) AS j, to_jsonb(t) AS b, jsonb_build_object('b', 1, 'a', t) AS o,
                  '{"k": [1, 2]}'::jsonb -> 'k' AS path, '{"k": 1}'::jsonb ->> 'k' AS txt
           FROM (VALUES ('2016-01-01 00:00:00+00'::timestamptz)) v(t)"""


class _Text(Loader):
    def load(self, data: Any) -> str:
        return bytes(data).decode()


def test_json_and_jsonb_oids_and_text(pg_server: PgServer) -> None:
    with pg_server.connect() as conn:
        for oid in ("json", "jsonb"):
            conn.adapters.register_loader(oid, _Text)
        for prepare in (False, True):  # simple query, then Parse/Describe/Bind
            cur = conn.execute(QUERY, prepare=prepare)
            assert cur.description is not None
            assert [d.type_code for d in cur.description] == [114, 3802, 3802, 3802, 25]
            assert cur.fetchone() == (
                '"2016-01-01T00:00:00+00:00"',
                '"2016-01-01T00:00:00+00:00"',
                '{"a": "2016-01-01T00:00:00+00:00", "b": 1}',
                "[1, 2]",
                "1",
            )


def test_jsonb_binary_format(pg_server: PgServer) -> None:
    with pg_server.connect() as conn:
        cur = conn.cursor(binary=True)
        cur.execute(
            "SELECT jsonb_build_object('n', 1, 'l', jsonb_agg(x)) AS b, json_agg(x) AS j FROM (VALUES (1), (2)) v(x)"
        )
        assert cur.pgresult is not None
        assert cur.pgresult.get_value(0, 0) == b'\x01{"l": [1, 2], "n": 1}'
        assert cur.pgresult.get_value(0, 1) == b"[1, 2]"
        cur.execute("SELECT jsonb_build_object('n', 1, 'l', jsonb_agg(x)) AS b FROM (VALUES (1), (2)) v(x)")
        assert cur.fetchone() == ({"l": [1, 2], "n": 1},)  # psycopg's jsonb binary loader


def test_asyncpg_reads_jsonb_in_binary(pg_server: PgServer) -> None:
    """asyncpg asks for jsonb in binary and picks its codec by the OID it is told."""

    async def main() -> None:
        conn = await asyncpg.connect(host=pg_server.host, port=pg_server.port, user="postgres")
        try:
            stmt = await conn.prepare(
                "SELECT to_jsonb(x) AS b, json_agg(x) OVER () AS j FROM (VALUES (2), (1)) v(x)"
            )
            assert [a.type.name for a in stmt.get_attributes()] == ["jsonb", "json"]
            rows = [tuple(r) for r in await stmt.fetch()]
            assert rows == [("2", "[2, 1]"), ("1", "[2, 1]")]
        finally:
            await conn.close()

    asyncio.run(main())
