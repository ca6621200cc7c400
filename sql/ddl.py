"""DDL: CREATE/DROP/ALTER TABLE, TRUNCATE, CREATE INDEX, databases, schemas, views, extensions and
TimescaleDB's create_hypertable, mapped onto the storage catalog.

How a SQL table maps onto storage:
- time column: the column given to create_hypertable, else the first NOT NULL timestamp(tz) column,
  else the first timestamp(tz) column; a table without one gets a hidden row-time column.
- tags (the series key, indexed): text-like columns and the non-time columns of a PRIMARY KEY or
  UNIQUE constraint, unless ``WITH (tags = 'a,b')`` names them explicitly (``tags = ''``: none).
  A table with a key over the time column has that key's other columns as its tags, and no more:
  its text columns outside the key are string fields (a row is one (tags, time), see below).
- duplicate rows: kept, as PostgreSQL keeps them, unless a PRIMARY KEY / UNIQUE constraint
  covers the time column; then the last write of a (tags, time) wins (ON CONFLICT DO UPDATE).
- every column keeps its declared type for clients, whatever storage widens it to.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pyarrow as pa
from sqlglot import exp

from columnar.errors import DatabaseExists, StorageError
from retention import continuous, jobs
from sql import (
    column_defaults,
    comments,
    constraints,
    enums,
    foreign_keys,
    generated,
    identity,
    indexes,
    roles,
    sequences,
    temp_tables,
    view_renames,
)
from sql import errors as E
from sql import types as pgt
from sql.session import ColumnDesc, Result
from sql.tables import HIDDEN_TIME, length_limit, sql_columns

if TYPE_CHECKING:
    from sql.engine import SqlSession

_TEXTLIKE = {"text", "varchar", "bpchar", "name"}
_TIMELIKE = {"timestamp", "timestamptz"}


def _declared(kind: exp.Expression | None) -> str:
    if kind is None:
        raise E.SyntaxError_("column type is required")
    return kind.sql("postgres").lower()


def _rp_of(table: exp.Table) -> str | None:
    schema = table.db or ""
    return None if schema in ("", "public") else schema


def create_table(session: SqlSession, tree: exp.Create, sql: str = "") -> Result:
    if tree.args.get("expression") is not None:
        return create_table_as(session, tree, sql)
    schema = tree.this
    if not isinstance(schema, exp.Schema):
        raise E.SyntaxError_("syntax error at end of input")
    table: exp.Table = schema.this
    temporary = temp_tables.on_commit(tree, sql)
    storage, database = session.storage, session.database
    if temporary is not None:  # (its name was qualified with the session's pg_temp_N at prepare)
        table.set("db", exp.to_identifier(temp_tables.ensure_schema(session)))
    rp = _rp_of(table)
    try:
        rpm = storage.catalog.retention_policy(database, rp)
    except StorageError:
        raise E.UndefinedObject(f'schema "{table.db}" does not exist') from None
    taken = sequences.exists(session, table.db or "public", table.name)  # (one namespace)
    if taken or storage.table(rpm.database_id, rpm.name, table.name) is not None:
        if tree.args.get("exists"):
            session.notice(E.ExistsSkipping(f'relation "{table.name}" already exists, skipping'))
            return Result(None, tag="CREATE TABLE")
        raise E.DuplicateTable(f'relation "{table.name}" already exists')
    cols: list[tuple[str, str, pgt.PgType, bool]] = []  # name, declared, type, not null
    enum_columns: dict[str, dict] = {}  # sql/enums.py
    keys: list[list[str]] = []
    defaults: dict[str, dict] = {}  # sql/column_defaults.py
    texts = iter(column_defaults.source_texts(sql))  # the DEFAULT clauses as written, in order
    primary: list[str] = []  # the PRIMARY KEY among keys (pg_catalog tells it from UNIQUE)
    checks: list[dict] = []  # sql/constraints.py
    references: list[tuple] = []  # (columns, REFERENCES ..., name): sql/foreign_keys.py
    identities = 0  # identity columns so far (their option texts are in the tree's meta, in order)
    generations: dict[str, dict] = {}  # GENERATED ALWAYS AS (...) STORED (sql/generated.py)
    for e in schema.expressions:
        if isinstance(e, exp.ColumnDef):
            declared, t = _column_type(session, _declared(e.args.get("kind")), e.name, enum_columns)
            kinds = [c.args.get("kind") for c in e.args.get("constraints") or []]
            if declared.endswith("serial") or declared in ("serial2", "serial4", "serial8"):
                seq = f"{table.name}_{e.name}_seq"
                defaults[e.name] = {"seq": seq}
            spec = next((k for k in kinds if isinstance(k, exp.GeneratedAsIdentityColumnConstraint)), None)
            if spec is not None:  # GENERATED {ALWAYS | BY DEFAULT} AS IDENTITY: an owned sequence too
                option_texts = tree.meta.get(identity.OPTIONS_META) or []
                option_text = option_texts[identities] if identities < len(option_texts) else ""
                identities += 1
                defaults[e.name] = identity.default_of(table.name, e.name, declared, spec, option_text)
            g = generated.of_column(e)
            if g is not None:
                generations[e.name] = g
            for k in kinds:
                if isinstance(k, exp.DefaultColumnConstraint):
                    d = column_defaults.of_node(k.this, next(texts, None), declared)
                    if d is not None:
                        defaults[e.name] = d
            not_null = any(
                isinstance(k, exp.PrimaryKeyColumnConstraint)
                or (
                    isinstance(k, exp.NotNullColumnConstraint) and not k.args.get("allow_null")
                )  # (`c int NULL`)
                for k in kinds
            ) or "identity" in defaults.get(e.name, {})
            if any(isinstance(k, exp.PrimaryKeyColumnConstraint | exp.UniqueColumnConstraint) for k in kinds):
                keys.append([e.name])
            if any(isinstance(k, exp.PrimaryKeyColumnConstraint) for k in kinds):
                primary = [e.name]
            for c in e.args.get("constraints") or []:
                name = c.this.name if isinstance(c.this, exp.Identifier) else None
                if isinstance(c.args.get("kind"), exp.CheckColumnConstraint):
                    checks.append(constraints.check(c.args["kind"].this, name, table.name, checks))
                elif isinstance(c.args.get("kind"), exp.Reference):
                    references.append(([e.name], c.args["kind"], name))
            if e.name in [c[0] for c in cols]:
                raise E.DuplicateColumn(f'column "{e.name}" specified more than once')
            cols.append((e.name, declared, t, not_null))
        elif isinstance(e, exp.LikeProperty):  # LIKE source [INCLUDING DEFAULTS | ALL ...]
            for name, declared, t, not_null, default in _like_columns(session, e, enum_columns):
                if name in [c[0] for c in cols]:
                    raise E.DuplicateColumn(f'column "{name}" specified more than once')
                cols.append((name, declared, t, not_null))
                if default is not None:
                    defaults[name] = default
        else:  # table constraints, named (CONSTRAINT x ...) or not
            name = e.this.name if isinstance(e, exp.Constraint) else None
            for item in e.expressions if isinstance(e, exp.Constraint) else [e]:
                if isinstance(item, exp.PrimaryKey | exp.UniqueColumnConstraint):
                    names = _key_columns(item)
                    keys.append(names)
                    if isinstance(item, exp.PrimaryKey):
                        primary = names
                elif isinstance(item, exp.CheckColumnConstraint):
                    checks.append(constraints.check(item.this, name, table.name, checks))
                elif isinstance(item, exp.ForeignKey):
                    references.append(([i.name for i in item.expressions], item.args["reference"], name))
    fks: list[dict] = []
    for columns, ref, name in references:
        fks.append(
            foreign_keys.of_reference(
                session, table.name, columns, ref, name, fks, keys, [c[0] for c in cols]
            )
        )
    # a PRIMARY KEY's columns are NOT NULL
    cols = [(n, d, t, nn or n in primary) for n, d, t, nn in cols]
    for c in checks:
        unknown = [x.name for x in exp.maybe_parse(c["sql"], dialect="postgres").find_all(exp.Column)]
        missing = next((x for x in unknown if x not in {col[0] for col in cols}), None)
        if missing is not None:
            raise E.UndefinedColumn(f'column "{missing}" does not exist')
    props = {
        p.name.lower(): p.args["value"].name
        for p in (tree.args.get("properties") or exp.Properties()).expressions
        if isinstance(p, exp.Property) and p.args.get("value") is not None  # (TEMP, UNLOGGED: none)
    }
    times = [c for c in cols if c[2].name in _TIMELIKE]
    time_col = next((c[0] for c in times if c[3]), times[0][0] if times else HIDDEN_TIME)
    if "time_column" in props:  # WITH (time_column = 'c'), or '' for none: the insertion order
        time_col = props["time_column"] or HIDDEN_TIME
        if time_col != HIDDEN_TIME and time_col not in {c[0] for c in times}:
            raise E.InvalidTableDefinition(f'time_column "{time_col}" is not a timestamp column of the table')
    key_cols = {n for k in keys for n in k}
    if "tags" in props:
        tags = {t.strip() for t in props["tags"].split(",") if t.strip()}
        unknown = tags - {c[0] for c in cols}
        if unknown:
            raise E.UndefinedColumn(f'column "{sorted(unknown)[0]}" named in tags does not exist')
    elif any(time_col in k for k in keys):
        # one row per key value: the series key (tags + time) must be that key, or rows that differ
        # only by a text column outside it would be rows of two series, both kept
        timed = primary if time_col in primary else next(k for k in keys if time_col in k)
        tags = set(timed) - {time_col}
    else:
        tags = {c[0] for c in cols if c[2].name in _TEXTLIKE} | (key_cols - {time_col})
    tags.discard(time_col)
    dedupe = any(time_col in k for k in keys)
    columns = []
    for name, declared, t, _nn in cols:
        if name == time_col:
            columns.append((name, "time", None, declared))
        elif name in tags:
            columns.append((name, "tag", None, declared))
        else:
            columns.append((name, "field", t.storage, declared))
    sequences.create_for_table(session, table.db or "public", table.name, cols, defaults)
    options = {
        "dedupe": dedupe,
        "sql": True,
        "defaults": defaults,
        "not_null": {c[0]: True for c in cols if c[3]},
        "time_nullability_declared": True,  # "not_null" covers the time column too (tables.sql_columns)
        "keys": keys,
        "primary_key": primary,
        "checks": checks,
        "foreign_keys": fks,
    }
    if enum_columns:
        options[enums.OPTION] = enum_columns
    if generations:
        generated.check_definitions(generations, [c[0] for c in cols])
        options["generated"] = generations
    if time_col == HIDDEN_TIME:
        columns.insert(0, (HIDDEN_TIME, "time", None, "int8"))
    storage.create_table(database, table.name, columns, rp=rpm.name, time_column=time_col, options=options)
    if temporary is not None:
        temp_tables.created(session, table.db or "public", table.name, temporary)
    return Result(None, tag="CREATE TABLE")


def _like_columns(session: SqlSession, like: exp.LikeProperty, enum_columns: dict) -> list[tuple]:
    """CREATE TABLE t (LIKE source ...): the source's columns with their declared types and NOT NULL,
    and their defaults with INCLUDING DEFAULTS or INCLUDING ALL, as PostgreSQL copies them:
    [(name, declared, type, not null, default or None)]."""
    source: exp.Table = like.this
    storage = session.storage
    try:
        rpm = storage.catalog.retention_policy(session.database, _rp_of(source))
    except StorageError:
        raise E.InvalidSchemaName(f'schema "{source.db}" does not exist') from None
    meta = storage.table(rpm.database_id, rpm.name, source.name)
    if meta is None:
        raise E.UndefinedTable(f'relation "{source.name}" does not exist')
    options = {f"{p.name} {p.args['value'].name}".upper() for p in like.expressions if p.args.get("value")}
    included = bool({"INCLUDING DEFAULTS", "INCLUDING ALL"} & options)
    copy_defaults = included and "EXCLUDING DEFAULTS" not in options
    source_defaults = meta.options.get("defaults", {})
    out = []
    for c in sql_columns(meta):
        stored = meta.column(c.name)
        declared_text = (stored.pg_type if stored is not None else None) or c.type.name
        declared, t = _column_type(session, declared_text, c.name, enum_columns)
        default = source_defaults.get(c.name) if copy_defaults else None
        out.append((c.name, declared, t, c.not_null, default))
    return out


def create_table_as(session: SqlSession, tree: exp.Create, sql: str = "") -> Result:
    """CREATE [TEMP] TABLE t [(names)] AS query [WITH [NO] DATA] (and SELECT ... INTO t): a table of
    the query's columns, named and typed as it describes them (no constraints, as in PostgreSQL),
    then the query's rows written into it as INSERT ... SELECT writes them."""
    target = tree.this
    names = None
    if isinstance(target, exp.Schema):  # CREATE TABLE t (a, b) AS ...
        names = [e.name for e in target.expressions]
        target = target.this
    query = tree.expression
    described = session.prepare(query.sql("postgres"), [])
    if described.columns is None:
        raise E.SyntaxError_("CREATE TABLE AS needs a query that returns rows")
    from sql import privileges

    privileges.check(session, described)  # (what it reads, before anything is made)
    if names is not None and len(names) > len(described.columns):
        raise E.SyntaxError_("too many column names were specified")
    columns = [
        names[i] if names is not None and i < len(names) else c.name for i, c in enumerate(described.columns)
    ]
    seen: set[str] = set()
    for n in columns:
        if n in seen:
            raise E.DuplicateColumn(f'column "{n}" specified more than once')
        seen.add(n)
    types = [_type_name(session, c.type_oid) for c in described.columns]
    create = exp.Create(
        kind="TABLE",
        exists=tree.args.get("exists"),
        this=exp.Schema(
            this=target.copy(),
            expressions=[
                exp.ColumnDef(
                    this=exp.to_identifier(n, quoted=True),
                    kind=exp.DataType.build(t, dialect="postgres", udt=True),
                )
                for n, t in zip(columns, types, strict=True)
            ],
        ),
        properties=_create_properties(tree),
    )
    storage = session.storage
    if temp_tables.on_commit(tree, sql) is not None:
        target.set("db", exp.to_identifier(temp_tables.ensure_schema(session)))
    rpm = storage.catalog.retention_policy(session.database, _rp_of(target))
    existed = storage.table(rpm.database_id, rpm.name, target.name) is not None
    props = (tree.args.get("properties") or exp.Properties()).expressions
    no_data = any(isinstance(p, exp.WithDataProperty) and p.args.get("no") for p in props)
    insert = exp.Insert(
        this=exp.Schema(this=target.copy(), expressions=[exp.to_identifier(n, quoted=True) for n in columns]),
        expression=query.copy(),
    )
    for hidden_time in (False, True):
        if hidden_time:  # a NULL in the first timestamp column: the rows' order is their time instead
            _set_property(create, "time_column", "")
        create_table(session, create, sql)
        if existed:  # IF NOT EXISTS of a table there: nothing written
            return Result(None, tag="CREATE TABLE AS")
        if not session.is_superuser():  # (the INSERT below is the creator's, checked as theirs)
            privileges.own_created(session, create)
        if no_data:
            return Result(None, tag="CREATE TABLE AS")
        status = session.transaction_status
        txn, session.txn = session.txn, None  # (DDL, immediate with its rows: not in the block's undo)
        try:
            result = session.execute(session.prepare(insert.sql("postgres"), []), [])
        except E.SqlError as exc:  # no table is left behind, as PostgreSQL's CREATE TABLE AS is one statement
            session.transaction_status = status  # (the statement fails, or is tried again, as a whole)
            drop(session, exp.Drop(kind="TABLE", this=target.copy(), exists=True))
            if hidden_time or not isinstance(exc, E.NotNullViolation):
                raise
            continue
        finally:
            session.txn = txn
        n = result.tag.split()[-1] if result.tag else "0"
        return Result(None, tag=f"SELECT {n}")
    raise AssertionError("unreachable")


