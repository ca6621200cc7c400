"""The InfluxQL parse cache (sql/influxql/parse_cache.py): a text whose template was seen before gets
the tree parse_query gives it, with its own values, and never a tree another text left behind."""

from __future__ import annotations

import re

import pytest

from sql.influxql import ast as A
from sql.influxql.lexer import T
from sql.influxql.parse_cache import ParseCache
from sql.influxql.parser import ParseError, parse_query
from tests.influxql.test_differential import _split_opts, load_cases

QUERIES = sorted({q for case in load_cases() for line in case.queries for q in [_split_opts(line)[1]]})


def _parse(parse, text: str):
    try:
        return parse(text)
    except ParseError as e:
        return f"ParseError: {e}"


def _variant(text: str) -> str:
    """``text`` with every literal after a comparison operator given another value of its kind."""

    def other(m: re.Match[str]) -> str:
        lit = m.group(2)
        if lit.startswith("'"):
            return m.group(1) + "'x" + lit[1:-1] + "y'"
        if "." in lit:
            return m.group(1) + lit + "25"
        return m.group(1) + str(int(lit) + 7)

    return re.sub(r"([=<>]\s*)('[^'\\\n]*'|\d+\.\d+|\d+)(?![\w.])", other, text)


def test_corpus_texts_and_variants_parse_as_the_parser_does() -> None:
    cache = ParseCache()
    for text in QUERIES:
        for t in (text, text, _variant(text), _variant(_variant(text))):
            assert _parse(cache.parse, t) == _parse(parse_query, t), t
    assert cache.hits > len(QUERIES)  # the variants of most texts were hits


def test_a_hit_takes_its_own_values() -> None:
    cache = ParseCache()
    a = "SELECT max(v) FROM cpu WHERE host = 'a' AND time >= '2016-01-01T00:00:00Z' AND v > 90.5 AND n = 3"
    b = "SELECT max(v) FROM cpu WHERE host = 'b' AND time >= '2016-01-02T00:00:00Z' AND v > 1.25 AND n = 4"
    assert cache.parse(a) == parse_query(a)
    got = cache.parse(b)
    assert (cache.hits, cache.misses) == (1, 1)
    assert got == parse_query(b)
    lits = [n for n in A.walk(got[0].condition) if isinstance(n, A.Literal)]
    assert lits == [
        A.StringLiteral("b"),
        A.StringLiteral("2016-01-02T00:00:00Z"),
        A.NumberLiteral(1.25),
        A.IntegerLiteral(4),
    ]


def test_kinds_have_their_own_templates() -> None:
    """An integer, a number and a string literal are different tokens: never one template."""
    cache = ParseCache()
    for text, node in [
        ("SELECT v FROM cpu WHERE v > 5", A.IntegerLiteral(5)),
        ("SELECT v FROM cpu WHERE v > 5.5", A.NumberLiteral(5.5)),
        ("SELECT v FROM cpu WHERE v > '5'", A.StringLiteral("5")),
        ("SELECT v FROM cpu WHERE v > 6", A.IntegerLiteral(6)),
    ]:
        cond = cache.parse(text)[0].condition
        assert isinstance(cond, A.BinaryExpr)
        assert cond.rhs == node
    assert len(cache) == 3


def test_trees_are_fresh() -> None:
    """Callers may change the tree they get; the next text with the template does not see it."""
    cache = ParseCache()
    text = "SELECT mean(v) FROM cpu WHERE host = 'a' GROUP BY time(1m)"
    for _ in range(3):
        stmt = cache.parse(text)[0]
        assert stmt == parse_query(text)[0]
        stmt.fields.clear()
        stmt.sources.clear()
        stmt.dimensions.append(stmt.dimensions[0])
        assert isinstance(stmt.condition, A.BinaryExpr)
        stmt.condition.rhs = A.StringLiteral("changed")
        stmt.limit = 99


