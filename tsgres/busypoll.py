"""Busy polling: after the loop answers a query it keeps turning, polling its sockets without
sleeping, for a short while before it may sleep in the kernel again.

Why: a client that runs queries one after another (a dashboard, a script, a benchmark) sends the next
one a few hundred microseconds after reading an answer. If the loop's thread sleeps in that gap, its
CPU idles, and on a virtual machine the next query then runs on a cold CPU: the same Python code took
340-435 us of thread CPU per single-groupby-1-1-1 query after a 200 us sleep between queries, against
275-285 us after 200 us of spinning (in process, pgwire's handler without sockets, session 7). Polling
keeps the thread running, so the next request is read the moment it arrives and runs warm. Servers
built for latency do the same (QuestDB's workers spin before they park; Linux has SO_BUSY_POLL for
devices).

How: :meth:`BusyPoll.answered` (the protocols call it after writing an answer on the loop) schedules
a callback that schedules itself again until ``busy_poll_us`` have passed since the last answer. A
loop with a callback ready polls its sockets with a zero timeout, so every loop turn still handles
all of its work as usual (new connections, requests, results of the thread pools, timers, signals);
it only does not sleep.

What it costs and how that is bounded:
- CPU: at most ``busy_poll_us`` (default 500) of one core after an answer. A client that thinks longer
  makes the spin a miss. One miss alone is the end of a burst (a dashboard's refresh): the next answer
  spins again. After 2, 3, ... misses in a row the next 2, 4, ... 64 answers do not spin, so a client
  always slower than the window costs one window per 65 answers. An answer while a spin runs (a hit)
  resets that.
- It does not start while a counted thread pool (:class:`CountingExecutor`: the loop's default pool
  and pgwire's) runs anything, and stops as soon as one does: the pool's queries need the cores.
- ``busy_poll_us = 0`` turns it off.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

log = logging.getLogger("tsgres.busypoll")

MAX_SKIP = 64  # after misses, at most this many answers in a row do not spin


class CountingExecutor(ThreadPoolExecutor):
    """A thread pool that knows how many of its tasks are queued or running (``in_flight``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._count_lock = threading.Lock()
        self.in_flight = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._count_lock:
            self.in_flight += 1
        try:
            fut = super().submit(fn, *args, **kwargs)
        except BaseException:
            self._done(None)
            raise
        fut.add_done_callback(self._done)
        return fut

    def _done(self, _fut: object) -> None:
        with self._count_lock:
            self.in_flight -= 1


class BusyPoll:
    """The spin after answers (see the module's docstring); ``window_us`` 0 never spins."""

    def __init__(self, window_us: int) -> None:
        self.window_ns = max(0, int(window_us)) * 1000
        self.pools: list[CountingExecutor] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._deadline = 0  # perf_counter_ns at which a running spin ends
        self._spinning = False
        self._skip = 0  # answers left that do not spin
        self._misses = 0  # consecutive spins that ran out
        self.hits = 0  # answers written while a spin ran
        self.misses = 0  # spins that ran out

    def answered(self) -> None:
        """An answer was written on the loop: spin until ``window_us`` after it, unless backing off."""
        if not self.window_ns:
            return
        if self._spinning:
            self.hits += 1
            self._misses = 0
            self._deadline = time.perf_counter_ns() + self.window_ns
            return
        if self._skip:
            self._skip -= 1
            return
        if self._busy():
            return
        self._spinning = True
        self._deadline = time.perf_counter_ns() + self.window_ns
        self._loop = asyncio.get_running_loop()
        self._loop.call_soon(self._turn)

    def _busy(self) -> bool:
        return any(p.in_flight for p in self.pools)

    def _turn(self) -> None:
        if self._busy():
            self._spinning = False
            return
        if time.perf_counter_ns() < self._deadline:
            assert self._loop is not None
            self._loop.call_soon(self._turn)
            return
        self._spinning = False
        self.misses += 1
        self._misses += 1
        # one miss is a burst's end (a dashboard's refresh, a script's last query): its next answer
        # spins again; two or more in a row, a client slower than the window: back off
        self._skip = min(1 << (self._misses - 1), MAX_SKIP) if self._misses > 1 else 0

    def close(self) -> None:
        if self.window_ns:
            log.info("busy polling: %d answers came while spinning, %d spins ran out", self.hits, self.misses)
        self.window_ns = 0
