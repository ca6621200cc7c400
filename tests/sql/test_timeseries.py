"""Time-series SQL beyond the fixture files: comparisons with a real PostgreSQL 15 where it computes
the same thing (date_bin, width_bucket, percentiles, LATERAL top-1), parameters, result types,
pushdown through the gapfill rewrite, and the ASOF rewrite against the explicit ASOF syntax.

The PostgreSQL tests skip when PostgreSQL 15 is not installed (tests/sql/conftest.py: pg_server).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator

import pytest

from sql import errors as E

UTC = dt.UTC
SEED = 20240601


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    from columnar.engine import Engine
    from columnar.options import EngineOptions
    from sql.engine import SqlEngine

    storage = Engine.open(
        tmp_path_factory.mktemp("timeseries"), EngineOptions(compaction_interval_s=0, wal_fsync="off")
    )
    try:
        yield SqlEngine(storage).session("postgres")
    finally:
        storage.close()


@pytest.fixture(scope="module")
def pg(pg_server) -> Iterator:
    conn = pg_server.connect()
    try:
        conn.execute("SET TimeZone = 'UTC'")
        yield conn
    finally:
        conn.close()


def rows(session, sql: str, params: list | None = None) -> list[tuple]:
    res = session.execute(session.prepare(sql, []), params or [])
    out: list[tuple] = []
    for batch in res.batches or []:
        out.extend(zip(*[c.to_pylist() for c in batch.columns], strict=True))
    return out


def pg_rows(pg, sql: str) -> list[tuple]:
    return [tuple(r) for r in pg.execute(sql).fetchall()]


def _ts_values(rng: random.Random, n: int) -> list[dt.datetime]:
    lo = dt.datetime(1960, 1, 1, tzinfo=UTC).timestamp()
    hi = dt.datetime(2040, 1, 1, tzinfo=UTC).timestamp()
    out = []
    for _ in range(n):
        s = rng.uniform(lo, hi)
        out.append(dt.datetime.fromtimestamp(int(s), UTC).replace(microsecond=rng.randrange(1_000_000)))
    # boundaries: the default origin, the epoch, a bucket edge
    out += [
        dt.datetime(2000, 1, 3, tzinfo=UTC),
        dt.datetime(1970, 1, 1, tzinfo=UTC),
        dt.datetime(2000, 1, 2, 23, 59, 59, 999999, tzinfo=UTC),
    ]
    return out


def _values(ts: list[dt.datetime]) -> str:
    return ", ".join(f"(TIMESTAMPTZ '{t.isoformat()}')" for t in ts)


WIDTHS = ["1 second", "7 seconds", "5 minutes", "90 minutes", "6 hours", "13 hours 7 minutes", "1 day"]
WIDTHS += ["3 days", "1 week", "2 weeks"]


def test_time_bucket_matches_postgres_date_bin(session, pg) -> None:
    """time_bucket(w, ts) = date_bin(w, ts, 2000-01-03) for widths without months (TimescaleDB docs:
    'similar to date_bin', default origin Monday 2000-01-03); offsets shift it."""
    rng = random.Random(SEED)
    vals = _values(_ts_values(rng, 80))
    ours = ", ".join(f"time_bucket('{w}', t), time_bucket('{w}', t, '-2 minutes'::interval)" for w in WIDTHS)
    origin = "TIMESTAMPTZ '2000-01-03 00:00:00+00'"
    theirs = ", ".join(
        f"date_bin('{w}', t, {origin}), date_bin('{w}', t + interval '2 minutes', {origin}) - interval '2 minutes'"
        for w in WIDTHS
    )
    sql = "SELECT t, {} FROM (VALUES " + vals + ") v(t) ORDER BY t"
    assert rows(session, sql.format(ours)) == pg_rows(pg, sql.format(theirs))


def test_integer_time_bucket_matches_postgres_numeric_floor(session, pg) -> None:
    rng = random.Random(SEED + 1)
    ns = [rng.randrange(-(2**62), 2**62) for _ in range(80)] + [-1, 0, 1, -(2**62), 2**62 - 1]
    vals = ", ".join(f"({n}::bigint)" for n in ns)
    cases = [(1, 0), (7, 0), (10, 3), (10, -3), (1000003, 999), (2**40, 5)]
    ours = ", ".join(f"time_bucket({w}, n, {o})" for w, o in cases)
    # floor division in exact numeric: div truncates, so step down when the remainder is < 0
    theirs = ", ".join(
        f"((div((n - {o})::numeric, {w}) - CASE WHEN mod((n - {o})::numeric, {w}) < 0 THEN 1 ELSE 0 END)"
        f" * {w} + {o})::bigint"
        for w, o in cases
    )
    sql = "SELECT n, {} FROM (VALUES " + vals + ") v(n) ORDER BY n"
    assert rows(session, sql.format(ours)) == pg_rows(pg, sql.format(theirs))


def test_histogram_matches_postgres_width_bucket(session, pg) -> None:
    """tsgres_width_bucket is PostgreSQL 15's width_bucket(float8); histogram counts per bucket."""
    rng = random.Random(SEED + 2)
    values = [round(rng.uniform(-10, 110), rng.choice([0, 1, 3, 9])) for _ in range(150)]
    values += [0.0, 20.0, 60.0, 100.0, 59.999999999, 20.000000001, 0.1, 0.7]
    vals = ", ".join(f"({v!r}::float8)" for v in values)
    cases = [(20, 60, 5), (0, 100, 7), (0.1, 0.7, 3), (-5, 105, 11)]
    hists = ", ".join(f"histogram(v, {lo}, {hi}, {n})" for lo, hi, n in cases)
    ours = rows(session, f"SELECT {hists} FROM (VALUES {vals}) x(v)")[0]
    for (lo, hi, n), got in zip(cases, ours, strict=True):
        counts = dict(
            pg_rows(
                pg, f"SELECT width_bucket(v, {lo}, {hi}, {n}), count(*) FROM (VALUES {vals}) x(v) GROUP BY 1"
            )
        )
        assert got == [counts.get(i, 0) for i in range(n + 2)], (lo, hi, n)


