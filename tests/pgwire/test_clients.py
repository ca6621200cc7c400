"""Real clients against ``pgwire.server.serve`` with the DuckDB test session: psycopg 3, asyncpg, psql."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import signal
import subprocess
import threading
import time
import uuid
from decimal import Decimal

import asyncpg
import psycopg
import pytest
from psycopg.types.json import Json

from tests.pgwire.conftest import RunningServer

LONG_QUERY = "select count(*) from range(100000000000) a"


# ---------------------------------------------------------------- psycopg


PARAMS = [
    (True, "bool"),
    (-32768, "int2"),
    (2**31 - 1, "int4"),
    (-(2**63), "int8"),
    (1.5, "float8"),
    (float("inf"), "float8"),
    (Decimal("12345.6789"), "numeric(20,4)"),  # DuckDB's bare numeric is (18,3)
    ("héllo wörld", "text"),
    (b"\x00\x01\xff", "bytea"),
    (dt.date(2024, 2, 29), "date"),
    (dt.time(13, 14, 15, 16), "time"),
    (dt.datetime(2016, 1, 2, 3, 4, 5, 6), "timestamp"),
    (dt.datetime(2016, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC), "timestamptz"),
    (dt.timedelta(days=3, seconds=7, microseconds=8), "interval"),
    (uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), "uuid"),
    ([1, None, 3], "int4[]"),
    (["a", "b c", None], "text[]"),
    (None, "int4"),
]


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_psycopg_parameters_of_every_type(server: RunningServer, binary: bool) -> None:
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        cur = conn.cursor(binary=binary)
        for value, typ in PARAMS:
            row = cur.execute(f"select %s::{typ}", [value]).fetchone()
            assert row == (value,), typ
        row = cur.execute("select %s::json", [Json({"a": [1, 2]})]).fetchone()
        assert row == ({"a": [1, 2]},)


def test_psycopg_result_types(server: RunningServer) -> None:
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        for binary in (False, True):
            cur = conn.cursor(binary=binary)
            row = cur.execute(
                "select 1::int2, 2::int4, 3::int8, 1.25::float4, 2.5::float8, 1.50::decimal(5,2), 'x'::varchar,"
                " true, DATE '2020-01-02', TIME '01:02:03.5', TIMESTAMP '2020-01-02 03:04:05',"
                " TIMESTAMPTZ '2020-01-02 03:04:05+00', INTERVAL '1 day 2 hours', '\\x01\\x02'::blob,"
                " [1,2,3], [[1,2],[3,4]], NULL::int, uuid '00000000-0000-0000-0000-000000000001'"
            ).fetchone()
            assert row == (
                1,
                2,
                3,
                1.25,
                2.5,
                Decimal("1.50"),
                "x",
                True,
                dt.date(2020, 1, 2),
                dt.time(1, 2, 3, 500000),
                dt.datetime(2020, 1, 2, 3, 4, 5),
                dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
                dt.timedelta(days=1, hours=2),
                b"\x01\x02",
                [1, 2, 3],
                [[1, 2], [3, 4]],
                None,
                uuid.UUID(int=1),
            ), binary


def test_psycopg_executemany_transactions_and_errors(server: RunningServer) -> None:
    with psycopg.connect(server.dsn()) as conn:
        conn.execute("create table em (a int, b text)")
        with conn.cursor() as cur:
            cur.executemany("insert into em (a, b) values (%s, %s)", [(i, f"r{i}") for i in range(50)])
        conn.commit()
        assert conn.execute("select count(*), sum(a) from em").fetchone() == (50, 1225)
        with pytest.raises(psycopg.errors.UndefinedTable):
            conn.execute("select * from nope")
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
        conn.rollback()
        assert conn.execute("select max(b) from em").fetchone() == ("r9",)
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        with conn.pipeline():
            a = conn.execute("select 1")
            b = conn.execute("select %s::int", [2])
        assert (a.fetchone(), b.fetchone()) == ((1,), (2,))


def test_psycopg_large_result_streams(server: RunningServer) -> None:
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        for binary in (False, True):
            cur = conn.cursor(binary=binary)
            rows = cur.execute("select i, i * 0.5 as f, 'row' || i as s from range(50000) t(i)").fetchall()
            assert len(rows) == 50000 and rows[-1] == (49999, 24999.5, "row49999")
        n = 0
        with conn.cursor().copy("copy (select i from range(100000) t(i)) to stdout") as copy:
            for _ in copy.rows():
                n += 1
        assert n == 100000


def test_psycopg_server_side_cursor_is_not_supported_by_the_test_session(server: RunningServer) -> None:
    # DECLARE/FETCH need SQL cursors that are also protocol portals; the DuckDB session has none.
    pytest.skip(
        "DECLARE/FETCH (psycopg server-side cursors) need the SQL engine; the DuckDB test session lacks them"
    )


def test_psycopg_cancel(server: RunningServer) -> None:
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        # cancel_safe: the blocking PQcancel behind conn.cancel() keeps the GIL while it waits for the
        # server, and this server runs in the same process.
        timer = threading.Timer(0.5, conn.cancel_safe)
        timer.start()
        started = time.monotonic()
        with pytest.raises(psycopg.errors.QueryCanceled):
            conn.execute(LONG_QUERY)
        assert time.monotonic() - started < 10
        timer.join()
        assert conn.execute("select 1").fetchone() == (1,)


# ---------------------------------------------------------------- COPY via psycopg


@pytest.mark.parametrize("fmt", ["text", "binary"])
def test_psycopg_copy_rows_in_and_out(server: RunningServer, fmt: str) -> None:
    rows = [
        (1, "plain", 1.5, dt.datetime(2016, 1, 1, tzinfo=dt.UTC), True),
        (2, "tab\there, newline\nthere, back\\slash", None, None, False),
        (3, 'quote " and, comma', -0.25, dt.datetime(2020, 6, 1, 12, 30, 0, 5000, tzinfo=dt.UTC), None),
        (4, "", 0.0, None, True),
        (None, None, None, None, None),
    ]
    table = f"cp_{fmt}"
    types = ["int4", "text", "float8", "timestamptz", "bool"]
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute(f"create table {table} (a int, b text, c double, d timestamptz, e boolean)")
        opts = "" if fmt == "text" else "(format binary)"
        with conn.cursor().copy(f"copy {table} (a, b, c, d, e) from stdin {opts}") as copy:
            copy.set_types(types)
            for r in rows:
                copy.write_row(r)
        assert conn.execute(f"select * from {table} order by a nulls last").fetchall() == rows
        out = []
        with conn.cursor().copy(
            f"copy (select * from {table} order by a nulls last) to stdout {opts}"
        ) as copy:
            copy.set_types(types)
            for row in copy.rows():
                out.append(row)
        assert out == rows


def test_psycopg_copy_csv_in(server: RunningServer) -> None:
    data = b'a,b\n1,plain\n2,"with, comma and ""quote"""\n3,""\n4,\n'
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute("create table cc (a int, b text)")
        with conn.cursor().copy("copy cc from stdin (format csv, header true)") as copy:
            copy.write(data[:7])
            copy.write(data[7:])
        got = conn.execute("select * from cc order by a").fetchall()
        assert got[:2] == [(1, "plain"), (2, 'with, comma and "quote"')]
        assert got[3] == (4, None)


