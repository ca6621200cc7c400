"""Views: a reference to a view becomes its stored query, before every other rule sees the tree.

CREATE VIEW hv AS SELECT value * 2 AS doubled FROM h;  SELECT doubled FROM hv
-> SELECT doubled FROM (SELECT value * 2 AS doubled FROM h) AS hv
"""

from __future__ import annotations

from sqlglot import exp


def views(tree: exp.Expression, ctx) -> exp.Expression:
    from sql.parse import parse

    for _ in range(16):  # views over views, bounded
        ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
        found = False
        for table in list(tree.find_all(exp.Table)):
            if not isinstance(table.this, exp.Identifier) or (not table.db and table.name in ctes):
                continue
            sql = ctx.view(table.db or "public", table.name)
            if sql is None:
                continue
            sub = exp.Subquery(
                this=parse(sql), alias=exp.TableAlias(this=exp.to_identifier(table.alias_or_name))
            )
            if table is tree:
                return sub.this
            table.replace(sub)
            found = True
        if not found:
            break
    return tree
