"""TSBS on tsgres as TSBS runs it against TimescaleDB: its schema and loader DDL unchanged (tags
table with SERIAL ids, cpu hypertable, create_hypertable, indexes), tags inserted with
INSERT ... ON CONFLICT DO NOTHING RETURNING id, cpu loaded with COPY; then TSBS's 15 devops query
types (the TimescaleDB forms, tags joined through tags_id) return PostgreSQL 15's answers."""

from __future__ import annotations

import csv
import math
import random

import pytest

from bench.datagen import DevopsCpu, timescale_schema, write_timescale
from columnar.engine import Engine
from columnar.options import EngineOptions
from sql.engine import SqlEngine

FIELDS = ["usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait", "usage_irq",
          "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"]  # fmt: skip
HOSTS, HOURS = 10, 14
START = "2016-01-01 00:00:00"

# TimescaleDB's time_bucket for plain PostgreSQL (its default origin, Monday 2000-01-03)
PG_TIME_BUCKET = """CREATE FUNCTION time_bucket(bucket_width interval, ts timestamptz) RETURNS timestamptz
AS $$ SELECT date_bin(bucket_width, ts, TIMESTAMPTZ '2000-01-03 00:00:00+00') $$ LANGUAGE SQL IMMUTABLE"""


def _statements(text: str) -> list[str]:
    return [line.rstrip(";") for line in text.splitlines() if line.strip() and not line.startswith("--")]


@pytest.fixture(scope="module")
def both(pg_server, tmp_path_factory):
    gen = DevopsCpu(HOSTS, hours=HOURS, seed=11)
    files = write_timescale(gen, tmp_path_factory.mktemp("tsbs-csv"))
    # tsgres: TSBS's schema exactly as its loader sends it
    engine = Engine.open(
        tmp_path_factory.mktemp("tsbs"), EngineOptions(compaction_interval_s=0, wal_fsync="off")
    )
    sql_engine = SqlEngine(engine)
    s = sql_engine.session("postgres")

    def ts(sql: str, params: list | None = None):
        r = s.execute(s.prepare(sql, []), params or [])
        return r, [row for b in r.batches for row in b.to_pylist()]

    for stmt in _statements(timescale_schema(gen)):
        ts(stmt)
    with open(files["tags"]) as f:
        rows = list(csv.DictReader(f))
    cols = [c for c in rows[0] if c != "id"]
    for row in rows:  # TSBS's loader inserts tags one set at a time and keeps the returned id
        values = ", ".join("'" + row[c] + "'" for c in cols)
        _, got = ts(
            f"INSERT INTO tags({','.join(cols)}) VALUES ({values}) ON CONFLICT DO NOTHING RETURNING id"
        )
        assert got == [{"id": int(row["id"])}]
    r, _ = ts(
        "INSERT INTO tags("
        + ",".join(cols)
        + ") VALUES ("
        + ", ".join("'" + rows[0][c] + "'" for c in cols)
        + ") ON CONFLICT DO NOTHING RETURNING id"
    )
    assert r.tag == "INSERT 0 0"  # the unique index holds
    copy = s.execute(
        s.prepare("COPY cpu(time,tags_id," + ",".join(FIELDS) + ") FROM STDIN WITH (FORMAT csv, HEADER)", []),
        [],
    )
    data = files["rows"].read_bytes()
    assert (
        s.copy_in(copy.copy, iter([data[i : i + 65536] for i in range(0, len(data), 65536)]))
        == f"COPY {gen.n_rows}"
    )
    engine.flush()
    # PostgreSQL: the same tables (no TimescaleDB there), loaded by COPY
    conn = pg_server.connect()
    conn.autocommit = True
    conn.execute("DROP DATABASE IF EXISTS tsbs")
    conn.execute("CREATE DATABASE tsbs")
    conn.close()
    pg = pg_server.connect("tsbs")
    pg.autocommit = True
    for stmt in _statements(timescale_schema(gen)):
        if "timescaledb" in stmt or "create_hypertable" in stmt:
            continue
        pg.execute(stmt)
    pg.execute(PG_TIME_BUCKET)
    with pg.cursor().copy("COPY tags FROM STDIN WITH (FORMAT csv, HEADER)") as cp:
        cp.write(files["tags"].read_bytes())
    with pg.cursor().copy(
        "COPY cpu(time,tags_id," + ",".join(FIELDS) + ") FROM STDIN WITH (FORMAT csv, HEADER)"
    ) as cp:
        cp.write(data)
    yield ts, pg
    pg.close()
    s.close()
    sql_engine.close()
    engine.close()


def _window(rng: random.Random, hours: int) -> tuple[str, str]:
    start = rng.randrange(0, (HOURS - hours) * 3600)
    lo = f"'2016-01-01 00:00:00+00'::timestamptz + interval '{start} seconds'"
    hi = f"'2016-01-01 00:00:00+00'::timestamptz + interval '{start + hours * 3600} seconds'"
    return lo, hi


