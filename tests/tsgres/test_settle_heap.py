"""tsgres.warmup.settle_heap: start-up's objects frozen, the young generation collected less often."""

import gc

from tsgres.warmup import GC_THRESHOLD, settle_heap


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
