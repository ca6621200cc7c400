"""Randomized SQL differential test: generated queries against PostgreSQL 15 and tsgres.

1000 queries are drawn, one per seed, from templates that combine what dashboards and analysts write
over the differential data set (tests/sql/differential/data.py): aggregates (count, sum, avg, min,
max, stddev / variance, first / last, percentile_cont / percentile_disc, count(DISTINCT)), FILTER
(WHERE ...), arithmetic, casts and CASE over aggregates, GROUP BY time buckets (date_trunc with and
without a zone, date_bin, time_bucket, Grafana's epoch buckets) and tags, WHERE on time ranges
(literals, ISO 8601 text, parameters), tags (=, <>, IN, LIKE, ~, IS NULL, AND / OR / NOT) and fields,
HAVING, ORDER BY with LIMIT / OFFSET (the newest buckets too), DISTINCT and DISTINCT ON, outer queries
over grouped ones, some in another session TimeZone. About half the draws keep to what the native
executor plans (sql/planner.py; ~40% of the queries run natively), where tsgres has code of its
own. The hand-written corpus (corpus/*.sql) holds the cases found here, each reproducing one fixed
bug. The comparison is the corpus's (harness.differences: multisets unless ordered, floats to 1e-9
relative). The whole runs in about a minute.

Left out, because PostgreSQL's own answer is not determined there:

- first() / last() where one group holds two rows at the same time (a group spanning several series
  of cpu or tsbs_cpu, events' duplicate timestamps): only grouped by or filtered to one series, or
  over sensors / logs, whose times are unique.
- LIMIT / OFFSET unless ORDER BY covers every group key (or, for rows, the series and the time);
  ORDER BY an aggregate only of count / min / max (exact values, a tie broken by the group keys):
  sums and averages may differ in the last bit, and their order with them.
- DISTINCT ON a tag that is not the series key (two rows may tie on the ORDER BY).
- Arithmetic over aggregates of real (float4) fields: PostgreSQL accumulates sum(real) in float4,
  rounding after each row in its scan order, where tsgres sums in doubles and rounds once; alone the
  result is a real, compared to 1e-6, but arithmetic widens it to a double compared to 1e-9.
- Casts to int of values outside its range (sensors.total): PostgreSQL raises 22003 only for the
  rows it computes the cast for, which under a LIMIT depends on its plan.
- Arithmetic that subtracts sums or averages (cancellation turns the last bit's difference into a
  large relative one); min and max are exact and may be subtracted.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from tests.sql.differential.harness import differences, run_pg, run_tsgres


@dataclass(frozen=True)
class Table:
    name: str
    time: str
    series: str | None  # the tag naming a series: (series, time) is unique; None: time alone is
    tags: dict[str, tuple[str | None, ...]]  # tag -> values to compare with (None: IS NULL tests)
    floats: tuple[str, ...]  # double precision fields
    ints: tuple[str, ...]  # integer fields (int2 / int4 / int8) and other numbers (real)
    ranges: tuple[tuple[str, str], ...]  # [lo, hi) time literals
    zoned: bool = True  # timestamptz (else timestamp)
    unique_time: bool = False  # no two rows share a time: first / last are determined in any group
    reals: tuple[str, ...] = ()  # the real (float4) fields among ``ints``
    wide: tuple[str, ...] = ()  # fields with values outside int4's range (never cast to int)


CPU = Table(
    "cpu",
    "time",
    "hostname",
    {
        "hostname": ("host_a", "host_b", "host_c", "host_d", "host_z"),
        "region": ("us-east", "us-west", "eu-central", None),
    },
    ("usage_user", "usage_system", "usage_idle"),
    ("cores", "load_avg"),
    (
        ("2024-01-01 00:00:00+00", "2024-01-01 01:00:00+00"),
        ("2024-01-01 00:10:00+00", "2024-01-01 00:40:00+00"),
        ("2024-01-01 00:07:30+00", "2024-01-01 00:53:00+00"),
        ("2023-12-31 23:00:00+00", "2024-01-01 00:20:00+00"),
        ("2024-01-01 00:45:00+00", "2024-01-02 00:00:00+00"),
        ("2024-01-02 00:00:00+00", "2024-01-03 00:00:00+00"),
    ),
    reals=("load_avg",),
)
TSBS = Table(
    "tsbs_cpu",
    "time",
    "hostname",
    {
        "hostname": ("host_0", "host_3", "host_7", "host_9", "host_11"),
        "region": ("us-west-1", "eu-west-1", "ap-southeast-1", "sa-east-1"),
        "service_environment": ("test", "staging", "production"),
    },
    ("usage_user", "usage_system", "usage_iowait", "usage_guest"),
    (),
    (
        ("2016-01-01 00:00:00+00", "2016-01-01 02:00:00+00"),
        ("2016-01-01 00:30:00+00", "2016-01-01 01:00:00+00"),
        ("2016-01-01 00:12:34+00", "2016-01-01 01:47:10+00"),
        ("2016-01-01 01:55:00+00", "2016-01-01 03:00:00+00"),
    ),
)
SENSORS = Table(
    "sensors",
    "time",
    "sensor_id",
    {
        "sensor_id": ("sensor_0", "sensor_2", "sensor_4"),
        "location": ("lab", "roof", "Lab 2", "basement"),
        "note": ("ok", "OK", "it's cold", None),
    },
    ("temperature",),
    ("humidity", "reading_count", "total", "level"),
    (
        ("2024-01-01 00:00:00+00", "2024-01-01 12:00:00+00"),
        ("2024-01-01 02:00:00+00", "2024-01-01 06:30:00+00"),
        ("2024-01-01 03:15:00.5+00", "2024-01-01 09:00:00+00"),
    ),
    unique_time=True,
    reals=("humidity",),
    wide=("total",),
)
EVENTS = Table(
    "events",
    "time",
    None,
    {"host": ("host_a", "host_b", "host_c"), "kind": ("deploy", "restart", "alert")},
    (),
    ("value",),
    (
        ("2024-01-01 00:00:00+00", "2024-01-01 01:00:00+00"),
        ("2024-01-01 00:05:00+00", "2024-01-01 00:30:00+00"),
    ),
)
LOGS = Table(
    "logs",
    "ts",
    None,
    {"level": ("INFO", "WARN", "ERROR"), "service": ("api", "db", "cache")},
    ("latency_ms",),
    ("bytes",),
    (("2024-01-01 23:30:00", "2024-01-02 01:00:00"), ("2024-01-01 23:50:00", "2024-01-02 00:20:00")),
    zoned=False,
    unique_time=True,
)
TABLES = (CPU, CPU, CPU, TSBS, TSBS, SENSORS, SENSORS, EVENTS, LOGS)

WIDTHS = ("1 minute", "5 minutes", "10 minutes", "15 minutes", "7 minutes", "30 seconds", "1 hour")
TRUNC_UNITS = ("minute", "hour", "second", "day")
ZONES = ("Europe/Berlin", "Asia/Kolkata", "America/New_York")
SPREADS = ("stddev", "stddev_samp", "stddev_pop", "variance", "var_samp", "var_pop")


def _lit(v: str) -> str:
    return "'" + v.replace("'", "''") + "'"


class Draw:
    """One query's choices: the table, and whether the rows of a group lie in one series."""

    def __init__(self, rnd: random.Random, table: Table) -> None:
        self.rnd = rnd
        self.t = table
        self.one_series = False  # the WHERE fixes the series
        self.params: list[str] = []  # values of $1, $2 ... (sent untyped, as text)
        # only what the native executor plans (sql/planner.py): plain tag tests, field comparisons
        # with numbers, bare aggregates; else anything (DuckDB runs most of those)
        self.plain = rnd.random() < 0.45

    def param(self, value: str) -> str:
        self.params.append(value)
        return f"${len(self.params)}"

    # -- WHERE -----------------------------------------------------------------------------------
    def time_range(self) -> str:
        rnd, t = self.rnd, self.t
        lo, hi = rnd.choice(t.ranges)
        cast = "timestamptz" if t.zoned else "timestamp"
        form = rnd.randrange(7)
        if form == 0:
            return f"{t.time} >= {_lit(lo)} AND {t.time} < {_lit(hi)}"
        if form == 6:  # a prepared statement's parameters (and the plan cache's templates)
            return f"{t.time} >= {self.param(lo)} AND {t.time} < {self.param(hi)}"
        if form == 5 and t.zoned:  # ISO 8601 as Grafana writes it
            iso = [v.replace(" ", "T").replace("+00", "Z") for v in (lo, hi)]
            return f"{t.time} >= {_lit(iso[0])} AND {t.time} <= {_lit(iso[1])}"
        if form == 1:
            return f"{t.time} BETWEEN {_lit(lo)} AND {_lit(hi)}"
        if form == 2:
            return f"{t.time} > {cast} {_lit(lo)} AND {t.time} <= {_lit(hi)}::{cast}"
        if form == 3:
            return f"{t.time} >= {_lit(lo)}"
        return f"{t.time} < {_lit(hi)} AND {t.time} >= {_lit(lo)}"

    def tag_condition(self) -> str:
        rnd, t = self.rnd, self.t
        tag = rnd.choice(list(t.tags))
        values = [v for v in t.tags[tag] if v is not None]
        form = rnd.choice([0, 1, 2, 4, 5, 6, 8]) if self.plain else rnd.randrange(10)
        if form <= 2:
            if tag == t.series:
                self.one_series = True
            return f"{tag} = {_lit(rnd.choice(values))}"
        if form == 3:
            return f"{tag} <> {_lit(rnd.choice(values))}"
        if form == 4:
            picked = rnd.sample(values, min(len(values), rnd.randint(1, 3)))
            neg = "NOT " if rnd.random() < 0.3 and not self.plain else ""
            return f"{tag} {neg}IN ({', '.join(map(_lit, picked))})"
        if form == 5:
            v = rnd.choice(values)
            pattern = v[: rnd.randint(1, max(1, len(v) - 1))] + rnd.choice(["%", "_%", "%a%"])
            ops = ["LIKE", "ILIKE"] if self.plain else ["LIKE", "NOT LIKE", "ILIKE"]
            return f"{tag} {rnd.choice(ops)} {_lit(pattern)}"
        if form == 6:
            v = rnd.choice(values)
            pattern = rnd.choice(["^" + v[:3], v[-2:] + "$", "[0-3]", "^[a-z]+_[a-c]$", "(east|1)"])
            return f"{tag} {rnd.choice(['~', '!~', '~*'])} {_lit(pattern)}"
        if form == 7:
            return f"{tag} IS {rnd.choice(['', 'NOT '])}NULL"
        if form == 8:
            other = rnd.choice(list(t.tags))
            a = _lit(rnd.choice(values))
            b = _lit(rnd.choice([v for v in t.tags[other] if v is not None]))
            return f"({tag} = {a} OR {other} = {b})"
        return f"NOT ({tag} = {_lit(rnd.choice(values))})"

    def field_condition(self) -> str:
        rnd, t = self.rnd, self.t
        f = rnd.choice(t.floats + t.ints)
        form = rnd.randrange(8)
        if self.plain:
            f, form = rnd.choice([g for g in t.floats + t.ints if g not in t.reals]), rnd.choice([1, 3, 4, 7])
        if form == 0:
            return f"{f} IS {rnd.choice(['', 'NOT '])}NULL"
        if form == 6:
            g = rnd.choice(t.floats + t.ints)
            return rnd.choice(
                [
                    f"{f} + {g} > {rnd.randint(0, 90)}",
                    f"coalesce({f}, 0) < {rnd.randint(0, 50)}",
                    f"{f} IS DISTINCT FROM {rnd.randint(0, 9)}",
                    f"{f} * 2 >= {g}",
                    f"abs({f} - {rnd.randint(0, 50)}) < 10",
                ]
            )
        if form == 7:
            return f"{f} > {self.param(str(rnd.randint(0, 60)))}"
        if form == 1:
            return f"{f} BETWEEN {rnd.randint(0, 20)} AND {rnd.randint(20, 90)}"
        if form == 2:
            g = rnd.choice(t.floats + t.ints)
            return f"({f} > {rnd.randint(0, 60)} OR {g} < {rnd.randint(0, 10)})"
        op = rnd.choice([">", ">=", "<", "<=", "<>", "="])
        value = rnd.choice([str(rnd.randint(0, 80)), f"{rnd.randint(0, 80)}.5", "1.3", "-1", "12.25"])
        if rnd.random() < 0.2:
            return f"{value} {op} {f}"
        return f"{f} {op} {value}"

    def where(self, *, time: float = 0.85) -> str:
        parts = []
        if self.rnd.random() < time:
            parts.append(self.time_range())
        for _ in range(self.rnd.choice([0, 1, 1, 2])):
            parts.append(self.tag_condition())
        if self.rnd.random() < 0.35:
            parts.append(self.field_condition())
        self.rnd.shuffle(parts)
        return f" WHERE {' AND '.join(parts)}" if parts else ""

    # -- SELECT ----------------------------------------------------------------------------------
    def number(self) -> str:
        t = self.t
        return self.rnd.choice(t.floats + t.floats + t.ints) if t.floats else self.rnd.choice(t.ints)

    def aggregate(self, *, determined: bool) -> str:
        """One aggregate call; ``determined``: first / last are allowed (no two rows of a group share
        a time)."""
        rnd, t = self.rnd, self.t
        f = self.number()
        kinds = ["count(*)", "count", "sum", "avg", "min", "max", "spread", "pct", "distinct"]
        if determined:
            kinds += ["first", "last"]
        kind = rnd.choice(kinds + ["sum", "avg", "max", "count(*)"])
        if kind == "count(*)":
            call = "count(*)"
        elif kind == "spread":
            call = f"{rnd.choice(SPREADS)}({f})"
        elif kind == "pct":
            fraction = rnd.choice(["0.5", "0.9", "0.99", "0", "1", "0.25"])
            fn = rnd.choice(["percentile_cont", "percentile_cont", "percentile_disc"])
            call = f"{fn}({fraction}) WITHIN GROUP (ORDER BY {f})"
        elif kind == "distinct":
            call = f"count(DISTINCT {rnd.choice([f, *t.tags])})"
        elif kind in ("first", "last"):
            call = f"{kind}({f}, {t.time})"
        else:
            call = f"{kind}({f})"
        if rnd.random() < 0.15 and kind not in ("pct", "distinct"):
            cond = self.field_condition() if rnd.random() < 0.6 else self.tag_condition()
            call += f" FILTER (WHERE {cond})"
        return call

    def select_item(self, *, determined: bool) -> str:
        """An aggregate, or arithmetic / a cast / a CASE over aggregates."""
        rnd, t = self.rnd, self.t
        form = rnd.randrange(12) if not self.plain else 11
        f = self.number()
        if form < 2:
            f = rnd.choice([g for g in t.floats + t.ints if g not in t.reals + t.wide])
        if form == 0:
            return rnd.choice(
                [f"max({f}) - min({f})", f"avg({f}) * 2 + 1", f"sum({f}) + count(*)", f"-min({f})"]
            )
        if form == 1:
            return rnd.choice(
                [
                    f"max({f})::int",
                    f"avg({f})::int",
                    f"count({f})::float8 / count(*)",
                    f"count({f}) / greatest(count(*), 1)",
                    f"sum({f})::bigint",
                    f"round(avg({f})::numeric, 2)",
                    f"sum({f}) / nullif(count({f}), 0)",
                    f"coalesce(max({f}), 0)",
                ]
            )
        if form == 2:
            return rnd.choice(
                [
                    f"CASE WHEN count(*) > {rnd.randint(1, 20)} THEN 'busy' ELSE 'idle' END",
                    f"min({rnd.choice(list(t.tags))})",
                    f"max({rnd.choice(list(t.tags))})",
                    f"count(*) FILTER (WHERE {self.tag_condition()})",
                    f"max({t.time})",
                    f"min({t.time})",
                ]
            )
        return self.aggregate(determined=determined)