def _set_property(create: exp.Create, name: str, value: str) -> None:
    props = create.args.get("properties") or exp.Properties(expressions=[])
    props.append("expressions", exp.Property(this=exp.to_identifier(name), value=exp.Literal.string(value)))
    create.set("properties", props)


def _create_properties(tree: exp.Create) -> exp.Properties | None:
    """A CREATE TABLE AS's properties a plain CREATE TABLE takes (TEMP, ON COMMIT, WITH (...))."""
    props = [
        p.copy()
        for p in (tree.args.get("properties") or exp.Properties()).expressions
        if not isinstance(p, exp.WithDataProperty)
    ]
    return exp.Properties(expressions=props) if props else None


def _type_name(session: SqlSession, oid: int) -> str:
    """The declared type of a CREATE TABLE AS column of a result column of type ``oid``."""
    t = pgt.BY_OID.get(oid)
    if t is not None:
        return t.name
    found = next(
        (name for name, e in enums.types_of(session.storage, session.database).items() if e.oid == oid), None
    )
    return found if found is not None else "text"


def _column_type(
    session: SqlSession, declared: str, column: str, enum_columns: dict
) -> tuple[str, pgt.PgType]:
    """A column's declared type and PgType; a column of an enum type is stored as text, its type
    recorded in ``enum_columns`` (the table's ``enums`` option, sql/enums.py)."""
    try:
        return declared, pgt.lookup(declared)
    except KeyError:
        enum = enums.lookup(session.storage, session.database, declared)
        if enum is None:
            raise E.UndefinedObject(f'type "{declared}" does not exist') from None
    enum_columns[column] = enum.column_option()
    return "text", pgt.TEXT


