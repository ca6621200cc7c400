"""TimescaleDB's histogram(value, min, max, nbuckets) aggregate -> the tsgres_histogram macro.

    SELECT device, histogram(battery, 20, 60, 5) FROM readings GROUP BY device
    -> SELECT device, TSGRES_HISTOGRAM(battery, 20, 60, 5) FROM readings GROUP BY device

The result is an int4 array of nbuckets + 2 counts: values below min, the nbuckets equal-width
buckets (each including its lower bound), values at or above max (sql/functions/timeseries.py).
DuckDB's own one-argument histogram (a MAP of counts) is left alone.
"""

from __future__ import annotations

from sqlglot import exp


def histogram(tree: exp.Expression, ctx: object) -> exp.Expression:
    def fix(node: exp.Expression) -> exp.Expression:
        if (
            isinstance(node, exp.Anonymous)
            and node.name.lower() == "histogram"
            and len(node.expressions) == 4
        ):
            return exp.Anonymous(this="TSGRES_HISTOGRAM", expressions=list(node.expressions))
        return node

    return tree.transform(fix, copy=False)
