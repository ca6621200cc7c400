"""Ingest: line protocol over HTTP (tsgres, InfluxDB 1.x, VictoriaMetrics) and COPY (tsgres, PostgreSQL).

Each peer (bench.peers) is started in a temporary directory on free ports, and loaded in turn with the
same bodies: ``--batch`` lines each (5,000, as a Telegraf-sized batch), optionally gzip'ed, sent by
``--workers`` concurrent HTTP clients (asyncio tasks over aiohttp, one connection each) to
``/write?db=bench&precision=ns``. Data sets (bench.datagen): TSBS devops cpu-only (``--hosts`` hosts,
10 integer fields) and IoT float sensors (``--sensors`` sensors; 3 floats, an integer, a boolean).

Bodies are generated before the clock starts when they fit in ``--pregen-mb``; bigger runs (``--rows
10000000``) stream them from a generator thread through a bounded queue, so the loader stays small.
One small write warms each server up first. The clock runs from the first request to the last
response; every response must be 204. A thread samples the server process's RSS (psutil) every 50 ms;
the peak is reported. Afterwards every row is counted back (InfluxDB: ``SELECT count()``; tsgres: a
fresh engine on the stopped server's data directory; VictoriaMetrics: ``/internal/force_flush``, then
``sum(count_over_time(<measurement>_<field>[...]))``) and a missing row fails the run.

COPY (``--copy-peers``): the same rows as CSV in TSBS's TimescaleDB layout with the hostname (sensor_id)
column in the table (bench.pgload), ``--copy-batch`` rows per ``COPY ... FROM STDIN (FORMAT csv)``,
over ``--copy-workers`` connections (psycopg 3), into PostgreSQL 15 and into tsgres over its PostgreSQL
listener. A tsgres build without that listener gets a "not supported yet" row. Rows are counted back
with ``SELECT count(*)``.

    python -m bench ingest                                   # a few minutes: both data sets, all peers
    python -m bench ingest --rows 10000000 --peers tsgres --sets devops --copy-peers ''  # 10M-row RSS
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import queue
import shutil
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp  # noqa: E402
import psutil  # noqa: E402

from bench.common import Measurement, Progress, failed, not_supported  # noqa: E402
from bench.datagen import DataGenerator, DevopsCpu, IotSensors  # noqa: E402
from bench.peers import (  # noqa: E402
    PEERS,
    InfluxDB1Peer,
    Peer,
    PostgresPeer,
    TsgresPeer,
    VictoriaMetricsPeer,
)

DATABASE = "bench"
SETS = ("devops", "iot")
LP_PEERS = ("tsgres", "influxdb", "victoriametrics")
COPY_PEERS = ("tsgres", "postgres")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rows", type=int, default=1_000_000, help="rows per data set (default 1,000,000)")
    p.add_argument("--hosts", type=int, default=100, help="devops hosts (series)")
    p.add_argument("--sensors", type=int, default=100, help="IoT sensors (series)")
    p.add_argument("--batch", type=int, default=5000, help="lines per request")
    p.add_argument("--workers", type=int, default=8, help="concurrent HTTP clients")
    p.add_argument("--gzip", action="store_true", help="gzip request bodies (level 1), as Telegraf can")
    p.add_argument(
        "--peers", default=",".join(LP_PEERS), help=f"line protocol over HTTP into: {', '.join(LP_PEERS)}"
    )
    p.add_argument(
        "--copy-peers", default=",".join(COPY_PEERS), help=f"COPY into ('' for none): {', '.join(COPY_PEERS)}"
    )
    p.add_argument("--copy-batch", type=int, default=10_000, help="rows per COPY (TSBS's default batch)")
    p.add_argument("--copy-workers", type=int, default=4, help="concurrent COPY connections")
    p.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, of: {', '.join(SETS)}")
    p.add_argument(
        "--fsync", default="interval", choices=["always", "interval", "off"], help="tsgres WAL policy"
    )
    p.add_argument(
        "--tsgres-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra TSGRES_* setting for the tsgres server, e.g. TSGRES_STORAGE_COMPACTION_INTERVAL_S=1",
    )
    p.add_argument("--pregen-mb", type=int, default=2048, help="generate bodies up front below this size")
    p.add_argument("--seed", type=int, default=1)


def make_set(name: str, args: argparse.Namespace) -> DataGenerator:
    if name == "devops":
        return DevopsCpu(args.hosts, hours=args.rows / args.hosts / 360, seed=args.seed)  # 10 s interval
    if name == "iot":
        return IotSensors(args.sensors, hours=args.rows / args.sensors / 3600, seed=args.seed)  # 1 s interval
    raise SystemExit(f"unknown data set {name!r} (use {', '.join(SETS)})")


def bodies(gen: DataGenerator, batch: int, compress: bool) -> Iterator[bytes]:
    for chunk in gen.line_protocol(batch):
        data = bytes(chunk)
        yield gzip.compress(data, compresslevel=1) if compress else data


def estimated_bytes(gen: DataGenerator, batch: int) -> int:
    first = next(gen.line_protocol(min(batch, gen.n_rows)))
    return len(first) * gen.n_rows // max(1, min(batch, gen.n_rows))


class BodySource:
    """Request bodies: a list made up front, or a generator thread feeding a bounded queue."""

    def __init__(self, gen: DataGenerator, args: argparse.Namespace) -> None:
        self.gen, self.args = gen, args
        self.pregenerated: list[bytes] | None = None
        if estimated_bytes(gen, args.batch) <= args.pregen_mb * 2**20:
            self.pregenerated = list(bodies(gen, args.batch, args.gzip))

    def start(self) -> queue.Queue[bytes | None]:
        q: queue.Queue[bytes | None] = queue.Queue(maxsize=4 * self.args.workers)
        if self.pregenerated is not None:
            q = queue.Queue()
            for body in self.pregenerated:
                q.put(body)
            for _ in range(self.args.workers):
                q.put(None)
            return q

        def produce() -> None:
            for body in bodies(self.gen, self.args.batch, self.args.gzip):
                q.put(body)
            for _ in range(self.args.workers):
                q.put(None)

        threading.Thread(target=produce, name="bench-bodies", daemon=True).start()
        return q


class RssSampler:
    def __init__(self, pid: int, every_s: float = 0.05) -> None:
        self.proc = psutil.Process(pid)
        self.every_s = every_s
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-rss", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.proc.memory_info().rss)
            except psutil.Error:
                return
            self._stop.wait(self.every_s)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def load(
    url: str,
    source: queue.Queue[bytes | None],
    workers: int,
    compress: bool,
    progress: Progress | None = None,
    lines_per_body: int = 0,
) -> tuple[int, float]:
    """Send every body; returns (requests, seconds from first send to last response).

    ``progress`` advances by ``lines_per_body`` per acknowledged request."""
    headers = {"Content-Type": "text/plain; charset=utf-8"}
    if compress:
        headers["Content-Encoding"] = "gzip"
    loop = asyncio.get_running_loop()
    sent = 0
    failures: list[str] = []

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal sent
        while True:
            try:
                body = source.get_nowait()
            except queue.Empty:  # streaming: wait for the generator thread without blocking the loop
                body = await loop.run_in_executor(None, source.get)
            if body is None:
                return
            async with session.post(url, data=body, headers=headers) as resp:
                if resp.status != 204:
                    failures.append(f"{resp.status}: {(await resp.text())[:300]}")
                    return
            sent += 1
            if progress is not None:
                progress.advance(lines_per_body)

    connector = aiohttp.TCPConnector(limit=workers)
    timeout = aiohttp.ClientTimeout(total=None, sock_read=600)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.perf_counter()
        if progress is not None:
            progress.started = started
        await asyncio.gather(*(worker(session) for _ in range(workers)))
        elapsed = time.perf_counter() - started
    if progress is not None:
        progress.done()
    if failures:
        raise RuntimeError(f"{len(failures)} requests failed, first: {failures[0]}")
    return sent, elapsed


@dataclass
class Result:
    peer: str
    data_set: str
    rows: int
    values: int
    seconds: float
    peak_rss: int
    requests: int

    @property
    def rows_s(self) -> float:
        return self.rows / self.seconds

    @property
    def values_s(self) -> float:
        return self.values / self.seconds


def make_peer(name: str, args: argparse.Namespace) -> Peer:
    if name == "tsgres":
        env = {"TSGRES_STORAGE_WAL_FSYNC": args.fsync}
        env.update(item.split("=", 1) for item in args.tsgres_env)
        return TsgresPeer(env=env)
    if name == "influxdb":
        return InfluxDB1Peer()
    if name == "victoriametrics":
        return VictoriaMetricsPeer()
    raise SystemExit(f"unknown peer {name!r} (use {', '.join(PEERS)})")


def create_database(peer: Peer, name: str) -> None:
    """tsgres creates databases on first write; InfluxDB 1.x needs CREATE DATABASE."""
    if isinstance(peer, InfluxDB1Peer):
        data = f"q=CREATE DATABASE {name}".encode()
        with urllib.request.urlopen(
            urllib.request.Request(peer.http_url("/query"), data=data), timeout=30
        ) as r:
            r.read()


def influx_count(peer: Peer, table: str, field: str) -> int:
    query = urllib.parse.urlencode({"db": DATABASE, "q": f'SELECT count("{field}") FROM "{table}"'})
    with urllib.request.urlopen(peer.http_url(f"/query?{query}"), timeout=600) as resp:
        doc = json.load(resp)
    series = doc["results"][0].get("series") or [{"values": [[0, 0]]}]
    return int(series[0]["values"][0][1])


def victoria_count(peer: VictoriaMetricsPeer, gen: DataGenerator) -> int:
    """Samples of ``<table>_<first field>`` counted by VictoriaMetrics after a forced flush."""
    peer.force_flush()
    field = next(iter(gen.field_types))
    span_s = (gen.end_ns - gen.start_ns) // 10**9 + 3600
    at = gen.end_ns // 10**9 + 60
    query = urllib.parse.urlencode(
        {"query": f"sum(count_over_time({gen.table}_{field}[{span_s}s]))", "time": str(at)}
    )
    with urllib.request.urlopen(peer.http_url(f"/api/v1/query?{query}"), timeout=600) as resp:
        doc = json.load(resp)
    result = doc["data"]["result"]
    return int(float(result[0]["value"][1])) if result else 0


def tsgres_count(data_dir: Path, table: str, field: str) -> int:
    """Rows of ``table`` read back through a fresh engine on the stopped server's data directory."""
    from columnar.engine import Engine
    from columnar.options import EngineOptions
    from columnar.scan import ScanRequest, scan

    with Engine.open(data_dir, EngineOptions(compaction_interval_s=0)) as engine:
        return sum(b.num_rows for b in scan(engine, ScanRequest(DATABASE, table, fields=(field,), tags=())))


