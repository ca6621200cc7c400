"""tsgres.warmup: kernels compiled step by step (a shutdown stops between steps); settle_heap:
start-up's objects frozen, the young generation collected less often."""

import gc
import threading

from tsgres import warmup
from tsgres.warmup import GC_THRESHOLD, settle_heap


def test_a_shutdown_stops_the_warm_up_between_steps(monkeypatch):
    stop = threading.Event()
    ran = []

    def step(name):
        def run():
            ran.append(name)
            if name == "second":
                stop.set()  # the server begins to stop while this step compiles

        return run

    monkeypatch.setattr(warmup, "_STEPS", tuple(step(n) for n in ("first", "second", "third")))
    monkeypatch.setattr(warmup, "settle_heap", lambda: ran.append("settled"))
    warmup.warm_up(stop)
    assert ran == ["first", "second"]
    ran.clear()
    warmup.warm_up(threading.Event())
    assert ran == ["first", "second", "third", "settled"]


def test_settle_heap_freezes_start_up_objects_and_raises_the_threshold():
    before = gc.get_threshold()
    try:
        kept = [[i] for i in range(1000)]  # tracked containers alive now
        settle_heap()
        assert gc.get_freeze_count() >= len(kept)
        assert gc.get_threshold() == GC_THRESHOLD
        assert gc.get_count()[0] < GC_THRESHOLD[0]
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
