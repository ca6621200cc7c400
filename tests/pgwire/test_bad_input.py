"""Hostile and broken clients: each gets an error or a closed connection, and nobody else notices.

A well-behaved psycopg connection stays open across every test here and must keep answering.
"""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import subprocess
import time
from collections.abc import Callable

import psycopg
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pgwire import messages as m
from pgwire.server import tls_context
from tests.pgwire.conftest import RawClient, RunningServer


def _alive(conn: psycopg.Connection) -> None:  # type: ignore[type-arg]
    assert conn.execute("select 7").fetchone() == (7,)


@pytest.fixture
def bystander(server: RunningServer):  # type: ignore[no-untyped-def]
    conn = psycopg.connect(server.dsn(), autocommit=True)
    yield conn
    _alive(conn)
    conn.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(min_size=1, max_size=300))
def test_random_bytes_at_startup(server: RunningServer, bystander: psycopg.Connection, data: bytes) -> None:  # type: ignore[type-arg]
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        while s.recv(65536):
            pass  # the server answers (an error, 'N' ...) and closes, or closes at once
    _alive(bystander)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(min_size=1, max_size=300))
def test_random_bytes_after_startup(
    server: RunningServer, bystander: psycopg.Connection, data: bytes
) -> None:  # type: ignore[type-arg]
    c = RawClient(server.port)
    try:
        c.startup()
        c.send_raw(data)
        c.sock.shutdown(socket.SHUT_WR)
        assert c.closed()
    finally:
        c.close()
    _alive(bystander)


def test_truncated_message_then_vanish(server: RunningServer, bystander: psycopg.Connection) -> None:  # type: ignore[type-arg]
    c = RawClient(server.port)
    c.startup()
    c.send_raw(m.Query("select 1").encode()[:-3])
    c.close()
    time.sleep(0.1)
    _alive(bystander)


def test_oversized_messages(server: RunningServer, bystander: psycopg.Connection) -> None:  # type: ignore[type-arg]
    c = RawClient(server.port)
    c.send_raw(struct.pack("!i", 20_000) + b"\x00\x03\x00\x00")  # start-up packet over 10,000 bytes
    err = c.read()
    assert isinstance(err, m.ErrorResponse) and err.fields["C"] == "08P01"
    assert c.closed()
    c.close()
    c = RawClient(server.port)
    c.startup()
    c.send_raw(b"Q" + struct.pack("!i", (1 << 30) + 100))  # announced, never sent
    err = c.read()
    assert isinstance(err, m.ErrorResponse) and err.fields["C"] == "08P01" and err.fields["S"] == "FATAL"
    assert c.closed()
    c.close()
    _alive(bystander)


def test_a_message_in_the_wrong_state_is_a_violation(
    server: RunningServer, bystander: psycopg.Connection
) -> None:  # type: ignore[type-arg]
    c = RawClient(server.port)
    c.send(m.StartupMessage({"user": "u"}))
    c.until_ready()
    c.send(m.PasswordMessage("late password"))
    err = c.read()
    assert isinstance(err, m.ErrorResponse) and err.fields["C"] == "08P01"
    assert c.closed()
    c.close()


def test_client_vanishing_mid_query_cancels_it(server: RunningServer, bystander: psycopg.Connection) -> None:  # type: ignore[type-arg]
    c = RawClient(server.port)
    c.startup()
    c.send(m.Query("select count(*) from range(100000000000) a"))
    deadline = time.monotonic() + 10
    while (
        not any(x.handler and x.handler.running for x in list(server.pg._connections))
        and time.monotonic() < deadline
    ):
        time.sleep(0.02)
    c.close()
    deadline = time.monotonic() + 10
    while server.pg.connection_count() > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.pg.connection_count() == 1  # only the bystander is left: the query was cancelled
    _alive(bystander)


