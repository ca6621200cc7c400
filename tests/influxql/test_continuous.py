"""Continuous queries run by the scheduler (retention/continuous.py) with an injected clock.

tsgres runs in process (storage + SQL engine on a temporary directory) with the differential data
set; the scheduler's run_due is called with chosen ``now`` values. For each run it reports, the real
InfluxDB (the ``peers`` fixture) runs the same SELECT ... INTO over that explicit time range, and the
measurements written on both sides must be equal. The time ranges themselves are checked against
InfluxDB 1.x's rules (docs/influxql.md, "Continuous queries"). CREATE/DROP/SHOW and their errors are
in the differential corpus (corpus/12_management.iql); persistence across a restart of the server is
tested at the end.
"""

from __future__ import annotations

import math
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from compat.influx.lineprotocol import parse
from retention.continuous import Scheduler, Timing, truncate
from sql.influxql.execute import run
from sql.influxql.values import format_time, parse_time
from tests.conftest import start_server
from tests.influxql.conftest import Peers, request
from tests.influxql.dataset import DATABASES, SETUP, line_protocol
from tests.sql.in_process import sql_engine

S = 1_000_000_000
M = 60 * S
H = 60 * M


def ns(text: str) -> int:
    return parse_time(text)


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    """tsgres in process with the data set the peers have."""
    with sql_engine(tmp_path_factory.mktemp("cq")) as (storage, sql):
        for stmt in SETUP:
            assert run(storage, sql, stmt)[0].error is None
        for db in DATABASES:
            for precision, rp, body in line_protocol(db):
                for batch in parse(body.encode(), precision=precision).batches:
                    storage.write(db, batch, rp=rp or None).check()
        yield storage, sql


def ok(storage: Any, sql: Any, q: str, db: str = "") -> list[Any]:
    res = run(storage, sql, q, database=db)
    assert all(r.error is None for r in res), [r.error for r in res]
    return res


def influx(peers: Peers, q: str, db: str = "") -> Any:
    params = {"q": q, "epoch": "ns"}
    if db:
        params["db"] = db
    r = request(peers.influx, "/query", params, method="POST")
    assert r.status == 200, r.body
    body = r.json()
    assert isinstance(body, dict)
    for res in body["results"]:
        assert "error" not in res, (q, res)
    return body


def local_rows(storage: Any, sql: Any, q: str, db: str) -> list[dict[str, Any]]:
    (res,) = ok(storage, sql, q, db)
    return [
        {"name": s.name, "tags": s.tags or {}, "columns": s.columns, "values": s.values} for s in res.series
    ]


def influx_rows(peers: Peers, q: str, db: str) -> list[dict[str, Any]]:
    (res,) = influx(peers, q, db)["results"]
    return [
        {"name": s["name"], "tags": s.get("tags", {}), "columns": s["columns"], "values": s["values"]}
        for s in res.get("series", [])
    ]


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None or isinstance(a, bool) or isinstance(b, bool):
            return a is b
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


def written_as_influxdb(
    peers: Peers, storage: Any, sql: Any, target: str, select: str, runs: list[Any], reads: list[str]
) -> None:
    """Run ``select`` (a SELECT ... INTO with a {range} placeholder in its WHERE clause) on InfluxDB
    over the time range of each of ``runs``, in order; then each of ``reads`` must answer the same
    rows on both sides (and some)."""
    for r in runs:
        bounds = f"time >= '{format_time(r.start)}' AND time < '{format_time(r.end)}'"
        influx(peers, select.format(range=bounds))
    for q in reads:
        got, want = local_rows(storage, sql, q, target), influx_rows(peers, q, target)
        assert want and same(got, want), (q, got, want)


@pytest.fixture
def target(local: tuple[Any, Any], peers: Peers) -> Iterator[str]:
    """An empty database ``cq_out`` on both sides for the queries to write into."""
    storage, sql = local
    for q in ("DROP DATABASE cq_out", "CREATE DATABASE cq_out"):
        ok(storage, sql, q)
        influx(peers, q)
    yield "cq_out"
    ok(storage, sql, "DROP DATABASE cq_out")
    influx(peers, "DROP DATABASE cq_out")


