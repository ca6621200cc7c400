"""The rows of TimescaleDB 2.14's timescaledb_information views, built from the same snapshot as
pg_catalog: hypertables (tables whose options say so), jobs (retention/jobs.py), continuous
aggregates (views with sql/timescale.py's marker), dimensions (the time column) and chunks (the
shards holding rows of a hypertable, as show_chunks lists them).

What tsgres does not have is NULL: tablespaces, materialization hypertables, integer dimensions,
chunk creation times. A job's config holds TimescaleDB's keys with the intervals tsgres keeps in
seconds (a month shows as 30 days).
"""

from __future__ import annotations

import json
import threading
from functools import cache

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp

from retention import jobs as jobs_
from sql.pgcatalog import Row, generates
from sql.pgcatalog_model import ROLE_SUPERUSER, Relation, Snapshot
from sql.tables import is_hypertable
from sql.timescale import CHUNK_SCHEMA, continuous_aggregate

PROC_SCHEMA = "_timescaledb_functions"
DEFAULT_CHUNK_INTERVAL = pa.MonthDayNano([0, 7, 0])
_NS_PER_S = 1_000_000_000
_TRUE = ("true", "on", "1")


def _owner(s: Snapshot) -> str:
    return next(name for oid, name, _login in s.roles if oid == ROLE_SUPERUSER)


def _hypertables(s: Snapshot) -> list[Relation]:
    return [t for t in s.tables if t.meta is not None and is_hypertable(t.meta)]


def _time_type(s: Snapshot, t: Relation) -> str:
    """format_type of the hypertable's time column (regtype output)."""
    assert t.meta is not None
    att = next((a for a in t.columns if a.name == t.meta.time_column), None)
    typ = s.type_by_oid.get(att.type_oid) if att is not None else None
    return s.type_format(typ) if typ is not None else "timestamp with time zone"


@generates("timescaledb_information.hypertables")
def hypertables(s: Snapshot) -> list[Row]:
    counts: dict[int, int] = {}
    for c in s.chunks:
        counts[c.table.oid] = counts.get(c.table.oid, 0) + 1
    return [
        {
            "hypertable_schema": t.schema.name,
            "hypertable_name": t.name,
            "owner": _owner(s),
            "num_dimensions": 1,
            "num_chunks": counts.get(t.oid, 0),
            "compression_enabled": bool(t.meta.options.get("compress")) if t.meta else False,
        }
        for t in _hypertables(s)
    ]


def seconds_interval(seconds: float) -> pa.MonthDayNano:
    """Seconds as an interval of days and time, as PostgreSQL's justified intervals print them."""
    ns = round(seconds * _NS_PER_S)
    days, rest = divmod(ns, 86_400 * _NS_PER_S)
    return pa.MonthDayNano([0, days, rest])


def interval_text(seconds: float | None) -> str | None:
    """PostgreSQL's output of seconds as an interval: '90 days', '01:00:00', '1 day 02:30:00'."""
    if seconds is None:
        return None
    sign = "-" if seconds < 0 else ""
    days, rest = divmod(abs(round(seconds)), 86_400)
    h, rest = divmod(rest, 3600)
    clock = f"{sign}{h:02d}:{rest // 60:02d}:{rest % 60:02d}"
    if not days:
        return clock
    text = f"{sign}{days} day{'s' if days != 1 else ''}"
    return text if not rest and not h else f"{text} {clock}"


def _jsonb(doc: dict) -> str:
    """jsonb's text output: keys by length, then bytes."""
    return json.dumps(dict(sorted(doc.items(), key=lambda kv: (len(kv[0].encode()), kv[0].encode()))))


def job_config(j: jobs_.Job, table_id: int | None) -> dict:
    """A job's config as TimescaleDB keeps it (jsonb): its policy's keys, intervals as text (a
    user-defined action's: as add_job / alter_job gave it)."""
    if j.user_action:
        return j.config
    if j.proc == "policy_retention":
        return {"drop_after": interval_text(j.config.get("drop_after_s")), "hypertable_id": table_id}
    if j.proc == "policy_compression":
        return {"compress_after": interval_text(j.config.get("compress_after_s")), "hypertable_id": table_id}
    if j.proc == "policy_reorder":
        return {"index_name": j.config.get("index_name"), "hypertable_id": table_id}
    return {k: interval_text(j.config.get(k)) for k in ("start_offset", "end_offset")}


def _table_ids(s: Snapshot) -> dict[tuple[str, str], int]:
    return {(t.schema.name, t.name): t.meta.id for t in s.tables if t.meta is not None}


def _jobs(s: Snapshot) -> list[jobs_.Job]:
    """The jobs of this snapshot's database."""
    return [j for j in jobs_.jobs(s.session.storage) if j.database == s.database]


def _proc_schema(j: jobs_.Job) -> str:
    return j.schema if j.user_action else PROC_SCHEMA


def _hypertable_schema(j: jobs_.Job) -> str | None:
    return None if j.user_action else j.schema


def _us(ns: int | None) -> int | None:
    return None if ns is None else ns // 1000