def _hosts(rng: random.Random, n: int) -> str:
    names = rng.sample([f"host_{i}" for i in range(HOSTS)], n)
    return "tags_id IN (SELECT id FROM tags WHERE hostname IN (" + ", ".join(f"'{h}'" for h in names) + "))"


def tsbs_query(qtype: str, seed: int) -> str:
    """TSBS's TimescaleDB query text (cmd/tsbs_generate_queries/databases/timescaledb/devops.go)."""
    rng = random.Random(f"{qtype}:{seed}")
    if qtype.startswith("single-groupby"):
        _, _, m, h, t = qtype.split("-")
        lo, hi = _window(rng, int(t))
        sel = ", ".join(f"max({f}) as max_{f}" for f in FIELDS[: int(m)])
        return (f"SELECT time_bucket('60 seconds', time) AS minute, {sel} FROM cpu WHERE {_hosts(rng, int(h))} "
                f"AND time >= {lo} AND time < {hi} GROUP BY minute ORDER BY minute ASC")  # fmt: skip
    if qtype.startswith("cpu-max-all"):
        lo, hi = _window(rng, 8)
        sel = ", ".join(f"max({f}) as max_{f}" for f in FIELDS)
        return (f"SELECT time_bucket('3600 seconds', time) AS hour, {sel} FROM cpu WHERE {_hosts(rng, int(qtype.split('-')[-1]))} "
                f"AND time >= {lo} AND time < {hi} GROUP BY hour ORDER BY hour")  # fmt: skip
    if qtype.startswith("double-groupby"):
        n = len(FIELDS) if qtype.endswith("all") else int(qtype.split("-")[-1])
        lo, hi = _window(rng, 12)
        inner = ", ".join(f"avg({f}) as mean_{f}" for f in FIELDS[:n])
        outer = ", ".join(f"mean_{f}" for f in FIELDS[:n])
        return (f"WITH cpu_avg AS (SELECT time_bucket('3600 seconds', time) as hour, tags_id, {inner} FROM cpu "
                f"WHERE time >= {lo} AND time < {hi} GROUP BY hour, tags_id) "
                f"SELECT hour, tags.hostname, {outer} FROM cpu_avg JOIN tags ON cpu_avg.tags_id = tags.id "
                "ORDER BY hour, tags.hostname")  # fmt: skip
    if qtype.startswith("high-cpu"):
        lo, hi = _window(rng, 12)
        hosts = "" if qtype.endswith("all") else f" AND {_hosts(rng, 1)}"
        return f"SELECT * FROM cpu WHERE usage_user > 90.0 AND time >= {lo} AND time < {hi}{hosts}"
    if qtype == "lastpoint":
        return ("SELECT DISTINCT ON (t.hostname) * FROM tags t INNER JOIN LATERAL "
                "(SELECT * FROM cpu c WHERE c.tags_id = t.id ORDER BY time DESC LIMIT 1) AS b ON true "
                "ORDER BY t.hostname, b.time DESC")  # fmt: skip
    if qtype == "groupby-orderby-limit":
        _, hi = _window(rng, 2)
        return (f"SELECT time_bucket('60 seconds', time) AS minute, max(usage_user) FROM cpu WHERE time < {hi} "
                "GROUP BY minute ORDER BY minute DESC LIMIT 5")  # fmt: skip
    raise ValueError(qtype)


QTYPES = ["single-groupby-1-1-1", "single-groupby-1-1-12", "single-groupby-1-8-1", "single-groupby-5-1-1",
          "single-groupby-5-1-12", "single-groupby-5-8-1", "cpu-max-all-1", "cpu-max-all-8", "double-groupby-1",
          "double-groupby-5", "double-groupby-all", "high-cpu-all", "high-cpu-1", "lastpoint",
          "groupby-orderby-limit"]  # fmt: skip


def _norm(v):
    if isinstance(v, float):
        return round(v, 9)
    if hasattr(v, "is_finite"):  # Decimal
        return round(float(v), 9)
    return v


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("qtype", QTYPES)
def test_tsbs_query_matches_postgres(both, qtype, seed):
    ts, pg = both
    sql = tsbs_query(qtype, seed)
    _, got = ts(sql)
    cur = pg.execute(sql)
    names = [d.name for d in cur.description]
    want = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    assert len(got) == len(want), sql
    assert want or qtype == "high-cpu-1", "the instance should select rows"  # one host is rarely > 90
    got_rows = [tuple(_norm(r[k]) for k in names) for r in got]
    want_rows = [tuple(_norm(r[k]) for k in names) for r in want]
    if "ORDER BY" not in sql:
        got_rows, want_rows = sorted(got_rows, key=repr), sorted(want_rows, key=repr)
    for g, w in zip(got_rows, want_rows, strict=True):
        assert all(
            a == b or (isinstance(a, float) and isinstance(b, float) and math.isclose(a, b, rel_tol=1e-9))
            for a, b in zip(g, w, strict=True)
        ), (sql, g, w)