def test_percentiles_match_postgres(session, pg) -> None:
    rng = random.Random(SEED + 3)
    data = [
        (rng.choice("abc"), rng.choice([None, rng.randrange(100), rng.uniform(0, 1)])) for _ in range(300)
    ]
    vals = ", ".join(f"('{g}', {'NULL' if v is None else repr(float(v))}::float8)" for g, v in data)
    sql = (
        "SELECT g, percentile_cont(0.5) WITHIN GROUP (ORDER BY v), "
        "percentile_cont(0.37) WITHIN GROUP (ORDER BY v DESC), "
        "percentile_disc(0.9) WITHIN GROUP (ORDER BY v), "
        "percentile_cont(array[0, 0.25, 1]) WITHIN GROUP (ORDER BY v), "
        "percentile_disc(array[0.1, 0.5]) WITHIN GROUP (ORDER BY v DESC) "
        f"FROM (VALUES {vals}) x(g, v) GROUP BY g ORDER BY g"
    )
    ours, theirs = rows(session, sql), pg_rows(pg, sql)
    assert len(ours) == len(theirs) == 3
    for a, b in zip(ours, theirs, strict=True):
        assert a[0] == b[0]
        assert a[1] == pytest.approx(b[1], rel=1e-12)
        assert a[2] == pytest.approx(b[2], rel=1e-12)
        assert a[3] == b[3]
        assert a[4] == pytest.approx(list(b[4]), rel=1e-12)
        assert a[5] == list(b[5])


def _load_trades(session, rng: random.Random) -> tuple[list, list]:
    base = dt.datetime(2022, 1, 1, tzinfo=UTC)
    trades = [(base + dt.timedelta(seconds=rng.randrange(3600)), rng.choice("ABCD"), i) for i in range(300)]
    # distinct quote times: with ties "the latest" would be any of them, in every engine
    seconds = rng.sample(range(3600), 900)
    quotes = [
        (base + dt.timedelta(seconds=sec), rng.choice("ABCDE"), float(i)) for i, sec in enumerate(seconds)
    ]
    rows(session, "CREATE TABLE r_trades (time timestamptz NOT NULL, sym text, id int)")
    rows(session, "CREATE TABLE r_quotes (time timestamptz NOT NULL, sym text, price double precision)")
    rows(
        session,
        "INSERT INTO r_trades VALUES " + ", ".join(f"('{t.isoformat()}', '{s}', {i})" for t, s, i in trades),
    )
    rows(
        session,
        "INSERT INTO r_quotes VALUES " + ", ".join(f"('{t.isoformat()}', '{s}', {p})" for t, s, p in quotes),
    )
    return trades, quotes


