"""Binding: table references of a query -> storage scans registered in the executor (DuckDB).

Each reference to one of our tables becomes a streaming Arrow reader over ``columnar.scan`` with
the pushdown the WHERE allows (sql/rewrite/pushdown.py), columns narrowed to those the query names,
converted to the table's declared SQL types (sql/tables.py). The reference is renamed to the
registered reader, keeping its alias, so the rest of the query is untouched. CTE names and table
functions are left alone; pg_catalog / information_schema go to the catalog emulation.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa
from sqlglot import exp

from columnar.catalog import TableMeta
from columnar.engine import Engine
from columnar.errors import StorageError
from columnar.scan import ScanRequest, scan
from sql.errors import UndefinedTable
from sql.rewrite.pg_types import output_oids, pg_types, scan_types
from sql.rewrite.pushdown import Pushdown, pushdown
from sql.tables import TIME_NS, SqlColumn, arrow_schema, sql_columns, time_ns_column, to_sql_reader

CATALOG_SCHEMAS = ("pg_catalog", "information_schema")
_names = itertools.count(1)


@dataclass
class BoundScan:
    name: str  # the name the reader is registered under
    table: str
    meta: TableMeta
    columns: list[SqlColumn]
    request: ScanRequest
    pushdown: Pushdown
    reader: pa.RecordBatchReader | pa.Table


@dataclass
class Binding:
    tree: exp.Expression
    scans: list[BoundScan] = field(default_factory=list)
    catalog_refs: list[exp.Table] = field(default_factory=list)
    output_oids: list[int | None] = field(default_factory=list)  # varchar/bpchar outputs (pg_types)


def resolve_table(storage: Engine, database: str, table: exp.Table) -> tuple[str | None, TableMeta]:
    """The retention policy (None = default) and table a reference names; UndefinedTable if none."""
    schema = table.db or ""
    rp = None if schema in ("", "public") else schema
    try:
        db = storage.catalog.database(database)
        rpm = storage.catalog.retention_policy(database, rp)
    except StorageError:
        raise UndefinedTable(f'relation "{_qualified(table)}" does not exist') from None
    meta = storage.table(db.id, rpm.name, table.name)
    if meta is None:
        raise UndefinedTable(f'relation "{_qualified(table)}" does not exist')
    return rpm.name, meta


def _qualified(table: exp.Table) -> str:
    return f"{table.db}.{table.name}" if table.db else table.name


def is_catalog_ref(table: exp.Table) -> bool:
    schema = (table.db or "").lower()
    return schema in CATALOG_SCHEMAS or (not schema and table.name.lower().startswith("pg_"))


def bind(
    storage: Engine,
    database: str,
    tree: exp.Expression,
    evaluate_ns: Callable[[exp.Expression], int | None],
    *,
    describe_only: bool,
    params: list | None = None,
) -> Binding:
    cte_names = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    binding = Binding(tree)
    stars = _uses_star(tree)
    names = {c.name for c in tree.find_all(exp.Column)}
    for table in list(tree.find_all(exp.Table)):
        if not isinstance(table.this, exp.Identifier):
            continue  # table functions: generate_series(...), unnest(...)
        if not table.db and table.name in cte_names:
            continue
        if is_catalog_ref(table):
            binding.catalog_refs.append(table)
            continue
        rp, meta = resolve_table(storage, database, table)
        cols = sql_columns(meta)
        alias = table.alias_or_name
        select, single = _enclosing_select(table)
        pd = Pushdown()
        if select is not None and not describe_only:
            time_names = {meta.time_column, TIME_NS}
            tag_names = {c.name for c in cols if c.kind == "tag"}

            def mine(col: exp.Column, _alias: str = alias, _single: bool = single) -> bool:
                return col.table == _alias or (not col.table and _single)

            pd = pushdown(
                select.args.get("where"),
                lambda c, m=mine, tn=time_names: c.name in tn and m(c),
                lambda c, m=mine, gn=tag_names: c.name in gn and m(c),
                evaluate_ns,
                params,
            )
        wanted = cols if stars else [c for c in cols if c.name in names or c.kind == "time"]
        if not wanted:  # count(*) over a table without a time column: rows need some column
            wanted = cols[:1]
        if TIME_NS in names and TIME_NS not in {c.name for c in cols}:
            wanted = [*wanted, time_ns_column()]
        req = ScanRequest(
            database,
            meta.name,
            rp=rp,
            tmin=pd.tmin,
            tmax=pd.tmax,
            predicate=pd.predicate,
            fields=tuple(c.name for c in wanted if c.kind == "field"),
            tags=tuple(c.name for c in wanted if c.kind == "tag"),
        )
        reg = f"__tsgres_scan_{next(_names)}"
        if describe_only:
            extra = [c for c in wanted if c.kind == "time_ns"]
            reader: pa.RecordBatchReader | pa.Table = arrow_schema(cols + extra).empty_table()
        else:
            reader = to_sql_reader(scan(storage, req), wanted, meta.time_column)
        binding.scans.append(BoundScan(reg, meta.name, meta, wanted, req, pd, reader))
        new = exp.Table(  # joins: in `((t a JOIN u b ...) JOIN ...)` they hang on the table
            this=exp.to_identifier(reg),
            alias=exp.TableAlias(this=exp.to_identifier(alias)),
            joins=table.args.get("joins"),
        )
        table.replace(new)
    # PostgreSQL's result types need the column types, known only now (sql/rewrite/pg_types.py)
    tables = {s.name: scan_types(sql_columns(s.meta)) for s in binding.scans}
    binding.tree = pg_types(binding.tree, tables)
    binding.output_oids = output_oids(binding.tree, tables)
    return binding


def _uses_star(tree: exp.Expression) -> bool:
    for star in tree.find_all(exp.Star):
        if isinstance(star.parent, exp.Count):
            continue
        return True
    return False


def _enclosing_select(table: exp.Table) -> tuple[exp.Select | None, bool]:
    parent = table.parent
    if isinstance(parent, exp.From | exp.Join):
        sel = parent.parent
        if isinstance(sel, exp.Select):
            n = (1 if sel.args.get("from_") else 0) + len(sel.args.get("joins") or [])
            return sel, n == 1
    return None, False
