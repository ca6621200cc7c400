"""A CTE that only names a query the outer SELECT merely orders and limits is that query itself.

TSBS's double-groupby (and many dashboards) wrap an aggregate in a CTE and select its columns back
in order. PostgreSQL inlines such a CTE (referenced once, not recursive); doing the same here lets
the native executor see the aggregate. Only the plainest shape is inlined: one CTE, the outer
SELECT reads only it, projects every one of its columns (in any order, or ``*``), with nothing but
ORDER BY on those columns and LIMIT/OFFSET; the CTE's query has no ORDER BY, LIMIT or DISTINCT.

    WITH a AS (SELECT date_trunc('hour', time) AS hour, hostname, avg(v) AS m FROM cpu GROUP BY 1, 2)
    SELECT hour, hostname, m FROM a ORDER BY hour, hostname
    -> SELECT date_trunc('hour', time) AS hour, hostname, avg(v) AS m FROM cpu GROUP BY 1, 2
       ORDER BY hour, hostname
"""

from __future__ import annotations

from sqlglot import exp

_OUTER_ALLOWED = {"expressions", "from_", "with_", "order", "limit", "offset"}
_INNER_FORBIDDEN = ("order", "limit", "offset", "distinct", "with_", "locks")


def cte_inline(tree: exp.Expression, ctx: object) -> exp.Expression:
    if not isinstance(tree, exp.Select):
        return tree
    with_ = tree.args.get("with_")
    if with_ is None or with_.args.get("recursive") or len(with_.expressions) != 1:
        return tree
    if any(v for k, v in tree.args.items() if v and k not in _OUTER_ALLOWED):
        return tree
    cte = with_.expressions[0]
    inner = cte.this
    if not isinstance(inner, exp.Select) or any(inner.args.get(k) for k in _INNER_FORBIDDEN):
        return tree
    if cte.args.get("materialized") is not None or (cte.args.get("alias") and cte.args["alias"].columns):
        return tree  # MATERIALIZED keeps it a fence; renamed columns would need mapping
    frm = tree.args["from_"].this
    name = cte.alias_or_name
    if not (
        isinstance(frm, exp.Table)
        and not frm.db
        and frm.name == name
        and isinstance(frm.this, exp.Identifier)
    ):
        return tree
    alias = frm.alias_or_name
    items = {e.alias_or_name: e for e in inner.expressions}
    if (
        len(items) != len(inner.expressions)
        or "" in items
        or any(isinstance(e, exp.Star) for e in inner.expressions)
    ):
        return tree

    def own(c: exp.Expression) -> str | None:
        if isinstance(c, exp.Column) and not isinstance(c.this, exp.Star) and c.table in ("", alias):
            return c.name if c.name in items else None
        return None

    outer = tree.expressions
    if len(outer) == 1 and isinstance(outer[0], exp.Star):
        order_names = list(items)
    else:
        order_names = []
        for e in outer:
            if not isinstance(e, exp.Column) or own(e) is None:
                return tree
            order_names.append(e.name)
        if sorted(order_names) != sorted(items):
            return tree  # a subset: GROUP BY may name what it would drop
    order = tree.args.get("order")
    keys = []
    for o in order.expressions if order is not None else []:
        n = own(o.this)
        if n is None:
            return tree
        keys.append(o.copy())
        keys[-1].set("this", exp.column(n))
    new = inner.copy()
    new.set("expressions", [items[n].copy() for n in order_names])
    if keys:
        new.set("order", exp.Order(expressions=keys))
    for k in ("limit", "offset"):
        if tree.args.get(k) is not None:
            new.set(k, tree.args[k].copy())
    return new
