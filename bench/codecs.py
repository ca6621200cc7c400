"""Codec benchmark: bytes per value and one-core encode/decode throughput of columnar.encodings.

Run ``python -m bench.codecs`` (or ``python bench/codecs.py``); ``add_arguments``/``run`` follow the
``python -m bench`` subcommand protocol, so it can also be registered there. Seeded and deterministic: the sizes are
identical on every run; the speeds are the best of ``--repeat`` passes over all blocks of a data set,
calling :func:`columnar.encodings.encode` / :func:`~columnar.encodings.decode` once per block (so the
per-call overhead of a real block is included). Blocks hold 1,024 values unless ``--block`` says
otherwise.

Data sets:

* ``devops-int``: TSBS devops cpu fields: a walk starting uniform in [0, 100) with N(0, 1) steps,
  clamped to [0, 100] at each step, reported truncated to int64. 10 fields x 10 hosts.
* ``time-10s``: timestamps at exactly 10 s from 2016-01-01.
* ``time-jitter-ms``: 10 s nominal interval plus a uniform whole-millisecond jitter in [-25, 25] ms.
* ``float-2dp``: temperature, 20.00 + cumsum(N(0, 0.05)) rounded to 2 decimals.
* ``float-3dp``: humidity, 50.000 + cumsum(N(0, 0.05)) rounded to 3 decimals.
* ``counter``: an int64 counter growing by Poisson(1000) per sample.
* ``bool-random``: independent fair booleans.
* ``str-hosts``: host names, 100 distinct, each block one host repeated with a few others mixed in.
"""

from __future__ import annotations

import argparse
import sys
import time
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: put the repository root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from columnar import encodings  # noqa: E402
from columnar.encodings._core import uvarint  # noqa: E402
from columnar.encodings._select import STAGE_ID  # noqa: E402

START_NS = 1_451_606_400 * 1_000_000_000  # 2016-01-01T00:00:00Z
INTERVAL_NS = 10 * 1_000_000_000


