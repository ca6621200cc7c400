"""Binding: table references of a query -> storage scans registered in the executor (DuckDB).

Each reference to one of our tables becomes a streaming Arrow reader over ``columnar.scan`` with
the pushdown the WHERE allows (sql/rewrite/pushdown.py), columns narrowed to those the query names,
converted to the table's declared SQL types (sql/tables.py). The reference is renamed to the
registered reader, keeping its alias, so the rest of the query is untouched. CTE names and table
functions are left alone; pg_catalog / information_schema / timescaledb_information go to the catalog
emulation.

A plan bound once (:func:`bind_plan`) may also hand subqueries to the native executor: the body of a
CTE or of a subquery in FROM that reads one of our tables alone and that the engine's ``plan_body``
accepts (an aggregate the native executor answers) is replaced by ``SELECT * FROM <name>``; at each
execution the engine computes it natively and registers the result under that name
(:class:`NativeBody`). DuckDB then runs only what is around it: gapfill's filling, window functions
over buckets, joins of aggregates.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from sqlglot import exp

from columnar.catalog import TableMeta
from columnar.engine import Engine
from columnar.errors import StorageError
from columnar.scan import ScanRequest, scan
from sql import enums
from sql.errors import UndefinedTable
from sql.rewrite.catalog_syntax import CATALOG_SCHEMAS
from sql.rewrite.pg_types import catalog_types, output_oids, pg_types, scan_types
from sql.rewrite.pushdown import Analysed, Pushdown, SubqueryValues
from sql.tables import (
    TIME_NS,
    SqlColumn,
    arrow_schema,
    naive_time,
    sql_columns,
    time_ns_column,
    to_sql_reader,
)
from sql.types import from_arrow

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
    user_arrays: frozenset[int] = frozenset()  # the array types of enums among output_oids


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


@dataclass
class _Reference:
    """One reference to our tables in a query: what it reads and the SELECT whose WHERE may narrow it."""

    table: exp.Table
    rp: str | None
    meta: TableMeta
    columns: list[SqlColumn]  # all of the table's
    wanted: list[SqlColumn]  # what the scan reads
    select: exp.Select | None
    single: bool  # the only source of that SELECT (its unqualified columns are this table's)

    def analysed(self, where: exp.Expression | None) -> Analysed:
        """``where`` (the SELECT's, or a copy of it) read for this reference's pushdown."""
        alias = self.table.alias_or_name
        single = self.single
        time_names = {self.meta.time_column, TIME_NS}
        tag_names = {c.name for c in self.columns if c.kind == "tag"}

        def mine(col: exp.Column) -> bool:
            return col.table == alias or (not col.table and single)

        return Analysed(
            where,
            lambda c: c.name in time_names and mine(c),
            lambda c: c.name in tag_names and mine(c),
            naive=naive_time(self.meta),
        )

    def request(self, database: str, pd: Pushdown) -> ScanRequest:
        return ScanRequest(
            database,
            self.meta.name,
            rp=self.rp,
            tmin=pd.tmin,
            tmax=pd.tmax,
            predicate=pd.predicate,
            fields=tuple(c.name for c in self.wanted if c.kind == "field"),
            tags=tuple(c.name for c in self.wanted if c.kind == "tag"),
        )


def _references(
    storage: Engine, database: str, tree: exp.Expression, catalog_refs: list[exp.Table]
) -> Iterator[_Reference]:
    """The references to our tables in ``tree`` (catalog references go to ``catalog_refs``); each may
    be replaced in the tree once yielded."""
    cte_names = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    cte_names.update(_body_names(tree))
    stars = _uses_star(tree)
    names = {c.name for c in tree.find_all(exp.Column)}
    for table in list(tree.find_all(exp.Table)):
        if not isinstance(table.this, exp.Identifier):
            continue  # table functions: generate_series(...), unnest(...)
        if not table.db and table.name in cte_names:
            continue
        if is_catalog_ref(table):
            catalog_refs.append(table)
            continue
        rp, meta = resolve_table(storage, database, table)
        cols = sql_columns(meta)
        col_names = {c.name for c in cols}
        # a whole-row reference (row_to_json(t), json_agg(t), SELECT t FROM t) reads every column
        whole = table.alias_or_name in names and table.alias_or_name not in col_names
        wanted = cols if stars or whole else [c for c in cols if c.name in names or c.kind == "time"]
        if not wanted:  # count(*) over a table without a time column: rows need some column
            wanted = cols[:1]
        if TIME_NS in names and TIME_NS not in col_names:
            wanted = [*wanted, time_ns_column()]
        select, single = _enclosing_select(table)
        yield _Reference(table, rp, meta, cols, wanted, select, single)


def _rename(ref: _Reference, reg: str) -> None:
    """Point ``ref`` at the reader registered as ``reg``, keeping its alias and its TABLESAMPLE."""
    new = exp.Table(  # joins: in `((t a JOIN u b ...) JOIN ...)` they hang on the table
        this=exp.to_identifier(reg),
        alias=exp.TableAlias(this=exp.to_identifier(ref.table.alias_or_name)),
        joins=ref.table.args.get("joins"),
        sample=ref.table.args.get("sample"),
    )
    ref.table.replace(new)


def _grouped_by_keys(tree: exp.Expression, metas: dict[str, TableMeta]) -> None:
    """PostgreSQL's functional dependency: a query grouped by a table's primary key may read the
    table's other columns outside aggregates (Django's ``annotate(n=Count(...))`` does). DuckDB wants
    them grouped, which changes no group: they are added to the GROUP BY."""
    for select in tree.find_all(exp.Select):
        group = select.args.get("group")
        if group is None or not metas:
            continue
        grouped = {(c.table, c.name) for c in group.expressions if isinstance(c, exp.Column)}
        sources = [t for t in _from_tables(select) if t.name in metas]
        for t in sources:
            key = metas[t.name].options.get("primary_key") or []
            alias, alone = t.alias_or_name, len(sources) == 1

            def ours(table: str, alias: str = alias, alone: bool = alone) -> bool:
                return table == alias or (not table and alone)

            if not key or not all(any(n == k and ours(tb) for tb, n in grouped) for k in key):
                continue
            parts = [*select.expressions, select.args.get("having"), select.args.get("order")]
            for part in (p for p in parts if p is not None):
                for c in part.find_all(exp.Column):
                    if (
                        not ours(c.table)
                        or (c.table, c.name) in grouped
                        or c.find_ancestor(exp.Select) is not select
                    ):
                        continue
                    if c.find_ancestor(exp.AggFunc, exp.Window) is not None:
                        continue
                    grouped.add((c.table, c.name))
                    group.append("expressions", exp.column(c.name, table=c.table or None))


def _from_tables(select: exp.Select) -> list[exp.Table]:
    """The tables a SELECT reads directly (FROM and its joins; not subqueries)."""
    out = []
    src = select.args.get("from_")
    items = [src.this] if src is not None else []
    items += [j.this for j in select.args.get("joins") or []]
    for item in items:
        if isinstance(item, exp.Table):
            out.append(item)
            items += [j.this for j in item.args.get("joins") or []]
    return out


def _typed(
    tree: exp.Expression,
    metas: dict[str, TableMeta],
    bodies: list[NativeBody] | tuple = (),
    catalog_refs: list[exp.Table] | tuple = (),
    enum_types: Mapping[str, int] | None = None,
) -> tuple[exp.Expression, list[int | None]]:
    """``tree`` with PostgreSQL's result types, which need the column types of the registered scans
    ``metas`` and native bodies (sql/rewrite/pg_types.py), and its output OIDs, which also read the
    column types of the catalog relations ``catalog_refs`` and the OIDs of the enum types ``tree``
    casts to (``enum_types``: name -> OID)."""
    _grouped_by_keys(tree, metas)
    tables = {name: scan_types(sql_columns(meta)) for name, meta in metas.items()}
    for b in bodies:
        tables[b.name] = {f.name: from_arrow(f.type).name for f in b.schema}
    typed = pg_types(tree, tables)
    return typed, output_oids(typed, tables, _enum_oids(metas, enum_types), _catalog_types(catalog_refs))


def _enum_oids(metas: dict[str, TableMeta], enum_types: Mapping[str, int] | None) -> dict[str, int]:
    """Type name -> OID of the enum types ``enum_types`` and those of the columns of ``metas``, and
    of their arrays (``mood[]``: the array type's OID is the enum's + 1, sql/enums.py)."""
    oids = dict(enum_types or {})
    oids.update(
        (o["name"], o["oid"]) for m in metas.values() for o in (m.options.get(enums.OPTION) or {}).values()
    )
    oids.update({name + "[]": oid + 1 for name, oid in list(oids.items())})
    return oids


def _cast_enum_types(storage: Engine, database: str, tree: exp.Expression) -> dict[str, int]:
    """Name -> OID of the database's enum types, when ``tree`` casts to one (sql/rewrite/enum_casts.py)."""
    if not any(c.to.meta.get("pg_type") for c in tree.find_all(exp.Cast)):
        return {}
    return {name: t.oid for name, t in enums.types_of(storage, database).items()}