def test_interval_runs_write_what_influxdb_writes(local: tuple[Any, Any], peers: Peers, target: str) -> None:
    storage, sql = local
    ok(
        storage,
        sql,
        "CREATE CONTINUOUS QUERY cq10m ON db1 BEGIN SELECT mean(usage_user) AS mean_user, max(load), "
        "count(status) INTO cq_out.autogen.cpu_10m FROM cpu WHERE time > now() - 1h GROUP BY time(10m), host END",
    )
    sched = Scheduler(storage, sql)
    # the first run is mid-interval: nothing to cover yet, but it counts as the run at 12:30
    assert sched.run_due(ns("2020-09-13T12:33:20Z")) == []
    assert sched.run_due(ns("2020-09-13T12:39:59.999Z")) == []
    runs = sched.run_due(ns("2020-09-13T12:40:00.5Z"))
    assert [(r.start, r.end) for r in runs] == [(ns("2020-09-13T12:30:00Z"), ns("2020-09-13T12:40:00Z"))]
    assert runs[0].error is None and runs[0].written == 3  # (server04 starts at 13:00)
    # a missed boundary (the server was busy) is caught up: the run covers every interval since
    runs += sched.run_due(ns("2020-09-13T13:10:03Z"))
    assert [(r.start, r.end) for r in runs[1:]] == [(ns("2020-09-13T12:40:00Z"), ns("2020-09-13T13:10:00Z"))]
    assert sched.run_due(ns("2020-09-13T13:10:04Z")) == []
    runs += sched.run_due(ns("2020-09-13T13:20:00Z"))
    assert all(r.error is None for r in runs) and len(runs) == 3
    ok(storage, sql, "DROP CONTINUOUS QUERY cq10m ON db1")

    written_as_influxdb(
        peers,
        storage,
        sql,
        target,
        "SELECT mean(usage_user) AS mean_user, max(load), count(status) INTO cq_out.autogen.cpu_10m "
        "FROM db1.autogen.cpu WHERE {range} GROUP BY time(10m), host",
        runs,
        ["SELECT * FROM cpu_10m GROUP BY *"],
    )


def test_resample_with_offset_writes_what_influxdb_writes(
    local: tuple[Any, Any], peers: Peers, target: str
) -> None:
    storage, sql = local
    ok(
        storage,
        sql,
        "CREATE CONTINUOUS QUERY resampled ON db1 RESAMPLE EVERY 20m FOR 40m BEGIN SELECT count(usage_idle), "
        "min(usage_system) INTO cq_out..cpu_rs FROM cpu WHERE (region = 'us-west' OR host = 'server04') "
        "AND time < now() "
        "GROUP BY time(10m, 5m), * END",
    )
    sched = Scheduler(storage, sql)
    runs = sched.run_due(ns("2020-09-13T12:31:00Z"))  # first run: the last FOR up to the last boundary
    assert [(r.start, r.end) for r in runs] == [(ns("2020-09-13T11:55:00Z"), ns("2020-09-13T12:25:00Z"))]
    assert sched.run_due(ns("2020-09-13T12:44:59Z")) == []  # (due at 12:25 + EVERY)
    runs += sched.run_due(ns("2020-09-13T12:45:30Z"))
    runs += sched.run_due(ns("2020-09-13T13:05:00Z"))
    assert [(r.start, r.end) for r in runs[1:]] == [
        (ns("2020-09-13T12:05:00Z"), ns("2020-09-13T12:45:00Z")),
        (ns("2020-09-13T12:25:00Z"), ns("2020-09-13T13:05:00Z")),  # (re-computes 12:25-12:45: FOR > EVERY)
    ]
    assert all(r.error is None for r in runs)
    ok(storage, sql, "DROP CONTINUOUS QUERY resampled ON db1")
    written_as_influxdb(
        peers,
        storage,
        sql,
        target,
        "SELECT count(usage_idle), min(usage_system) INTO cq_out..cpu_rs FROM db1.autogen.cpu "
        "WHERE (region = 'us-west' OR host = 'server04') AND {range} GROUP BY time(10m, 5m), *",
        runs,
        ["SELECT * FROM cpu_rs GROUP BY *"],
    )


