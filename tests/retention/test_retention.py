"""Retention: the planner's rule and the enforcer dropping whole shards from a real engine."""

from __future__ import annotations

import time

from columnar.batch import WriteBatch
from columnar.catalog import ShardMeta
from columnar.engine import Engine
from columnar.options import EngineOptions
from columnar.scan import ScanRequest, read_table
from columnar.types import NS_PER_DAY, NS_PER_HOUR
from retention.enforcer import enforce
from retention.planner import expired


def test_planner_expires_whole_shards_past_the_duration_only():
    now = 100 * NS_PER_DAY
    shards = [
        ShardMeta(1, 1, "week", 90 * NS_PER_DAY, 91 * NS_PER_DAY),  # ends 9 days ago: expired
        ShardMeta(2, 1, "week", 93 * NS_PER_DAY, 94 * NS_PER_DAY),  # ends exactly 6 days ago: kept
        ShardMeta(3, 1, "week", 92 * NS_PER_DAY, 93 * NS_PER_DAY),  # ends exactly 7 days ago: expired
        ShardMeta(4, 1, "autogen", 0, NS_PER_DAY),  # infinite policy
        ShardMeta(5, 2, "week", 0, NS_PER_DAY),  # another database, no policy known: kept
    ]
    durations = {(1, "week"): 7 * NS_PER_DAY, (1, "autogen"): 0}
    assert [s.id for s in expired(shards, durations, now)] == [1, 3]


def test_enforcer_drops_expired_shards_and_their_data(tmp_path):
    with Engine.open(tmp_path / "d", EngineOptions(compaction_interval_s=0, wal_fsync="off")) as e:
        e.catalog.create_retention_policy("postgres", "short", 2 * NS_PER_HOUR)
        # Half past the current hour: the two points then sit in two different 1-hour shards
        # whatever the clock says (at a few seconds past the hour both could expire at once).
        now = time.time_ns() // NS_PER_HOUR * NS_PER_HOUR + NS_PER_HOUR // 2
        times = [now - 90 * 60 * 10**9, now - 10 * 10**9]
        e.write(
            "postgres", WriteBatch.from_rows("m", times, [{"h": "a"}] * 2, {"v": [1.0, 2.0]}), rp="short"
        ).check()
        e.flush()
        assert len(e.shards("postgres", "short")) == 2  # 1-hour shards
        assert enforce(e, now) == []
        later = now + 2 * NS_PER_HOUR
        gone = enforce(e, later)
        assert len(gone) == 1 and gone[0].end_ns <= later - 2 * NS_PER_HOUR
        left = read_table(e, ScanRequest("postgres", "m", rp="short"))
        assert left["v"].to_pylist() == [2.0]
        assert not (tmp_path / "d" / "shards" / str(gone[0].id)).exists()