def _bucket(d: Draw) -> str:
    rnd, t = d.rnd, d.t
    form = rnd.randrange(6)
    if form == 0:
        return f"date_trunc({_lit(rnd.choice(TRUNC_UNITS))}, {t.time})"
    if form == 5 and t.zoned:
        return f"date_trunc({_lit(rnd.choice(TRUNC_UNITS))}, {t.time}, {_lit(rnd.choice(ZONES))})"
    origin = "2024-01-01 00:00:00" + ("+00" if t.zoned else "")
    if form == 1:
        origin = rnd.choice([origin, "2000-01-01", "2024-01-01 00:02:30" + ("+00" if t.zoned else "")])
        return f"date_bin({_lit(rnd.choice(WIDTHS))}, {t.time}, {_lit(origin)})"
    if form == 2 and t.zoned:
        return f"time_bucket({_lit(rnd.choice(WIDTHS))}, {t.time}, {_lit(origin)}::timestamptz)"
    if form == 3 and t.zoned:  # Grafana's $__timeGroup for PostgreSQL: epoch seconds
        n = rnd.choice([60, 300, 900, 3600])
        return f"floor(extract(epoch from {t.time}) / {n}) * {n}"
    return f"time_bucket({_lit(rnd.choice(WIDTHS))}, {t.time})"


