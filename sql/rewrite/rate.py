"""Rate helpers: delta / rate aggregates and InfluxDB-style derivative window functions.

    SELECT host, delta(bytes, time), rate(bytes, time) FROM net GROUP BY host
    -> SELECT host, TSGRES_DELTA(bytes, time), TSGRES_RATE(bytes, time) FROM net GROUP BY host

    SELECT derivative(v, time, '1 minute') OVER (PARTITION BY host ORDER BY time) FROM t
    -> SELECT (v - LAG(v) OVER w) / ((EPOCH(time) - EPOCH(LAG(time) OVER w)) / EPOCH(INTERVAL '1 minute'))
       FROM t                                   -- w = (PARTITION BY host ORDER BY time), spelled out

- ``delta(value, time)``: last(value) - first(value) by time, over rows with a non-NULL value.
- ``rate(value, time)``: delta / seconds between the first and last such rows (NULL if they coincide).
  Plain differences: no counter-reset handling (that is the toolkit's counter_agg, not offered).
- ``derivative(value, time [, unit]) OVER (...)``: change per ``unit`` (default 1 second) from the
  previous row of the window; NULL on the first row. ``non_negative_derivative`` is NULL where the
  change is negative (InfluxQL drops those rows). Without ORDER BY in the window, ``ORDER BY time``
  is used. Timestamp time only (EPOCH).
"""

from __future__ import annotations

from sqlglot import exp

_AGGREGATES = {"delta": "TSGRES_DELTA", "rate": "TSGRES_RATE"}
_DERIVATIVES = ("derivative", "non_negative_derivative")


def _fn(name: str, *args: exp.Expression) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


def _over(w: exp.Window, func: exp.Expression) -> exp.Window:
    out = w.copy()
    out.set("this", func)
    return out


def _derivative(w: exp.Window, name: str, args: list[exp.Expression]) -> exp.Expression:
    value, time = args[0], args[1]
    if not w.args.get("order"):
        w = w.copy()
        w.set("order", exp.Order(expressions=[exp.Ordered(this=time.copy())]))
    change = exp.Sub(this=value.copy(), expression=_over(w, _fn("LAG", value.copy())))
    seconds: exp.Expression = exp.Sub(
        this=_fn("EPOCH", time.copy()), expression=_fn("EPOCH", _over(w, _fn("LAG", time.copy())))
    )
    if len(args) > 2:
        unit = args[2]
        if isinstance(unit, exp.Literal) and unit.is_string:
            unit = exp.Cast(this=unit, to=exp.DataType.build("INTERVAL"))
        seconds = exp.Div(this=exp.Paren(this=seconds), expression=_fn("EPOCH", unit))
    rate = exp.Div(this=exp.Paren(this=change), expression=exp.Paren(this=seconds))
    if name == "derivative":
        return exp.Paren(this=rate)
    return exp.Case(
        ifs=[exp.If(this=exp.LT(this=rate.copy(), expression=exp.Literal.number(0)), true=exp.null())],
        default=rate,
    )


def rate(tree: exp.Expression, ctx: object) -> exp.Expression:
    def fix(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Window) and isinstance(node.this, exp.Anonymous):
            name = node.this.name.lower()
            if name in _DERIVATIVES and len(node.this.expressions) in (2, 3):
                return _derivative(node, name, list(node.this.expressions))
            return node
        if isinstance(node, exp.Anonymous):
            name = node.name.lower()
            if name in _AGGREGATES and len(node.expressions) == 2 and not isinstance(node.parent, exp.Window):
                return _fn(_AGGREGATES[name], *node.expressions)
        return node

    return tree.transform(fix, copy=False)
