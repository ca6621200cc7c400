"""Drops the shards that retention/planner.py finds expired, and runs TimescaleDB retention jobs that
are due (retention/jobs.py). The server runs it periodically."""

from __future__ import annotations

import logging
import time

from columnar.catalog import ShardMeta
from columnar.engine import Engine
from retention import jobs
from retention.planner import expired

log = logging.getLogger("tsgres.retention")


def enforce(engine: Engine, now_ns: int | None = None) -> list[ShardMeta]:
    """Drop the shards past their retention policy, then run the policies' jobs that are due (the
    server runs every job, add_job's too, on a loop of its own: jobs_check_interval_s)."""
    now = time.time_ns() if now_ns is None else now_ns
    durations = {}
    for db in engine.databases():
        for rp in engine.catalog.retention_policies(db.name):
            durations[(db.id, rp.name)] = rp.duration_ns
    gone = expired(engine.catalog.shards(), durations, now)
    for shard in gone:
        engine.drop_shard(shard.id)
        log.info(
            "dropped shard %d (rp %s, ending %d): past its retention policy", shard.id, shard.rp, shard.end_ns
        )
    jobs.run_due(engine, now)
    return gone
