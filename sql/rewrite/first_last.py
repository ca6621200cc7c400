"""TimescaleDB's first(value, time) and last(value, time) as DuckDB's arg_min_null / arg_max_null.

    SELECT host, last(usage, time) FROM cpu GROUP BY host
    -> SELECT host, ARG_MAX_NULL(usage, time) FROM cpu GROUP BY host

TimescaleDB's bookend aggregates (src/agg_bookend.c) keep the value of the row with the smallest
(first) or largest (last) time even when that value is NULL, and skip rows whose time is NULL;
``arg_min_null`` / ``arg_max_null`` do the same (plain ``arg_min`` would skip NULL values and return
an older value instead). Ties: TimescaleDB keeps the first row it scans among equal times (strict
< / >); which row that is depends on scan order there as here, so neither is deterministic.
"""

from __future__ import annotations

from sqlglot import exp


def first_last(tree: exp.Expression, ctx: object) -> exp.Expression:
    def fix(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.First | exp.Last) and node.args.get("expression") is not None:
            fn = "ARG_MIN_NULL" if isinstance(node, exp.First) else "ARG_MAX_NULL"
            return exp.Anonymous(this=fn, expressions=[node.this, node.args["expression"]])
        if (
            isinstance(node, exp.Anonymous)
            and node.name.lower() in ("first", "last")
            and len(node.expressions) == 2
        ):
            fn = "ARG_MIN_NULL" if node.name.lower() == "first" else "ARG_MAX_NULL"
            return exp.Anonymous(this=fn, expressions=list(node.expressions))
        return node

    return tree.transform(fix, copy=False)