def _catalog_types(refs: list[exp.Table] | tuple) -> dict[str, dict[str, str]]:
    """Relation key ("pg_catalog.pg_type") -> column -> type name of the catalog relations ``refs``."""
    if not refs:
        return {}
    from sql.pgcatalog import COLUMNS, relation_key

    keys = {relation_key(r) for r in refs}
    return {k: catalog_types(COLUMNS[k]) for k in keys if k in COLUMNS}


def bind(
    storage: Engine,
    database: str,
    tree: exp.Expression,
    evaluate_ns: Callable[[exp.Expression], int | None],
    *,
    describe_only: bool,
    params: list | None = None,
    subquery_values: SubqueryValues | None = None,
) -> Binding:
    binding = Binding(tree)
    for ref in _references(storage, database, tree, binding.catalog_refs):
        pd = Pushdown()
        if ref.select is not None and not describe_only:
            pd = ref.analysed(ref.select.args.get("where")).run(evaluate_ns, params, subquery_values)
        req = ref.request(database, pd)
        reg = f"__tsgres_scan_{next(_names)}"
        if describe_only:
            extra = [c for c in ref.wanted if c.kind == "time_ns"]
            reader: pa.RecordBatchReader | pa.Table = arrow_schema(ref.columns + extra).empty_table()
        else:
            reader = to_sql_reader(scan(storage, req), ref.wanted, ref.meta.time_column)
        binding.scans.append(BoundScan(reg, ref.meta.name, ref.meta, ref.wanted, req, pd, reader))
        _rename(ref, reg)
    metas = {s.name: s.meta for s in binding.scans}
    cast_to = _cast_enum_types(storage, database, tree)
    binding.tree, binding.output_oids = _typed(
        tree, metas, catalog_refs=binding.catalog_refs, enum_types=cast_to
    )
    binding.user_arrays = frozenset(o for n, o in _enum_oids(metas, cast_to).items() if n.endswith("[]"))
    enums.read_in_order(binding.tree, [(s.name, s.meta, [c.name for c in s.columns]) for s in binding.scans])
    return binding


