"""TimescaleDB's management API, as its migrations and admin scripts call it, on tsgres's storage.

- ``SELECT create_hypertable(...)`` (sql/ddl.py; also with TimescaleDB 2.13's ``by_range('time'
  [, interval])`` dimension), ``set_chunk_time_interval``.
- Retention: ``add_retention_policy`` / ``remove_retention_policy`` (a job: retention/jobs.py deletes
  the rows older than ``drop_after`` when it runs), ``drop_chunks`` (deletes them now),
  ``show_chunks``.
- Compression: ``ALTER TABLE t SET (timescaledb.compress [, ...])`` is recorded in the table's options
  (chunk files are compressed columnar anyway); ``add_compression_policy`` /
  ``remove_compression_policy`` (jobs with nothing to do), ``compress_chunk`` / ``decompress_chunk``.
- Continuous aggregates: ``CREATE MATERIALIZED VIEW v WITH (timescaledb.continuous [, ...]) AS
  SELECT ... GROUP BY time_bucket(...), ... [WITH [NO] DATA]`` is a view computed from the rows when it
  is read: always up to date, as a real-time aggregate (the native executor computes its aggregate:
  sql/binder.py's native bodies). ``ALTER MATERIALIZED VIEW v SET (...)``, ``DROP MATERIALIZED VIEW``,
  ``CALL refresh_continuous_aggregate(...)`` (nothing to refresh), ``add_continuous_aggregate_policy`` /
  ``remove_continuous_aggregate_policy``.

Chunks are tsgres's time partitions (shards) holding rows of the table, named
``_timescaledb_internal._hyper_<table id>_<shard id>_chunk``. Errors carry TimescaleDB's messages and
SQLSTATEs where it has them (a policy that exists already: 42710; none to remove: 42704).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlglot import exp

from retention import jobs
from sql import comments, ddl, indexes
from sql import errors as E
from sql.binder import resolve_table
from sql.parse import parse
from sql.pgcatalog_model import quote_ident
from sql.rewrite.time_bucket import call_args
from sql.rewrite.timescale_tables import function_name
from sql.session import ColumnDesc, Result
from sql.tables import is_hypertable
from sql.types import BY_NAME

if TYPE_CHECKING:
    from columnar.catalog import Catalog, TableMeta
    from columnar.shard import Shard, TableStats
    from sql.engine import SqlSession

NS_PER_S = 1_000_000_000
CHUNK_SCHEMA = "_timescaledb_internal"
_CAGG = "cagg:{}"  # meta key beside a continuous aggregate's view key: its options (JSON)

# function -> (result type, returns a set of rows)
CALLS: dict[str, tuple[str, bool]] = {
    "create_hypertable": ("text", False),
    "set_chunk_time_interval": ("text", False),
    "add_dimension": ("text", False),
    "add_retention_policy": ("int4", False),
    "remove_retention_policy": ("text", False),
    "drop_chunks": ("text", True),
    "show_chunks": ("text", True),
    "add_compression_policy": ("int4", False),
    "remove_compression_policy": ("bool", False),
    "compress_chunk": ("text", False),
    "decompress_chunk": ("text", False),
    "add_continuous_aggregate_policy": ("int4", False),
    "remove_continuous_aggregate_policy": ("text", False),
    "add_reorder_policy": ("int4", False),
    "remove_reorder_policy": ("text", False),
    "reorder_chunk": ("text", False),
    "move_chunk": ("text", False),
    "alter_job": ("text", False),  # (a record: its text)
    "delete_job": ("text", False),
    "add_job": ("int4", False),
    "timescaledb_pre_restore": ("bool", False),
    "timescaledb_post_restore": ("bool", False),
    # procedures: CALL runs them; a SELECT of one is refused as PostgreSQL refuses it
    "add_columnstore_policy": ("text", False),
    "remove_columnstore_policy": ("text", False),
    "convert_to_columnstore": ("text", False),
    "convert_to_rowstore": ("text", False),
    "run_job": ("text", False),
}
PROCEDURES = frozenset(
    (
        "add_columnstore_policy",
        "remove_columnstore_policy",
        "convert_to_columnstore",
        "convert_to_rowstore",
        "run_job",
        "refresh_continuous_aggregate",
    )
)


def table_function(session: SqlSession, call: exp.Anonymous, describe: bool) -> list[str] | None:
    """The rows of show_chunks / drop_chunks called in FROM (sql/rewrite/timescale_tables.py); while
    ``describe``-ing, drop_chunks deletes nothing and gives none."""
    name = function_name(call)
    if name not in ("show_chunks", "drop_chunks") or (describe and name == "drop_chunks"):
        return [] if name == "drop_chunks" else None
    return _HANDLERS[name](session, _Args(session, call, name))


def management_call(tree: exp.Expression) -> exp.Anonymous | None:
    """The call of ``SELECT fn(...)`` (nothing else selected, no FROM) when fn is one of CALLS."""
    if not isinstance(tree, exp.Select) or tree.args.get("from_") or len(tree.expressions) != 1:
        return None
    e = tree.expressions[0]
    e = e.this if isinstance(e, exp.Alias) else e
    if isinstance(e, exp.Anonymous) and function_name(e) in CALLS:
        return e
    return None


# calls with FROM that stay the query's own (sql/rewrite/timescale_tables.py: void): not run per row
_IN_QUERY = ("reorder_chunk",)


def per_row_call(tree: exp.Expression) -> exp.Anonymous | None:
    """The call of ``SELECT fn(args) FROM ... [WHERE ...]`` (one output, no grouping) when fn is one
    of CALLS: it runs once per row, its arguments read from the row, as PostgreSQL calls a function
    per row. TimescaleDB's documentation pauses jobs so: ``SELECT alter_job(job_id, scheduled =>
    false) FROM timescaledb_information.jobs WHERE proc_name = 'policy_compression'``."""
    if not isinstance(tree, exp.Select) or not tree.args.get("from_") or len(tree.expressions) != 1:
        return None
    if any(tree.args.get(k) for k in ("group", "having", "distinct", "windows")):
        return None
    e = tree.expressions[0]
    e = e.this if isinstance(e, exp.Alias) else e
    name = function_name(e)
    if isinstance(e, exp.Anonymous) and name in CALLS and name not in _IN_QUERY:
        return e
    return None


def run_per_row(session: SqlSession, tree: exp.Select) -> Result:
    """:func:`per_row_call`'s call, once per row of its query (in the query's order): the arguments
    that read columns are evaluated by the query, then each row's call runs with those values; the
    rows of every call, in order."""
    call = per_row_call(tree)
    assert call is not None
    name = function_name(call)
    pos, named = call_args(call)
    given = [*pos, *named.values()]
    varying = [i for i, a in enumerate(given) if a.find(exp.Column) is not None]
    query = tree.copy()
    outputs = [exp.alias_(given[i].copy(), f"__arg{k}") for k, i in enumerate(varying)]
    query.set("expressions", outputs or [exp.alias_(exp.Literal.number(1), "__row")])
    values: list[Any] = []
    for row in session.query_arrow(query, []).to_pylist():
        each = call.copy()
        cpos, cnamed = call_args(each)
        args = [*cpos, *cnamed.values()]
        for k, i in enumerate(varying):
            args[i].replace(_literal(row[f"__arg{k}"]))
        got = run_call(session, each)
        values.extend(v for b in got.batches for v in b.column(0).to_pylist())
    col = describe(call)[0]
    batch = pa.record_batch({col.name: pa.array(values, BY_NAME[CALLS[name][0]].arrow)})
    return Result([col], iter([batch]), tag=f"SELECT {len(values)}")


def _literal(v: Any) -> exp.Expression:
    """A value read from a row as SQL for a call's argument."""
    if v is None:
        return exp.null()
    if isinstance(v, dt.datetime):
        return exp.cast(exp.Literal.string(v.isoformat()), "TIMESTAMPTZ" if v.tzinfo else "TIMESTAMP")
    if isinstance(v, dt.timedelta):
        return exp.cast(exp.Literal.string(f"{v.total_seconds()} seconds"), "INTERVAL")
    if isinstance(v, pa.MonthDayNano):
        text = f"{v.months} months {v.days} days {v.nanoseconds / 1000} microseconds"
        return exp.cast(exp.Literal.string(text), "INTERVAL")
    if isinstance(v, dict | list):
        return exp.cast(exp.Literal.string(json.dumps(v)), "JSONB")
    return exp.convert(v)


