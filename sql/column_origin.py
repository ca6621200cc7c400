"""Where a result column comes from: the table OID and attribute number RowDescription carries.

PostgreSQL fills RowDescription's table OID and column number for every output column that is a
plain reference to a table column, through subqueries, CTEs and ``*`` (pgjdbc's
``ResultSetMetaData.getTableName``/``isNullable`` and ORMs read them); anything computed gets 0/0.
The numbers are pg_catalog's: ``pg_class.oid`` of our tables (sql/pgcatalog_model.table_oid) and
``pg_attribute.attnum`` (sql/tables.sql_columns positions); catalog relations have PostgreSQL's own,
and a view's columns come from the view (its OID, their position in it), as PostgreSQL reports them.

    SELECT v, time AS t, v + 1 AS w FROM m          -- (m, 3), (m, 1), (0, 0)
    SELECT s.v FROM (SELECT v FROM m) s             -- (m, 3)

:func:`annotate` works on the parsed statement (before binding and rewrites) and gives up, leaving
every column 0/0, on anything it does not follow (set operations, unknown names, a count mismatch).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING

from sqlglot import exp

from sql.binder import is_catalog_ref, resolve_table
from sql.errors import SqlError, UndefinedTable
from sql.pgcatalog_model import hashed_oid, table_oid
from sql.pgcatalog_schema import RELATIONS
from sql.session import ColumnDesc
from sql.tables import sql_columns

if TYPE_CHECKING:
    from sql.engine import SqlSession

log = logging.getLogger("sql.column_origin")

Origin = tuple[int, int]  # (table OID, attnum); (0, 0) for a computed column
NONE: Origin = (0, 0)
Source = list[tuple[str, Origin]]  # a FROM item's columns, in order


def annotate(session: SqlSession, tree: exp.Expression, columns: list[ColumnDesc]) -> list[ColumnDesc]:
    """``columns`` with ``table_oid``/``column_number`` filled in where ``tree`` takes them from a table."""
    try:
        origins = _query(session, tree, {})
    except (SqlError, KeyError, ValueError):
        return columns  # a name it cannot follow: the statement itself reports real errors
    except Exception:  # origins are metadata: never fail a statement for them
        log.exception("column origins of %s", tree.sql("postgres")[:200])
        return columns
    if origins is None or len(origins) != len(columns):
        return columns
    return [
        dataclasses.replace(c, table_oid=o[0], column_number=o[1]) if o != NONE else c
        for c, (_, o) in zip(columns, origins, strict=True)
    ]


def _query(session: SqlSession, tree: exp.Expression, ctes: dict[str, Source]) -> Source | None:
    if isinstance(tree, exp.Subquery):
        return _query(session, tree.this, ctes)
    if not isinstance(tree, exp.Select):
        return None  # UNION/INTERSECT/EXCEPT, VALUES: PostgreSQL gives 0 too for set operations
    ctes = dict(ctes)
    with_ = tree.args.get("with_") or tree.args.get("with")
    if with_ is not None:
        for cte in with_.expressions:
            body = _query(session, cte.this, ctes)
            names = [c.name for c in cte.args["alias"].columns] if cte.args.get("alias") is not None else []
            if body is not None:
                ctes[cte.alias_or_name.lower()] = _renamed(body, names)
    sources: dict[str, Source] = {}
    from_ = tree.args.get("from_") or tree.args.get("from")
    items = ([from_.this] if from_ is not None else []) + [j.this for j in tree.args.get("joins") or []]
    for item in items:
        source = _source(session, item, ctes)
        if source is None:
            return None
        sources[item.alias_or_name.lower()] = source
    out: Source = []
    for e in tree.expressions:
        out.extend(_projection(e, sources))
    return out


def _renamed(source: Source, names: list[str]) -> Source:
    return [(names[i] if i < len(names) else n, o) for i, (n, o) in enumerate(source)]


def _source(session: SqlSession, item: exp.Expression, ctes: dict[str, Source]) -> Source | None:
    alias = item.args.get("alias")
    names = [c.name for c in alias.columns] if isinstance(alias, exp.TableAlias) else []
    if isinstance(item, exp.Subquery):
        body = _query(session, item.this, ctes)
        return None if body is None else _renamed(body, names)
    if not isinstance(item, exp.Table) or not isinstance(item.this, exp.Identifier):
        return None  # table functions, VALUES lists, unnest ...
    if not item.db and item.name.lower() in ctes:
        return _renamed(ctes[item.name.lower()], names)
    return _renamed(_table(session, item), names)


def _table(session: SqlSession, ref: exp.Table) -> Source:
    if is_catalog_ref(ref):
        key = f"{(ref.db or 'pg_catalog').lower()}.{ref.name.lower()}"
        oid, _kind, spec = RELATIONS[key]
        return [(c.split(":", 1)[0], (oid, i + 1)) for i, c in enumerate(spec.split())]
    try:
        _rp, meta = resolve_table(session.storage, session.database, ref)
    except UndefinedTable:
        schema = ref.db or "public"
        view_sql = session.sql_engine.view_sql(session.database, schema, ref.name)
        if view_sql is None:
            raise
        # a view is the origin of its own columns, as in PostgreSQL (its OID, its column numbers)
        oid = hashed_oid(session.database, schema, ref.name)
        return [(c.name, (oid, i + 1)) for i, c in enumerate(session.prepare(view_sql, []).columns or [])]
    oid = table_oid(meta.id)
    return [(c.name, (oid, c.position)) for c in sql_columns(meta)]


def _projection(e: exp.Expression, sources: dict[str, Source]) -> Source:
    if isinstance(e, exp.Star):
        return [col for source in sources.values() for col in source]
    if isinstance(e, exp.Column) and isinstance(e.this, exp.Star):
        return list(sources[e.table.lower()])
    name = e.alias_or_name
    inner = e.this if isinstance(e, exp.Alias) else e
    if not isinstance(inner, exp.Column) or not isinstance(inner.this, exp.Identifier):
        return [(name, NONE)]
    wanted = _ident(inner.this)
    if inner.table:
        candidates = [sources[inner.table.lower()]]
    else:
        candidates = [s for s in sources.values() if any(n == wanted for n, _ in s)]
    if len(candidates) != 1:
        return [(name, NONE)]
    origin = next((o for n, o in candidates[0] if n == wanted), NONE)
    return [(name, origin)]


def _ident(ident: exp.Identifier) -> str:
    return ident.name if ident.quoted else ident.name.lower()