@dataclass
class _PlannedScan:
    name: str
    reference: _Reference
    analysed: Analysed | None  # None: no WHERE narrows it


@dataclass
class NativeBody:
    """A subquery of a bound plan that the native executor computes: DuckDB reads its result,
    registered under ``name``, cast to ``schema`` (what DuckDB's own run of it would give)."""

    name: str
    plan: Any  # sql.planner's NativePlan
    schema: pa.Schema
    source: exp.Select  # the subquery it stands for (EXPLAIN lists its scan)


BODY_PREFIX = "__tsgres_body_"


def _body_names(tree: exp.Expression) -> set[str]:
    return {t.name for t in tree.find_all(exp.Table) if not t.db and t.name.startswith(BODY_PREFIX)}


# (plan, result schema) of a subquery's SELECT the native executor can compute, or None
BodyPlanner = Callable[[exp.Select], "tuple[Any, pa.Schema] | None"]


def native_bodies(tree: exp.Expression, plan_body: BodyPlanner) -> list[NativeBody]:
    """Replace the bodies of CTEs and FROM subqueries that ``plan_body`` accepts, outermost first, by
    ``SELECT * FROM <name>``; their NativeBody list. A body must stand alone: not recursive, not
    reading a CTE (a CTE may shadow a table's name), no column of an enclosing query."""
    cte_names = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    bodies: list[NativeBody] = []
    for node in list(tree.find_all(exp.CTE, exp.Subquery)):
        body = node.this
        if not isinstance(body, exp.Select) or node.root() is not tree:  # (inside a body replaced)
            continue
        if isinstance(node, exp.CTE):
            if not isinstance(node.parent, exp.With) or node.parent.args.get("recursive"):
                continue
        elif not isinstance(node.parent, exp.From | exp.Join):
            continue
        tables = list(body.find_all(exp.Table))
        if any(not t.db and t.name in cte_names for t in tables):
            continue
        aliases = {t.alias_or_name for t in tables}
        if any(c.table and c.table not in aliases for c in body.find_all(exp.Column)):
            continue
        got = plan_body(body)
        if got is None:
            continue
        name = f"{BODY_PREFIX}{len(bodies) + 1}"
        body.replace(exp.select("*").from_(exp.Table(this=exp.to_identifier(name))))
        bodies.append(NativeBody(name, got[0], got[1], body))
    return bodies


