"""Compile (or load from numba's disk cache) the hot kernels before the first request needs them.

The first numba compile of the line-protocol scanner and the codecs takes seconds; done in the
background at start-up, the first write or query does not stall on it.
"""

from __future__ import annotations

import gc
import importlib.util
import logging
import threading
import time

import numpy as np

log = logging.getLogger("tsgres")


def warm_up(stop: threading.Event | None = None) -> None:
    """Compile the kernels step by step; a set ``stop`` (the server shutting down) ends it between
    steps, and the query step between two queries. A compile cannot be stopped: the first one of a
    step takes seconds without numba's disk cache (~40 s in all), so the server does not wait for it
    to exit (tsgres/server.py, ``run``)."""
    start = time.perf_counter()
    for step in _STEPS:
        if stop is not None and stop.is_set():
            log.info("kernel warm-up stopped (shutting down)")
            return
        if step is _queries:
            _queries(stop)
        else:
            step()
    if stop is not None and stop.is_set():  # (in the query step, which stops between queries)
        log.info("kernel warm-up stopped (shutting down)")
        return
    log.info("kernels ready in %.1fs", time.perf_counter() - start)
    settle_heap()


def _line_protocol() -> None:
    from compat.influx.lineprotocol import parse

    parse(b'warm,host=a f=1.5,i=2i,u=3u,b=t,s="x" 1\n', precision="ns", now_ns=0)


def _codecs() -> None:
    from columnar import encodings

    samples = {
        "time": np.arange(0, 5000, 5, dtype=np.int64),
        "int": np.arange(100, dtype=np.int64) % 7,
        "uint": np.arange(100, dtype=np.uint64),
        "float": np.round(np.linspace(0, 1, 100), 2),
        "bool": np.arange(100) % 3 == 0,
    }
    for kind, values in samples.items():
        encodings.decode(encodings.encode(values, kind))


def _scans() -> None:
    from columnar.scan import warm_up as warm_scans

    warm_scans()  # the native executor's batched decode / aggregate / filter kernels


def _executor() -> None:
    from sql.executor import warm_up as warm_executor

    warm_executor()


def _influx_json() -> None:
    from compat.influx._rowsjson import warm_up as warm_rows

    warm_rows()  # /query's JSON rows kernel


def _pgwire() -> None:
    if importlib.util.find_spec("pgwire") is None:
        return
    from pgwire.types import warm_up as warm_encoders

    warm_encoders()  # result encoders and the DataRow framing kernel


def _queries(stop: threading.Event | None = None) -> None:
    """Run the usual dashboard query shapes, SQL and InfluxQL, a dozen texts each, against a scratch
    engine in a temporary directory (files and memtable both holding rows): the interpreter
    specialises the Python on their paths after a few runs, so a fresh server's first real queries
    of a shape do not each take 1.5-3x their later time. Nothing of the server's data is touched.
    A set ``stop`` ends it before the next query (a query past the server's shutdown would find the
    read-ahead pool of sql/read_ahead.py shut down with the interpreter, and fail)."""
    try:
        _scratch_queries(t0=1_451_606_400 * 10**9, hour=3600 * 10**9, stop=stop)
    except Exception:  # a warm-up's trouble is never the server's: its queries are only slower at first
        log.warning("query warm-up failed", exc_info=True)


def _stopped(stop: threading.Event | None) -> bool:
    return stop is not None and stop.is_set()


def _scratch_queries(t0: int, hour: int, stop: threading.Event | None = None) -> None:
    import tempfile
    from pathlib import Path

    from columnar.batch import WriteBatch
    from columnar.engine import Engine
    from columnar.options import EngineOptions

    with tempfile.TemporaryDirectory(prefix="tsgres-warmup-") as d:
        engine = Engine.open(Path(d), EngineOptions(compaction_interval_s=0, wal_fsync="off"))
        try:
            rng = np.random.default_rng(0)
            for part in range(2):  # one hour in a file, one in the memtable
                n = 4 * 360
                time = t0 + part * hour + np.tile(np.arange(360, dtype=np.int64) * 10**10, 4)
                tags = [{"host": f"h{i // 360}", "region": f"r{i // 720}"} for i in range(n)]
                fields = {"usage": rng.integers(0, 100, n), "load": np.round(rng.random(n) * 10, 2)}
                engine.write("postgres", WriteBatch.from_rows("cpu", time, tags, fields)).check()
                if part == 0:
                    engine.flush()
            _sql_queries(engine, t0, hour, stop)
            _influxql_queries(engine, t0, hour, stop)
        finally:
            engine.close()


