"""Series index at scale: memory and speed for N TSBS-like series (default 1,000,000).

    python bench/index_memory.py [--series N] [--batch B] [--no-replay]

Creates N series of table ``cpu`` with TSBS devops tag sets (hostname, region, datacenter, rack, os,
arch, team, service, service_version, service_environment; hostname unique, so every tag set is a new
series) in a temporary directory, ``B`` tag sets per ``resolve`` call with a ``sync`` after each, as
the engine does. Prints the time to create, the process RSS after, then in a fresh process (so RSS is
not inflated by the first phase) the time to reopen from the snapshot, RSS after reopen and select()
latencies. Unless ``--no-replay``, also the crash-recovery path: a child creates the series with
snapshots disabled, syncs and dies with ``os._exit``; another reopens by replaying the log alone.
Seeded and deterministic.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import psutil

from columnar.batch import TagSet
from columnar.index import SeriesIndex
from columnar.predicate import AllSeries, And, Not, TagEq, TagIn, TagNe, TagPredicate, TagRegex

DATACENTERS = {
    "us-east-1": ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1e"],
    "us-west-1": ["us-west-1a", "us-west-1b"],
    "us-west-2": ["us-west-2a", "us-west-2b", "us-west-2c"],
    "eu-west-1": ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
    "eu-central-1": ["eu-central-1a", "eu-central-1b"],
    "ap-southeast-1": ["ap-southeast-1a", "ap-southeast-1b"],
    "ap-southeast-2": ["ap-southeast-2a", "ap-southeast-2b"],
    "ap-northeast-1": ["ap-northeast-1a", "ap-northeast-1c"],
    "sa-east-1": ["sa-east-1a", "sa-east-1b", "sa-east-1c"],
}
REGIONS = list(DATACENTERS)
OSES = ["Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10"]
ARCHES = ["x64", "x86"]
TEAMS = ["SF", "NYC", "LON", "CHI"]
ENVIRONMENTS = ["production", "staging", "test"]


def tag_sets(n: int, batch: int, seed: int = 42) -> Iterator[list[TagSet]]:
    """TSBS devops host tag sets, ``batch`` at a time, sorted by key; host i is the same for any batch."""
    rng = np.random.default_rng(seed)
    for start in range(0, n, batch):
        m = min(batch, n - start)
        region = rng.integers(0, len(REGIONS), m)
        dc_pick = rng.integers(0, 12, m)
        rack, os_, arch, team = (rng.integers(0, k, m) for k in (100, 3, 2, 4))
        service, version, env = (rng.integers(0, k, m) for k in (20, 2, 3))
        out: list[TagSet] = []
        for j in range(m):
            r = REGIONS[region[j]]
            dcs = DATACENTERS[r]
            out.append(
                (
                    ("arch", ARCHES[arch[j]]),
                    ("datacenter", dcs[dc_pick[j] % len(dcs)]),
                    ("hostname", f"host_{start + j}"),
                    ("os", OSES[os_[j]]),
                    ("rack", str(rack[j])),
                    ("region", r),
                    ("service", str(service[j])),
                    ("service_environment", ENVIRONMENTS[env[j]]),
                    ("service_version", str(version[j])),
                    ("team", TEAMS[team[j]]),
                )
            )
        yield out


PREDICATES: list[tuple[str, TagPredicate | None]] = [
    ("hostname = 'host_424242'", TagEq("hostname", "host_424242")),
    ("region = 'us-east-1'", TagEq("region", "us-east-1")),
    (
        "region = 'us-east-1' AND service_environment <> 'staging' AND os =~ /^Ubuntu16/",
        And(
            (
                TagEq("region", "us-east-1"),
                TagNe("service_environment", "staging"),
                TagRegex("os", "^Ubuntu16"),
            )
        ),
    ),
    ("NOT team IN ('SF', 'NYC')", Not(TagIn("team", frozenset({"SF", "NYC"})))),
    ("rack = '' (no series lacks rack)", TagEq("rack", "")),
    ("hostname =~ /^host_12345/ (regex over every hostname)", TagRegex("hostname", "^host_12345")),
    ("all series", AllSeries()),
]


def rss_mb() -> float:
    gc.collect()
    return psutil.Process().memory_info().rss / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``fn`` in milliseconds."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def create(directory: str, n: int, batch: int, snapshot_log_bytes: int = 64 << 20) -> dict[str, float]:
    base = rss_mb()
    ix = SeriesIndex(
        directory, database="bench", series_limit=max(n, 1), snapshot_log_bytes=snapshot_log_bytes
    )
    spent = cpu = 0.0
    known: list[TagSet] = []
    for sets in tag_sets(n, batch):
        t, c = time.perf_counter(), time.process_time()
        ix.resolve("cpu", sets)
        ix.sync()
        spent += time.perf_counter() - t
        cpu += time.process_time() - c
        if not known:
            known = sets[:100]
    out = {
        "create_s": spent,
        "create_cpu_s": cpu,
        "series_per_s": n / spent,
        "rss_base_mb": base,
        "rss_after_create_mb": rss_mb(),
        "known_100_resolve_us": timed(lambda: ix.resolve("cpu", known), 200) * 1000,
    }
    t = time.perf_counter()
    ix.close()
    out["close_with_snapshot_s"] = time.perf_counter() - t
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def reopen(directory: str) -> dict[str, object]:
    base = rss_mb()
    t, c = time.perf_counter(), time.process_time()
    ix = SeriesIndex(directory, database="bench", series_limit=1 << 31)
    out: dict[str, object] = {
        "reopen_s": time.perf_counter() - t,
        "reopen_cpu_s": time.process_time() - c,
        "rss_base_mb": base,
        "rss_after_reopen_mb": rss_mb(),
        "peak_rss_mb": peak_rss_mb(),
    }
    out["series_count"] = ix.series_count()
    selects = {}
    for label, pred in PREDICATES:
        ms = timed(lambda pred=pred: ix.select("cpu", pred), 5)  # type: ignore[misc]
        selects[label] = (ms, len(ix.select("cpu", pred)))
    out["select_ms"] = selects
    some = list(ix.select("cpu", TagEq("region", "sa-east-1")))[:10_000]
    out["series_tags_10k_ms"] = timed(lambda: ix.series_tags(some), 3)
    out["tag_values_hostname_where_region_ms"] = timed(
        lambda: ix.tag_values("cpu", "hostname", TagEq("region", "sa-east-1")), 3
    )
    t = time.perf_counter()
    est = ix.estimate_series_cardinality()
    out["hll_ms"] = (time.perf_counter() - t) * 1000
    out["hll_estimate"] = est
    out["snapshot_bytes"] = (
        os.path.getsize(os.path.join(directory, "series.snap"))
        if os.path.exists(os.path.join(directory, "series.snap"))
        else 0
    )
    ix.close()
    return out


def crash_after_create(directory: str, n: int, batch: int) -> None:
    """Create with snapshots disabled, sync, and die without closing: only the log is left."""
    create_stats = {}
    ix = SeriesIndex(directory, database="bench", series_limit=max(n, 1), snapshot_log_bytes=1 << 62)
    spent = 0.0
    for sets in tag_sets(n, batch):
        t = time.perf_counter()
        ix.resolve("cpu", sets)
        ix.sync()
        spent += time.perf_counter() - t
    create_stats["create_no_snapshot_s"] = spent
    log_bytes = sum(os.path.getsize(os.path.join(directory, f)) for f in os.listdir(directory))
    create_stats["log_bytes"] = log_bytes
    print(json.dumps(create_stats), flush=True)
    os._exit(0)


def child(*args: str) -> dict[str, object]:
    proc = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--no-replay", action="store_true", help="skip the log-only (crash) reopen")
    parser.add_argument("--reopen", metavar="DIR", help=argparse.SUPPRESS)
    parser.add_argument("--crash-create", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reopen:
        print(json.dumps(reopen(args.reopen)))
        return
    if args.crash_create:
        crash_after_create(args.crash_create, args.series, args.batch)
        return

    root = tempfile.mkdtemp(prefix="tsgres-index-bench-")
    try:
        snap_dir = os.path.join(root, "snap")
        print(f"{args.series:,} series, {args.batch:,} per resolve() + sync(); cpu count {os.cpu_count()}")
        c = create(snap_dir, args.series, args.batch)
        print(
            f"create:            {c['create_s']:.2f} s wall, {c['create_cpu_s']:.2f} s CPU "
            f"({c['series_per_s']:,.0f} series/s wall)"
        )
        print(
            f"RSS after create:  {c['rss_after_create_mb']:.0f} MiB (after imports {c['rss_base_mb']:.0f} MiB)"
        )
        print(f"resolve 100 known: {c['known_100_resolve_us']:.0f} us per call")
        print(f"close (snapshot):  {c['close_with_snapshot_s']:.2f} s; peak RSS {c['peak_rss_mb']:.0f} MiB")
        r = reopen_stats = child("--reopen", snap_dir)
        print(
            f"reopen (snapshot): {r['reopen_s']:.2f} s wall, {r['reopen_cpu_s']:.2f} s CPU, "
            f"snapshot {int(r['snapshot_bytes']) / 2**20:.1f} MiB"  # type: ignore[call-overload]
        )
        print(
            f"RSS after reopen:  {r['rss_after_reopen_mb']:.0f} MiB (after imports {r['rss_base_mb']:.0f} MiB, "
            f"peak {r['peak_rss_mb']:.0f} MiB)"
        )
        print(f"HLL estimate:      {r['hll_estimate']:,} of {r['series_count']:,} in {r['hll_ms']:.0f} ms")
        print(f"series_tags 10k:   {r['series_tags_10k_ms']:.1f} ms")
        print(
            f"tag_values(hostname WHERE region='sa-east-1'): {r['tag_values_hostname_where_region_ms']:.1f} ms"
        )
        print("select() median latency:")
        for label, (ms, count) in reopen_stats["select_ms"].items():  # type: ignore[attr-defined]
            print(f"  {ms:9.3f} ms  {count:>9,} series  {label}")
        if not args.no_replay:
            log_dir = os.path.join(root, "log")
            made = child("--crash-create", log_dir, "--series", str(args.series), "--batch", str(args.batch))
            r = child("--reopen", log_dir)
            print(
                f"crash recovery:    create without snapshots {made['create_no_snapshot_s']:.2f} s, "
                f"log {int(made['log_bytes']) / 2**20:.0f} MiB, reopen by log replay {r['reopen_s']:.2f} s wall "  # type: ignore[call-overload]
                f"({r['reopen_cpu_s']:.2f} s CPU), RSS after {r['rss_after_reopen_mb']:.0f} MiB"
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
