"""Texts that differ only in WHERE constants share one plan, and answer as if each were planned alone."""

from __future__ import annotations

import datetime as dt
import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.datagen import DevopsCpu
from sql import plan_cache
from sql.parse import parse
from tests.sql import in_process


# -- templates -------------------------------------------------------------------------------------------
def test_template_lifts_comparison_values_only():
    sql = (
        "SELECT date_trunc('minute', time) AS m, max(v) FROM cpu WHERE (hostname = 'host_9' OR "
        "hostname='h''x') AND time >= '2016-01-01 04:07:08 +0000' AND v > 90.0 AND y IN (1,2) "
        "AND z = E'a' AND \"q'x\" = 3 AND w > interval '1 hour' GROUP BY 1 LIMIT 5 -- 'c'"
    )
    tpl = plan_cache.template(sql, 0)
    assert tpl is not None
    assert tpl.literals == (
        "'minute'",
        "'host_9'",
        "'h''x'",
        "'2016-01-01 04:07:08 +0000'",
        "90.0",
        "1",
        "2",
        "3",
    )
    assert tpl.kinds[:5] == ("str", "str", "str", "str", "num")
    # prefixed strings, typed literals, quoted identifiers, LIMIT and comments stay in the text
    for kept in ("E'a'", '"q\'x"', "interval '1 hour'", "LIMIT 5", "-- 'c'"):
        assert kept in tpl.text
    assert "'host_9'" not in tpl.text and "$2 " in tpl.text


def test_template_numbers_after_client_parameters():
    tpl = plan_cache.template("SELECT * FROM t WHERE a = $2 AND b = 'x'", 1)
    assert tpl is not None and tpl.base == 2 and "b = $3 " in tpl.text
    tpl = plan_cache.template("SELECT * FROM t WHERE b = 'x'", 4)
    assert tpl is not None and tpl.base == 4 and "$5 " in tpl.text
    assert plan_cache.template("SELECT * FROM t", 0) is None
    assert plan_cache.template("SELECT $$a = 'b'$$, $q$ = 1 $q$", 0) is None


_PIECES = st.sampled_from(
    [
        "SELECT",
        " x",
        " =",
        " '",
        "'",
        "''",
        " 'a b'",
        " 12",
        " 1.5e3",
        " IN (",
        ")",
        ",",
        ' "id q"',
        '"',
        ' "a""b"',
        '""',
        " INTERVAL '5 min'",
        " '\"'",
        " E'\\''",
        " -- c\n",
        " /* 'x' */",
        " $$ 'y' $$",
        " $q$ 'z' $q$",
        " $1",
        " E'\\''",
        " AND",
        " BETWEEN",
        " host_1",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=25))
def test_template_round_trip(pieces):
    """Putting each candidate's text back where its parameter stands gives the original text."""
    sql = "".join(pieces)
    tpl = plan_cache.template(sql, 0)
    if tpl is None:
        return

    back = tpl.pieces[0] + "".join(
        lit + piece for lit, piece in zip(tpl.literals, tpl.pieces[1:], strict=True)
    )
    assert back == sql
    assert tpl.text == tpl.pieces[0] + "".join(
        f"${tpl.base + i + 1} " + piece for i, piece in enumerate(tpl.pieces[1:])
    )


_OTHER_LITERALS = st.sampled_from(
    ["'x'", "''", "'a''b'", "'2016-01-01 00:00:00 +0000'", "7", "12.5", "1e9", ".5"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=25), st.lists(_PIECES, max_size=25), st.data())
def test_template_of_a_repeated_shape_is_the_scans(first, other, data):
    """After a text's template is known, a text with other literals in the same places, or any other
    text, is cut exactly as a full scan cuts it (the refill shortcut never changes a cut)."""
    prefix = "SELECT a, b FROM t WHERE "  # (templates are remembered by their first characters)
    sql = prefix + "".join(first)
    tpl = plan_cache.template(sql, 0)
    assert tpl == plan_cache._scan(sql, 0)
    texts = [prefix + "".join(other)]
    if tpl is not None:
        lits = [data.draw(_OTHER_LITERALS) for _ in tpl.literals]
        texts.append(tpl.pieces[0] + "".join(lit + p for lit, p in zip(lits, tpl.pieces[1:], strict=True)))
        texts.append(sql + " 5")
    for text in texts:
        assert plan_cache.template(text, 0) == plan_cache._scan(text, 0), text