@generates("timescaledb_information.jobs")
def jobs(s: Snapshot) -> list[Row]:
    table_ids = _table_ids(s)
    out = []
    for j in _jobs(s):
        app = jobs_.POLICIES.get(j.proc, jobs_.USER_ACTION)[0]
        config = job_config(j, table_ids.get((j.schema, j.relation)))
        out.append(
            {
                "job_id": j.id,
                "application_name": f"{app} [{j.id}]",
                "schedule_interval": seconds_interval(j.schedule_s),
                "max_runtime": seconds_interval(j.runtime_s),
                "max_retries": j.max_retries,
                "retry_period": seconds_interval(j.retry_s),
                "proc_schema": _proc_schema(j),
                "proc_name": j.proc,
                "owner": j.owner if j.user_action else _owner(s),
                "scheduled": j.scheduled,
                "fixed_schedule": False,
                "config": None if config is None else _jsonb(config),
                # (a job that never ran has no statistics yet: NULL, as TimescaleDB's view shows it)
                "next_start": _us(j.next_start_ns),
                "hypertable_schema": _hypertable_schema(j),
                "hypertable_name": j.relation or None,
                "check_schema": None if j.user_action else PROC_SCHEMA,
                "check_name": None if j.user_action else f"{j.proc}_check",
            }
        )
    return out


@generates("timescaledb_information.job_stats")
def job_stats(s: Snapshot) -> list[Row]:
    """Every job of this database, with what its runs so far did (a job that never ran: NULLs and 0)."""
    out = []
    for j in _jobs(s):
        out.append(
            {
                "hypertable_schema": _hypertable_schema(j),
                "hypertable_name": j.relation or None,
                "job_id": j.id,
                "last_run_started_at": _us(j.last_run_ns),
                "last_successful_finish": _us(j.last_success_ns),
                "last_run_status": j.last_status,
                "job_status": "Scheduled" if j.scheduled else "Paused",
                "last_run_duration": None
                if j.last_duration_s is None
                else seconds_interval(j.last_duration_s),
                "next_start": _us(j.next_start_ns),
                "total_runs": j.total_runs,
                "total_successes": j.total_runs - j.total_failures,
                "total_failures": j.total_failures,
            }
        )
    return out


@generates("timescaledb_information.job_errors")
def job_errors(s: Snapshot) -> list[Row]:
    out = []
    for j in _jobs(s):
        for e in j.errors:
            out.append(
                {
                    "job_id": j.id,
                    "proc_schema": _proc_schema(j),
                    "proc_name": j.proc,
                    "pid": None,
                    "start_time": _us(e["start_ns"]),
                    "finish_time": _us(e["finish_ns"]),
                    "sqlerrcode": e["sqlerrcode"],
                    "err_message": e["message"],
                }
            )
    return out


def _compressed(s: Snapshot) -> list[Relation]:
    return [t for t in _hypertables(s) if t.meta is not None and t.meta.options.get("compress")]


def segmentby(t: Relation) -> list[str]:
    """The columns of its compression (columnstore) segmentby setting."""
    assert t.meta is not None
    return [
        c.strip().strip('"') for c in (t.meta.options.get("compress_segmentby") or "").split(",") if c.strip()
    ]


def orderby(t: Relation) -> list[tuple[str, bool, bool]]:
    """(column, ascending, nulls first) of its orderby setting; the time column descending when not
    set, as TimescaleDB's default."""
    assert t.meta is not None
    out = []
    for item in (t.meta.options.get("compress_orderby") or "").split(","):
        words = item.split()
        if not words:
            continue
        upper = [w.upper() for w in words[1:]]
        asc = "DESC" not in upper
        nulls_first = ("FIRST" in upper) if "NULLS" in upper else not asc  # (PostgreSQL's default)
        out.append((words[0].strip('"'), asc, nulls_first))
    return out or [(t.meta.time_column, False, True)]


def _orderby_text(t: Relation) -> str:
    parts = []
    for col, asc, nulls_first in orderby(t):
        text = col if asc else f"{col} DESC"
        if nulls_first == asc:  # not the default for its direction
            text += " NULLS FIRST" if nulls_first else " NULLS LAST"
        parts.append(text)
    return ",".join(parts)


@generates("timescaledb_information.compression_settings")
def compression_settings(s: Snapshot) -> list[Row]:
    """A row per segmentby and orderby column of each hypertable with compression enabled."""
    out = []
    for t in _compressed(s):
        order = {c: (i, asc, nf) for i, (c, asc, nf) in enumerate(orderby(t), start=1)}
        seg = {c: i for i, c in enumerate(segmentby(t), start=1)}
        for att in t.columns:
            if att.name not in seg and att.name not in order:
                continue
            o = order.get(att.name)
            out.append(
                {
                    "hypertable_schema": t.schema.name,
                    "hypertable_name": t.name,
                    "attname": att.name,
                    "segmentby_column_index": seg.get(att.name),
                    "orderby_column_index": o[0] if o else None,
                    "orderby_asc": o[1] if o else None,
                    "orderby_nullsfirst": o[2] if o else None,
                }
            )
    return out