def create_hypertable(session: SqlSession, call: exp.Anonymous) -> Result:
    """SELECT create_hypertable('t', 'time' [, chunk_time_interval => ...]): sets the time column."""
    args = [a for a in call.expressions if not isinstance(a, exp.Kwarg)]
    kwargs = {a.this.name.lower(): a.expression for a in call.expressions if isinstance(a, exp.Kwarg)}
    if len(args) < 2:
        raise E.UndefinedFunction("function create_hypertable(unknown) does not exist")
    rel = args[0].name
    dim = args[1]
    if isinstance(dim, exp.Anonymous) and dim.name.lower() == "by_range":  # TimescaleDB 2.13's form
        if not dim.expressions:
            raise E.UndefinedFunction("function by_range() does not exist")
        if len(dim.expressions) > 1:
            kwargs.setdefault("chunk_time_interval", dim.expressions[1])
        dim = dim.expressions[0]
    time_name = dim.name
    schema, _, name = rel.rpartition(".")
    rp = None if schema in ("", "public") else schema
    storage, database = session.storage, session.database
    rpm = storage.catalog.retention_policy(database, rp)
    meta = storage.table(rpm.database_id, rpm.name, name)
    if meta is None:
        raise E.UndefinedTable(f'relation "{rel}" does not exist')
    col = meta.column(time_name)
    if col is None:
        raise E.UndefinedColumn(f'column "{time_name}" does not exist')
    opts = dict(meta.options)
    if "chunk_time_interval" in kwargs:
        opts["chunk_time_interval"] = kwargs["chunk_time_interval"].sql("postgres")
    opts["hypertable"] = True
    # TimescaleDB makes the time dimension NOT NULL
    opts["not_null"] = {**opts.get("not_null", {}), time_name: True}
    if meta.time_column != time_name:
        if any(s.table_stats(meta.id, meta.name).holds for s in storage.shards(database)):
            raise E.FeatureNotSupported(
                "create_hypertable on a table that already holds rows is not supported"
            )
        if meta.time_column == HIDDEN_TIME:
            storage.catalog.drop_column(meta.id, HIDDEN_TIME)
        else:
            old = meta.column(meta.time_column)
            storage.catalog.set_column_kind(
                meta.id, old.name, "field", pgt.lookup(old.pg_type or "timestamptz").storage
            )
        storage.catalog.set_column_kind(meta.id, time_name, "time", None)
        opts["dedupe"] = any(time_name in k for k in opts.get("keys", []))
    default_index = kwargs.get("create_default_indexes")
    if not meta.options.get("hypertable") and (
        default_index is None or default_index.sql().upper() != "FALSE"
    ):
        indexes.add_time_index(session, schema or None, meta, opts, time_name)
    if "chunk_time_interval" in kwargs:
        set_shard_duration(session, rpm.name, meta.column(time_name), kwargs["chunk_time_interval"])
    storage.catalog.set_table_options(meta.id, time_name, opts)
    storage.invalidate_tables()
    text = f"({meta.id},{rpm.name if rp else 'public'},{name},t)"
    cols = [ColumnDesc("create_hypertable", pgt.TEXT.oid)]
    return Result(cols, iter([pa.record_batch({"create_hypertable": [text]})]), tag="SELECT 1")


MIN_SHARD_NS = 3600 * 10**9  # (InfluxDB's smallest shard duration)
_TIMESTAMP_COLUMNS = frozenset({"timestamptz", "timestamp", "date"})


def set_shard_duration(session: SqlSession, rp: str, time_column, interval: exp.Expression) -> None:
    """A hypertable's chunk interval (create_hypertable, set_chunk_time_interval) made the shard
    duration of its retention policy: TimescaleDB's chunks are our shards, which partition time
    per retention policy (not per table), so the chunks made from now on, of every table of the
    policy, span the interval (at least an hour); the chunks made before keep theirs, as in
    TimescaleDB (columnar/engine.py puts a row in the shard that covers its time). An integer
    interval is microseconds. A time column that is no timestamp keeps the option only."""
    pg_type = (getattr(time_column, "pg_type", None) or "timestamptz").lower()
    if pg_type not in _TIMESTAMP_COLUMNS:
        return
    from sql.timescale import interval_seconds  # (sql.timescale imports this module)

    if isinstance(interval, exp.Literal) and not interval.is_string:
        seconds = float(interval.name) / 1e6
    else:
        try:
            seconds = interval_seconds(session, interval)
        except Exception as exc:  # (DuckDB's words for a text that is no interval; NULL)
            raise E.InvalidParameterValue(f"invalid chunk_time_interval: {interval.sql('postgres')}") from exc
    if seconds <= 0:
        raise E.InvalidParameterValue("invalid interval: an interval must be greater than zero")
    ns = max(int(seconds * 1e9), MIN_SHARD_NS)
    catalog = session.storage.catalog
    if catalog.retention_policy(session.database, rp).shard_duration_ns != ns:
        catalog.alter_retention_policy(session.database, rp, shard_duration_ns=ns)


