"""TimescaleDB's background jobs on tsgres's storage: what add_retention_policy & co. create.

A job is a row of ``timescaledb_information.jobs``. Jobs live in the storage catalog (meta key
:data:`KEY`, JSON), so they survive restarts; ids start at 1000 as TimescaleDB's do. By procedure:

- ``policy_retention``: every ``schedule_interval`` (TimescaleDB's default: a day) the hypertable's
  rows older than ``now - drop_after`` are deleted (TimescaleDB drops the chunks lying wholly before
  that; tsgres deletes the rows, and compaction removes them from the files). Run by the server's
  retention loop (retention/enforcer.py) when due.
- ``policy_compression``, ``policy_refresh_continuous_aggregate``: recorded and listed; there is
  nothing to run (every chunk file is compressed columnar already; a continuous aggregate is
  computed from the rows when it is read, so it is always fresh).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from columnar.engine import INT64_MAX, INT64_MIN, Engine

log = logging.getLogger("tsgres.jobs")

KEY = "timescale_jobs"
FIRST_ID = 1000
NS_PER_S = 1_000_000_000
DEFAULT_SCHEDULE_S = {
    "policy_retention": 86_400.0,
    "policy_compression": 43_200.0,
    "policy_refresh_continuous_aggregate": 3_600.0,
}
lock = threading.Lock()  # (sessions add and remove jobs while the server's loop runs them)


@dataclass
class Job:
    id: int
    proc: str  # policy_retention | policy_compression | policy_refresh_continuous_aggregate
    database: str
    schema: str  # the relation's schema ("public" or a retention policy's name)
    relation: str  # the hypertable, or the continuous aggregate
    config: dict[str, Any] = field(default_factory=dict)  # (retention: drop_after_s)
    schedule_s: float = 86_400.0
    last_run_ns: int | None = None

    @property
    def next_start_ns(self) -> int | None:
        """When the job is due next; None: it never ran (it is due now)."""
        if self.last_run_ns is None:
            return None
        return self.last_run_ns + int(self.schedule_s * NS_PER_S)


def _load(engine: Engine) -> tuple[int, list[Job]]:
    """(the next job id, the jobs): ids are not reused, as TimescaleDB's sequence does not."""
    raw = engine.catalog.get_meta(KEY)
    if not raw:
        return FIRST_ID, []
    doc = json.loads(raw)
    return doc["next"], [Job(**j) for j in doc["jobs"]]


def jobs(engine: Engine) -> list[Job]:
    return _load(engine)[1]


def _save(engine: Engine, all_jobs: list[Job], next_id: int | None = None) -> None:
    if next_id is None:
        next_id = _load(engine)[0]
    engine.catalog.set_meta(KEY, json.dumps({"next": next_id, "jobs": [asdict(j) for j in all_jobs]}))


def find(engine: Engine, proc: str, database: str, schema: str, relation: str) -> Job | None:
    for j in jobs(engine):
        if (j.proc, j.database, j.schema, j.relation) == (proc, database, schema, relation):
            return j
    return None


def add(
    engine: Engine,
    proc: str,
    database: str,
    schema: str,
    relation: str,
    config: dict[str, Any],
    schedule_s: float | None = None,
) -> Job:
    """A new job (the caller checked there is none of ``proc`` for the relation)."""
    with lock:
        next_id, all_jobs = _load(engine)
        job = Job(
            next_id,
            proc,
            database,
            schema,
            relation,
            config,
            schedule_s or DEFAULT_SCHEDULE_S.get(proc, 86_400.0),
        )
        _save(engine, [*all_jobs, job], next_id + 1)
    return job


def remove(engine: Engine, database: str, schema: str, relation: str, proc: str | None = None) -> int:
    """Remove the relation's jobs (of ``proc``, or all); how many there were."""
    with lock:
        all_jobs = jobs(engine)
        keep = [
            j
            for j in all_jobs
            if (j.database, j.schema, j.relation) != (database, schema, relation) or (proc and j.proc != proc)
        ]
        _save(engine, keep)
    return len(all_jobs) - len(keep)


def renamed(engine: Engine, database: str, schema: str, relation: str, new: str) -> str | None:
    """The catalog's jobs (the value of meta key :data:`KEY`) with ``relation`` renamed ``new``
    (ALTER TABLE ... RENAME TO); None when no job names it. Hold :data:`lock` until it is stored."""
    next_id, all_jobs = _load(engine)
    mine = [j for j in all_jobs if (j.database, j.schema, j.relation) == (database, schema, relation)]
    if not mine:
        return None
    for j in mine:
        j.relation = new
    return json.dumps({"next": next_id, "jobs": [asdict(j) for j in all_jobs]})


def delete_rows(
    engine: Engine, database: str, schema: str, table: str, since_ns: int | None, before_ns: int | None
) -> int:
    """Delete the table's rows in [since_ns, before_ns) (None: unbounded on that side), as a retention
    job and drop_chunks do; the number of series touched."""
    rp = None if schema == "public" else schema
    tmin = INT64_MIN if since_ns is None else since_ns
    tmax = INT64_MAX if before_ns is None else before_ns - 1
    return engine.delete(database, table, tmin=tmin, tmax=tmax, rp=rp)


def run_due(engine: Engine, now_ns: int | None = None) -> list[Job]:
    """Run the retention jobs that are due; the jobs run."""
    now = time.time_ns() if now_ns is None else now_ns
    ran = []
    for job in jobs(engine):
        due = job.next_start_ns
        if job.proc != "policy_retention" or (due is not None and now < due):
            continue
        cutoff = now - int(job.config["drop_after_s"] * NS_PER_S)
        try:
            delete_rows(engine, job.database, job.schema, job.relation, None, cutoff)
        except Exception:  # a table or database dropped meanwhile: the next run tries again
            log.exception("retention job %d on %s failed", job.id, job.relation)
            continue
        ran.append(job)
        with lock:
            all_jobs = jobs(engine)
            for j in all_jobs:
                if j.id == job.id:
                    j.last_run_ns = now
            _save(engine, all_jobs)
    return ran
