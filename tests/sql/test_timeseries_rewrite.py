"""Fixture-driven tests of the time-series rewrite rules and of calls qualified with a schema
(tests/fixtures/rewrite/<rule>.sql).

``expect sql`` blocks run the file's rule alone on the parsed input; ``expect rows`` / ``columns`` /
``error`` blocks run the input through a SqlSession (in process, data inserted by the file's setup
block) and compare what comes back.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import numpy as np
import pytest

from sql import errors as E
from sql.parse import parse
from sql.rewrite import RewriteContext
from tests.sql.fixtures_loader import Fixture, load, normalise_sql, text

RULES = ("gapfill", "time_bucket", "first_last", "histogram", "percentile", "rate", "asof", "qualified_calls")
FILES = {rule: load(rule) for rule in RULES}
FLOAT4_OID = 700


def _params(kind: str) -> list:
    out = []
    for f in FILES.values():
        for fx in f.fixtures:
            wanted = fx.expect_sql is not None if kind == "sql" else fx.expect_sql is None
            if wanted:
                out.append(pytest.param(fx, id=fx.id))
    return out


def run(session, sql: str) -> tuple[list[str], list[str]]:
    """(column names, rows as 'a | b | c' text) of one statement."""
    res = session.execute(session.prepare(sql, []), [])
    names = [c.name for c in res.columns or []]
    oids = [c.type_oid for c in res.columns or []]
    rows: list[str] = []
    for batch in res.batches or []:
        cols = [c.to_pylist() for c in batch.columns]
        for values in zip(*cols, strict=True):
            cells = []
            for v, oid in zip(values, oids, strict=True):
                if oid == FLOAT4_OID and isinstance(v, float):
                    cells.append(repr(float(str(np.float32(v)))))  # float4's shortest text, as PG
                else:
                    cells.append(text(v))
            rows.append(" | ".join(cells))
    return names, rows


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """One engine per fixture file, set up lazily."""
    from columnar.engine import Engine
    from columnar.options import EngineOptions
    from sql.engine import SqlEngine

    engines = []

    class Lazy(dict):
        def __missing__(self, rule: str):
            storage = Engine.open(
                tmp_path_factory.mktemp(f"ts_{rule}"), EngineOptions(compaction_interval_s=0, wal_fsync="off")
            )
            engines.append(storage)
            session = SqlEngine(storage).session("postgres")
            for stmt in FILES[rule].setup:
                run(session, stmt)
            self[rule] = session
            return session

    yield Lazy()
    for e in engines:
        e.close()


@pytest.mark.parametrize("fx", _params("sql"))
def test_rewrite_sql(fx: Fixture) -> None:
    rule = getattr(importlib.import_module(f"sql.rewrite.{fx.rule}"), fx.rule)
    out = rule(parse(fx.sql), RewriteContext("postgres"))
    assert normalise_sql(out.sql("duckdb")) == normalise_sql(fx.expect_sql or "")


@pytest.mark.parametrize("fx", _params("run"))
def test_fixture_runs(fx: Fixture, sessions) -> None:
    session = sessions[fx.rule]
    if fx.expect_error is not None:
        code, message = fx.expect_error
        with pytest.raises(E.SqlError) as info:
            run(session, fx.sql)
        assert info.value.sqlstate == code, info.value.message
        assert message.lower() in info.value.message.lower()
        return
    names, rows = run(session, fx.sql)
    if fx.expect_columns is not None:
        assert names == fx.expect_columns
    if fx.expect_rows is not None:
        assert rows == fx.expect_rows
