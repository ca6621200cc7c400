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

from sql.engine import SqlEngine
from tests.pgwire.conftest import RunningServer, start_server

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