def drop(session: SqlSession, tree: exp.Drop) -> Result:
    kind = (tree.args.get("kind") or "").upper()
    storage, database = session.storage, session.database
    if kind == "TABLE":
        for table in tree.expressions if tree.expressions else tree.args.get("tables") or [tree.this]:
            rp = _rp_of(table)
            rpm = storage.catalog.retention_policy(database, rp)
            meta = storage.table(rpm.database_id, rpm.name, table.name)
            if meta is None:
                if tree.args.get("exists"):
                    session.notice(E.Notice_(f'table "{table.name}" does not exist, skipping'))
                    continue
                raise E.UndefinedTable(f'table "{table.name}" does not exist')
            dropped = {t.name for t in tree.expressions or tree.args.get("tables") or [tree.this]}
            _drop_dependent_views(session, table, "table", bool(tree.args.get("cascade")), dropped)
            for child, fk in foreign_keys.referencing(session, meta):
                if child.name in dropped:
                    continue
                if not tree.args.get("cascade"):
                    foreign_keys.check_drop(session, meta, truncate=False)
                _set_options(storage, child.id, _without_foreign_key, fk["name"])  # (CASCADE: the key goes)
            storage.drop_table(database, table.name, rp=rpm.name)
            jobs.remove(storage, database, table.db or "public", table.name)  # (its policies go with it)
            temp_tables.forget(session, table.db or "public", table.name)
            sequences.drop_owned(session, table.db or "public", table.name)  # (its SERIALs')
        storage.invalidate_tables()
        return Result(None, tag="DROP TABLE")
    if kind == "VIEW":
        views = tree.args.get("tables") or [tree.this]
        for table in views:
            key = _view_key(session, table)
            if storage.catalog.get_meta(key) is None:
                if tree.args.get("exists"):
                    continue
                raise E.UndefinedTable(f'view "{table.name}" does not exist')
            _drop_dependent_views(
                session, table, "view", bool(tree.args.get("cascade")), {v.name for v in views}
            )
            _drop_view(session, table.db or "public", table.name)
        return Result(None, tag="DROP VIEW")
    if kind == "DATABASE":
        name = _dropped(tree).name
        if name == database:
            raise E.SqlError("cannot drop the currently open database")
        try:
            storage.drop_database(name)
        except StorageError:
            if not tree.args.get("exists"):
                raise E.InvalidCatalogName(f'database "{name}" does not exist') from None
        continuous.drop_database(storage, name)  # (its InfluxQL continuous queries go with it)
        _forget_database(storage, name)
        return Result(None, tag="DROP DATABASE")
    if kind == "SCHEMA":
        target = _dropped(tree)
        name = target.db or target.name
        try:
            storage.catalog.drop_retention_policy(database, name)
        except StorageError:
            if not tree.args.get("exists"):
                raise E.UndefinedObject(f'schema "{name}" does not exist') from None
        return Result(None, tag="DROP SCHEMA")
    raise E.FeatureNotSupported(f"DROP {kind} is not supported")


def _forget_database(storage, name: str) -> None:
    """What the catalog's meta keeps of a dropped database's objects, by its name (its views, enum
    types, functions, sequences, extensions, continuous aggregates, temporary tables and their privileges): a
    database made again under the name starts without them."""
    quoted = json.dumps([name])[:-1] + ","  # ("acl:view:" / "acl:schema:" keys: JSON lists)
    prefixes = [f"{kind}:{name}:" for kind in ("seq", "view", "enum", "extension", "temp_table", "function")]
    prefixes += [f"cagg:view:{name}:", f"acl:view:{quoted}", f"acl:schema:{quoted}"]
    for prefix in prefixes:
        for key, _ in storage.catalog.meta_items(prefix):
            storage.catalog.set_meta(key, None)


def _dropped(tree: exp.Drop) -> exp.Expression:
    """What DROP DATABASE / SCHEMA names (sqlglot puts it in ``tables``, not ``this``)."""
    target = tree.this or (tree.args.get("tables") or [None])[0]
    if target is None:
        raise E.SyntaxError_("syntax error at end of input")
    return target


def create_other(session: SqlSession, tree: exp.Create) -> Result:
    kind = (tree.args.get("kind") or "").upper()
    storage, database = session.storage, session.database
    if kind == "INDEX":
        return indexes.create(session, tree)
    if kind == "DATABASE":
        try:
            storage.create_database(tree.this.name, if_not_exists=bool(tree.args.get("exists")))
        except DatabaseExists:
            raise E.DuplicateDatabase(f'database "{tree.this.name}" already exists') from None
        return Result(None, tag="CREATE DATABASE")
    if kind == "SCHEMA":
        name = tree.this.db or tree.this.name
        exists = E.DuplicateSchema(f'schema "{name}" already exists')
        if name == "public":
            if not tree.args.get("exists"):
                raise exists
            session.notice(E.Notice_(f'schema "{name}" already exists, skipping'))
            return Result(None, tag="CREATE SCHEMA")
        if name.startswith("pg_"):  # (reserved: pg_temp_N are sessions' temporary schemas)
            raise E.ReservedName(
                f'unacceptable schema name "{name}"',
                detail='The prefix "pg_" is reserved for system schemas.',
            )
        try:
            storage.catalog.create_retention_policy(database, name, 0)
        except StorageError:
            if not tree.args.get("exists"):
                raise exists from None
            session.notice(E.Notice_(f'schema "{name}" already exists, skipping'))
        return Result(None, tag="CREATE SCHEMA")
    if kind == "VIEW":
        key = _view_key(session, tree.this)
        if storage.catalog.get_meta(key) is not None and not tree.args.get("replace"):
            raise E.DuplicateTable(f'relation "{tree.this.name}" already exists')
        query = tree.expression
        session.prepare(query.sql("postgres"), [])  # validates it binds
        temporary = temp_tables.is_temp_schema(tree.this.db or "")  # (qualified so at prepare)
        if temporary:
            temp_tables.ensure_schema(session)
        storage.catalog.set_meta(key, query.sql("postgres"))
        if temporary:
            temp_tables.created(session, tree.this.db, tree.this.name, "view")
        return Result(None, tag="CREATE VIEW")
    raise E.FeatureNotSupported(f"CREATE {kind} is not supported")


def sequence_key(database: str, schema: str, name: str) -> str:
    return f"seq:{database}:{schema}.{name}"


def create_extension(session: SqlSession, sql: str) -> Result:
    words = [w for w in sql.replace(";", " ").split() if w.upper() not in ("CASCADE",)]
    upper = [w.upper() for w in words]
    at = upper.index("EXTENSION") + 1
    if upper[at : at + 3] == ["IF", "NOT", "EXISTS"]:
        at += 3
    name = words[at].strip('"').lower()
    if name not in ("timescaledb", "plpgsql", "pg_stat_statements", "timescaledb_toolkit"):
        raise E.UndefinedObject(f'extension "{name}" is not available')
    key = f"extension:{session.database}:{name}"
    if session.storage.catalog.get_meta(key) is not None and "EXISTS" not in (w.upper() for w in words):
        raise E.SqlError(f'extension "{name}" already exists')
    session.storage.catalog.set_meta(
        key, json.dumps({"version": "2.14.2" if name.startswith("timescaledb") else "1.0"})
    )
    return Result(None, tag="CREATE EXTENSION")


def _drop_view(session: SqlSession, schema: str, name: str) -> None:
    storage = session.storage
    storage.catalog.set_meta(view_key(session.database, schema, name), None)
    temp_tables.forget(session, schema, name)
    storage.catalog.set_meta(roles.view_key(session.database, schema, name), None)
    comments.view_dropped(session, schema, name)


