"""Where /query runs a query: cheap shapes already seen on the event loop, the rest in the thread pool.

The answers must not depend on where a query ran; the choice follows QueryCosts (the median of a
statement shape's last three CPU costs, scaled by the span read) and select_span (plain SELECTs of
stored measurements only).
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from compat.influx import query as Q
from sql.influxql.parse_cache import parse_cached_keyed
from tests.compat.conftest import Client, WriteApp

HOUR = 3600 * 10**9


def test_costs_estimate_scales_with_span_and_forgets_oldest() -> None:
    costs = Q.QueryCosts(budget_s=0.002, size=2)
    assert costs.estimate("a", 100.0) is None and not costs.cheap("a", 100.0)  # never seen
    costs.record("a", float(HOUR), 0.001)
    assert costs.cheap("a", float(HOUR))
    assert costs.cheap("a", 1.0)  # a shorter span is not scaled down
    assert costs.estimate("a", 1.0) == pytest.approx(0.001)
    assert costs.estimate("a", 3.0 * HOUR) == pytest.approx(0.003)
    assert not costs.cheap("a", 3.0 * HOUR)  # three times the span: over budget
    costs.record("a", float(HOUR), 0.005)  # the second run replaces the first: over budget, the pool
    assert not costs.cheap("a", float(HOUR))
    costs.record("a", float(HOUR), 0.0012)  # of two runs the costlier counts
    assert not costs.cheap("a", float(HOUR))
    costs.record("a", float(HOUR), 0.0011)  # the median of three: one slow run does not keep it there
    assert costs.cheap("a", float(HOUR)) and costs.estimate("a", 1.0) == pytest.approx(0.0012)
    costs.record("a", float(HOUR), 0.004)
    costs.record("a", float(HOUR), 0.003)  # two of the last three over budget: the pool again
    assert not costs.cheap("a", float(HOUR))
    costs.record("b", 0.0, 0.0001)
    costs.record("c", 0.0, 0.0001)
    assert costs.estimate("a", 0.0) is None and costs.cheap("b", 0.0) and costs.cheap("c", 0.0)


def test_a_cold_first_run_does_not_keep_a_shape_in_the_pool() -> None:
    """A fresh server's first run of a shape is slow (compiling the template, cold code paths): after
    one ordinary run the shape runs on the loop; a shape dear on its second run too stays in the
    pool."""
    costs = Q.QueryCosts(budget_s=0.002)
    costs.record("s", float(HOUR), 0.080)
    assert not costs.cheap("s", float(HOUR))
    costs.record("s", float(HOUR), 0.0015)
    assert costs.cheap("s", float(HOUR))
    costs.record("s", float(HOUR), 0.0011)
    assert costs.cheap("s", float(HOUR))
    costs.record("d", float(HOUR), 0.080)
    costs.record("d", float(HOUR), 0.060)
    assert not costs.cheap("d", float(HOUR))


def _statements(q: str) -> list[Any]:
    return parse_cached_keyed(q)[0]


def test_select_span_only_for_plain_selects() -> None:
    now = time.time_ns()
    q = "SELECT max(v) FROM m WHERE time >= '2016-01-01T00:00:00Z' AND time < '2016-01-01T01:00:00Z' GROUP BY time(1m)"
    assert Q.select_span(_statements(q), now) == HOUR - 1
    two = Q.select_span(_statements(q + "; " + q), now)
    assert two == 2 * (HOUR - 1)
    assert Q.select_span(_statements("SELECT v FROM m"), now) == float(now - Q.MIN_TIME)
    assert Q.select_span(_statements("SELECT v FROM /m.*/ WHERE time > now() - 1h"), now) == HOUR - 1
    assert Q.select_span(_statements("SHOW DATABASES"), now) == 0.0  # (a meta read: no span)
    for never in (
        "SHOW USERS",
        "CREATE DATABASE x",
        "SELECT v INTO n FROM m",
        "SELECT max(v) FROM (SELECT v FROM m)",
        "SELECT v FROM m WHERE time != 5",  # the statement's own error: the pool's run reports it
        q + "; DROP MEASUREMENT m",
    ):
        assert Q.select_span(_statements(never), now) is None, never


def test_repeated_shape_runs_inline_with_the_same_answers(write_app, monkeypatch: pytest.MonkeyPatch) -> None:
    app: WriteApp = write_app()
    base = 1451606400 * 10**9
    lines = [f"cpu,host=h{i % 3} v={i * 0.5},n={i}i {base + i * 60 * 10**9}" for i in range(600)]
    decisions: list[bool] = []
    real_cheap = Q.QueryCosts.cheap

    def spy(self: Q.QueryCosts, key: str, span: float) -> bool:
        out = real_cheap(self, key, span)
        decisions.append(out)
        return out

    monkeypatch.setattr(Q.QueryCosts, "cheap", spy)
    monkeypatch.setattr(Q, "INLINE_BUDGET_S", 10.0)  # whatever the machine's speed: seen shapes are cheap

    def q(minute: int, hosts: str, hours: int = 1) -> str:
        lo = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(base // 10**9 + minute * 60))
        hi = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(base // 10**9 + minute * 60 + hours * 3600))
        return (
            f"SELECT max(v), mean(n) FROM cpu WHERE host = '{hosts}' AND time >= '{lo}' AND time < '{hi}' "
            "GROUP BY time(5m), host"
        )

    async def check(client: Client) -> None:
        r = await client.post("/write?db=db", data="\n".join(lines))
        assert r.status == 204
        from compat.influx.query import QUERY_SERVICE

        service = client.app[QUERY_SERVICE]
        service.costs = Q.QueryCosts(budget_s=10.0)
        texts = [q(7, "h1"), q(60, "h2"), q(120, "h0"), q(0, "h1", hours=9), "SHOW USERS"]
        first = []
        for text in texts:
            resp = await client.get("/query", params={"db": "db", "q": text})
            assert resp.status == 200
            first.append(await resp.read())
        # the first query of the shape went to the pool, the next two of it ran inline; the long
        # span is nine times the recorded one: still within this test's budget
        assert decisions == [False, True, True, True]
        again = []
        service.costs = Q.QueryCosts(budget_s=0.0)  # nothing inline: every answer from the pool
        for text in texts:
            resp = await client.get("/query", params={"db": "db", "q": text})
            again.append(await resp.read())
        assert again == first
        doc = json.loads(first[0])
        assert doc["results"][0]["series"][0]["tags"] == {"host": "h1"}

    app.run(check)


def test_a_query_past_the_loop_limit_runs_again_in_the_pool(
    write_app, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the loop, a native scan's check past INLINE_LIMIT_S (here: at once) or SQL that DuckDB would
    run abandons the try; the pool answers it whole, as it answers without any loop run."""
    app: WriteApp = write_app()
    base = 1451606400 * 10**9
    lines = [f"cpu,host=h{i % 3} v={i * 0.5} {base + i * 60 * 10**9}" for i in range(300)]
    starts: list[float] = []
    real = Q.iter_results

    def spy(*args: Any, **kwargs: Any) -> Any:
        starts.append(kwargs.get("loop_deadline", 0.0))
        return real(*args, **kwargs)

    monkeypatch.setattr(Q, "iter_results", spy)
    monkeypatch.setattr(Q, "INLINE_LIMIT_S", -1.0)  # every loop run is past its limit at its first check
    texts = [
        "SELECT max(v) FROM cpu WHERE host = 'h1' AND time >= '2016-01-01T00:00:00Z' AND time < '2016-01-01T02:00:00Z' GROUP BY time(10m)",
        "SELECT max(v) FROM cpu WHERE host = 'h2' AND time >= '2016-01-01T01:00:00Z' AND time < '2016-01-01T03:00:00Z' GROUP BY time(10m)",
        "SELECT median(v) FROM cpu WHERE host = 'h0' AND time >= '2016-01-01T00:00:00Z' AND time < '2016-01-01T02:00:00Z' GROUP BY time(10m)",
        "SELECT median(v) FROM cpu WHERE host = 'h1' AND time >= '2016-01-01T00:00:00Z' AND time < '2016-01-01T02:00:00Z' GROUP BY time(10m)",
    ]

    async def check(client: Client) -> None:
        r = await client.post("/write?db=db", data="\n".join(lines))
        assert r.status == 204
        from compat.influx.query import QUERY_SERVICE

        service = client.app[QUERY_SERVICE]
        service.engine.flush()  # (scans check their limit between files: the rows go to a file)
        service.costs = Q.QueryCosts(budget_s=10.0)
        tried = []
        for text in texts:
            starts.clear()
            resp = await client.get("/query", params={"db": "db", "q": text})
            assert resp.status == 200
            tried.append(await resp.read())
            # a shape not seen yet: the pool's run alone; a seen one: a loop try, then the pool's run
            assert starts[-1] == 0.0
            assert (len(starts) == 2 and starts[0] != 0.0) == (text in (texts[1], texts[3])), (text, starts)
            assert len(starts) == 1 or text in (texts[1], texts[3])
        service.costs = Q.QueryCosts(budget_s=0.0)  # the pool alone
        for text, want in zip(texts, tried, strict=True):
            resp = await client.get("/query", params={"db": "db", "q": text})
            assert await resp.read() == want
        assert json.loads(tried[1])["results"][0]["series"][0]["values"]

    app.run(check)


