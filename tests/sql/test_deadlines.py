"""statement_timeout: one watchdog thread for every statement's deadline."""

from __future__ import annotations

import threading
import time

import pytest

from sql import errors as E
from sql.deadlines import Deadlines
from tests.sql.in_process import sql_engine


def test_deadlines_fire_in_order_and_cancelled_ones_do_not():
    d = Deadlines()
    fired: list[str] = []
    done = threading.Event()
    d.after(0.2, lambda: (fired.append("late"), done.set()))
    d.after(0.05, lambda: fired.append("early"))
    d.after(0.1, lambda: fired.append("cancelled")).cancel()
    for _ in range(200):  # many statements that end before their timeout
        d.after(300, lambda: fired.append("never")).cancel()
    assert done.wait(5)
    time.sleep(0.05)
    assert fired == ["early", "late"]
    assert len(d) < 150  # cancelled entries are dropped, not kept for 300 s


def test_statement_timeout_cancels_a_long_query(tmp_path):
    with sql_engine(tmp_path) as (_storage, engine):
        s = engine.session("postgres")
        s.set_setting("statement_timeout", "300ms")
        slow = "SELECT count(*) FROM generate_series(1, 200000) a, generate_series(1, 200000) b"
        start = time.monotonic()
        with pytest.raises(E.QueryCanceled, match="statement timeout"):
            for _ in s.execute(s.prepare(slow, []), []).batches:
                pass
        assert time.monotonic() - start < 30
        # the session goes on; a quick statement after it is not hit by the old deadline
        s.set_setting("statement_timeout", "0")
        rows = [r for b in s.execute(s.prepare("SELECT 41 + 1 AS x", []), []).batches for r in b.to_pylist()]
        assert rows == [{"x": 42}]


def test_statement_timeout_and_cancel_stop_the_native_executor(tmp_path):
    """Native plans run in Python and numba, not DuckDB: their scans check for a cancel between files."""
    import numpy as np

    from columnar.batch import WriteBatch

    with sql_engine(tmp_path) as (storage, engine):
        rng = np.random.default_rng(1)
        for k in range(60):  # 60 files of 20k rows
            t = np.arange(k * 20_000, (k + 1) * 20_000, dtype=np.int64) * 10**9
            b = WriteBatch.from_rows("m", t, [{"h": f"h{k % 4}"}] * len(t), {"v": rng.random(len(t))})
            storage.write("postgres", b).check()
            storage.flush()
        s = engine.session("postgres")
        q = s.prepare("SELECT time_bucket('1 hour', time) AS b, max(v) FROM m WHERE v > 0.5 GROUP BY b", [])
        assert q.native is not None
        whole = sum(b.num_rows for b in s.execute(q, []).batches)
        assert whole == 60 * 20_000 // 3600 + 1
        s.set_setting("statement_timeout", "1ms")
        with pytest.raises(E.QueryCanceled, match="statement timeout"):
            s.execute(q, [])
        s.set_setting("statement_timeout", "0")
        s.cancel()  # a cancel that arrives between statements does not touch the next one
        assert sum(b.num_rows for b in s.execute(q, []).batches) == whole
        stop = threading.Event()

        def cancel_until_stopped() -> None:  # a client's CancelRequest, sent while the query runs
            while not stop.wait(0.001):
                s.cancel()

        canceller = threading.Thread(target=cancel_until_stopped)
        canceller.start()
        try:
            with pytest.raises(E.QueryCanceled, match="user request"):
                s.execute(q, [])
        finally:
            stop.set()
            canceller.join()