def test_a_quote_in_a_piece_keeps_the_template_from_being_reused():
    """A token of a piece can depend on the text after it (a quote looking for its closing one): such
    a template is not reused for texts that merely have the same pieces."""
    prefix = "SELECT a, b FROM t WHERE  E'\\'' = "
    first = plan_cache.template(prefix + "5", 0)
    assert first is not None and first.pieces[0] == prefix  # the quote pairs up across the literal
    assert plan_cache._scan(prefix + "'a b'", 0) is None  # here it pairs up inside it
    assert plan_cache.template(prefix + "'a b'", 0) is None


_TS_TEXT = st.builds(
    lambda d, sep, t, frac, sp, off: f"{d}{sep}{t}{frac}{sp}{off}",
    st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)).map(str),
    st.sampled_from([" ", "T"]),
    st.sampled_from(["", "00:00", "05:37", "23:59:59", "12:30:01", "24:00:00", "07:08:60"]),
    st.sampled_from(["", ".5", ".123", ".000001", ".999999"]),
    st.sampled_from(["", " ", "  "]),
    st.sampled_from(["", "Z", "+00", "-05", "+0530", "+05:30", "-00:30", "+14:00", "-1200"]),
)


@settings(max_examples=400, deadline=None)
@given(_TS_TEXT, st.sampled_from([plan_cache.TIMESTAMPTZ, plan_cache.TIMESTAMP]))
def test_timestamp_shortcut_reads_what_the_parts_read(text, oid):
    """The fromisoformat shortcut gives the value (or the refusal) of reading the regex's parts."""
    m = plan_cache._TS.match(text)
    if m is None:
        return
    for tz in ("UTC", "Europe/Berlin"):
        try:
            want: object = plan_cache._timestamp_parts(m, oid, tz)
        except ValueError:
            want = ValueError
        try:
            got: object = plan_cache._timestamp(text, oid, tz)
        except ValueError:
            got = ValueError
        assert got == want, (text, oid, tz)
        if isinstance(got, dt.datetime):
            assert got.utcoffset() == want.utcoffset()  # type: ignore[union-attr]


def test_timestamp_values_read_as_postgresql_does():
    v = plan_cache.value(plan_cache.TIMESTAMPTZ, "'2016-01-01 04:07:08 +0000'", "str", "UTC")
    assert v == dt.datetime(2016, 1, 1, 4, 7, 8, tzinfo=dt.UTC)
    v = plan_cache.value(plan_cache.TIMESTAMPTZ, "'2016-01-01T04:07:08.5-05:30'", "str", "UTC")
    assert v == dt.datetime(2016, 1, 1, 9, 37, 8, 500000, tzinfo=dt.UTC)
    v = plan_cache.value(plan_cache.TIMESTAMPTZ, "'2016-07-01 00:00'", "str", "Europe/Berlin")
    assert v == dt.datetime(2016, 6, 30, 22, 0, tzinfo=dt.UTC)
    assert plan_cache.value(plan_cache.TIMESTAMP, "'2016-01-02'", "str", "UTC") == dt.datetime(2016, 1, 2)
    for bad in ("'now'", "'2016-01-01 00:00:00 Europe/Berlin'", "'2016-01-01 00:00:00.1234567'"):
        with pytest.raises(ValueError):
            plan_cache.value(plan_cache.TIMESTAMPTZ, bad, "str", "UTC")
    with pytest.raises(ValueError):  # PostgreSQL drops the offset of a timestamp without time zone
        plan_cache.value(plan_cache.TIMESTAMP, "'2016-01-02 00:00+02'", "str", "UTC")
    with pytest.raises(ValueError):
        plan_cache.value(21, "40000", "num", "UTC")
    with pytest.raises(ValueError):
        plan_cache.value(25, "''", "str", "UTC")


def test_parameters_without_spaces_parse():
    tree = parse("SELECT 1 WHERE 2 IN ($1,$2) AND '$3,$' = $3")
    assert tree.sql("postgres") == "SELECT 1 WHERE 2 IN ($1, $2) AND '$3,$' = $3"


