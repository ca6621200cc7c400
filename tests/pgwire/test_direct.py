"""Direct writes: a step running in a pool thread sends its output to the socket itself.

What must hold whichever thread writes: one write for a response whose first part was answered on the
loop, the order of pipelined answers, back-pressure from a client that does not read (the loop holds
what the socket refused, the pool thread is let go, memory stays bounded, other connections answer),
a cancel in the middle of a stream, an error after rows were sent, and no direct writes under TLS.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator

import psycopg
import pytest

from pgwire import messages as m
from pgwire.server import ServerOptions, tls_context
from tests.pgwire.conftest import RawClient, RunningServer, start_server
from tests.pgwire.test_bad_input import cert  # noqa: F401  (fixture)
from tests.pgwire.test_inline import ImmediateSession


@pytest.fixture
def inline_server() -> Iterator[RunningServer]:
    ImmediateSession.threads = []
    s = start_server(session_class=ImmediateSession)
    yield s
    s.stop()


def _connection(server: RunningServer, index: int = -1):  # type: ignore[no-untyped-def]
    conns = sorted(server.pg._connections, key=lambda c: c.pid)
    return conns[index]


def _direct_writes(conn) -> int:  # type: ignore[no-untyped-def]
    with conn.wlock:  # a pool thread counts its write before it lets go of the lock
        return int(conn.direct_writes)


def _client(server: RunningServer) -> RawClient:
    c = RawClient(server.port)
    c.startup()
    c.send(m.Query("select 1"))
    c.until_ready()  # the connection's task is back to waiting (start-up's answer may come first)
    return c


def _rows(answer: list[m.Message]) -> list[list[bytes | None]]:
    return [x.values for x in answer if isinstance(x, m.DataRow)]


def test_a_response_that_starts_on_the_loop_is_one_write_from_the_pool(inline_server: RunningServer) -> None:
    """Bind is answered on the loop, Execute of a statement that is not immediate in the pool:
    BindComplete goes out with the rows, CommandComplete and ReadyForQuery, in one write."""
    c = _client(inline_server)
    c.send(m.Parse("s", "select 2 as x", []), m.Sync())
    c.until_ready()
    conn = _connection(inline_server)
    loop_writes: list[bytes] = []
    original = conn._write

    def record(data: bytes) -> None:
        loop_writes.append(data)
        original(data)

    conn._write = record
    try:
        for _ in range(5):
            before = _direct_writes(conn)
            c.send(m.Bind("", "s", [], [], []), m.Execute("", 0), m.Sync())
            answer = c.until_ready()
            assert [type(x) for x in answer] == [
                m.BindComplete,
                m.DataRow,
                m.CommandComplete,
                m.ReadyForQuery,
            ]
            assert _rows(answer) == [[b"2"]]
            assert _direct_writes(conn) == before + 1
        assert loop_writes == []
    finally:
        conn._write = original
        c.close()


def test_without_direct_writes_the_loop_writes_the_same_bytes() -> None:
    answers = []
    for direct in (True, False):
        s = start_server(ServerOptions(direct_writes=direct), session_class=ImmediateSession)
        try:
            c = _client(s)
            c.send(m.Query("select 1; select i from range(5) t(i); select 'a' || 'b'"))
            answers.append(c.until_ready())
            assert (_direct_writes(_connection(s)) > 0) is direct
            c.close()
        finally:
            s.stop()
    assert answers[0] == answers[1]
    assert _rows(answers[0]) == [[b"1"], [b"0"], [b"1"], [b"2"], [b"3"], [b"4"], [b"ab"]]


def test_pipelined_requests_are_answered_in_order(inline_server: RunningServer) -> None:
    """Loop steps, pool steps with direct writes, errors and Flush, all sent at once: answers in order."""
    c = _client(inline_server)
    msgs: list[m.Message] = []
    expected: list[object] = []
    for i in range(60):
        kind = i % 5
        if kind == 0:
            msgs.append(m.Query("select 1"))
            expected.append([[b"1"]])
        elif kind == 1:
            msgs.append(m.Query(f"select {i} + 0"))
            expected.append([[str(i).encode()]])
        elif kind == 2:
            msgs += [m.Parse("", f"select i * {i} from range(3) t(i)", []), m.Bind("", "", [], [], [])]
            msgs += [m.Execute("", 0), m.Flush(), m.Sync()]
            expected.append([[b"0"], [str(i).encode()], [str(2 * i).encode()]])
        elif kind == 3:
            msgs.append(m.Query("select * from no_such_table"))
            expected.append("error")
        else:
            msgs.append(m.Query(f"select repeat('x', {i * 1000})"))
            expected.append([[b"x" * (i * 1000)]])
    c.send(*msgs)
    for want in expected:
        answer = c.until_ready()
        if want == "error":
            assert any(isinstance(x, m.ErrorResponse) for x in answer)
        else:
            assert _rows(answer) == want
        assert answer[-1] == m.ReadyForQuery("I")
    c.send(m.Query("select 3"))
    assert _rows(c.until_ready()) == [[b"3"]]
    c.close()


def _data_row_count(sock: socket.socket, buf: bytes) -> tuple[int, bool, bytes, list[m.Message]]:
    """Read messages off ``sock`` until ReadyForQuery: (DataRows, ended, leftover, other messages)."""
    rows = 0
    others: list[m.Message] = []
    data = bytearray(buf)
    pos = 0
    while True:
        while len(data) - pos >= 5:
            (length,) = struct.unpack_from("!i", data, pos + 1)
            if len(data) - pos < 1 + length:
                break
            code = bytes(data[pos : pos + 1])
            if code == b"D":
                rows += 1
            else:
                msg = m.decode_backend(code, bytes(data[pos + 5 : pos + 1 + length]))
                others.append(msg)
                if isinstance(msg, m.ReadyForQuery):
                    return rows, True, bytes(data[pos + 1 + length :]), others
            pos += 1 + length
        del data[:pos]
        pos = 0
        chunk = sock.recv(1 << 20)
        if not chunk:
            return rows, False, bytes(data), others
        data += chunk


def test_a_reader_that_does_not_read_holds_no_pool_thread_and_bounded_memory(
    inline_server: RunningServer,
) -> None:
    slow = _client(inline_server)
    slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    conn = _connection(inline_server)
    n = 3_000_000
    slow.send(m.Query(f"select i, 'some text ' || i from range({n}) t(i)"))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # the socket is full: what it refused waits in the transport
        time.sleep(0.2)
        if conn.transport.get_write_buffer_size() > 0 and not conn.can_write.is_set():
            break
    assert not conn.can_write.is_set(), "the server never waited for the client to read"
    time.sleep(0.5)
    assert conn.fd == -1  # no pool thread holds the socket: the step waits on the loop
    assert conn.transport.get_write_buffer_size() < 4 * 2**20  # one batch, not the result
    sent_then = conn.direct_writes
    other = _client(inline_server)  # the loop and the pool serve others meanwhile
    for sql, want in (("select 1", b"1"), ("select 41 + 1", b"42")):
        t0 = time.monotonic()
        other.send(m.Query(sql))
        assert _rows(other.until_ready()) == [[want]]
        assert time.monotonic() - t0 < 5
    other.close()
    assert conn.direct_writes == sent_then  # still nothing more sent while the client does not read
    rows, ended, _, others = _data_row_count(slow.sock, slow.buf)
    assert ended and rows == n
    assert [type(x) for x in others] == [m.RowDescription, m.CommandComplete, m.ReadyForQuery]
    assert conn.direct_writes > sent_then  # reading again, the socket was written from the pool again
    slow.send(m.Query("select 1"))
    assert _rows(slow.until_ready()) == [[b"1"]]
    slow.close()


def test_a_cancel_in_the_middle_of_a_stream(inline_server: RunningServer) -> None:
    c = _client(inline_server)
    conn = _connection(inline_server)
    c.send(m.Query("select i, repeat('y', 50) from range(200000000) t(i)"))
    first = c.sock.recv(1 << 16)  # rows are flowing
    assert first
    while conn.direct_writes == 0:
        c.buf += c.sock.recv(1 << 16)
    with socket.create_connection(("127.0.0.1", inline_server.port), timeout=10) as s:
        s.sendall(m.CancelRequest(conn.pid, conn.key).encode())
    rows, ended, _, others = _data_row_count(c.sock, c.buf + first)
    assert ended and 0 < rows < 200_000_000
    errors = [x for x in others if isinstance(x, m.ErrorResponse)]
    assert len(errors) == 1 and dict(errors[0].fields)["C"] == "57014"
    assert others[-1] == m.ReadyForQuery("I")
    c.buf = b""
    c.send(m.Query("select 5 + 1"))
    assert _rows(c.until_ready()) == [[b"6"]]
    c.close()


def test_an_error_after_rows_were_sent(inline_server: RunningServer) -> None:
    """Rows already went out from the pool; the error follows them, then ReadyForQuery, and the
    connection goes on (simple and extended protocol)."""
    inline_server.db.execute("set threads = 1")  # rows in order: the failing ones come last
    c = _client(inline_server)
    sql = (
        "select case when i < 150000 then i::varchar else error('boom at ' || i) end from range(400000) t(i)"
    )
    for extended in (False, True):
        if extended:
            c.send(m.Parse("", sql, []), m.Bind("", "", [], [], []), m.Execute("", 0), m.Sync())
        else:
            c.send(m.Query(sql))
        rows, ended, c.buf, others = _data_row_count(c.sock, c.buf)
        assert ended and rows > 0
        errors = [x for x in others if isinstance(x, m.ErrorResponse)]
        assert len(errors) == 1 and "boom" in dict(errors[0].fields)["M"]
        assert others[-1] == m.ReadyForQuery("I")
        c.send(m.Query("select 7"))
        assert _rows(c.until_ready()) == [[b"7"]]
    assert _connection(inline_server).direct_writes > 0
    c.close()


def test_row_limits_resume_in_order(inline_server: RunningServer) -> None:
    c = _client(inline_server)
    c.send(m.Query("begin"))
    c.until_ready()
    c.send(m.Parse("", "select i from range(10) t(i)", []), m.Bind("p", "", [], [], []))
    c.send(*[m.Execute("p", 3) for _ in range(4)], m.Execute("p", 3), m.Sync())
    answer = c.until_ready()
    assert _rows(answer) == [[str(i).encode()] for i in range(10)]
    kinds = [type(x).__name__ for x in answer if not isinstance(x, m.DataRow)]
    assert kinds == ["ParseComplete", "BindComplete"] + ["PortalSuspended"] * 3 + ["CommandComplete"] * 2 + [
        "ReadyForQuery"
    ]
    c.send(m.Query("commit"))
    assert c.until_ready()[-1] == m.ReadyForQuery("I")
    c.close()


def test_no_direct_writes_under_tls(make_server: Callable[..., RunningServer], cert: tuple[str, str]) -> None:  # noqa: F811
    server = make_server("trust", ssl_context=tls_context(*cert))
    with psycopg.connect(server.dsn(sslmode="require"), autocommit=True) as conn:
        assert conn.pgconn.ssl_in_use
        for i in range(3):
            assert conn.execute(f"select i from range({i + 2}) t(i)").fetchall() == [
                (j,) for j in range(i + 2)
            ]
        [pg] = list(server.pg._connections)
        assert pg.direct_writes == 0 and pg.fd == -1 and pg.raw_fd == -1


def test_many_clients_with_direct_writes(inline_server: RunningServer) -> None:
    failures: list[BaseException] = []

    def work(k: int) -> None:
        try:
            with psycopg.connect(inline_server.dsn(), autocommit=True) as conn:
                for i in range(40):
                    assert conn.execute(f"select {k} * 1000 + {i}").fetchone() == (k * 1000 + i,)
                    assert len(conn.execute(f"select i from range({i * 50}) t(i)").fetchall()) == i * 50
        except BaseException as e:
            failures.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not failures