LATERAL = (
    "SELECT t.id, q.price FROM r_trades t LEFT JOIN LATERAL (SELECT price FROM r_quotes "
    "WHERE r_quotes.sym = t.sym AND r_quotes.time <= t.time ORDER BY r_quotes.time DESC, price DESC LIMIT 1) q "
    "ON true ORDER BY t.id"
)
LATERAL_ASOF = LATERAL.replace(", price DESC", "")
EXPLICIT = (
    "SELECT t.id, q.price FROM r_trades t ASOF LEFT JOIN r_quotes q ON t.sym = q.sym AND t.time >= q.time "
    "ORDER BY t.id"
)


def test_asof_rewrite_agrees_with_explicit_asof_and_postgres(session, pg_server) -> None:
    rng = random.Random(SEED + 4)
    trades, quotes = _load_trades(session, rng)
    rewritten = rows(session, LATERAL_ASOF)
    explicit = rows(session, EXPLICIT)
    not_rewritten = rows(session, LATERAL)  # a second ORDER BY key: the rule leaves LATERAL alone
    latest: dict[int, float | None] = {}
    for t, s, i in trades:
        cands = [(qt, p) for qt, qs, p in quotes if qs == s and qt <= t]
        latest[i] = max(cands)[1] if cands else None
    expected = sorted(latest.items())
    assert rewritten == explicit == not_rewritten == expected
    conn = pg_server.connect()
    try:
        conn.execute("CREATE TEMP TABLE r_trades (time timestamptz, sym text, id int)")
        conn.execute("CREATE TEMP TABLE r_quotes (time timestamptz, sym text, price double precision)")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO r_trades VALUES (%s, %s, %s)", trades)
            cur.executemany("INSERT INTO r_quotes VALUES (%s, %s, %s)", quotes)
        assert pg_rows(conn, LATERAL) == expected
    finally:
        conn.close()


def test_asof_rule_fires_on_the_lateral_pattern() -> None:
    from sql.parse import parse
    from sql.rewrite import RewriteContext, rewrite

    out = rewrite(parse(LATERAL_ASOF), RewriteContext("postgres")).sql("duckdb")
    assert "ASOF LEFT JOIN" in out and "LATERAL" not in out
    out = rewrite(parse(LATERAL), RewriteContext("postgres")).sql("duckdb")
    assert "LATERAL" in out


@pytest.fixture(scope="module")
def cpu(session) -> None:
    rows(session, "CREATE TABLE gf_cpu (time timestamptz NOT NULL, host text, usage double precision)")
    values = []
    base = dt.datetime(2022, 3, 1, tzinfo=UTC)
    for h, host in enumerate(["a", "b"]):
        for m in range(0, 60, 7 + h):
            values.append(f"('{(base + dt.timedelta(minutes=m)).isoformat()}', '{host}', {m + h / 10})")
    rows(session, "INSERT INTO gf_cpu VALUES " + ", ".join(values))


def test_gapfill_with_parameters_and_describe(session, cpu) -> None:
    sql = (
        "SELECT time_bucket_gapfill('10 minutes', time) AS bucket, host, avg(usage) AS avg, "
        "locf(avg(usage)) AS locf, interpolate(avg(usage)) AS interp, count(*) AS n "
        "FROM gf_cpu WHERE time >= $1 AND time < $2 GROUP BY bucket, host ORDER BY host, bucket"
    )
    stmt = session.prepare(sql, [1184, 1184])
    assert [(c.name, c.type_oid) for c in stmt.columns] == [
        ("bucket", 1184),
        ("host", 25),
        ("avg", 701),
        ("locf", 701),
        ("interp", 701),
        ("n", 20),
    ]
    start = dt.datetime(2022, 3, 1, 0, 0, tzinfo=UTC)
    got = rows(session, sql, [start, start + dt.timedelta(minutes=60)])
    assert len(got) == 12  # 6 buckets x 2 hosts, no gaps to speak of: every bucket has data
    assert [r[0] for r in got[:6]] == [start + dt.timedelta(minutes=10 * i) for i in range(6)]
    got = rows(session, sql, [start - dt.timedelta(minutes=30), start + dt.timedelta(minutes=20)])
    a = [r for r in got if r[1] == "a"]
    assert [r[2] is None for r in a] == [True, True, True, False, False]  # three leading gaps
    assert [r[3] for r in a[:3]] == [None, None, None]  # nothing to carry yet
    assert [r[5] for r in a[:3]] == [None, None, None]  # count(*) is NULL in a gap, as in TimescaleDB


