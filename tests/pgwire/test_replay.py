"""Replayed answers: the same request bytes of a constant query get the remembered reply bytes.

The session here says ``select 1`` and ``select 2`` are constant (as the SQL engine says of a plan whose
result was computed at prepare) and counts how often each statement really executes, so a test sees
whether an answer was replayed or ran. The rules checked: a replay happens only while nothing that may
change the answer has run since it was recorded (SET, BEGIN/COMMIT, an error, Parse or Close of a
statement ...), only in the transaction status of then, and gives exactly the bytes the handler gives.
"""

from __future__ import annotations

import gc
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pgwire import messages as m
from pgwire.server import ServerOptions
from sql.session import Statement
from tests.pgwire.conftest import RawClient, RunningServer, start_server
from tests.pgwire.test_inline import ImmediateSession

CONSTANT = {"select 1", "select 2"}


class ConstantSession(ImmediateSession):
    executed: Counter[str] = Counter()  # sql -> executions, all sessions
    lock = threading.Lock()

    def constant(self, statement: Statement) -> bool:
        return statement.sql.strip().rstrip(";").lower() in CONSTANT

    def execute(self, statement: Statement, params: list[object | None]):  # type: ignore[no-untyped-def]
        with ConstantSession.lock:
            ConstantSession.executed[statement.sql.strip().lower()] += 1
        return super().execute(statement, params)


@pytest.fixture
def replay_server() -> Iterator[RunningServer]:
    ConstantSession.executed = Counter()
    # without direct writes: "select 2" is constant but not immediate, and a pool thread sending its
    # answer itself lets the client's next request arrive before the loop is back to waiting, when
    # replays are not looked at (ordering first); the loop writing every answer keeps the counts exact
    s = start_server(ServerOptions(direct_writes=False), session_class=ConstantSession)
    yield s
    s.stop()


@pytest.fixture
def client(replay_server: RunningServer) -> Iterator[RawClient]:
    c = RawClient(replay_server.port)
    c.startup()
    yield c
    c.close()


def _ask(c: RawClient, *msgs: m.Message) -> list[m.Message]:
    c.send(*msgs)
    return c.until_ready()


def _bdes(name: str = "s") -> tuple[m.Message, ...]:
    """What libpq sends for a prepared statement (psycopg's ``SELECT 1`` from its 6th run on)."""
    return m.Bind("", name, [], [], []), m.Describe("P", ""), m.Execute("", 0), m.Sync()


def _rows(answer: list[m.Message]) -> list[list[bytes | None]]:
    return [x.values for x in answer if isinstance(x, m.DataRow)]


def _runs(sql: str) -> int:
    return ConstantSession.executed[sql]


def test_a_repeated_constant_query_is_answered_from_memory(client: RawClient) -> None:
    first = _ask(client, m.Query("select 1"))
    assert _rows(first) == [[b"1"]] and first[-1] == m.ReadyForQuery("I")
    for _ in range(5):
        assert _ask(client, m.Query("select 1")) == first
    assert _runs("select 1") == 1

    assert _ask(client, m.Parse("s", "select 2"), m.Sync())[-1] == m.ReadyForQuery("I")
    prepared = _ask(client, *_bdes())
    assert _rows(prepared) == [[b"2"]]
    for _ in range(5):
        assert _ask(client, *_bdes()) == prepared
    assert _runs("select 2") == 1


def test_a_query_that_is_not_constant_always_runs(client: RawClient) -> None:
    for _ in range(3):
        assert _rows(_ask(client, m.Query("select 3"))) == [[b"3"]]
    assert _runs("select 3") == 3


def test_set_is_never_replayed_and_ends_the_replays_before_it(client: RawClient) -> None:
    _ask(client, m.Query("select 1"))
    _ask(client, m.Query("select 1"))
    runs = _runs("select 1")
    for zone in ("Europe/Berlin", "Europe/Berlin", "UTC"):
        answer = _ask(client, m.Query(f"set timezone = '{zone}'"))
        assert m.ParameterStatus("TimeZone", zone) in answer  # sent every time
    _ask(client, m.Query("select 1"))
    assert _runs("select 1") == runs + 1  # ran again after the SET
    _ask(client, m.Query("select 1"))
    assert _runs("select 1") == runs + 1


