"""The state machine on its own (sans I/O), then the protocol bookkeeping over a real socket with a raw
client: start-up, simple and extended query, portals and row limits, errors and Sync."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pgwire import messages as m
from pgwire.errors import ProtocolViolation, error_fields
from pgwire.protocol import Connection, State
from sql.errors import SyntaxError_
from tests.pgwire.conftest import RawClient, RunningServer

PG15_STARTUP_PARAMETERS = {
    "application_name",
    "client_encoding",
    "DateStyle",
    "default_transaction_read_only",
    "in_hot_standby",
    "integer_datetimes",
    "IntervalStyle",
    "is_superuser",
    "server_encoding",
    "server_version",
    "session_authorization",
    "standard_conforming_strings",
    "TimeZone",
}


# ---------------------------------------------------------------- sans I/O


def test_startup_packet_arrives_in_pieces() -> None:
    c = Connection()
    raw = m.StartupMessage({"user": "u"}).encode()
    for b in raw[:-1]:
        c.receive_data(bytes([b]))
        assert c.next_message() is None
    c.receive_data(raw[-1:])
    assert c.next_message() == m.StartupMessage({"user": "u"})


def test_many_messages_in_pieces_across_buffer_compaction() -> None:
    """Parsed bytes are dropped in bulk (protocol.COMPACT_BYTES): a burst of small messages arriving in
    odd-sized pieces still comes out whole and in order, and nothing stays buffered."""
    c = Connection()
    c.ready()
    sqls = [f"select {i}, '{'x' * (i % 97)}'" for i in range(3000)]
    data = b"".join(m.Query(q).encode() for q in sqls)
    assert len(data) > 3 * 64 * 1024
    got: list[str] = []
    pos, step = 0, 1
    while pos < len(data):
        c.receive_data(data[pos : pos + step])
        pos += step
        step = step * 7 % 70_001 + 1
        while (msg := c.next_message()) is not None:
            assert isinstance(msg, m.Query)
            got.append(msg.sql)
    assert got == sqls
    assert c.buffered() == 0


def test_startup_packet_limit() -> None:
    c = Connection()
    c.receive_data((10_001).to_bytes(4, "big") + b"\x00\x03\x00\x00")
    with pytest.raises(ProtocolViolation):
        c.next_message()
    c = Connection()
    c.receive_data((4).to_bytes(4, "big"))
    with pytest.raises(ProtocolViolation):
        c.next_message()


def test_message_size_limit_is_checked_before_the_body_arrives() -> None:
    c = Connection(max_message_bytes=1000)
    c.state = State.READY
    c.receive_data(b"Q" + (2001).to_bytes(4, "big"))
    with pytest.raises(ProtocolViolation):
        c.next_message()


@pytest.mark.parametrize(
    "state, msg",
    [
        (State.AUTHENTICATING, m.Query("select 1")),
        (State.COPY_IN, m.Query("select 1")),
        (State.COPY_IN, m.Parse("", "x")),
        (State.READY, m.PasswordData(b"pw\x00")),
    ],
)
def test_messages_not_allowed_in_a_state(state: State, msg: m.Message) -> None:
    c = Connection()
    c.state = state
    c.receive_data(msg.encode())
    with pytest.raises(ProtocolViolation):
        c.next_message()


def test_unknown_message_type() -> None:
    c = Connection()
    c.state = State.READY
    c.receive_data(b"!\x00\x00\x00\x04")
    with pytest.raises(ProtocolViolation, match="invalid frontend message type 33"):
        c.next_message()


def test_failed_state_drops_everything_until_sync() -> None:
    c = Connection()
    c.state = State.READY
    c.extended()
    assert c.state is State.EXTENDED
    c.fail()
    c.receive_data(b"".join(x.encode() for x in (m.Bind(), m.Execute(), m.Query("x"), m.Sync(), m.Execute())))
    assert c.next_message() == m.Sync()
    c.ready()
    assert c.next_message() == m.Execute()
    assert c.next_message() is None


def test_transitions_and_output() -> None:
    c = Connection()
    assert c.state is State.STARTUP
    c.start_authenticating()
    assert c.state is State.AUTHENTICATING
    with pytest.raises(ProtocolViolation):
        c.start_authenticating()
    c.ready()
    c.send(m.ReadyForQuery("I"))
    assert c.data_to_send() == b"Z\x00\x00\x00\x05I" and c.data_to_send() == b""
    c.copy_in()
    assert c.state is State.COPY_IN
    c.close()
    c.receive_data(m.Query("x").encode())
    assert c.next_message() is None and c.state is State.CLOSED


def test_error_fields() -> None:
    e = SyntaxError_('syntax error at or near "selec"', detail="d", hint="h", position=1)
    assert error_fields(e) == {
        "S": "ERROR",
        "V": "ERROR",
        "C": "42601",
        "M": 'syntax error at or near "selec"',
        "D": "d",
        "H": "h",
        "P": "1",
    }
    assert error_fields(ValueError("boom"))["C"] == "XX000"
    assert error_fields(ProtocolViolation("x"))["S"] == "FATAL"


# ---------------------------------------------------------------- over a socket


def _types(msgs: list[m.Message]) -> list[str]:
    return [type(x).__name__ for x in msgs]


def test_startup_reports_parameters_and_key(raw: Callable[[], RawClient]) -> None:
    c = raw()
    msgs = c.startup(application_name="tests", client_encoding="utf-8")
    assert isinstance(msgs[0], m.AuthenticationOk)
    params = {x.name: x.value for x in msgs if isinstance(x, m.ParameterStatus)}
    assert PG15_STARTUP_PARAMETERS <= set(params)
    assert params["server_version"].startswith("15.")
    assert params["client_encoding"] == "UTF8" and params["application_name"] == "tests"
    assert params["DateStyle"] == "ISO, MDY" and params["integer_datetimes"] == "on"
    [key] = [x for x in msgs if isinstance(x, m.BackendKeyData)]
    assert key.process_id > 0
    assert msgs[-1] == m.ReadyForQuery("I")


def test_ssl_and_gss_requests_are_declined_without_a_certificate(raw: Callable[[], RawClient]) -> None:
    c = raw()
    c.send(m.SSLRequest())
    assert c.read_byte() == b"N"
    c.send(m.GSSENCRequest())
    assert c.read_byte() == b"N"
    assert c.startup()[-1] == m.ReadyForQuery("I")


def test_unknown_database_is_fatal_3D000(raw: Callable[[], RawClient]) -> None:
    c = raw()
    c.send(m.StartupMessage({"user": "u", "database": "nonexistent"}))
    msgs = c.until_ready()
    err = msgs[-1]
    assert isinstance(err, m.ErrorResponse) and err.fields["C"] == "3D000" and err.fields["S"] == "FATAL"
    assert c.closed()


def test_missing_user_is_fatal(raw: Callable[[], RawClient]) -> None:
    c = raw()
    c.send(m.StartupMessage({"database": "db"}))
    [err] = c.until_ready()
    assert isinstance(err, m.ErrorResponse) and err.fields["C"] == "28000"


def test_newer_minor_version_is_negotiated_down(raw: Callable[[], RawClient]) -> None:
    c = raw()
    c.send(m.StartupMessage({"user": "u", "_pq_.compression": "on"}, version=(3 << 16) | 2))
    msgs = c.until_ready()
    assert msgs[0] == m.NegotiateProtocolVersion(0, ["_pq_.compression"])
    assert msgs[-1] == m.ReadyForQuery("I")


def test_simple_query_empty_multi_and_errors(raw: Callable[[], RawClient]) -> None:
    c = raw()
    c.startup()
    c.send(m.Query(""))
    assert _types(c.until_ready()) == ["EmptyQueryResponse", "ReadyForQuery"]
    c.send(m.Query("-- only a comment\n/* and another */"))
    assert _types(c.until_ready()) == ["EmptyQueryResponse", "ReadyForQuery"]
    c.send(m.Query("select 1 as a; select 'x' as b, 2 as c"))
    msgs = c.until_ready()
    assert _types(msgs) == ["RowDescription", "DataRow", "CommandComplete"] * 2 + ["ReadyForQuery"]
    assert msgs[1] == m.DataRow([b"1"]) and msgs[2] == m.CommandComplete("SELECT 1")
    assert [f.name for f in msgs[3].fields] == ["b", "c"]  # type: ignore[attr-defined]
    assert [f.type_oid for f in msgs[3].fields] == [25, 23]  # type: ignore[attr-defined]
    c.send(
        m.Query(
            "create table t (a int); insert into t values (1); select * from nope; insert into t values (2)"
        )
    )
    msgs = c.until_ready()
    assert _types(msgs) == ["CommandComplete", "CommandComplete", "ErrorResponse", "ReadyForQuery"]
    assert msgs[2].fields["C"] == "42P01"  # type: ignore[attr-defined]
    # the statements ran in one implicit transaction: the failure undid the table
    c.send(m.Query("select count(*) from t"))
    msgs = c.until_ready()
    assert isinstance(msgs[0], m.ErrorResponse) and msgs[0].fields["C"] == "42P01"


def test_transaction_status_in_ready_for_query(raw: Callable[[], RawClient]) -> None:
    c = raw()
    c.startup()
    c.send(m.Query("begin"))
    assert c.until_ready()[-1] == m.ReadyForQuery("T")
    c.send(m.Query("select * from nope"))
    assert c.until_ready()[-1] == m.ReadyForQuery("E")
    c.send(m.Query("select 1"))
    msgs = c.until_ready()
    assert msgs[0].fields["C"] == "25P02" and msgs[-1] == m.ReadyForQuery("E")  # type: ignore[attr-defined]
    c.send(m.Query("rollback"))
    assert c.until_ready() == [m.CommandComplete("ROLLBACK"), m.ReadyForQuery("I")]


def test_set_resends_parameter_status(raw: Callable[[], RawClient]) -> None:
    c = raw()
    c.startup()
    c.send(m.Query("set application_name = 'renamed'"))
    msgs = c.until_ready()
    assert m.ParameterStatus("application_name", "renamed") in msgs
    c.send(m.Query("set TimeZone = 'Asia/Kolkata'"))
    assert m.ParameterStatus("TimeZone", "Asia/Kolkata") in c.until_ready()
    c.send(m.Query("select TIMESTAMPTZ '2016-01-01 00:00:00+00' as t"))
    msgs = c.until_ready()
    assert msgs[1] == m.DataRow([b"2016-01-01 05:30:00+05:30"])


def test_extended_query_full_cycle(raw: Callable[[], RawClient]) -> None:
    c = raw()
    c.startup()
    c.send(
        m.Parse("s1", "select $1::int4 + 1 as x, $2::text as y", [23, 0]),
        m.Describe("S", "s1"),
        m.Bind("p1", "s1", [1, 0], [(41).to_bytes(4, "big"), b"hi"], [1, 0]),
        m.Describe("P", "p1"),
        m.Execute("p1", 0),
        m.Sync(),
    )
    msgs = c.until_ready()
    assert _types(msgs) == [
        "ParseComplete",
        "ParameterDescription",
        "RowDescription",
        "BindComplete",
        "RowDescription",
        "DataRow",
        "CommandComplete",
        "ReadyForQuery",
    ]
    assert msgs[1] == m.ParameterDescription([23, 25])
    assert [f.format for f in msgs[2].fields] == [0, 0]  # type: ignore[attr-defined]
    assert [f.format for f in msgs[4].fields] == [1, 0]  # type: ignore[attr-defined]
    assert [f.type_size for f in msgs[4].fields] == [4, -1]  # type: ignore[attr-defined]
    assert msgs[5] == m.DataRow([(42).to_bytes(4, "big"), b"hi"])
    # the named statement is reused; the portal is gone after Sync outside a transaction
    c.send(m.Bind("", "s1", [], [b"1", b"a"], []), m.Execute("", 0), m.Execute("p1", 0), m.Sync())
    msgs = c.until_ready()
    assert _types(msgs) == ["BindComplete", "DataRow", "CommandComplete", "ErrorResponse", "ReadyForQuery"]
    assert msgs[1] == m.DataRow([b"2", b"a"]) and msgs[3].fields["C"] == "34000"  # type: ignore[attr-defined]


def test_describe_of_a_statement_without_rows_is_nodata(raw: Callable[[], RawClient]) -> None:
    c = raw()
    c.startup()
    c.send(
        m.Parse("", "create table e (a int)"),
        m.Describe("S", ""),
        m.Bind(),
        m.Describe("P", ""),
        m.Execute(),
        m.Sync(),
    )
    msgs = c.until_ready()
    assert _types(msgs) == [
        "ParseComplete",
        "ParameterDescription",
        "NoData",
        "BindComplete",
        "NoData",
        "CommandComplete",
        "ReadyForQuery",
    ]
    assert msgs[5] == m.CommandComplete("CREATE TABLE")


def test_row_limit_suspends_and_resumes(raw: Callable[[], RawClient]) -> None:
    c = raw()
    c.startup()
    c.send(m.Query("begin"))
    c.until_ready()
    c.send(
        m.Parse("", "select * from range(5) t(i)"), m.Bind("c", "", [], [], [0]), m.Execute("c", 2), m.Flush()
    )
    msgs = [c.read() for _ in range(5)]
    assert _types(msgs) == ["ParseComplete", "BindComplete", "DataRow", "DataRow", "PortalSuspended"]  # type: ignore[arg-type]
    c.send(m.Execute("c", 2), m.Execute("c", 2), m.Execute("c", 2), m.Sync())
    msgs = c.until_ready()
    assert _types(msgs) == [
        "DataRow",
        "DataRow",
        "PortalSuspended",
        "DataRow",
        "CommandComplete",
        "CommandComplete",
        "ReadyForQuery",
    ]
    assert msgs[3] == m.DataRow([b"4"]) and msgs[4] == m.CommandComplete("SELECT 1")
    assert msgs[-1] == m.ReadyForQuery("T")
    c.send(m.Query("commit"))
    c.until_ready()


def test_error_discards_until_sync(raw: Callable[[], RawClient]) -> None:
    c = raw()
    c.startup()
    c.send(
        m.Parse("", "select * from nope"),
        m.Bind(),
        m.Execute(),
        m.Parse("", "select 1"),
        m.Sync(),
        m.Parse("", "select 2"),
        m.Bind(),
        m.Execute(),
        m.Sync(),
    )
    first = c.until_ready()
    assert _types(first) == ["ErrorResponse", "ReadyForQuery"]
    second = c.until_ready()
    assert _types(second) == ["ParseComplete", "BindComplete", "DataRow", "CommandComplete", "ReadyForQuery"]


@pytest.mark.parametrize(
    "msgs, code",
    [
        ([m.Parse("a", "select 1"), m.Parse("a", "select 2")], "42P05"),
        ([m.Bind("", "missing")], "26000"),
        ([m.Describe("S", "missing")], "26000"),
        ([m.Describe("P", "missing")], "34000"),
        ([m.Execute("missing")], "34000"),
        ([m.Parse("", "select $1::int4"), m.Bind("", "", [], [b"abc"])], "22P02"),
        ([m.Parse("", "select $1::int4"), m.Bind("", "", [1], [b"ab"])], "22P03"),
    ],
)
def test_extended_errors(raw: Callable[[], RawClient], msgs: list[m.Message], code: str) -> None:
    c = raw()
    c.startup()
    c.send(*msgs, m.Sync())
    got = c.until_ready()
    [err] = [x for x in got if isinstance(x, m.ErrorResponse)]
    assert err.fields["C"] == code and err.fields["S"] == "ERROR"
    assert got[-1] == m.ReadyForQuery("I")
    c.send(m.Query("select 1"))
    assert _types(c.until_ready())[-1] == "ReadyForQuery"


@pytest.mark.parametrize(
    ("bind", "code"),
    [
        (m.Bind("", "", [], [b"1", b"2"]), "08P01"),  # too many parameters
        (m.Bind("", "", [0, 1, 0], [b"1"]), "08P01"),  # three formats for one parameter
        (m.Bind("", "", [], [b"1"], [0, 1, 1]), "08P01"),  # three result formats for one column
        (m.Bind("", "", [7], [b"1"]), "22023"),  # no such format
    ],
)
def test_bind_mismatches_are_errors_the_connection_survives(
    raw: Callable[[], RawClient], bind: m.Bind, code: str
) -> None:
    """As PostgreSQL's exec_bind_message: an ERROR, the rest of the request skipped to Sync."""
    c = raw()
    c.startup()
    c.send(m.Parse("", "select $1::int4 as a"), bind, m.Execute("", 0), m.Sync())
    msgs = c.until_ready()
    assert _types(msgs) == ["ParseComplete", "ErrorResponse", "ReadyForQuery"]
    err = msgs[1]
    assert isinstance(err, m.ErrorResponse) and err.fields["C"] == code and err.fields["S"] == "ERROR"
    c.send(m.Query("select 1"))
    assert _types(c.until_ready())[-1] == "ReadyForQuery"