def warm_up(peer: Peer) -> None:
    """One small write before the clock starts, so one-off costs (JIT compilation, a cold parser
    cache, the first shard) are not timed."""
    req = urllib.request.Request(peer.http_url("/write?db=warmup"), data=b"warm,t=a v=1,n=1i,b=t 1\n")
    if isinstance(peer, InfluxDB1Peer):
        create_database(peer, "warmup")
    with urllib.request.urlopen(req, timeout=600) as resp:
        resp.read()


def run_peer(
    name: str, sets: dict[str, tuple[DataGenerator, BodySource]], args: argparse.Namespace
) -> list[Result]:
    """Load every data set into one server of ``name``; afterwards check every row is there."""
    results = []
    peer = make_peer(name, args)
    peer.keep = True  # tsgres is counted after it stopped; the directory goes below
    counts: dict[str, int] = {}
    try:
        with peer:
            create_database(peer, DATABASE)
            warm_up(peer)
            url = peer.http_url(f"/write?db={DATABASE}&precision=ns")
            for set_name, (gen, source) in sets.items():
                values = gen.n_rows * len(gen.field_types)
                q = source.start()
                progress = Progress(f"{name} {set_name} LP", gen.n_rows)
                with RssSampler(peer.pid) as rss:
                    requests, seconds = asyncio.run(
                        load(url, q, args.workers, args.gzip, progress, args.batch)
                    )
                results.append(Result(name, set_name, gen.n_rows, values, seconds, rss.peak, requests))
                r = results[-1]
                print(
                    f"  {name:9} {set_name:7} {r.rows:>11,} rows in {r.seconds:7.2f} s: {r.rows_s:>11,.0f} rows/s, "
                    f"{r.values_s:>12,.0f} values/s, peak RSS {r.peak_rss / 2**20:,.0f} MiB",
                    flush=True,
                )
            if isinstance(peer, InfluxDB1Peer):
                counts = {
                    n: influx_count(peer, g.table, next(iter(g.field_types))) for n, (g, _) in sets.items()
                }
            if isinstance(peer, VictoriaMetricsPeer):
                counts = {n: victoria_count(peer, g) for n, (g, _) in sets.items()}
        if isinstance(peer, TsgresPeer):
            data = peer.workdir / "data"
            counts = {n: tsgres_count(data, g.table, next(iter(g.field_types))) for n, (g, _) in sets.items()}
    finally:
        shutil.rmtree(peer.workdir, ignore_errors=True)
    for set_name, (gen, _) in sets.items():
        if counts.get(set_name) != gen.n_rows:
            raise RuntimeError(
                f"{name} {set_name}: {counts.get(set_name)} rows read back, {gen.n_rows:,} written"
            )
    print(f"  {name}: every row read back ({', '.join(f'{n} {c:,}' for n, c in counts.items())})", flush=True)
    return results


