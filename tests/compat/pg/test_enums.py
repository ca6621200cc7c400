"""Enum types through real clients: SQLAlchemy 2 (psycopg 3) creates a table with ``sa.Enum`` (its
CREATE TYPE first), writes and reads it in the labels' order and reflects it (get_enums,
get_columns); psql 15 shows the type in ``\\dT+`` and the column in ``\\d``; asyncpg learns the
type's OID by its introspection query (a recursive CTE over pg_type with an ``oid[]`` parameter) and
then reads and writes the values in binary; psycopg's EnumInfo.fetch and register_enum map the labels
to a Python Enum. Expected values are what the same calls give on PostgreSQL 15."""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
from collections.abc import Iterator

import asyncpg
import pytest
from psycopg.types import TypeInfo
from psycopg.types.enum import EnumInfo, register_enum

from tests.compat.pg.conftest import PgServer, psql_output, sqlalchemy_engine

try:
    import sqlalchemy as sa
except ImportError:  # CI installs it (.ci/run)
    sa = None  # type: ignore[assignment]


@pytest.fixture(scope="module")
def engine(pg_server: PgServer) -> Iterator[sa.Engine]:
    yield from sqlalchemy_engine(pg_server, "enums")  # type: ignore[misc]


def test_sa_enum_create_write_read_reflect(engine: sa.Engine) -> None:
    md = sa.MetaData()
    status = sa.Enum("queued", "running", "done", "failed", name="job_status")
    jobs = sa.Table(
        "jobs",
        md,
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("status", status, nullable=False),
    )
    md.create_all(engine)
    t0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    with engine.begin() as conn:
        conn.execute(
            jobs.insert(),
            [
                {"time": t0, "name": "a", "status": "failed"},
                {"time": t0 + dt.timedelta(seconds=1), "name": "b", "status": "queued"},
                {"time": t0 + dt.timedelta(seconds=2), "name": "c", "status": "done"},
            ],
        )
        with pytest.raises(sa.exc.DataError):  # 22P02
            with conn.begin_nested():
                conn.execute(sa.text("INSERT INTO jobs VALUES (now(), 'd', 'lost')"))
    with engine.connect() as conn:
        ordered = conn.execute(sa.select(jobs.c.name, jobs.c.status).order_by(jobs.c.status)).all()
        assert ordered == [("b", "queued"), ("c", "done"), ("a", "failed")]
        after = conn.execute(sa.select(jobs.c.name).where(jobs.c.status > "running").order_by(jobs.c.name))
        assert after.scalars().all() == ["a", "c"]
    insp = sa.inspect(engine)
    assert insp.get_enums() == [
        {
            "name": "job_status",
            "schema": "public",
            "visible": True,
            "labels": ["queued", "running", "done", "failed"],
        }
    ]
    columns = {c["name"]: c for c in insp.get_columns("jobs")}
    reflected = columns["status"]["type"]
    assert isinstance(reflected, sa.Enum)
    assert reflected.name == "job_status" and reflected.enums == ["queued", "running", "done", "failed"]
    assert columns["status"]["nullable"] is False
    md.drop_all(engine)  # the table, then DROP TYPE job_status
    assert sa.inspect(engine).get_enums() == []


def test_psql_describes_enum_types(pg_server: PgServer) -> None:
    db = pg_server.database("enums_psql")
    with pg_server.connect(db) as conn:
        conn.execute("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')")
        conn.execute("CREATE TABLE feelings (time timestamptz NOT NULL, m mood)")
        conn.execute("COMMENT ON TYPE mood IS 'how one feels'")
    types = psql_output(pg_server, db, r"\dT+").splitlines()
    assert types[1].split("|")[:5] == ["Schema", "Name", "Internal name", "Size", "Elements"]
    assert types[1].split("|")[-1] == "Description"
    # the labels, one a line, in the order of declaration; the description after the last
    assert types[2] == "public|mood|mood|4|sad" and types[3] == "ok" and types[4].startswith("happy|")
    assert types[4].split("|")[-1] == "how one feels"
    table = psql_output(pg_server, db, r"\d feelings").splitlines()
    assert table[3].split("|")[:2] == ["m", "mood"]