def describe(call: exp.Anonymous) -> list[ColumnDesc]:
    """The call's one column: named by its alias (``SELECT show_chunks('t') AS c``), else the function."""
    name = function_name(call)
    label = call.parent.alias if isinstance(call.parent, exp.Alias) else name
    return [ColumnDesc(label, BY_NAME[CALLS[name][0]].oid)]


def run_call(session: SqlSession, call: exp.Anonymous) -> Result:
    name = function_name(call)
    if name == "create_hypertable":
        return ddl.create_hypertable(session, call)
    if name in PROCEDURES:
        raise E.WrongObjectType(f"{name} is a procedure", hint="To call a procedure, use CALL.")
    value = _HANDLERS[name](session, _Args(session, call, name))
    values = value if CALLS[name][1] else [value]
    col = describe(call)[0]
    arrow = BY_NAME[CALLS[name][0]].arrow
    batch = pa.record_batch({col.name: pa.array(values, arrow)})
    return Result([col], iter([batch]), tag=f"SELECT {len(values)}")


class _Args:
    """A call's arguments by TimescaleDB's parameter names, evaluated on demand."""

    # each function's positional parameters
    NAMES: dict[str, tuple[str, ...]] = {
        "set_chunk_time_interval": ("hypertable", "chunk_time_interval", "dimension_name"),
        "add_dimension": (
            "hypertable",
            "dimension",
            "number_partitions",
            "chunk_time_interval",
            "partitioning_func",
            "if_not_exists",
        ),
        "add_retention_policy": ("relation", "drop_after", "if_not_exists", "schedule_interval"),
        "remove_retention_policy": ("relation", "if_exists"),
        "drop_chunks": ("relation", "older_than", "newer_than", "verbose"),
        "show_chunks": ("relation", "older_than", "newer_than"),
        "add_compression_policy": ("hypertable", "compress_after", "if_not_exists", "schedule_interval"),
        "remove_compression_policy": ("hypertable", "if_exists"),
        "compress_chunk": ("uncompressed_chunk", "if_not_compressed"),
        "decompress_chunk": ("uncompressed_chunk", "if_compressed"),
        "add_continuous_aggregate_policy": (
            "continuous_aggregate",
            "start_offset",
            "end_offset",
            "schedule_interval",
            "if_not_exists",
        ),  # fmt: skip
        "remove_continuous_aggregate_policy": ("continuous_aggregate", "if_not_exists", "if_exists"),
        "add_reorder_policy": ("hypertable", "index_name", "if_not_exists", "initial_start", "timezone"),
        "remove_reorder_policy": ("hypertable", "if_exists"),
        "reorder_chunk": ("chunk", "index", "verbose"),
        "move_chunk": (
            "chunk",
            "destination_tablespace",
            "index_destination_tablespace",
            "reorder_index",
            "verbose",
        ),  # fmt: skip
        "alter_job": (
            "job_id",
            "schedule_interval",
            "max_runtime",
            "max_retries",
            "retry_period",
            "scheduled",
            "config",
            "next_start",
            "if_exists",
            "check_config",
            "fixed_schedule",
            "initial_start",
            "timezone",
        ),  # fmt: skip
        "delete_job": ("job_id",),
        "run_job": ("job_id",),
        "add_job": (
            "proc",
            "schedule_interval",
            "config",
            "initial_start",
            "scheduled",
            "check_config",
            "fixed_schedule",
            "timezone",
        ),  # fmt: skip
        "timescaledb_pre_restore": (),
        "timescaledb_post_restore": (),
        "add_columnstore_policy": (
            "hypertable",
            "after",
            "if_not_exists",
            "schedule_interval",
            "initial_start",
            "timezone",
            "created_before",
            "hypercore_use_access_method",
        ),  # fmt: skip
        "remove_columnstore_policy": ("hypertable", "if_exists"),
        "convert_to_columnstore": (
            "chunk",
            "if_not_columnstore",
            "recompress",
            "hypercore_use_access_method",
        ),
        "convert_to_rowstore": ("chunk", "if_columnstore"),
    }

    def __init__(self, session: SqlSession, call: exp.Anonymous, name: str) -> None:
        self.session, self.name = session, name
        pos, named = call_args(call)
        names = self.NAMES[name]
        if len(pos) > len(names):
            raise E.UndefinedFunction(f"function {name} with {len(pos)} arguments does not exist")
        self.given: dict[str, exp.Expression] = dict(zip(names, pos, strict=False))
        for k, v in named.items():
            if k not in names:
                raise E.UndefinedFunction(f'function {name} has no parameter named "{k}"')
            self.given[k] = v

    def has(self, key: str) -> bool:
        e = self.given.get(key)
        return e is not None and not isinstance(e, exp.Null)

    def expr(self, key: str) -> exp.Expression:
        if not self.has(key):
            raise E.InvalidParameterValue(f'invalid {self.name} argument: "{key}" cannot be NULL')
        return self.given[key]

    def relation(self, key: str) -> tuple[str, str]:
        """(schema, name) of a regclass argument ('name', 'schema.name', 'name'::regclass)."""
        e = self.expr(key)
        while isinstance(e, exp.Cast):
            e = e.this
        if not isinstance(e, exp.Literal | exp.Column | exp.Identifier):
            raise E.FeatureNotSupported(f"{self.name}: the relation must be given by its name")
        schema, _, name = e.name.rpartition(".")
        return schema.strip('"') or "public", name.strip('"')

    def flag(self, key: str) -> bool:
        return bool(self.value(key)) if self.has(key) else False

    def value(self, key: str) -> Any:
        got = self.session.query_arrow(exp.select(self.expr(key).copy()), [])
        return got.column(0)[0].as_py()

    def seconds(self, key: str) -> float:
        """An interval argument in seconds (a month is 30 days, as EXTRACT(EPOCH ...) counts it)."""
        return interval_seconds(self.session, self.expr(key))

    def time_ns(self, key: str, now_ns: int) -> int:
        """A bound that is an interval before now, or a time."""
        e = self.expr(key)
        if _is_interval(e):
            return now_ns - int(self.seconds(key) * NS_PER_S)
        found = self.session.evaluate_ns(e, [])
        if found is None:
            raise E.InvalidParameterValue(f"invalid {self.name} argument: {key} is not a time or an interval")
        return found