@dataclass(frozen=True)
class Generated:
    sql: str
    params: tuple[str, ...] | None = None  # $1, $2 ... as untyped text (extended protocol)
    zone: str | None = None  # the TimeZone both sessions are in for the query (None: UTC)


def _grouped(rnd: random.Random, *, nested: bool) -> tuple[Generated, list[str]]:
    """SELECT [bucket,] [tags,] aggregates FROM t WHERE ... GROUP BY ... [HAVING] [ORDER BY [LIMIT]]
    (``nested``: no ORDER BY), and the names of its group keys."""
    d = Draw(rnd, rnd.choice(TABLES))
    t = d.t
    where = d.where()
    keys: list[tuple[str, str]] = []  # (expression, output name)
    if rnd.random() < 0.7:
        keys.append((_bucket(d), "bucket"))
    for tag in rnd.sample(list(t.tags), rnd.choice([0, 0, 1, 1, 2])):
        keys.append((tag, tag))
    rnd.shuffle(keys)
    determined = t.unique_time or d.one_series or t.series in [k for k, _ in keys]
    aggs = [d.select_item(determined=determined) for _ in range(rnd.randint(1, 3))]
    items = [f"{e} AS {n}" if e != n else e for e, n in keys] + [f"{a} AS a{i}" for i, a in enumerate(aggs)]
    q = f"SELECT {', '.join(items)} FROM {t.name}{where}"
    if keys:
        by = rnd.choice(["names", "positions", "expressions"])
        if by == "names":
            q += " GROUP BY " + ", ".join(n for _, n in keys)
        elif by == "positions":
            q += " GROUP BY " + ", ".join(str(i + 1) for i in range(len(keys)))
        else:
            q += " GROUP BY " + ", ".join(e for e, _ in keys)
    if rnd.random() < 0.25:
        f = d.number()
        q += " HAVING " + rnd.choice(
            [
                f"count(*) > {rnd.randint(1, 30)}",
                f"avg({f}) > {rnd.randint(0, 60)}",
                f"max({f}) - min({f}) >= {rnd.randint(1, 50)}",
                f"sum({f}) IS NOT NULL",
                f"count({f}) < count(*) OR min({f}) < {rnd.randint(0, 20)}",
                f"NOT (max({f}) > {rnd.randint(10, 90)})",
            ]
        )
    order = 1.0 if nested else rnd.random()
    if keys and keys[0][1] == "bucket" and order < 0.15:  # the newest buckets (dashboards' last N)
        q += f" ORDER BY bucket DESC{''.join(', ' + n for _, n in keys[1:])} LIMIT {rnd.randint(1, 8)}"
    elif keys and order < 0.5:
        parts = [f"{n}{rnd.choice(['', ' DESC', ' NULLS FIRST', ' DESC NULLS LAST'])}" for _, n in keys]
        q += " ORDER BY " + ", ".join(parts)
        if rnd.random() < 0.5:
            q += f" LIMIT {rnd.randint(0, 12)}"
            if rnd.random() < 0.4:
                q += f" OFFSET {rnd.randint(1, 5)}"
    elif keys and order < 0.65:
        f = d.number()
        agg = rnd.choice(["count(*)", f"max({f})", f"min({f})", f"count({f})"])
        q = q.replace(f" FROM {t.name}", f", {agg} AS k FROM {t.name}", 1)  # (not IS DISTINCT FROM)
        tie = ", ".join(n for _, n in keys)
        q += f" ORDER BY k {rnd.choice(['DESC', 'ASC', 'DESC NULLS LAST'])}, {tie} LIMIT {rnd.randint(1, 6)}"
    return Generated(q, tuple(d.params) or None), [n for _, n in keys]