def test_close_and_function_call(raw: Callable[[], RawClient]) -> None:
    c = raw()
    c.startup()
    c.send(m.Parse("s", "select 1"), m.Close("S", "s"), m.Close("P", "never"), m.Bind("", "s"), m.Sync())
    msgs = c.until_ready()
    assert _types(msgs) == [
        "ParseComplete",
        "CloseComplete",
        "CloseComplete",
        "ErrorResponse",
        "ReadyForQuery",
    ]
    c.send(m.FunctionCall(1, [], [], 0))
    msgs = c.until_ready()
    assert msgs[0].fields["C"] == "0A000" and msgs[-1] == m.ReadyForQuery("I")  # type: ignore[attr-defined]


def test_copy_messages_outside_copy_are_ignored_and_terminate_closes(raw: Callable[[], RawClient]) -> None:
    c = raw()
    c.startup()
    c.send(m.CopyData(b"x"), m.CopyDone(), m.CopyFail("y"), m.Query("select 1"))
    assert _types(c.until_ready()) == ["RowDescription", "DataRow", "CommandComplete", "ReadyForQuery"]
    c.send(m.Terminate())
    assert c.closed()


def test_parameter_status_server_knows_connections(
    server: RunningServer, raw: Callable[[], RawClient]
) -> None:
    a, b = raw(), raw()
    a.startup()
    b.startup()
    assert server.pg.connection_count() == 2