def test_client_vanishing_before_the_engine_begins_cancels_it(
    server: RunningServer,
    bystander: psycopg.Connection,  # type: ignore[type-arg]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The handler says a statement runs before the engine has begun it (on a loaded machine the pool
    thread may wait for a core in between): a client gone in that gap still cancels it. Here the
    engine begins only once the server has seen the connection close."""
    import threading

    from tests.pgwire.duck_session import DuckSession

    sql = "select count(*) from range(100000000000) b"
    gone = threading.Event()
    execute = DuckSession.execute

    def late_execute(self, statement, params):  # type: ignore[no-untyped-def]
        if statement.sql == sql:
            assert gone.wait(10)
        return execute(self, statement, params)

    monkeypatch.setattr(DuckSession, "execute", late_execute)
    c = RawClient(server.port)
    c.startup()
    c.send(m.Query(sql))
    deadline = time.monotonic() + 10
    running = []
    while not running and time.monotonic() < deadline:
        time.sleep(0.02)
        running = [x for x in list(server.pg._connections) if x.handler and x.handler.running]
    assert running
    c.close()
    while not running[0].lost and time.monotonic() < deadline:
        time.sleep(0.02)
    assert running[0].lost
    gone.set()
    deadline = time.monotonic() + 10
    while server.pg.connection_count() > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.pg.connection_count() == 1
    _alive(bystander)


def test_client_vanishing_mid_stream(server: RunningServer, bystander: psycopg.Connection) -> None:  # type: ignore[type-arg]
    c = RawClient(server.port)
    c.startup()
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.send(m.Query("select i, 'padding padding padding' from range(3000000) t(i)"))
    c.read()
    time.sleep(0.3)  # the server is now blocked on a full socket: it must not hold up anyone else
    started = time.monotonic()
    _alive(bystander)
    assert time.monotonic() - started < 2
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()  # a reset, mid-result
    deadline = time.monotonic() + 10
    while server.pg.connection_count() > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.pg.connection_count() == 1


def test_a_cancel_with_the_wrong_key_is_ignored(server: RunningServer, bystander: psycopg.Connection) -> None:  # type: ignore[type-arg]
    pid = bystander.info.backend_pid
    c = RawClient(server.port)
    c.send(m.CancelRequest(pid, 12345))
    assert c.closed()
    c.close()
    _alive(bystander)


FRONTEND_MESSAGES = st.one_of(
    st.builds(
        m.Query,
        st.sampled_from(["select 1", "", "select * from nope", "begin", "commit", "rollback", "select $1"]),
    ),
    st.builds(
        m.Parse,
        st.sampled_from(["", "a"]),
        st.sampled_from(["select 1", "select $1::int4", "bogus sql"]),
        st.just([]),
    ),
    st.builds(
        m.Bind,
        st.sampled_from(["", "p"]),
        st.sampled_from(["", "a"]),
        st.just([]),
        st.lists(st.none() | st.binary(max_size=4), max_size=2),
        st.lists(st.sampled_from([0, 1]), max_size=2),
    ),
    st.builds(m.Describe, st.sampled_from("SP"), st.sampled_from(["", "a", "p"])),
    st.builds(m.Execute, st.sampled_from(["", "p"]), st.integers(0, 2)),
    st.builds(m.Close, st.sampled_from("SP"), st.sampled_from(["", "a", "p"])),
    st.just(m.Flush()),
    st.just(m.Sync()),
    st.builds(m.CopyData, st.binary(max_size=8)),
    st.just(m.CopyDone()),
    st.builds(m.CopyFail, st.just("x")),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(FRONTEND_MESSAGES, max_size=12))
@example(
    msgs=[m.Query("begin"), m.Query("select * from nope")]
)  # leaves a failed block (hypothesis found it)
def test_random_message_sequences(
    server: RunningServer, bystander: psycopg.Connection, msgs: list[m.Message]
) -> None:  # type: ignore[type-arg]
    c = RawClient(server.port)
    try:
        c.startup()
        # the rollback ends a failed transaction block the messages may have left (begin, then an error)
        c.send(*msgs, m.Sync(), m.Query("rollback"), m.Query("select 'still here'"))
        # the connection either keeps working (and answers the last query) or is closed with an error
        seen = []
        while True:
            msg = c.read()
            if msg is None:
                assert any(isinstance(x, m.ErrorResponse) and x.fields["S"] == "FATAL" for x in seen), seen
                break
            seen.append(msg)
            if msg == m.DataRow([b"still here"]):
                break
    finally:
        c.close()
    _alive(bystander)


def test_many_idle_connections(server: RunningServer) -> None:
    async def main() -> None:
        opened = []
        for _ in range(500):
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(m.StartupMessage({"user": "u", "database": "db"}).encode())
            opened.append((reader, writer))
        for reader, _ in opened:
            data = b""
            while not data.endswith(b"Z\x00\x00\x00\x05I"):
                chunk = await asyncio.wait_for(reader.read(4096), 20)
                assert chunk
                data += chunk
        assert server.pg.connection_count() >= 500
        conn = await asyncio.to_thread(psycopg.connect, server.dsn(), autocommit=True)
        assert (await asyncio.to_thread(lambda: conn.execute("select 1").fetchone())) == (1,)
        conn.close()
        for _, writer in opened:
            writer.write(m.Terminate().encode())
            writer.close()
        await asyncio.gather(*(w.wait_closed() for _, w in opened), return_exceptions=True)

    asyncio.run(main())


def test_shutdown_tells_clients_57P01(make_server: Callable[..., RunningServer]) -> None:
    server = make_server()
    conn = psycopg.connect(server.dsn(), autocommit=True)
    server.stop()
    with pytest.raises(psycopg.OperationalError) as info:
        conn.execute("select 1")
    assert "terminating connection due to administrator command" in str(info.value) or conn.closed
    conn.close()


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    d = tmp_path_factory.mktemp("tls")
    key, crt = str(d / "server.key"), str(d / "server.crt")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            key,
            "-out",
            crt,
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    os.chmod(key, 0o600)
    return crt, key


def test_tls(make_server: Callable[..., RunningServer], cert: tuple[str, str]) -> None:
    server = make_server("scram-sha-256", {"alice": "pw"}, ssl_context=tls_context(*cert))
    with psycopg.connect(server.dsn("alice", password="pw", sslmode="require")) as conn:
        assert conn.pgconn.ssl_in_use
        assert conn.execute("select 'over tls'").fetchone() == ("over tls",)
    with psycopg.connect(server.dsn("alice", password="pw", sslmode="disable")) as conn:
        assert not conn.pgconn.ssl_in_use
    # bytes pipelined behind the SSLRequest are refused (CVE-2021-23214)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(m.SSLRequest().encode() + m.StartupMessage({"user": "alice"}).encode())
        reply = s.recv(1)
        assert reply in (b"E", b"")
