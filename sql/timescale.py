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

import json
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlglot import exp

from retention import jobs
from sql import comments, ddl
from sql import errors as E
from sql.binder import resolve_table
from sql.parse import parse
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
}


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


def describe(call: exp.Anonymous) -> list[ColumnDesc]:
    name = function_name(call)
    return [ColumnDesc(name, BY_NAME[CALLS[name][0]].oid)]


def run_call(session: SqlSession, call: exp.Anonymous) -> Result:
    name = function_name(call)
    if name == "create_hypertable":
        return ddl.create_hypertable(session, call)
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
        e = exp.Extract(
            this=exp.var("epoch"),
            expression=exp.Cast(this=self.expr(key).copy(), to=exp.DataType.build("INTERVAL")),
        )
        got = self.session.query_arrow(exp.select(e), [])
        return float(got.column(0)[0].as_py())

    def time_ns(self, key: str, now_ns: int) -> int:
        """A bound that is an interval before now, or a time."""
        e = self.expr(key)
        if _is_interval(e):
            return now_ns - int(self.seconds(key) * NS_PER_S)
        found = self.session.evaluate_ns(e, [])
        if found is None:
            raise E.InvalidParameterValue(f"invalid {self.name} argument: {key} is not a time or an interval")
        return found


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
    dropped = _chunks(session, meta, lo, hi)
    jobs.delete_rows(session.storage, session.database, schema, meta.name, lo, hi)
    return dropped


def _set_chunk_interval(session: SqlSession, args: _Args) -> str:
    schema, name = args.relation("hypertable")
    meta = _hypertable(session, schema, name)
    opts = dict(meta.options)
    opts["chunk_time_interval"] = args.expr("chunk_time_interval").sql("postgres")
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
    return str(args.value("uncompressed_chunk"))


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
_REFRESH = re.compile(
    r"^\s*CALL\s+(?:public\.)?refresh_continuous_aggregate\s*\((?P<args>.*)\)\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_COMPRESS = re.compile(
    rf"^\s*ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?{_QUALIFIED}\s+SET\s*\((?P<opts>\s*timescaledb\..*)\)\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
STATEMENTS = (
    ("CREATE MATERIALIZED VIEW", _CREATE_CAGG),
    ("ALTER MATERIALIZED VIEW", _ALTER_CAGG),
    ("DROP MATERIALIZED VIEW", _DROP_CAGG),
    ("CALL", _REFRESH),
    ("ALTER TABLE", _COMPRESS),
)


def statement(sql: str) -> str | None:
    """The command tag of a statement this module runs from its text, else None."""
    for tag, pattern in STATEMENTS:
        if pattern.match(sql):
            return tag
    return None


def run_statement(session: SqlSession, sql: str) -> Result:
    for tag, pattern in STATEMENTS:
        m = pattern.match(sql)
        if m is not None:
            return _STATEMENT_RUNNERS[tag](session, m)
    raise E.FeatureNotSupported("not a TimescaleDB statement")


def _split_name(text: str) -> tuple[str, str]:
    parts = [p.strip().strip('"') for p in re.split(r"\s*\.\s*", text.strip())]
    return (parts[0], parts[1]) if len(parts) == 2 else ("public", parts[0])


def _options(text: str) -> dict[str, str]:
    """``timescaledb.continuous, timescaledb.materialized_only = true`` -> {continuous: "true", ...}."""
    out = {}
    for item in filter(None, (i.strip() for i in text.split(","))):
        key, _, value = item.partition("=")
        key = key.strip().lower()
        if not key.startswith("timescaledb."):
            raise E.FeatureNotSupported(f'unrecognized parameter "{key}"')
        out[key[len("timescaledb.") :]] = value.strip().strip("'").lower() or "true"
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


def _refresh(session: SqlSession, m: re.Match) -> Result:
    first = m["args"].split(",")[0].strip()
    while "::" in first:
        first = first.rsplit("::", 1)[0].strip()
    schema, name = _split_name(first.strip("'"))
    _continuous(session, schema, name)  # (exists: there is nothing to refresh, it is always up to date)
    return Result(None, tag="CALL")


def _alter_compress(session: SqlSession, m: re.Match) -> Result:
    schema, name = _split_name(m["name"])
    meta = _hypertable(session, schema, name)
    opts = dict(meta.options)
    for k, v in _options(m["opts"]).items():
        if k not in ("compress", "compress_segmentby", "compress_orderby", "compress_chunk_time_interval"):
            raise E.FeatureNotSupported(f'unrecognized parameter "timescaledb.{k}"')
        opts[k] = v if k != "compress" else v in ("true", "on", "1")
    session.storage.catalog.set_table_options(meta.id, meta.time_column, opts)
    session.storage.invalidate_tables()
    return Result(None, tag="ALTER TABLE")


_STATEMENT_RUNNERS: dict[str, Callable[[SqlSession, re.Match], Result]] = {
    "CREATE MATERIALIZED VIEW": _create_cagg,
    "ALTER MATERIALIZED VIEW": _alter_cagg,
    "DROP MATERIALIZED VIEW": _drop_cagg,
    "CALL": _refresh,
    "ALTER TABLE": _alter_compress,
}
