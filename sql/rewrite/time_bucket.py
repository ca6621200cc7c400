"""TimescaleDB's time_bucket with PostgreSQL argument forms, for DuckDB's time_bucket.

The width may be given as a string ('5 minutes') or an interval; PostgreSQL resolves the unknown
literal as an interval, DuckDB needs the cast. Integer-width buckets (time_bucket(10, n)) map to
integer arithmetic: floor((n - offset) / width) * width + offset.

    SELECT time_bucket('5 minutes', time) FROM cpu
    -> SELECT TIME_BUCKET(CAST('5 minutes' AS INTERVAL), time) FROM cpu
"""

from __future__ import annotations

from sqlglot import exp


def time_bucket(tree: exp.Expression, ctx: object) -> exp.Expression:
    def fix(node: exp.Expression) -> exp.Expression:
        if not (isinstance(node, exp.Anonymous) and node.name.lower() == "time_bucket") and not (
            type(node).__name__ == "TimeBucket"
        ):
            return node
        args = (
            list(node.expressions)
            if isinstance(node, exp.Anonymous)
            else [node.this, *[v for k, v in node.args.items() if k != "this" and v is not None]]
        )
        if len(args) < 2:
            return node
        width = args[0]
        if isinstance(width, exp.Literal) and not width.is_string:
            ts = args[1]
            off = args[2] if len(args) > 2 else exp.Literal.number(0)
            return exp.Add(
                this=exp.Mul(
                    this=exp.Anonymous(
                        this="FLOOR",
                        expressions=[
                            exp.Div(this=exp.Paren(this=exp.Sub(this=ts, expression=off)), expression=width)
                        ],
                    ),
                    expression=width,
                ),
                expression=off,
            )
        if isinstance(width, exp.Literal) and width.is_string:
            args[0] = exp.Cast(this=width, to=exp.DataType.build("INTERVAL"))
        return exp.Anonymous(this="TIME_BUCKET", expressions=args)

    return tree.transform(fix)