def test_half_closed_client_gets_the_answer_of_a_running_statement(raw: Callable[[], RawClient]) -> None:
    """The EOF comes while the statement runs (a tenth of a second or so): it still finishes and is
    answered (before, the connection was closed at once and the answer lost)."""
    import socket

    c = raw()
    c.startup()
    c.send(m.Query("SELECT count(*) FROM range(60000000) t(x) WHERE x % 7 = 3"))
    c.sock.shutdown(socket.SHUT_WR)
    msgs = c.until_ready()
    assert m.DataRow([b"8571429"]) in msgs and msgs[-1] == m.ReadyForQuery("I")
    assert c.closed()


def test_half_closed_client_long_statement_is_cancelled(
    server: RunningServer, raw: Callable[[], RawClient]
) -> None:
    """A killed client's kernel half-closes too: a statement still running EOF_GRACE_S after the EOF
    is taken to be for nobody, the connection dropped and the statement cancelled."""
    import socket
    import time

    c = raw()
    c.startup()
    c.send(m.Query("SELECT count(*) FROM range(1000000000000) t(x) WHERE x % 7 = 3"))
    c.sock.shutdown(socket.SHUT_WR)
    started = time.monotonic()
    assert c.closed()
    assert time.monotonic() - started < 8
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(
        x.handler is not None and x.handler.running for x in list(server.pg._connections)
    ):
        time.sleep(0.05)
    assert not any(x.handler is not None and x.handler.running for x in list(server.pg._connections))


