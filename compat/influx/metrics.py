"""Write-path metrics in the Prometheus text format, served at ``GET /metrics``.

One :class:`WriteMetrics` per storage engine (so per server), shared by the HTTP and UDP listeners:
:func:`metrics_for` hands out the same object for the same engine. Each has a registry of its own,
never prometheus_client's global one, so two servers in one process (tests) do not mix counts.

=====================================================  ==========================================
metric                                                 meaning
=====================================================  ==========================================
``tsgres_write_requests_total{api,status}``            write requests answered, by HTTP status
                                                       (``api``: v1, v2, v3, udp; udp has no status
                                                       and counts ``ok``/``error``)
``tsgres_write_bytes_total{api}``                      request body bytes as received
``tsgres_write_body_bytes_total{api}``                 the same after gzip decoding
``tsgres_write_lines_total{api}``                      line-protocol lines (points + bad lines)
``tsgres_write_points_total{api}``                     points written to storage
``tsgres_write_points_dropped_total{api,reason}``      points not written: ``parse``,
                                                       ``type_conflict``, ``series_limit``,
                                                       ``retention``, ``rejected`` (whole body
                                                       refused), ``other``
``tsgres_write_errors_total{api,kind}``                failed or partial requests by kind
``tsgres_write_duration_seconds{api}``                 time from body read to response
``tsgres_wal_fsync_duration_seconds``                  one WAL fsync round
=====================================================  ==========================================
"""

from __future__ import annotations

import weakref
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from sql.influxql import stats

FSYNC_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
WRITE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

CONTENT_TYPE = CONTENT_TYPE_LATEST


class WriteMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "tsgres_write_requests",
            "Write requests answered, by API and status",
            ["api", "status"],
            registry=r,
        )
        self.bytes = Counter(
            "tsgres_write_bytes", "Write request body bytes as received", ["api"], registry=r
        )
        self.body_bytes = Counter(
            "tsgres_write_body_bytes", "Write request body bytes after content decoding", ["api"], registry=r
        )
        self.lines = Counter(
            "tsgres_write_lines", "Line-protocol lines received (points + bad lines)", ["api"], registry=r
        )
        self.points = Counter("tsgres_write_points", "Points written to storage", ["api"], registry=r)
        self.dropped = Counter(
            "tsgres_write_points_dropped",
            "Points received but not written, by reason",
            ["api", "reason"],
            registry=r,
        )
        self.errors = Counter(
            "tsgres_write_errors",
            "Failed or partially failed write requests, by kind",
            ["api", "kind"],
            registry=r,
        )
        self.duration = Histogram(
            "tsgres_write_duration_seconds",
            "Time from the body being read to the response",
            ["api"],
            buckets=WRITE_BUCKETS,
            registry=r,
        )
        self.wal_fsync = Histogram(
            "tsgres_wal_fsync_duration_seconds",
            "Duration of one WAL fsync round",
            buckets=FSYNC_BUCKETS,
            registry=r,
        )

    def observe_wal_fsync(self, seconds: float) -> None:
        """The WAL's ``on_fsync`` callback (runs on the WAL's thread; prometheus_client is thread-safe)."""
        self.wal_fsync.observe(seconds)

    def render(self) -> bytes:
        """The registry in the Prometheus text exposition format."""
        return generate_latest(self.registry)

    def influx_modules(self) -> list[tuple[str, dict[str, str] | None, dict[str, Any]]]:
        """InfluxDB 1.x's ``write`` statistics module (SHOW STATS, /debug/vars: sql/influxql/stats.py)
        from these counters: requests (``req``) that succeeded (204, or a UDP packet written:
        ``writeOk``) or did not (``writeError``), points asked to be written (``pointReq``) and
        those not written (``writeDrop``)."""
        req = _total(self.requests)
        ok = _total(self.requests, "204") + _total(self.requests, "ok")
        points, dropped = _total(self.points), _total(self.dropped)
        values = {
            "req": req,
            "writeOk": ok,
            "writeError": req - ok,
            "pointReq": points + dropped,
            "pointReqLocal": points + dropped,
            "writeDrop": dropped,
        }
        return [("write", None, values)]


def _total(counter: Counter, status: str | None = None) -> int:
    """A counter's count over all its labels (only those with ``status``, when given)."""
    n = 0.0
    for metric in counter.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total") and (status is None or sample.labels.get("status") == status):
                n += sample.value
    return int(n)


_BY_ENGINE: weakref.WeakKeyDictionary[Any, WriteMetrics] = weakref.WeakKeyDictionary()


def metrics_for(engine: Any) -> WriteMetrics:
    """The metrics of ``engine``'s server, created on first use (a fresh, unshared set for None)."""
    try:
        metrics = _BY_ENGINE.get(engine)
        if metrics is None:
            metrics = _BY_ENGINE.setdefault(engine, WriteMetrics())
            stats.register(engine, metrics.influx_modules)  # (SHOW STATS' write module)
    except TypeError:  # None, or a stand-in that cannot be weakly referenced: nothing to share with
        return WriteMetrics()
    return metrics
