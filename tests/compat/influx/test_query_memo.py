"""What a SELECT's template decides is kept by template (sql/influxql/select.py's memo): the next texts
of the template skip compile_select and the catalog, and still answer as a fresh compile would,
after the measurement gains a field or a tag, in another database, and for templates whose values
are not all in the WHERE clause."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from sql.influxql import select as S
from tests.compat.conftest import Client, WriteApp

BASE = 1451606400  # 2016-01-01T00:00:00Z


def _iso(sec: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(sec))


def _text(shape: str, host: str, minute: int) -> str:
    return shape.format(h=host, lo=_iso(BASE + minute * 60), hi=_iso(BASE + minute * 60 + 3600))


async def _query(client: Client, text: str, db: str = "db") -> dict[str, Any]:
    resp = await client.get("/query", params={"db": db, "q": text})
    assert resp.status == 200
    return json.loads(await resp.read())["results"][0]


def _compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = S.compile_select

    def spy(stmt: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(str(stmt))
        return real(stmt, *args, **kwargs)

    monkeypatch.setattr(S, "compile_select", spy)
    return seen


def test_texts_of_a_template_compile_once(write_app, monkeypatch: pytest.MonkeyPatch) -> None:
    app: WriteApp = write_app()
    lines = [f"cpu,host=h{i % 2} v={i * 0.5} {(BASE + i * 60) * 10**9}" for i in range(240)]
    compiles = _compiles(monkeypatch)
    shape = (
        "SELECT max(v) FROM cpu WHERE host = '{h}' AND time >= '{lo}' AND time < '{hi}' GROUP BY time(10m)"
    )

    async def check(client: Client) -> None:
        assert (await client.post("/write?db=db", data="\n".join(lines))).status == 204
        first = await _query(client, _text(shape, "h0", 0))
        second = await _query(client, _text(shape, "h1", 60))
        assert len(compiles) == 1  # the second text took the first one's compiled parts
        assert first["series"][0]["values"][0] == ["2016-01-01T00:00:00Z", 4]
        assert second["series"][0]["values"][0] == ["2016-01-01T01:00:00Z", 34.5]
        assert len(second["series"][0]["values"]) == 6

    app.run(check)


def test_a_new_field_or_tag_is_in_the_next_answer(write_app, monkeypatch: pytest.MonkeyPatch) -> None:
    """A catalog change between two texts of one template (here a write that adds a field and a tag)
    compiles the second anew: SELECT * and GROUP BY * show the new columns."""
    app: WriteApp = write_app()
    compiles = _compiles(monkeypatch)
    star = "SELECT * FROM cpu WHERE host = '{h}' AND time >= '{lo}' AND time < '{hi}'"
    grouped = "SELECT max(*) FROM cpu WHERE host = '{h}' AND time >= '{lo}' AND time < '{hi}' GROUP BY *"

    async def check(client: Client) -> None:
        old = "\n".join(f"cpu,host=h0 v={i} {(BASE + i * 60) * 10**9}" for i in range(30))
        assert (await client.post("/write?db=db", data=old)).status == 204
        before = await _query(client, _text(star, "h0", 0))
        assert before["series"][0]["columns"] == ["time", "host", "v"]
        by_tags = await _query(client, _text(grouped, "h0", 0))
        assert by_tags["series"][0]["columns"] == ["time", "max_v"]
        assert by_tags["series"][0]["tags"] == {"host": "h0"}
        assert len(compiles) == 2
        new = "\n".join(
            f"cpu,host=h0,dc=d1 v={i},w={i * 2} {(BASE + 3600 + i * 60) * 10**9}" for i in range(30)
        )
        assert (await client.post("/write?db=db", data=new)).status == 204
        after = await _query(client, _text(star, "h0", 60))
        assert after["series"][0]["columns"] == ["time", "dc", "host", "v", "w"]
        assert after["series"][0]["values"][0] == ["2016-01-01T01:00:00Z", "d1", "h0", 0, 0]
        by_tags = await _query(client, _text(grouped, "h0", 60))
        assert by_tags["series"][0]["columns"] == ["time", "max_v", "max_w"]
        assert by_tags["series"][0]["tags"] == {"dc": "d1", "host": "h0"}
        assert len(compiles) == 4

    app.run(check)


def test_databases_do_not_share_a_template(write_app) -> None:
    app: WriteApp = write_app()
    shape = "SELECT * FROM cpu WHERE host = '{h}' AND time >= '{lo}' AND time < '{hi}'"

    async def check(client: Client) -> None:
        a = f"cpu,host=h0 v=1 {BASE * 10**9}"
        b = f'cpu,host=h0 n=2i,s="x" {BASE * 10**9}'
        assert (await client.post("/write?db=a", data=a)).status == 204
        assert (await client.post("/write?db=b", data=b)).status == 204
        in_a = await _query(client, _text(shape, "h0", 0), db="a")
        in_b = await _query(client, _text(shape, "h0", 0), db="b")
        assert in_a["series"][0]["columns"] == ["time", "host", "v"]
        assert in_b["series"][0]["columns"] == ["time", "host", "n", "s"]
        assert in_b["series"][0]["values"] == [["2016-01-01T00:00:00Z", "h0", 2, "x"]]

    app.run(check)


def test_values_outside_the_where_clause_are_each_texts_own(write_app) -> None:
    """A template whose values are not all in its WHERE clause (here a statement's values in a
    subquery) is compiled for each text; a statement after another keeps its own memo."""
    app: WriteApp = write_app()
    lines = [f"cpu,host=h{i % 2} v={i} {(BASE + i * 60) * 10**9}" for i in range(120)]

    async def check(client: Client) -> None:
        assert (await client.post("/write?db=db", data="\n".join(lines))).status == 204
        for host, want in (("h0", 118), ("h1", 119)):
            text = (
                f"SELECT max(v) FROM (SELECT v FROM cpu WHERE host = '{host}'); "
                f"SELECT max(v) FROM cpu WHERE host = '{host}' AND time >= '2016-01-01T00:00:00Z'"
            )
            resp = await client.get("/query", params={"db": "db", "q": text})
            results = json.loads(await resp.read())["results"]
            assert [r["series"][0]["values"][0][1] for r in results] == [want, want]

    app.run(check)


def test_sources_of_one_name_in_two_databases(write_app) -> None:
    """What a statement keeps per source tells db1..cpu from db2..cpu (other fields, other tags)."""
    app: WriteApp = write_app()

    async def check(client: Client) -> None:
        a = f"cpu,host=h0 v=1.5 {BASE * 10**9}\ncpu,host=h0 v=2.5 {(BASE + 60) * 10**9}"
        b = f"cpu,dc=d1 n=2i {BASE * 10**9}\ncpu,dc=d1 n=4i {(BASE + 120) * 10**9}"
        assert (await client.post("/write?db=a", data=a)).status == 204
        assert (await client.post("/write?db=b", data=b)).status == 204
        for minute in (0, 1):  # the second text of each template takes what the first kept
            lo = _iso(BASE + minute)
            raw = await _query(client, f"SELECT * FROM a..cpu, b..cpu WHERE time >= '{lo}'")
            assert raw["series"][0]["columns"] == ["time", "dc", "host", "n", "v"]
            rows = [
                ["2016-01-01T00:00:00Z", None, "h0", None, 1.5],
                ["2016-01-01T00:00:00Z", "d1", None, 2, None],
                ["2016-01-01T00:01:00Z", None, "h0", None, 2.5],
                ["2016-01-01T00:02:00Z", "d1", None, 4, None],
            ]
            assert raw["series"][0]["values"] == rows[2 * minute :]
            agg = await _query(
                client,
                f"SELECT max(*) FROM a..cpu, b..cpu WHERE time >= '{lo}' AND time < '2016-01-01T00:05:00Z'"
                " GROUP BY time(5m), *",
            )
            by_tags = {json.dumps(s.get("tags"), sort_keys=True): s["values"][0][1:] for s in agg["series"]}
            assert by_tags == {
                json.dumps({"dc": "", "host": "h0"}): [None, 2.5],
                json.dumps({"dc": "d1", "host": ""}): [4, None],
            }

    app.run(check)


def test_time_bounds_of_one_template_in_every_form(write_app, monkeypatch: pytest.MonkeyPatch) -> None:
    """The texts of one template bind their own time bounds to the ConditionPlan the memo keeps:
    each answer (windows, values, the error of a bound that is no time) is the one a fresh compile
    of the text gives, whichever form its bounds take (RFC3339 in UTC, with a zone or a fraction, a
    date, a spaced time, an integer, text that is no time) and whatever text came before."""
    app: WriteApp = write_app()
    lines = [f"cpu,host=h{i % 2} v={i}i {(BASE + i * 60) * 10**9}" for i in range(300)]
    compiles = _compiles(monkeypatch)
    shapes = (
        "SELECT max(v) FROM cpu WHERE host = 'h0' AND time >= {lo} AND time < {hi} GROUP BY time(1h)",
        "SELECT count(v) FROM cpu WHERE (time >= {lo} OR host = 'h1') AND time <= {hi} GROUP BY time(1h)",
    )
    bounds = (
        ("'2016-01-01T00:00:00Z'", "'2016-01-01T02:00:00Z'"),
        ("'2016-01-01T01:30:00+01:00'", "'2016-01-01T03:00:00.5Z'"),
        ("'2016-01-01 01:00:00'", "'2016-01-01T04:59:59.999999999Z'"),
        ("'2016-01-01'", "'2016-01-01T03:00:00Z'"),
        (str((BASE + 3600) * 10**9), "'2016-01-01T03:00:00Z'"),
        ("'2016-01-01T00:00:00Z'", "'2016-13-01T00:00:00Z'"),
        ("'yesterday'", "'2016-01-01T03:00:00Z'"),
        ("'2016-01-01T24:00:00Z'", "'2016-01-03T00:00:00Z'"),
    )

    async def check(client: Client) -> None:
        assert (await client.post("/write?db=db", data="\n".join(lines))).status == 204
        for shape in shapes:
            memoised = []
            for lo, hi in bounds:
                memoised.append(await _query(client, shape.format(lo=lo, hi=hi)))
            assert len(compiles) == 2  # (two templates: string bounds, an integer one; no other compile)
            for (lo, hi), got in zip(bounds, memoised, strict=True):
                S._STORES.clear()  # a fresh compile of the text alone
                assert await _query(client, shape.format(lo=lo, hi=hi)) == got, (lo, hi)
            assert any("series" in r for r in memoised) and any("error" in r for r in memoised)
            compiles.clear()

    app.run(check)


def test_a_window_without_one_calls_field_is_filled(write_app) -> None:
    """Every window has a row of the aggregates' result, but one call's field is absent from one of
    them (a null in its column): fill() fills that window for that call, in every text."""
    app: WriteApp = write_app()
    lines = [f"m a={i},b={10 + i} {(BASE + i * 60) * 10**9}" for i in range(5) if i != 2]
    lines.append(f"m b=12 {(BASE + 120) * 10**9}")
    shape = "SELECT max(a), max(b) FROM m WHERE time >= '{lo}' AND time < '{hi}' GROUP BY time(1m) fill({f})"

    async def check(client: Client) -> None:
        assert (await client.post("/write?db=db", data="\n".join(lines))).status == 204
        hi = _iso(BASE + 300)
        for f, filled in (("0", 0), ("null", None), ("previous", 1), ("none", None)):
            for _ in range(2):  # (the second text takes the template's memo)
                got = await _query(client, shape.format(lo=_iso(BASE), hi=hi, f=f))
                values = got["series"][0]["values"]
                if f == "none":
                    assert [v[1] for v in values] == [0, 1, None, 3, 4]  # (b has a value there)
                else:
                    assert values[2] == ["2016-01-01T00:02:00Z", filled, 12], f
                    assert [v[2] for v in values] == [10, 11, 12, 13, 14]

    app.run(check)
