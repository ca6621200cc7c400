"""The start-up warm-up's query step runs its SQL and InfluxQL shapes on a scratch engine: every one
of them must work (a failure is only logged, so without this test a broken shape would go unseen),
and nothing is left behind."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from tsgres import warmup


def test_the_query_warm_up_runs_every_shape_and_leaves_nothing(caplog, monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    ran: list[str] = []
    real_sql, real_iql = warmup._sql_queries, warmup._influxql_queries
    monkeypatch.setattr(warmup, "_sql_queries", lambda *a: ran.append("sql") or real_sql(*a))
    monkeypatch.setattr(warmup, "_influxql_queries", lambda *a: ran.append("influxql") or real_iql(*a))
    with caplog.at_level(logging.WARNING, logger="tsgres"):
        warmup._queries()
    assert ran == ["sql", "influxql"]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert list(Path(tmp_path).iterdir()) == []  # the scratch engine's directory is gone


def test_a_shutdown_stops_the_query_warm_up_between_queries(caplog, monkeypatch, tmp_path):
    """The server stopping (``stop`` set) ends the step before its next query: the process does not
    wait for the rest, nor does a query run into the interpreter's shutdown (and log a traceback)."""
    import threading

    from compat.influx import query
    from sql.engine import SqlSession

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    stop = threading.Event()
    ran: list[str] = []
    execute, begin_query = SqlSession.execute, query.begin_query

    def counted(self, *args):  # type: ignore[no-untyped-def]
        ran.append("sql")
        if len(ran) == 3:
            stop.set()  # the server begins to stop while this query runs
        return execute(self, *args)

    monkeypatch.setattr(SqlSession, "execute", counted)
    monkeypatch.setattr(query, "begin_query", lambda *a: ran.append("influxql") or begin_query(*a))
    with caplog.at_level(logging.INFO, logger="tsgres"):
        warmup.warm_up(stop)
    assert ran == ["sql"] * 3
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "kernel warm-up stopped (shutting down)" in caplog.messages
    assert list(Path(tmp_path).iterdir()) == []
