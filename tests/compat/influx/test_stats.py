"""SHOW STATS, SHOW DIAGNOSTICS and GET /debug/vars of a real server (sql/influxql/stats.py): the
counters follow the writes and queries it answered, the facts are its process's."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any


def _query(server: Any, q: str) -> dict[str, Any]:
    url = server.http_url("/query?" + urllib.parse.urlencode({"q": q, "db": "d"}))
    with urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=30) as r:
        return json.loads(r.read())


def _modules(answer: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    (result,) = answer["results"]
    out = {}
    for s in result["series"]:
        tags = ",".join(f"{k}={v}" for k, v in sorted((s.get("tags") or {}).items()))
        out[(s["name"], tags)] = dict(zip(s["columns"], s["values"][0], strict=True))
    return out


def test_stats_diagnostics_and_debug_vars_follow_the_server(tsgres_proc: Callable[..., Any]) -> None:
    server = tsgres_proc()
    _query(server, "CREATE DATABASE d")
    body = (
        "".join(f"cpu,host=h{i % 4} v={i} {1_600_000_000_000_000_000 + i}\n" for i in range(40))
        + "bad line\n"
    )
    req = urllib.request.Request(server.http_url("/write?db=d"), data=body.encode(), method="POST")
    try:
        urllib.request.urlopen(req, timeout=30)
    except urllib.error.HTTPError as e:  # a partial write: 400, the good lines kept
        assert e.code == 400
    _query(server, "SELECT count(v) FROM cpu")

    stats = _modules(_query(server, "SHOW STATS"))
    write = stats[("write", "")]
    assert (
        write["pointReq"] == 41 and write["writeDrop"] == 1 and write["req"] == 1 and write["writeError"] == 1
    )
    executor = stats[("queryExecutor", "")]
    assert executor["queriesActive"] == 1  # (SHOW STATS itself)
    assert executor["queriesExecuted"] == 3 and executor["queriesFinished"] == 2
    assert executor["queryDurationNs"] > 0
    assert stats[("database", "database=d")] == {"numMeasurements": 1, "numSeries": 4}
    assert stats[("runtime", "")]["Sys"] > 10_000_000 and stats[("runtime", "")]["NumGoroutine"] >= 1
    assert set(_modules(_query(server, "SHOW STATS FOR 'database'"))) == {
        ("database", "database=d"),
        ("database", "database=postgres"),
    }

    diagnostics = _modules(_query(server, "SHOW DIAGNOSTICS"))
    assert diagnostics[("system", "")]["PID"] == server.proc.pid
    assert diagnostics[("runtime", "")]["GOMAXPROCS"] >= 1
    assert set(_modules(_query(server, "SHOW DIAGNOSTICS FOR 'network'"))) == {("network", "")}

    with urllib.request.urlopen(server.http_url("/debug/vars"), timeout=30) as r:
        assert r.headers["Content-Type"].startswith("application/json")
        expvar = json.loads(r.read())
    assert {"system", "cmdline", "memstats", "queryExecutor", "write", "database:d"} <= set(expvar)
    assert expvar["database:d"] == {
        "name": "database",
        "tags": {"database": "d"},
        "values": {"numMeasurements": 1, "numSeries": 4},
    }
    assert expvar["write"]["values"]["pointReq"] == 41
    assert "serve" in expvar["cmdline"] and expvar["system"]["uptime"] >= 0
