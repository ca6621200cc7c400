"""A renamed table column (or table), renamed in the views that read it, as PostgreSQL does.

PostgreSQL stores a view as a parsed query that names columns by number, so ALTER TABLE ... RENAME
COLUMN changes what the view's definition shows, never what the view returns: its own output
columns keep their names. Views here are stored as SQL text (the meta key sql.ddl.view_key), so the
text is rewritten the same way: every reference to the column through the table becomes the new
name, and a select item that was the bare column keeps its output name::

    CREATE VIEW v AS SELECT host, avg(v) FROM m WHERE m.host <> 'x' GROUP BY host
    ALTER TABLE m RENAME COLUMN host TO hostname
    -- v: SELECT hostname AS host, AVG(v) FROM m WHERE m.hostname <> 'x' GROUP BY hostname

A ``*`` over the table alone is written out as its columns (PostgreSQL expands it when the view is
created). One over a join that includes the table cannot be written out from here: that rename is
refused (0A000) with a hint, before anything changed.

A renamed table (ALTER TABLE ... RENAME TO) is renamed where the views read it, and so are the
columns qualified by its bare name::

    CREATE VIEW v AS SELECT m.host FROM m
    ALTER TABLE m RENAME TO n
    -- v: SELECT n.host FROM n
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, traverse_scope

from sql import errors as E

# (schema, table) -> its visible column names in order, or None when there is no such table
Columns = Callable[[str, str], list[str] | None]


def rename_in_view(
    query: str, view: str, schema: str, table: str, old: str, new: str, columns: Columns
) -> str | None:
    """``query`` (a view's stored SQL) with ``schema.table``'s column ``old`` renamed ``new``; None
    when the view does not read it. ``columns`` looks up a table's columns as they are before the
    rename."""
    tree: exp.Expression = exp.maybe_parse(query, dialect="postgres")
    changed = False
    for scope in traverse_scope(tree):  # (first the stars: the columns they become are renamed next)
        ours = _ours(scope, schema, table)
        if ours and isinstance(scope.expression, exp.Select):
            changed |= _expand_stars(scope.expression, scope, ours, view, schema, table, old, columns)
    for scope in traverse_scope(tree):
        ours = _ours(scope, schema, table)
        if not ours:
            continue
        others_have = any(_has_column(src, old, columns) for a, src in scope.sources.items() if a not in ours)
        for col in scope.columns:
            if col.name != old or not (col.table in ours or (not col.table and not others_have)):
                continue
            renamed = exp.column(new, table=col.table or None, quoted=True)
            if isinstance(col.parent, exp.Select) and col.arg_key == "expressions":
                col.replace(exp.alias_(renamed, old, quoted=True))  # (the view's column keeps its name)
            else:
                col.replace(renamed)
            changed = True
    return tree.sql("postgres") if changed else None


def rename_table_in_view(query: str, schema: str, table: str, new: str) -> str | None:
    """``query`` (a view's stored SQL) reading ``schema.table`` as ``new``; None when it does not
    read the table."""
    tree: exp.Expression = exp.maybe_parse(query, dialect="postgres")
    scopes = list(traverse_scope(tree))  # (everything is found before anything changes)
    tables: list[exp.Table] = []
    bare: set[int] = set()  # the scopes reading the table under its own name (no alias)
    for scope in scopes:
        for alias, src in scope.sources.items():
            if isinstance(src, exp.Table) and src.name == table and (src.db or "public") == schema:
                tables.append(src)
                if alias == table and not src.alias:
                    bare.add(id(scope))
    columns: list[exp.Column] = []
    for scope in scopes:
        if id(scope) in bare:
            columns += [c for c in scope.columns if c.table == table]
        for col in scope.external_columns:  # (a correlated subquery's, naming an outer scope's table)
            outer = scope.parent
            while outer is not None and table not in outer.sources:
                outer = outer.parent
            if col.table == table and outer is not None and id(outer) in bare:
                columns.append(col)
    for src in tables:
        src.set("this", exp.to_identifier(new, quoted=True))
    for col in columns:
        col.set("table", exp.to_identifier(new, quoted=True))
    return tree.sql("postgres") if tables else None


def _ours(scope: Scope, schema: str, table: str) -> set[str]:
    """The names the scope reads the table under."""
    return {
        alias
        for alias, src in scope.sources.items()
        if isinstance(src, exp.Table) and src.name == table and (src.db or "public") == schema
    }


def _has_column(src: exp.Table | Scope, name: str, columns: Columns) -> bool:
    if isinstance(src, exp.Table):
        return name in (columns(src.db or "public", src.name) or [])
    body = src.expression
    return isinstance(body, exp.Query) and name in body.named_selects


def _expand_stars(
    select: exp.Select,
    scope: Scope,
    ours: set[str],
    view: str,
    schema: str,
    table: str,
    old: str,
    columns: Columns,
) -> bool:
    """Write out ``*`` / ``t.*`` over the table as its columns (``old`` under its new name later)."""
    names = columns(schema, table) or []
    if old not in names:
        return False
    changed = False
    for item in list(select.expressions):
        if isinstance(item, exp.Star):
            if len(scope.sources) != 1:
                raise E.FeatureNotSupported(
                    f'cannot rename column "{old}" of "{table}": view "{view}" selects * over a join with it',
                    hint="name the view's columns instead of *, then rename",
                )
            (alias,) = ours
        elif isinstance(item, exp.Column) and isinstance(item.this, exp.Star) and item.table in ours:
            alias = item.table
        else:
            continue
        expanded = [exp.column(n, table=alias, quoted=True) for n in names]
        at = select.expressions.index(item)
        select.set("expressions", select.expressions[:at] + expanded + select.expressions[at + 1 :])
        changed = True
    return changed