def _aggregate_query(rnd: random.Random) -> Generated:
    return _grouped(rnd, nested=False)[0]


def _nested_query(rnd: random.Random) -> Generated:
    """An outer query over a grouped one in FROM or WITH (the native executor answers the inner one
    where it can, DuckDB the rest: sql/binder.py's native bodies)."""
    inner, keys = _grouped(rnd, nested=True)
    form = rnd.randrange(3)
    if form == 0 or not keys:
        q = f"SELECT count(*) AS n, max(a0) AS m, min(a0) AS l FROM ({inner.sql}) s"
        if rnd.random() < 0.4:
            q += " WHERE a0 IS NOT NULL"
    elif form == 1:
        q = f"WITH s AS ({inner.sql}) SELECT * FROM s ORDER BY {', '.join(keys)} LIMIT {rnd.randint(1, 10)}"
    else:
        q = f"SELECT {keys[0]}, count(*) AS n, max(a0) AS m FROM ({inner.sql}) s GROUP BY 1"
    return Generated(q, inner.params)


def _rows_query(rnd: random.Random) -> Generated:
    """SELECT columns / expressions FROM t WHERE ... [ORDER BY time [LIMIT]]."""
    d = Draw(rnd, rnd.choice(TABLES))
    t = d.t
    where = d.where(time=0.95)
    cols = [t.time] + rnd.sample(list(t.tags), rnd.randint(0, len(t.tags)))
    cols += rnd.sample(list(t.floats + t.ints), rnd.randint(1, len(t.floats + t.ints)))
    if rnd.random() < 0.25:
        f = rnd.choice([g for g in t.floats + t.ints if g not in t.wide])
        cols.append(
            rnd.choice([f"{f} * 2 AS twice", f"coalesce({f}, -1) AS c", f"{f}::int AS i", f"{f} + 1.5 AS p"])
        )
    if rnd.random() < 0.1:
        cols = ["*"]
    q = f"SELECT {', '.join(cols)} FROM {t.name}{where}"
    if d.one_series or t.unique_time:
        if rnd.random() < 0.7:
            q += f" ORDER BY {t.time}{rnd.choice(['', ' DESC'])}"
            if rnd.random() < 0.7:
                q += f" LIMIT {rnd.randint(0, 20)}"
                if rnd.random() < 0.3:
                    q += f" OFFSET {rnd.randint(1, 10)}"
    elif t.series is not None and rnd.random() < 0.4:
        q += f" ORDER BY {t.time} DESC, {t.series} LIMIT {rnd.randint(1, 15)}"
    return Generated(q, tuple(d.params) or None)