@pytest.mark.parametrize(
    ("cq", "select", "read"),
    [
        pytest.param(
            "SELECT mean(*) INTO cq_out.autogen.:MEASUREMENT FROM /^(cpu|mem)$/ GROUP BY time(30m), *",
            "SELECT mean(*) INTO cq_out.autogen.:MEASUREMENT FROM db1.autogen./^(cpu|mem)$/ WHERE {range} "
            "GROUP BY time(30m), *",
            ["SELECT * FROM cpu GROUP BY *", "SELECT * FROM mem GROUP BY *"],
            id="regex-sources-into-measurement",
        ),
        pytest.param(
            "SELECT max(usage_user), spread(load) INTO cq_out..tzd FROM cpu GROUP BY time(30m) tz('Asia/Kolkata')",
            "SELECT max(usage_user), spread(load) INTO cq_out..tzd FROM db1.autogen.cpu WHERE {range} "
            "GROUP BY time(30m) tz('Asia/Kolkata')",
            ["SELECT * FROM tzd"],
            id="tz",
        ),
        pytest.param(
            "SELECT sum(v) INTO cq_out..sub FROM (SELECT usage_user AS v FROM cpu) GROUP BY time(30m)",
            "SELECT sum(v) INTO cq_out..sub FROM (SELECT usage_user AS v FROM db1.autogen.cpu) WHERE {range} "
            "GROUP BY time(30m)",
            ["SELECT * FROM sub"],
            id="subquery",
        ),
    ],
)
def test_query_shapes_write_what_influxdb_writes(
    local: tuple[Any, Any], peers: Peers, target: str, cq: str, select: str, read: list[str]
) -> None:
    storage, sql = local
    ok(storage, sql, f"CREATE CONTINUOUS QUERY shape ON db1 BEGIN {cq} END")
    try:
        sched = Scheduler(storage, sql)
        runs = [
            r
            for t in ("12:10:00", "12:30:00", "13:00:00", "13:30:01")
            for r in sched.run_due(ns(f"2020-09-13T{t}Z"))
        ]
    finally:
        ok(storage, sql, "DROP CONTINUOUS QUERY shape ON db1")
    assert [(r.start, r.end) for r in runs] == [
        (ns(f"2020-09-13T{a}:00Z"), ns(f"2020-09-13T{b}:00Z"))
        for a, b in (("12:00", "12:30"), ("12:30", "13:00"), ("13:00", "13:30"))
    ]
    assert all(r.error is None and r.written for r in runs), runs
    written_as_influxdb(peers, storage, sql, target, select, runs, read)


def test_a_failing_query_is_logged_and_the_others_run(
    local: tuple[Any, Any], peers: Peers, target: str, caplog: pytest.LogCaptureFixture
) -> None:
    storage, sql = local
    ok(storage, sql, "CREATE RETENTION POLICY brief ON cq_out DURATION 1h REPLICATION 1")
    ok(
        storage,
        sql,
        "CREATE CONTINUOUS QUERY broken ON db1 BEGIN SELECT max(usage_user) INTO cq_out.brief.m FROM cpu "
        "GROUP BY time(30m) END; CREATE CONTINUOUS QUERY fine ON db1 BEGIN SELECT max(usage_user) "
        "INTO cq_out.autogen.m FROM cpu GROUP BY time(30m) END",
    )
    ok(storage, sql, "DROP RETENTION POLICY brief ON cq_out")
    sched = Scheduler(storage, sql)
    runs = sched.run_due(ns("2020-09-13T13:00:00Z"))  # (first run on a boundary: the interval before)
    assert [(r.name, r.start, r.end) for r in runs] == [
        ("broken", ns("2020-09-13T12:30:00Z"), ns("2020-09-13T13:00:00Z")),
        ("fine", ns("2020-09-13T12:30:00Z"), ns("2020-09-13T13:00:00Z")),
    ]
    assert runs[0].error == "retention policy not found: brief" and runs[1].error is None
    assert runs[1].written == 1
    assert "continuous query broken on db1 failed: retention policy not found" in caplog.text
    assert sched.run_due(ns("2020-09-13T13:10:00Z")) == []  # it waits for its next boundary too
    assert len(sched.run_due(ns("2020-09-13T13:30:00Z"))) == 2
    ok(storage, sql, "DROP CONTINUOUS QUERY broken ON db1; DROP CONTINUOUS QUERY fine ON db1")
    assert sched.run_due(ns("2020-09-13T14:00:00Z")) == []


