"""Ordered-set percentiles as PostgreSQL has them, and the toolkit's approx_percentile.

sqlglot already turns ``percentile_cont(f) WITHIN GROUP (ORDER BY x [DESC])`` into DuckDB's
``QUANTILE_CONT(x, f ORDER BY x [DESC])`` (also percentile_disc, arrays of fractions and
``mode() WITHIN GROUP (ORDER BY x)``); DuckDB computes them with PostgreSQL's semantics (linear
interpolation between the two nearest rows; the first row at or past the fraction for _disc; NULLs
ignored; DESC reverses the order). What this rule adds:

- a constant fraction outside [0, 1] fails as in PostgreSQL (22003 "percentile value 1.5 is not
  between 0 and 1") rather than with DuckDB's binder message;
- TimescaleDB toolkit's two-step form ``approx_percentile(f, percentile_agg(x))`` (also with
  ``uddsketch(size, err, x)`` / ``tdigest(n, x)``) becomes DuckDB's t-digest ``APPROX_QUANTILE``:

    SELECT approx_percentile(0.9, percentile_agg(v)) FROM t
    -> SELECT APPROX_QUANTILE(CAST(v AS DOUBLE), 0.9) FROM t

Also: output_names (which runs first) names ``percentile_cont(...) WITHIN GROUP (...)`` "?column?";
PostgreSQL names the column after the aggregate (percentile_cont, percentile_disc, mode), so this
rule renames such aliases.

Not supported: percentile_cont over intervals (DuckDB has no interval quantile).
"""

from __future__ import annotations

from sqlglot import exp

from sql import errors as E

_SKETCHES = {"percentile_agg", "uddsketch", "tdigest"}


def _check_fraction(f: exp.Expression) -> None:
    values = f.expressions if isinstance(f, exp.Array) else [f]
    for v in values:
        sign = 1.0
        if isinstance(v, exp.Neg):
            sign, v = -1.0, v.this
        if isinstance(v, exp.Literal) and not v.is_string:
            x = sign * float(v.name)
            if not 0.0 <= x <= 1.0:
                raise E.NumericValueOutOfRange(f"percentile value {x:g} is not between 0 and 1")


def _name(w: exp.WithinGroup) -> str:
    f = w.this
    if isinstance(f, exp.Anonymous):
        return f.name.lower()
    return f.sql_name().lower() if isinstance(f, exp.Func) else "?column?"


def percentile(tree: exp.Expression, ctx: object) -> exp.Expression:
    for alias in tree.find_all(exp.Alias):
        if isinstance(alias.this, exp.WithinGroup) and alias.alias == "?column?":
            alias.set("alias", exp.to_identifier(_name(alias.this), quoted=True))

    def fix(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.WithinGroup) and isinstance(
            node.this, exp.PercentileCont | exp.PercentileDisc
        ):
            _check_fraction(node.this.this)
            return node
        if isinstance(node, exp.Anonymous) and node.name.lower() == "approx_percentile":
            args = node.expressions
            if len(args) == 2 and isinstance(args[1], exp.Anonymous):
                sketch = args[1]
                if sketch.name.lower() in _SKETCHES and sketch.expressions:
                    _check_fraction(args[0])
                    value = exp.Cast(this=sketch.expressions[-1], to=exp.DataType.build("DOUBLE"))
                    return exp.Anonymous(this="APPROX_QUANTILE", expressions=[value, args[0]])
        return node

    return tree.transform(fix, copy=False)