def test_transaction_status_and_a_failed_transaction(client: RawClient) -> None:
    assert _ask(client, m.Query("select 1"))[-1] == m.ReadyForQuery("I")
    assert _ask(client, m.Query("select 1"))[-1] == m.ReadyForQuery("I")
    assert _ask(client, m.Query("begin"))[-1] == m.ReadyForQuery("T")
    for _ in range(3):
        answer = _ask(client, m.Query("select 1"))
        assert _rows(answer) == [[b"1"]] and answer[-1] == m.ReadyForQuery("T")
    failed = _ask(client, m.Query("select no_such_column"))
    assert isinstance(failed[0], m.ErrorResponse) and failed[-1] == m.ReadyForQuery("E")
    for request in ([m.Query("select 1")], [m.Query("select 1")], [m.Parse("", "select 1"), *_bdes("")]):
        answer = _ask(client, *request)
        errors = [x for x in answer if isinstance(x, m.ErrorResponse)]
        assert errors and errors[0].fields["C"] == "25P02" and answer[-1] == m.ReadyForQuery("E")
        assert not _rows(answer)
    assert _ask(client, m.Query("rollback"))[-1] == m.ReadyForQuery("I")
    answer = _ask(client, m.Query("select 1"))
    assert _rows(answer) == [[b"1"]] and answer[-1] == m.ReadyForQuery("I")


def test_a_redefined_statement_is_not_answered_as_before(client: RawClient) -> None:
    _ask(client, m.Parse("s", "select 1"), m.Sync())
    for _ in range(3):
        assert _rows(_ask(client, *_bdes())) == [[b"1"]]
    _ask(client, m.Close("S", "s"), m.Parse("s", "select 2"), m.Sync())
    for _ in range(3):
        assert _rows(_ask(client, *_bdes())) == [[b"2"]]
    _ask(client, m.Close("S", "s"), m.Sync())
    answer = _ask(client, *_bdes())
    assert isinstance(answer[0], m.ErrorResponse) and answer[0].fields["C"] == "26000"


def test_pipelined_and_split_requests_are_answered_in_order(client: RawClient) -> None:
    one = m.Query("select 1").encode()
    two = m.Query("select 2").encode()
    for _ in range(3):
        _ask(client, m.Query("select 1"))
        _ask(client, m.Query("select 2"))
    client.send_raw(one + two + one)  # one packet, three requests
    assert [_rows(client.until_ready()) for _ in range(3)] == [[[b"1"]], [[b"2"]], [[b"1"]]]
    client.send_raw(one[:3])  # a request in two pieces
    client.send_raw(one[3:])
    assert _rows(client.until_ready()) == [[b"1"]]
    client.send_raw(one + one[:4])  # a request and a half, then the rest
    assert _rows(client.until_ready()) == [[b"1"]]
    client.send_raw(one[4:])
    assert _rows(client.until_ready()) == [[b"1"]]


def test_psycopg_round_trips(replay_server: RunningServer) -> None:
    """psycopg sends a simple Query five times, then prepares it and sends Bind/Describe/Execute/Sync."""
    with psycopg.connect(replay_server.dsn(), autocommit=True) as conn:
        for _ in range(20):
            assert conn.execute("select 2").fetchall() == [(2,)]
        with conn.transaction():
            assert conn.execute("select 2").fetchall() == [(2,)]
        assert conn.execute("select 2").fetchall() == [(2,)]
    assert _runs("select 2") < 10


# ------------------------------------------------------------ the same answers as without replaying

REQUESTS: list[list[m.Message]] = [
    [m.Query("select 1")],
    [m.Query("select 2")],
    [m.Query("select 1; select 2")],
    [m.Query("select 3")],
    [m.Query("")],
    [m.Query("begin")],
    [m.Query("commit")],
    [m.Query("rollback")],
    [m.Query("select no_such_column")],
    [m.Query("set timezone = 'Europe/Berlin'")],
    [m.Query("set timezone = 'UTC'")],
    [m.Parse("s", "select 1"), m.Sync()],
    [m.Parse("s", "select 3"), m.Sync()],
    [m.Close("S", "s"), m.Sync()],
    [m.Parse("", "select 2"), m.Sync()],
    [m.Parse("", "select 2"), *_bdes("")],
    list(_bdes("s")),
    list(_bdes("")),
    [m.Bind("p", "s", [], [], []), m.Sync()],
    [m.Describe("P", "p"), m.Execute("p", 0), m.Sync()],
    [m.Describe("S", "s"), m.Sync()],
    [m.Bind("", "s", [], [], []), m.Execute("", 0), m.Flush(), m.Sync()],
    [m.Sync()],
]