def _distinct_query(rnd: random.Random) -> Generated:
    """DISTINCT ON (series) ... ORDER BY series, time DESC (the last point), or SELECT DISTINCT."""
    d = Draw(rnd, rnd.choice([CPU, CPU, TSBS, SENSORS]))
    t = d.t
    assert t.series is not None
    where = d.where(time=0.7)
    if rnd.random() < 0.6:
        cols = rnd.sample([t.time, *t.tags, *t.floats, *t.ints], rnd.randint(2, 4))
        if rnd.random() < 0.2:
            cols = ["*"]
        direction = rnd.choice([" DESC", " DESC", ""])
        q = (
            f"SELECT DISTINCT ON ({t.series}) {', '.join(cols)} FROM {t.name}{where} "
            f"ORDER BY {t.series}, {t.time}{direction}"
        )
        return Generated(q, tuple(d.params) or None)
    cols = rnd.sample(list(t.tags), rnd.randint(1, len(t.tags)))
    if rnd.random() < 0.3:
        cols.append(f"{_bucket(d)} AS bucket")
    q = f"SELECT DISTINCT {', '.join(cols)} FROM {t.name}{where}"
    if rnd.random() < 0.3:
        q += " ORDER BY " + ", ".join(str(i + 1) for i in range(len(cols)))
    return Generated(q, tuple(d.params) or None)


