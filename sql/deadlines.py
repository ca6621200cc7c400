"""statement_timeout without a thread per statement: one watchdog thread keeps every deadline.

Starting a ``threading.Timer`` per query cost a thread start (0.1-7 ms on a loaded machine) on
every query with a timeout, which is every query (the default is 300 s).

    handle = DEADLINES.after(5.0, cursor.interrupt)
    ...
    handle.cancel()
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable


class Deadline:
    __slots__ = ("when", "callback", "cancelled", "owner")

    def __init__(self, when: float, callback: Callable[[], None], owner: Deadlines) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False
        self.owner = owner

    def cancel(self) -> None:
        if not self.cancelled:
            self.cancelled = True
            self.owner._cancelled()


class Deadlines:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Deadline]] = []
        self._cond = threading.Condition()
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._n_cancelled = 0

    def __len__(self) -> int:
        return len(self._heap)

    def _cancelled(self) -> None:
        """Statements end long before their timeout: drop the cancelled entries once they are most."""
        with self._cond:
            self._n_cancelled += 1
            if self._n_cancelled > 64 and self._n_cancelled * 2 > len(self._heap):
                self._heap = [e for e in self._heap if not e[2].cancelled]
                heapq.heapify(self._heap)
                self._n_cancelled = 0

    def after(self, seconds: float, callback: Callable[[], None]) -> Deadline:
        d = Deadline(time.monotonic() + seconds, callback, self)
        with self._cond:
            heapq.heappush(self._heap, (d.when, next(self._seq), d))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="tsgres-deadlines", daemon=True)
                self._thread.start()
            if self._heap[0][2] is d:
                self._cond.notify()
        return d

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0][2].cancelled:
                    heapq.heappop(self._heap)  # cancelled ones leave as they reach the front
                    self._n_cancelled = max(0, self._n_cancelled - 1)
                if not self._heap:
                    self._cond.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                _w, _s, due = heapq.heappop(self._heap)
            if not due.cancelled:
                try:
                    due.callback()
                except Exception:  # noqa: BLE001 - a failing callback must not stop the others
                    pass


DEADLINES = Deadlines()