@pytest.mark.parametrize(
    "texts",
    [
        # a quote in an identifier, a comment or a regex is not a literal
        ["SELECT \"v>'a'\" FROM cpu", "SELECT \"v>'b'\" FROM cpu"],
        ["SELECT v FROM cpu -- host = 'a'", "SELECT v FROM cpu -- host = 'b'"],
        ["SELECT v FROM cpu WHERE host =~ /='a'/", "SELECT v FROM cpu WHERE host =~ /='b'/"],
        # a literal glued to a word, a literal where the grammar takes none
        ["SELECT v FROM cpu WHERE host = 'a'and v > 1", "SELECT v FROM cpu WHERE host = 'b'and v > 1"],
        ["SELECT v FROM cpu WHERE host = 'a' 'b'", "SELECT v FROM cpu WHERE host = 'c' 'd'"],
        ["SELECT v FROM cpu LIMIT = 3", "SELECT v FROM cpu LIMIT = 4"],
        # LIMIT, fill(), tz() and durations keep their literals in the template
        ["SELECT v FROM cpu LIMIT 3", "SELECT v FROM cpu LIMIT 4"],
        [
            "SELECT mean(v) FROM cpu WHERE time > 0 GROUP BY time(1m) fill(1) tz('UTC')",
            "SELECT mean(v) FROM cpu WHERE time > 1 GROUP BY time(2m) fill(2) tz('Europe/Paris')",
            "SELECT mean(v) FROM cpu WHERE time > 2 GROUP BY time(2m) fill(2) tz('Nowhere/Else')",
        ],
        # a unary minus, a number out of int64, a number with an exponent
        ["SELECT v FROM cpu WHERE v > -5", "SELECT v FROM cpu WHERE v > -6"],
        [
            "SELECT v FROM cpu WHERE v > 99999999999999999999",
            "SELECT v FROM cpu WHERE v > 9223372036854775808",
        ],
        ["SELECT v FROM cpu WHERE v > 1e5", "SELECT v FROM cpu WHERE v > 2e5"],
        # several statements, and meta queries
        ["SELECT v FROM cpu WHERE h = 'a'; SELECT w FROM mem WHERE h = 'b'"] * 2,
        ["SHOW TAG VALUES WITH KEY = 'host'", 'SHOW TAG VALUES WITH KEY = "region"'],
        ["SHOW TAG VALUES WITH KEY = host WHERE a = 'x'", "SHOW TAG VALUES WITH KEY = host WHERE a = 'y'"],
        ["CREATE DATABASE a WITH DURATION 1h REPLICATION 1", "DELETE FROM cpu WHERE time < 5"],
    ],
)
def test_texts_parse_as_the_parser_does(texts: list[str]) -> None:
    cache = ParseCache()
    for _ in range(2):
        for text in texts:
            assert _parse(cache.parse, text) == _parse(parse_query, text), text


def test_parse_errors_keep_their_texts_positions() -> None:
    cache = ParseCache()
    for host in ("a", "bb", "ccc"):
        text = f"SELECT v FROM cpu WHERE host = '{host}' AND"
        with pytest.raises(ParseError) as got:
            cache.parse(text)
        with pytest.raises(ParseError) as want:
            parse_query(text)
        assert str(got.value) == str(want.value)


def test_bound_parameters_take_the_parser() -> None:
    cache = ParseCache()
    text = "SELECT v FROM cpu WHERE host = $h AND v > 1"
    for h in ("a", "b"):
        assert cache.parse(text, {"h": h}) == parse_query(text, {"h": h})
    assert len(cache) == 0


def test_long_texts_take_the_parser() -> None:
    from sql.influxql.parse_cache import MAX_TEXT

    cache = ParseCache()
    text = f"SELECT v FROM cpu WHERE host = '{'h' * MAX_TEXT}'"
    assert cache.parse(text) == parse_query(text)
    assert len(cache) == 0


def test_a_tree_too_deep_to_compare_is_no_template() -> None:
    cache = ParseCache()
    for h in ("a", "b"):
        text = "SELECT v FROM cpu WHERE " + " OR ".join(f"host = '{h}{i}'" for i in range(1200))
        assert len(cache.parse(text)[0].fields) == 1
    assert cache.hits == 0