def _conversation(port: int, requests: list[list[m.Message]]) -> list[list[m.Message]]:
    c = RawClient(port)
    try:
        c.startup()
        answers = [_ask(c, *request) for request in requests]
        return [[x for x in a if not isinstance(x, m.BackendKeyData)] for a in answers]
    finally:
        c.close()


@pytest.fixture(scope="module")
def both_servers() -> Iterator[tuple[RunningServer, RunningServer]]:
    pool, replaying = start_server(), start_server(session_class=ConstantSession)
    yield pool, replaying
    pool.stop()
    replaying.stop()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(REQUESTS), max_size=30))
def test_random_conversations_answer_as_without_replaying(
    both_servers: tuple[RunningServer, RunningServer], requests: list[list[m.Message]]
) -> None:
    pool, replaying = both_servers
    # every request twice in a row at least sometimes: the second may be a replay
    requests = [r for request in requests for r in (request, request)]
    assert _conversation(replaying.port, requests) == _conversation(pool.port, requests)


# ------------------------------------------------------------ over the SQL engine


def test_over_the_sql_engine(tmp_path: Path) -> None:
    """The SQL engine's constant plans make steps replayable; SET, BEGIN and errors do not."""
    pytest.importorskip("columnar.engine")
    from pgwire.auth import AuthConfig
    from pgwire.handlers import Handler
    from pgwire.protocol import Connection
    from tests.sql.in_process import sql_engine

    with sql_engine(tmp_path) as (_, engine):
        conn = Connection()
        h = Handler(conn, lambda d, u, o: engine.session(d, u, o), AuthConfig("trust"))

        def step(*msgs: m.Message) -> tuple[bytes, bool]:
            conn.receive_data(b"".join(x.encode() for x in msgs))
            for _ in h.run():
                pass
            return conn.data_to_send(), h.replayable()

        step(m.StartupMessage({"user": "u", "database": "postgres"}))
        assert step(m.Query("SELECT 1"))[1]  # a constant plan, from its first run
        assert step(m.Parse("s", "SELECT 1"), m.Sync())[1] is False  # a new statement
        bdes = b"".join(x.encode() for x in _bdes())
        reply, replayable = step(*_bdes())
        assert replayable and _rows(_decode(reply)) == [[b"1"]]
        h.remember(bdes, reply)
        assert h.reply(bdes) == reply
        assert step(m.Query("SELECT 1 FROM pg_catalog.pg_class LIMIT 1"))[1] is False
        assert h.reply(bdes) is None  # not a constant: may have changed anything
        reply, _ = step(*_bdes())
        h.remember(bdes, reply)
        assert h.reply(bdes) == reply
        out, replayable = step(m.Query("SET TimeZone = 'Asia/Tokyo'"))
        assert not replayable and m.ParameterStatus("TimeZone", "Asia/Tokyo") in _decode(out)
        assert h.reply(bdes) is None
        step(*_bdes())
        assert step(m.Query("BEGIN"))[1] is False
        out, replayable = step(*_bdes())
        assert not replayable and _decode(out)[-1] == m.ReadyForQuery("T")  # the portal lives on
        assert step(m.Query("SELECT no_such_column"))[1] is False
        out, replayable = step(m.Query("SELECT 1"))
        errors = [x for x in _decode(out) if isinstance(x, m.ErrorResponse)]
        assert not replayable and errors[0].fields["C"] == "25P02"
        step(m.Query("ROLLBACK"))
        assert step(m.Query("SELECT 1"))[1]
        h.close()
        gc.collect()  # sessions hold DuckDB cursors in reference cycles: gone before the engine closes


def _decode(raw: bytes) -> list[m.Message]:
    return [m.decode_backend(code, payload) for code, payload in m.split_messages(raw)]