def _dependent_views(session: SqlSession, schema: str, name: str) -> list[tuple[tuple[str, str], str]]:
    """Every view of the database that reads relation ``schema.name``, and the views reading those:
    [((schema, view), the name of the relation it reads)], in the order they can be dropped (readers
    of a view before it)."""
    prefix = view_key(session.database, "", "")[:-1]  # "view:<database>:"
    readers: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for key, text in session.storage.catalog.meta_items(prefix):
        if not text:
            continue
        view_schema, _, view_name = key[len(prefix) :].partition(":")
        try:
            tree = exp.maybe_parse(text, dialect="postgres")
        except Exception:  # noqa: BLE001 - a stored text sqlglot no longer reads: depends on nothing known
            continue
        ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
        for t in tree.find_all(exp.Table):
            if t.name in ctes and not t.db:
                continue
            readers.setdefault((t.db or "public", t.name), set()).add((view_schema, view_name))
    out: list[tuple[tuple[str, str], str]] = []

    def visit(target: tuple[str, str]) -> None:
        for reader in sorted(readers.get(target, ())):
            if reader != (schema, name) and all(reader != r for r, _ in out):
                visit(reader)
                out.append((reader, target[1]))

    visit((schema, name))
    return out


def _drop_dependent_views(
    session: SqlSession, table: exp.Table, what: str, cascade: bool, dropped: set[str]
) -> None:
    """Views reading ``table`` (a table or a view): 2BP01 without CASCADE, as PostgreSQL refuses to
    leave them broken; with it, they are dropped first, a notice naming each."""
    dependents = [
        (view, read)
        for view, read in _dependent_views(session, table.db or "public", table.name)
        if view[1] not in dropped
    ]
    if not dependents:
        return
    if not cascade:
        detail = [
            f"view {view[1]} depends on {what if read == table.name else 'view'} {read}"
            for view, read in reversed(dependents)
        ]
        raise E.DependentObjectsStillExist(
            f"cannot drop {what} {table.name} because other objects depend on it",
            detail="\n".join(detail),
            hint="Use DROP ... CASCADE to drop the dependent objects too.",
        )
    for view, _read in dependents:
        session.notice(E.Notice_(f"drop cascades to view {view[1]}"))
        _drop_view(session, *view)


def view_key(database: str, schema: str, name: str) -> str:
    return f"view:{database}:{schema}:{name}"


def _view_key(session: SqlSession, table: exp.Table) -> str:
    return view_key(session.database, table.db or "public", table.name)


def alter(session: SqlSession, tree: exp.Alter, sql: str = "") -> Result:
    storage, database = session.storage, session.database
    texts = iter(column_defaults.source_texts(sql))  # the DEFAULT clauses as written, in order
    table: exp.Table = tree.this
    rpm = storage.catalog.retention_policy(database, _rp_of(table))
    meta = storage.table(rpm.database_id, rpm.name, table.name)
    if meta is None:
        if tree.args.get("exists"):
            return Result(None, tag="ALTER TABLE")
        raise E.UndefinedTable(f'relation "{table.name}" does not exist')
    for action in tree.args.get("actions") or []:
        if isinstance(action, exp.ColumnDef):
            if meta.column(action.name) is not None:
                if action.args.get("exists"):
                    continue
                raise E.DuplicateColumn(f'column "{action.name}" of relation "{table.name}" already exists')
            if generated.of_column(action) is not None:
                raise E.FeatureNotSupported(
                    f'ADD COLUMN "{action.name}" GENERATED ALWAYS AS (...) is not supported',
                    hint="declare generated columns in CREATE TABLE",
                )
            added_enum: dict[str, dict] = {}
            declared, t = _column_type(session, _declared(action.args.get("kind")), action.name, added_enum)
            kind = (
                "tag"
                if t.name in _TEXTLIKE and meta.options.get("sql") and "tags" not in meta.options
                else "field"
            )
            if kind == "tag" and not meta.options.get("sql"):
                kind = "field"
            if kind == "tag" and storage.catalog.dropped_tag(meta.id, action.name):
                kind = "field"  # (the stored series keys still hold the dropped tag's values)
            default = _default_of(action, texts, declared)
            not_null = any(
                isinstance(c.args.get("kind"), exp.NotNullColumnConstraint)
                and not c.args["kind"].args.get("allow_null")
                for c in action.args.get("constraints") or []
            )
            rows = _row_count(session, table) if default is not None or not_null else 0
            if not_null and default is None and rows:  # (the rows there would hold NULL in it)
                raise E.NotNullViolation(
                    f'column "{action.name}" of relation "{table.name}" contains null values'
                )
            if rows > FILL_MAX_ROWS:
                raise E.FeatureNotSupported(
                    f'ADD COLUMN "{action.name}" with a DEFAULT writes the table\'s {rows} rows again with '
                    f"the value, held in memory at once: more than {FILL_MAX_ROWS} is not supported",
                    hint="add the column without a DEFAULT, then SET DEFAULT: rows written later take it",
                )
            filled = rows > 0
            storage.catalog.add_columns(
                meta.id, [(action.name, kind, None if kind == "tag" else t.storage, declared)]
            )
            if added_enum:
                _set_options(storage, meta.id, _with_enum, action.name, added_enum[action.name])
            if default is not None:
                _set_options(storage, meta.id, _with_default, action.name, default)
                if filled:
                    storage.invalidate_tables()
                    _fill(session, table, action.name, default)
            if not_null:
                _set_options(storage, meta.id, _with_not_null, action.name, True)
        elif isinstance(action, exp.AlterColumn) and _alters_default(action):
            if meta.column(action.name) is None:
                raise E.UndefinedColumn(f'column "{action.name}" of relation "{table.name}" does not exist')
            declared = next(c.type.name for c in sql_columns(meta) if c.name == action.name)
            d = column_defaults.of_node(action.args.get("default"), next(texts, None), declared)
            name = action.name
            if d is None:
                _set_options(storage, meta.id, _with_default, name, None)
            else:
                _set_options(storage, meta.id, _with_default, name, d)
        elif isinstance(action, exp.AlterColumn) and action.args.get("allow_null") is not None:
            _alter_nullability(session, table, meta, action.name, not action.args["allow_null"])
        elif isinstance(action, exp.AlterColumn) and action.args.get("dtype") is not None:
            _alter_type(session, table, meta, action)
        elif isinstance(action, exp.RenameColumn):
            old, new = action.this.name, action.args["to"].name
            column = meta.column(old)
            if column is None:
                raise E.UndefinedColumn(f'column "{old}" does not exist')
            if meta.column(new) is not None:
                raise E.DuplicateColumn(f'column "{new}" of relation "{table.name}" already exists')
            # what names the column, renamed in the same catalog transaction as the column: the
            # table's keys, CHECKs, defaults ..., the foreign keys referencing it, the views reading it
            options = {meta.id: _changed(meta.options, _renamed, old, new)}
            for child, fk in foreign_keys.referencing(session, meta):
                was = options.get(child.id, child.options)
                options[child.id] = _changed(was, _referenced_renamed, fk["name"], old, new)
            views = dict(_views_renamed(session, table, old, new))  # (refused here: nothing changed yet)
            if column.kind == "tag":
                try:
                    storage.rename_tag(
                        database, table.name, old, new, rp=rpm.name, table_options=options, catalog_meta=views
                    )
                except StorageError as exc:
                    raise E.FeatureNotSupported(f'cannot rename column "{old}": {exc}') from None
            else:
                storage.catalog.rename_column(meta.id, old, new, table_options=options, meta=views)
            sequences.rename_owner(session, table.db or "public", table.name, table.name, old, new)
        elif isinstance(action, exp.Drop) and (action.args.get("kind") or "").upper() == "COLUMN":
            for c in action.args.get("tables") or [action.this]:
                col = meta.column(c.name)
                if col is None:
                    if action.args.get("exists"):
                        continue
                    raise E.UndefinedColumn(f'column "{c.name}" of relation "{table.name}" does not exist')
                if col.kind == "time" or (col.kind == "tag" and not _tag_droppable(meta, c.name)):
                    raise E.FeatureNotSupported(f'dropping the {col.kind} column "{c.name}" is not supported')
                if col.kind == "tag":  # (PostgreSQL drops the keys over a dropped column)
                    _set_options(storage, meta.id, _without_keys_over, c.name, meta.time_column)
                storage.catalog.drop_column(meta.id, c.name)
                _set_options(storage, meta.id, _renamed, c.name, None)
                sequences.drop_owned(session, table.db or "public", table.name, c.name)
        elif isinstance(action, exp.AddConstraint):
            _add_constraint(session, table, meta, action)
        elif isinstance(action, exp.Drop) and (action.args.get("kind") or "").upper() == "CONSTRAINT":
            _drop_constraint(session, table, meta, action)
        elif isinstance(action, exp.AlterRename):
            _rename_table(session, table, meta, action.this.name)
            table = exp.table_(action.this.name, db=table.db)  # (what follows reads it so)
        else:
            raise E.FeatureNotSupported(f"ALTER TABLE {action.sql('postgres')} is not supported")
        storage.invalidate_tables()
        meta = storage.table(rpm.database_id, rpm.name, table.name) or meta
    storage.invalidate_tables()
    return Result(None, tag="ALTER TABLE")


