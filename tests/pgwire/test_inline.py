"""Immediate statements are answered on the event loop; everything else still goes to the pool.

The session here says ``select 1`` (and ``begin``/``commit``) is immediate, as the SQL engine says of a
cached constant plan; it records the thread each statement executes on.
"""

from __future__ import annotations

import asyncio
import struct
import threading
from collections.abc import Iterator

import asyncpg
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pgwire import handlers
from pgwire import messages as m
from sql.session import Statement
from tests.pgwire.conftest import RawClient, RunningServer, start_server
from tests.pgwire.duck_session import DuckSession
from tests.pgwire.test_bad_input import FRONTEND_MESSAGES

IMMEDIATE = {"select 1", "begin", "commit"}


class ImmediateSession(DuckSession):
    threads: list[tuple[str, str]] = []  # (sql, thread name) of every execute, all sessions

    def immediate(self, what: str | Statement) -> bool:
        sql = what.sql if isinstance(what, Statement) else what
        return all(s.strip().rstrip(";").lower() in IMMEDIATE for s in self.split(sql))

    def execute(self, statement: Statement, params: list[object | None]):  # type: ignore[no-untyped-def]
        ImmediateSession.threads.append((statement.sql.strip().lower(), threading.current_thread().name))
        return super().execute(statement, params)


@pytest.fixture
def client(inline_server: RunningServer) -> Iterator[RawClient]:
    c = RawClient(inline_server.port)
    c.startup()
    yield c
    c.close()


@pytest.fixture
def inline_server() -> Iterator[RunningServer]:
    ImmediateSession.threads = []
    s = start_server(session_class=ImmediateSession)
    yield s
    s.stop()


@pytest.fixture
def no_time_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """A step on the loop is never handed to the pool for the time it has taken: a loaded machine
    (the loop's thread waiting for a core between two messages) moves nothing off the loop."""
    monkeypatch.setattr(handlers, "INLINE_BUDGET_S", 1e9)
    monkeypatch.setattr(handlers, "INLINE_REQUEST_S", 1e9)


def _threads(sql: str) -> set[str]:
    return {t for s, t in ImmediateSession.threads if s == sql}


@pytest.mark.usefixtures("no_time_budget")
def test_immediate_statements_run_on_the_loop_thread(inline_server: RunningServer) -> None:
    loop_thread = inline_server.thread.name
    with psycopg.connect(inline_server.dsn(), autocommit=True) as conn:
        assert conn.execute("select 1").fetchone() == (1,)  # simple query
        assert conn.execute("select 1", prepare=True).fetchone() == (1,)  # Parse/Bind/Execute
        assert conn.execute("select 2").fetchone() == (2,)  # not immediate: the pool
        with conn.transaction():
            assert conn.execute("select 1").fetchone() == (1,)

    async def prepared() -> None:
        c = await asyncpg.connect(host="127.0.0.1", port=inline_server.port, user="u", database="db")
        stmt = await c.prepare("select 1")
        for _ in range(3):
            assert await stmt.fetchval() == 1
        await c.close()

    asyncio.run(prepared())
    assert _threads("select 1") == {loop_thread}
    assert _threads("begin") == {loop_thread}
    assert loop_thread not in _threads("select 2") and _threads("select 2")


def test_a_pipeline_mixing_both_answers_in_order(inline_server: RunningServer, client: RawClient) -> None:
    c = client
    sqls = ["select 1", "select 40 + 2", "select 1", "select count(*) from range(200000)", "select 1"]
    c.send(*(m.Query(s) for s in sqls))
    values = []
    for _ in sqls:
        got = c.until_ready()
        values += [msg.values for msg in got if isinstance(msg, m.DataRow)]
        assert got[-1] == m.ReadyForQuery("I")
    assert values == [[b"1"], [b"42"], [b"1"], [b"200000"], [b"1"]]
    loop_thread = inline_server.thread.name
    assert loop_thread in _threads("select 1")  # the first, before anything was offloaded
    assert loop_thread not in _threads("select 40 + 2")