# -- shared plans answer like their own ------------------------------------------------------------------
@pytest.fixture(scope="module")
def sql_engine(tmp_path_factory):
    with in_process.sql_engine(tmp_path_factory.mktemp("plans")) as (storage, engine):
        gen = DevopsCpu(5, hours=2, seed=3)
        for i, b in enumerate(gen.batches(1500)):
            storage.write("postgres", b).check()
            if i == 1:
                storage.flush()
        yield engine


def _rows(s, sql, params=()):
    r = s.execute(s.prepare(sql, [0] * len(params)), list(params))
    return (
        [c.name for c in r.columns],
        [c.type_oid for c in r.columns],
        [tuple(x.values()) for b in r.batches for x in b.to_pylist()],
    )


def _same(a, b):
    assert a[0] == b[0] and a[1] == b[1]
    assert len(a[2]) == len(b[2])
    for x, y in zip(a[2], b[2], strict=True):
        for u, v in zip(x, y, strict=True):
            if isinstance(u, float):
                assert (math.isnan(u) and math.isnan(v)) or u == pytest.approx(v, rel=1e-12)
            else:
                assert u == v


SHAPES = [
    "SELECT date_trunc('minute', time) AS m, max(usage_user) FROM cpu WHERE hostname = '{h}' AND time >= '{a}' AND time < '{b}' GROUP BY m ORDER BY m",
    "SELECT date_trunc('hour', time) AS m, hostname, avg(usage_idle) FROM cpu WHERE hostname IN ('{h}', 'host_0') AND time BETWEEN '{a}' AND '{b}' GROUP BY m, hostname ORDER BY m, hostname",
    "SELECT * FROM cpu WHERE usage_user > {n} AND time >= '{a}' AND time < '{b}' ORDER BY time, hostname",
    "WITH x AS (SELECT time_bucket('10 minutes', time) AS t, hostname, count(*) AS c FROM cpu WHERE time > '{a}' AND hostname <> '{h}' GROUP BY 1, 2) SELECT * FROM x ORDER BY 1, 2 LIMIT {n}",
    "SELECT hostname, usage_system FROM cpu WHERE time = '{a}' ORDER BY hostname",
    "SELECT DISTINCT ON (hostname) hostname, time, usage_user FROM cpu WHERE time < '{b}' ORDER BY hostname, time DESC",
]
VALUES = [
    {"h": "host_1", "a": "2016-01-01 00:10:00 +0000", "b": "2016-01-01 01:10:00 +0000", "n": "50"},
    {"h": "host_3", "a": "2016-01-01T00:20:10Z", "b": "2016-01-01 00:59:50+00", "n": "90"},
    {"h": "host_4", "a": "2016-01-01 00:00:00", "b": "2016-01-01 01:30:00", "n": "7"},
    {"h": "host_2", "a": "2015-12-31 19:00:00-05", "b": "2016-01-01 03:00:00+02:00", "n": "0"},
]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("timezone", ["UTC", "America/New_York"])
def test_shared_plan_answers_as_its_own(sql_engine, shape, timezone):
    shared = sql_engine.session("postgres")
    alone = sql_engine.session("postgres")
    for s in (shared, alone):
        s.set_setting("timezone", timezone)
    alone.set_setting("tsgres.shared_plans", "off")
    first = None
    for vals in VALUES:
        sql = shape.format(**vals)
        got = _rows(shared, sql)
        _same(got, _rows(alone, sql))
        p = shared.prepare(sql, [])
        if first is None:
            first = p
        elif p.extra_params:  # a text of the same template reuses the first plan's tree
            assert p.tree is first.tree
        assert p.param_oids == []  # the lifted values are not the client's parameters


def test_lifted_values_and_client_parameters(sql_engine):
    s = sql_engine.session("postgres")
    sql = "SELECT count(*) FROM cpu WHERE hostname = $1 AND time >= '2016-01-01 00:30:00+00'"
    p = s.prepare(sql, [0])
    assert p.param_oids == [25] and len(p.extra_params) == 1
    n3 = s.execute(p, ["host_3"]).batches
    assert [r for b in n3 for r in b.to_pylist()] == [{"count": 540}]


def test_values_that_cannot_be_read_exactly_take_their_own_plan(sql_engine):
    s = sql_engine.session("postgres")
    base = "SELECT count(*) FROM cpu WHERE hostname = '{}' AND time >= '2016-01-01 00:30:00+00'"
    assert s.prepare(base.format("host_1"), []).extra_params
    p = s.prepare(base.format(""), [])  # '' is a missing tag to the index, not to SQL
    assert p.extra_params == ()
    assert [r for b in s.execute(p, []).batches for r in b.to_pylist()] == [{"count": 0}]
    q = "SELECT count(*) FROM cpu WHERE time >= '{}'"
    assert s.prepare(q.format("2016-01-01 00:30:00+00"), []).extra_params
    assert s.prepare(q.format("epoch"), []).extra_params == ()


