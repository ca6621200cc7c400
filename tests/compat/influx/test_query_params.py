"""A SELECT's SQL takes its time bounds and the values it compares with columns as parameters
(sql/influxql/translate.py's SqlParams): the texts of one template are one SQL text, whose plan the
SQL engine finds by that text, and every answer is the one the same SQL with literals gives."""

from __future__ import annotations

import json
from typing import Any

import pytest

from compat.influx import query as Q
from sql import plan_cache
from sql.influxql import calls, raw
from sql.influxql import source as SRC
from sql.influxql.parser import parse_query
from sql.influxql.translate import Schema, SqlParams
from tests.compat.conftest import Client, WriteApp

BASE = 1451606400  # 2016-01-01T00:00:00Z


def _sql(condition: str, fields: dict[str, str] | None = None) -> tuple[str, list[Any], list[int]]:
    stmt = parse_query(f"SELECT v FROM m WHERE {condition}")[0]
    schema = Schema(fields or {"f": "float", "i": "integer", "s": "string"}, {"host"})
    params = SqlParams()
    return schema.condition(stmt.condition, params), params.values, params.oids  # type: ignore[attr-defined]


def test_what_becomes_a_parameter() -> None:
    assert _sql("host = 'a'") == ('"host" = $1', ["a"], [25])
    assert _sql("'a' = host") == ('"host" = $1', ["a"], [25])
    assert _sql("host != 'a'") == ('("host" <> $1 OR "host" IS NULL)', ["a"], [25])
    assert _sql("f > 90") == ('"f" > $1', [90.0], [701])
    assert _sql("f > 1.5") == ('"f" > $1', [1.5], [701])
    assert _sql("i > 2") == ('"i" > $1', [2], [20])
    assert _sql("s = 'x'") == ('"s" = $1', ["x"], [25])
    assert _sql("host = 'a' AND i > 2") == ('("host" = $1 AND "i" > $2)', ["a", 2], [25, 20])
    # as the plan cache leaves them: literals the SQL engine would not lift
    assert _sql("host = ''") == ('"host" IS NULL', [], [])
    assert _sql("host < 'b'") == ("COALESCE(\"host\", '') < 'b'", [], [])
    assert _sql("i > 2.5") == ('"i" > 2.5', [], [])
    assert _sql("f > -1") == ('"f" > -1', [], [])
    assert _sql("s = ''") == ("\"s\" = ''", [], [])
    assert _sql("f + 1 > 2") == ('(CAST("f" AS DOUBLE PRECISION) + 1) > 2', [], [])
    assert _sql("nope = 'a'") == ("'' = 'a'", [], [])
    # without parameters: the same text with the literals in it (host = 'a' by its shortcut, and
    # by the general path when the tag is typed or a field shares its name)
    schema = Schema({"f": "float", "both": "string"}, {"host", "both"})
    for condition, sql in [
        ("host = 'a'", "\"host\" = 'a'"),
        ("host::tag = 'a'", "\"host\" = 'a'"),
        ("host <> 'it\\'s'", "(\"host\" <> 'it''s' OR \"host\" IS NULL)"),
        ("host::tag != 'a'", '("host" <> \'a\' OR "host" IS NULL)'),
        ("both = 'a'", "\"both\" = 'a'"),
        ("both::tag != 'a'", '("both" <> \'a\' OR "both" IS NULL)'),
    ]:
        assert schema.condition(parse_query(f"SELECT v FROM m WHERE {condition}")[0].condition) == sql  # type: ignore[attr-defined]


def _points() -> str:
    lines = []
    for k in range(240):
        host = ("h0", "h1", "")[k % 3]
        tags = f",host={host}" if host else ""
        lines.append(f'cpu{tags} f={k * 0.25},i={k % 7}i,s="{"xy"[k % 2]}" {(BASE + k * 30) * 10**9 + k}')
    return "\n".join(lines)


async def _query(client: Client, text: str) -> dict[str, Any]:
    resp = await client.get("/query", params={"db": "db", "q": text})
    assert resp.status == 200
    return json.loads(await resp.read())


