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
