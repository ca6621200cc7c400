"""`~` / `~*` on tags reach the series index when Python's re reads the pattern as PostgreSQL does."""

from __future__ import annotations

import pytest

from bench.datagen import DevopsCpu
from columnar.predicate import TagRegex
from sql.parse import parse
from sql.rewrite.pushdown import table_pushdown
from tests.sql.in_process import sql_engine


def _pushed(where_sql: str):
    tree = parse(f"SELECT * FROM cpu WHERE {where_sql}")
    return table_pushdown(tree.args["where"], "cpu", "time", {"hostname", "region"}, lambda e: 0)


def test_portable_patterns_are_pushed_down():
    pd = _pushed("hostname ~ '^host_(1|3)$'")
    assert pd.predicate == TagRegex("hostname", "^host_(1|3)$") and pd.exact
    pd = _pushed("hostname ~* 'HOST_[0-2]'")
    assert pd.predicate == TagRegex("hostname", "(?i)HOST_[0-2]")
    assert pd.predicate.compiled.search("host_1")
    pd = _pushed("hostname ~ 'host'")  # unanchored: a search, as PostgreSQL's ~
    assert pd.predicate.compiled.search("myhost_x")


@pytest.mark.parametrize("pattern", ["[[:digit:]]", "\\mhost", "(h)\\1", "o{2}"])
def test_patterns_read_differently_are_not(pattern):
    pd = _pushed(f"hostname ~ '{pattern}'")
    assert pd.predicate is None and not pd.exact


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    with sql_engine(tmp_path_factory.mktemp("re")) as (storage, engine):
        for b in DevopsCpu(12, hours=1, seed=5).batches(2000):
            storage.write("postgres", b).check()
        yield engine.session("postgres")


def _rows(s, sql):
    return [r for b in s.execute(s.prepare(sql, []), []).batches for r in b.to_pylist()]


@pytest.mark.parametrize(
    "cond",
    [
        "hostname ~ '^host_1'",
        "hostname ~* 'HOST_(2|7)$'",
        "region ~ 'us-(east|west)'",
        "hostname ~ '[[:digit:]]1'",
    ],
)
def test_native_regex_answers_as_duckdb(session, cond):
    sql = f"SELECT hostname, max(usage_user) AS m, count(usage_idle) AS n FROM cpu WHERE {cond} GROUP BY hostname ORDER BY hostname"
    session.set_setting("tsgres.native_executor", "off")
    want = _rows(session, sql)
    session.set_setting("tsgres.native_executor", "on")
    p = session.prepare(sql, [])
    assert (p.native is not None) == ("[[:" not in cond)
    assert _rows(session, sql) == want and want
