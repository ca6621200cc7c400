"""Line protocol over UDP, as InfluxDB 1.x's ``[[udp]]`` service: each datagram is one batch of lines.

Off unless the config key ``udp_bind`` (``HOST:PORT``) is set. Points go to the database
``udp_database`` (created at start), its default retention policy, with nanosecond timestamps, and
are not waited on for fsync: there is nobody to acknowledge. Datagrams wait in a bounded queue; one
task hands whatever has queued to the thread pool, where each datagram is parsed and written on its
own. A datagram that arrives while the queue is full is dropped and counted
(``tsgres_write_points_dropped_total{api="udp",reason="queue_full"}`` counts datagrams there); bad
lines are counted and logged at most once per :data:`LOG_EVERY_S`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from columnar.errors import StorageError
from compat.influx.http import write_batches
from compat.influx.lineprotocol import parse
from compat.influx.metrics import WriteMetrics

log = logging.getLogger("tsgres.influx.udp")

API = "udp"
QUEUE_DATAGRAMS = 4096
DRAIN_DATAGRAMS = 256  # datagrams handed to one thread-pool call
LOG_EVERY_S = 10.0
CLOSE_TIMEOUT_S = 5.0


def split_host_port(bind: str) -> tuple[str, int]:
    host, _, port = bind.rpartition(":")
    return host.strip("[]"), int(port)


class _Receiver(asyncio.DatagramProtocol):
    def __init__(self, queue: asyncio.Queue[bytes], metrics: WriteMetrics) -> None:
        self.queue = queue
        self.metrics = metrics

    def datagram_received(self, data: bytes, addr: Any) -> None:
        try:
            self.queue.put_nowait(data)
        except asyncio.QueueFull:
            self.metrics.dropped.labels(API, "queue_full").inc()

    def error_received(self, exc: Exception) -> None:
        log.warning("UDP socket error: %s", exc)


class UDPWriter:
    """Parses and writes datagrams (blocking; called in the thread pool)."""

    def __init__(self, engine: Any, database: str, metrics: WriteMetrics) -> None:
        self.engine = engine
        self.database = database
        self.metrics = metrics
        self._last_log = 0.0
        self._unlogged = 0

    def write(self, datagrams: list[bytes]) -> None:
        m = self.metrics
        for data in datagrams:
            m.bytes.labels(API).inc(len(data))
            m.body_bytes.labels(API).inc(len(data))
            try:
                parsed = parse(data, precision="ns", now_ns=time.time_ns())
                m.lines.labels(API).inc(parsed.points + len(parsed.errors))
                written, drops = write_batches(self.engine, self.database, None, parsed.batches, sync=False)
            except StorageError as e:
                m.requests.labels(API, "error").inc()
                m.errors.labels(API, "storage").inc()
                self._complain(f"UDP datagram not written: {e}")
                continue
            m.points.labels(API).inc(written)
            if parsed.errors:
                m.dropped.labels(API, "parse").inc(len(parsed.errors))
            for d in drops:
                m.dropped.labels(API, d.kind).inc(d.rows)
            problems = [f"line {e.line}: {e.message}" for e in parsed.errors] + [d.reason for d in drops]
            m.requests.labels(API, "error" if problems else "ok").inc()
            if problems:
                m.errors.labels(API, "partial").inc()
                self._complain(f"UDP datagram partly dropped: {problems[0]}")

    def _complain(self, message: str) -> None:
        now = time.monotonic()
        if now - self._last_log < LOG_EVERY_S:
            self._unlogged += 1
            return
        more = f" (and {self._unlogged} more since the last report)" if self._unlogged else ""
        log.warning("%s%s", message, more)
        self._last_log, self._unlogged = now, 0


async def start_udp_listener(
    engine: Any, bind: str, database: str, metrics: WriteMetrics
) -> tuple[list[tuple[str, int]], Callable[[], Awaitable[None]]]:
    """Bind ``bind`` and start writing datagrams to ``database``. Returns (addresses, close)."""
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, engine.create_database, database)
    host, port = split_host_port(bind)
    queue: asyncio.Queue[bytes] = asyncio.Queue(QUEUE_DATAGRAMS)
    transport, _ = await loop.create_datagram_endpoint(
        lambda: _Receiver(queue, metrics), local_addr=(host, port)
    )
    writer = UDPWriter(engine, database, metrics)

    async def drain() -> None:
        while True:
            batch = [await queue.get()]
            while len(batch) < DRAIN_DATAGRAMS and not queue.empty():
                batch.append(queue.get_nowait())
            try:
                await loop.run_in_executor(None, writer.write, batch)
            except Exception:
                log.exception("UDP write failed; %d datagrams lost", len(batch))
            finally:
                for _ in batch:
                    queue.task_done()

    task = asyncio.create_task(drain(), name="tsgres-udp")
    sockname = transport.get_extra_info("sockname")
    addresses = [(str(sockname[0]), int(sockname[1]))]

    async def close() -> None:
        transport.close()
        # What already arrived is written before storage closes.
        try:
            await asyncio.wait_for(queue.join(), CLOSE_TIMEOUT_S)
        except TimeoutError:
            log.warning("UDP: %d datagrams not written at shutdown", queue.qsize())
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    return addresses, close
