"""TimescaleDB's first(value, time) and last(value, time) as DuckDB's arg_min / arg_max.

SELECT host, last(usage, time) FROM cpu GROUP BY host
-> SELECT host, ARG_MAX(usage, time) FROM cpu GROUP BY host
"""

from __future__ import annotations

from sqlglot import exp


def first_last(tree: exp.Expression, ctx: object) -> exp.Expression:
    def fix(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.First | exp.Last) and node.args.get("expression") is not None:
            fn = "ARG_MIN" if isinstance(node, exp.First) else "ARG_MAX"
            return exp.Anonymous(this=fn, expressions=[node.this, node.args["expression"]])
        if (
            isinstance(node, exp.Anonymous)
            and node.name.lower() in ("first", "last")
            and len(node.expressions) == 2
        ):
            fn = "ARG_MIN" if node.name.lower() == "first" else "ARG_MAX"
            return exp.Anonymous(this=fn, expressions=list(node.expressions))
        return node

    return tree.transform(fix)