def test_copy_out_exact_text_and_csv(server: RunningServer) -> None:
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute("create table cx (a int, b text)")
        conn.execute("insert into cx values (1, 'a\tb'), (2, NULL), (3, 'x,\"y\"'), (4, '')")
        for opts, expected in [
            ("", b'1\ta\\tb\n2\t\\N\n3\tx,"y"\n4\t\n'),
            ("(format csv, header true)", b'a,b\n1,a\tb\n2,\n3,"x,""y"""\n4,""\n'),
        ]:
            data = b""
            with conn.cursor().copy(f"copy (select * from cx order by a) to stdout {opts}") as copy:
                for chunk in copy:
                    data += bytes(chunk)
            assert data == expected


def test_copy_in_failure_and_client_abort(server: RunningServer) -> None:
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute("create table cf (a int)")
        with pytest.raises(psycopg.errors.QueryCanceled):
            with conn.cursor().copy("copy cf from stdin") as copy:
                copy.write(b"1\n")
                raise psycopg.errors.QueryCanceled("client gave up")  # psycopg sends CopyFail
        with pytest.raises(psycopg.errors.InvalidTextRepresentation):
            with conn.cursor().copy("copy cf from stdin") as copy:
                copy.write(b"not a number\n")
        assert conn.execute("select count(*) from cf").fetchone() == (0,)


# ---------------------------------------------------------------- asyncpg