def test_half_closed_client_still_gets_its_answer(raw: Callable[[], RawClient]) -> None:
    import socket

    c = raw()
    c.startup()
    c.send(m.Query("select 42"))
    c.sock.shutdown(socket.SHUT_WR)
    msgs = c.until_ready()
    assert m.DataRow([b"42"]) in msgs and msgs[-1] == m.ReadyForQuery("I")
    assert c.closed()


def test_output_is_queued_as_chunks_and_taken_once():
    """Messages, bytes and read-only views (encode_data_rows' buffers) come out in order as one bytes
    object; pending_output counts them; taking the output empties the queue."""
    import numpy as np

    from pgwire import messages as msgs

    conn = Connection()
    assert conn.pending_output() == 0 and conn.data_to_send() == b""
    rows = np.frombuffer(b"D\x00\x00\x00\x06\x00\x00", np.uint8)
    view = memoryview(rows)  # read-only, like encode_data_rows' answer
    conn.send(msgs.CommandComplete("SELECT 1"))
    conn.send_bytes(view)
    conn.send_bytes(b"")
    conn.send_bytes(b"Z\x00\x00\x00\x05I")
    want = msgs.CommandComplete("SELECT 1").encode() + bytes(view) + b"Z\x00\x00\x00\x05I"
    assert conn.pending_output() == len(want)
    out = conn.data_to_send()
    assert type(out) is bytes and out == want
    assert conn.pending_output() == 0 and conn.data_to_send() == b""
    conn.send_bytes(b"only")
    assert conn.data_to_send() == b"only"