def interval_seconds(session: SqlSession, e: exp.Expression) -> float:
    """An interval (an expression, or its text) in seconds, a month counted as 30 days."""
    epoch = exp.Extract(this=exp.var("epoch"), expression=exp.cast(e.copy(), "INTERVAL"))
    return float(session.query_arrow(exp.select(epoch), []).column(0)[0].as_py())


def _is_interval(e: exp.Expression) -> bool:
    return isinstance(e, exp.Interval) or (
        isinstance(e, exp.Cast) and e.to.this == exp.DataType.Type.INTERVAL
    )


def _hypertable(session: SqlSession, schema: str, name: str) -> TableMeta:
    _rp, meta = resolve_table(session.storage, session.database, exp.table_(name, db=schema))
    if not is_hypertable(meta):
        raise E.NotAHypertable(f'table "{name}" is not a hypertable')
    return meta


def _policy(
    session: SqlSession, args: _Args, proc: str, what: str, relation: tuple[str, str], config: dict
) -> int:
    schema, name = relation
    found = jobs.find(session.storage, proc, session.database, schema, name)
    if found is not None:
        if args.flag("if_not_exists"):
            session.notice(E.ObjectExistsSkipping(f'{what} policy already exists for "{name}", skipping'))
            return -1
        raise E.DuplicateObject(f'{what} policy already exists for hypertable "{name}"')
    schedule = args.seconds("schedule_interval") if args.has("schedule_interval") else None
    return jobs.add(session.storage, proc, session.database, schema, name, config, schedule).id


def _remove(session: SqlSession, args: _Args, proc: str, what: str, key: str, flag: str) -> bool:
    schema, name = args.relation(key)
    if jobs.remove(session.storage, session.database, schema, name, proc):
        return True
    if args.flag(flag):
        session.notice(E.Notice_(f'{what} policy not found for "{name}", skipping'))
        return False
    raise E.UndefinedObject(f'{what} policy not found for hypertable "{name}"')


def _add_retention(session: SqlSession, args: _Args) -> int:
    relation = args.relation("relation")
    _hypertable(session, *relation)
    config = {"drop_after_s": args.seconds("drop_after")}
    return _policy(session, args, "policy_retention", "retention", relation, config)


def _add_compression(session: SqlSession, args: _Args) -> int:
    relation = args.relation("hypertable")
    meta = _hypertable(session, *relation)
    if not meta.options.get("compress"):
        raise E.FeatureNotSupported(f'compression not enabled on hypertable "{relation[1]}"')
    config = {"compress_after_s": args.seconds("compress_after")}
    return _policy(session, args, "policy_compression", "compression", relation, config)


def _add_columnstore(session: SqlSession, args: _Args) -> str:
    """TimescaleDB 2.18's name of a compression policy (CALL add_columnstore_policy(t, after => ...))."""
    relation = args.relation("hypertable")
    meta = _hypertable(session, *relation)
    if not meta.options.get("compress"):
        raise E.FeatureNotSupported(f'columnstore not enabled on hypertable "{relation[1]}"')
    if args.has("created_before"):
        raise E.FeatureNotSupported("add_columnstore_policy: created_before is not supported (use after)")
    config = {"compress_after_s": args.seconds("after")}
    _policy(session, args, "policy_compression", "columnstore", relation, config)
    return ""


def _remove_columnstore(session: SqlSession, args: _Args) -> str:
    _remove(session, args, "policy_compression", "columnstore", "hypertable", "if_exists")
    return ""


def _add_reorder(session: SqlSession, args: _Args) -> int:
    """A reorder policy: recorded and run with nothing to do (a chunk file's rows are in (series, time)
    order already); the index must exist on the hypertable."""
    relation = args.relation("hypertable")
    meta = _hypertable(session, *relation)
    index = str(args.value("index_name"))
    index_name = index.rpartition(".")[2].strip('"')
    if not any(
        f.name == index_name and f.meta.id == meta.id for f in indexes.in_schema(session, relation[0])
    ):
        raise E.UndefinedObject(f'invalid reorder index "{index_name}"')
    return _policy(session, args, "policy_reorder", "reorder", relation, {"index_name": index_name})


def _remove_reorder(session: SqlSession, args: _Args) -> str:
    _remove(session, args, "policy_reorder", "reorder", "hypertable", "if_exists")
    return ""


def _chunk_arg(session: SqlSession, args: _Args, key: str) -> str:
    """A chunk argument's name, which must be one of a hypertable's chunks (as show_chunks lists them)."""
    name = str(args.value(key))
    short = name.rpartition(".")[2].strip('"')
    m = re.fullmatch(r"_hyper_(\d+)_(\d+)_chunk", short)
    if m is not None:
        storage = session.storage
        for meta in storage.tables(session.database):  # (every schema's)
            if meta.id == int(m[1]) and is_hypertable(meta):
                if any(
                    chunk_name(meta, sh) == short
                    for sh, _ in table_chunks(storage.shards(session.database), meta)
                ):
                    return name
    raise E.UndefinedTable(f'relation "{name}" does not exist')