T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def test_asyncpg_reads_and_writes_enum_columns(pg_server: PgServer) -> None:
    db = pg_server.database("enums_asyncpg")

    async def main() -> None:
        conn = await asyncpg.connect(host=pg_server.host, port=pg_server.port, user="postgres", database=db)
        try:
            await conn.execute("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')")
            await conn.execute("CREATE TABLE feelings (time timestamptz NOT NULL, who text, m mood)")
            insert = "INSERT INTO feelings (time, who, m) VALUES ($1, $2, $3)"
            await conn.execute(insert, T0, "a", "happy")  # an enum parameter, in binary
            await conn.executemany(
                insert,
                [
                    (T0 + dt.timedelta(seconds=i), w, m)
                    for i, (w, m) in enumerate([("b", "sad"), ("c", "ok"), ("d", None)], 1)
                ],
            )
            rows = await conn.fetch("SELECT who, m FROM feelings ORDER BY m, who")  # the labels' order
            assert [tuple(r) for r in rows] == [("b", "sad"), ("c", "ok"), ("a", "happy"), ("d", None)]
            assert await conn.fetchval("SELECT who FROM feelings WHERE m = $1", "ok") == "c"
            after = await conn.fetch("SELECT who FROM feelings WHERE m > $1 ORDER BY who", "sad")
            assert [r["who"] for r in after] == ["a", "c"]
            stmt = await conn.prepare("SELECT who, m FROM feelings WHERE m = $1")
            attr = stmt.get_attributes()[1]
            assert (attr.name, attr.type.name, attr.type.kind, attr.type.schema) == (
                "m",
                "mood",
                "scalar",
                "public",
            )
            assert [p.name for p in stmt.get_parameters()] == ["mood"]
            for label, who in (("sad", "b"), ("happy", "a"), ("ok", "c"), ("sad", "b")):  # reused
                assert [tuple(r) for r in await stmt.fetch(label)] == [(who, label)]
            with pytest.raises(asyncpg.InvalidTextRepresentationError, match='enum mood: "lost"'):
                await conn.execute(insert, T0, "x", "lost")
            assert await conn.fetchval("SELECT count(*) FROM feelings") == 4
            # binary COPY: asyncpg encodes the column by the type it introspected
            t1 = T0 + dt.timedelta(hours=1)
            await conn.copy_records_to_table(
                "feelings", records=[(t1, "e", "ok")], columns=["time", "who", "m"]
            )
            assert await conn.fetchval("SELECT m FROM feelings WHERE time = $1", t1) == "ok"
            await conn.execute("DELETE FROM feelings WHERE time = $1", t1)
            # arrays of the enum: as a parameter, a cast, an aggregate
            some = await conn.fetch(
                "SELECT who FROM feelings WHERE m = any($1::mood[]) ORDER BY who", ["ok", "sad"]
            )
            assert [r["who"] for r in some] == ["b", "c"]
            assert await conn.fetchval("SELECT $1::mood[]", ["ok", None, "sad"]) == ["ok", None, "sad"]
            assert await conn.fetchval(
                "SELECT array_agg(m ORDER BY m) FROM feelings WHERE m IS NOT NULL"
            ) == [
                "sad",
                "ok",
                "happy",
            ]
            assert await conn.fetchval("SELECT enum_range(NULL::mood)") == ["sad", "ok", "happy"]
            assert await conn.fetchval("SELECT 'ok'::mood") == "ok"
            # a codec of one's own for the type: asyncpg looks it up by name (its kind must be b"e")
            await conn.set_type_codec(
                "mood", schema="public", encoder=str.lower, decoder=str.upper, format="text"
            )
            assert await conn.fetchval("SELECT m FROM feelings WHERE m = $1", "OK") == "OK"
        finally:
            await conn.close()

    asyncio.run(main())