def _alter_nullability(session: SqlSession, table: exp.Table, meta, name: str, not_null: bool) -> None:
    """ALTER COLUMN ... SET NOT NULL (refused while a row holds NULL there) / DROP NOT NULL."""
    col = meta.column(name)
    if col is None:
        raise E.UndefinedColumn(f'column "{name}" of relation "{table.name}" does not exist')
    if not_null:
        if col.kind != "time":  # (a time is never NULL)
            q = (
                exp.select("count(*)")
                .from_(table.copy())
                .where(exp.column(name, quoted=True).is_(exp.null()))
            )
            if session.query_arrow(q, []).column(0)[0].as_py():
                raise E.NotNullViolation(f'column "{name}" of relation "{table.name}" contains null values')
    elif name in (meta.options.get("primary_key") or []):
        raise E.InvalidTableDefinition(f'column "{name}" is in a primary key')
    elif col.kind == "time":
        _time_column_away(session, meta, name)
    _set_options(session.storage, meta.id, _with_not_null, name, not_null)


def _timelike(pg_type: str | None) -> bool:
    try:
        return pg_type is not None and pgt.lookup(pg_type).name in _TIMELIKE
    except KeyError:
        return False


def _time_column_away(session: SqlSession, meta, name: str) -> None:
    """DROP NOT NULL of the column tsgres chose as the table's time (CREATE TABLE's first NOT NULL
    timestamp; not a hypertable's): rows will hold NULL there, which a time cannot be. While the
    table holds no rows (a migration relaxing a column, as Django's auth_user.last_login), the time
    becomes the next NOT NULL timestamp column, else the insertion order; with rows it is 0A000."""
    storage = session.storage
    if meta.options.get("hypertable"):
        raise E.InvalidTableDefinition(
            f'cannot drop not-null constraint from a time-partitioned column "{name}"'
        )
    if any(s.table_stats(meta.id, meta.name).holds for s in storage.shards(session.database)):
        raise E.FeatureNotSupported(
            f'DROP NOT NULL of "{name}", the time column of a table that holds rows, is not supported',
            hint="Declare the column nullable, or give the table another time column, before rows are written.",
        )
    opts = dict(meta.options)
    not_null = opts.get("not_null", {})
    new = next(
        (c.name for c in meta.columns if c.name != name and _timelike(c.pg_type) and not_null.get(c.name)),
        HIDDEN_TIME,
    )
    old = meta.column(name)
    storage.catalog.set_column_kind(meta.id, name, "field", pgt.lookup(old.pg_type or "timestamptz").storage)
    if new == HIDDEN_TIME:
        storage.catalog.add_columns(meta.id, [(HIDDEN_TIME, "time", None, "int8")])
    else:
        storage.catalog.set_column_kind(meta.id, new, "time", None)
    opts["dedupe"] = any(new in k for k in opts.get("keys", []))
    storage.catalog.set_table_options(meta.id, new, opts)
    storage.invalidate_tables()


def _with_not_null(options: dict, column: str, not_null: bool) -> None:
    per = options.setdefault("not_null", {})
    if not_null:
        per[column] = True
    else:
        per.pop(column, None)


_INTEGERS = {"int2": 2**15, "int4": 2**31, "int8": 2**63}
_STRINGS = {"text", "varchar"}


def _alter_type(session: SqlSession, table: exp.Table, meta, action: exp.AlterColumn) -> None:
    """ALTER COLUMN ... TYPE between types stored alike: integers (int2, int4, int8: a narrower one
    only when every value fits), float4 and float8, text and varchar(n) (every value at most n
    long). The stored values stay; the column is declared and read as the new type."""
    name = action.name
    col = meta.column(name)
    if col is None:
        raise E.UndefinedColumn(f'column "{name}" of relation "{table.name}" does not exist')
    declared = _declared(action.args["dtype"])
    try:
        new = pgt.lookup(declared)
    except KeyError:
        if enums.lookup(session.storage, session.database, declared) is not None:
            raise E.FeatureNotSupported(
                f"ALTER COLUMN ... TYPE {declared} (an enum type) is not supported"
            ) from None
        raise E.UndefinedObject(f'type "{declared}" does not exist') from None
    if name in (meta.options.get(enums.OPTION) or {}):
        raise E.FeatureNotSupported(f'ALTER COLUMN ... TYPE of the enum column "{name}" is not supported')
    old = pgt.lookup(col.pg_type) if col.pg_type else None
    using = action.args.get("using")
    plain = not using or (
        isinstance(using, exp.Cast) and isinstance(using.this, exp.Column) and using.this.name == name
    )
    ref = exp.column(name, quoted=True)
    if plain and old is not None and old.name in _INTEGERS and new.name in _INTEGERS:
        bound = _INTEGERS[new.name]
        if bound < _INTEGERS[old.name]:
            q = exp.select(f"min({ref.sql('duckdb')})", f"max({ref.sql('duckdb')})").from_(table.copy())
            lo, hi = (v[0].as_py() for v in session.query_arrow(q, []).columns)
            if lo is not None and (lo < -bound or hi >= bound):
                kind = "smallint" if new.name == "int2" else "integer"
                raise E.NumericValueOutOfRange(f"{kind} out of range")
    elif plain and old is not None and {old.name, new.name} <= {"float4", "float8"}:
        pass
    elif plain and old is not None and old.name in _STRINGS and new.name in _STRINGS:
        limit = length_limit(declared)
        if limit is not None:
            q = exp.select(f"max(length({ref.sql('duckdb')}))").from_(table.copy())
            longest = session.query_arrow(q, []).column(0)[0].as_py()
            if longest is not None and longest > limit[0]:
                raise E.StringDataRightTruncation(f"value too long for type {limit[1]}")
    else:
        raise E.FeatureNotSupported(
            f'ALTER COLUMN "{name}" TYPE {declared}: only between integer types, between float4 and '
            "float8, and between text and varchar are supported (the stored values are kept)"
        )
    session.storage.catalog.set_column_pg_type(meta.id, name, declared)
    session.storage.invalidate_tables()


def _key_columns(key: exp.PrimaryKey | exp.UniqueColumnConstraint) -> list[str]:
    items = key.expressions or (key.this.expressions if isinstance(key.this, exp.Schema) else [])
    return [x.name for x in items]


