"""Binary COPY FROM STDIN against ``tsgres serve``: asyncpg's copy_records_to_table and psycopg's binary
copy write every supported type (NULLs included); the rows read back are the rows sent. Malformed
streams end in 22P04/22P03 with nothing written, and the connection keeps working.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import struct
import uuid
from decimal import Decimal

import asyncpg
import psycopg
import pytest
from psycopg import errors as pge
from psycopg.types.json import Jsonb

from tests.compat.pg.conftest import PgServer

UTC = dt.UTC
BERLIN = dt.timezone(dt.timedelta(hours=2))

ALL_TYPES = """(time timestamptz NOT NULL, host text, b bool, i2 int2, i4 int4, i8 int8, f4 real, f8 float8,
    n numeric(12, 3), vc varchar(20), ts timestamp, d date, t time, iv interval, by bytea)"""
NAMES = ["time", "host", "b", "i2", "i4", "i8", "f4", "f8", "n", "vc", "ts", "d", "t", "iv", "by"]


def _records() -> list[tuple[object, ...]]:
    start = dt.datetime(2024, 3, 1, 12, tzinfo=BERLIN)  # sent with an offset; read back in UTC
    rows: list[tuple[object, ...]] = []
    for i in range(40):
        rows.append(
            (
                start + dt.timedelta(seconds=i, microseconds=7),
                f"host-{i % 4}",
                i % 3 == 0,
                -(2**15) if i == 1 else i,
                2**31 - 1 if i == 2 else i * 1000,
                2**62 + i,  # beyond float64's exact integers
                0.5 + i,
                -1e300 if i == 3 else i / 10,
                Decimal("-123.456") if i == 4 else Decimal(i) / 8,
                f"v{i} ünï",
                dt.datetime(1999, 12, 31, 23, 59, 59, 999999) + dt.timedelta(days=i),
                dt.date(1970, 1, 1) + dt.timedelta(days=400 * i - 9000),
                dt.time(i % 24, 59, 1, 250),
                dt.timedelta(days=i, seconds=61, microseconds=5),
                bytes([0, i, 255]),
            )
        )
    rows.append((dt.datetime(2024, 3, 2, tzinfo=UTC),) + (None,) * (len(NAMES) - 1))  # every NULL
    return rows


def _as_read(row: tuple[object, ...]) -> tuple[object, ...]:
    """What asyncpg reads back: timestamptz in UTC."""
    out = list(row)
    out[0] = row[0].astimezone(UTC)  # type: ignore[attr-defined]
    return tuple(out)


def test_asyncpg_copy_records_to_table_every_type(pg_server: PgServer) -> None:
    db = pg_server.database("copy_binary_asyncpg")

    async def main() -> None:
        conn = await asyncpg.connect(host=pg_server.host, port=pg_server.port, user="postgres", database=db)
        try:
            await conn.execute(f"CREATE TABLE every {ALL_TYPES}")
            records = _records()
            assert await conn.copy_records_to_table("every", records=records) == f"COPY {len(records)}"
            got = [tuple(r) for r in await conn.fetch(f"SELECT {', '.join(NAMES)} FROM every ORDER BY time")]
            want = [_as_read(r) for r in records]
            assert len(got) == len(want)
            for g, w in zip(got, want, strict=True):
                assert g[6] == pytest.approx(w[6])  # real: float4 on the way
                assert g[:6] + g[7:] == w[:6] + w[7:]
            # a column subset: the others are NULL
            await conn.copy_records_to_table(
                "every", records=[(dt.datetime(2025, 1, 1, tzinfo=UTC), 7)], columns=["time", "i4"]
            )
            row = await conn.fetchrow("SELECT i4, host, f8 FROM every WHERE time = '2025-01-01T00:00:00Z'")
            assert tuple(row) == (7, None, None)
        finally:
            await conn.close()

    asyncio.run(main())


def test_asyncpg_copy_many_rows(pg_server: PgServer) -> None:
    db = pg_server.database("copy_binary_asyncpg")
    base = dt.datetime(2020, 1, 1, tzinfo=UTC)
    n = 50_000

    async def main() -> None:
        conn = await asyncpg.connect(host=pg_server.host, port=pg_server.port, user="postgres", database=db)
        try:
            await conn.execute("CREATE TABLE many (time timestamptz NOT NULL, host text, v float8, k int8)")
            records = [(base + dt.timedelta(seconds=i), f"h{i % 25}", i * 0.25, i) for i in range(n)]
            assert await conn.copy_records_to_table("many", records=records) == f"COPY {n}"
            row = await conn.fetchrow(
                "SELECT count(*), sum(k), max(v), count(DISTINCT host), min(time) FROM many"
            )
            assert tuple(row) == (n, n * (n - 1) // 2, (n - 1) * 0.25, 25, base)
        finally:
            await conn.close()

    asyncio.run(main())


def test_asyncpg_copy_uuid_and_json(pg_server: PgServer) -> None:
    """asyncpg encodes each column as the table's described type: uuid and jsonb must be described so."""
    db = pg_server.database("copy_binary_asyncpg")
    u = uuid.UUID("12345678-9abc-def0-1234-56789abcdef0")

    async def main() -> None:
        conn = await asyncpg.connect(host=pg_server.host, port=pg_server.port, user="postgres", database=db)
        try:
            await conn.execute("CREATE TABLE uj (time timestamptz NOT NULL, u uuid, j jsonb, js json)")
            t = dt.datetime(2024, 5, 1, tzinfo=UTC)
            records = [
                (t, u, '{"a": [1, 2]}', '{"b": null}'),
                (t + dt.timedelta(seconds=1), None, None, None),
            ]
            assert await conn.copy_records_to_table("uj", records=records) == "COPY 2"
            rows = [tuple(r) for r in await conn.fetch("SELECT u, j, js FROM uj ORDER BY time")]
            assert rows[0][0] == u and rows[1] == (None, None, None)
            assert json.loads(rows[0][1]) == {"a": [1, 2]} and json.loads(rows[0][2]) == {"b": None}
        finally:
            await conn.close()

    asyncio.run(main())


