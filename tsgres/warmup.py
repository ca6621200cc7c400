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
    steps, so a shutdown right after start waits for one step's compile, not all of them (~17 s
    without numba's disk cache)."""
    start = time.perf_counter()
    for step in _STEPS:
        if stop is not None and stop.is_set():
            log.info("kernel warm-up stopped (shutting down)")
            return
        step()
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


def _pgwire() -> None:
    if importlib.util.find_spec("pgwire") is None:
        return
    from pgwire.types import warm_up as warm_encoders

    warm_encoders()  # result encoders and the DataRow framing kernel


_STEPS = (_line_protocol, _codecs, _scans, _executor, _pgwire)


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