def load_lp(
    peer: Peer,
    gen: DataGenerator,
    *,
    database: str = DATABASE,
    batch: int = 5000,
    workers: int = 8,
    label: str | None = None,
) -> float:
    """Create ``database`` if the peer needs it and send ``gen`` as line protocol; returns seconds.

    For the other parts (disk, queries, pgwire), which need data in a peer rather than a rate."""
    opts = argparse.Namespace(batch=batch, gzip=False, workers=workers, pregen_mb=2048)
    create_database(peer, database)
    q = BodySource(gen, opts).start()
    progress = Progress(label or f"{peer.name} {gen.kind} LP", gen.n_rows)
    url = peer.http_url(f"/write?db={database}&precision=ns")
    _, seconds = asyncio.run(load(url, q, workers, False, progress, batch))
    return seconds


def copy_peer(
    name: str, loads: list[tuple[DataGenerator, list[bytes]]], args: argparse.Namespace
) -> list[Measurement]:
    """COPY each data set's ``bodies`` (CSV, TSBS layout) into its own database of one fresh server of
    ``name``; every row is counted back. A data set that fails gets a failure row; the next still runs."""
    from bench import pgload

    out: list[Measurement] = []
    peer: Peer = PostgresPeer() if name == "postgres" else make_peer(name, args)
    with peer:
        if isinstance(peer, TsgresPeer) and not peer.has_pgwire:
            print(f"  {name:9} COPY: not supported yet (no PostgreSQL listener in this build)")
            return [not_supported("ingest", f"{gen.kind} COPY", name, "rows/s") for gen, _ in loads]
        import psycopg

        for gen, bodies in loads:
            item = f"{gen.kind} COPY"
            try:
                with psycopg.connect(peer.conninfo(), autocommit=True) as admin:  # type: ignore[attr-defined]
                    admin.execute(f"CREATE DATABASE {gen.kind}")
                conninfo = peer.conninfo(gen.kind)  # type: ignore[attr-defined]

                def connect(conninfo: str = conninfo) -> psycopg.Connection:
                    return psycopg.connect(conninfo, autocommit=True)

                pgload.create_schema(connect, gen, target="tsgres" if name == "tsgres" else "postgres")
                progress = Progress(f"{name} {gen.kind} COPY", gen.n_rows)
                seconds = pgload.copy_load(
                    connect, gen, bodies, args.copy_batch, workers=args.copy_workers, progress=progress
                )
                counted = pgload.count_rows(connect, gen.table)
                if counted != gen.n_rows:
                    raise RuntimeError(f"{counted} rows read back, {gen.n_rows:,} written")
            except Exception as e:  # one data set's failure must not hide the others' numbers
                print(f"  {name:9} {gen.kind:7} COPY failed: {e}", flush=True)
                out.append(failed("ingest", item, name, "rows/s", e))
                continue
            rate = gen.n_rows / seconds
            print(
                f"  {name:9} {gen.kind:7} COPY {gen.n_rows:>11,} rows in {seconds:7.2f} s: {rate:>11,.0f} rows/s, "
                "every row read back",
                flush=True,
            )
            out.append(
                Measurement(
                    "ingest", item, name, "rows/s", rate, extra={"rows": gen.n_rows, "seconds": seconds}
                )
            )
    return out