def query(seed: int) -> Generated:
    rnd = random.Random(seed)
    kind = rnd.random()
    if kind < 0.55:
        g = _aggregate_query(rnd)
    elif kind < 0.65:
        g = _nested_query(rnd)
    elif kind < 0.85:
        g = _rows_query(rnd)
    else:
        g = _distinct_query(rnd)
    if rnd.random() < 0.12:  # date_trunc, zoneless origins and output in another zone
        g = Generated(g.sql, g.params, rnd.choice(ZONES))
    return g


QUERIES = [query(seed) for seed in range(1000)]
CHUNKS = 8


def _run(pair, g: Generated) -> list[str]:
    """What tsgres answered differently from PostgreSQL (or the generator's mistake)."""
    if g.zone is not None:
        for run in (run_pg, run_tsgres):
            run(pair.pg if run is run_pg else pair.ts, f"SET TimeZone = '{g.zone}'")
    try:
        pg = run_pg(pair.pg, g.sql, g.params)
        if pg.failed and not (pg.sqlstate or "").startswith("22"):
            # (a generator's mistake: generated queries are valid; only the data may raise, as a
            # division by a count of no rows)
            return [f"PostgreSQL raised {pg.sqlstate} ({pg.message})"]
        return differences(g.sql, pg, run_tsgres(pair.ts, g.sql, g.params))
    finally:
        if g.zone is not None:
            run_pg(pair.pg, "RESET TimeZone")
            run_tsgres(pair.ts, "RESET TimeZone")


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_randomized(pair, chunk: int) -> None:
    problems = []
    for g in QUERIES[chunk::CHUNKS]:
        diff = _run(pair, g)
        if diff:
            where = f" (params {g.params})" if g.params else ""
            where += f" (TimeZone {g.zone})" if g.zone else ""
            problems.append(f"{g.sql}{where}\n    " + "\n    ".join(diff))
    assert not problems, f"{len(problems)} generated queries differ:\n" + "\n".join(problems)
