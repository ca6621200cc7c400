"""pg_stat_activity lists every client session of the server; pg_cancel_backend and
pg_terminate_backend act on another one.

A real pgwire server over the real SQL engine (in process), two psycopg connections: one runs a long
DuckDB statement in a thread, the other watches and stops it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from pgwire import messages as m
from sql.engine import SqlEngine
from tests.pgwire.conftest import RawClient, RunningServer, start_server

pytestmark = pytest.mark.usefixtures("requires_engine")

LONG = "SELECT count(*) FROM generate_series(1, 100000000000) AS g(x) WHERE x % 7 = 3"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqlEngine]:
    from tests.sql.in_process import sql_engine

    with sql_engine(tmp_path_factory.mktemp("activity")) as (_storage, sql):
        yield sql


@pytest.fixture
def server(engine: SqlEngine) -> Iterator[RunningServer]:
    s = start_server(factory=engine.session)
    yield s
    s.stop()


def _connect(server: RunningServer, **kw: Any) -> psycopg.Connection[Any]:
    return psycopg.connect(server.dsn(dbname="postgres", **kw), autocommit=True)


def _run_long(conn: psycopg.Connection[Any]) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            conn.execute(LONG)
        except BaseException as e:
            errors.append(e)

    t = threading.Thread(target=run)
    t.start()
    return t, errors


def _local_port(conn: psycopg.Connection[Any]) -> int:
    import socket

    sock = socket.socket(fileno=conn.pgconn.socket)
    try:
        return int(sock.getsockname()[1])
    finally:
        sock.detach()


def _active(watcher: psycopg.Connection[Any], pid: int) -> tuple[Any, ...]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        row = watcher.execute(
            "SELECT state, query, query_start IS NOT NULL, usename, datname, application_name, "
            f"backend_type, client_addr IS NOT NULL FROM pg_stat_activity WHERE pid = {pid}"
        ).fetchone()
        if row is not None and row[0] == "active":
            return row
        time.sleep(0.02)
    raise AssertionError(f"backend {pid} never became active: {row}")


def test_another_session_is_listed_cancelled_and_terminated(server: RunningServer) -> None:
    with _connect(server, application_name="victim") as victim, _connect(server) as watcher:
        pid = victim.info.backend_pid  # what BackendKeyData said
        assert victim.execute("SELECT pg_backend_pid()").fetchone() == (pid,)
        row = watcher.execute(f"SELECT state, query FROM pg_stat_activity WHERE pid = {pid}").fetchone()
        assert row == ("idle", "SELECT pg_backend_pid()")
        addr, port, started, since = watcher.execute(
            "SELECT client_addr, client_port, backend_start, query_start FROM pg_stat_activity "
            f"WHERE pid = {pid}"
        ).fetchone()
        assert (str(addr), port) == ("127.0.0.1", _local_port(victim))
        assert started <= since
        mine = watcher.execute(
            "SELECT state, query FROM pg_stat_activity WHERE pid = pg_backend_pid()"
        ).fetchall()
        assert mine == [("active", "SELECT state, query FROM pg_stat_activity WHERE pid = pg_backend_pid()")]

        thread, errors = _run_long(victim)
        try:
            state, query, started, user, db, app, kind, addr = _active(watcher, pid)
            assert (query, started, user, db, app, kind, addr) == (
                LONG,
                True,
                "u",
                "postgres",
                "victim",
                "client backend",
                True,
            )
            # (as a parameter, as clients send it; a constant pid works too, see below)
            assert watcher.execute("SELECT pg_cancel_backend(%s)", [pid]).fetchone() == (True,)
        finally:
            thread.join(20)
        assert not thread.is_alive()
        assert len(errors) == 1 and isinstance(errors[0], psycopg.errors.QueryCanceled), errors
        assert "canceling statement due to user request" in str(errors[0])
        assert victim.execute("SELECT 1 + 1").fetchone() == (2,)  # the connection goes on

        assert watcher.execute("SELECT pg_cancel_backend(1)").fetchone() == (False,)  # no such backend
        assert watcher.execute("SELECT pg_cancel_backend(%s::int)", [None]).fetchone() == (None,)
        assert watcher.execute(f"SELECT pg_terminate_backend({pid})").fetchone() == (True,)
        with pytest.raises(psycopg.errors.AdminShutdown, match="administrator command"):
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:  # the FATAL arrives with (or before) the next answer
                victim.execute("SELECT 1")
                time.sleep(0.02)
        assert victim.closed or victim.broken
        listed = watcher.execute(f"SELECT count(*) FROM pg_stat_activity WHERE pid = {pid}").fetchone()
        assert listed == (0,)
        # the same text again is run again, not answered from an earlier reply: the pid is gone now
        assert watcher.execute(f"SELECT pg_terminate_backend({pid})").fetchone() == (False,)


# -- pg_cancel_backend / pg_terminate_backend of a pid computed per row (a column, a subquery, a join)


def _cancelled_by(watcher: psycopg.Connection[Any], victim: psycopg.Connection[Any], sql: str) -> list[Any]:
    """Run LONG in ``victim``, wait until it is active, stop it with ``sql`` from ``watcher``: the
    rows ``sql`` answered (the victim must have got 57014 and still work)."""
    thread, errors = _run_long(victim)
    try:
        _active(watcher, victim.info.backend_pid)
        rows = watcher.execute(sql).fetchall()
    except BaseException:
        victim.cancel_safe()  # (not stopped by sql: closing the connection would wait for LONG)
        raise
    finally:
        thread.join(20)
    assert not thread.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], psycopg.errors.QueryCanceled), (sql, errors)
    assert "canceling statement due to user request" in str(errors[0])
    assert victim.execute("SELECT 1 + 1").fetchone() == (2,)  # the session goes on
    return rows


def test_cancel_backend_of_a_column_subquery_and_join(server: RunningServer) -> None:
    with (
        _connect(server, application_name="victim") as victim,
        _connect(server, application_name="idle") as bystander,
        _connect(server) as watcher,
    ):
        pid = victim.info.backend_pid
        # the operator's idiom: every other active statement (the bystander is idle: not touched)
        rows = _cancelled_by(
            watcher,
            victim,
            "SELECT pid, pg_cancel_backend(pid) FROM pg_stat_activity "
            "WHERE state = 'active' AND pid <> pg_backend_pid()",
        )
        assert rows == [(pid, True)]
        rows = _cancelled_by(
            watcher,
            victim,
            "SELECT pg_cancel_backend((SELECT pid FROM pg_stat_activity WHERE application_name = 'victim'))",
        )
        assert rows == [(True,)]
        rows = _cancelled_by(
            watcher,
            victim,
            "SELECT a.application_name, pg_catalog.pg_cancel_backend(a.pid) FROM pg_stat_activity a "
            "JOIN (VALUES ('victim')) AS v(name) ON a.application_name = v.name",
        )
        assert rows == [("victim", True)]
        assert bystander.execute("SELECT 2 + 2").fetchone() == (4,)


def test_terminate_backend_of_a_column(server: RunningServer) -> None:
    with (
        _connect(server, application_name="x") as victim,
        _connect(server, application_name="x") as victim2,
        _connect(server, application_name="y") as bystander,
        _connect(server, application_name="x") as watcher,
    ):
        pids = sorted([victim.info.backend_pid, victim2.info.backend_pid])
        thread, errors = _run_long(victim)  # one of them is running a statement, the other idle
        try:
            _active(watcher, victim.info.backend_pid)
            rows = watcher.execute(
                "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'x' AND pid <> pg_backend_pid() ORDER BY pid"
            ).fetchall()
        except BaseException:
            victim.cancel_safe()  # (not stopped: closing the connection would wait for LONG)
            raise
        finally:
            thread.join(20)
        assert rows == [(pids[0], True), (pids[1], True)]
        assert not thread.is_alive()
        assert len(errors) == 1 and isinstance(errors[0], psycopg.errors.AdminShutdown), errors
        assert victim.closed or victim.broken  # (its statement got the FATAL)
        with pytest.raises(psycopg.errors.AdminShutdown, match="administrator command"):
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:  # the idle one: with (or before) its next answer
                victim2.execute("SELECT 1")
                time.sleep(0.02)
        assert victim2.closed or victim2.broken
        # with a timeout it returns once the session is gone: pg_stat_activity no longer lists it
        doomed = _connect(server, application_name="z")
        assert watcher.execute(
            "SELECT pg_terminate_backend(a.pid, 10000) FROM pg_stat_activity a "
            "JOIN (VALUES ('z')) AS v(name) ON a.application_name = v.name"
        ).fetchall() == [(True,)]
        gone = watcher.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'z'"
        ).fetchone()
        assert gone == (0,)
        doomed.close()
        assert bystander.execute("SELECT 2 + 2").fetchone() == (4,)
        assert watcher.execute("SELECT 3 + 3").fetchone() == (6,)


def test_unknown_pid_warns_and_null_is_null(server: RunningServer) -> None:
    with _connect(server) as conn:
        notices: list[tuple[str | None, str | None, str | None]] = []
        conn.add_notice_handler(lambda d: notices.append((d.severity, d.sqlstate, d.message_primary)))
        warning = ("WARNING", "01000", "PID 1 is not a PostgreSQL backend process")
        rows = conn.execute(
            "SELECT p, pg_cancel_backend(p) FROM (VALUES (1), (CAST(NULL AS int))) AS t(p) ORDER BY p"
        ).fetchall()
        assert rows == [(1, False), (None, None)]
        assert notices == [warning]  # one call, for the one non-NULL pid
        notices.clear()
        assert conn.execute("SELECT pg_terminate_backend(1)").fetchone() == (False,)  # (a constant)
        assert notices == [warning]
        notices.clear()
        assert conn.execute("SELECT pg_cancel_backend(%s)", [1]).fetchone() == (False,)  # (a parameter)
        assert notices == [warning]
        notices.clear()
        assert conn.execute("SELECT pg_terminate_backend(%s::int)", [None]).fetchone() == (None,)
        assert notices == []
        with pytest.raises(psycopg.errors.NumericValueOutOfRange, match='"timeout" must not be negative'):
            conn.execute("SELECT pg_terminate_backend(1, -1)")
        assert conn.execute("SELECT 1 + 1").fetchone() == (2,)
    # on the wire: the NoticeResponse comes before the row, as PostgreSQL sends it
    client = RawClient(server.port)
    try:
        client.startup(database="postgres")
        client.send(m.Query("SELECT pg_cancel_backend(1)"))
        got = client.until_ready()
    finally:
        client.close()
    assert [type(msg).__name__ for msg in got] == [
        "RowDescription",
        "NoticeResponse",
        "DataRow",
        "CommandComplete",
        "ReadyForQuery",
    ]
    assert got[1].fields["S"] == "WARNING" and got[1].fields["C"] == "01000"  # type: ignore[attr-defined]


def test_own_session_cancelled_or_terminated(server: RunningServer) -> None:
    with _connect(server) as conn, _connect(server) as watcher:
        own = "FROM pg_stat_activity WHERE pid = pg_backend_pid()"
        with pytest.raises(psycopg.errors.QueryCanceled, match="canceling statement due to user request"):
            conn.execute(f"SELECT pg_cancel_backend(pid) {own}")
        assert conn.execute("SELECT 1 + 1").fetchone() == (2,)  # only the statement ended
        pid = conn.info.backend_pid
        with pytest.raises(psycopg.errors.AdminShutdown, match="administrator command"):
            conn.execute(f"SELECT pg_terminate_backend(pid) {own}")
        assert conn.closed or conn.broken
        deadline = time.monotonic() + 10
        while watcher.execute(f"SELECT count(*) FROM pg_stat_activity WHERE pid = {pid}").fetchone() != (0,):
            assert time.monotonic() < deadline, "the terminated session is still listed"
            time.sleep(0.02)
