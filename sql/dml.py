"""DML: INSERT (VALUES / SELECT, ON CONFLICT), DELETE and UPDATE, over the storage write path.

Every write builds a columnar batch (sql/tables.to_write_batch) and goes through Engine.write like
line protocol does. Values are first cast to the columns' declared types by the executor, so
'2016-01-01 00:00:00+00' or '42' land in a timestamptz or int4 column as PostgreSQL would take them.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from columnar.engine import INT64_MAX, INT64_MIN
from columnar.errors import StorageError, TableNotFound
from columnar.predicate import AllSeries, And, Or, TagEq, TagPredicate
from columnar.scan import ScanRequest, read_table
from sql import arrays, constraints, duck, foreign_keys, generated, identity, transaction
from sql import errors as E
from sql import types as pgt
from sql.binder import resolve_table
from sql.duck import duck_type
from sql.rewrite.pushdown import table_pushdown
from sql.session import Result
from sql.tables import HIDDEN_TIME, naive_time, sql_columns, to_ns, to_write_batch

if TYPE_CHECKING:
    from sql.engine import SqlSession


def unchanged_by_insert(tree: exp.Expression) -> bool:
    """Whether :func:`insert` leaves ``tree`` as it is, so a prepared statement's tree needs no copy
    (~90 us for a one-row INSERT): VALUES of parameters, numbers, NULL and booleans (no DEFAULT and no
    text for it to read as a time or an array), without WITH, RETURNING or ON CONFLICT."""
    if not isinstance(tree, exp.Insert) or any(tree.args.get(k) for k in ("returning", "conflict", "with_")):
        return False
    source = tree.expression
    if not isinstance(source, exp.Values):
        return False
    for row in source.expressions:
        for cell in row.expressions:
            if isinstance(cell, exp.Neg):
                cell = cell.this
            if isinstance(cell, exp.Literal) and cell.is_string:
                return False
            if not isinstance(cell, exp.Parameter | exp.Literal | exp.Null | exp.Boolean):
                return False
    return True


def insert(session: SqlSession, tree: exp.Insert, params: list) -> Result:
    target = tree.this
    table = target.this if isinstance(target, exp.Schema) else target
    rp, meta = resolve_table(session.storage, session.database, table)
    cols = sql_columns(meta)
    by_name = {c.name: c for c in cols}
    names = [i.name for i in target.expressions] if isinstance(target, exp.Schema) else [c.name for c in cols]
    for n in names:
        if n not in by_name:
            raise E.UndefinedColumn(f'column "{n}" of relation "{meta.name}" does not exist')
    source = tree.expression
    ctes = tree.args.get("with_")
    if ctes is not None and isinstance(source, exp.Query):  # WITH x AS (...) INSERT ... SELECT ... FROM x
        source = source.copy()
        source.set("with_", ctes.copy())
    if source is None:
        if not tree.args.get("default"):
            raise E.SyntaxError_("INSERT without values")
        source, names = exp.Values(expressions=[exp.Tuple(expressions=[])]), []  # DEFAULT VALUES
    if isinstance(source, exp.Values):
        width = len(source.expressions[0].expressions) if source.expressions else 0
    elif isinstance(source, exp.Query) and any(isinstance(e, exp.Star) or e.is_star for e in source.selects):
        width = _width(session, source, params)  # (SELECT * of a subquery, a CTE ...: its columns)
    else:
        width = len(source.selects) if isinstance(source, exp.Query) else len(names)
    if width > len(names):
        raise E.SyntaxError_("INSERT has more expressions than target columns")
    if width < len(names):
        if isinstance(target, exp.Schema):
            raise E.SyntaxError_("INSERT has more target columns than expressions")
        names = names[:width]  # without a column list, the columns after the values take their defaults
    no_arrays(meta.name, [by_name[n] for n in names])
    generated.check_insert(meta, names, source)
    serial_rows: dict[str, list[int]] = {}
    ignored = identity.insert_values(meta, names, source, tree.meta.get("overriding"))
    if isinstance(source, exp.Values):
        names, serial_rows = _values_defaults(source, names, meta.options.get("defaults", {}))
        _fix_literals(source, [by_name[n] for n in names])
    if names:
        values = isinstance(source, exp.Values)
        rows = _plain_values(session, meta, source, names, params) if values else None
        if rows is None:
            inner = [f"c{i}" for i in range(len(names))]
            casts = [
                exp.Cast(
                    this=exp.column(c), to=exp.DataType.build(duck_type(by_name[n].type), dialect="duckdb")
                ).as_(n, quoted=True)
                for c, n in zip(inner, names, strict=True)
            ]
            wrapped = exp.select(*casts).from_(
                exp.Subquery(
                    this=source.copy(),
                    alias=exp.TableAlias(
                        this=exp.to_identifier("__v"), columns=[exp.to_identifier(c) for c in inner]
                    ),
                )
            )
            rows = session.query_arrow(wrapped, params)
            if values:  # (what _plain_values builds its rows as, from the next statement on)
                session.sql_engine.values_schemas[(meta.id, tuple(names))] = (meta, rows.schema)
    else:  # every column takes its default: as many rows as VALUES has, no column yet
        rows = pa.table({"__n": np.zeros(len(source.expressions), np.int8)}).drop_columns(["__n"])
    if ignored:  # OVERRIDING USER VALUE: the identity columns take their next values
        rows = rows.drop_columns([n for n in ignored if n in rows.column_names])
        names = [n for n in names if n not in ignored]
        serial_rows = {n: at for n, at in serial_rows.items() if n not in ignored}
    for name, at in serial_rows.items():
        rows = _serial_values(session, meta, table, rows, by_name[name], at)
    rows = _with_defaults(session, meta, table, rows, [c for c in cols if c.name not in names])
    rows = generated.fill(session, meta, rows)
    constraints.enforce(session, meta.name, constraints.of_table(meta.options), rows)
    returning = tree.args.get("returning")
    conflict = tree.args.get("conflict")
    if conflict is None or not _general_update(meta, conflict):  # (_upsert checks what it writes)
        foreign_keys.check_references(session, meta.name, foreign_keys.of_table(meta.options), rows)
    if conflict is None:
        constraints.check_unique(session, table, meta, rows)
    if rows.num_rows == 0:
        return _returning(session, returning, _every_column(cols, rows), "INSERT 0 0", table)
    start = session.sql_engine.next_row_times(rows.num_rows) if meta.time_column == HIDDEN_TIME else None
    batch = to_write_batch(meta, rows, start)
    if conflict is not None and _general_update(meta, conflict):
        return _upsert(session, table, rp, meta, rows, conflict, returning)
    if conflict is not None and not meta.dedupe:
        kept = _do_nothing_on_keys(session, table, meta, rows, conflict)
        rows = rows.take(kept)
        batch = _take(batch, kept)
        if conflict.args.get("conflict_keys") or conflict.args.get("constraint") is not None:
            # the target's key is the only arbiter: a row new to it but not to another key is 23505
            constraints.check_unique(session, table, meta, rows)
    elif conflict is not None:
        batch, kept = _on_conflict(session, rp, meta, batch, conflict)
        rows = rows.take(kept)
    n = len(batch)
    if n:
        _write(session, rp, batch, meta)
    if returning is not None:
        return _returning(session, returning, _every_column(cols, rows), f"INSERT 0 {n}", table)
    return Result(None, tag=f"INSERT 0 {n}")


def _every_column(cols: list, rows: pa.Table) -> pa.Table:
    """The rows written with every column of the table, in its order: those with neither a value nor a
    default NULL (what RETURNING reads, ``*`` included)."""
    n = rows.num_rows
    return pa.table(
        {
            c.name: rows.column(c.name) if c.name in rows.column_names else pa.nulls(n, c.type.arrow)
            for c in cols
        }
    )


def _width(session: SqlSession, source: exp.Query, params: list) -> int:
    """How many columns a query gives (no row read)."""
    probe = exp.select("*").from_(
        exp.Subquery(this=source.copy(), alias=exp.TableAlias(this=exp.to_identifier("__w")))
    )
    return session.query_arrow(probe.limit(0), params).num_columns


def _plain_values(
    session: SqlSession, meta, source: exp.Values, names: list[str], params: list
) -> pa.Table | None:
    """The rows of a VALUES list of constants and parameters whose values already are of their
    columns' kinds (an int for an integer column, a str for text, an aware datetime for timestamptz
    ..., now() for timestamptz), built directly: what an ORM's one-row INSERT sends. The DuckDB statement that casts them
    (rewrite, bind, run: ~5 ms) gives the same rows; its result schema for these columns of this
    table is kept (``SqlEngine.values_schemas``) from the first such statement, which it runs. None
    for anything else (an expression, a text for a number, a value out of range ...): DuckDB casts it
    and reports what is wrong, as before."""
    known = session.sql_engine.values_schemas.get((meta.id, tuple(names)))
    if known is None or known[0] is not meta:
        return None
    schema: pa.Schema = known[1]
    accepts = [_accepts(meta.column(n), f.type) for n, f in zip(names, schema, strict=True)]
    if any(a is None for a in accepts):
        return None
    columns: list[list] = [[] for _ in names]
    now = dt.datetime.now(dt.UTC)  # (now(): DuckDB's statement time, which the general path takes)
    for row in source.expressions:
        cells = row.expressions
        if len(cells) != len(names):
            return None
        for i, cell in enumerate(cells):
            value = (
                now if isinstance(cell, exp.CurrentTimestamp) and not cell.args else _constant(cell, params)
            )
            if value is _NOT_CONSTANT or (value is not None and not accepts[i](value)):
                return None
            columns[i].append(value)
    try:
        return pa.table(
            [pa.array(v, type=f.type) for v, f in zip(columns, schema, strict=True)], schema=schema
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError):
        return None  # (out of range ...: DuckDB's error)


_NOT_CONSTANT = object()
_FLOAT4_MAX = float(np.finfo(np.float32).max)


def _fits_float4(v: float) -> bool:
    """Whether ``v`` rounds to a finite, nonzero-if-nonzero float4 (else PostgreSQL's 22003)."""
    if v == 0:
        return True
    r = float(np.float32(v)) if abs(v) <= _FLOAT4_MAX * 2 else float("inf")
    return r != 0 and math.isfinite(r)


def _constant(cell: exp.Expression, params: list):
    """A VALUES cell's value: a parameter's, a literal's (numbers as int or float, strings as str), a
    boolean, NULL; _NOT_CONSTANT for anything else (now() is the caller's)."""
    if isinstance(cell, exp.Null):
        return None
    if isinstance(cell, exp.Parameter) and isinstance(cell.this, exp.Literal) and not cell.this.is_string:
        k = int(cell.this.this) - 1
        return params[k] if 0 <= k < len(params) else _NOT_CONSTANT
    if isinstance(cell, exp.Boolean):
        return bool(cell.this)
    negative = isinstance(cell, exp.Neg)
    lit = cell.this if negative else cell
    if not isinstance(lit, exp.Literal):
        return _NOT_CONSTANT
    text = lit.this
    if lit.is_string:
        return _NOT_CONSTANT if negative else text
    if text.isdigit():
        return -int(text) if negative else int(text)
    try:
        number = float(text)
    except ValueError:
        return _NOT_CONSTANT
    if not math.isfinite(number):  # (PostgreSQL reads 1e400 as numeric: out of range for a float)
        return _NOT_CONSTANT
    return -number if negative else number


def _accepts(col, typ: pa.DataType):
    """What a plain VALUES cell of column ``col`` (arrow type ``typ``, as DuckDB casts it) may hold
    to be taken as it is; None: no fast path for the column's type."""
    if col is None:
        return None
    name = col.pg_type or ""
    if pa.types.is_integer(typ):
        return lambda v: type(v) is int
    if pa.types.is_float32(typ):  # (PostgreSQL's float8 -> float4: overflow and underflow are errors)
        return lambda v: type(v) in (int, float) and _fits_float4(v)
    if pa.types.is_floating(typ):
        return lambda v: type(v) in (int, float)
    if pa.types.is_boolean(typ):
        return lambda v: type(v) is bool
    if pa.types.is_string(typ) and name in ("", "text"):
        return lambda v: type(v) is str and "\x00" not in v
    if pa.types.is_timestamp(typ):
        aware = typ.tz is not None
        return lambda v: type(v) is dt.datetime and (v.tzinfo is not None) == aware
    return None


def no_arrays(table: str, columns: list) -> None:
    """0A000 when a write gives a value to an array column of an element type sql/arrays.py does not
    read as a list (numeric, uuid, jsonb ...): such columns are declared and read as text."""
    for c in columns:
        if c.type.name.endswith("[]") and arrays.element_of(c.type.name) is None:
            raise E.FeatureNotSupported(
                f'writing the array column "{c.name}" of "{table}" is not supported yet'
            )


def _values_defaults(values: exp.Values, names: list[str], defaults: dict) -> tuple[list[str], dict]:
    """``DEFAULT`` items of a VALUES list, in place: a column that is DEFAULT in every row is left out
    (it is filled as an omitted column is); elsewhere DEFAULT becomes the column's expression, or
    NULL (no default, or a SERIAL, whose values :func:`_serial_values` puts there). Returns the
    columns still given, and per SERIAL column the rows whose DEFAULT it fills."""
    rows = [t.expressions for t in values.expressions]
    if not any(identity.is_default(e) for r in rows for e in r):
        return names, {}
    keep = [i for i in range(len(names)) if not all(identity.is_default(r[i]) for r in rows)]
    serial: dict[str, list[int]] = {}
    for i in keep:
        d = defaults.get(names[i])
        for k, r in enumerate(rows):
            if not identity.is_default(r[i]):
                continue
            if d is not None and "sql" in d:
                r[i].replace(exp.maybe_parse(d["sql"], dialect="postgres"))
            else:
                r[i].replace(exp.Null())
                if d is not None:
                    serial.setdefault(names[i], []).append(k)
    for t in values.expressions:
        t.set("expressions", [t.expressions[i] for i in keep])
    return [names[i] for i in keep], serial


def _serial_values(
    session: SqlSession, meta, table: exp.Table, rows: pa.Table, col, at: list[int]
) -> pa.Table:
    """Column ``col`` of ``rows`` with the next values of its sequence at rows ``at`` (its DEFAULTs)."""
    values = rows.column(col.name).to_numpy(zero_copy_only=False).astype(object)
    values[np.asarray(at)] = _sequence_block(session, table, meta.options["defaults"][col.name], len(at), col)
    i = rows.column_names.index(col.name)
    return rows.set_column(i, col.name, pa.array(values.tolist(), rows.schema.field(i).type))


def _sequence_block(session: SqlSession, table: exp.Table, d: dict, n: int, col) -> np.ndarray:
    """The next ``n`` values of a default's sequence: a SERIAL's (``{"seq": name}``, in the table's
    schema) or ``nextval('name')``'s (``"type"`` kept too; the name as regclass reads it); 22003 when
    one does not fit the column (a bigint sequence's value into an integer column)."""
    from sql import sequences
    from sql.ddl import sequence_key

    if "type" in d:
        schema, name = sequences.resolve(session, d["seq"])
    else:
        schema, name = table.db or "public", d["seq"]
    values = sequences.next_values(session, sequence_key(session.database, schema, name), name, n)
    width = {pa.int16(): "smallint", pa.int32(): "integer"}.get(col.type.arrow)
    if (
        width
        and len(values)
        and not sequences.RANGES[width][0] <= values.min() <= values.max() <= sequences.RANGES[width][1]
    ):
        raise E.NumericValueOutOfRange(f"{width} out of range")
    return values


def _fix_literals(values: exp.Values, targets: list) -> None:
    """'2016-01-01 00:00:00 +0000' into a timestamp column, as PostgreSQL reads it (see
    sql/rewrite/timestamp_literals.py); only at positions whose column is a timestamp. A text
    '{a,b}' into an array column becomes its ARRAY[...] (:func:`array_literal`). A text into an
    integer column must be integer digits (22P02)."""
    from sql.rewrite.timestamp_literals import normalise

    for row in values.expressions:
        for e, col in zip(row.expressions, targets, strict=False):
            if col.type.name in ("timestamptz", "timestamp") and isinstance(e, exp.Literal) and e.is_string:
                new = normalise(e.this)
                if new is not None:
                    e.replace(exp.Literal.string(new))
            elif col.type.name in ("int2", "int4", "int8") and isinstance(e, exp.Literal) and e.is_string:
                if not pgt.is_integer_text(e.this):
                    raise E.InvalidTextRepresentation(
                        f'invalid input syntax for type {col.type.sql_name}: "{e.this}"'
                    )
            else:
                array_literal(e, col)


def array_literal(e: exp.Expression, col) -> exp.Expression:
    """A text literal written to an array column as the ARRAY[...] of its elements (DuckDB casts no
    '{1,2}' text to a list: sql/arrays.py reads it); anything else as it is."""
    element = arrays.element_of(col.type.name)
    if element is None or not (isinstance(e, exp.Literal) and e.is_string):
        return e
    new = arrays.literal(e.this, element, exp.DataType.build(duck_type(col.type), dialect="duckdb"))
    e.replace(new)
    return new


def _with_defaults(session: SqlSession, meta, table: exp.Table, rows: pa.Table, missing: list) -> pa.Table:
    """Fill omitted columns from their defaults: SERIAL sequences (one block of values per
    statement) and constant DEFAULT expressions (evaluated once per statement)."""
    defaults = meta.options.get("defaults", {})
    n = rows.num_rows
    for c in missing:
        d = defaults.get(c.name)
        if d is None or n == 0:
            continue
        if "seq" in d:
            arr = pa.array(_sequence_block(session, table, d, n, c), pa.int64()).cast(c.type.arrow)
        else:
            one = session.query_arrow(
                exp.select(
                    exp.Cast(
                        this=exp.maybe_parse(d["sql"], dialect="postgres"),
                        to=exp.DataType.build(duck_type(c.type), dialect="duckdb"),
                    ).as_("v")
                ),
                [],
            )
            arr = pa.repeat(one.column(0)[0], n).cast(c.type.arrow)
        rows = rows.append_column(c.name, arr)
    return rows


def _returning(
    session: SqlSession, returning: exp.Returning | None, rows: pa.Table, tag: str, table: exp.Table
) -> Result:
    """RETURNING: the expressions over the rows written (INSERT, UPDATE) or deleted (as DuckDB
    evaluates them), which may name the table (``RETURNING t.id``, as SQLAlchemy and Alembic write it)."""
    if returning is None:
        return Result(None, tag=tag)
    source = exp.Table(
        this=exp.to_identifier("__returning"),
        alias=exp.TableAlias(this=exp.to_identifier(table.alias_or_name)),
    )
    q = exp.select(*[e.copy() for e in returning.expressions]).from_(source)
    cur = session._cursor()
    try:
        cur.register("__returning", rows)
        out = cur.sql(q.sql("duckdb")).to_arrow_table()
    finally:
        cur.close()
    from sql.session import ColumnDesc
    from sql.types import from_arrow

    columns = [ColumnDesc(f.name, from_arrow(f.type).oid) for f in out.schema]
    return Result(columns, iter(out.to_batches()), tag=tag)


def returning_columns(session: SqlSession, tree: exp.Insert | exp.Update | exp.Delete) -> list | None:
    """The columns a statement's RETURNING gives (None: it has none), as its execution gives them:
    described at Parse, as PostgreSQL does, so that clients on the extended protocol (psycopg,
    SQLAlchemy, Alembic) bind result formats for them."""
    returning = tree.args.get("returning")
    if returning is None:
        return None
    target = tree.this
    table = target.this if isinstance(target, exp.Schema) else target
    _rp, meta = resolve_table(session.storage, session.database, table)
    empty = pa.table(
        {c.name: pa.array([], c.type.arrow) for c in sql_columns(meta)}  # (the rows as INSERT casts them)
    )
    return _returning(session, returning, empty, "", table).columns


def _write(session: SqlSession, rp: str | None, batch, meta, *, undo: bool = True) -> None:
    """Write to the table the statement resolved (``meta``): one renamed or dropped meanwhile
    is not made again under its name (42P01). In a transaction block the write's undo is noted
    first (sql/transaction.py; ``undo=False``: an earlier entry of the statement covers it)."""
    if undo and session.txn is not None:
        transaction.before_write(session, rp, meta, batch)
    table_id = meta.id
    txn = session.txn  # (in a block, COMMIT waits for the WAL fsync: sql/transaction.py)
    try:
        res = session.storage.write(session.database, batch, rp=rp, table_id=table_id, sync=txn is None)
    except TableNotFound:
        raise E.UndefinedTable(f'relation "{batch.table}" does not exist') from None
    except StorageError as exc:
        raise E.DatatypeMismatch(str(exc)) from exc
    if txn is not None:
        txn.wrote(res.wal_seq)
    if res.errors:
        raise E.DatatypeMismatch(str(res.errors[0]))


def _general_update(meta, conflict: exp.OnConflict) -> bool:
    """Whether ON CONFLICT DO UPDATE needs :func:`_upsert`: anything beyond ``SET c = EXCLUDED.c``
    on a table that keeps one row per (tags, time) (whose writes of only those columns do it)."""
    action = (conflict.args.get("action").name if conflict.args.get("action") else "").upper()
    if action != "DO UPDATE":
        return False
    if not meta.dedupe or conflict.args.get("where") is not None:
        return True
    for e in conflict.expressions:
        src = e.expression if isinstance(e, exp.EQ) else None
        if not (isinstance(src, exp.Column) and src.table.lower() == "excluded" and src.name == e.this.name):
            return True
    return False


def _conflict_key(meta, conflict: exp.OnConflict) -> list[str]:
    """The key ON CONFLICT names (its columns, or ON CONSTRAINT name), one of the table's keys."""
    keys = [list(k) for k in meta.options.get("keys") or [] if k]
    name = conflict.args.get("constraint")
    if name is not None:
        for k in keys:
            if constraints.key_name(meta, k) == name.name:
                return k
        raise E.UndefinedObject(f'constraint "{name.name}" for table "{meta.name}" does not exist')
    target = [o.this.name for o in conflict.args.get("conflict_keys") or [] if isinstance(o.this, exp.Column)]
    if not target:
        raise E.SyntaxError_("ON CONFLICT DO UPDATE requires inference specification or constraint name")
    for k in keys:
        if sorted(k) == sorted(target):
            return k
    _check_conflict_columns(meta, conflict)
    raise E.InvalidColumnReference(
        "there is no unique or exclusion constraint matching the ON CONFLICT specification"
    )


def _upsert(
    session: SqlSession, table: exp.Table, rp, meta, rows: pa.Table, conflict: exp.OnConflict, returning
) -> Result:
    """INSERT ... ON CONFLICT (key) DO UPDATE SET ... [WHERE ...] in general: the stored rows of the
    new rows' keys are read, the SET expressions computed over each (the stored row under the
    table's name, the new one as EXCLUDED, DuckDB after the query rewrite), and the results written
    over them; new keys are inserted. Rows kept with duplicates or without a time key are deleted
    by their key first, which needs a key of tags (and the time)."""
    key = _conflict_key(meta, conflict)
    cols = sql_columns(meta)
    by_name = {c.name: c for c in cols}
    if any(by_name[k].kind == "field" for k in key) or (not meta.dedupe and meta.time_column in key):
        raise E.FeatureNotSupported("ON CONFLICT DO UPDATE on this key (a field in it) is not supported")
    alias = table.alias_or_name
    present = [k for k in key if k in rows.column_names]
    if len(present) < len(key):  # a key column left to its default (SERIAL): every row is new
        old = rows.slice(0, 0)
    else:
        keys = rows.select(key)
        if keys.group_by(key).aggregate([([], "count_all")]).num_rows < rows.num_rows:
            raise E.CardinalityViolation("ON CONFLICT DO UPDATE command cannot affect row a second time")
        where = exp.and_(
            *[
                exp.column(k, quoted=True).isin(
                    *[exp.convert(v) for v in set(keys.column(k).to_pylist()) if v is not None]
                )
                for k in key
            ]
        )
        old = session.query_arrow(
            exp.select(*[exp.column(c.name, quoted=True) for c in cols]).from_(table.copy()).where(where), []
        )
    on = exp.and_(
        *[
            exp.column(k, table=alias, quoted=True).eq(exp.column(k, table="excluded", quoted=True))
            for k in key
        ]
    )
    sets = {e.this.name: e.expression for e in conflict.expressions}
    for n in sets:
        if n not in by_name:
            raise E.UndefinedColumn(f'column "{n}" of relation "{meta.name}" does not exist')
    updated_q = (
        exp.select(
            *[
                exp.Cast(
                    this=sets[c.name].copy()
                    if c.name in sets
                    else exp.column(c.name, table=alias, quoted=True),
                    to=exp.DataType.build(duck_type(c.type), dialect="duckdb"),
                ).as_(c.name, quoted=True)
                for c in cols
            ],
            *[exp.column(k, table=alias, quoted=True).as_(f"__stored{i}") for i, k in enumerate(key)],
        )
        .from_(_registered("__old", alias))
        .join(_registered("__new", "excluded"), on=on)
    )
    if conflict.args.get("where") is not None:
        updated_q = updated_q.where(conflict.args["where"].this.copy())
    fresh_q = (
        exp.select(
            *[exp.column(c.name, table="excluded", quoted=True) for c in cols if c.name in rows.column_names]
        )
        .from_(_registered("__new", "excluded"))
        .where(
            exp.Not(this=exp.Exists(this=exp.select("1").from_(_registered("__old", alias)).where(on.copy())))
        )
    )
    cur = session._cursor()
    try:
        cur.register("__new", rows)
        cur.register("__old", old)
        updated = cur.sql(session._execution_tree(updated_q, None).sql("duckdb")).to_arrow_table()
        fresh = cur.sql(session._execution_tree(fresh_q, None).sql("duckdb")).to_arrow_table()
    except duckdb.Error as exc:
        raise duck.translate(exc) from exc
    finally:
        cur.close()
    stored = pa.table({k: updated.column(f"__stored{i}") for i, k in enumerate(key)})  # (their keys)
    updated = generated.fill(session, meta, updated.select([c.name for c in cols]))
    fresh = generated.fill(session, meta, fresh)
    checks = constraints.of_table(meta.options)
    constraints.enforce(session, meta.name, checks, updated)
    for t in (updated, fresh):
        foreign_keys.check_references(session, meta.name, foreign_keys.of_table(meta.options), t)
    rekeyed = not meta.dedupe or any(by_name[n].kind != "field" for n in sets)
    if updated.num_rows and (rekeyed or any(updated.column(c.name).null_count for c in cols)):
        # (rows kept with duplicates, a tag SET, or a written NULL, which keeps the stored value: the
        # old rows go, by their stored keys, which a SET may have changed in ``updated``)
        pd = _key_pushdown(session, table, meta, key, stored)
        _delete(session, rp, meta, pd)
    written = [t for t in (updated, fresh) if t.num_rows]
    n = 0
    for t in written:
        start = session.sql_engine.next_row_times(t.num_rows) if meta.time_column == HIDDEN_TIME else None
        _write(session, rp, to_write_batch(meta, t, start), meta)
        n += t.num_rows
    out = (
        pa.concat_tables([fresh, updated.select(fresh.column_names)], promote_options="permissive")
        if written
        else rows.slice(0, 0)
    )
    return _returning(session, returning, out, f"INSERT 0 {n}", table)


def _matched(session: SqlSession, table: exp.Table, joins: list, where, params: list, exprs) -> pa.Table:
    """``exprs`` over the rows an UPDATE or DELETE changes: its table with its FROM / USING items
    joined and its WHERE applied."""
    q = exp.select(*exprs).from_(table.copy())
    for j in joins:
        q = q.join(j.copy())
    if where is not None:
        q = q.where(where.this.copy())
    return session.query_arrow(q, params)


def _tag_key(meta) -> list[str] | None:
    """A PRIMARY KEY / UNIQUE key of tag columns (without the time), by which stored rows are
    found and deleted exactly; None when the table has none."""
    by_name = {c.name: c for c in sql_columns(meta)}
    return next((k for k in constraints.plain_keys(meta) if all(by_name[c].kind == "tag" for c in k)), None)


def _key_pushdown(session: SqlSession, table: exp.Table, meta, key: list[str], rows: pa.Table):
    """The storage's exact selection of the stored rows whose ``key`` (tags, or tags and the time)
    is one of ``rows``': what deletes them."""
    return _exact(session, table, meta, _key_condition(meta, key, rows), key)


def _key_condition(meta, key: list[str], rows: pa.Table) -> exp.Expression:
    """``key`` is one of ``rows``' values of it (an OR of ANDs of equalities)."""
    by_name = {c.name: c for c in sql_columns(meta)}
    return exp.or_(
        *[
            exp.and_(
                *[
                    exp.column(k, quoted=True).is_(exp.null())
                    if v is None  # (which the storage does not select exactly: 0A000, not another row)
                    else exp.column(k, quoted=True).eq(_key_literal(by_name[k], v))
                    for k, v in zip(key, r, strict=True)
                ]
            )
            for r in set(zip(*[rows.column(k).to_pylist() for k in key], strict=True))
        ]
    )


def _exact(session: SqlSession, table: exp.Table, meta, condition: exp.Expression, key: list[str]):
    pd = _pushdown(session, table, meta, exp.Where(this=condition), [])
    if not pd.exact:
        raise E.FeatureNotSupported(f'rows of "{meta.name}" cannot be selected exactly by ({", ".join(key)})')
    return pd


def _delete_rewriting(
    session: SqlSession,
    table: exp.Table,
    rp,
    meta,
    where,
    params: list,
    gone: pa.Table,
    joins: list | tuple = (),
) -> None:
    """Delete the rows ``gone`` that a WHERE (with its FROM / USING items ``joins``) found where the
    storage cannot select them exactly (a condition on a field; a key holding a NULL, which a UNIQUE
    key allows any number of): the stored rows of their series (their tags) within their time span
    (a table without a time column: all of them) are deleted, and those of them the WHERE does not
    find are written back, as UPDATE writes rows again (a crash between the two loses those rows, as
    it does UPDATE's). The storage's selection and the SQL one of the rows written back are built
    side by side to select the same rows: a NULL tag is a series without it, which the storage's
    ``tag = ''`` selects (with a stored '' beside it) and SQL's ``COALESCE(tag, '') = ''``; each row
    written back keeps its own NULL or ''."""
    cols = sql_columns(meta)
    by_name = {c.name: c for c in cols}
    tags = [c.name for c in cols if c.kind == "tag"]
    hidden = meta.time_column == HIDDEN_TIME
    span: exp.Expression = exp.true()
    bounds: dict[str, int] = {}  # (none without a time column: the series' every row)
    if not hidden:
        tcol = by_name[meta.time_column]
        ns = to_ns(gone.column(tcol.name).combine_chunks(), tcol.type)
        lo, hi = int(ns.min()), int(ns.max())
        times = gone.column(tcol.name)
        first, last = pc.min(times).as_py(), pc.max(times).as_py()
        # (SQL reads times in microseconds: the span reaches to the end of the last one's microsecond)
        span = exp.and_(
            exp.column(tcol.name, quoted=True) >= _key_literal(tcol, first),
            exp.column(tcol.name, quoted=True) < _key_literal(tcol, last + dt.timedelta(microseconds=1)),
        )
        bounds = {"tmin": lo - lo % 1000, "tmax": hi - hi % 1000 + 999}
    predicate: TagPredicate | None = None
    selection = span
    if tags:
        series = set(zip(*[gone.column(k).to_pylist() for k in tags], strict=True))
        predicate = Or(
            tuple(And(tuple(TagEq(k, _tag_text(v)) for k, v in zip(tags, r, strict=True))) for r in series)
        )
        selection = exp.and_(
            span,
            exp.or_(
                *[
                    exp.and_(
                        *[
                            exp.func("COALESCE", exp.column(k, quoted=True), exp.Literal.string("")).eq(
                                exp.Literal.string(_tag_text(v))
                            )
                            for k, v in zip(tags, r, strict=True)
                        ]
                    )
                    for r in series
                ]
            ),
        )
    found = where.this.copy() if where is not None else exp.true()
    if joins:  # (the row is found when some row of the FROM / USING items meets the WHERE beside it)
        inner = exp.select("1").from_(joins[0].copy())
        for j in joins[1:]:
            inner = inner.join(j.copy())
        found = exp.Exists(this=inner.where(found))
    kept = exp.and_(selection, exp.not_(exp.func("COALESCE", found, exp.false())))
    alias = table.alias_or_name
    survivors = _matched(
        session, table, [], exp.Where(this=kept), params,
        [exp.column(c.name, table=alias, quoted=True).as_(c.name, quoted=True) for c in cols],
    )  # fmt: skip
    tmin, tmax = bounds.get("tmin", INT64_MIN), bounds.get("tmax", INT64_MAX)
    _note_delete(session, rp, meta, tmin, tmax, predicate)
    rows = None
    if survivors.num_rows:  # (each written back keeps its own NULL or ''; a hidden time anew)
        start = session.sql_engine.next_row_times(survivors.num_rows) if hidden else None
        rows = to_write_batch(meta, survivors, start)
    replace_span(session, rp, meta, tmin, tmax, rows, predicate=predicate)


def _selects_exactly(rows: pa.Table, key: list[str]) -> bool:
    """Whether the storage selects exactly the stored rows of ``rows``' values of a key of tags: not
    when one holds a NULL (no row's alone under a UNIQUE key) or '' (which it does not tell from a
    NULL); :func:`_delete_rewriting` deletes those."""
    return not any(v is None or v == "" for k in key for v in rows.column(k).to_pylist())


def replace_span(
    session: SqlSession,
    rp: str | None,
    meta,
    tmin: int,
    tmax: int,
    rows,
    *,
    predicate: TagPredicate | None = None,
    series: np.ndarray | None = None,
) -> None:
    """Delete the stored rows of a set of series (``predicate``'s, of them ``series``) within
    [tmin, tmax] and write ``rows`` (a write batch, or None) there instead: what a DELETE the
    storage cannot select exactly does (:func:`_delete_rewriting`), and what undoes a write in a
    transaction block (sql/transaction.py). A crash between the two loses ``rows``."""
    session.storage.delete(
        session.database, meta.name, tmin=tmin, tmax=tmax, predicate=predicate, rp=rp, series=series
    )
    if rows is not None and len(rows):
        _write(session, rp, rows, meta, undo=False)


def _note_delete(session: SqlSession, rp, meta, tmin: int, tmax: int, predicate) -> None:
    """In a transaction block, the rows a delete of ``predicate``'s series in [tmin, tmax] is about
    to remove are noted for its undo."""
    if session.txn is not None:
        transaction.before_delete(session, rp, meta, tmin, tmax, predicate)


def _delete(session: SqlSession, rp, meta, pd) -> None:
    """The storage's delete of a pushdown's exact selection (its undo noted in a block)."""
    _note_delete(session, rp, meta, pd.tmin, pd.tmax, pd.predicate)
    session.storage.delete(
        session.database, meta.name, tmin=pd.tmin, tmax=pd.tmax, predicate=pd.predicate, rp=rp
    )


def _tag_text(v: object) -> str:
    """A tag value as stored (NULL: no tag, which compares as '')."""
    if v is None:
        return ""
    return str(v).lower() if isinstance(v, bool) else str(v)


def _key_literal(col, v) -> exp.Expression:
    """A key value compared with its column where the storage reads the comparison exactly: a tag
    (stored as text) with its text, the time with its ISO text."""
    if col.kind == "tag":
        return exp.Literal.string(str(v).lower() if isinstance(v, bool) else str(v))
    return exp.convert(v)


def _registered(name: str, alias: str) -> exp.Table:
    return exp.Table(this=exp.to_identifier(name), alias=exp.TableAlias(this=exp.to_identifier(alias)))


def _check_conflict_columns(meta, conflict: exp.OnConflict) -> None:
    """42703 for an ON CONFLICT target naming a column the table does not have."""
    for o in conflict.args.get("conflict_keys") or []:
        if isinstance(o.this, exp.Column) and meta.column(o.this.name) is None:
            raise E.UndefinedColumn(f'column "{o.this.name}" does not exist')


def _on_conflict(session: SqlSession, rp, meta, batch, conflict: exp.OnConflict):
    """DO NOTHING drops rows whose (tags, time) exist; DO UPDATE SET col = EXCLUDED.col writes the
    named columns only, so the others keep their stored values (last write wins per column)."""
    if not meta.dedupe:
        _check_conflict_columns(meta, conflict)
        raise E.InvalidColumnReference(
            "there is no unique or exclusion constraint matching the ON CONFLICT specification"
        )
    action = (conflict.args.get("action").name if conflict.args.get("action") else "").upper()
    exists = _existing(session, rp, meta, batch)
    if action == "DO NOTHING":
        # within the batch, the first of duplicate keys stays (PostgreSQL skips the later ones)
        keys = np.rec.fromarrays([batch.series, batch.time])
        _, first = np.unique(keys, return_index=True)
        keep = np.zeros(len(batch), bool)
        keep[first] = True
        keep &= ~exists
        kept = np.flatnonzero(keep)
        return _take(batch, kept), kept
    sets = {}
    for e in conflict.expressions:
        if not isinstance(e, exp.EQ):
            raise E.FeatureNotSupported("ON CONFLICT DO UPDATE supports SET col = EXCLUDED.col")
        src = e.expression
        if not (isinstance(src, exp.Column) and src.table.lower() == "excluded" and src.name == e.this.name):
            raise E.FeatureNotSupported("ON CONFLICT DO UPDATE supports SET col = EXCLUDED.col")
        sets[e.this.name] = True
    if conflict.args.get("where") is not None:
        raise E.FeatureNotSupported("ON CONFLICT ... WHERE is not supported")
    for name, col in batch.fields.items():
        if name not in sets:
            valid = np.ones(len(batch), bool) if col.valid is None else col.valid.copy()
            valid &= ~exists  # conflicting rows keep the stored value of columns not SET
            col.valid = valid if not valid.all() else None
    return batch, np.arange(len(batch))


def _do_nothing_on_keys(session: SqlSession, table: exp.Table, meta, rows: pa.Table, conflict) -> np.ndarray:
    """ON CONFLICT DO NOTHING on a table whose keys do not include time: keep the rows whose every
    key (PRIMARY KEY, UNIQUE constraints and indexes) is new, first occurrence within the statement."""
    action = (conflict.args.get("action").name if conflict.args.get("action") else "").upper()
    keys = [k for k in meta.options.get("keys", []) if k]
    target = [o.this.name for o in conflict.args.get("conflict_keys") or [] if isinstance(o.this, exp.Column)]
    if target:
        keys = [k for k in keys if sorted(k) == sorted(target)]
    if not keys:
        _check_conflict_columns(meta, conflict)
        raise E.InvalidColumnReference(
            "there is no unique or exclusion constraint matching the ON CONFLICT specification"
        )
    if action != "DO NOTHING":
        raise E.FeatureNotSupported("ON CONFLICT DO UPDATE needs a key that includes the time column")
    keep = np.ones(rows.num_rows, dtype=bool)
    for key in keys:
        if not all(k in rows.column_names for k in key):
            continue  # a key column left to its default (SERIAL) is new by construction
        stored = session.query_arrow(
            exp.select(*[exp.column(k, quoted=True) for k in key]).from_(table.copy()), []
        )
        have = (
            set(zip(*[stored.column(k).to_pylist() for k in key], strict=True)) if stored.num_rows else set()
        )
        seen: set = set()
        for i, tup in enumerate(zip(*[rows.column(k).to_pylist() for k in key], strict=True)):
            if tup in have or tup in seen:
                keep[i] = False
            seen.add(tup)
    return np.flatnonzero(keep)


def _existing(session: SqlSession, rp, meta, batch) -> np.ndarray:
    """For each row of the batch: does a stored row of the same series and time exist?"""
    db = session.storage.catalog.database(session.database)
    idx = session.storage.index(db.id)
    ids = np.array([idx.lookup(meta.name, ts) or 0 for ts in batch.tag_sets], dtype=np.int64)
    row_ids = ids[batch.series]
    if not (row_ids > 0).any():
        return np.zeros(len(batch), bool)
    t = read_table(
        session.storage,
        ScanRequest(
            session.database,
            meta.name,
            rp=rp,
            tmin=int(batch.time.min()),
            tmax=int(batch.time.max()),
            predicate=AllSeries(),
            fields=(),
            tags=(),
            with_series_id=True,
        ),
    )
    have = set(zip(t["__series_id"].to_pylist(), t.column(0).cast(pa.int64()).to_pylist(), strict=True))
    return np.array(
        [(int(s), int(tm)) in have for s, tm in zip(row_ids, batch.time, strict=True)], dtype=bool
    )


def _take(batch, idx: np.ndarray):
    batch.time = batch.time[idx]
    batch.series = batch.series[idx]
    batch.fields = {n: c.take(idx) for n, c in batch.fields.items()}
    return batch


def delete(session: SqlSession, tree: exp.Delete, params: list) -> Result:
    """DELETE by the storage's own selection of the rows (conditions on the time and tags); on a
    table with a PRIMARY KEY / UNIQUE key of tags, by the keys of the rows any WHERE (and USING)
    finds; otherwise by the series and time span of the rows any WHERE finds, the rest of that span
    written back (:func:`_delete_rewriting`)."""
    table = tree.this
    rp, meta = resolve_table(session.storage, session.database, table)
    alias = table.alias_or_name
    where, using = tree.args.get("where"), tree.args.get("using")

    joins = list(using or [])

    def matched(*exprs: exp.Expression) -> pa.Table:
        return _matched(session, table, joins, where, params, exprs)

    pd = _pushdown(session, table, meta, where, params) if not using else None
    key = None
    rewrite = False  # the rows found are deleted with their series' span, and the others written back
    if pd is None or not pd.exact:
        key = _tag_key(meta)
        if key is None:
            if using or meta.time_column == HIDDEN_TIME:
                raise E.FeatureNotSupported(
                    "DELETE ... USING, or of a table without a time column, supports conditions on tag"
                    " columns only, or any on a table with a key of tag columns"
                )
            rewrite = True
    returning = tree.args.get("returning")
    refs = foreign_keys.referencing(session, meta)
    if returning is not None or refs or key is not None or rewrite:  # the rows themselves are needed
        gone = matched(*[exp.column(c.name, table=alias, quoted=True).as_(c.name) for c in sql_columns(meta)])
        n = gone.num_rows
    else:  # (a retention-style DELETE of millions of rows reads none of them)
        n = matched(exp.Count(this=exp.Star())).column(0)[0].as_py()
    if n:
        if refs:
            foreign_keys.check_removed(session, meta, gone, None, deleting=True)
        if key is not None and not _selects_exactly(gone, key):
            rewrite = True
        if rewrite:
            _delete_rewriting(session, table, rp, meta, where, params, gone, joins)
        else:
            if key is not None:
                pd = _key_pushdown(session, table, meta, key, gone)
            assert pd is not None
            _delete(session, rp, meta, pd)
    if returning is None:
        return Result(None, tag=f"DELETE {n}")
    return _returning(session, returning, gone, f"DELETE {n}", table)


def _pushdown(session: SqlSession, table: exp.Table, meta, where, params: list):
    tags = {c.name for c in sql_columns(meta) if c.kind == "tag"}
    return table_pushdown(
        where,
        table.alias_or_name,
        meta.time_column,
        tags,
        lambda e: session.evaluate_ns(e, params),
        params,
        naive=naive_time(meta),
    )


def update(
    session: SqlSession, tree: exp.Update, params: list, pending: foreign_keys.Pending | None = None
) -> Result:
    """UPDATE as rows written again. Where a row's key (its tags and time) stays and the table keeps
    one row per key, writing the row again replaces it; otherwise (a tag or the time SET, a table
    that keeps duplicates or has no time key, a NULL written) the rows the WHERE selects are deleted
    first, which needs a WHERE the storage applies exactly (time and tag conditions). ``pending``: the
    change of a referenced table whose referential action this UPDATE is (sql/foreign_keys.py)."""
    table = tree.this
    rp, meta = resolve_table(session.storage, session.database, table)
    cols = sql_columns(meta)
    by_name = {c.name: c for c in cols}
    sets: dict[str, exp.Expression] = {}
    for e in tree.expressions:
        name = e.this.name
        if name not in by_name:
            raise E.UndefinedColumn(f'column "{name}" of relation "{meta.name}" does not exist')
        sets[name] = array_literal(e.expression, by_name[name])
    no_arrays(meta.name, [by_name[n] for n in sets])
    identity.check_update(meta, sets)
    generated.check_update(meta, sets)
    for name, value in list(sets.items()):
        if identity.is_default(value):  # SET c = DEFAULT: the column's default (a generated one is computed)
            d = (meta.options.get("defaults") or {}).get(name)
            if name in generated.of_table(meta):
                del sets[name]
            else:
                sets[name] = exp.maybe_parse(d["sql"], dialect="postgres") if d and "sql" in d else exp.Null()
    alias = table.alias_or_name
    where, from_ = tree.args.get("where"), tree.args.get("from_")

    joins = [from_.this] if from_ is not None else []

    def matched(*exprs: exp.Expression) -> pa.Table:
        return _matched(session, table, joins, where, params, exprs)

    # the keys other tables reference that a SET may change: each row's old ones read beside it
    refs = [r for r in foreign_keys.referencing(session, meta) if set(r[1]["ref_columns"]) & set(sets)]
    referenced = sorted({c for _child, fk in refs for c in fk["ref_columns"]})

    def cast(e: exp.Expression, c) -> exp.Expression:
        return exp.Cast(this=e.copy(), to=exp.DataType.build(duck_type(c.type), dialect="duckdb"))

    # every column, SET ones replaced: rows written back whole
    rows = matched(
        *[
            cast(sets.get(c.name, exp.column(c.name, table=alias, quoted=True)), c).as_(c.name, quoted=True)
            for c in cols
        ],
        *[
            cast(exp.column(c, table=alias, quoted=True), by_name[c]).as_(f"__referenced{i}")
            for i, c in enumerate(referenced)
        ],
    )
    old_keys = pa.table({c: rows.column(f"__referenced{i}") for i, c in enumerate(referenced)})
    rows = generated.fill(session, meta, rows.select([c.name for c in cols]))
    constraints.enforce(session, meta.name, constraints.of_table(meta.options), rows)
    foreign_keys.check_references(session, meta.name, foreign_keys.of_table(meta.options), rows, pending)
    plain_keys = constraints.plain_keys(meta)
    if rows.num_rows and any(set(k) & set(sets) for k in plain_keys):  # (a key SET: still unique?)
        names = sorted({c for k in plain_keys for c in k})
        old = matched(*[exp.column(c, table=alias, quoted=True).as_(c) for c in names])
        constraints.check_unique(session, table, meta, rows, old)
    batch = None
    if rows.num_rows:  # (built here: what it refuses, a NULL in a NOT NULL column, changes nothing)
        start = session.sql_engine.next_row_times(rows.num_rows) if meta.time_column == HIDDEN_TIME else None
        batch = to_write_batch(meta, rows, start)
    if refs and rows.num_rows:  # (last of the checks: its actions change other tables)
        acted = foreign_keys.check_removed(session, meta, old_keys, rows, deleting=False)
        if acted is not rows:  # (its own rows' references, when it references itself)
            assert acted is not None
            rows = acted
            batch = to_write_batch(meta, rows, start)
    rekeyed = not meta.dedupe or any(by_name[n].kind != "field" for n in sets)
    # (a written NULL means "no value here", which keeps the stored one: the rows go first)
    if rows.num_rows and (rekeyed or any(rows.column(n).null_count for n in sets)):
        pd = _pushdown(session, table, meta, where, params) if from_ is None else None
        key = _tag_key(meta) if pd is None or not pd.exact else None
        if pd is not None and not pd.exact and key is None and meta.time_column != HIDDEN_TIME:
            # by the found rows' series and time span, the rest of that span written back
            old = matched(
                *[exp.column(c.name, table=alias, quoted=True).as_(c.name, quoted=True) for c in cols]
            )
            _delete_rewriting(session, table, rp, meta, where, params, old)
        elif pd is not None and pd.exact:
            _delete(session, rp, meta, pd)
        else:  # by the rows' key instead, when a key of tags has them
            if key is None:
                raise E.FeatureNotSupported(
                    "this UPDATE writes the rows it changes again after deleting them: with FROM,"
                    " or on a table without a time column, it needs conditions on tag columns"
                    " only, or a key of tag columns"
                )
            old = matched(
                *[exp.column(c.name, table=alias, quoted=True).as_(c.name, quoted=True) for c in cols]
            )
            if _selects_exactly(old, key):
                _delete(session, rp, meta, _key_pushdown(session, table, meta, key, old))
            else:
                _delete_rewriting(session, table, rp, meta, where, params, old, joins)
    if batch is not None:
        _write(session, rp, batch, meta)
    return _returning(session, tree.args.get("returning"), rows, f"UPDATE {rows.num_rows}", table)
