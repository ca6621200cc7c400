"""A WHERE analysed once per plan (pushdown.Analysed) pushes down per execution what a fresh
analysis of the same WHERE with the same values does."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sql.parse import parse
from sql.rewrite.pushdown import pushdown, table_pushdown
from tests.columnar.test_index import matches

NS = 10**9
T0 = dt.datetime(2016, 1, 1, tzinfo=dt.UTC)


def _ns(v: object) -> int | None:
    return int(v.timestamp()) * NS if isinstance(v, dt.datetime) else None


def _evaluate(params):
    """Epoch ns of a literal or a $n holding a datetime (as the session's evaluate_ns does)."""

    def evaluate(e):
        if e.key == "parameter":
            return _ns(params[int(e.this.name) - 1])
        if e.is_string:
            return _ns(dt.datetime.fromisoformat(e.this))
        return None

    return evaluate


WHERES = [
    "host = $1 AND time >= $2 AND time < $3",
    "host IN ($1, 'b') AND $2 <= time AND time BETWEEN $2 AND $3",
    "(host = $1 OR rack = 'r1') AND time > '2016-01-01 00:10:00+00:00' AND v > 3",
    "tsgres_time_ns >= 5 AND tsgres_time_ns < 99 AND host <> $1",
    "time >= $2 AND time < $3 AND host = $1 AND rack LIKE 'r%'",
]
VALUES = [
    ["a", T0, T0 + dt.timedelta(hours=1)],
    ["", T0 - dt.timedelta(days=3), T0],
    ["zz", None, T0],  # a NULL bound: nothing pushed for it, and the plan stays inexact
]


@pytest.mark.parametrize("where", WHERES)
def test_analysed_once_equals_analysed_each_time(where):
    tree = parse(f"SELECT * FROM cpu WHERE {where}").args["where"]
    memo: dict = {}
    for params in VALUES:
        fresh = table_pushdown(tree, "cpu", "time", {"host", "rack"}, _evaluate(params), params)
        kept = table_pushdown(tree, "cpu", "time", {"host", "rack"}, _evaluate(params), params, memo)
        assert (kept.tmin, kept.tmax, kept.predicate, kept.exact) == (
            fresh.tmin,
            fresh.tmax,
            fresh.predicate,
            fresh.exact,
        )
        assert [c.sql() for c in kept.pushed] == [c.sql() for c in fresh.pushed]
    assert "pushdown" in memo


def test_values_of_each_execution_are_used():
    tree = parse("SELECT * FROM cpu WHERE host = $1 AND time >= $2 AND time < $3").args["where"]
    memo: dict = {}
    t0 = int(T0.timestamp()) * NS
    for params, tmin, tmax in ((VALUES[0], t0, t0 + 3600 * NS - 1), (VALUES[1], t0 - 3 * 86400 * NS, t0 - 1)):
        pd = table_pushdown(tree, "cpu", "time", {"host"}, _evaluate(params), params, memo)
        assert (pd.tmin, pd.tmax, pd.predicate.value) == (tmin, tmax, params[0])


@pytest.mark.parametrize(
    "where",
    [
        "(host = $1 OR host = $2 OR $3 = host) AND time >= $4",
        "(host = $1 OR (host = $2 OR host = $3))",
        "(host = $1 OR rack = $2 OR host = $3)",
        "(host = $1 OR host <> $2) AND rack = $3",
    ],
)
def test_parameter_tag_tests_select_what_the_tree_walk_selects(where):
    """tag = $n (and OR chains of them) are bound without walking the tree: the series selected are
    those of the tree walk's predicate, and exactness is the same (an empty value is not exact)."""
    from sql.rewrite.pushdown import _tag_predicate, conjuncts

    tree = parse(f"SELECT * FROM cpu WHERE {where}").args["where"]
    is_tag = lambda c: c.name in ("host", "rack")  # noqa: E731
    series = [{"host": h, "rack": r} for h in ("a", "b", "c", "") for r in ("r1", "b", "")]
    for params in (["a", "b", "c", T0], ["a", "", "b", T0], ["b", "b", "r1", T0]):
        got = table_pushdown(tree, "cpu", "time", {"host", "rack"}, _evaluate(params), params)
        walked = [_tag_predicate(c, is_tag, params) for c in conjuncts(tree) if "time" not in c.sql()]
        for tags in series:
            assert matches(got.predicate, tags) == all(matches(w, tags) for w in walked), (params, tags)
        exact_walk = all(w is not None and _exact_ref(w) for w in walked)
        assert got.exact == exact_walk


def _exact_ref(p) -> bool:
    from sql.rewrite.pushdown import _exact

    return _exact(p)


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@settings(max_examples=200, deadline=None)
@given(
    op=st.sampled_from([">", ">=", "<", "<=", "="]),
    when=st.datetimes(
        min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1), timezones=st.timezones()
    ),
)
def test_a_time_parameter_with_a_zone_is_read_off_as_its_instant(op, when):
    """``time op $n`` bound to a datetime with a zone: the bound is read off the value (no call to
    evaluate_ns), and it is the bound evaluate_ns gives, to the microsecond and either side."""
    tree = parse(f"SELECT * FROM cpu WHERE time {op} $1").args["where"]
    exact_ns = (when - _EPOCH) // dt.timedelta(microseconds=1) * 1000
    asked = []

    def evaluate(e):
        asked.append(e)
        return exact_ns

    read = table_pushdown(tree, "cpu", "time", set(), lambda e: None, [when], {})
    evaluated = pushdown(
        parse(f"SELECT * FROM cpu WHERE time {op} now()").args["where"], _is_time, _no_tag, evaluate
    )
    assert asked and (read.tmin, read.tmax) == (evaluated.tmin, evaluated.tmax)


def test_a_time_parameter_without_a_zone_is_evaluated():
    """A naive datetime's instant depends on the session's zone: evaluate_ns decides it."""
    tree = parse("SELECT * FROM cpu WHERE time >= $1").args["where"]
    asked = []

    def evaluate(e):
        asked.append(e.sql("postgres"))
        return 42

    got = table_pushdown(tree, "cpu", "time", set(), evaluate, [dt.datetime(2016, 1, 1)], {})
    assert asked == ["$1"] and got.tmin == 42
    # and a timestamp-without-time-zone column reads even a zoned value by its wall clock
    asked.clear()
    got = table_pushdown(tree, "cpu", "time", set(), evaluate, [T0], {}, naive=True)
    assert len(asked) == 1 and "AT TIME ZONE" in asked[0] and got.tmin == 42


def _is_time(c) -> bool:
    return c.name == "time"


def _no_tag(c) -> bool:
    return False