def test_errors_point_into_the_clients_text(sql_engine):
    from sql import errors as E

    s = sql_engine.session("postgres")
    with pytest.raises(E.UndefinedColumn):
        s.prepare("SELECT nope FROM cpu WHERE hostname = 'host_1'", [])
    with pytest.raises(E.SyntaxError_) as err:
        s.prepare("SELECT * FROM cpu WHERE hostname = 'host_1' AND AND", [])
    assert err.value.position == len("SELECT * FROM cpu WHERE hostname = 'host_1' AND ") + 1


def test_constant_queries_are_computed_once(sql_engine):
    s = sql_engine.session("postgres")
    p = s.prepare("SELECT 1", [])
    assert p.constant is not None
    assert [r for b in s.execute(p, []).batches for r in b.to_pylist()] == [{"?column?": 1}]
    assert [r for b in s.execute(p, []).batches for r in b.to_pylist()] == [{"?column?": 1}]
    for volatile in ("SELECT now()", "SELECT 'now'::timestamptz", "SELECT random()"):
        assert s.prepare(volatile, []).constant is None
    a = [r for b in s.execute(s.prepare("SELECT now() AS t", []), []).batches for r in b.to_pylist()]
    b = [r for b in s.execute(s.prepare("SELECT now() AS t", []), []).batches for r in b.to_pylist()]
    assert a[0]["t"] < b[0]["t"]


def test_rewrite_is_reused_only_without_session_values(sql_engine):
    s = sql_engine.session("postgres")
    q = s.prepare(
        "SELECT current_setting('application_name') AS a, count(*) AS n FROM cpu WHERE usage_user > 50", []
    )
    s.set_setting("application_name", "one")
    first = [r for b in s.execute(q, []).batches for r in b.to_pylist()]
    s.set_setting("application_name", "two")
    second = [r for b in s.execute(q, []).batches for r in b.to_pylist()]
    assert first[0]["a"] == "one" and second[0]["a"] == "two" and first[0]["n"] == second[0]["n"] > 0
    assert "rewritten" not in q.memo and q.memo["bound"] is None  # (bound anew each time)
    w = "SELECT hostname, usage_user - lag(usage_user) OVER (PARTITION BY hostname ORDER BY time) AS d FROM cpu ORDER BY hostname, time LIMIT 5"
    p = s.prepare(w, [])
    a = [r for b in s.execute(p, []).batches for r in b.to_pylist()]
    assert p.memo["bound"] is not None  # rewritten and bound once, for every execution
    assert [r for b in s.execute(p, []).batches for r in b.to_pylist()] == a and len(a) == 5


JOINED = (
    "SELECT a.hostname, count(*) AS n, max(b.usage_user) AS m FROM cpu a JOIN cpu b "
    "ON a.hostname = b.hostname AND a.time = b.time WHERE a.hostname = '{h}' AND a.time >= '{a}' "
    "AND b.time < '{b}' AND b.usage_user > {n} GROUP BY a.hostname"
)


def test_a_plan_duckdb_runs_is_bound_once_and_each_run_pushes_its_own_values(sql_engine):
    """The scans of a plan bound once (sql/binder.py's BoundPlan) get each execution's time range
    and tag values: every text answers as when planned alone."""
    shared = sql_engine.session("postgres")
    alone = sql_engine.session("postgres")
    alone.set_setting("tsgres.shared_plans", "off")
    plans = set()
    values = [
        {
            "h": f"host_{i}",
            "a": f"2016-01-01 00:{10 * i:02d}:00+00",
            "b": f"2016-01-01 01:{5 * i:02d}:00+00",
            "n": n,
        }
        for i, n in ((1, 50), (2, 90), (3, 7), (4, 0))
    ]
    for vals in values:
        sql = JOINED.format(**vals)
        p = shared.prepare(sql, [])  # (before `alone` caches a plan of this very text)
        got = _rows(shared, sql)
        _same(got, _rows(alone, sql))
        assert p.native is None and p.memo["bound"] is not None
        plans.add(id(p.memo["bound"]))
        scans = [s.reference.table.alias_or_name for s in p.memo["bound"].scans]
        assert scans == ["a", "b"]
    assert len(plans) == 1
    counts = {v["h"]: _rows(alone, JOINED.format(**v))[2] for v in values}
    assert len({str(c) for c in counts.values()}) > 1  # the values do change the answer