def _sql_queries(engine, t0: int, hour: int, stop: threading.Event | None = None) -> None:
    import datetime as dt

    from sql.engine import SqlEngine

    def ts(ns: int) -> str:
        return dt.datetime.fromtimestamp(ns / 1e9, dt.UTC).strftime("'%Y-%m-%d %H:%M:%S+00'")

    sql_engine = SqlEngine(engine)
    try:
        session = sql_engine.session("postgres")
        encoders = _encoders()
        for k in range(12):
            lo, hi = ts(t0 + k * 5 * 60 * 10**9), ts(t0 + hour + k * 5 * 60 * 10**9)
            for text in (
                f"SELECT time_bucket('1 minute', time) AS m, max(usage) FROM cpu WHERE host = 'h{k % 4}'"
                f" AND time >= {lo} AND time < {hi} GROUP BY m ORDER BY m",
                f"SELECT time_bucket('1 minute', time) AS m, max(usage), avg(load) FROM cpu WHERE"
                f" host IN ('h{k % 4}', 'h{(k + 1) % 4}') AND time >= {lo} AND time < {hi} GROUP BY m ORDER BY m",
                f"SELECT time_bucket('1 hour', time) AS h, host, avg(usage) FROM cpu WHERE time >= {lo}"
                f" AND time < {hi} GROUP BY h, host ORDER BY h, host",
                f"SELECT * FROM cpu WHERE usage > {50 + k} AND time >= {lo} AND time < {hi}",
                f"SELECT * FROM cpu WHERE usage > {50 + k} AND host = 'h{k % 4}' AND time >= {lo} AND time < {hi}",
                "SELECT DISTINCT ON (host) * FROM cpu ORDER BY host, time DESC",
            ):
                if _stopped(stop):
                    return
                result = session.execute(session.prepare(text, []), [])
                for batch in result.batches:
                    encoders(batch, [c.type_oid for c in result.columns or ()])
    finally:
        sql_engine.close()


def _encoders():
    """pgwire's text DataRow encoding of a batch (a no-op without pgwire)."""
    if importlib.util.find_spec("pgwire") is None:
        return lambda batch, oids: None
    from pgwire.types import BatchRows, Context

    rows, ctx = BatchRows(), Context()
    return lambda batch, oids: rows.encode(batch, oids, [0] * len(oids), ctx)


def _influxql_queries(engine, t0: int, hour: int, stop: threading.Event | None = None) -> None:
    if importlib.util.find_spec("compat") is None:
        return
    import datetime as dt

    from compat.influx.query import QueryJob, QueryService, begin_query
    from tsgres.config import Config

    def ts(ns: int) -> str:
        return dt.datetime.fromtimestamp(ns / 1e9, dt.UTC).strftime("'%Y-%m-%dT%H:%M:%SZ'")

    service = QueryService(engine, Config())
    try:
        for k in range(12):
            lo, hi = ts(t0 + k * 5 * 60 * 10**9), ts(t0 + hour + k * 5 * 60 * 10**9)
            for q in (
                f"SELECT max(usage) FROM cpu WHERE host = 'h{k % 4}' AND time >= {lo} AND time < {hi} GROUP BY time(1m)",
                f"SELECT max(usage), mean(load) FROM cpu WHERE (host = 'h{k % 4}' OR host = 'h{(k + 1) % 4}')"
                f" AND time >= {lo} AND time < {hi} GROUP BY time(1m)",
                f"SELECT mean(usage) FROM cpu WHERE time >= {lo} AND time < {hi} GROUP BY time(1h), host",
                f"SELECT * FROM cpu WHERE usage > {50 + k} AND host = 'h{k % 4}' AND time >= {lo} AND time < {hi}",
                "SELECT last(*) FROM cpu GROUP BY host",
            ):
                if _stopped(stop):
                    return
                job = begin_query(service, "GET", {"db": "postgres", "q": q}, "")
                if not isinstance(job, QueryJob):
                    raise RuntimeError(f"warm-up InfluxQL refused: {q}")
                body, _ = job._timed()  # (run and encoded as the thread pool does)
                if b'"error"' in body:
                    raise RuntimeError(f"warm-up InfluxQL failed: {body[:200]!r}")
    finally:
        service.close()


_STEPS = (_line_protocol, _codecs, _scans, _executor, _influx_json, _pgwire, _queries)


# Objects that queries allocate are collected in the youngest generation; with the default threshold
# (700) a small query runs several collections. Start-up's objects (modules, catalogs, compiled
# kernels, sqlglot's tables) live as long as the process: frozen, no collection walks them again.
GC_THRESHOLD = (10_000, 20, 20)


def settle_heap() -> None:
    """Freeze what start-up allocated and collect less often (in process: ~3% off a small query's
    CPU and a third off its 99th percentile)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)