def _add_constraint(session: SqlSession, table: exp.Table, meta, action: exp.AddConstraint) -> None:
    """ALTER TABLE ... ADD [CONSTRAINT name] CHECK (...) / UNIQUE (...) / PRIMARY KEY (...): checked
    against the rows already there, as PostgreSQL does."""
    for e in action.expressions:
        name = e.this.name if isinstance(e, exp.Constraint) else None
        for item in e.expressions if isinstance(e, exp.Constraint) else [e]:
            if isinstance(item, exp.CheckColumnConstraint):
                c = constraints.check(item.this, name, table.name, constraints.of_table(meta.options))
                constraints.validate(session, table, c)
                _set_options(session.storage, meta.id, _with_check, c)
            elif isinstance(item, exp.PrimaryKey | exp.UniqueColumnConstraint):
                _add_key(session, table, meta, _key_columns(item), isinstance(item, exp.PrimaryKey))
            elif isinstance(item, exp.ForeignKey):
                columns = [i.name for i in item.expressions]
                fks = foreign_keys.of_table(meta.options)
                fk = foreign_keys.of_reference(
                    session,
                    table.name,
                    columns,
                    item.args["reference"],
                    name,
                    fks,
                    known=[c.name for c in sql_columns(meta)],
                )
                existing = session.query_arrow(
                    exp.select(*[exp.column(c, quoted=True) for c in columns]).from_(table.copy()).distinct(),
                    [],
                )
                foreign_keys.check_references(session, table.name, [fk], existing)
                _set_options(session.storage, meta.id, _with_foreign_key, fk)
            else:
                raise E.FeatureNotSupported(f"ALTER TABLE ADD {item.sql('postgres')} is not supported")
            meta = session.storage.table(meta.database_id, meta.rp, meta.name) or meta


def _with_foreign_key(options: dict, fk: dict) -> None:
    options.setdefault("foreign_keys", []).append(fk)


def _with_check(options: dict, c: dict) -> None:
    options.setdefault("checks", []).append(c)


def _add_key(session: SqlSession, table: exp.Table, meta, names: list[str], primary: bool) -> None:
    """A UNIQUE or PRIMARY KEY constraint added: the rows already there must be unique (23505). A key
    over the time column makes later writes of the same key replace earlier ones, as CREATE TABLE's
    does; its other columns must be tags for that (a field becomes one while the table is empty)."""
    cols = {c.name: c for c in sql_columns(meta)}
    for n in names:
        if n not in cols:
            raise E.UndefinedColumn(f'column "{n}" named in key does not exist')
    if primary and meta.options.get("primary_key"):
        raise E.InvalidTableDefinition(f'multiple primary keys for table "{table.name}" are not allowed')
    q = (
        exp.select(exp.Literal.number(1))
        .from_(table.copy())
        .group_by(*[exp.column(n, quoted=True) for n in names])
        .having(exp.GT(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(1)))
        .limit(1)
    )
    if session.query_arrow(q, []).num_rows:
        raise E.UniqueViolation(f'could not create unique index "{table.name}_{"_".join(names)}_key"')
    if primary:
        nulls = (
            exp.select("count(*)")
            .from_(table.copy())
            .where(exp.or_(*[exp.column(n, quoted=True).is_(exp.null()) for n in names]))
        )
        if session.query_arrow(nulls, []).column(0)[0].as_py():
            raise E.NotNullViolation(f'column "{names[0]}" of relation "{table.name}" contains null values')
    dedupe = meta.time_column in names
    if dedupe:
        fields = [n for n in names if cols[n].kind == "field"]
        if fields and _row_count(session, table):
            raise E.FeatureNotSupported(
                f'a key over the time column and the field "{fields[0]}" on a table that holds rows: '
                "the field would have to become a tag of every row"
            )
        for n in fields:
            session.storage.catalog.set_column_kind(meta.id, n, "tag", None)
    _set_options(session.storage, meta.id, _with_key, names, primary, dedupe)


def _with_key(options: dict, names: list[str], primary: bool, dedupe: bool) -> None:
    options.setdefault("keys", []).append(names)
    if primary:
        options["primary_key"] = names
        per = options.setdefault("not_null", {})
        for n in names:
            per[n] = True
    if dedupe:
        options["dedupe"] = True


def _drop_constraint(session: SqlSession, table: exp.Table, meta, action: exp.Drop) -> None:
    """ALTER TABLE ... DROP CONSTRAINT [IF EXISTS] name: a CHECK, or a UNIQUE / PRIMARY KEY (the
    table then keeps duplicate rows, as PostgreSQL does without the key)."""
    for t in action.args.get("tables") or []:
        name = t.name
        checks = constraints.of_table(meta.options)
        if any(c["name"] == name for c in checks):
            _set_options(session.storage, meta.id, _without_check, name)
            continue
        if any(fk["name"] == name for fk in foreign_keys.of_table(meta.options)):
            _set_options(session.storage, meta.id, _without_foreign_key, name)
            continue
        keys = meta.options.get("keys") or []
        key_names = [constraints.key_name(meta, k) for k in keys]
        if name in key_names:
            _set_options(
                session.storage, meta.id, _without_key, keys[key_names.index(name)], meta.time_column
            )
            continue
        if not action.args.get("exists"):
            raise E.UndefinedObject(f'constraint "{name}" of relation "{table.name}" does not exist')
        session.notice(E.Notice_(f'constraint "{name}" of relation "{table.name}" does not exist, skipping'))


def _without_foreign_key(options: dict, name: str) -> None:
    options["foreign_keys"] = [fk for fk in options.get("foreign_keys") or [] if fk["name"] != name]


def _tag_droppable(meta, name: str) -> bool:
    """Whether tag ``name`` can go by the catalog alone. Its values stay in the stored series keys,
    where reads no longer look: rows that differed only by it become rows with equal tags, which a
    table that keeps duplicates keeps as PostgreSQL does. A table that keeps one row per (tags,
    time) stops doing so when the dropped tag is in that key (PostgreSQL drops the key with it);
    a tag outside the key would leave that key unenforced between old and new rows: refused."""
    if not meta.dedupe:
        return True
    return all(name in k for k in meta.options.get("keys") or [] if meta.time_column in k)


def _without_keys_over(options: dict, column: str, time_column: str) -> None:
    keys = [k for k in options.get("keys") or [] if column not in k]
    options["keys"] = keys
    if column in (options.get("primary_key") or []):
        options["primary_key"] = []
    options["dedupe"] = any(time_column in k for k in keys)


def _without_check(options: dict, name: str) -> None:
    options["checks"] = [c for c in options.get("checks") or [] if c["name"] != name]


def _without_key(options: dict, key: list[str], time_column: str) -> None:
    options["keys"] = [k for k in options.get("keys") or [] if list(k) != list(key)]
    if list(options.get("primary_key") or []) == list(key):
        options["primary_key"] = []
    options["dedupe"] = any(time_column in k for k in options["keys"])


def _alters_default(action: exp.AlterColumn) -> bool:
    """ALTER COLUMN ... SET DEFAULT or DROP DEFAULT (not DROP NOT NULL, TYPE ...)."""
    if action.args.get("default") is not None:
        return True
    return (
        bool(action.args.get("drop"))
        and action.args.get("allow_null") is None
        and not action.args.get("dtype")
    )


def _default_of(coldef: exp.ColumnDef, texts, declared: str) -> dict | None:
    """The DEFAULT of a column definition (sql/column_defaults.py), its text taken from ``texts``."""
    for c in coldef.args.get("constraints") or []:
        if isinstance(c.args.get("kind"), exp.DefaultColumnConstraint):
            return column_defaults.of_node(c.args["kind"].this, next(texts, None), declared)
    return None


def _changed(options: dict, change, *args) -> dict:
    """``change(options, *args)`` on a copy of ``options``."""
    copy = json.loads(json.dumps(options))
    change(copy, *args)
    return copy