def test_asyncpg(server: RunningServer) -> None:
    async def main() -> None:
        conn = await asyncpg.connect(host="127.0.0.1", port=server.port, user="u", database="db")
        assert await conn.fetchval("select 1") == 1
        assert await conn.fetchval("select $1::int8 * 2", 21) == 42
        row = await conn.fetchrow(
            "select $1::text as t, $2::float8 as f, $3::timestamptz as ts",
            "x",
            0.5,
            dt.datetime(2016, 1, 1, tzinfo=dt.UTC),
        )
        assert dict(row) == {"t": "x", "f": 0.5, "ts": dt.datetime(2016, 1, 1, tzinfo=dt.UTC)}
        await conn.execute("create table ap (id int, name text, v double, ts timestamptz)")
        await conn.executemany(
            "insert into ap (id, name, v, ts) values ($1, $2, $3, $4)",
            [(i, f"n{i}", i / 2, dt.datetime(2020, 1, 1, tzinfo=dt.UTC)) for i in range(20)],
        )
        stmt = await conn.prepare("select name from ap where id = $1::int4")
        for i in (3, 7, 3):
            assert await stmt.fetchval(i) == f"n{i}"
        n = await conn.copy_records_to_table(
            "ap",
            records=[(100 + i, None if i % 2 else f"c{i}", float(i), None) for i in range(1000)],
            columns=["id", "name", "v", "ts"],
        )
        assert n == "COPY 1000"
        assert await conn.fetchval("select count(*) from ap") == 1020
        rows = await conn.fetch("select id, name from ap where id >= 100 order by id limit 3")
        assert [tuple(r) for r in rows] == [(100, "c0"), (101, None), (102, "c2")]
        import io

        buf = io.BytesIO()
        await conn.copy_from_query("select id, name from ap where id < 3 order by id", output=buf)
        assert buf.getvalue() == b"0\tn0\n1\tn1\n2\tn2\n"
        with pytest.raises(asyncpg.UndefinedTableError):
            await conn.fetch("select * from nope")
        async with conn.transaction():
            await conn.execute("insert into ap (id) values (-1)")
        assert await conn.fetchval("select count(*) from ap where id = -1") == 1
        await conn.close()

        pool = await asyncpg.create_pool(
            host="127.0.0.1", port=server.port, user="u", database="db", min_size=2, max_size=4
        )
        results = await asyncio.gather(*(pool.fetchval("select $1::int4 + 1", i) for i in range(20)))
        assert results == [i + 1 for i in range(20)]
        async with pool.acquire() as c:
            assert await c.fetchval("select 'pooled'") == "pooled"
        await pool.close()

    asyncio.run(main())


def test_asyncpg_cancel_by_timeout(server: RunningServer) -> None:
    async def main() -> None:
        conn = await asyncpg.connect(host="127.0.0.1", port=server.port, user="u", database="db")
        with pytest.raises(asyncio.TimeoutError):
            await conn.fetchval(LONG_QUERY, timeout=0.5)
        assert await conn.fetchval("select 2") == 2
        await conn.close()

    asyncio.run(main())


# ---------------------------------------------------------------- psql

psql = shutil.which("psql")
needs_psql = pytest.mark.skipif(psql is None, reason="psql is not installed")


def _psql_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PGCONNECT_TIMEOUT"] = "10"
    return env


def _psql_argv(server: RunningServer, *args: str) -> list[str]:
    """psql to the test server's database ``db`` as ``u``, without ~/.psqlrc, then ``args``."""
    assert psql is not None
    return [psql, "-h", "127.0.0.1", "-p", str(server.port), "-U", "u", "-d", "db", "-X", *args]


@needs_psql
def test_psql_runs_a_query(server: RunningServer) -> None:
    out = subprocess.run(
        _psql_argv(server, "-A", "-t", "-c", "select 1 as one, 'two' as two"),
        capture_output=True,
        text=True,
        timeout=30,
        env=_psql_env(),
        stdin=subprocess.DEVNULL,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1|two"
    out = subprocess.run(
        _psql_argv(server, "-c", "select * from nope"),
        capture_output=True,
        text=True,
        timeout=30,
        env=_psql_env(),
        stdin=subprocess.DEVNULL,
    )
    assert out.returncode == 1 and "ERROR" in out.stderr


@needs_psql
def test_psql_sigint_cancels_a_long_query(server: RunningServer) -> None:
    proc = subprocess.Popen(
        _psql_argv(server, "-c", LONG_QUERY),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_psql_env(),
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(
            s.handler and s.handler.running for s in _handlers(server)
        ):
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert "canceling statement due to user request" in err, err
    assert proc.returncode == 1


def _handlers(server: RunningServer) -> list:  # type: ignore[type-arg]
    return list(server.pg._connections)
