"""The SQL engine's cheap native queries are answered on the event loop; DuckDB never runs there.

A server over the real SQL engine (in process, small DevOps data set). Each session records the
thread of every ``execute`` and of every DuckDB statement (``_stream``). Whether a plan counts as
cheap depends on its measured execute times (sql/immediate.py); the tests set the thresholds
(``EXECUTE_BUDGET_S``, ``LOOP_LIMIT_S``), and pgwire's time budgets for a step on the loop
(``INLINE_BUDGET_S``, ``INLINE_REQUEST_S``), so that the outcome does not depend on this machine's
speed or load.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from pgwire import handlers
from sql import immediate as imm
from sql.engine import SqlEngine, SqlSession
from tests.pgwire.conftest import RunningServer, start_server

pytestmark = pytest.mark.usefixtures("requires_engine")

QUERY = (
    "SELECT time_bucket('1 minute', time) AS minute, max(usage_user) AS max_usage_user FROM cpu "
    "WHERE hostname IN ('{host}') AND time >= '2016-01-01 00:{m:02d}:00+00' "
    "AND time < '2016-01-01 01:{m:02d}:00+00' GROUP BY minute ORDER BY minute"
)  # single-groupby-1-1-1's shape: texts that differ in their constants share one plan
DUCKDB_QUERY = (
    "SELECT a.hostname, count(*) FROM cpu a JOIN (SELECT DISTINCT hostname FROM cpu) b "
    "ON a.hostname = b.hostname WHERE a.usage_user > {v} GROUP BY 1 ORDER BY 1"
)  # a join: no native plan
LOG: list[tuple[str, str, str]] = []  # (what, sql, thread name)


class Recording(SqlSession):
    def execute(self, statement: Any, params: list[object | None]) -> Any:
        LOG.append(("execute", statement.sql, threading.current_thread().name))
        return super().execute(statement, params)

    def _stream(self, tree: Any, params: list, memo: dict | None = None) -> Any:
        LOG.append(("duckdb", tree.sql(), threading.current_thread().name))
        return super()._stream(tree, params, memo)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqlEngine]:
    from bench.datagen import DevopsCpu
    from tests.sql.in_process import sql_engine

    with sql_engine(tmp_path_factory.mktemp("inline")) as (storage, sql):
        for b in DevopsCpu(4, hours=3, seed=3).batches(4000):
            storage.write("postgres", b).check()
        storage.flush()
        yield sql


@pytest.fixture
def server(engine: SqlEngine) -> Iterator[RunningServer]:
    LOG.clear()
    engine.schema_changed()  # plans of earlier tests are not used (nor their execute times)
    s = start_server(factory=lambda database, user, options: Recording(engine, database, user, options))
    yield s
    s.stop()


@pytest.fixture
def no_time_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """pgwire never hands a step on the loop to the pool for the time it has taken: on a loaded
    machine the messages of one request (Parse ... Sync) arrive together and the loop's thread may
    wait for a core between two of them, past INLINE_REQUEST_S, which moved the Execute to the pool."""
    monkeypatch.setattr(handlers, "INLINE_BUDGET_S", 1e9)
    monkeypatch.setattr(handlers, "INLINE_REQUEST_S", 1e9)


@pytest.fixture
def cheap(monkeypatch: pytest.MonkeyPatch, no_time_budget: None) -> None:
    """Every native plan that ran once counts as cheap, and nothing overruns the loop."""
    monkeypatch.setattr(imm, "EXECUTE_BUDGET_S", 1e9)
    monkeypatch.setattr(imm, "LOOP_LIMIT_S", 1e9)


def _threads(what: str, sql: str) -> list[str]:
    return [t for w, s, t in LOG if w == what and s == sql]


def _connect(server: RunningServer) -> psycopg.Connection[Any]:
    return psycopg.connect(server.dsn(dbname="postgres"), autocommit=True)


def _duckdb_answer(server: RunningServer, sql: str) -> list[tuple[Any, ...]]:
    with _connect(server) as conn:
        conn.execute("SET tsgres.native_executor = off")
        return conn.execute(sql).fetchall()


@pytest.mark.usefixtures("cheap")
def test_a_cheap_native_query_is_answered_on_the_loop_after_its_first_run(server: RunningServer) -> None:
    loop = server.thread.name
    texts = [QUERY.format(host=f"host_{i % 4}", m=i) for i in range(6)]
    with _connect(server) as conn:
        got = [conn.execute(sql).fetchall() for sql in texts]  # psycopg: Parse/Bind/Describe/Execute/Sync
    assert _threads("execute", texts[0]) and loop not in _threads("execute", texts[0])  # never ran: pool
    for sql in texts[1:]:
        assert _threads("execute", sql) == [loop]  # a plan with a run behind it: on the loop, once
    assert not [t for w, _s, t in LOG if w == "duckdb" and t == loop]
    assert all(len(rows) > 0 for rows in got)
    for sql, rows in zip(texts, got, strict=True):
        assert rows == _duckdb_answer(server, sql)  # the same rows as DuckDB's


@pytest.mark.usefixtures("cheap")
def test_a_simple_query_of_a_cheap_plan_runs_on_the_loop(server: RunningServer) -> None:
    loop = server.thread.name
    texts = [QUERY.format(host="host_1", m=i) for i in (3, 4, 5)]
    with _connect(server) as conn, psycopg.ClientCursor(conn) as cur:  # a simple Query each
        rows = [cur.execute(sql).fetchall() for sql in texts]
    assert loop not in _threads("execute", texts[0])
    assert _threads("execute", texts[1]) == [loop] and _threads("execute", texts[2]) == [loop]
    assert rows[1] and rows[1] == _duckdb_answer(server, texts[1])


def test_duckdb_plans_never_run_on_the_loop(server: RunningServer, engine: SqlEngine, cheap: None) -> None:
    loop = server.thread.name
    assert engine.session("postgres").prepare(DUCKDB_QUERY.format(v=0), []).native is None
    with _connect(server) as conn:
        for v in range(5):
            conn.execute(DUCKDB_QUERY.format(v=v * 10)).fetchall()
        # a cheap native plan in a session that turned the native executor off: tried on the loop,
        # given up before DuckDB starts, executed in the pool
        texts = [QUERY.format(host="host_2", m=i) for i in (7, 8, 9)]
        native = [conn.execute(sql).fetchall() for sql in texts]
        conn.execute("SET tsgres.native_executor = off")
        off = conn.execute(texts[2]).fetchall()
    assert off == native[2]
    assert [t for w, _s, t in LOG if w == "duckdb"] and loop not in {t for w, _s, t in LOG if w == "duckdb"}
    for v in range(5):
        assert loop not in _threads("execute", DUCKDB_QUERY.format(v=v * 10))
    assert _threads("execute", texts[1]) == [loop]
    threads = _threads("execute", texts[2])
    assert threads[0] == loop and threads[-1] != loop and len(threads) == 3  # native, then tried, then pool
    # avg of an integer field is numeric: the native executor has DuckDB cast it
    averages = [QUERY.format(host="host_2", m=i).replace("max(", "avg(") for i in (20, 21, 22)]
    assert engine.session("postgres").prepare(averages[0], []).native is not None
    with _connect(server) as conn:
        for sql in averages:
            assert conn.execute(sql).fetchall()
    assert all(loop not in _threads("execute", sql) for sql in averages)


def test_an_execution_that_overruns_the_loop_is_run_again_in_the_pool(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch, no_time_budget: None
) -> None:
    """The estimate said cheap, this run was not: the scan's next check gives the loop up."""
    loop = server.thread.name
    monkeypatch.setattr(imm, "EXECUTE_BUDGET_S", 1e9)
    monkeypatch.setattr(imm, "LOOP_LIMIT_S", 0.0)  # every check on the loop is past its deadline
    texts = [QUERY.format(host="host_3", m=i) for i in (10, 11)]
    with _connect(server) as conn:
        rows = [conn.execute(sql).fetchall() for sql in texts]
    threads = _threads("execute", texts[1])
    assert threads[0] == loop and len(threads) == 2 and threads[1] != loop
    assert rows[1] == _duckdb_answer(server, texts[1]) and rows[1]