def test_raw_queries_never_run(local: tuple[Any, Any], target: str) -> None:
    storage, sql = local
    ok(
        storage,
        sql,
        "CREATE CONTINUOUS QUERY raw ON db1 BEGIN SELECT usage_user INTO cq_out..raw FROM cpu END",
    )
    try:
        assert Scheduler(storage, sql).run_due(ns("2020-09-13T13:00:00Z")) == []
        assert ok(storage, sql, "SHOW MEASUREMENTS", target)[0].series == []
    finally:
        ok(storage, sql, "DROP CONTINUOUS QUERY raw ON db1")


def test_sql_drop_database_drops_its_queries(local: tuple[Any, Any]) -> None:
    storage, sql = local
    ok(storage, sql, "CREATE DATABASE cq_sql; CREATE DATABASE cq_keep")
    for db in ("cq_sql", "cq_keep"):
        ok(
            storage,
            sql,
            f"CREATE CONTINUOUS QUERY c ON {db} BEGIN SELECT max(v) INTO x FROM m GROUP BY time(1h) END",
        )
    session = sql.session("postgres")
    try:
        session.execute(session.prepare("DROP DATABASE cq_sql", []), [])
    finally:
        session.close()
    ok(storage, sql, "CREATE DATABASE cq_sql")  # (a new database by that name has no queries)
    shown = {s.name: s.values for s in ok(storage, sql, "SHOW CONTINUOUS QUERIES")[0].series}
    assert shown["cq_sql"] == [] and [row[0] for row in shown["cq_keep"]] == ["c"]
    ok(storage, sql, "DROP DATABASE cq_sql; DROP DATABASE cq_keep")


def test_a_closed_scheduler_runs_nothing(local: tuple[Any, Any], target: str) -> None:
    storage, sql = local
    ok(
        storage,
        sql,
        "CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT max(load) INTO cq_out..c FROM cpu GROUP BY time(1h) END",
    )
    try:
        sched = Scheduler(storage, sql)
        sched.close()  # (the server's stop: storage closes next)
        assert sched.run_due(ns("2020-09-13T13:00:00Z")) == []
        assert len(Scheduler(storage, sql).run_due(ns("2020-09-13T13:00:00Z"))) == 1
    finally:
        ok(storage, sql, "DROP CONTINUOUS QUERY c ON db1")


# -- the timing rules alone -----------------------------------------------------------------------------------
def windows(timing: Timing, nows: list[int]) -> list[tuple[int, int] | None]:
    """What a scheduler with ``timing`` covers at each of ``nows`` (None: not due, or nothing)."""
    last: int | None = None
    out: list[tuple[int, int] | None] = []
    for now in nows:
        due = timing.due(last, now)
        if due is None:
            out.append(None)
            continue
        last, window = timing.run(due, now)
        out.append(window)
    return out