def _reorder_chunk(session: SqlSession, args: _Args) -> str:
    _chunk_arg(session, args, "chunk")  # (its rows are in (series, time) order already)
    return ""


def _move_chunk(session: SqlSession, args: _Args) -> str:
    """Only the tablespaces there are: pg_default (tsgres keeps every chunk in its data directory)."""
    _chunk_arg(session, args, "chunk")
    for key in ("destination_tablespace", "index_destination_tablespace"):
        if args.has(key):
            space = str(args.value(key)).strip('"')
            if space != "pg_default":
                raise E.UndefinedObject(f'tablespace "{space}" does not exist')
    return ""


def _job(session: SqlSession, args: _Args) -> jobs.Job | None:
    """The job of the call's job_id in this database (None: none, and if_exists said to skip it)."""
    job_id = args.value("job_id")
    job = jobs.by_id(session.storage, int(job_id)) if job_id is not None else None
    if job is None or job.database != session.database:
        if args.name == "alter_job" and args.flag("if_exists"):
            session.notice(E.Notice_(f"job {job_id} not found, skipping"))
            return None
        raise E.UndefinedObject(f"job {job_id} not found")
    return job


def _alter_job(session: SqlSession, args: _Args) -> str | None:
    """alter_job: the schedule, pause (scheduled => false), next start and config of a job; the job
    as its record (job_id, schedule_interval, max_runtime, max_retries, retry_period, scheduled,
    config, next_start, check_config, fixed_schedule, initial_start, timezone)."""
    job = _job(session, args)
    if job is None:
        return None
    changes: dict[str, Any] = {}
    for key, attr in (("schedule_interval", "schedule_s"), ("max_runtime", "max_runtime_s"),
                      ("retry_period", "retry_period_s")):  # fmt: skip
        if args.has(key):
            secs = args.seconds(key)
            if secs <= 0 and key == "schedule_interval":
                raise E.InvalidParameterValue("invalid schedule interval: it must be positive")
            changes[attr] = secs
    if args.has("max_retries"):
        changes["max_retries"] = int(args.value("max_retries"))
    if args.has("scheduled"):
        changes["scheduled"] = bool(args.value("scheduled"))
    if args.has("next_start"):
        changes["start_at_ns"] = args.time_ns("next_start", time.time_ns())
    if args.has("config"):
        changes["config"] = _job_config(session, job, args.value("config"))
    for key in ("check_config", "fixed_schedule", "initial_start", "timezone"):
        if args.has(key) and not (key == "fixed_schedule" and args.value(key) is False):
            raise E.FeatureNotSupported(f"alter_job: {key} is not supported")
    job = jobs.update(session.storage, job.id, **changes) or job
    return _job_record(session, job)


# a policy's config keys (jsonb, intervals as text) -> the job's (seconds)
_CONFIG_KEYS = {
    "policy_retention": {"drop_after": "drop_after_s"},
    "policy_compression": {"compress_after": "compress_after_s"},
    "policy_refresh_continuous_aggregate": {"start_offset": "start_offset", "end_offset": "end_offset"},
    "policy_reorder": {"index_name": "index_name"},
}


def _job_config(session: SqlSession, job: jobs.Job, raw: Any) -> dict:
    """alter_job's config (jsonb) as the job keeps it: its policy's keys, intervals in seconds."""
    try:
        doc = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError as e:
        raise E.InvalidTextRepresentation(f"invalid input syntax for type json: {e}") from None
    if not isinstance(doc, dict):
        raise E.InvalidParameterValue("invalid config: a JSON object is needed")
    if job.user_action:  # (its config is the procedure's, as given)
        return doc
    keys = _CONFIG_KEYS.get(job.proc, {})
    config = dict(job.config)
    for k, v in doc.items():
        if k == "hypertable_id":
            continue
        if k not in keys:
            raise E.InvalidParameterValue(f'invalid config for {job.proc}: unrecognized key "{k}"')
        if k == "index_name" or v is None:
            config[keys[k]] = v
            continue
        config[keys[k]] = interval_seconds(session, exp.Literal.string(str(v)))
    if job.proc == "policy_retention" and config.get("drop_after_s") is None:
        raise E.InvalidParameterValue('invalid config for policy_retention: "drop_after" is required')
    return config


def _job_record(session: SqlSession, job: jobs.Job) -> str:
    from sql.pgcatalog_timescale import interval_text, job_config

    table_id = None
    try:
        _rp, meta = resolve_table(session.storage, session.database, exp.table_(job.relation, db=job.schema))
        table_id = meta.id
    except E.SqlError:
        pass
    config = job_config(job, table_id)
    nxt = job.next_start_ns
    fields = [
        str(job.id),
        interval_text(job.schedule_s),
        interval_text(job.runtime_s),
        str(job.max_retries),
        interval_text(job.retry_s),
        "t" if job.scheduled else "f",
        json.dumps(config),
        None if nxt is None else _timestamptz_text(nxt),
        None if job.user_action else f"_timescaledb_functions.{job.proc}_check",
        "f",
        None,
        None,
    ]
    return record_text(fields)