def test_a_plan_is_not_cheap_beyond_the_budget(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imm, "EXECUTE_BUDGET_S", 0.0)  # no plan runs that fast
    loop = server.thread.name
    texts = [QUERY.format(host="host_0", m=i) for i in (12, 13, 14)]
    with _connect(server) as conn:
        for sql in texts:
            conn.execute(sql).fetchall()
    assert all(loop not in _threads("execute", sql) for sql in texts)


@pytest.mark.usefixtures("cheap")
def test_statement_timeout_and_errors_on_the_loop(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """statement_timeout reaches an execution on the loop (the deadline thread flags it, the scan's
    check raises 57014), and the connection goes on."""
    import time

    texts = [QUERY.format(host="host_1", m=i) for i in (15, 16)]
    slow = threading.Event()
    interrupt = SqlSession.interrupt

    def slow_interrupt(self: SqlSession) -> Callable[[], None]:
        check = interrupt(self)

        def slow_check() -> None:  # the scan's work before its check takes long
            if slow.is_set() and threading.current_thread().name == server.thread.name:
                time.sleep(0.2)
            check()

        return slow_check

    monkeypatch.setattr(SqlSession, "interrupt", slow_interrupt)
    with _connect(server) as conn:
        conn.execute(texts[0]).fetchall()
        conn.execute("SET statement_timeout = 50")
        slow.set()
        with pytest.raises(psycopg.errors.QueryCanceled, match="statement timeout"):
            conn.execute(texts[1]).fetchall()
        slow.clear()
        assert _threads("execute", texts[1]) == [server.thread.name]
        assert conn.execute(texts[1]).fetchall()


def test_the_estimate_follows_recent_runs() -> None:
    """The median of the last three runs (of two, the dearer): one slow run (a GC pause) does not
    move a plan off the loop, two do; a slow first run (one-time costs) counts only until the second
    run replaces it, and a plan dear every time stays off."""

    class Plan:
        memo: dict = {}

    def cost(*runs: float) -> float:
        p = Plan()
        p.memo = {}
        for r in runs:
            imm.record(p, r)  # type: ignore[arg-type]
        return p.memo["execute_s"]  # type: ignore[no-any-return]

    cheap, slow = 0.0002, 0.05
    assert cost(cheap) == cheap and cost(slow) == slow and cost(slow, slow) == slow
    assert cost(slow, cheap) == cheap and cost(slow, cheap, cheap) == cheap  # the first run replaced
    assert cost(cheap, cheap, slow) == slow  # (the two after the first: the dearer)
    assert cost(cheap, cheap, cheap, slow) == cheap and cost(cheap, cheap, slow, slow) == slow
    assert cost(slow, slow, slow, slow, cheap, cheap) == cheap  # only the last three count
    assert cost(cheap) <= imm.EXECUTE_BUDGET_S < slow
