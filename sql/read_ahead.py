"""A streamed result's next piece, computed while the client reads the one before.

A native scan that matches many rows answers in pieces (sql/executor.py ``Streamed``): the engine
hands one over, pgwire encodes and sends its rows, then the engine computes the next. Computing the
next one in another thread meanwhile overlaps the storage's decoding (numba kernels that release the
GIL) with the encoding, on two cores. TSBS high-cpu-all (41k rows of 21 columns from 432k candidate
rows), in process through pgwire's handler: 19.1-19.5 -> 15.3-15.4 ms of wall time a query.

At most one piece is computed ahead: the memory held stays two pieces'.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

_T = TypeVar("_T")

_CPUS = os.cpu_count() or 1
# one thread per stream computing ahead, up to the cores: a stream whose piece found every thread busy
# computes it itself when it is asked for
_POOL = ThreadPoolExecutor(max_workers=max(1, min(4, _CPUS)), thread_name_prefix="tsgres-ahead")


def read_ahead(step: Callable[[], _T | None]) -> Generator[_T, None, None]:
    """The results of ``step()`` until it returns None, each computed ahead: the first call starts in a
    read-ahead thread now, each next one once the one before is handed over, so it runs while the
    caller handles that one (or, before the first, whatever the caller does meanwhile). A call the
    read-ahead threads have not started when its result is asked for is made in the caller's thread.
    What a call raises is raised where its result is asked for. Closing the iterator (or dropping it)
    waits for a call still running (``step`` is never called twice at once), and drops its result."""
    if _CPUS < 2:
        return _inline(step)
    return _ahead(step, _POOL.submit(step))


def _inline(step: Callable[[], _T | None]) -> Generator[_T, None, None]:
    while (item := step()) is not None:
        yield item


def _ahead(step: Callable[[], _T | None], pending: Future[_T | None] | None) -> Generator[_T, None, None]:
    try:
        while pending is not None:
            future, pending = pending, None
            item = step() if future.cancel() else future.result()
            if item is None:
                return
            pending = _POOL.submit(step)
            yield item
    finally:
        if pending is not None and not pending.cancel():
            try:
                pending.result()
            except BaseException:  # (nobody asks for this piece: what computing it raised is moot)
                pass