def test_a_long_pipeline_of_immediate_statements_leaves_the_loop(
    inline_server: RunningServer, client: RawClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step on the loop stops after its time budget: a long pipeline of SELECT 1 does not hold it.

    The budget is 0 here, so whether it has run out does not depend on this machine's speed: the
    first Query runs on the loop, the next one begins after the budget and goes to the pool, with
    the rest of the step. (With the real budget the pipeline had to be thousands long to outlast it
    on a fast machine, and those thousands, each a DuckDB statement in a pool thread with no answer
    written before the last, outlasted the client's 10 s read timeout on a loaded one.)"""
    monkeypatch.setattr(handlers, "INLINE_BUDGET_S", 0.0)
    c = client
    n = 50
    c.send(*([m.Query("select 1")] * n))
    for _ in range(n):
        assert c.until_ready()[-1] == m.ReadyForQuery("I")
    threads = [t for s, t in ImmediateSession.threads if s == "select 1"]
    assert len(threads) == n
    assert inline_server.thread.name in threads and len(set(threads)) > 1


def _answers(port: int, msgs: list[m.Message]) -> list[m.Message]:
    c = RawClient(port)
    try:
        c.startup()
        # the rollback ends a failed transaction block the messages may have left
        c.send(*msgs, m.Sync(), m.Query("rollback"), m.Query("select 'still here'"))
        seen: list[m.Message] = []
        while (msg := c.read()) is not None:
            seen.append(msg)
            if msg == m.DataRow([b"still here"]):
                break
        return seen
    finally:
        c.close()


@pytest.fixture(scope="module")
def both_servers() -> Iterator[tuple[RunningServer, RunningServer]]:
    pool, loop = start_server(), start_server(session_class=ImmediateSession)
    yield pool, loop
    pool.stop()
    loop.stop()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(FRONTEND_MESSAGES, max_size=12))
def test_random_message_sequences_answer_as_in_the_pool(
    both_servers: tuple[RunningServer, RunningServer], msgs: list[m.Message]
) -> None:
    """The same messages get the same answers whether steps start on the loop or in the pool."""
    pool, loop = both_servers
    assert _answers(loop.port, msgs) == _answers(pool.port, msgs)


def test_nothing_that_drops_a_suspended_portal_runs_on_the_loop() -> None:
    """Closing a portal whose query is still producing may wait for the engine: not on the loop."""
    from pgwire.auth import AuthConfig
    from pgwire.handlers import Handler, Portal
    from pgwire.protocol import Connection
    from sql.session import Result

    class Quick:
        def immediate(self, what: object) -> bool:
            return True

    h = Handler(Connection(), lambda d, u, o: Quick(), AuthConfig("trust"))  # type: ignore[arg-type,return-value]
    h.session = Quick()  # type: ignore[assignment]
    stmt = Statement("select 1", [], None, "SELECT")
    assert all(h._immediate(x) for x in (m.Sync(), m.Query("select 1"), m.Bind(), m.Close("P", "")))
    h.portals[""] = Portal(stmt, [], [], result=Result(None))  # suspended: a result, not done
    assert h._immediate(m.Flush())
    assert not any(h._immediate(x) for x in (m.Sync(), m.Query("select 1"), m.Bind(), m.Close("P", "")))
    h.portals[""].done = True
    assert h._immediate(m.Sync())


def _connection(server: RunningServer):  # type: ignore[no-untyped-def]  # -> pgwire.server._PgConnection
    [conn] = list(server.pg._connections)
    return conn


def test_an_idle_connection_answers_in_data_received(inline_server: RunningServer, client: RawClient) -> None:
    """Bytes for an idle connection start their step in data_received: the task is not woken.

    (The first query may arrive before the task is back to waiting: start-up ran in a pool thread,
    which sent ReadyForQuery itself, before the loop heard the step was over.)"""
    client.send(m.Query("select 1"))
    client.until_ready()
    before = _connection(inline_server).steps_in_data_received
    for _ in range(3):
        client.send(m.Query("select 1"))
        answer = client.until_ready()
        assert [x.values for x in answer if isinstance(x, m.DataRow)] == [[b"1"]]
    assert _connection(inline_server).steps_in_data_received == before + 3


def test_a_step_begun_in_data_received_is_finished_by_the_task(
    inline_server: RunningServer, client: RawClient
) -> None:
    """It offloads mid-way (a statement that is not immediate): the task continues it, in order."""
    client.send(m.Query("select 1"))
    client.until_ready()  # the task is back to waiting (start-up's ReadyForQuery may come before)
    before = _connection(inline_server).steps_in_data_received
    client.send(m.Query("select 1"), m.Query("select 2"), m.Query("begin"), m.Query("select 1"))
    answers = [client.until_ready() for _ in range(4)]
    assert [[x.values for x in a if isinstance(x, m.DataRow)] for a in answers] == [
        [[b"1"]],
        [[b"2"]],
        [],
        [[b"1"]],
    ]
    assert [a[-1] for a in answers] == [m.ReadyForQuery(s) for s in "IITT"]
    assert _connection(inline_server).steps_in_data_received == before + 1


def _idle(client: RawClient) -> None:
    """Leave the connection's task waiting with nothing to do, so the next bytes start their step in
    data_received (start-up's own ReadyForQuery may reach the client before the task is back)."""
    client.send(m.Query("select 1"))
    client.until_ready()


def _rest(client: RawClient) -> list[m.Message]:
    """Everything the server sends until it closes the connection."""
    seen = []
    while (msg := client.read()) is not None:
        seen.append(msg)
    return seen


def test_terminate_and_a_protocol_violation_in_data_received_close_the_connection(
    inline_server: RunningServer, client: RawClient
) -> None:
    """Each is answered once, then the connection closes: the step wrote its output in
    data_received, and the task, woken only to close, must not write it again."""
    _idle(client)
    conn = _connection(inline_server)
    before = conn.steps_in_data_received
    client.send(m.Query("select 1"), m.Terminate())
    answer = [type(x) for x in _rest(client)]
    assert answer == [m.RowDescription, m.DataRow, m.CommandComplete, m.ReadyForQuery]
    assert conn.steps_in_data_received == before + 1
    c = RawClient(inline_server.port)
    try:
        c.startup()
        _idle(c)
        conn = _connection(inline_server)
        before = conn.steps_in_data_received
        c.send_raw(b"Z\x00\x00\x00\x04")  # no frontend message has type Z
        [error] = _rest(c)
        assert (
            isinstance(error, m.ErrorResponse)
            and error.fields["C"] == "08P01"
            and error.fields["S"] == "FATAL"
        )
        assert conn.steps_in_data_received == before + 1
    finally:
        c.close()


def test_messages_pipelined_after_a_fatal_error_get_no_answer(
    inline_server: RunningServer, client: RawClient
) -> None:
    """What the client sent after the message that ended the connection is dropped unanswered: the
    client sees the answers before it, the FATAL ErrorResponse once, and then the end."""
    _idle(client)
    conn = _connection(inline_server)
    before = conn.steps_in_data_received
    client.send_raw(
        m.Parse("a", "select 1", []).encode()
        + b"B" + struct.pack("!i", 2)  # a message length below its own 4 bytes: FATAL
        + m.Query("select 1").encode()
        + m.Query("select 1").encode()
    )  # fmt: skip
    answer = _rest(client)
    assert [type(x) for x in answer] == [m.ParseComplete, m.ErrorResponse]
    assert answer[1].fields["S"] == "FATAL" and answer[1].fields["C"] == "08P01"  # type: ignore[attr-defined]
    assert conn.steps_in_data_received == before + 1
