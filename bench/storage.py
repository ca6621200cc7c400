"""Storage engine: bytes per value on disk, write and scan throughput, memtable memory.

Data sets (bench.datagen): (a) TSBS devops cpu-only (10 integer fields, 10 s), (b) IoT float sensors
(2-3 decimal random walks, ms-jittered timestamps, a counter, a bool). The engine is driven
directly: no parsing, no network. Bytes per value = every byte under the data directory after flush
and full compaction (chunk files with their timestamps, series index, catalog, WAL) / field values.

    python -m bench storage [--hosts 100] [--hours 24] [--sensors 100] [--sensor-hours 6]
    python -m bench storage --memory --rows 10000000     # RSS with that many rows in the memtable
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from bench.datagen import DevopsCpu, IotSensors  # noqa: E402
from columnar.engine import Engine  # noqa: E402
from columnar.options import EngineOptions  # noqa: E402
from columnar.scan import ScanRequest, aggregate, scan  # noqa: E402


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--hosts", type=int, default=100)
    p.add_argument("--hours", type=float, default=24)
    p.add_argument("--sensors", type=int, default=100)
    p.add_argument("--sensor-hours", type=float, default=6)
    p.add_argument("--batch-rows", type=int, default=5000)
    p.add_argument("--fsync", default="interval", choices=["always", "interval", "off"])
    p.add_argument("--writers", type=int, default=4, help="concurrent writer threads (they share fsyncs)")
    p.add_argument("--memory", action="store_true", help="measure memtable RSS instead (own process)")
    p.add_argument("--rows", type=int, default=10_000_000, help="rows for --memory")
    p.add_argument("--seed", type=int, default=1)


def _dir_bytes(path: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    for p in path.rglob("*"):
        if p.is_file():
            part = p.relative_to(path).parts[0]
            out[part] = out.get(part, 0) + p.stat().st_size
    return out


def _run_set(name: str, gen, args: argparse.Namespace) -> dict:
    batches = list(gen.batches(args.batch_rows))
    rows = sum(len(b) for b in batches)
    values = sum(b.value_count for b in batches)
    with tempfile.TemporaryDirectory(prefix="tsgres-bench-") as tmp:
        opts = EngineOptions(
            wal_fsync=args.fsync,
            compaction_interval_s=0,
            cache_snapshot_bytes=1 << 40,
            cache_snapshot_age_s=1e9,
        )
        engine = Engine.open(Path(tmp) / "data", opts)
        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.writers) as pool:
            for res in pool.map(lambda b: engine.write("postgres", b), batches):
                res.check()
        write_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        engine.flush()
        flush_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        engine.compact(full=True)
        compact_s = time.perf_counter() - t0
        sizes = _dir_bytes(Path(tmp) / "data")
        total = sum(sizes.values())
        req = ScanRequest("postgres", gen.table)
        t0 = time.perf_counter()
        scanned = sum(b.num_rows for b in scan(engine, req))
        scan_s = time.perf_counter() - t0
        field = next(iter(gen.field_types))
        t0 = time.perf_counter()
        aggregate(engine, req, field, every=3600 * 10**9)
        agg_s = time.perf_counter() - t0
        engine.close()
    assert scanned == rows, (scanned, rows)
    return {
        "name": name,
        "rows": rows,
        "values": values,
        "write_rows_s": rows / write_s,
        "write_values_s": values / write_s,
        "flush_s": flush_s,
        "compact_s": compact_s,
        "bytes": total,
        "sizes": sizes,
        "bytes_per_value": total / values,
        "scan_rows_s": rows / scan_s,
        "agg_hourly_s": agg_s,
    }


def _memory(args: argparse.Namespace) -> int:
    import psutil

    gen = DevopsCpu(
        max(1, args.hosts), hours=args.rows * 10 / 3600 / max(1, args.hosts) + 1 / 360, seed=args.seed
    )
    proc = psutil.Process()
    with tempfile.TemporaryDirectory(prefix="tsgres-mem-") as tmp:
        opts = EngineOptions(
            wal_fsync="off", compaction_interval_s=0, cache_snapshot_bytes=1 << 40, cache_snapshot_age_s=1e9
        )
        engine = Engine.open(Path(tmp) / "data", opts)
        base = proc.memory_info().rss
        written = 0
        for b in gen.batches(args.batch_rows):
            if written >= args.rows:
                break
            engine.write("postgres", b).check()
            written += len(b)
        rss = proc.memory_info().rss
        print(f"memtable: {written:,} rows ({written * 10:,} values) in the cache")
        print(f"RSS after open: {base / 2**20:,.0f} MiB; after writes: {rss / 2**20:,.0f} MiB")
        print(f"cache bytes (accounted): {engine.cache_bytes / 2**20:,.0f} MiB")
        engine.close()
    return 0


def run(args: argparse.Namespace) -> int:
    if args.memory:
        return _memory(args)
    results = [
        _run_set(
            f"(a) TSBS devops cpu-only, {args.hosts} hosts x {args.hours:g} h",
            DevopsCpu(args.hosts, hours=args.hours, seed=args.seed),
            args,
        ),
        _run_set(
            f"(b) IoT float sensors, {args.sensors} sensors x {args.sensor_hours:g} h",
            IotSensors(args.sensors, hours=args.sensor_hours, seed=args.seed),
            args,
        ),
    ]
    print(
        f"fsync policy: {args.fsync}; {args.writers} writer threads; batches of {args.batch_rows} rows; "
        f"python {sys.version.split()[0]}"
    )
    hdr = "| data set | rows | values | bytes/value | write rows/s | write values/s | flush s | compact s | scan rows/s |"
    print(hdr)
    print("|---" * (hdr.count("|") - 1) + "|")
    for r in results:
        print(
            f"| {r['name']} | {r['rows']:,} | {r['values']:,} | {r['bytes_per_value']:.3f} | "
            f"{r['write_rows_s']:,.0f} | {r['write_values_s']:,.0f} | {r['flush_s']:.2f} | {r['compact_s']:.2f} | "
            f"{r['scan_rows_s']:,.0f} |"
        )
    for r in results:
        parts = ", ".join(f"{k} {v:,} B" for k, v in sorted(r["sizes"].items()))
        print(
            f"{r['name']}: on disk {r['bytes']:,} B ({parts}); hourly aggregate of one field {r['agg_hourly_s'] * 1e3:.1f} ms"
        )
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    raise SystemExit(run(parser.parse_args()))
