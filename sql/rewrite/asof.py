"""The latest row at or before: PostgreSQL's LATERAL top-1 pattern as DuckDB's ASOF join.

    SELECT a.host, a.time, x.v FROM a
    LEFT JOIN LATERAL (SELECT v FROM b WHERE b.host = a.host AND b.time <= a.time
                       ORDER BY b.time DESC LIMIT 1) AS x ON TRUE
    -> SELECT a.host, a.time, x.v FROM a
       ASOF LEFT JOIN (SELECT v, b.host AS __asof_k1, b.time AS __asof_t FROM b) AS x
       ON a.host = x.__asof_k1 AND a.time >= x.__asof_t

Both give, for each row of ``a``, the row of ``b`` with the greatest time <= a.time among those with
the same host (NULLs with LEFT when there is none; INNER / CROSS JOIN LATERAL drop the row). DuckDB
runs the LATERAL form too, with a per-row correlated top-1; the ASOF join is one sorted merge
(measured ~12x faster on 20k x 100k rows). The rule only fires when the meaning is certain:

- the subquery reads one table, has no GROUP BY / HAVING / DISTINCT / window / OFFSET, ``LIMIT 1``,
  and ``ORDER BY <its time column> DESC`` (or ASC for "the earliest at or after");
- its WHERE has exactly one inequality between that column and an outer column, in the direction
  of the ORDER BY (``<=`` / ``<`` for DESC, ``>=`` / ``>`` for ASC), any number of equalities
  between its columns and outer columns, and other conditions on its own columns only;
- the join condition is ``ON TRUE`` (or none), and the outer query does not select ``*`` / ``x.*``
  (the hidden join columns would show).

The explicit form needs no rule: ``a ASOF [LEFT] JOIN b ON a.host = b.host AND a.time >= b.time``
(DuckDB's syntax, which sqlglot's PostgreSQL parser accepts) is passed through unchanged.
"""

from __future__ import annotations

from sqlglot import exp

from sql.rewrite.pushdown import conjuncts

# inequality as written (inner column on the left) -> the ASOF condition (outer on the left)
_FLIP: dict[type, type] = {exp.LTE: exp.GTE, exp.LT: exp.GT, exp.GTE: exp.LTE, exp.GT: exp.LT}
_MIRROR: dict[type, type] = {
    exp.LTE: exp.GTE,
    exp.LT: exp.GT,
    exp.GTE: exp.LTE,
    exp.GT: exp.LT,
    exp.EQ: exp.EQ,
}


def _and(parts: list[exp.Expression]) -> exp.Expression | None:
    out: exp.Expression | None = None
    for p in parts:
        out = p if out is None else exp.And(this=out, expression=p)
    return out


def _rewrite(join: exp.Join, outer_star: bool) -> exp.Join | None:
    lateral = join.this
    if not isinstance(lateral, exp.Lateral) or not isinstance(lateral.this, exp.Subquery):
        return None
    on = join.args.get("on")
    if on is not None and not (isinstance(on, exp.Boolean) and on.this):
        return None
    if join.side not in ("", "LEFT") or join.args.get("using") or outer_star:
        return None
    sel = lateral.this.this
    alias = lateral.args.get("alias") or lateral.this.args.get("alias")
    if not isinstance(sel, exp.Select) or alias is None or sel.args.get("joins") or sel.args.get("laterals"):
        return None
    if any(sel.args.get(k) for k in ("group", "having", "distinct", "offset", "windows", "qualify", "with_")):
        return None
    limit = sel.args.get("limit")
    if not (limit and isinstance(limit.expression, exp.Literal) and limit.expression.name == "1"):
        return None
    from_ = sel.args.get("from_")
    if from_ is None or not isinstance(from_.this, exp.Table):
        return None
    inner_names = {from_.this.alias_or_name, from_.this.name}
    order = sel.args.get("order")
    if order is None or len(order.expressions) != 1 or not isinstance(order.expressions[0].this, exp.Column):
        return None
    time_col = order.expressions[0].this
    descending = bool(order.expressions[0].args.get("desc"))
    if any(isinstance(e, exp.Star) or exp.Window in {type(n) for n in e.walk()} for e in sel.expressions):
        return None

    def inner(c: exp.Expression) -> bool:
        return isinstance(c, exp.Column) and (not c.table or c.table in inner_names)

    def outer(c: exp.Expression) -> bool:
        return isinstance(c, exp.Column) and bool(c.table) and c.table not in inner_names

    if any(outer(c) for e in sel.expressions for c in e.find_all(exp.Column)) or not inner(time_col):
        return None
    keys: list[tuple[exp.Column, exp.Column]] = []  # (inner, outer)
    inequality: tuple[type, exp.Column] | None = None  # (op with inner on the left, outer column)
    rest: list[exp.Expression] = []
    for q in conjuncts(sel.args.get("where")):
        op: type = type(q)
        if op in _MIRROR and (outer(q.this) or outer(q.expression)):
            left, right = q.this, q.expression
            if outer(left) and inner(right):
                left, right, op = right, left, _MIRROR[op]
            if not (inner(left) and outer(right)):
                return None
            if op is exp.EQ:
                keys.append((left, right))
                continue
            if inequality is not None or left.name != time_col.name:
                return None
            if (op in (exp.LTE, exp.LT)) != descending:
                return None
            inequality = (op, right)
            continue
        if any(outer(c) for c in q.find_all(exp.Column)):
            return None
        rest.append(q.copy())
    if inequality is None:
        return None

    new_sel = sel.copy()
    for key in ("order", "limit"):
        new_sel.set(key, None)
    new_sel.set("where", exp.Where(this=_and(rest)) if rest else None)
    extra = [exp.alias_(k.copy(), f"__asof_k{i + 1}") for i, (k, _) in enumerate(keys)]
    extra.append(exp.alias_(time_col.copy(), "__asof_t"))
    new_sel.set("expressions", [e.copy() for e in sel.expressions] + extra)
    name = alias.name
    conds: list[exp.Expression] = [
        exp.EQ(this=o.copy(), expression=exp.column(f"__asof_k{i + 1}", table=name))
        for i, (_, o) in enumerate(keys)
    ]
    op, outer_time = inequality
    conds.append(_FLIP[op](this=outer_time.copy(), expression=exp.column("__asof_t", table=name)))
    return exp.Join(
        this=exp.Subquery(this=new_sel, alias=alias.copy()),
        side=join.side or None,
        method="ASOF",
        on=_and(conds),
    )


def asof(tree: exp.Expression, ctx: object) -> exp.Expression:
    for sel in list(tree.find_all(exp.Select)):
        joins = sel.args.get("joins") or []
        if not any(isinstance(j.this, exp.Lateral) for j in joins):
            continue
        outer_star = any(
            isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star))
            for e in sel.expressions
        )
        for j in joins:
            new = _rewrite(j, outer_star)
            if new is not None:
                j.replace(new)
                if hasattr(ctx, "notes"):
                    ctx.notes.append("asof: LATERAL top-1 join -> ASOF join")
    return tree
