"""Many connections on one tsgres loop: 500 idle sessions held open while 64 clients query at once.

Every query must be answered correctly, a fresh connection's SELECT 1 must come back within a few
seconds throughout (the loop is never blocked by query work), and afterwards every idle session still
answers. The machine running CI has 2 cores, so the limits are about responsiveness, not speed.
"""

from __future__ import annotations

import asyncio
import struct
import time

import asyncpg
import psutil
import pytest

from pgwire import messages as m
from tests.compat.pg.conftest import PgServer, raise_fd_limit

IDLE = 500
ACTIVE = 64
ROUNDS = 8
ROWS_PER_HOST = 50
PROBE_LIMIT_S = 5.0


@pytest.fixture(scope="module")
def scale_db(pg_server: PgServer) -> str:
    db = pg_server.database("scale")
    with pg_server.connect(db) as conn:
        conn.execute("CREATE TABLE load (time timestamptz NOT NULL, host text, v bigint)")
        with conn.cursor().copy("COPY load (time, host, v) FROM STDIN") as copy:
            for h in range(ACTIVE):
                for i in range(ROWS_PER_HOST):
                    copy.write_row((f"2024-01-01 00:00:{i:02d}+00", f"h{h}", h * 1000 + i))
    return db


class IdleSession:
    """A raw protocol-3 session: start-up once, then quiet until asked for one query."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int, db: str) -> IdleSession:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        s = cls(reader, writer)
        writer.write(
            m.StartupMessage({"user": "postgres", "database": db, "application_name": "idle"}).encode()
        )
        await s.until_ready()
        return s

    async def read(self) -> m.Message:
        head = await self.reader.readexactly(5)
        (length,) = struct.unpack("!i", head[1:])
        return m.decode_backend(head[:1], await self.reader.readexactly(length - 4))

    async def until_ready(self) -> list[m.Message]:
        out = []
        while True:
            msg = await asyncio.wait_for(self.read(), 60)
            out.append(msg)
            if isinstance(msg, m.ErrorResponse):
                raise AssertionError(msg.fields)
            if isinstance(msg, m.ReadyForQuery):
                return out

    async def query_one(self, sql: str) -> list[bytes | None]:
        self.writer.write(m.Query(sql).encode())
        rows = [x.values for x in await self.until_ready() if isinstance(x, m.DataRow)]
        assert len(rows) == 1, rows
        return rows[0]

    def close(self) -> None:
        self.writer.write(m.Terminate().encode())
        self.writer.close()


def _established(pid: int, port: int) -> int:
    conns = psutil.Process(pid).net_connections(kind="tcp")
    return sum(1 for c in conns if c.laddr and c.laddr.port == port and c.status == psutil.CONN_ESTABLISHED)


def test_500_idle_and_64_active(pg_server: PgServer, scale_db: str) -> None:
    assert raise_fd_limit() >= IDLE + ACTIVE + 100, "not enough file descriptors for the test"
    port = pg_server.port

    async def active(n: int, conn: asyncpg.Connection) -> int:
        done = 0
        for r in range(ROUNDS):
            h = (n + r) % ACTIVE
            row = await conn.fetchrow(
                "SELECT count(*) AS c, sum(v) AS s, $2::int8 + 1 AS x FROM load WHERE host = $1", f"h{h}", r
            )
            assert (row["c"], row["s"], row["x"]) == (
                ROWS_PER_HOST,
                sum(h * 1000 + i for i in range(ROWS_PER_HOST)),
                r + 1,
            )
            assert await conn.fetchval("SELECT 'client ' || $1::text", str(n)) == f"client {n}"
            done += 2
        return done

    async def probe(stop: asyncio.Event, worst: list[float]) -> None:
        while not stop.is_set():
            started = time.monotonic()
            conn = await asyncpg.connect(
                host="127.0.0.1", port=port, user="postgres", database=scale_db, timeout=30
            )
            assert await conn.fetchval("SELECT 1") == 1
            await conn.close()
            worst.append(time.monotonic() - started)
            await asyncio.sleep(0.25)

    async def main() -> None:
        idle: list[IdleSession] = []
        for _ in range(IDLE // 50):  # in waves, so the accept backlog is never the limit
            idle += await asyncio.gather(*(IdleSession.open(port, scale_db) for _ in range(50)))
        clients = [
            await asyncpg.connect(host="127.0.0.1", port=port, user="postgres", database=scale_db, timeout=30)
            for _ in range(ACTIVE)
        ]
        held = await asyncio.to_thread(_established, pg_server.process.proc.pid, port)
        assert held >= IDLE + ACTIVE, held

        stop, latencies = asyncio.Event(), list[float]()
        prober = asyncio.create_task(probe(stop, latencies))
        try:
            counts = await asyncio.wait_for(
                asyncio.gather(*(active(i, c) for i, c in enumerate(clients))), 400
            )
        finally:
            stop.set()
            await prober
        assert sum(counts) == ACTIVE * ROUNDS * 2
        assert latencies and max(latencies) < PROBE_LIMIT_S, latencies

        # every idle session is still there and answers its own query
        answers = await asyncio.gather(*(s.query_one(f"SELECT {i} AS n") for i, s in enumerate(idle)))
        assert answers == [[str(i).encode()] for i in range(IDLE)]
        for s in idle:
            s.close()
        await asyncio.gather(*(c.close() for c in clients))

    asyncio.run(main())