CONDITIONS = [
    "host = 'h0'",
    "host != 'h0'",
    "host = ''",
    "host <> ''",
    "f > 20",
    "f >= 20.5",
    "i > 3",
    "i <= 3.5",
    "i > -1",
    "s = 'x'",
    "s != 'y'",
    "(host = 'h1') AND f < 40",
    "host = 'h0' OR i = 2",
]
SHAPES = [
    "SELECT max(f), count(i) FROM cpu WHERE {c} AND time >= '{lo}' AND time < '{hi}' GROUP BY time(10m)",
    "SELECT mean(f) FROM cpu WHERE {c} AND time >= '{lo}' AND time <= '{hi}' GROUP BY time(15m), host",
    "SELECT * FROM cpu WHERE {c} AND time >= '{lo}' AND time < '{hi}'",
    "SELECT f, host FROM cpu WHERE {c} AND time > '{lo}' AND time < '{hi}' LIMIT 5",
    "SELECT last(f) FROM cpu WHERE {c} AND time >= '{lo}' AND time < '{hi}' GROUP BY host",
    "SELECT max(f), s FROM cpu WHERE {c} AND time >= '{lo}' AND time < '{hi}'",
]
BOUNDS = [
    ("2016-01-01T00:10:00Z", "2016-01-01T01:10:00Z"),
    ("2016-01-01T00:10:00.000000007Z", "2016-01-01T01:40:00.000001Z"),  # bounds between microseconds
]


