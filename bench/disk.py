"""Bytes per value on disk after flush and compaction: tsgres, InfluxDB 1.x, VictoriaMetrics, PostgreSQL.

The same data set (bench.datagen: TSBS devops cpu-only, ``--hosts`` x ``--hours``; and the IoT sensors)
goes into each peer the way it is normally loaded: line protocol over HTTP for tsgres, InfluxDB and
VictoriaMetrics, COPY of TSBS's TimescaleDB layout for PostgreSQL. Each peer is then brought to its
compacted, at-rest state and every byte it keeps for the data is divided by the number of field values
(rows x fields):

* tsgres: the server is stopped (SIGTERM: clean shutdown), then a fresh engine on its data directory
  runs ``flush()`` and ``compact(full=True)`` and closes. Counted: everything under the data directory
  (chunk files, series index, catalog, WAL).

Sizes are file sizes, except for sparse files, which count the blocks they occupy (InfluxDB's series
file preallocates 8 x 4 MiB segments per database that hold a few KiB: apparent size would charge it
32 MiB).
* InfluxDB: started with ``cache-snapshot-write-cold-duration`` and ``compact-full-write-cold-duration``
  of 1 s, so once writes stop the cache is snapshotted to TSM and each shard fully compacted; the
  benchmark waits until the WAL segments are empty and the TSM files have not changed for
  ``--settle`` seconds, then stops the server. Counted: ``data/`` and ``wal/`` (not ``meta/``).
* VictoriaMetrics: ``/internal/force_flush``, then ``/internal/force_merge``; waits for the storage
  directory to stop changing, then stops the server (which writes its in-memory parts). Counted: the
  whole ``-storageDataPath`` except ``cache/`` (caches it rebuilds; their size is shown apart).
* PostgreSQL: after ``VACUUM ANALYZE``, ``pg_total_relation_size`` of the metrics table (heap, TOAST
  and both indexes) plus the ``tags`` table. The row store does not compress; the figure is what
  TSBS's TimescaleDB layout costs on plain PostgreSQL 15.

    python -m bench disk [--hosts 100] [--hours 24] [--sets devops,iot] [--peers ...]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Measurement, failed, ratio_table  # noqa: E402
from bench.datagen import DataGenerator, DevopsCpu, IotSensors  # noqa: E402
from bench.peers import InfluxDB1Peer, PostgresPeer, TsgresPeer, VictoriaMetricsPeer  # noqa: E402

PEER_NAMES = ("tsgres", "influxdb", "victoriametrics", "postgres")
SETS = ("devops", "iot")
INFLUX_COLD = {
    "cache-snapshot-write-cold-duration": '"1s"',
    "compact-full-write-cold-duration": '"1s"',
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--hosts", type=int, default=100, help="devops hosts")
    p.add_argument("--hours", type=float, default=24, help="devops hours (10 s interval)")
    p.add_argument("--sensors", type=int, default=100, help="IoT sensors")
    p.add_argument("--sensor-hours", type=float, default=2, help="IoT hours (1 s interval)")
    p.add_argument("--sets", default="devops", help=f"comma-separated, of: {', '.join(SETS)}")
    p.add_argument(
        "--peers", default=",".join(PEER_NAMES), help=f"comma-separated, of: {', '.join(PEER_NAMES)}"
    )
    p.add_argument("--settle", type=float, default=3.0, help="seconds without change that mean compacted")
    p.add_argument("--settle-timeout", type=float, default=180.0, help="give up waiting after this long")
    p.add_argument("--seed", type=int, default=1)


def make_sets(args: argparse.Namespace) -> list[DataGenerator]:
    out: list[DataGenerator] = []
    for name in (s for s in args.sets.split(",") if s):
        if name == "devops":
            out.append(DevopsCpu(args.hosts, hours=args.hours, seed=args.seed))
        elif name == "iot":
            out.append(IotSensors(args.sensors, hours=args.sensor_hours, seed=args.seed))
        else:
            raise SystemExit(f"unknown data set {name!r} (use {', '.join(SETS)})")
    return out


def file_bytes(st) -> int:
    """A file's size, or the blocks it really has when smaller: InfluxDB preallocates its series-file
    segments (4 MiB each, 8 per database) as sparse files that hold a few KiB."""
    return min(st.st_size, st.st_blocks * 512)


def dir_bytes(path: Path, *, skip: tuple[str, ...] = ()) -> dict[str, int]:
    """Bytes of every regular file under ``path`` (sparse files: allocated bytes), by first path
    component (``skip``: left out)."""
    out: dict[str, int] = {}
    if not path.exists():
        return out
    for p in path.rglob("*"):
        try:
            if not p.is_file() or p.is_symlink():
                continue
            part = p.relative_to(path).parts[0]
            if part in skip:
                continue
            out[part] = out.get(part, 0) + file_bytes(p.stat())
        except OSError:  # a file a compaction removed while we looked
            continue
    return out


def _snapshot(path: Path) -> tuple[tuple[str, int], ...]:
    files = []
    for p in path.rglob("*"):
        try:
            if p.is_file():
                files.append((str(p), p.stat().st_size))
        except OSError:
            continue
    return tuple(sorted(files))


def wait_settled(path: Path, settle_s: float, timeout_s: float, done=lambda: True) -> float:
    """Wait until ``done()`` holds and no file under ``path`` changed for ``settle_s``; returns seconds."""
    started = time.monotonic()
    last = _snapshot(path)
    stable_since = time.monotonic()
    while time.monotonic() - started < timeout_s:
        time.sleep(0.5)
        now = _snapshot(path)
        if now != last:
            last, stable_since = now, time.monotonic()
        elif done() and time.monotonic() - stable_since >= settle_s:
            return time.monotonic() - started
    raise TimeoutError(f"{path} still changing after {timeout_s:.0f}s")


def _result(gen: DataGenerator, peer: str, sizes: dict[str, int], note: str = "") -> Measurement:
    values = gen.n_rows * len(gen.field_types)
    total = sum(sizes.values())
    extra: dict[str, float | str] = {"bytes": total, "values": values}
    extra.update({f"bytes:{k}": v for k, v in sorted(sizes.items())})
    print(
        f"  {peer:15} {gen.kind:7} {total:>13,} B for {values:,} values = {total / values:.3f} B/value "
        f"({', '.join(f'{k} {v:,}' for k, v in sorted(sizes.items()))}){' ' + note if note else ''}",
        flush=True,
    )
    return Measurement("disk", gen.kind, peer, "bytes/value", total / values, note, False, extra)


def measure_tsgres(gen: DataGenerator, args: argparse.Namespace) -> Measurement:
    from bench.ingest import load_lp
    from columnar.engine import Engine
    from columnar.options import EngineOptions

    peer = TsgresPeer(keep=True)
    try:
        with peer:
            load_lp(peer, gen)
        with Engine.open(peer.data_dir, EngineOptions(compaction_interval_s=0)) as engine:
            engine.flush()
            engine.compact(full=True)
        return _result(gen, "tsgres", dir_bytes(peer.data_dir))
    finally:
        peer.keep = False
        peer.stop()


def measure_influxdb(gen: DataGenerator, args: argparse.Namespace) -> Measurement:
    from bench.ingest import load_lp

    peer = InfluxDB1Peer(data_settings=INFLUX_COLD, keep=True)
    wal = peer.workdir / "wal"

    def wal_empty() -> bool:
        return sum(p.stat().st_size for p in wal.rglob("*.wal") if p.is_file()) == 0

    try:
        with peer:
            load_lp(peer, gen)
            waited = wait_settled(peer.workdir / "data", args.settle, args.settle_timeout, wal_empty)
        sizes = dir_bytes(peer.workdir, skip=("meta", "influxdb.conf", "influxdb.log"))
        return _result(gen, "influxdb", sizes, f"(compacted; waited {waited:.0f} s)")
    finally:
        peer.keep = False
        peer.stop()


def measure_victoria(gen: DataGenerator, args: argparse.Namespace) -> Measurement:
    from bench.ingest import load_lp

    peer = VictoriaMetricsPeer(keep=True)
    try:
        with peer:
            load_lp(peer, gen)
            peer.force_flush()
            peer.force_merge()
            waited = wait_settled(peer.data_dir, args.settle, args.settle_timeout)
        cache = sum(dir_bytes(peer.data_dir / "cache").values())
        sizes = dir_bytes(peer.data_dir, skip=("cache",))
        return _result(
            gen,
            "victoriametrics",
            sizes,
            f"(force_merge; waited {waited:.0f} s; cache/ {cache:,} B not counted)",
        )
    finally:
        peer.keep = False
        peer.stop()


def measure_postgres(gen: DataGenerator, args: argparse.Namespace) -> Measurement:
    from bench.pgload import load_copy

    with PostgresPeer() as peer:
        load_copy(peer.conninfo(), gen, target="postgres")
        with peer.connect() as conn:
            conn.execute("VACUUM ANALYZE")
            heap, total, tags = conn.execute(
                f"SELECT pg_table_size('{gen.table}'), pg_total_relation_size('{gen.table}'), "
                "pg_total_relation_size('tags')"
            ).fetchone()
        sizes = {f"{gen.table} table": heap, f"{gen.table} indexes": total - heap, "tags": tags}
        return _result(gen, "postgres", sizes)


MEASURE = {
    "tsgres": measure_tsgres,
    "influxdb": measure_influxdb,
    "victoriametrics": measure_victoria,
    "postgres": measure_postgres,
}


def measure(args: argparse.Namespace) -> list[Measurement]:
    peers = [p for p in args.peers.split(",") if p]
    for p in peers:
        if p not in MEASURE:
            raise SystemExit(f"unknown peer {p!r} (use {', '.join(MEASURE)})")
    out: list[Measurement] = []
    for gen in make_sets(args):
        print(f"{gen.kind}: {gen.n_rows:,} rows x {len(gen.field_types)} fields", flush=True)
        for name in peers:
            try:
                out.append(MEASURE[name](gen, args))
            except Exception as e:  # one peer's failure must not hide the others' numbers
                print(f"  {name:15} {gen.kind:7} failed: {e}", flush=True)
                out.append(failed("disk", gen.kind, name, "bytes/value", e, higher_is_better=False))
    return out


def run(args: argparse.Namespace) -> int:
    rows = measure(args)
    print()
    print(ratio_table(rows, title="bytes per value on disk (lower is better)"))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    raise SystemExit(run(parser.parse_args()))