def test_gapfill_keeps_time_pushdown(session, cpu) -> None:
    res = session.execute(
        session.prepare(
            "EXPLAIN SELECT time_bucket_gapfill('1 hour', time) AS b, avg(usage) FROM gf_cpu "
            "WHERE time >= '2022-03-01 00:20:00+00' AND time < '2022-03-01 02:00:00+00' GROUP BY b",
            [],
        ),
        [],
    )
    plan = "\n".join(v for b in res.batches for v in b.column(0).to_pylist())
    lo = int(dt.datetime(2022, 3, 1, 0, 20, tzinfo=UTC).timestamp()) * 10**9
    assert f"time range: [{lo}," in plan


def test_gapfill_month_buckets_and_timezone_series(session, cpu) -> None:
    got = rows(
        session,
        "SELECT time_bucket_gapfill('1 month', time, '2021-11-15', '2022-06-01') AS m, count(*) "
        "FROM gf_cpu GROUP BY m ORDER BY m",
    )
    months = [r[0] for r in got]
    assert months == [dt.datetime(2021, 11, 1, tzinfo=UTC)] + [
        dt.datetime(y, mo, 1, tzinfo=UTC)
        for y, mo in [(2021, 12), (2022, 1), (2022, 2), (2022, 3), (2022, 4), (2022, 5)]
    ]
    assert [r[1] for r in got] == [None, None, None, None, 17, None, None]
    # DST: Berlin switches to summer time on 2022-03-27; buckets (and gap rows) stay local midnights.
    # The data (2022-03-01) lies outside [start, finish) and passes through, as in TimescaleDB.
    got = rows(
        session,
        "SELECT time_bucket_gapfill('1 day', time, 'Europe/Berlin', '2022-03-25', '2022-03-29') AS d, count(*) "
        "FROM gf_cpu GROUP BY d ORDER BY d",
    )
    assert got == [
        (dt.datetime(2022, 2, 28, 23, tzinfo=UTC), 17),
        (dt.datetime(2022, 3, 24, 23, tzinfo=UTC), None),
        (dt.datetime(2022, 3, 25, 23, tzinfo=UTC), None),
        (dt.datetime(2022, 3, 26, 23, tzinfo=UTC), None),
        (dt.datetime(2022, 3, 27, 22, tzinfo=UTC), None),
        (dt.datetime(2022, 3, 28, 22, tzinfo=UTC), None),
    ]


def test_first_last_null_value_and_errors(session) -> None:
    assert rows(
        session, "SELECT first(v, t), last(v, t) FROM (VALUES (1, 'x'), (2, NULL), (NULL, 'z')) x(t, v)"
    ) == [("x", None)]
    with pytest.raises(E.SqlError) as info:
        rows(session, "SELECT time_bucket('1 day', now(), bogus => 1)")
    assert info.value.sqlstate == "42883"


def test_gapfill_scales_to_many_buckets(session) -> None:
    """A day of one-second buckets for 10 groups (864k rows) from 1000 points: one query, seconds."""
    import time as _time

    rows(session, "CREATE TABLE gf_many (t bigint, g int, v bigint)")
    rows(
        session,
        "INSERT INTO gf_many VALUES "
        + ", ".join(f"({(i * 86) % 86400}, {i % 10}, {i})" for i in range(1000)),
    )
    t0 = _time.perf_counter()
    got = rows(
        session,
        "SELECT count(*), count(v), sum(l) FROM (SELECT time_bucket_gapfill(1, t, 0, 86400) AS b, g, "
        "min(v) AS v, locf(min(v)) AS l FROM gf_many GROUP BY b, g) y",
    )
    elapsed = _time.perf_counter() - t0
    assert got[0][0] == 864000 and got[0][1] == 1000
    assert elapsed < 20, elapsed
