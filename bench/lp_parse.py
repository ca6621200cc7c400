"""Line-protocol parser: lines/s and MB/s on one core, TSBS devops cpu and IoT sensor bodies.

Bodies come from bench.datagen as ``--batch-lines``-line chunks (default 5,000, a typical client
batch) and are parsed one after another with :func:`compat.influx.lineprotocol.parse`, the way the
HTTP write path calls it. ``parse`` is single-threaded (numba kernels without ``parallel``, no thread
pool), so the figures are one core's; ``--cpu N`` also pins the process to CPU N (choose an idle one:
a pinned process cannot move away from a busy core). The first chunk is parsed once untimed (numba loads its cached kernels); then every chunk is parsed ``--rounds`` times
and the best and median round are reported.

"warm" rounds keep the parser's cross-body cache of decoded series keys (a server's steady state:
the same series arrive again and again); "cold" rounds empty it before every body, so each body
decodes all its distinct series keys itself. Each round is timed twice: wall-clock, and this thread's
CPU time (``time.thread_time``), which stays meaningful when other processes share the machine.

    python -m bench lp-parse [--hosts 100] [--hours 2] [--sensors 100] [--sensor-hours 0.5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.datagen import DataGenerator, DevopsCpu, IotSensors  # noqa: E402
from compat.influx import lineprotocol  # noqa: E402


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--hosts", type=int, default=100, help="TSBS devops hosts")
    p.add_argument("--hours", type=float, default=2, help="TSBS devops hours of data (10 s interval)")
    p.add_argument("--sensors", type=int, default=100, help="IoT sensors")
    p.add_argument("--sensor-hours", type=float, default=0.5, help="IoT hours of data (1 s interval)")
    p.add_argument("--batch-lines", type=int, default=5000, help="lines per request body")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--cpu", type=int, default=None, help="pin the process to this CPU (default: not pinned)")
    p.add_argument("--seed", type=int, default=1)


def _pin(cpu: int | None) -> str:
    if cpu is None:
        return "single thread, not pinned"
    if not hasattr(os, "sched_setaffinity"):
        raise SystemExit("--cpu needs os.sched_setaffinity (Linux)")
    os.sched_setaffinity(0, {cpu})
    return f"single thread, pinned to CPU {cpu}"


def _round(bodies: list[bytes], cold: bool) -> tuple[float, float]:
    """(wall seconds, this thread's CPU seconds) to parse every body once."""
    parse = lineprotocol.parse
    wall = cpu = 0.0
    for body in bodies:
        if cold:
            lineprotocol.clear_key_cache()
        w0, c0 = time.perf_counter(), time.thread_time()
        parse(body)
        cpu += time.thread_time() - c0
        wall += time.perf_counter() - w0
    return wall, cpu


def _measure(name: str, gen: DataGenerator, args: argparse.Namespace) -> list[str]:
    bodies = list(gen.line_protocol(args.batch_lines))
    lines = sum(body.count(b"\n") for body in bodies)
    size = sum(len(body) for body in bodies)
    first = lineprotocol.parse(bodies[0])
    if first.errors or first.points != bodies[0].count(b"\n"):
        raise SystemExit(f"{name}: the parser rejected generated data: {first.errors[:3]}")
    out = []
    for cold in (False, True):
        rounds = [_round(bodies, cold) for _ in range(args.rounds)]
        walls = [w for w, _ in rounds]
        best, median = min(walls), statistics.median(walls)
        cpu = min(c for _, c in rounds)
        out.append(
            f"{name:<26} {'cold' if cold else 'warm':<5} {lines:>8,} {size / lines:>7.0f}"
            f" {lines / best:>12,.0f} {lines / median:>12,.0f} {size / best / 1e6:>7.1f}"
            f" {lines / cpu:>12,.0f} {size / cpu / 1e6:>7.1f}"
        )
    return out


def run(args: argparse.Namespace) -> int:
    pinned = _pin(args.cpu)
    sets = [
        (f"TSBS cpu ({args.hosts} hosts)", DevopsCpu(args.hosts, hours=args.hours, seed=args.seed)),
        (f"IoT sensors ({args.sensors})", IotSensors(args.sensors, hours=args.sensor_hours, seed=args.seed)),
    ]
    print(f"# line-protocol parse, {args.batch_lines:,}-line bodies, best/median of {args.rounds}; {pinned}")
    print("# wall: elapsed time (best and median round); cpu: this thread's CPU time (best round), which")
    print("# leaves out time spent waiting for a core on a busy machine")
    print(
        f"{'data':<26} {'keys':<5} {'lines':>8} {'B/line':>7} {'wall best/s':>12} {'wall med/s':>12}"
        f" {'MB/s':>7} {'cpu lines/s':>12} {'MB/s':>7}"
    )
    for name, gen in sets:
        for row in _measure(name, gen, args):
            print(row, flush=True)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    sys.exit(run(parser.parse_args()))
