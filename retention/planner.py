"""Which shards have expired: a pure function of the shards, their policies and the time.

A shard expires when all of it is older than its retention policy's duration, that is when its end
lies at or before ``now - duration`` (InfluxDB drops whole shard groups the same way). Policies with
duration 0 keep data forever.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from columnar.catalog import ShardMeta


def expired(
    shards: Iterable[ShardMeta], durations: Mapping[tuple[int, str], int], now_ns: int
) -> list[ShardMeta]:
    """``durations`` maps (database id, retention policy) to its duration in ns (0 = infinite)."""
    out = []
    for s in shards:
        d = durations.get((s.database_id, s.rp), 0)
        if d > 0 and s.end_ns <= now_ns - d:
            out.append(s)
    return out