def measure(args: argparse.Namespace) -> list[Measurement]:
    """Run every requested load; returns one Measurement per (data set, method, peer)."""
    peers = [p for p in args.peers.split(",") if p]
    copy_peers = [p for p in args.copy_peers.split(",") if p]
    for p in peers:
        if p not in LP_PEERS:
            raise SystemExit(f"--peers: {p!r} does not take line protocol (use {', '.join(LP_PEERS)})")
    for p in copy_peers:
        if p not in COPY_PEERS:
            raise SystemExit(f"--copy-peers: unknown {p!r} (use {', '.join(COPY_PEERS)})")
    set_names = [s for s in args.sets.split(",") if s]
    sets: dict[str, tuple[DataGenerator, BodySource]] = {}
    for set_name in set_names:
        gen = make_set(set_name, args)
        t0 = time.perf_counter()
        source = BodySource(gen, args) if peers else None
        mode = "none" if source is None else (
            "pre-generated" if source.pregenerated is not None else "streamed while loading"
        )  # fmt: skip
        print(
            f"{set_name}: {gen.n_rows:,} rows, {len(gen.field_types)} fields/row, bodies {mode} ({time.perf_counter() - t0:.1f} s)"
        )
        sets[set_name] = (gen, source)  # type: ignore[assignment]
    print(
        f"batches of {args.batch} lines, {args.workers} clients, gzip {'on' if args.gzip else 'off'}, "
        f"tsgres WAL fsync {args.fsync}; COPY batches of {args.copy_batch} rows over {args.copy_workers} "
        f"connections; python {sys.version.split()[0]}, {psutil.cpu_count()} CPUs"
    )
    results: list[Result] = []
    for name in peers:
        results += run_peer(name, sets, args)
    out = [
        Measurement(
            "ingest",
            f"{r.data_set} LP/HTTP",
            r.peer,
            "rows/s",
            r.rows_s,
            extra={
                "rows": r.rows,
                "values_s": r.values_s,
                "seconds": r.seconds,
                "peak_rss_mib": r.peak_rss / 2**20,
            },
        )  # fmt: skip
        for r in results
    ]
    if results:
        print()
        print("| data set | peer | rows | rows/s | values/s | peak server RSS |")
        print("|---|---|---:|---:|---:|---:|")
        for r in results:
            print(
                f"| {r.data_set} | {r.peer} | {r.rows:,} | {r.rows_s:,.0f} | {r.values_s:,.0f} | "
                f"{r.peak_rss / 2**20:,.0f} MiB |"
            )
        by = {(r.peer, r.data_set): r for r in results}
        for set_name in set_names:
            ours, theirs = by.get(("tsgres", set_name)), by.get(("influxdb", set_name))
            if ours and theirs:
                print(
                    f"{set_name}: tsgres / InfluxDB rows/s = {ours.rows_s / theirs.rows_s:.2f}x (goal >= 2x)"
                )
    if copy_peers:
        from bench.pgload import csv_bodies

        print()
        loads = [(gen, csv_bodies(gen, args.copy_batch)) for gen, _ in sets.values()]
        for name in copy_peers:
            try:
                out += copy_peer(name, loads, args)
            except Exception as e:  # a peer that cannot start: its rows say why, the others still run
                print(f"  {name:9} COPY failed: {e}", flush=True)
                out += [failed("ingest", f"{gen.kind} COPY", name, "rows/s", e) for gen, _ in loads]
    return out


def run(args: argparse.Namespace) -> int:
    from bench.common import ratio_table

    rows = measure(args)
    print()
    print(ratio_table(rows, title="ingest rows/s (higher is better)"))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    raise SystemExit(run(parser.parse_args()))
