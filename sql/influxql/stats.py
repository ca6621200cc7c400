"""SHOW STATS and SHOW DIAGNOSTICS (and the HTTP API's /debug/vars): the server's own statistics and
facts, in InfluxDB 1.x's shape.

A statistic is a module: a name, tags (or None) and values, one series of SHOW STATS each (``SHOW
STATS FOR 'module'`` keeps that module's). tsgres's modules, under InfluxDB's names where the meaning
is the same:

- ``runtime``: the process's resident memory (``Sys``, bytes), its threads (``NumGoroutine``) and
  the garbage collector's collections so far (``NumGC``);
- ``queryExecutor``: InfluxQL queries running (``queriesActive``), begun (``queriesExecuted``), ended
  (``queriesFinished``) and the nanoseconds the ended ones ran (``queryDurationNs``);
- ``database`` (tag ``database``): ``numMeasurements`` and ``numSeries`` of each database;
- what other layers register for the server's storage engine with :func:`register` (the HTTP API's
  ``write`` module: requests and points written, dropped and failed; compat/influx/http.py).

SHOW DIAGNOSTICS: ``build`` (Version), ``network`` (hostname), ``runtime`` (the machine and the
Python that runs tsgres, under Go's column names GOARCH, GOMAXPROCS, GOOS, version) and ``system``
(PID, currentTime, started, uptime). The values are tsgres's, never InfluxDB's (a Go runtime's heap
counters have no counterpart here).
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import platform
import socket
import threading
import weakref
from collections.abc import Callable
from typing import Any

from sql.activity import go_duration
from sql.influxql.series import Series

Module = tuple[str, dict[str, str] | None, dict[str, Any]]  # name, tags, values

_PROVIDERS: weakref.WeakKeyDictionary[Any, list[Callable[[], list[Module]]]] = weakref.WeakKeyDictionary()
_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}


def register(engine: Any, provider: Callable[[], list[Module]]) -> None:
    """Add ``provider``'s modules to the statistics of the server over storage ``engine``."""
    _PROVIDERS.setdefault(engine, []).append(provider)


def statistics(storage: Any, sql_engine: Any) -> list[Module]:
    """Every module of SHOW STATS, in InfluxDB's order (runtime, queryExecutor, write ..., database)."""
    q = sql_engine.activity.influxql
    out: list[Module] = [
        ("runtime", None, _runtime()),
        (
            "queryExecutor",
            None,
            {
                "queriesActive": len(q.running()),
                "queriesExecuted": q.executed,
                "queriesFinished": q.finished,
                "queryDurationNs": q.duration_ns,
                "recoveredPanics": 0,
            },
        ),
    ]
    for provider in _PROVIDERS.get(storage, []):
        out.extend(provider())
    for db in sorted(storage.catalog.databases(), key=lambda d: d.name):
        index = storage.index(db.id)
        out.append(
            (
                "database",
                {"database": db.name},
                {"numMeasurements": len(index.tables()), "numSeries": index.series_count()},
            )
        )
    return out


def _runtime() -> dict[str, Any]:
    return {
        "NumGC": sum(g["collections"] for g in gc.get_stats()),
        "NumGoroutine": threading.active_count(),
        "Sys": _rss_bytes(),
    }


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def started() -> dt.datetime:
    """When this process started (the kernel's record of it; now, where there is none)."""
    try:
        with open("/proc/self/stat") as f:
            ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/stat") as f:
            boot = next(int(line.split()[1]) for line in f if line.startswith("btime "))
        return dt.datetime.fromtimestamp(boot + ticks / os.sysconf("SC_CLK_TCK"), dt.UTC)
    except (OSError, ValueError, IndexError, StopIteration):
        return dt.datetime.now(dt.UTC)


def diagnostics(version: str) -> list[tuple[str, list[str], list[Any]]]:
    """(module, columns, its one row) of SHOW DIAGNOSTICS."""
    now = dt.datetime.now(dt.UTC)
    start = started()
    return [
        ("build", ["Branch", "Build Time", "Commit", "Version"], ["", "", "", version]),
        ("network", ["hostname"], [socket.gethostname()]),
        (
            "runtime",
            ["GOARCH", "GOMAXPROCS", "GOOS", "version"],
            [
                _ARCH.get(platform.machine(), platform.machine()),
                os.cpu_count() or 1,
                platform.system().lower(),
                f"python{platform.python_version()}",
            ],
        ),
        (
            "system",
            ["PID", "currentTime", "started", "uptime"],
            [
                os.getpid(),
                _rfc3339(now),
                _rfc3339(start),
                go_duration(int((now - start).total_seconds() * 1e9)),
            ],
        ),
    ]


def _rfc3339(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def show_stats(storage: Any, sql_engine: Any, module: str) -> list[Series]:
    out = []
    for name, tags, values in statistics(storage, sql_engine):
        if module and name != module:
            continue
        cols = sorted(values)
        out.append(Series(name, tags, cols, [[values[c] for c in cols]], time_index=None))
    return out


def show_diagnostics(version: str, module: str) -> list[Series]:
    return [
        Series(name, None, cols, [row], time_index=None)
        for name, cols, row in diagnostics(version)
        if not module or name == module
    ]


def debug_vars(storage: Any, sql_engine: Any, argv: list[str]) -> dict[str, Any]:
    """The body of GET /debug/vars as InfluxDB 1.x serves it (Go's expvar): ``system``, ``cmdline``,
    ``memstats``, and each module of SHOW STATS under ``name`` or ``name:tag values``, as
    {"name", "tags", "values"} (what Telegraf's influxdb input reads)."""
    start = started()
    modules = statistics(storage, sql_engine)
    runtime = next(values for name, _tags, values in modules if name == "runtime")
    out: dict[str, Any] = {
        "system": {
            "currentTime": _rfc3339(dt.datetime.now(dt.UTC)),
            "started": _rfc3339(start),
            "uptime": int((dt.datetime.now(dt.UTC) - start).total_seconds()),
        },
        "cmdline": argv,
        "memstats": {"Sys": runtime["Sys"], "NumGC": runtime["NumGC"]},
    }
    for name, tags, values in modules:
        key = ":".join([name, *(tags or {}).values()])
        out[key] = {"name": name, "tags": tags or {}, "values": values}
    return out