def test_timing_rules() -> None:
    t0 = ns("2020-09-13T12:00:00Z")
    # plain: every boundary covers the interval that ended; a first run off a boundary covers nothing
    plain = Timing(interval=H, offset=0)
    assert windows(plain, [t0 + 10 * M, t0 + H - 1, t0 + H, t0 + H + 5 * S, t0 + 2 * H + S]) == [
        None,
        None,
        (t0, t0 + H),
        None,
        (t0 + H, t0 + 2 * H),
    ]
    # RESAMPLE EVERY 30m with GROUP BY time(1h): the current hour at half past, the hour that ended
    # on the hour
    every = Timing(interval=H, offset=0, every=30 * M)
    assert windows(every, [t0 + 10 * M, t0 + 30 * M, t0 + H, t0 + H + 30 * M]) == [
        None,
        (t0, t0 + H),
        (t0, t0 + H),
        (t0 + H, t0 + 2 * H),
    ]
    # RESAMPLE EVERY 2h with GROUP BY time(1h): both hours of the last two, every two hours
    slow = Timing(interval=H, offset=0, every=2 * H)
    assert windows(slow, [t0, t0 + H, t0 + 2 * H]) == [(t0 - 2 * H, t0), None, (t0, t0 + 2 * H)]
    # an offset moves the boundaries: time(1h, 15m) runs at a quarter past
    off = Timing(interval=H, offset=15 * M)
    assert windows(off, [t0 + 10 * M, t0 + 15 * M]) == [None, (t0 - 45 * M, t0 + 15 * M)]
    # a negative offset is Go's remainder: time(1h, -15m) runs at a quarter to
    neg = Timing(interval=H, offset=-15 * M)
    assert windows(neg, [t0 + 45 * M]) == [(t0 - 15 * M, t0 + 45 * M)]


def test_truncate_in_a_zone() -> None:
    import zoneinfo

    paris = zoneinfo.ZoneInfo("Europe/Paris")
    day = 24 * H
    # midnight in Paris (UTC+2 in September) is 22:00 UTC the day before
    assert truncate(ns("2020-09-13T12:00:00Z"), day, paris) == ns("2020-09-12T22:00:00Z")
    assert truncate(ns("2020-09-13T12:00:00Z"), day) == ns("2020-09-13T00:00:00Z")


# -- the server -----------------------------------------------------------------------------------------------
def _post(base: str, q: str, db: str = "") -> Any:
    params = {"q": q, **({"db": db} if db else {})}
    r = request(base, "/query", params, method="POST")
    assert r.status == 200, r.body
    return r.json()


def test_queries_survive_a_restart_and_the_server_runs_them(tmp_path: Path) -> None:
    create = (
        "CREATE CONTINUOUS QUERY per_second ON live RESAMPLE FOR 2s BEGIN SELECT count(v) INTO live..per_s "
        "FROM m GROUP BY time(1s) END"
    )
    server = start_server(tmp_path)
    try:
        base = f"http://127.0.0.1:{server.http_port}"
        _post(base, "CREATE DATABASE live; CREATE DATABASE gone")
        _post(base, create)
        _post(
            base, "CREATE CONTINUOUS QUERY g ON gone BEGIN SELECT max(v) INTO x FROM m GROUP BY time(1h) END"
        )
        _post(base, "DROP DATABASE gone")
        shown = _post(base, "SHOW CONTINUOUS QUERIES")
        assert server.stop(signal.SIGTERM) == 0
    finally:
        server.kill()
    assert shown["results"][0]["series"][1] == {
        "name": "live",
        "columns": ["name", "query"],
        "values": [
            [
                "per_second",
                "CREATE CONTINUOUS QUERY per_second ON live RESAMPLE FOR 2s BEGIN SELECT count(v) INTO "
                "live.autogen.per_s FROM live.autogen.m GROUP BY time(1s) END",
            ]
        ],
    }

    server = start_server(tmp_path)
    try:
        base = f"http://127.0.0.1:{server.http_port}"
        assert _post(base, "SHOW CONTINUOUS QUERIES") == shown  # (and "gone" has none)
        _post(base, create)  # the same text again: accepted, nothing changes
        assert _post(base, "SHOW CONTINUOUS QUERIES") == shown
        # points over the next seconds: the server's scheduler (every second) counts each second
        start = time.time_ns() // S * S
        body = "\n".join(f"m v={i} {start + i * 100_000_000}" for i in range(60))
        r = request(base, "/write", {"db": "live"}, method="POST", data=body.encode())
        assert r.status == 204, r.body
        deadline = time.monotonic() + 30
        while True:
            res = _post(base, "SELECT * FROM per_s", "live")["results"][0]
            rows = res.get("series", [{}])[0].get("values", [])
            if len(rows) >= 2 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert len(rows) >= 2 and all(row[1] == 10 for row in rows), (rows, server.stderr()[-3000:])
        assert server.stop(signal.SIGTERM) == 0
    finally:
        server.kill()