def _set_options(storage, table_id: int, change, *args) -> None:
    """``change(options, *args)`` on a copy of the table's options, stored."""
    meta = storage.catalog.table_by_id(table_id)
    options = json.loads(json.dumps(meta.options))
    change(options, *args)
    storage.catalog.set_table_options(table_id, meta.time_column, options)
    storage.invalidate_tables()


def _with_enum(options: dict, column: str, enum: dict) -> None:
    options[enums.OPTION] = {**(options.get(enums.OPTION) or {}), column: enum}


def _with_default(options: dict, column: str, default: dict | None) -> None:
    per = options.setdefault("defaults", {})
    if default is None:
        per.pop(column, None)
    else:
        per[column] = default


def _renamed(options: dict, old: str, new: str | None) -> None:
    """What the options say of column ``old``, said of ``new`` (None: the column is dropped)."""
    for key in ("defaults", "not_null", enums.OPTION):
        per = options.get(key)
        if isinstance(per, dict) and old in per:
            value = per.pop(old)
            if new is not None:
                per[new] = value
    if new is not None:
        for key in ("keys",):
            options[key] = [[new if n == old else n for n in k] for k in options.get(key) or []]
        options["primary_key"] = [new if n == old else n for n in options.get("primary_key") or []]
        for fk in options.get("foreign_keys") or []:
            fk["columns"] = [new if n == old else n for n in fk["columns"]]
            if fk.get("on_delete_columns"):
                fk["on_delete_columns"] = [new if n == old else n for n in fk["on_delete_columns"]]
    indexes.column_renamed(options, old, new)
    checks = []
    for c in options.get("checks") or []:  # (a CHECK over a dropped column goes with it)
        tree = exp.maybe_parse(c["sql"], dialect="postgres")
        named = [x for x in tree.find_all(exp.Column) if x.name == old]
        if named and new is None:
            continue
        for x in named:
            x.set("this", exp.to_identifier(new))
        checks.append({**c, "sql": tree.sql("postgres")})
    options["checks"] = checks


def _referenced_renamed(options: dict, name: str, old: str, new: str) -> None:
    """A renamed column of the table foreign key ``name`` references, renamed in it."""
    for fk in options.get("foreign_keys") or []:
        if fk["name"] == name:
            fk["ref_columns"] = [new if c == old else c for c in fk["ref_columns"]]


def _rename_table(session: SqlSession, table: exp.Table, meta, new: str) -> None:
    """ALTER TABLE ... RENAME TO ``new``, in its schema (retention policy): its rows stay its rows
    (columnar.engine.Engine.rename_table renames the measurement and its series). What PostgreSQL
    keeps by OID follows it: here the columns, keys, comments, privileges and hypertable options
    are kept by table id; the foreign keys referencing it, the views (and continuous aggregates)
    reading it and the TimescaleDB jobs (retention, compression policies) naming it are renamed in
    the catalog transaction of the rename, as is a temporary table's record (it stays temporary);
    the sequences owned by its columns stay owned."""
    storage, database = session.storage, session.database
    schema = table.db or "public"
    if sequences._relation_exists(session, schema, new):  # noqa: SLF001
        raise E.DuplicateTable(f'relation "{new}" already exists')
    options: dict[int, dict] = {}
    for child, fk in foreign_keys.referencing(session, meta):  # (its own, referencing itself, too)
        was = options.get(child.id, child.options)
        options[child.id] = _changed(was, _referenced_table_renamed, fk["name"], new)
    changes: dict[str, str | None] = {}
    prefix = view_key(database, "", "")[:-1]  # "view:<database>:"
    for key, text in storage.catalog.meta_items(prefix):
        renamed = view_renames.rename_table_in_view(text, schema, table.name, new)
        if renamed is not None:
            changes[key] = renamed
    changes.update(temp_tables.rename_records(session, schema, table.name, new))  # (it stays temporary)
    try:
        with jobs.lock:  # (the retention loop stores when its jobs ran meanwhile)
            renamed_jobs = jobs.renamed(storage, database, schema, table.name, new)
            if renamed_jobs is not None:
                changes[jobs.KEY] = renamed_jobs
            storage.rename_table(
                database, table.name, new, rp=meta.rp, table_options=options, catalog_meta=changes
            )
    except StorageError as exc:
        if "already exists" in str(exc):
            raise E.DuplicateTable(f'relation "{new}" already exists') from None
        raise E.FeatureNotSupported(f'cannot rename "{table.name}": {exc}') from None
    temp_tables.renamed(session, schema, table.name, new)
    sequences.rename_owner(session, schema, table.name, new)


def _referenced_table_renamed(options: dict, name: str, new: str) -> None:
    """The table foreign key ``name`` references, renamed ``new``."""
    for fk in options.get("foreign_keys") or []:
        if fk["name"] == name:
            fk["table"] = new


def _views_renamed(session: SqlSession, table: exp.Table, old: str, new: str) -> list[tuple[str, str]]:
    """(meta key, new SQL) of every view of the database that reads column ``old`` of ``table``,
    renamed ``new`` as PostgreSQL shows it (sql/view_renames.py)."""
    storage, database = session.storage, session.database
    db = storage.catalog.database(database)

    def columns(schema: str, name: str) -> list[str] | None:
        try:
            rpm = storage.catalog.retention_policy(database, _rp_of(exp.table_(name, db=schema)))
        except StorageError:
            return None
        meta = storage.table(db.id, rpm.name, name)
        return None if meta is None else [c.name for c in sql_columns(meta)]

    prefix = view_key(database, "", "")[:-1]  # "view:<database>:"
    out = []
    for key, text in storage.catalog.meta_items(prefix):
        schema, _, name = key[len(prefix) :].partition(":")
        renamed = view_renames.rename_in_view(text, name, schema, table.name, old, new, columns)
        if renamed is not None:
            out.append((key, renamed))
    return out


# ADD COLUMN ... DEFAULT rewrites the rows already there in one UPDATE (sql/dml.py), which holds them
# all in memory: ~100 bytes a row of a few columns, so about 2 GB at this many
FILL_MAX_ROWS = 20_000_000


def _row_count(session: SqlSession, table: exp.Table) -> int:
    q = exp.select("count(*)").from_(table.copy())
    return int(session.query_arrow(q, []).column(0)[0].as_py())


def _fill(session: SqlSession, table: exp.Table, column: str, default: dict) -> None:
    """Every row of ``table`` written again with ``column`` = its new DEFAULT, as PostgreSQL fills a
    column added with one (an UPDATE without WHERE: the rows are deleted, then written)."""
    from sql.dml import update

    tree = exp.Update(
        this=table.copy(),
        expressions=[
            exp.EQ(
                this=exp.column(column, quoted=True),
                expression=exp.maybe_parse(default["sql"], dialect="postgres"),
            )
        ],
    )
    update(session, tree, [])


def truncate(session: SqlSession, tree: exp.TruncateTable) -> Result:
    storage, database = session.storage, session.database
    for table in tree.expressions:
        rpm = storage.catalog.retention_policy(database, _rp_of(table))
        meta = storage.table(rpm.database_id, rpm.name, table.name)
        if meta is None:
            raise E.UndefinedTable(f'relation "{table.name}" does not exist')
        truncated = {t.name for t in tree.expressions}
        if any(c.name not in truncated for c, _fk in foreign_keys.referencing(session, meta)):
            foreign_keys.check_drop(session, meta, truncate=True)
        storage.delete(database, table.name, rp=rpm.name)
        if session.txn is not None:  # (immediate, as DDL is: ROLLBACK leaves the table empty)
            session.txn.forget_table(meta.id)
    return Result(None, tag="TRUNCATE TABLE")