def test_least_recently_used_templates_leave() -> None:
    cache = ParseCache(size=2)
    texts = [f"SELECT v{i} FROM cpu WHERE host = 'a'" for i in range(3)]
    for text in texts:
        cache.parse(text)
    assert len(cache) == 2
    cache.parse(texts[0].replace("'a'", "'b'"))
    assert cache.misses == 4  # texts[0]'s template was the one dropped


NOW = 1_700_000_000 * 10**9


def _split(plan, cond):
    """condition_expr's answer (or error) for ``cond``, by ``plan`` (None: condition_expr itself)."""
    import datetime as dt

    from sql.influxql.compile import QueryError, condition_expr

    try:
        expr, tr = condition_expr(cond, NOW, dt.UTC) if plan is None else plan.bind(cond, NOW, dt.UTC)
    except QueryError as e:
        return f"QueryError: {e}"
    return expr, tr


def test_condition_plans_split_every_text_of_their_template_as_its_own() -> None:
    """A template's ConditionPlan, made from the first text, splits each text of the template (other
    values, other errors) as condition_expr splits that text's condition."""
    cache = ParseCache()
    bound = 0
    for text in QUERIES:
        if isinstance(_parse(cache.parse, text), str):
            continue
        for t in (text, _variant(text), _variant(_variant(text))):
            statements, key = cache.parse_keyed(t)
            for i, stmt in enumerate(statements):
                plan = cache.condition_plan(key, i)
                if plan is None or not isinstance(stmt, A.SelectStatement):
                    continue
                assert _split(plan, stmt.condition) == _split(None, parse_query(t)[i].condition), t
                bound += 1
    assert bound > len(QUERIES)


def test_condition_plans_are_their_own_templates() -> None:
    """Texts that differ in a value share a plan that takes each one's values; texts that differ in
    an operator or a literal's kind have plans of their own."""
    cache = ParseCache()
    base = "SELECT max(v) FROM cpu WHERE host = {h} AND time {op} {t} AND time < '2016-01-01T01:00:00Z'"
    ranges = {}
    for h, op, t in [
        ("'a'", ">=", "'2016-01-01T00:00:00Z'"),
        ("'b'", ">=", "'2016-01-01T00:30:00Z'"),
        ("'a'", ">", "'2016-01-01T00:00:00Z'"),
        ("'a'", ">=", "1451606400000000000"),
        ("'a'", "=", "'2016-01-01T00:10:00Z'"),
    ]:
        text = base.format(h=h, op=op, t=t)
        [stmt], key = cache.parse_keyed(text)
        plan = cache.condition_plan(key, 0)
        assert plan is not None and plan is cache.condition_plan(key, 0)  # made once
        expr, tr = _split(plan, stmt.condition)
        assert (expr, tr) == _split(None, parse_query(text)[0].condition)
        assert expr == A.BinaryExpr(T.EQ, A.VarRef("host"), A.StringLiteral(h.strip("'")))
        ranges[(h, op, t)] = (tr.min, tr.max)
    hour = 3600 * 10**9
    start = 1451606400 * 10**9
    assert list(ranges.values()) == [
        (start, start + hour - 1),
        (start + hour // 2, start + hour - 1),
        (start + 1, start + hour - 1),
        (start, start + hour - 1),
        (start + 600 * 10**9, start + 600 * 10**9),
    ]


def test_a_condition_plans_errors_name_the_texts_own_nodes() -> None:
    """A node that is no condition is reported with the text's values, not the template's."""
    cache = ParseCache()
    for value in (5, 7):
        text = f"SELECT v FROM m WHERE time > 0 AND abs(v > {value})"
        [stmt], key = cache.parse_keyed(text)
        plan = cache.condition_plan(key, 0)
        assert _split(plan, stmt.condition) == f"QueryError: invalid condition expression: abs(v > {value})"
    assert cache.hits == 1