def _timestamptz_text(ns: int) -> str:
    import datetime as dt

    t = dt.datetime.fromtimestamp(ns // NS_PER_S, dt.UTC).replace(microsecond=(ns % NS_PER_S) // 1000)
    return t.isoformat(sep=" ").replace("+00:00", "+00")


def record_text(fields: list[str | None]) -> str:
    """A composite value's text output: NULL as nothing, a field quoted when it is empty or holds a
    quote, backslash, comma, parenthesis or white space (quotes and backslashes doubled)."""
    out = []
    for f in fields:
        if f is None:
            out.append("")
        elif f == "" or re.search(r'[",()\\\s]', f):
            out.append('"' + f.replace("\\", "\\\\").replace('"', '""') + '"')
        else:
            out.append(f)
    return "(" + ",".join(out) + ")"


def _delete_job(session: SqlSession, args: _Args) -> str:
    job = _job(session, args)
    assert job is not None
    jobs.delete(session.storage, job.id)
    return ""


def _run_job(session: SqlSession, args: _Args) -> str:
    """CALL run_job(id): the job runs now, whether due or not, in this session."""
    job = _job(session, args)
    assert job is not None
    if not jobs.run(session.storage, job, action=lambda j: run_action(session, j)):
        err = (jobs.by_id(session.storage, job.id) or job).errors
        raise E.InternalError(f"job {job.id} failed: {err[-1]['message'] if err else 'unknown error'}")
    return ""


def _add_job(session: SqlSession, args: _Args) -> int:
    """add_job(proc, schedule_interval [, config, initial_start, scheduled]): a user-defined action,
    run by the server's loop every schedule_interval (first at initial_start, else at once) as
    ``CALL proc(job_id, config)`` (a function: ``SELECT proc(job_id, config)``), as this user."""
    from sql.user_functions import overloads

    schema, name = args.relation("proc")
    found = [
        f for f in overloads(session.storage.catalog, session.database, schema, name) if len(f.args) == 2
    ]
    if not found:
        raise E.UndefinedFunction(f"function or procedure {schema}.{name}(integer,jsonb) not found")
    schedule = args.seconds("schedule_interval")
    if schedule <= 0:
        raise E.InvalidParameterValue("invalid schedule interval: it must be positive")
    config = args.value("config") if args.has("config") else None
    if isinstance(config, str):
        try:
            config = json.loads(config)
        except ValueError as e:
            raise E.InvalidTextRepresentation(f"invalid input syntax for type json: {e}") from None
    if config is not None and not isinstance(config, dict):
        raise E.InvalidParameterValue("job config must be a JSON object")
    for key in ("check_config", "timezone"):
        if args.has(key):
            raise E.FeatureNotSupported(f"add_job: {key} is not supported")
    start = args.time_ns("initial_start", time.time_ns()) if args.has("initial_start") else None
    job = jobs.add(
        session.storage, name, session.database, schema, "", config, schedule,
        owner=session.user, function=found[0].kind != "p", start_at_ns=start,
        scheduled=bool(args.value("scheduled")) if args.has("scheduled") else True,
    )  # fmt: skip
    return job.id


def run_action(session: SqlSession, job: jobs.Job) -> None:
    """A user-defined action's run: its procedure called with the job's id and config, in ``session``."""
    config = (
        "NULL::jsonb" if job.config is None else "'" + json.dumps(job.config).replace("'", "''") + "'::jsonb"
    )
    target = f"{quote_ident(job.schema)}.{quote_ident(job.proc)}({job.id}, {config})"
    sql = f"SELECT {target}" if job.function else f"CALL {target}"
    result = session.execute(session.prepare(sql, []), [])
    for _ in result.batches:
        pass


def _restore(session: SqlSession, args: _Args) -> bool:
    """timescaledb_pre_restore / post_restore: nothing to stop or start around a restore (policy jobs
    run on the server's loop between statements); true, as TimescaleDB answers."""
    return True


def _add_refresh(session: SqlSession, args: _Args) -> int:
    relation = args.relation("continuous_aggregate")
    _continuous(session, *relation)
    config = {k: (args.seconds(k) if args.has(k) else None) for k in ("start_offset", "end_offset")}
    proc = "policy_refresh_continuous_aggregate"
    return _policy(session, args, proc, "continuous aggregate", relation, config)


def table_chunks(shards: list[Shard], meta: TableMeta) -> list[tuple[Shard, TableStats]]:
    """The table's chunks: those of the database's ``shards`` (time partitions) in its retention
    policy that hold rows of it, with what they hold (timescaledb_information.chunks and the size
    functions list the same)."""
    out = []
    for shard in shards:
        if shard.meta.rp != meta.rp:
            continue
        stats = shard.table_stats(meta.id, meta.name)
        if stats.holds:
            out.append((shard, stats))
    return out


def chunk_name(meta: TableMeta, shard: Shard) -> str:
    return f"_hyper_{meta.id}_{shard.meta.id}_chunk"


def _chunks(session: SqlSession, meta: TableMeta, lo: int | None, hi: int | None) -> list[str]:
    """Names of the chunks holding rows of the table lying wholly in [lo, hi)."""
    out = []
    for shard, _stats in table_chunks(session.storage.shards(session.database), meta):
        if (hi is not None and shard.meta.end_ns > hi) or (lo is not None and shard.meta.start_ns < lo):
            continue
        out.append(f"{CHUNK_SCHEMA}.{chunk_name(meta, shard)}")
    return out


def _bounds(args: _Args) -> tuple[int | None, int | None]:
    now = time.time_ns()
    hi = args.time_ns("older_than", now) if args.has("older_than") else None
    lo = args.time_ns("newer_than", now) if args.has("newer_than") else None
    return lo, hi


def _show_chunks(session: SqlSession, args: _Args) -> list[str]:
    schema, name = args.relation("relation")
    lo, hi = _bounds(args)
    return _chunks(session, _hypertable(session, schema, name), lo, hi)


def _drop_chunks(session: SqlSession, args: _Args) -> list[str]:
    schema, name = args.relation("relation")
    meta = _hypertable(session, schema, name)
    lo, hi = _bounds(args)
    if hi is None and lo is None:
        raise E.InvalidParameterValue("invalid drop_chunks argument: older_than or newer_than is required")
    dropped = jobs.drop_chunks(session.storage, session.database, schema, meta.name, lo, hi)
    return [f"{CHUNK_SCHEMA}.{chunk_name(meta, shard)}" for shard in dropped]


def _set_chunk_interval(session: SqlSession, args: _Args) -> str:
    schema, name = args.relation("hypertable")
    meta = _hypertable(session, schema, name)
    opts = dict(meta.options)
    interval = args.expr("chunk_time_interval")
    opts["chunk_time_interval"] = interval.sql("postgres")
    ddl.set_shard_duration(session, meta.rp, meta.column(meta.time_column), interval)
    session.storage.catalog.set_table_options(meta.id, meta.time_column, opts)
    session.storage.invalidate_tables()
    return ""


def _add_dimension(session: SqlSession, args: _Args) -> str:
    """Space partitioning (by_hash / by_range on another column): every tag is indexed already, so
    there is nothing to change; TimescaleDB's result row as text."""
    schema, name = args.relation("hypertable")
    meta = _hypertable(session, schema, name)
    dim = args.expr("dimension")
    column = dim.expressions[0] if isinstance(dim, exp.Anonymous) and dim.expressions else dim
    if meta.column(column.name) is None:
        raise E.UndefinedColumn(f'column "{column.name}" does not exist')
    return f"(2,{schema},{name},{column.name},t)"


def _chunk_name(session: SqlSession, args: _Args) -> str:
    """compress_chunk & co.: the chunk. Every chunk file is compressed columnar already; compressing
    writes the rows still in memory to chunk files (a flush), after which the chunk counts as
    compressed (timescaledb_information.chunks, chunk_compression_stats)."""
    name = _chunk_arg(session, args, "chunk" if args.name.startswith("convert_") else "uncompressed_chunk")
    if args.name in ("compress_chunk", "convert_to_columnstore"):
        session.storage.flush()
    return name


def _remove_retention(session: SqlSession, args: _Args) -> str:
    _remove(session, args, "policy_retention", "retention", "relation", "if_exists")
    return ""  # (void)


def _remove_compression(session: SqlSession, args: _Args) -> bool:
    return _remove(session, args, "policy_compression", "compression", "hypertable", "if_exists")


def _remove_refresh(session: SqlSession, args: _Args) -> str:
    flag = "if_exists" if args.has("if_exists") else "if_not_exists"  # (TimescaleDB 2.x's old name)
    _remove(
        session,
        args,
        "policy_refresh_continuous_aggregate",
        "continuous aggregate",
        "continuous_aggregate",
        flag,
    )
    return ""


_HANDLERS: dict[str, Callable[[SqlSession, _Args], Any]] = {
    "set_chunk_time_interval": _set_chunk_interval,
    "add_dimension": _add_dimension,
    "add_retention_policy": _add_retention,
    "remove_retention_policy": _remove_retention,
    "drop_chunks": _drop_chunks,
    "show_chunks": _show_chunks,
    "add_compression_policy": _add_compression,
    "remove_compression_policy": _remove_compression,
    "compress_chunk": _chunk_name,
    "decompress_chunk": _chunk_name,
    "add_continuous_aggregate_policy": _add_refresh,
    "remove_continuous_aggregate_policy": _remove_refresh,
    "add_reorder_policy": _add_reorder,
    "remove_reorder_policy": _remove_reorder,
    "reorder_chunk": _reorder_chunk,
    "move_chunk": _move_chunk,
    "alter_job": _alter_job,
    "delete_job": _delete_job,
    "run_job": _run_job,
    "add_job": _add_job,
    "timescaledb_pre_restore": _restore,
    "timescaledb_post_restore": _restore,
    "add_columnstore_policy": _add_columnstore,
    "remove_columnstore_policy": _remove_columnstore,
    "convert_to_columnstore": _chunk_name,
    "convert_to_rowstore": _chunk_name,
}


# -- statements sqlglot does not parse (or the engine does not know) ------------------------------------------
_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
_QUALIFIED = rf"(?P<name>{_IDENT}(?:\s*\.\s*{_IDENT})?)"
_CREATE_CAGG = re.compile(
    rf"^\s*CREATE\s+MATERIALIZED\s+VIEW\s+(?P<ine>IF\s+NOT\s+EXISTS\s+)?{_QUALIFIED}\s*"
    r"(?P<cols>\([^)]*\))?\s*WITH\s*\((?P<opts>[^)]*)\)\s*AS\s+(?P<query>.*?)"
    r"(?:\s+WITH\s+(?P<no>NO\s+)?DATA)?\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_ALTER_CAGG = re.compile(
    rf"^\s*ALTER\s+MATERIALIZED\s+VIEW\s+{_QUALIFIED}\s+SET\s*\((?P<opts>[^)]*)\)\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_DROP_CAGG = re.compile(
    rf"^\s*DROP\s+MATERIALIZED\s+VIEW\s+(?P<ie>IF\s+EXISTS\s+)?{_QUALIFIED}\s*(?:CASCADE|RESTRICT)?\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_CALL = re.compile(
    r"^\s*CALL\s+(?:public\.)?(?P<proc>" + "|".join(sorted(PROCEDURES)) + r")\s*\((?P<args>.*)\)\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_COMPRESS = re.compile(
    rf"^\s*ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?{_QUALIFIED}\s+SET\s*\((?P<opts>\s*(?:timescaledb|tsdb)\..*)\)\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_CREATE_TABLE = re.compile(
    rf"^\s*CREATE\s+(?:UNLOGGED\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?{_QUALIFIED}\s*\(",
    re.IGNORECASE | re.DOTALL,
)
_WITH_TAIL = re.compile(r"\s*WITH\s*\((?P<opts>.*)\)\s*;?\s*$", re.IGNORECASE | re.DOTALL)
STATEMENTS = (
    ("CREATE TABLE", _CREATE_TABLE),
    ("CREATE MATERIALIZED VIEW", _CREATE_CAGG),
    ("ALTER MATERIALIZED VIEW", _ALTER_CAGG),
    ("DROP MATERIALIZED VIEW", _DROP_CAGG),
    ("CALL", _CALL),
    ("ALTER TABLE", _COMPRESS),
)


def statement(sql: str) -> str | None:
    """The command tag of a statement this module runs from its text, else None."""
    for tag, pattern in STATEMENTS:
        if pattern.match(sql) and (tag != "CREATE TABLE" or split_create_table(sql) is not None):
            return tag
    return None


def run_statement(session: SqlSession, sql: str) -> Result:
    for tag, pattern in STATEMENTS:
        m = pattern.match(sql)
        if m is not None and (tag != "CREATE TABLE" or split_create_table(sql) is not None):
            return _STATEMENT_RUNNERS[tag](session, m)
    raise E.FeatureNotSupported("not a TimescaleDB statement")


def _split_name(text: str) -> tuple[str, str]:
    parts = [p.strip().strip('"') for p in re.split(r"\s*\.\s*", text.strip())]
    return (parts[0], parts[1]) if len(parts) == 2 else ("public", parts[0])


_OPTION = re.compile(r"""\s*(?P<key>[A-Za-z_][\w.]*)\s*(?:=\s*(?P<value>'(?:[^']|'')*'|[^,]*?))?\s*(?:,|$)""")
_PREFIXES = ("timescaledb.", "tsdb.")  # (TimescaleDB 2.19 reads tsdb. as timescaledb.)


def option_items(text: str) -> list[tuple[str, str | None]]:
    """The ``key [= value]`` items of a WITH (...) list, quoted values unquoted (None: no value)."""
    out = []
    at = 0
    text = text.strip()
    while at < len(text):
        m = _OPTION.match(text, at)
        if m is None or m.end() == at:
            raise E.SyntaxError_(
                f'syntax error at or near "{text[at : at + 20].split()[0] if text[at:].split() else text}"'
            )
        value = m["value"]
        if value is not None and value.startswith("'"):
            value = value[1:-1].replace("''", "'")
        out.append((m["key"], value))
        at = m.end()
    return out


def _options(text: str) -> dict[str, str]:
    """``timescaledb.continuous, timescaledb.materialized_only = true`` -> {continuous: "true", ...}."""
    out = {}
    for key, value in option_items(text):
        key = key.lower()
        prefix = next((p for p in _PREFIXES if key.startswith(p)), None)
        if prefix is None:
            raise E.FeatureNotSupported(f'unrecognized parameter "{key}"')
        v = (value or "").strip()
        out[key[len(prefix) :]] = v.lower() if v.lower() in ("true", "false", "on", "off") else v or "true"
    return out


def continuous_aggregate(catalog: Catalog, database: str, schema: str, name: str) -> dict | None:
    """The options of the continuous aggregate (None: the view is not one)."""
    raw = catalog.get_meta(_CAGG.format(ddl.view_key(database, schema, name)))
    return None if raw is None else json.loads(raw)


def _continuous(session: SqlSession, schema: str, name: str) -> dict:
    found = continuous_aggregate(session.storage.catalog, session.database, schema, name)
    if found is None:
        raise E.UndefinedTable(f'continuous aggregate "{name}" does not exist')
    return found


def _create_cagg(session: SqlSession, m: re.Match) -> Result:
    schema, name = _split_name(m["name"])
    opts = _options(m["opts"])
    if opts.get("continuous") not in ("true", "on", "1"):
        raise E.FeatureNotSupported(
            "materialized views other than TimescaleDB continuous aggregates are not supported"
        )
    key = ddl.view_key(session.database, schema, name)
    storage = session.storage
    if storage.catalog.get_meta(key) is not None:
        if m["ine"]:
            session.notice(E.ExistsSkipping(f'continuous aggregate "{name}" already exists, skipping'))
            return Result(None, tag="CREATE MATERIALIZED VIEW")
        raise E.DuplicateTable(f'relation "{name}" already exists')
    query = m["query"]
    if "time_bucket" not in query.lower():
        raise E.FeatureNotSupported(
            "invalid continuous aggregate query: continuous aggregate view must include a valid time bucket function"
        )
    cols = m["cols"]
    view = f"CREATE VIEW {m['name']} {cols or ''} AS {query}"
    create = parse(view)
    assert isinstance(create, exp.Create)
    ddl.create_other(session, create)
    opts.pop("continuous", None)
    storage.catalog.set_meta(_CAGG.format(key), json.dumps(opts))
    return Result(None, tag="CREATE MATERIALIZED VIEW")


def _alter_cagg(session: SqlSession, m: re.Match) -> Result:
    schema, name = _split_name(m["name"])
    opts = {**_continuous(session, schema, name), **_options(m["opts"])}
    key = _CAGG.format(ddl.view_key(session.database, schema, name))
    session.storage.catalog.set_meta(key, json.dumps(opts))
    return Result(None, tag="ALTER MATERIALIZED VIEW")


def _drop_cagg(session: SqlSession, m: re.Match) -> Result:
    schema, name = _split_name(m["name"])
    key = ddl.view_key(session.database, schema, name)
    storage = session.storage
    if storage.catalog.get_meta(_CAGG.format(key)) is None:
        if m["ie"]:
            session.notice(E.Notice_(f'materialized view "{name}" does not exist, skipping'))
            return Result(None, tag="DROP MATERIALIZED VIEW")
        raise E.UndefinedTable(f'materialized view "{name}" does not exist')
    storage.catalog.set_meta(key, None)
    storage.catalog.set_meta(_CAGG.format(key), None)
    comments.view_dropped(session, schema, name)
    jobs.remove(storage, session.database, schema, name)
    return Result(None, tag="DROP MATERIALIZED VIEW")


def _call(session: SqlSession, m: re.Match) -> Result:
    """CALL of one of TimescaleDB's procedures (PROCEDURES): its arguments read as a call's."""
    proc = m["proc"].lower()
    if proc == "refresh_continuous_aggregate":
        return _refresh(session, m)
    tree = parse(f"SELECT {proc}({m['args']})")
    call = tree.expressions[0] if isinstance(tree, exp.Select) and tree.expressions else None
    if not isinstance(call, exp.Anonymous):
        raise E.SyntaxError_(f'syntax error at or near "{proc}"')
    _HANDLERS[proc](session, _Args(session, call, proc))
    return Result(None, tag="CALL")


def _refresh(session: SqlSession, m: re.Match) -> Result:
    first = m["args"].split(",")[0].strip()
    while "::" in first:
        first = first.rsplit("::", 1)[0].strip()
    schema, name = _split_name(first.strip("'"))
    _continuous(session, schema, name)  # (exists: there is nothing to refresh, it is always up to date)
    return Result(None, tag="CALL")


# compression (columnstore) settings: TimescaleDB 2.18's names -> the ones kept in the table's options
_COMPRESSION_KEYS = {
    "compress": "compress",
    "enable_columnstore": "compress",
    "compress_segmentby": "compress_segmentby",
    "segmentby": "compress_segmentby",
    "compress_orderby": "compress_orderby",
    "orderby": "compress_orderby",
    "compress_chunk_time_interval": "compress_chunk_time_interval",
    "compress_index": "sparse_index",
    "sparse_index": "sparse_index",
}


def _compression_options(meta: TableMeta, given: dict[str, str]) -> dict:
    """The table's options with compression (columnstore) settings ``given`` (names without prefix)."""
    opts = dict(meta.options)
    columns = {c.name for c in meta.columns}
    for k, v in given.items():
        key = _COMPRESSION_KEYS.get(k)
        if key is None:
            raise E.FeatureNotSupported(f'unrecognized parameter "timescaledb.{k}"')
        if key in ("compress_segmentby", "compress_orderby"):
            for item in filter(None, (i.strip() for i in v.split(","))):
                name = item.split()[0].strip('"')
                if name not in columns:
                    raise E.UndefinedColumn(f'column "{name}" does not exist')
        opts[key] = v if key != "compress" else v in ("true", "on", "1")
    return opts


def _alter_compress(session: SqlSession, m: re.Match) -> Result:
    schema, name = _split_name(m["name"])
    meta = _hypertable(session, schema, name)
    opts = _compression_options(meta, _options(m["opts"]))
    session.storage.catalog.set_table_options(meta.id, meta.time_column, opts)
    session.storage.invalidate_tables()
    return Result(None, tag="ALTER TABLE")


# -- CREATE TABLE ... WITH (tsdb.hypertable, ...): TimescaleDB 2.19's way to make a hypertable --------
_TABLE_KEYS = ("hypertable", "partition_column", "chunk_interval", "create_default_indexes",
               "associated_schema", "associated_table_prefix")  # fmt: skip


def _close_paren(sql: str, at: int) -> int:
    """The index of the parenthesis closing the one at ``at - 1`` (quotes skipped), or -1."""
    depth, i = 1, at
    while i < len(sql):
        ch = sql[i]
        if ch in "'\"":
            end = sql.find(ch, i + 1)
            while end != -1 and sql[end + 1 : end + 2] == ch:  # a doubled quote
                end = sql.find(ch, end + 2)
            if end == -1:
                return -1
            i = end
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def split_create_table(sql: str) -> tuple[str, str, str] | None:
    """(the CREATE TABLE without its TimescaleDB options, its table name, those options' text) of a
    CREATE TABLE ending in WITH (...) that names timescaledb.* or tsdb.* options; else None. The
    other storage parameters stay in the statement."""
    m = _CREATE_TABLE.match(sql)
    if m is None:
        return None
    close = _close_paren(sql, m.end())
    if close == -1:
        return None
    tail = _WITH_TAIL.match(sql, close + 1)
    if tail is None or not re.search(r"\b(?:timescaledb|tsdb)\.", tail["opts"], re.IGNORECASE):
        return None
    ours, theirs = [], []
    for key, value in option_items(tail["opts"]):
        text = key if value is None else f"{key} = '{value.replace(chr(39), chr(39) * 2)}'"
        (ours if key.lower().startswith(_PREFIXES) else theirs).append(text)
    plain = sql[: close + 1] + (f" WITH ({', '.join(theirs)})" if theirs else "")
    return plain, m["name"], ", ".join(ours)


def _create_table(session: SqlSession, m: re.Match) -> Result:
    split = split_create_table(m.string)
    assert split is not None
    plain, name, text = split
    opts = _options(text)
    hyper = opts.pop("hypertable", "false") in ("true", "on", "1")
    table_opts = {k: opts.pop(k) for k in _TABLE_KEYS if k in opts}
    if not hyper:
        if table_opts or opts:
            raise E.FeatureNotSupported(
                "timescaledb options need timescaledb.hypertable: the table is not a hypertable"
            )
        return ddl.create_table(session, _parsed_create(plain), plain)
    tree = _parsed_create(plain)
    schema, table = _split_name(name)
    columns = [(c.name, c.args.get("kind")) for c in tree.this.expressions if isinstance(c, exp.ColumnDef)]
    partition = table_opts.get("partition_column")
    if partition is None:  # the first timestamp column, as TimescaleDB picks it
        partition = next(
            (c for c, kind in columns if kind is not None and kind.this in _TIMESTAMP_TYPES), None
        )
        if partition is None:
            raise E.InvalidTableDefinition(
                "partition column could not be determined",
                hint="Use tsdb.partition_column to name the column to partition by.",
            )
    elif partition not in {c for c, _ in columns}:
        raise E.UndefinedColumn(f'column "{partition}" does not exist')
    given = {k: v for k, v in opts.items() if k in _COMPRESSION_KEYS}
    unknown = sorted(set(opts) - set(given))
    if unknown:
        raise E.FeatureNotSupported(f'unrecognized parameter "timescaledb.{unknown[0]}"')
    try:
        resolve_table(session.storage, session.database, exp.table_(table, db=schema))
        existed = True
    except E.SqlError:
        existed = False
    created = ddl.create_table(session, tree, plain)
    if existed:
        return created  # (IF NOT EXISTS of a table there is, which says so: nothing else changes)
    try:
        _make_hypertable(session, schema, table, partition, table_opts, given)
    except BaseException:  # (not expected: what it checks was checked above) no table half made
        session.storage.drop_table(session.database, table, rp=None if schema == "public" else schema)
        session.storage.invalidate_tables()
        raise
    return created


def _make_hypertable(
    session: SqlSession, schema: str, table: str, partition: str, table_opts: dict, given: dict
) -> None:
    dim = f"by_range({_sql_literal(partition)}"
    interval = table_opts.get("chunk_interval")
    if interval is not None:
        dim += f", {interval if interval.isdigit() else 'INTERVAL ' + _sql_literal(interval)}"
    extra = ""
    if table_opts.get("create_default_indexes", "true") in ("false", "off", "0"):
        extra = ", create_default_indexes => false"
    call = management_call(
        parse(f"SELECT create_hypertable({_sql_literal(schema + '.' + table)}, {dim}){extra})")
    )
    assert call is not None
    ddl.create_hypertable(session, call)
    if given.get("enable_columnstore", given.get("compress", "true")) not in ("true", "on", "1"):
        return
    meta = _hypertable(session, schema, table)
    settings = _compression_options(meta, {"compress": "true", **given})
    session.storage.catalog.set_table_options(meta.id, meta.time_column, settings)
    session.storage.invalidate_tables()
    # its columnstore policy: chunks older than one chunk interval (TimescaleDB's default)
    after = _chunk_seconds(session, interval)
    jobs.add(
        session.storage, "policy_compression", session.database, schema, table, {"compress_after_s": after}
    )


_TIMESTAMP_TYPES = (exp.DataType.Type.TIMESTAMPTZ, exp.DataType.Type.TIMESTAMP, exp.DataType.Type.DATE,
                    exp.DataType.Type.TIMESTAMPLTZ)  # fmt: skip


def _parsed_create(sql: str) -> exp.Create:
    tree = parse(sql)
    assert isinstance(tree, exp.Create)
    return tree


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _chunk_seconds(session: SqlSession, interval: str | None) -> float:
    """A chunk interval option in seconds (7 days when not given; an integer: microseconds)."""
    if interval is None:
        return 7 * 86_400.0
    if interval.isdigit():
        return int(interval) / 1e6
    return interval_seconds(session, exp.Literal.string(interval))


_STATEMENT_RUNNERS: dict[str, Callable[[SqlSession, re.Match], Result]] = {
    "CREATE TABLE": _create_table,
    "CREATE MATERIALIZED VIEW": _create_cagg,
    "ALTER MATERIALIZED VIEW": _alter_cagg,
    "DROP MATERIALIZED VIEW": _drop_cagg,
    "CALL": _call,
    "ALTER TABLE": _alter_compress,
}