def _devops(rng: np.random.Generator, n_blocks: int, block: int) -> list[np.ndarray]:
    out: list[np.ndarray] = []
    n_series = 100  # 10 hosts x 10 fields
    per_series = max(1, n_blocks // n_series)
    for _ in range(n_series):
        n = per_series * block
        x = np.empty(n, np.float64)
        state = rng.uniform(0, 100)
        steps = rng.normal(0.0, 1.0, n)
        steps[0] = 0.0
        for i in range(n):  # data generation, not the code under test
            state = min(max(state + steps[i], 0.0), 100.0)
            x[i] = state
        vals = x.astype(np.int64)
        out.extend(vals[k * block : (k + 1) * block] for k in range(per_series))
    return out


def _time_regular(rng: np.random.Generator, n_blocks: int, block: int) -> list[np.ndarray]:
    t = START_NS + np.arange(n_blocks * block, dtype=np.int64) * INTERVAL_NS
    return [t[k * block : (k + 1) * block] for k in range(n_blocks)]


def _time_jitter(rng: np.random.Generator, n_blocks: int, block: int) -> list[np.ndarray]:
    n = n_blocks * block
    jitter = rng.integers(-25, 26, n) * 1_000_000
    t = START_NS + np.arange(n, dtype=np.int64) * INTERVAL_NS + jitter
    return [t[k * block : (k + 1) * block] for k in range(n_blocks)]


def _walk(
    rng: np.random.Generator, n_blocks: int, block: int, start: float, decimals: int
) -> list[np.ndarray]:
    n = n_blocks * block
    x = np.round(start + np.cumsum(rng.normal(0.0, 0.05, n)), decimals)
    return [x[k * block : (k + 1) * block] for k in range(n_blocks)]


def _counter(rng: np.random.Generator, n_blocks: int, block: int) -> list[np.ndarray]:
    x = np.cumsum(rng.poisson(1000, n_blocks * block)).astype(np.int64)
    return [x[k * block : (k + 1) * block] for k in range(n_blocks)]


def _bools(rng: np.random.Generator, n_blocks: int, block: int) -> list[np.ndarray]:
    return [rng.random(block) < 0.5 for _ in range(n_blocks)]


def _hosts(rng: np.random.Generator, n_blocks: int, block: int) -> list[np.ndarray]:
    names = np.array([f"host_{i}" for i in range(100)], dtype=object)
    out = []
    for k in range(n_blocks):
        idx = np.full(block, k % 100)
        mix = rng.random(block) < 0.05
        idx[mix] = rng.integers(0, 100, int(mix.sum()))
        out.append(names[idx])
    return out


DataSet = tuple[str, encodings.Kind, Callable[[np.random.Generator, int, int], list[np.ndarray]]]
DATASETS: list[DataSet] = [
    ("devops-int", "int", _devops),
    ("time-10s", "time", _time_regular),
    ("time-jitter-ms", "time", _time_jitter),
    ("float-2dp", "float", lambda r, n, b: _walk(r, n, b, 20.0, 2)),
    ("float-3dp", "float", lambda r, n, b: _walk(r, n, b, 50.0, 3)),
    ("counter", "int", _counter),
    ("bool-random", "bool", _bools),
    ("str-hosts", "str", _hosts),
]


def measure(blocks: Sequence[np.ndarray], kind: encodings.Kind, repeat: int) -> dict[str, object]:
    payloads = [encodings.encode(b, kind) for b in blocks]  # also warms the JIT
    for b, p in zip(blocks, payloads, strict=True):
        got = encodings.decode(p)
        same = np.array_equal(got, b) if kind == "str" else got.tobytes() == b.tobytes()
        if not same:
            raise AssertionError(f"{kind}: round trip failed")
    n = sum(b.size for b in blocks)
    enc = dec = float("inf")
    for _ in range(repeat):
        t0 = time.thread_time()
        for b in blocks:
            encodings.encode(b, kind)
        t1 = time.thread_time()
        for p in payloads:
            encodings.decode(p)
        t2 = time.thread_time()
        enc = min(enc, t1 - t0)
        dec = min(dec, t2 - t1)
    codecs = Counter(encodings.describe(p) for p in payloads)
    return {
        "values": n,
        "bytes_per_value": sum(len(p) for p in payloads) / n,
        "encode_mps": n / enc / 1e6,
        "decode_mps": n / dec / 1e6,
        "codecs": ", ".join(
            f"{name} {count * 100 // len(payloads)}%" for name, count in codecs.most_common(3)
        ),
    }


def measure_codecs(
    blocks: Sequence[np.ndarray], kind: encodings.Kind, repeat: int
) -> list[tuple[str, float, float]]:
    """(codec, bytes/value, decode M values/s) of every codec that accepts all blocks, forced."""
    rows = []
    n = sum(b.size for b in blocks)
    coerced = [encodings._coerce(b, kind) for b in blocks]
    for cid, m in sorted(encodings.CODECS.items()):
        if kind not in m.KINDS or cid == STAGE_ID:
            continue
        bodies = [m.encode(b) for b in coerced]
        if any(body is None for body in bodies):
            continue
        payloads = [bytes((cid,)) + uvarint(b.size) + body for b, body in zip(coerced, bodies, strict=True)]
        best = float("inf")
        for _ in range(repeat):
            t0 = time.thread_time()
            for p in payloads:
                encodings.decode(p)
            best = min(best, time.thread_time() - t0)
        rows.append((m.NAME, sum(len(p) for p in payloads) / n, n / best / 1e6))
    return rows


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--blocks", type=int, default=1000, help="blocks per data set (default 1000)")
    parser.add_argument("--block", type=int, default=1024, help="values per block (default 1024)")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes; the best counts (default 3)")
    parser.add_argument("--seed", type=int, default=20160101)
    parser.add_argument("--only", action="append", help="run only this data set (repeatable)")
    parser.add_argument(
        "--per-codec", action="store_true", help="also force every applicable codec on every data set"
    )


def run(args: argparse.Namespace) -> int:
    print(
        f"{'data set':<16}{'kind':<7}{'bytes/value':>12}{'encode M/s':>12}{'decode M/s':>12}  codecs chosen"
    )
    for name, kind, make in DATASETS:
        if args.only and name not in args.only:
            continue
        rng = np.random.default_rng([args.seed, zlib.crc32(name.encode())])
        blocks = make(rng, args.blocks, args.block)
        r = measure(blocks, kind, args.repeat)
        print(
            f"{name:<16}{kind:<7}{r['bytes_per_value']:>12.3f}{r['encode_mps']:>12.1f}"
            f"{r['decode_mps']:>12.1f}  {r['codecs']}",
            flush=True,
        )
        if args.per_codec:
            for codec, bpv, mps in measure_codecs(blocks, kind, args.repeat):
                print(f"  {codec:<14}{'':<7}{bpv:>12.3f}{'':>12}{mps:>12.1f}", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.codecs", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