def test_take_output_hands_the_chunks_over_as_queued() -> None:
    """The transport takes a step's output as it was queued: the DataRows buffer (a read-only view) is the
    same object, not a copy joined with the rest (writev sends the chunks); the queue is emptied."""
    import numpy as np

    from pgwire import messages as msgs
    from pgwire.server import _rest

    conn = Connection()
    view = memoryview(np.frombuffer(b"D\x00\x00\x00\x06\x00\x00", np.uint8))
    conn.send(msgs.CommandComplete("SELECT 1"))
    conn.send_bytes(view)
    chunks = conn.take_output()
    assert len(chunks) == 2 and chunks[1] is view
    assert conn.pending_output() == 0 and conn.take_output() == [] and conn.data_to_send() == b""
    whole = b"".join(chunks)
    for n in range(len(whole) + 1):  # what a partial writev leaves, at every split
        assert b"".join(_rest(chunks, n)) == whole[n:]


def test_a_large_result_goes_out_in_growing_pieces() -> None:
    """The handler encodes a large result in pieces of FIRST_PIECE_ROWS, then twice as many each time, and
    yields to the transport once FLUSH_BYTES are waiting: the client gets its first rows before the rest
    is encoded (one 32 Ki-row batch encoded whole before anything went out, before), and every row once,
    in order."""
    from pgwire.auth import AuthConfig
    from pgwire.handlers import BATCH_ROWS, FIRST_PIECE_ROWS, FLUSH_BYTES, Handler
    from tests.pgwire.duck_session import session_factory

    conn = Connection()
    handler = Handler(conn, session_factory(), AuthConfig("trust"))
    conn.receive_data(m.StartupMessage({"user": "u", "database": "db"}).encode())
    for _ in handler.run():
        pass
    conn.data_to_send()
    n = 3 * BATCH_ROWS
    conn.receive_data(m.Query(f"select i::int8 as i, repeat('x', 200) as pad from range({n}) t(i)").encode())
    chunks = []
    for _ in handler.run():
        chunks.append(conn.data_to_send())
    chunks.append(conn.data_to_send())
    rows_per_chunk = [c.count(b"D\x00\x00") for c in chunks]  # each DataRow here starts with D, 0, 0
    assert sum(rows_per_chunk) == n
    row_bytes = len(m.DataRow([b"0", b"x" * 200]).encode())
    first_pieces = -(-FLUSH_BYTES // (FIRST_PIECE_ROWS * row_bytes))  # pieces until the first yield
    assert rows_per_chunk[0] <= FIRST_PIECE_ROWS * (2**first_pieces - 1) < BATCH_ROWS
    assert rows_per_chunk[1] > rows_per_chunk[0]  # the pieces grow
    values = [
        int(msg.values[0])  # type: ignore[attr-defined]
        for msg in _decode_all(b"".join(chunks))
        if isinstance(msg, m.DataRow)
    ]
    assert values == list(range(n))


def _decode_all(data: bytes) -> list[m.Message]:
    out = []
    pos = 0
    while pos < len(data):
        code, length = data[pos : pos + 1], int.from_bytes(data[pos + 1 : pos + 5], "big")
        out.append(m.BACKEND[code].decode(data[pos + 5 : pos + 1 + length]))
        pos += 1 + length
    return out