def _settings(t: Relation) -> Row:
    seg = segmentby(t)
    return {"hypertable": t.display, "segmentby": ",".join(seg) or None, "orderby": _orderby_text(t)}


@generates("timescaledb_information.hypertable_compression_settings")
def hypertable_compression_settings(s: Snapshot) -> list[Row]:
    return [{**_settings(t), "compress_interval_length": None} for t in _compressed(s)]


@generates("timescaledb_information.hypertable_columnstore_settings")
def hypertable_columnstore_settings(s: Snapshot) -> list[Row]:
    return hypertable_compression_settings(s)


@generates("timescaledb_information.chunk_compression_settings")
def chunk_compression_settings(s: Snapshot) -> list[Row]:
    """Each chunk of a hypertable with compression enabled, with the hypertable's settings (a chunk
    file is written with the settings of then: tsgres keeps one set per hypertable)."""
    compressed = {t.oid: t for t in _compressed(s)}
    out = []
    for c in s.chunks:
        t = compressed.get(c.table.oid)
        if t is None:
            continue
        row = _settings(t)
        out.append({"hypertable": row["hypertable"], "chunk": f"{CHUNK_SCHEMA}.{c.name}",
                    "segmentby": row["segmentby"], "orderby": row["orderby"]})  # fmt: skip
    return out


@generates("timescaledb_information.chunk_columnstore_settings")
def chunk_columnstore_settings(s: Snapshot) -> list[Row]:
    return chunk_compression_settings(s)


def _source(s: Snapshot, view: Relation) -> Relation | None:
    """The hypertable a continuous aggregate's query reads."""
    try:
        tree = sqlglot.parse_one(view.view_sql or "", read="postgres")
    except sqlglot.errors.ParseError:
        return None
    by_name = {(t.schema.name, t.name): t for t in s.tables}
    for ref in tree.find_all(exp.Table):
        found = by_name.get((ref.db or "public", ref.name))
        if found is not None:
            return found
    return None


@generates("timescaledb_information.continuous_aggregates")
def continuous_aggregates(s: Snapshot) -> list[Row]:
    out = []
    for v in s.views:
        opts = continuous_aggregate(s.catalog, s.database, v.schema.name, v.name)
        if opts is None:
            continue
        source = _source(s, v)
        out.append(
            {
                "hypertable_schema": source.schema.name if source else None,
                "hypertable_name": source.name if source else None,
                "view_schema": v.schema.name,
                "view_name": v.name,
                "view_owner": _owner(s),
                # (TimescaleDB 2.13's default; tsgres answers from the rows either way: real time)
                "materialized_only": opts.get("materialized_only", "true") in _TRUE,
                "compression_enabled": opts.get("compress", "false") in _TRUE,
                "view_definition": v.view_sql,
                "finalized": True,
            }
        )
    return out


_duck_lock = threading.Lock()
_duck: list[duckdb.DuckDBPyConnection] = []


@cache
def chunk_interval(sql: str | None) -> pa.MonthDayNano | None:
    """A hypertable's chunk_time_interval option (the SQL given to create_hypertable or
    set_chunk_time_interval): an interval, or an integer of microseconds as TimescaleDB reads one
    for a time column; 7 days when not set."""
    if not sql:
        return DEFAULT_CHUNK_INTERVAL
    try:
        e = sqlglot.parse_one(sql, read="postgres")
        if isinstance(e, exp.Literal) and not e.is_string:
            return seconds_interval(float(e.name) / 1e6)
        with _duck_lock:
            if not _duck:
                _duck.append(duckdb.connect(":memory:"))
            got = _duck[0].sql(f"SELECT CAST({e.sql('duckdb')} AS INTERVAL) AS i").to_arrow_table()
    except (sqlglot.errors.SqlglotError, duckdb.Error):
        return None  # (create_hypertable evaluated it when it was given: not expected)
    return got.column(0)[0].as_py()


@generates("timescaledb_information.dimensions")
def dimensions(s: Snapshot) -> list[Row]:
    out = []
    for t in _hypertables(s):
        assert t.meta is not None
        out.append(
            {
                "hypertable_schema": t.schema.name,
                "hypertable_name": t.name,
                "dimension_number": 1,
                "column_name": t.meta.time_column,
                "column_type": _time_type(s, t),
                "dimension_type": "Time",
                "time_interval": chunk_interval(t.meta.options.get("chunk_time_interval")),
            }
        )
    return out


@generates("timescaledb_information.chunks")
def chunks(s: Snapshot) -> list[Row]:
    hyper = {t.oid for t in _hypertables(s)}
    out = []
    for c in s.chunks:
        t = c.table
        if t.oid not in hyper or t.meta is None:
            continue
        out.append(
            {
                "hypertable_schema": t.schema.name,
                "hypertable_name": t.name,
                "chunk_schema": CHUNK_SCHEMA,
                "chunk_name": c.name,
                "primary_dimension": t.meta.time_column,
                "primary_dimension_type": _time_type(s, t),
                "range_start": c.start_ns // 1000,
                "range_end": c.end_ns // 1000,
                "is_compressed": c.compressed,
            }
        )
    return out
