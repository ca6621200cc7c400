"""sql/read_ahead.py: a streamed result's next piece computed while the caller handles the one before."""

from __future__ import annotations

import threading
import time

import pytest

from sql import read_ahead as ra

pytestmark = pytest.mark.skipif(ra._CPUS < 2, reason="one core: read_ahead calls step inline")


class Steps:
    """step() returns 1, 2, ... n, then None; records the threads and overlapping calls."""

    def __init__(self, n: int, delay: float = 0.0, fail_at: int = 0) -> None:
        self.n, self.delay, self.fail_at = n, delay, fail_at
        self.calls = 0
        self.running = 0
        self.most_at_once = 0
        self.threads: list[int] = []
        self.finished = 0
        self.lock = threading.Lock()

    def __call__(self) -> int | None:
        with self.lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
            self.calls += 1
            k = self.calls
            self.threads.append(threading.get_ident())
        try:
            time.sleep(self.delay)
            if k == self.fail_at:
                raise ValueError(f"piece {k} failed")
            return k if k <= self.n else None
        finally:
            with self.lock:
                self.running -= 1
                self.finished += 1


def _started(steps: Steps, k: int) -> None:
    """Wait (up to 5 s) until the k-th call of ``steps`` has started."""
    deadline = time.monotonic() + 5
    while steps.calls < k and time.monotonic() < deadline:
        time.sleep(0.001)


def test_every_result_in_order_each_computed_ahead_in_another_thread():
    steps = Steps(5, delay=0.01)
    got = []
    it = ra.read_ahead(steps)
    _started(steps, 1)
    for item in it:
        _started(steps, item + 1)  # the caller handles the piece: the next one starts meanwhile
        got.append(item)
    assert got == [1, 2, 3, 4, 5]
    assert steps.calls == 6  # the five pieces and the None that ends them
    assert steps.most_at_once == 1  # never two calls at once
    assert threading.get_ident() not in steps.threads  # none waited for: all computed ahead


def test_the_first_call_starts_before_it_is_asked_for():
    steps = Steps(1, delay=0.0)
    it = ra.read_ahead(steps)
    deadline = time.monotonic() + 5
    while steps.finished < 1 and time.monotonic() < deadline:
        time.sleep(0.001)
    assert steps.finished == 1  # computed while the caller did something else
    assert list(it) == [1]


def test_an_error_is_raised_where_its_piece_is_asked_for():
    steps = Steps(5, fail_at=3)
    it = ra.read_ahead(steps)
    assert next(it) == 1
    assert next(it) == 2
    with pytest.raises(ValueError, match="piece 3 failed"):
        next(it)
    assert steps.calls == 3  # nothing computed after the failure


def test_closing_waits_for_the_piece_being_computed_and_starts_no_other():
    steps = Steps(10, delay=0.05)
    it = ra.read_ahead(steps)
    assert next(it) == 1  # the second is being computed now
    time.sleep(0.01)
    it.close()
    assert steps.finished == steps.calls == 2  # the running call ended before close returned
    time.sleep(0.06)
    assert steps.calls == 2


def test_a_piece_no_thread_started_is_computed_by_the_caller(monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    busy = ThreadPoolExecutor(max_workers=1)
    monkeypatch.setattr(ra, "_POOL", busy)
    gate = threading.Event()
    busy.submit(gate.wait)  # the only read-ahead thread is taken by another stream
    try:
        steps = Steps(2)
        assert list(ra.read_ahead(steps)) == [1, 2]
        assert set(steps.threads) == {threading.get_ident()}
    finally:
        gate.set()
        busy.shutdown()