def test_shared_templates_are_not_changed_by_running(write_app) -> None:
    """Texts of one SELECT template share the template's nodes (sql/influxql/parse_cache.py): running
    every kind of SELECT, each shape twice with other values, leaves every shared tree as parsed."""
    import dataclasses

    from sql.influxql import parse_cache as P
    from sql.influxql.parser import parse_query

    app: WriteApp = write_app()
    base = 1451606400
    lines = [
        f'cpu,host=h{i % 3},dc=d{i % 2} v={i * 0.5},n={i}i,s="w{i % 4}",b={str(i % 2 == 0).lower()} {(base + i * 60) * 10**9}'
        for i in range(300)
    ]
    shapes = [
        "SELECT max(v), mean(n) FROM cpu WHERE host = '{h}' AND time >= '{lo}' AND time < '{hi}' GROUP BY time(5m)",
        "SELECT * FROM cpu WHERE v > {x} AND (host = '{h}' OR host = 'h2') AND time >= '{lo}' AND time < '{hi}'",
        "SELECT v, s FROM cpu WHERE n >= {i} AND time >= '{lo}' ORDER BY time DESC LIMIT 3",
        "SELECT last(v), first(s) FROM cpu WHERE dc = 'd1' AND time < '{hi}' GROUP BY host",
        "SELECT derivative(mean(v), 1m), cumulative_sum(max(n)) FROM cpu WHERE host != '{h}' AND time >= '{lo}'"
        " AND time < '{hi}' GROUP BY time(10m), * fill(linear)",
        "SELECT top(v, host, 2) FROM cpu WHERE time >= '{lo}' AND time < '{hi}' GROUP BY time(1h)",
        "SELECT percentile(n, 90), median(v) FROM cpu WHERE time >= '{lo}' GROUP BY time(1h)",
        "SELECT mean(v) * 2 + {x}, count(b) FROM cpu WHERE v < {x} AND time >= '{lo}' GROUP BY time(30m), dc"
        " fill(0) LIMIT 4 SLIMIT 1",
        "SELECT max(v) FROM cpu WHERE host = '{h}' AND time >= '{lo}' AND time < '{hi}' GROUP BY time(5m)"
        " tz('Europe/Paris')",
        "SELECT distinct(s) FROM cpu WHERE host = '{h}'; SELECT spread(n) FROM cpu WHERE n > {i} GROUP BY host",
        "SELECT max(v) FROM (SELECT v FROM cpu WHERE host = '{h}') WHERE time >= '{lo}'",
    ]

    def iso(sec: int) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(sec))

    async def check(client: Client) -> None:
        r = await client.post("/write?db=db", data="\n".join(lines))
        assert r.status == 204
        for shape in shapes:
            for h, x, i, lo in (("h1", 7.5, 20, 600), ("h0", 30.25, 140, 3000)):
                text = shape.format(h=h, x=x, i=i, lo=iso(base + lo), hi=iso(base + lo + 7200))
                resp = await client.get("/query", params={"db": "db", "q": text})
                assert resp.status == 200, await resp.text()
                assert "error" not in json.loads(await resp.read())["results"][0], text

    app.run(check)
    shared = 0
    for key, entry in list(P.CACHE._entries.items()):
        if type(entry) is not P._Shared:
            continue
        shared += 1
        kinds = [seg[0] for seg in key.split("$__")[1:]]  # $__s0, $__f1, ...: in order
        params = {f"__{kind}{k}": P._sentinel(kind, k) for k, kind in enumerate(kinds)}
        assert entry.tree == parse_query(key, params), key
        assert all(dataclasses.is_dataclass(s) for s in entry.tree)
    assert shared >= 8


def test_select_span_conditions_compile_as_the_statements_own() -> None:
    """The conditions select_span computes (handed to the run) compile as compile_select's own."""
    from sql.influxql.compile import compile_select

    now = time.time_ns()
    for q in (
        "SELECT max(v) FROM m WHERE host = 'a' AND time >= '2016-01-01T00:00:00Z' AND time < '2016-01-01T01:00:00Z' GROUP BY time(1m)",
        "SELECT v FROM m WHERE (host = 'a' OR host = 'b') AND v > 1.5 AND time > now() - 1h",
        "SELECT mean(v) FROM m WHERE time >= '2016-01-01' GROUP BY time(10m), host fill(0)",
        "SELECT v FROM m",
    ):
        for template in (False, True):  # (condition_expr, or the template's ConditionPlan)
            [stmt], key = parse_cached_keyed(q)
            conditions: dict[int, Any] = {}
            assert Q.select_span([stmt], now, conditions, key if template else None) is not None
            given = conditions[id(stmt)]
            upper = given[1].max
            assert compile_select(stmt, now, condition=given) == compile_select(stmt, now), q
            assert given[1].max == upper  # (a GROUP BY time() without an upper bound ends at now: a copy's)