@dataclass
class BoundPlan:
    """A query bound once for all values of its parameters: the DuckDB text to run and, per table
    reference, the scan to register under a fixed name. Binding depends on the parameters' values only
    through the scans' pushdown (time range, tag predicate), so a plan run again with other values
    opens its scans (:func:`open_scans`) and runs the same text, without walking, rewriting and
    generating the tree each time (~1.3 of ~2.2 ms of a small query DuckDB runs). ``bodies``: the
    subqueries the engine computes natively and registers too."""

    sql: str
    scans: list[_PlannedScan]
    output_oids: list[int | None]
    bodies: list[NativeBody] = field(default_factory=list)
    # the parameters ``sql`` uses, by their numbers in the statement, when bodies took some away
    parameters: list[int] | None = None

    def duck_params(self, params: list) -> list:
        """The values of ``sql``'s parameters among the statement's ``params``."""
        return params if self.parameters is None else [params[i - 1] for i in self.parameters]


def bind_plan(
    storage: Engine, database: str, tree: exp.Expression, plan_body: BodyPlanner | None = None
) -> BoundPlan | None:
    """``tree`` (rewritten; it is changed) bound for :func:`open_scans`, with the subqueries
    ``plan_body`` accepts as native bodies; None when it reads the catalog emulation, whose tables
    are bound per execution."""
    bodies = native_bodies(tree, plan_body) if plan_body is not None else []
    catalog_refs: list[exp.Table] = []
    planned: list[_PlannedScan] = []
    for i, ref in enumerate(_references(storage, database, tree, catalog_refs)):
        where = ref.select.args.get("where") if ref.select is not None else None
        # (a copy: binding goes on to change the tree, and the analysis keeps the WHERE's nodes)
        analysed = ref.analysed(where.copy()) if where is not None else None
        planned.append(_PlannedScan(f"__tsgres_scan_{i + 1}", ref, analysed))
        _rename(ref, planned[-1].name)
    if catalog_refs:
        return None
    # (after the scans' analysis, which keeps the numbers: DuckDB refuses values a text does not use)
    used = _renumber_parameters(tree) if bodies else None
    typed, oids = _typed(
        tree,
        {p.name: p.reference.meta for p in planned},
        bodies,
        enum_types=_cast_enum_types(storage, database, tree),
    )
    enums.read_in_order(
        typed, [(p.name, p.reference.meta, [c.name for c in p.reference.wanted]) for p in planned]
    )
    return BoundPlan(typed.sql("duckdb"), planned, oids, bodies, used)


def _renumber_parameters(tree: exp.Expression) -> list[int]:
    """Number the $n still in ``tree`` (native bodies took theirs away) 1, 2, ... in order; the old
    numbers, in the new order."""
    used: dict[int, int] = {}
    for node in list(tree.find_all(exp.Parameter)):
        if node.this.name.isdigit():
            k = used.setdefault(int(node.this.name), len(used) + 1)
            node.replace(exp.Parameter(this=exp.Literal.number(k)))
    return list(used)


def open_scans(
    storage: Engine,
    database: str,
    plan: BoundPlan,
    evaluate_ns: Callable[[exp.Expression], int | None],
    params: list,
    subquery_values: SubqueryValues | None = None,
) -> list[BoundScan]:
    """The scans of one execution of ``plan`` with ``params``, to register under their names."""
    out = []
    for p in plan.scans:
        ref = p.reference
        pd = p.analysed.run(evaluate_ns, params, subquery_values) if p.analysed is not None else Pushdown()
        req = ref.request(database, pd)
        reader = to_sql_reader(scan(storage, req), ref.wanted, ref.meta.time_column)
        out.append(BoundScan(p.name, ref.meta.name, ref.meta, ref.wanted, req, pd, reader))
    return out


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