def test_answers_are_those_of_literal_sql(write_app, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every shape, condition and pair of bounds answers the same with parameters as with the
    same SQL with literals in it (sql_params None: where_sql's literal text)."""
    app: WriteApp = write_app()
    texts = [s.format(c=c, lo=lo, hi=hi) for s in SHAPES for c in CONDITIONS for lo, hi in BOUNDS]

    async def check(client: Client) -> None:
        assert (await client.post("/write?db=db", data=_points())).status == 204
        with_params = [await _query(client, t) for t in texts]
        with monkeypatch.context() as m:
            m.setattr(calls, "sql_params", lambda src: None)
            m.setattr(raw, "sql_params", lambda src: None)
            with_literals = [await _query(client, t) for t in texts]
        for text, a, b in zip(texts, with_params, with_literals, strict=True):
            assert a == b, text
        answered = sum(1 for a in with_params if a["results"][0].get("series"))
        assert answered > len(texts) * 3 // 4  # (the answers compared are not all empty)

    app.run(check)


def test_texts_of_a_template_are_one_sql_text(write_app, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two texts of a template that differ in host and time run the same SQL text with their own
    values; the second finds its plan by the text (the plan cache never cuts it into a template)."""
    app: WriteApp = write_app()
    ran: list[tuple[str, list[Any]]] = []
    real_sql = SRC.Context.sql

    def spy_sql(self: Any, src: Any, text: str, params: SqlParams | None = None) -> Any:
        ran.append((text, list(params.values) if params is not None else []))
        return real_sql(self, src, text, params)

    cut: list[str] = []
    real_template = plan_cache.template

    def spy_template(sql: str, n_given: int) -> Any:
        cut.append(sql)
        return real_template(sql, n_given)

    monkeypatch.setattr(SRC.Context, "sql", spy_sql)
    monkeypatch.setattr(plan_cache, "template", spy_template)
    shape = (
        "SELECT max(f) FROM cpu WHERE host = '{h}' AND time >= '{lo}' AND time < '{hi}' GROUP BY time(10m)"
    )

    async def check(client: Client) -> None:
        assert (await client.post("/write?db=db", data=_points())).status == 204
        first = await _query(
            client, shape.format(h="h0", lo="2016-01-01T00:00:00Z", hi="2016-01-01T01:00:00Z")
        )
        n_cut = len(cut)
        second = await _query(
            client, shape.format(h="h1", lo="2016-01-01T01:00:00Z", hi="2016-01-01T02:00:00Z")
        )
        assert len(cut) == n_cut  # the second text's plan was found by its text
        assert len(ran) == 2 and ran[0][0] == ran[1][0]
        assert ran[0][1][2:] == ["h0"] and ran[1][1][2:] == ["h1"]
        s0, s1 = first["results"][0]["series"][0], second["results"][0]["series"][0]
        assert s0["values"][0] == ["2016-01-01T00:00:00Z", 4.5]  # h0's k = 0, 3, .. 18 in 00:00-00:10
        assert s1["values"][0] == ["2016-01-01T01:00:00Z", 34.75]  # h1's k = 121 .. 139

    app.run(check)


def test_sessions_per_thread_and_database(write_app) -> None:
    """Each thread keeps a SQL session per database for its statements' SQL: texts for two
    databases answer from their own, a dropped and re-created database answers its new points, and
    another thread has sessions of its own."""
    app: WriteApp = write_app()
    text = "SELECT max(f) FROM cpu WHERE host = 'h0' AND time >= '2016-01-01T00:00:00Z' AND time < '2016-01-01T00:10:00Z'"
    seen: list[tuple[int, str]] = []
    real_sql = SRC.Context.sql

    def spy_sql(self: Any, src: Any, sql: str, params: SqlParams | None = None) -> Any:
        session = self.session(src.database)
        seen.append((id(session), session.database))
        return real_sql(self, src, sql, params)

    async def query(client: Client, db: str, q: str) -> dict[str, Any]:
        resp = await client.get("/query", params={"db": db, "q": q})
        assert resp.status == 200
        return json.loads(await resp.read())["results"][0]

    async def check(client: Client) -> None:
        for db, scale in (("a", 1), ("b", 10)):
            await query(client, db, f"CREATE DATABASE {db}")
            line = f"cpu,host=h0 f={scale * 2.5} {BASE * 10**9}"
            assert (await client.post(f"/write?db={db}", data=line)).status == 204
        with pytest.MonkeyPatch.context() as m:
            m.setattr(SRC.Context, "sql", spy_sql)
            # every text on the event loop's thread (else a shape's first run goes to the thread pool,
            # and under load a run may overrun the loop's limit: sessions of other threads)
            m.setattr(Q.QueryCosts, "cheap", lambda _self, _key, _span: True)
            m.setattr(Q, "INLINE_LIMIT_S", 3600.0)
            assert (await query(client, "a", text))["series"][0]["values"] == [["2016-01-01T00:00:00Z", 2.5]]
            assert (await query(client, "b", text))["series"][0]["values"] == [["2016-01-01T00:00:00Z", 25]]
            assert (await query(client, "a", text))["series"][0]["values"] == [["2016-01-01T00:00:00Z", 2.5]]
        assert [db for _, db in seen] == ["a", "b", "a"]
        assert seen[0][0] == seen[2][0] != seen[1][0]  # the thread's session of each database, kept
        await query(client, "a", "DROP DATABASE a")
        await query(client, "a", "CREATE DATABASE a")
        assert (await client.post("/write?db=a", data=f"cpu,host=h0 f=7 {BASE * 10**9}")).status == 204
        assert (await query(client, "a", text))["series"][0]["values"] == [["2016-01-01T00:00:00Z", 7]]

    app.run(check)


def test_threads_do_not_share_sessions(write_app) -> None:
    app: WriteApp = write_app()
    ctx = SRC.Context(app.engine, None, "db", "", 0)
    made: list[Any] = []

    class Engine:  # a stand-in SQL engine that counts its sessions
        def session(self, database: str, user: str) -> Any:
            s = type("S", (), {"database": database})()
            made.append(s)
            return s

    ctx.sql_engine = Engine()
    here = ctx.session("db")
    assert ctx.session("db") is here and ctx.session("other") is not here
    import threading

    there: list[Any] = []
    t = threading.Thread(target=lambda: there.append(ctx.session("db")))
    t.start()
    t.join()
    assert there[0] is not here and there[0].database == "db" and len(made) == 3


def test_windows_with_a_row_each(write_app) -> None:
    """One series whose SQL result has a row for every window, in order (calls.py's
    _assemble_aggregates then takes each call's column as it is): every call answers its own
    column, integer means as floats."""
    app: WriteApp = write_app()
    text = (
        "SELECT max(f), min(f), count(i), mean(i), sum(i), spread(f), first(s) FROM cpu WHERE host = 'h0' "
        "AND time >= '2016-01-01T00:00:00Z' AND time < '2016-01-01T01:00:00Z' GROUP BY time(10m)"
    )
    ran: list[list[int]] = []
    real = calls._aggregates_table

    def in_order(*args: Any) -> Any:
        # rows in window order, as the native executor gives them for a chunk file's series (SQL
        # without ORDER BY may give them in any order: a memtable's come in another here)
        done, exprs, table = real(*args)
        assert table is not None
        table = table.sort_by("__w")
        ran.append(table.column("__w").cast("int64").to_pylist())
        return done, exprs, table

    async def check(client: Client) -> None:
        assert (await client.post("/write?db=db", data=_points())).status == 204
        with pytest.MonkeyPatch.context() as m:
            m.setattr(calls, "_aggregates_table", in_order)
            got = (await _query(client, text))["results"][0]["series"][0]
        assert len(ran) == 1 and len(ran[0]) == 6
        assert got["columns"] == ["time", "max", "min", "count", "mean", "sum", "spread", "first"]
        expected = []
        for j in range(6):
            ks = [k for k in range(20 * j, 20 * j + 20) if k % 3 == 0]  # h0's points in window j
            ints = [k % 7 for k in ks]
            first = "xy"[ks[0] % 2]
            row = [max(ks) * 0.25, min(ks) * 0.25, len(ks), sum(ints) / len(ks), sum(ints)]
            expected.append([f"2016-01-01T00:{j}0:00Z", *row, (max(ks) - min(ks)) * 0.25, first])
        assert got["values"] == expected

    app.run(check)


_WHOLE, _BETWEEN = "'2016-01-01T00:00:00Z'", "'2016-01-01T00:00:00.0000005Z'"


@pytest.mark.parametrize(
    ("shape", "values"),
    [
        (
            "(host = {a} OR host != {b}) AND time >= {t} AND time < '2016-01-01T01:00:00Z'",
            [("'a'", "'b'"), ("'c'", "'d'"), ("''", "'e'"), ("'f'", "''"), ("'g'", "'h'"), ("'i'", "'j'")],
        ),
        ("host = {a} AND time >= {t} AND host != {b}", [("'a'", "'b'"), ("''", "'e'"), ("'c'", "'d'")]),
        # thresholds: a float field with numbers and integers, an integer field, a literal on the left
        (
            "host = {a} AND f > {b} AND time >= {t}",
            [("'a'", "1.5"), ("'c'", "-2.5"), ("''", "0.5"), ("'d'", "7.25"), ("'e'", "0.0000001")],
        ),
        ("f >= {b} OR i < {a}", [("3", "4"), ("-3", "5"), ("6", "-1"), ("2", "8")]),
        ("{a} < i AND s = {b}", [("3", "'x'"), ("4", "''"), ("-5", "'y'"), ("6", "'z'")]),
        # never kept: a tag ordered with a string (stays in the text), a typed reference (a cast)
        ("host < {a} OR i > {b}", [("'b'", "3"), ("'c'", "4")]),
        ("host = {a} AND f::integer > {b}", [("'b'", "3"), ("'c'", "4")]),
    ],
)
def test_where_sql_kept_by_template_is_each_texts_own(shape: str, values: list[tuple[str, str]]) -> None:
    """The texts of a template share their Plan's memo, which keeps the SQL text of a condition of
    column comparisons: each text's WHERE (text, parameter values and types) is the one a Plan of
    its own gives, whatever the values before it (an empty string or a negative number stays in
    the text; a bound between two microseconds takes one more parameter before the condition's)."""
    from sql.influxql.compile import compile_select
    from sql.influxql.plan import Plan, where_sql

    schema = Schema({"f": "float", "i": "integer", "s": "string"}, {"host"})
    src = SRC.Source("m", "db", "autogen", schema)
    shared: dict[Any, Any] = {}
    for k, (a, b) in enumerate(values):
        t = (_WHOLE, _BETWEEN)[k % 2]
        stmt = parse_query("SELECT v FROM m WHERE " + shape.format(a=a, b=b, t=t))[0]
        c = compile_select(stmt, BASE * 10**9)  # type: ignore[arg-type]
        got, fresh = SqlParams(), SqlParams()
        text = where_sql(Plan(c, [], [], [], None, memo=shared), src, params=got)
        assert text == where_sql(Plan(c, [], [], [], None), src, params=fresh), (a, b, t)
        assert (got.values, got.oids) == (fresh.values, fresh.oids), (a, b, t)
