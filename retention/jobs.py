"""TimescaleDB's background jobs on tsgres's storage: what add_retention_policy & co. create.

A job is a row of ``timescaledb_information.jobs``. Jobs live in the storage catalog (meta key
:data:`KEY`, JSON), so they survive restarts; ids start at 1000 as TimescaleDB's do. By procedure:

- ``policy_retention``: every ``schedule_interval`` (TimescaleDB's default: a day) the hypertable's
  rows older than ``now - drop_after`` are deleted (TimescaleDB drops the chunks lying wholly before
  that; tsgres deletes the rows, and compaction removes them from the files). Run by the server's
  jobs loop (tsgres/server.py, every jobs_check_interval_s) when due.
- ``policy_compression`` (also what add_columnstore_policy makes), ``policy_refresh_continuous_aggregate``,
  ``policy_reorder``: recorded, listed and run when due, with nothing to do (every chunk file is
  compressed columnar already, its rows in (series, time) order; a continuous aggregate is computed
  from the rows when it is read, so it is always fresh). Their runs count in job_stats all the same.

A job of any other ``proc`` is a user-defined action (add_job): ``proc`` names a procedure (or a
function) of ``schema``, and each run calls it with the job's id and config (``CALL proc(id,
config)``) through the SQL engine the caller passes (:class:`Actions` for the server's loop; run_job
runs it in its own session).

alter_job changes a job's schedule, whether it is scheduled, its next start and its config;
run_job runs one now whether due or not; delete_job removes it. Each run's start, duration and
outcome are kept (``timescaledb_information.job_stats``), a failed run's error too
(``job_errors``, the newest :data:`ERRORS_KEPT` a job).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from columnar.engine import Engine
from columnar.shard import Shard

log = logging.getLogger("tsgres.jobs")

KEY = "timescale_jobs"
FIRST_ID = 1000
NS_PER_S = 1_000_000_000
DEFAULT_SCHEDULE_S = {
    "policy_retention": 86_400.0,
    "policy_compression": 43_200.0,
    "policy_refresh_continuous_aggregate": 3_600.0,
    "policy_reorder": 302_400.0,  # (half the default chunk interval, as TimescaleDB picks it)
}
# procedure -> (application name, max_runtime s, retry_period s; None: the schedule interval), as
# TimescaleDB's add_*_policy create them
POLICIES: dict[str, tuple[str, float, float | None]] = {
    "policy_retention": ("Retention Policy", 300.0, 300.0),
    "policy_compression": ("Compression Policy", 0.0, 3600.0),
    "policy_refresh_continuous_aggregate": ("Refresh Continuous Aggregate Policy", 0.0, None),
    "policy_reorder": ("Reorder Policy", 0.0, 300.0),
}
USER_ACTION = ("User-Defined Action", 0.0, 300.0)  # add_job's defaults: no runtime limit, 5 min retries
ERRORS_KEPT = 10
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
    scheduled: bool = True  # alter_job(scheduled => false) pauses it
    start_at_ns: int | None = None  # alter_job(next_start => ...): when it is due next instead
    max_runtime_s: float | None = None  # None: the policy's default (alter_job may set them)
    max_retries: int = -1
    retry_period_s: float | None = None
    # statistics of its runs (job_stats): the last one's end, duration and outcome; the totals
    last_success_ns: int | None = None
    last_duration_s: float | None = None
    last_status: str | None = None  # "Success" | "Failed"
    total_runs: int = 0
    total_failures: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)  # the newest failed runs (job_errors)
    owner: str = "postgres"  # who added it: a user-defined action runs as them
    function: bool = False  # a user-defined action's ``proc`` is a function (SELECT), not a procedure

    @property
    def user_action(self) -> bool:
        return self.proc not in POLICIES

    @property
    def retry_s(self) -> float:
        """How long after a failed run it runs again."""
        if self.retry_period_s is not None:
            return self.retry_period_s
        retry = POLICIES.get(self.proc, USER_ACTION)[2]
        return retry if retry is not None else self.schedule_s

    @property
    def runtime_s(self) -> float:
        return (
            self.max_runtime_s if self.max_runtime_s is not None else POLICIES.get(self.proc, USER_ACTION)[1]
        )

    @property
    def next_start_ns(self) -> int | None:
        """When the job is due next; None: it never ran (it is due now)."""
        if self.start_at_ns is not None:
            return self.start_at_ns
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
    **more: Any,
) -> Job:
    """A new job (the caller checked there is none of ``proc`` for the relation); ``more``: other
    fields of it (a user-defined action's owner, scheduled, start_at_ns)."""
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
            **more,
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


def drop_chunks(
    engine: Engine, database: str, schema: str, table: str, since_ns: int | None, before_ns: int | None
) -> list[Shard]:
    """TimescaleDB's drop_chunks, as a retention job and drop_chunks() run it: the table's chunks
    (the shards of its retention policy) lying wholly in [since_ns, before_ns) (None: unbounded on
    that side) lose every row of the table; a chunk reaching past a bound keeps all of its rows. The
    shards that held rows of it, in time order."""
    rp = None if schema == "public" else schema
    rpm = engine.catalog.retention_policy(database, rp)
    dropped = []
    for shard in engine.shards(database, rpm.name):
        if (before_ns is not None and shard.meta.end_ns > before_ns) or (
            since_ns is not None and shard.meta.start_ns < since_ns
        ):
            continue
        if engine.drop_chunk(database, table, shard.meta.id, rp=rp):
            dropped.append(shard)
    return dropped


def by_id(engine: Engine, job_id: int) -> Job | None:
    return next((j for j in jobs(engine) if j.id == job_id), None)


def update(engine: Engine, job_id: int, **changes: Any) -> Job | None:
    """Set fields of job ``job_id`` (None: there is no such job); the job as stored."""
    with lock:
        all_jobs = jobs(engine)
        job = next((j for j in all_jobs if j.id == job_id), None)
        if job is None:
            return None
        for k, v in changes.items():
            setattr(job, k, v)
        _save(engine, all_jobs)
    return job


def delete(engine: Engine, job_id: int) -> bool:
    """Remove job ``job_id``; whether there was one."""
    with lock:
        all_jobs = jobs(engine)
        keep = [j for j in all_jobs if j.id != job_id]
        if len(keep) == len(all_jobs):
            return False
        _save(engine, keep)
    return True


def run(engine: Engine, job: Job, now_ns: int | None = None, action: Action | None = None) -> bool:
    """Run ``job`` now and record the run; whether it succeeded. A retention job drops the chunks
    wholly older than ``now - drop_after``; a user-defined action's procedure runs through
    ``action``; the other policies have nothing to do."""
    now = time.time_ns() if now_ns is None else now_ns
    started = time.perf_counter()
    error: Exception | None = None
    if job.user_action:
        try:
            if action is None:
                raise RuntimeError("no SQL engine to run user-defined actions with")
            action(job)
        except Exception as e:  # (its error is the run's: job_errors shows it)
            log.warning("job %d (%s.%s) failed: %s", job.id, job.schema, job.proc, e)
            error = e
    elif job.proc == "policy_retention":
        try:
            drop_after = job.config.get("drop_after_s")
            if drop_after is None:
                raise ValueError("the retention policy's config has no drop_after")
            drop_chunks(
                engine, job.database, job.schema, job.relation, None, now - int(drop_after * NS_PER_S)
            )
        except Exception as e:  # (a database dropped meanwhile ...): tried again after the retry period
            log.exception("retention job %d on %s failed", job.id, job.relation)
            error = e
    duration = time.perf_counter() - started
    with lock:
        all_jobs = jobs(engine)
        for j in all_jobs:
            if j.id != job.id:
                continue
            j.last_run_ns = now
            j.start_at_ns = None if error is None else now + int(j.retry_s * NS_PER_S)
            j.last_duration_s = duration
            j.total_runs += 1
            if error is None:
                j.last_status, j.last_success_ns = "Success", now + int(duration * NS_PER_S)
            else:
                j.last_status = "Failed"
                j.total_failures += 1
                j.errors = [
                    *j.errors,
                    {
                        "start_ns": now,
                        "finish_ns": now + int(duration * NS_PER_S),
                        "sqlerrcode": getattr(error, "sqlstate", None) or "XX000",
                        "message": str(error),
                    },
                ][-ERRORS_KEPT:]
        _save(engine, all_jobs)
    return error is None


def run_due(engine: Engine, now_ns: int | None = None, action: Action | None = None) -> list[Job]:
    """Run the scheduled jobs that are due; the jobs that ran without error. One caller at a time
    (the server's jobs loop and its retention check both call it): a job found due runs once."""
    with _due_lock:
        return _run_due(engine, now_ns, action)


_due_lock = threading.Lock()


def _run_due(engine: Engine, now_ns: int | None, action: Action | None) -> list[Job]:
    now = time.time_ns() if now_ns is None else now_ns
    ran = []
    for job in jobs(engine):
        due = job.next_start_ns
        if not job.scheduled or (due is not None and now < due):
            continue
        if job.user_action and action is None:
            continue  # (a caller without a SQL engine: the jobs loop runs it)
        if run(engine, job, now, action):
            ran.append(job)
    return ran


Action = Callable[[Job], None]  # runs a user-defined action's procedure (raises its error)


class Actions:
    """What the server's loop runs user-defined actions with: a session per run, as the job's
    owner, on a SQL engine of its own (made when the first action runs, as continuous queries' is)."""

    def __init__(self, storage: Engine) -> None:
        self.storage = storage
        self._sql_engine: Any = None
        self._lock = threading.Lock()  # held by a run: close() waits for it
        self._closed = False

    def __call__(self, job: Job) -> None:
        from sql.timescale import run_action

        with self._lock:
            if self._closed:
                raise RuntimeError("the server is stopping")
            if self._sql_engine is None:
                from sql.engine import SqlEngine

                self._sql_engine = SqlEngine(self.storage)
            session = self._sql_engine.session(job.database, job.owner)
            try:
                run_action(session, job)
            finally:
                session.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._sql_engine is not None:
                self._sql_engine.close()
                self._sql_engine = None