def test_asyncpg_introspects_enum_and_builtin_types(pg_server: PgServer) -> None:
    """What asyncpg's introspection query answers, and the column types it decodes it by (PostgreSQL
    15's: it compares ``kind``, a "char", with b"e", and knows oid[] but not int8[])."""
    db = pg_server.database("enums_asyncpg_intro")

    async def main() -> None:
        from asyncpg import introspection

        conn = await asyncpg.connect(host=pg_server.host, port=pg_server.port, user="postgres", database=db)
        try:
            await conn.execute("CREATE TYPE level AS ENUM ('low', 'high')")
            oid, array_oid = await conn.fetchrow("SELECT oid, typarray FROM pg_type WHERE typname = 'level'")
            stmt = await conn.prepare(introspection.INTRO_LOOKUP_TYPES)
            assert [t.name for t in stmt.get_parameters()] == ["oid[]"]
            assert [(a.name, a.type.name) for a in stmt.get_attributes()] == [
                ("oid", "oid"), ("ns", "name"), ("name", "name"), ("kind", "char"), ("basetype", "oid"),
                ("elemtype", "oid"), ("elemdelim", "char"), ("range_subtype", "oid"),
                ("attrtypoids", "oid[]"), ("attrnames", "text[]"), ("depth", "int4"),
                ("basetype_name", "text"), ("elemtype_name", "text"), ("range_subtype_name", "text"),
            ]  # fmt: skip
            rows = await stmt.fetch([23, 1007, array_oid])
            got = {
                (r["oid"], r["depth"]): (
                    r["ns"],
                    r["name"],
                    r["kind"],
                    r["elemtype"],
                    r["elemdelim"],
                    r["elemtype_name"],
                )
                for r in rows
            }
            assert got == {
                (23, 0): ("pg_catalog", "int4", b"b", 0, None, "-"),
                (1007, 0): ("pg_catalog", "_int4", b"b", 23, b",", "integer"),
                (23, 1): ("pg_catalog", "int4", b"b", 0, None, "-"),
                (array_oid, 0): ("public", "_level", b"b", oid, b",", "level"),
                (oid, 1): ("public", "level", b"e", 0, None, "-"),
            }
            assert [r["depth"] for r in rows] == sorted((r["depth"] for r in rows), reverse=True)
        finally:
            await conn.close()

    asyncio.run(main())


def test_psycopg_enum_info_and_register_enum(pg_server: PgServer) -> None:
    db = pg_server.database("enums_psycopg")
    with pg_server.connect(db) as conn:
        conn.execute("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')")
        conn.execute("CREATE TABLE feelings (time timestamptz NOT NULL, who text, m mood)")
        info = EnumInfo.fetch(conn, "mood")
        assert info is not None
        oid, array_oid = conn.execute("SELECT oid, typarray FROM pg_type WHERE typname = 'mood'").fetchone()
        assert (info.name, info.oid, info.array_oid, info.labels) == (
            "mood",
            oid,
            array_oid,
            ["sad", "ok", "happy"],
        )
        array_info = TypeInfo.fetch(conn, "mood[]")
        assert array_info is not None and (array_info.name, array_info.oid) == ("_mood", array_oid)
        assert EnumInfo.fetch(conn, "nosuch") is None

        class Mood(enum.Enum):
            sad = "sad"
            ok = "ok"
            happy = "happy"

        register_enum(info, conn, Mood)
        rows = [
            (T0 + dt.timedelta(seconds=i), w, m)
            for i, (w, m) in enumerate([("a", Mood.happy), ("b", Mood.sad), ("c", Mood.ok)])
        ]
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO feelings (time, who, m) VALUES (%s, %s, %s)", rows)
        for binary in (False, True):
            got = conn.cursor(binary=binary).execute("SELECT who, m FROM feelings ORDER BY m").fetchall()
            assert got == [("b", Mood.sad), ("c", Mood.ok), ("a", Mood.happy)]
            where = conn.cursor(binary=binary).execute("SELECT who FROM feelings WHERE m = %s", [Mood.ok])
            assert where.fetchall() == [("c",)]
            # an array of the enum reads as a list of members
            agg = conn.cursor(binary=binary).execute("SELECT array_agg(m ORDER BY m) FROM feelings")
            assert agg.fetchone() == ([Mood.sad, Mood.ok, Mood.happy],)
