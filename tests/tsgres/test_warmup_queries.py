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
