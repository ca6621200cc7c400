"""Randomized InfluxQL differential test: generated queries against InfluxDB 1.x and tsgres.

Queries are drawn with a fixed seed from templates that combine aggregates, selectors (with and
without other columns), transformations over windows, fill modes, GROUP BY forms, WHERE clauses on
tags and fields, arithmetic and math, subqueries, ORDER BY and LIMIT, so the corpus's hand-written
cases are complemented by combinations nobody wrote down. The same data set as the corpus
(tests/influxql/dataset.py); the same comparison (tests/influxql/test_differential.py).

Left out, because InfluxDB 1.6 itself is not deterministic or not sensible there (see
docs/influxql.md): mode() and selector times on ties, integral() per window, subqueries without a
time range under GROUP BY time().
"""

from __future__ import annotations

import random

import pytest

from tests.influxql.conftest import Peers
from tests.influxql.test_differential import compare

FIELDS = ["usage_user", "usage_system", "load", "usage_idle"]
WHERES = [
    "",
    "host = 'server01'",
    "host =~ /0[23]/",
    "region = 'us-west'",
    "region = ''",
    "usage_user > 20",
    "load < 3 AND host != 'server02'",
    "status = 'ok'",
    "usage_user + usage_system > 40 AND host = 'server04'",
    "active = true AND host != 'server03'",
]
RANGES = [
    ("2020-09-13T12:30:00Z", "2020-09-13T12:50:00Z"),
    ("2020-09-13T12:26:40Z", "2020-09-13T13:26:40Z"),
    ("2020-09-13T12:41:10Z", "2020-09-13T12:58:20Z"),
]
INTERVALS = ["1m", "2m", "5m", "7m", "30s", "10m"]
TAG_GROUPS = ["", "host", "region", "*", "host, region"]
FILLS = ["", "fill(none)", "fill(previous)", "fill(linear)", "fill(0)", "fill(null)"]
AGGREGATES = ["count", "sum", "mean", "median", "spread", "stddev", "min", "max", "first", "last"]
TRANSFORMS = ["derivative", "difference", "non_negative_derivative", "moving_average", "cumulative_sum"]
OPS = ["+", "-", "*", "/", "%"]
MATH = ["abs", "floor", "ceil", "round", "sqrt", "exp", "sin"]


def _where(rnd: random.Random) -> str:
    lo, hi = rnd.choice(RANGES)
    w = rnd.choice(WHERES)
    return f"time >= '{lo}' AND time < '{hi}'" + (f" AND ({w})" if w else "")


def _query(rnd: random.Random) -> str:
    f = rnd.choice(FIELDS)
    cond = _where(rnd)
    tags = rnd.choice(TAG_GROUPS)
    by_time = f"time({rnd.choice(INTERVALS)})" + (f", {tags}" if tags else "")
    kind = rnd.randrange(7)
    if kind == 0:
        calls = f"{rnd.choice(AGGREGATES)}({f})"
        if rnd.random() < 0.4:
            calls += f", {rnd.choice(['count', 'mean', 'max', 'sum'])}({rnd.choice(FIELDS)})"
        q = f"SELECT {calls} FROM cpu WHERE {cond} GROUP BY {by_time} {rnd.choice(FILLS)}"
    elif kind == 1:
        t = rnd.choice(TRANSFORMS)
        arg = ", 2" if t == "moving_average" else ""
        inner = rnd.choice(["mean", "max", "sum", "count", "last"])
        q = f"SELECT {t}({inner}({f}){arg}) FROM cpu WHERE {cond} GROUP BY {by_time} {rnd.choice(FILLS)}"
    elif kind == 2:
        call = rnd.choice(AGGREGATES + ["count(distinct", "top", "bottom", "distinct"])
        expr = {
            "count(distinct": f"count(distinct({f}))",
            "top": f"top({f}, 2)",
            "bottom": f"bottom({f}, 2)",
        }.get(call, f"{call}({f})")
        q = f"SELECT {expr} FROM cpu WHERE {cond}" + (f" GROUP BY {tags}" if tags else "")
    elif kind == 3:
        t = rnd.choice(TRANSFORMS)
        arg = ", 3" if t == "moving_average" else ""
        q = f"SELECT {t}({f}{arg}) FROM cpu WHERE {cond} GROUP BY host"
    elif kind == 4:
        sel = rnd.choice(["max", "min", "first", "last"])
        aux = rnd.choice(["host", "region", "status", "usage_system", "load"])
        group = rnd.choice(["", " GROUP BY host", " GROUP BY time(5m)", " GROUP BY time(3m), host"])
        q = f"SELECT {sel}({f}), {aux} FROM cpu WHERE {cond}{group}"
    elif kind == 5:
        g = rnd.choice(FIELDS)
        e = f"{f} {rnd.choice(OPS)} {g}" if rnd.random() < 0.5 else f"{rnd.choice(MATH)}({f})"
        q = f"SELECT {e}, {rnd.choice(FIELDS)} FROM cpu WHERE {cond} AND host = 'server0{rnd.randint(1, 4)}'"
    else:
        inner = f"SELECT {rnd.choice(['mean', 'sum', 'max', 'count'])}({f}) AS v FROM cpu WHERE {cond}"
        inner += f" GROUP BY {rnd.choice(['time(1m)', 'time(2m), host', 'host'])}"
        outer_group = rnd.choice(["", " GROUP BY host"])
        q = f"SELECT {rnd.choice(['mean', 'max', 'sum', 'count', 'min'])}(v) FROM ({inner}){outer_group}"
    if rnd.random() < 0.15:
        q += " ORDER BY time DESC"
    if rnd.random() < 0.1 and "top(" not in q and "bottom(" not in q:
        q += " LIMIT 4"
    return q


QUERIES = [_query(random.Random(seed)) for seed in range(240)]


@pytest.mark.parametrize("chunk", range(8))
def test_randomized(peers: Peers, chunk: int) -> None:
    problems = []
    for q in QUERIES[chunk::8]:
        problems += [f"{q}\n    {p}" for p in compare(peers, q, "db1", {})[:3]]
    assert not problems, "\n".join(problems[:20])
