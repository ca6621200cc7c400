"""Filters on a grouped subquery's group columns also narrow the rows it groups.

A view over an aggregate (a TimescaleDB continuous aggregate is one: sql/timescale.py) is read as a
subquery in FROM, and the reader's WHERE names the view's columns:

    SELECT * FROM (SELECT location, time_bucket('1 hour', time) AS bucket, avg(t) AS a
                   FROM conditions GROUP BY location, bucket) AS hourly
    WHERE location = 'office' AND bucket >= '2024-01-01'
    -> the same, the subquery's WHERE also holding
       location = 'office' AND time >= '2024-01-01'

so the scan reads one location's rows since that time instead of the whole table. The outer WHERE
stays as it is; what is added only drops rows of groups the outer WHERE drops whole:

- ``col <op> value`` where ``col`` is a plain column the subquery groups by: the same comparison
  on that column (it selects whole groups).
- the bucket ``time_bucket(width, ts)`` (a constant interval width, no other arguments): a bucket
  holds the times in [bucket, bucket + width), so ``bucket >= v`` / ``bucket > v`` keep groups whose
  rows all have ``ts >= v`` / ``ts > v``, and ``bucket < v`` / ``bucket <= v`` groups whose rows all
  have ``ts < v + width``.

``value`` is column-free (a literal, a parameter, ``now() - interval ...``). Only a subquery that is
the outer SELECT's one source (a join's ON or an outer join would need more care), with GROUP BY and
no LIMIT/OFFSET, DISTINCT, window function or set-returning call.
"""

from __future__ import annotations

from sqlglot import exp

from sql.rewrite.gapfill import resolve_group
from sql.rewrite.pushdown import conjuncts

_OPS: dict[type, type] = {exp.EQ: exp.EQ, exp.GT: exp.GT, exp.GTE: exp.GTE, exp.LT: exp.LT, exp.LTE: exp.LTE}
_FLIP: dict[type, type] = {exp.EQ: exp.EQ, exp.GT: exp.LT, exp.GTE: exp.LTE, exp.LT: exp.GT, exp.LTE: exp.GTE}
_INNER_FORBIDDEN = ("limit", "offset", "distinct", "with_", "locks")


def subquery_filters(tree: exp.Expression, ctx: object) -> exp.Expression:
    for select in list(tree.find_all(exp.Select)):
        _push(select)
    return tree


def _push(outer: exp.Select) -> None:
    frm = outer.args.get("from_")
    where = outer.args.get("where")
    if frm is None or where is None or outer.args.get("joins") or not isinstance(frm.this, exp.Subquery):
        return
    sub = frm.this
    inner = sub.this
    if not isinstance(inner, exp.Select) or inner.args.get("group") is None:
        return
    if any(inner.args["group"].args.get(k) for k in ("grouping_sets", "cube", "rollup")):
        return
    if any(inner.args.get(k) for k in _INNER_FORBIDDEN) or inner.find(exp.Window, exp.Explode, exp.Unnest):
        return
    if sub.args.get("alias") is not None and sub.args["alias"].columns:
        return  # (renamed columns: the outer names are not the inner ones)
    groups = resolve_group(inner)
    columns: dict[str, exp.Expression | None] = {}
    for item in inner.expressions:
        name = item.alias_or_name
        if name in columns:
            columns[name] = None  # ambiguous
            continue
        e = item.this if isinstance(item, exp.Alias) else item
        columns[name] = e if any(e == g for g in groups) else None
    alias = sub.alias_or_name
    added = []
    for cond in conjuncts(where):
        got = _translate(cond, columns, alias)
        if got is not None:
            added.extend(got)
    if added:
        inner.where(exp.and_(*added), copy=False)


def _free(e: exp.Expression) -> bool:
    return not any(isinstance(n, exp.Column | exp.Subquery | exp.Select | exp.Star) for n in e.walk())


def _translate(
    cond: exp.Expression, columns: dict[str, exp.Expression | None], alias: str
) -> list[exp.Expression] | None:
    op = type(cond)
    if op not in _OPS:
        return None
    left, right = cond.this, cond.expression
    if isinstance(right, exp.Column) and not isinstance(left, exp.Column):
        left, right, op = right, left, _FLIP[op]
    if not isinstance(left, exp.Column) or (left.table and left.table != alias) or not _free(right):
        return None
    inner = columns.get(left.name)
    if inner is None:
        return None
    if isinstance(inner, exp.Column):
        return [op(this=inner.copy(), expression=right.copy())]
    bucket = _bucket(inner)
    if bucket is None:
        return None
    width, ts = bucket
    if isinstance(right, exp.Literal) and right.is_string:  # ('...' + interval has no one operator)
        right = exp.Cast(this=right.copy(), to=exp.DataType.build("TIMESTAMPTZ"))
    if op in (exp.GT, exp.GTE):
        return [op(this=ts.copy(), expression=right.copy())]
    if op in (exp.LT, exp.LTE):
        return [
            exp.LT(this=ts.copy(), expression=exp.Add(this=exp.paren(right.copy()), expression=width.copy()))
        ]
    # bucket = v: its rows lie in [v, v + width)
    return [
        exp.GTE(this=ts.copy(), expression=right.copy()),
        exp.LT(this=ts.copy(), expression=exp.Add(this=exp.paren(right.copy()), expression=width.copy())),
    ]


def _bucket(e: exp.Expression) -> tuple[exp.Expression, exp.Column] | None:
    """(width as an interval, ts) of ``time_bucket(width, ts)`` with a constant interval width."""
    if not (isinstance(e, exp.Anonymous) and e.name.lower() == "time_bucket" and len(e.expressions) == 2):
        return None
    width, ts = e.expressions
    if not isinstance(ts, exp.Column):
        return None
    if isinstance(width, exp.Interval):
        return width, ts
    if isinstance(width, exp.Cast) and width.to.this == exp.DataType.Type.INTERVAL and _free(width):
        return width, ts
    if isinstance(width, exp.Literal) and width.is_string:  # 'unknown' resolved as an interval
        return exp.Cast(this=width.copy(), to=exp.DataType.build("INTERVAL")), ts
    return None