def test_an_empty_tag_value_runs_on_duckdb_and_a_computed_bound_is_pushed(sql_engine):
    s = sql_engine.session("postgres")
    sql = "SELECT hostname, count(usage_user) AS n FROM cpu WHERE hostname = $1 GROUP BY hostname"
    p = s.prepare(sql, [25])
    assert p.native is not None
    assert [r for b in s.execute(p, [""]).batches for r in b.to_pylist()] == []  # '' is no tag value
    assert [r for b in s.execute(p, ["host_1"]).batches for r in b.to_pylist()][0]["n"] > 0
    # a bound computed from a literal next to a lifted value: evaluated without the parameters
    q = (
        "SELECT count(*) AS n FROM cpu WHERE hostname = 'host_2' "
        "AND time >= '2016-01-01 00:00:00+00'::timestamptz + interval '30 minutes'"
    )
    alone = sql_engine.session("postgres")
    alone.set_setting("tsgres.shared_plans", "off")
    assert _rows(s, q) == _rows(alone, q)
    assert (
        s.evaluate_ns(
            parse("SELECT '2016-01-01 00:00:00+00'::timestamptz + interval '1 second'").expressions[0], ["x"]
        )
        == 1451606401 * 10**9
    )


def test_a_write_that_adds_a_field_or_table_makes_new_plans(tmp_path):
    """Schema changes that do not come from SQL DDL (a line-protocol write adding a field, InfluxQL
    DROP MEASUREMENT) still retire the plans cached for the old schema, shared templates included."""
    from columnar.batch import WriteBatch
    from sql import errors as E

    with in_process.sql_engine(tmp_path / "d") as (storage, engine):
        s = engine.session("postgres")
        storage.write(
            "postgres", WriteBatch.from_rows("m", [1, 2], [{"h": "a"}] * 2, {"v": [1.0, 2.0]})
        ).check()
        assert _rows(s, "SELECT * FROM m WHERE h = 'a'")[0] == ["time", "h", "v"]
        with pytest.raises(E.UndefinedTable):
            s.prepare("SELECT * FROM n WHERE h = 'a'", [])
        storage.write("postgres", WriteBatch.from_rows("m", [3], [{"h": "a"}], {"w": [5.0]})).check()
        storage.write("postgres", WriteBatch.from_rows("n", [3], [{"h": "a"}], {"w": [5.0]})).check()
        for sql in ("SELECT * FROM m WHERE h = 'a'", "SELECT * FROM m WHERE h = 'b'"):  # one template
            described = [c.name for c in s.prepare(sql, []).columns]
            names, _, rows = _rows(s, sql)
            assert described == names == ["time", "h", "v", "w"] and all(len(r) == 4 for r in rows)
        assert _rows(s, "SELECT * FROM n WHERE h = 'a'")[2] == [
            (dt.datetime(1970, 1, 1, tzinfo=dt.UTC), "a", 5.0)
        ]


def test_a_statement_prepared_before_a_schema_change_is_planned_again(tmp_path):
    """As in PostgreSQL: the same result columns run on a new plan; others give 0A000."""
    from columnar.batch import WriteBatch
    from sql import errors as E

    with in_process.sql_engine(tmp_path / "d") as (storage, engine):
        s = engine.session("postgres")
        storage.write(
            "postgres", WriteBatch.from_rows("m", [1, 2], [{"h": "a"}] * 2, {"v": [1.0, 2.0]})
        ).check()
        star = s.prepare("SELECT * FROM m WHERE h = 'a'", [])
        named = s.prepare("SELECT time, v FROM m WHERE h = $1 ORDER BY time", [25])
        storage.write(
            "postgres", WriteBatch.from_rows("m", [3], [{"h": "a"}], {"w": [5.0], "v": [3.0]})
        ).check()
        with pytest.raises(E.FeatureNotSupported, match="cached plan must not change result type"):
            s.execute(star, [])
        r = s.execute(named, ["a"])
        assert [x["v"] for b in r.batches for x in b.to_pylist()] == [1.0, 2.0, 3.0]
        assert [b.num_columns for b in s.execute(named, ["a"]).batches] == [2]