def test_psycopg_binary_copy_with_set_types(pg_server: PgServer) -> None:
    db = pg_server.database("copy_binary_psycopg")
    rows = [
        (dt.datetime(2024, 1, 1, tzinfo=UTC), uuid.UUID(int=7), Jsonb({"a": [1, 2]}), "héllo", 1.25, 5),
        (dt.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=BERLIN), None, None, None, None, None),
        (
            dt.datetime(2024, 1, 3, tzinfo=UTC),
            uuid.UUID("12345678-9abc-def0-1234-56789abcdef0"),
            Jsonb([]),
            "x",  # not "": text columns are tags by default, and an empty tag reads as NULL
            -0.0,
            -1,
        ),
    ]
    with pg_server.connect(db) as conn:
        conn.execute(
            "CREATE TABLE pb (time timestamptz NOT NULL, u uuid, j jsonb, tx text, f float8, s int2)"
        )
        with conn.cursor().copy("COPY pb (time, u, j, tx, f, s) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["timestamptz", "uuid", "jsonb", "text", "float8", "int2"])
            for r in rows:
                copy.write_row(r)
        got = conn.execute("SELECT time, u::text, j::text, tx, f, s FROM pb ORDER BY time").fetchall()
    assert got == [
        (rows[0][0], "00000000-0000-0000-0000-000000000007", '{"a": [1, 2]}', "héllo", 1.25, 5),
        (rows[1][0].astimezone(UTC), None, None, None, None, None),  # type: ignore[attr-defined]
        (rows[2][0], "12345678-9abc-def0-1234-56789abcdef0", "[]", "x", -0.0, -1),
    ]


def test_binary_copy_out_and_back_in(pg_server: PgServer) -> None:
    """COPY TO STDOUT (FORMAT BINARY) read by psycopg, and its bytes fed to COPY FROM STDIN unchanged."""
    db = pg_server.database("copy_binary_psycopg")
    types = ["timestamptz", "text", "float8", "int8", "bool", "date"]
    rows: list[tuple[object, ...]] = [
        (
            dt.datetime(2024, 5, 1, 0, 0, i, tzinfo=UTC),
            f"h{i}",
            i * 1.5,
            2**53 + i,
            i % 2 == 0,
            dt.date(2024, 5, i + 1),
        )
        for i in range(30)
    ]
    rows.append((dt.datetime(2024, 6, 1, tzinfo=UTC), None, None, None, None, None))
    with pg_server.connect(db) as conn:
        conn.execute("CREATE TABLE src (time timestamptz NOT NULL, h text, v float8, k int8, b bool, d date)")
        conn.execute("CREATE TABLE dst (time timestamptz NOT NULL, h text, v float8, k int8, b bool, d date)")
        with conn.cursor().copy("COPY src FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(types)
            for r in rows:
                copy.write_row(r)
        raw = b""
        with conn.cursor().copy("COPY (SELECT * FROM src ORDER BY time) TO STDOUT (FORMAT BINARY)") as copy:
            raw = b"".join(bytes(b) for b in copy)
        assert raw.startswith(b"PGCOPY\n\xff\r\n\x00") and raw.endswith(b"\xff\xff")
        with conn.cursor().copy("COPY dst FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(raw)
        with conn.cursor().copy("COPY (SELECT * FROM dst ORDER BY time) TO STDOUT (FORMAT BINARY)") as copy:
            copy.set_types(types)
            back = list(copy.rows())
    assert back == rows


def _stream(*tuples: bytes, header: bytes | None = None, trailer: bool = True) -> bytes:
    head = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0) if header is None else header
    return head + b"".join(tuples) + (b"\xff\xff" if trailer else b"")


def _tuple(*fields: bytes | None) -> bytes:
    out = struct.pack("!h", len(fields))
    for f in fields:
        out += struct.pack("!i", -1) if f is None else struct.pack("!i", len(f)) + f
    return out


US_2024 = struct.pack(
    "!q",
    (dt.datetime(2024, 1, 1, tzinfo=UTC) - dt.datetime(2000, 1, 1, tzinfo=UTC))
    // dt.timedelta(microseconds=1),
)
GOOD = _tuple(US_2024, struct.pack("!q", 1))


@pytest.mark.parametrize(
    ("stream", "sqlstate", "message"),
    [
        (b"PGCOPY\nXX", "22P04", "COPY file signature not recognized"),
        (b"not a copy file at all, just text\n", "22P04", "COPY file signature not recognized"),
        (_stream(GOOD, header=b"PGCOPY\n\xff\r\n\x00\x00\x01\x00\x00\x00\x00\x00\x00"), "22P04", "WITH OIDS"),
        (b"PGCOPY\n\xff\r\n\x00\x00\x00", "22P04", "invalid COPY file header (missing flags)"),
        (
            b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 100) + b"ab",
            "22P04",
            "invalid COPY file header (wrong length)",
        ),
        (_stream(GOOD, _tuple(US_2024)), "22P04", "row field count is 1, expected 2"),
        (_stream(GOOD, GOOD[:-3], trailer=False), "22P04", "unexpected EOF in COPY data"),
        (_stream(GOOD) + GOOD, "22P04", "received copy data after EOF marker"),
        (_stream(GOOD, struct.pack("!hi", 2, -5)), "22P04", "invalid field size"),
        (_stream(GOOD, _tuple(US_2024, struct.pack("!i", 1))), "22P03", "incorrect binary data format"),
    ],
)
def test_malformed_binary_copy(pg_server: PgServer, stream: bytes, sqlstate: str, message: str) -> None:
    db = pg_server.database("copy_binary_bad")
    with pg_server.connect(db) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bad (time timestamptz NOT NULL, k int8)")
        before = conn.execute("SELECT count(*) FROM bad").fetchone()
        with pytest.raises(psycopg.Error) as info:
            with conn.cursor().copy("COPY bad (time, k) FROM STDIN (FORMAT BINARY)") as copy:
                copy.write(stream)
        assert info.value.sqlstate == sqlstate
        assert message in str(info.value)
        assert conn.execute("SELECT count(*) FROM bad").fetchone() == before  # nothing written
        assert conn.execute("SELECT 41 + 1").fetchone() == (42,)  # the connection keeps working
        with conn.cursor().copy("COPY bad (time, k) FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(_stream(GOOD))
        assert conn.execute("SELECT count(*) FROM bad").fetchone() == (before[0] + 1,)  # type: ignore[index]


def test_not_utf8_text_is_22021(pg_server: PgServer) -> None:
    db = pg_server.database("copy_binary_bad")
    with pg_server.connect(db) as conn:
        conn.execute("CREATE TABLE enc (time timestamptz NOT NULL, s text)")
        with pytest.raises(pge.CharacterNotInRepertoire):
            with conn.cursor().copy("COPY enc (time, s) FROM STDIN (FORMAT BINARY)") as copy:
                copy.write(_stream(_tuple(US_2024, b"ok \xff\xfe")))
        assert conn.execute("SELECT count(*) FROM enc").fetchone() == (0,)
