"""Bad clients against a running tsgres: each gets an error or a closed connection, nobody else notices.

tests/pgwire/test_bad_input.py drives the protocol layer (over a DuckDB test session) with hypothesis,
oversized and truncated messages; here the same kinds of trouble reach the real server process with its
SQL engine: a client that vanishes while its query runs (the query must stop: the server's CPU goes
quiet), random bytes on fresh and started connections, and wrong passwords with md5 and SCRAM-SHA-256
configured, from libpq, asyncpg and node-postgres. A bystander session opened first must keep working.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import struct
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import psutil
import psycopg
import pytest

from pgwire import messages as m
from tests.compat.pg.conftest import NODE_DIR, PgServer, require_command, start_pg_server, stop_pg_server

LONG_QUERY = "SELECT count(*) FROM generate_series(1, 100000000000) g"


def _alive(conn: psycopg.Connection, n: int = 7) -> None:  # type: ignore[type-arg]
    started = time.monotonic()
    assert conn.execute("SELECT %s::int4 * 2", [n]).fetchone() == (2 * n,)
    assert time.monotonic() - started < 10


@pytest.fixture
def bystander(pg_server: PgServer) -> Iterator[psycopg.Connection]:  # type: ignore[type-arg]
    conn = pg_server.connect()
    _alive(conn)
    yield conn
    _alive(conn, 8)
    conn.close()


def _startup(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(m.StartupMessage({"user": "postgres", "database": "postgres"}).encode())
    buf = b""
    while not buf.endswith(b"Z\x00\x00\x00\x05I"):
        chunk = sock.recv(65536)
        assert chunk, "closed during start-up"
        buf += chunk
    return sock


def _closes(sock: socket.socket, timeout: float = 30.0) -> bool:
    """True when the server closes the connection (whatever it says first) within ``timeout``."""
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
    except (ConnectionResetError, BrokenPipeError):
        pass
    except TimeoutError:
        return False
    return True


def _server_cpu_seconds(pid: int, window: float) -> float:
    proc = psutil.Process(pid)
    before = proc.cpu_times()
    time.sleep(window)
    after = proc.cpu_times()
    return (after.user - before.user) + (after.system - before.system)


def test_clients_vanishing_mid_query(pg_server: PgServer, bystander: psycopg.Connection) -> None:  # type: ignore[type-arg]
    pid = pg_server.process.proc.pid
    socks = []
    for _ in range(4):
        sock = _startup(pg_server.port)
        sock.sendall(m.Query(LONG_QUERY).encode())
        socks.append(sock)
    time.sleep(1.5)  # the four queries run (each would take hours)
    busy = _server_cpu_seconds(pid, 1.0)
    for sock in socks:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()  # a reset, mid-query
    _alive(bystander)
    time.sleep(2.0)  # cancellation reaches DuckDB
    # a query left running burns CPU in every window; a background job (a snapshot, compaction) in one
    quiet = [_server_cpu_seconds(pid, 1.0) for _ in range(3)]
    assert min(quiet) < 0.15, (
        f"the server still burns CPU after its clients left: {quiet} s/s (busy {busy:.2f})"
    )
    _alive(bystander)


@pytest.mark.parametrize(
    ("sql", "code"),
    [
        ("SELECT split_part('a,b', ',', 0)", "22023"),  # pgwire declares a FATAL 22023 of its own
        ("DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = '0A000'; END $$", "0A000"),
        ("DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = '28000'; END $$", "28000"),
        ("DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = '42P07'; END $$", "42P07"),  # a NOTICE's code too
        ("DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = '25001'; END $$", "25001"),  # and a WARNING's
    ],
)
def test_an_error_by_its_code_is_an_error_and_the_connection_stays(
    pg_server: PgServer,
    bystander: psycopg.Connection,
    sql: str,
    code: str,  # type: ignore[type-arg]
) -> None:
    """A function's or a RAISE's SQLSTATE that a FATAL, WARNING or NOTICE class declares too is still
    an ERROR: the statement fails and the connection goes on (it was closed, or no error at all)."""
    with pytest.raises(psycopg.Error) as caught:
        bystander.execute(sql)
    assert caught.value.diag.sqlstate == code
    assert caught.value.diag.severity == "ERROR"
    _alive(bystander)


def test_random_bytes(pg_server: PgServer, bystander: psycopg.Connection) -> None:  # type: ignore[type-arg]
    rng = random.Random(20240229)
    for i in range(30):
        data = rng.randbytes(rng.randint(1, 400))
        if i % 2:
            sock = _startup(pg_server.port)  # a started session, then garbage
        else:
            sock = socket.create_connection(("127.0.0.1", pg_server.port), timeout=30)  # garbage first
        with sock:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
            assert _closes(sock), data
    # a plausible header announcing a huge message, then silence: refused, not buffered
    with _startup(pg_server.port) as sock:
        sock.sendall(b"Q" + struct.pack("!i", 0x7FFFFFF0))
        assert _closes(sock)
    _alive(bystander)


# ---------------------------------------------------------------- passwords

USERS = {"alice": "s3cret", "bob": "pässwörd"}


@pytest.fixture(scope="module", params=["md5", "scram-sha-256"])
def auth_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PgServer]:
    workdir = tmp_path_factory.mktemp(f"auth-{request.param}")
    users = workdir / "users"
    users.write_text("".join(f"{u}:{p}\n" for u, p in USERS.items()))
    server = start_pg_server(
        workdir, env={"TSGRES_PG_AUTH_METHOD": request.param, "TSGRES_PG_PASSWORD_FILE": str(users)}
    )
    server.method = request.param  # type: ignore[attr-defined]
    try:
        yield server
    finally:
        stop_pg_server(server)


def test_wrong_passwords_libpq_and_asyncpg(auth_server: PgServer) -> None:
    method = auth_server.method  # type: ignore[attr-defined]

    def dsn(user: str, password: str) -> str:
        return auth_server.dsn(user=user, password=password, require_auth=method, connect_timeout="10")

    with psycopg.connect(dsn("alice", "s3cret"), autocommit=True) as bystander:
        for user, password in [("alice", "wrong"), ("alice", ""), ("bob", "passwort"), ("mallory", "s3cret")]:
            with pytest.raises(
                psycopg.OperationalError, match=f'password authentication failed for user "{user}"'
            ):
                psycopg.connect(dsn(user, password))
        with psycopg.connect(dsn("bob", "pässwörd"), autocommit=True) as bob:  # non-ASCII password
            assert bob.execute("SELECT current_user").fetchone() == ("bob",)

        async def with_asyncpg() -> None:
            kw = {"host": auth_server.host, "port": auth_server.port, "database": "postgres", "timeout": 10}
            for user in ("alice", "nobody"):
                with pytest.raises(asyncpg.InvalidPasswordError):
                    await asyncpg.connect(user=user, password="nope", **kw)
            conn = await asyncpg.connect(user="alice", password="s3cret", **kw)
            assert await conn.fetchval("SELECT $1::text", "in") == "in"
            await conn.close()

        asyncio.run(with_asyncpg())
        assert bystander.execute("SELECT 'still here'").fetchone() == ("still here",)


NODE_AUTH = """
const { Client } = require("pg");
async function attempt(password) {
  const c = new Client({ host: process.argv[1], port: Number(process.argv[2]), user: "alice", password,
                         database: "postgres", connectionTimeoutMillis: 10000 });
  try { await c.connect(); const r = await c.query("SELECT 41 + 1 AS x"); await c.end(); return r.rows[0].x; }
  catch (e) { return e.code || String(e); }
}
(async () => console.log(JSON.stringify([await attempt("wrong"), await attempt("s3cret")])))();
"""


def test_wrong_password_node_postgres(auth_server: PgServer) -> None:
    node = require_command("node")
    if not (NODE_DIR / "node_modules" / "pg").exists():
        from tests.compat.pg.test_node import _install_pg

        _install_pg()
    run = subprocess.run(
        [node, "-e", NODE_AUTH, auth_server.host, str(auth_server.port)],
        cwd=Path(NODE_DIR),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == ["28P01", 42]