# -- the scanner against a token-by-token reading ---------------------------------------------------------
_REF_TOKEN = re.compile(
    r"""
      (?P<skip>"(?:[^"]|"")*" | --[^\n]* | /\*.*?\*/
        | \$\$.*?\$\$ | \$(?P<dq>[A-Za-z_][A-Za-z0-9_]*)\$.*?\$(?P=dq)\$
        | [A-Za-z_][A-Za-z0-9_$]*'(?:[^']|'')*')
    | (?P<param>\$(?P<pn>\d+))
    | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
    | (?P<str>'(?:[^']|'')*')
    | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    | (?P<op><=|>=|<>|!=|::|[=<>(),.\-+*/%\[\]])
    """,
    re.S | re.X,
)


def _reference_candidates(sql: str, n_given: int) -> tuple[list[tuple[int, int, str]], int]:
    """Token by token: a literal is a candidate when the token before it is = < > <= >= <> != ( , or
    AND BETWEEN IN OR, with only whitespace between; the parameter base is the largest $n outside
    strings, identifiers and comments."""
    base, prev, spans, pos = n_given, "", [], 0
    for m in _REF_TOKEN.finditer(sql):
        if sql[pos : m.start()].strip():
            prev = "?"
        pos = m.end()
        kind = m.lastgroup
        if kind in ("skip", "dq"):
            prev = "?"
        elif kind == "param":
            base, prev = max(base, int(m.group("pn"))), "$"
        elif kind in ("str", "num"):
            if prev in {"=", "<", ">", "<=", ">=", "<>", "!=", "(", ",", "AND", "BETWEEN", "IN", "OR"}:
                spans.append((m.start(), m.end(), kind))
            prev = "lit"
        else:
            prev = m.group().upper()
    return spans, base


def _candidates(sql: str, n_given: int) -> tuple[list[tuple[int, int, str]], int]:
    tpl = plan_cache.template(sql, n_given)
    if tpl is None:
        return [], None
    spans, at = [], 0
    for piece, lit, kind in zip(tpl.pieces, tpl.literals, tpl.kinds, strict=False):
        at += len(piece)
        spans.append((at, at + len(lit), kind))
        at += len(lit)
    return spans, tpl.base


def _corpus_texts() -> list[str]:
    from pathlib import Path

    texts = []
    for f in sorted((Path(__file__).parent / "differential" / "corpus").glob("*.sql")):
        texts += [t for t in f.read_text().split(";") if t.strip()]
    from bench.queries import QUERY_TYPES, DevopsQueries

    gen = DevopsQueries(10, 0, 24 * 3600 * 10**9, seed=2)
    for kind in QUERY_TYPES:
        texts += [q.sql for q in gen.instances(kind, 2)]
    assert len(texts) > 300
    return texts


@pytest.mark.parametrize("n_given", [0, 2])
def test_template_scan_finds_what_a_token_reading_finds(n_given):
    for sql in _corpus_texts():
        ref, base = _reference_candidates(sql, n_given)
        got, got_base = _candidates(sql, n_given)
        assert got == ref, sql
        if ref:
            assert got_base == base, sql


_PIECES = st.sampled_from(
    ["=", "<", ">", "<=", ">=", "<>", "!=", "(", ")", ",", "AND", "and", "IN", "BETWEEN", "OR", "ORDER",
     "INTERVAL", "x", "host_1", "E'a'", "'it''s'", "'='", "'", "12", "1.5e3", ".5", "-", "::", "$1", "$3",
     "$$ = 'q' $$", '"a=1"', "-- = 5\n", "/* = 'c' */", "~", ";", "#", " ", "  ", "\n", "$", "AND5", "5a"]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, max_size=24), st.lists(st.sampled_from(["", " "]), min_size=24, max_size=24))
def test_template_scan_property(pieces, gaps):
    sql = "".join(p + g for p, g in zip(pieces, gaps, strict=False))
    ref, base = _reference_candidates(sql, 0)
    got, got_base = _candidates(sql, 0)
    if "'" not in sql and not any(ch.isdigit() for ch in sql):
        ref = []
    assert got == ref, sql
    if ref:
        assert got_base == base, sql
