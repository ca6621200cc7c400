"""SELECT analysis before execution, as InfluxDB's query compiler does it.

- :func:`condition_expr`: split a WHERE clause into the time range and the rest. Time comparisons
  anywhere in the AND/OR tree narrow the range (InfluxDB intersects them even under OR) and drop out
  of the condition; ``now()``, time strings and ``+``/``-`` durations are evaluated. What depends
  only on the condition's shape is a :class:`ConditionPlan`, made once per statement template.
- :func:`compile_select`: the interval and offset of ``GROUP BY time()``, the time column's name,
  and the validation InfluxDB performs on fields and dimensions, with its error messages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sql.influxql import ast as A
from sql.influxql.lexer import T
from sql.influxql.technical import MIN_HOLD, TECHNICAL, WITH_WARMUP
from sql.influxql.values import MAX_TIME, MIN_TIME, BadTime, format_time, is_time_string, parse_time, utc_time


class QueryError(Exception):
    """A statement InfluxDB runs and answers with an error inside the results (HTTP 200)."""


MATH_FUNCTIONS = {
    "abs": 1,
    "sin": 1,
    "cos": 1,
    "tan": 1,
    "asin": 1,
    "acos": 1,
    "atan": 1,
    "atan2": 2,
    "exp": 1,
    "log": 2,
    "ln": 1,
    "log2": 1,
    "log10": 1,
    "sqrt": 1,
    "pow": 2,
    "floor": 1,
    "ceil": 1,
    "round": 1,
}
SELECTORS = {"max", "min", "first", "last", "percentile", "sample", "top", "bottom"}
AGGREGATES = {"count", "sum", "mean", "median", "mode", "stddev", "spread", "distinct", "integral"}
TRANSFORMS = {
    "derivative",
    "non_negative_derivative",
    "difference",
    "non_negative_difference",
    "cumulative_sum",
    "moving_average",
    "elapsed",
    *TECHNICAL,
}


# -- time ranges -------------------------------------------------------------------------------------------
@dataclass
class TimeRange:
    min: int | None = None  # inclusive ns; None = unbounded
    max: int | None = None  # inclusive ns

    def intersect(self, other: TimeRange) -> TimeRange:
        lo = self.min if other.min is None else other.min if self.min is None else max(self.min, other.min)
        hi = self.max if other.max is None else other.max if self.max is None else min(self.max, other.max)
        return TimeRange(lo, hi)


def _reduce_time(e: A.Expr, now: int, tz: dt.tzinfo) -> A.Expr:
    """Evaluate now(), time strings and time +/- duration arithmetic."""
    if isinstance(e, A.ParenExpr):
        return _reduce_time(e.expr, now, tz)
    if isinstance(e, A.Call) and e.name == "now" and not e.args:
        return A.TimeLiteral(now)
    if isinstance(e, A.BinaryExpr) and e.op in (T.ADD, T.SUB):
        lhs = _reduce_time(e.lhs, now, tz)
        rhs = _reduce_time(e.rhs, now, tz)
        if isinstance(lhs, A.StringLiteral) and is_time_string(lhs.value):
            try:
                lhs = A.TimeLiteral(parse_time(lhs.value, tz))
            except BadTime:
                pass
        sign = 1 if e.op is T.ADD else -1
        if isinstance(lhs, A.TimeLiteral) and isinstance(rhs, A.DurationLiteral):
            return A.TimeLiteral(lhs.value + sign * rhs.value)
        if isinstance(lhs, A.IntegerLiteral) and isinstance(rhs, A.DurationLiteral):
            return A.TimeLiteral(lhs.value + sign * rhs.value)
        if isinstance(lhs, A.DurationLiteral) and isinstance(rhs, A.DurationLiteral):
            return A.DurationLiteral(lhs.value + sign * rhs.value)
        if isinstance(lhs, A.DurationLiteral) and isinstance(rhs, A.TimeLiteral) and e.op is T.ADD:
            return A.TimeLiteral(lhs.value + rhs.value)
        if isinstance(lhs, A.IntegerLiteral) and isinstance(rhs, A.IntegerLiteral):
            return A.IntegerLiteral(lhs.value + sign * rhs.value)
        return A.BinaryExpr(e.op, lhs, rhs)
    return e


def _time_value(rhs: A.Expr, now: int, tz: dt.tzinfo) -> int:
    """The nanoseconds ``time <op> rhs`` compares with."""
    if type(rhs) is A.StringLiteral and (value := utc_time(rhs.value)) is not None:
        pass  # the usual bound, '...Z' (parse_time's first case, without its other tests)
    elif isinstance(rhs, A.StringLiteral) and is_time_string(rhs.value):
        try:
            value = parse_time(rhs.value, tz)
        except BadTime as e:
            raise QueryError(f'parsing time "{rhs.value}": {e}') from None
    else:
        rhs = _reduce_time(rhs, now, tz)
        if isinstance(rhs, A.DurationLiteral | A.IntegerLiteral):
            return rhs.value
        if isinstance(rhs, A.NumberLiteral):
            return int(rhs.value)
        if not isinstance(rhs, A.TimeLiteral):
            raise QueryError(f"invalid operation: time and *influxql.{type(rhs).__name__} are not compatible")
        value = rhs.value
    if value > MAX_TIME:
        raise QueryError(f"time {format_time(value)} overflows time literal")
    if value < MIN_TIME + 1:
        raise QueryError(f"time {format_time(value)} underflows time literal")
    return value


_FLIP = {T.GT: T.LT, T.LT: T.GT, T.GTE: T.LTE, T.LTE: T.GTE}


def _is_time(e: A.Expr) -> bool:
    return isinstance(e, A.VarRef) and e.name.lower() == "time"


def condition_expr(cond: A.Expr | None, now: int, tz: dt.tzinfo) -> tuple[A.Expr | None, TimeRange]:
    """The condition without its time comparisons, and the time range they give."""
    return ConditionPlan(cond).bind(cond, now, tz)


_Path = tuple[str, ...]  # attribute names from a condition's root down to one of its nodes


class ConditionPlan:
    """What condition_expr does with a condition that depends only on its shape (its nodes' types,
    operators and names, not the values it compares): made once for a statement template's
    condition (sql/influxql/parse_cache.py) and bound to the condition of each text of the template,
    whose tree has the same shape.

    ``steps`` are the time comparisons in the order the walk meets them (left before right): the
    comparison's operator (as ``time <op> value``) and where its value is; or None and where a node
    is that is no condition (its error raised when the walk reaches it, after the comparisons before
    it, naming the bound condition's own node). The rest of the condition (``rest``) is a recipe
    over the bound condition's own nodes: ``None`` (nothing), ``(path,)`` (the node there, as it
    is), ``(op, lhs, rhs)`` (a new AND or OR of two recipes) or ``(None, recipe)`` (a new
    parenthesis)."""

    __slots__ = ("rest", "steps")

    def __init__(self, cond: A.Expr | None) -> None:
        self.steps: list[tuple[T | None, _Path]] = []
        rest = self._walk(cond, ())
        # condition_expr's answer: one parenthesis around it dropped, a bare TRUE is none
        if rest is not None and len(rest) == 2:
            rest = rest[1]
        elif rest is not None and len(rest) == 1 and isinstance(_at(cond, rest[0]), A.ParenExpr):
            rest = ((*rest[0], "expr"),)
        if rest is not None and len(rest) == 1:
            node = _at(cond, rest[0])
            if isinstance(node, A.BooleanLiteral) and node.value:
                rest = None
        self.rest = rest

    def _walk(self, cond: A.Expr | None, path: _Path) -> tuple | None:
        if cond is None:
            return None
        if isinstance(cond, A.BinaryExpr):
            if cond.op is T.AND or cond.op is T.OR:
                lhs = self._walk(cond.lhs, (*path, "lhs"))
                rhs = self._walk(cond.rhs, (*path, "rhs"))
                if rhs is None:
                    return lhs
                if lhs is None:
                    return rhs
                if lhs == ((*path, "lhs"),) and rhs == ((*path, "rhs"),):
                    return (path,)  # no time comparison below: the node as it is
                return (cond.op, lhs, rhs)
            if _is_time(cond.lhs):
                self.steps.append((cond.op, (*path, "rhs")))
                return None
            if _is_time(cond.rhs):
                self.steps.append((_FLIP.get(cond.op, cond.op), (*path, "lhs")))
                return None
            return (path,)
        if isinstance(cond, A.ParenExpr):
            inner = self._walk(cond.expr, (*path, "expr"))
            if inner is None:
                return None
            return (path,) if inner == ((*path, "expr"),) else (None, inner)
        if isinstance(cond, A.BooleanLiteral):
            return (path,)
        self.steps.append((None, path))
        return None

    def bind(self, cond: A.Expr | None, now: int, tz: dt.tzinfo) -> tuple[A.Expr | None, TimeRange]:
        """condition_expr(cond, now, tz) of a condition of this plan's shape."""
        lo = hi = None  # the intersection of the comparisons' ranges (None: unbounded)
        for op, path in self.steps:
            if op is None:
                raise QueryError(f"invalid condition expression: {_at(cond, path)}")
            value = _time_value(_at(cond, path), now, tz)
            if op is T.GT or op is T.GTE or op is T.EQ:
                bound = value + 1 if op is T.GT else value
                lo = bound if lo is None else max(lo, bound)
            if op is T.LT or op is T.LTE or op is T.EQ:
                bound = value - 1 if op is T.LT else value
                hi = bound if hi is None else min(hi, bound)
            elif op is not T.GT and op is not T.GTE:
                raise QueryError(f"invalid time comparison operator: {op.value}")
        tr = TimeRange(lo, hi)
        rest = self.rest
        if rest is None:
            return None, tr
        if len(rest) == 1:
            return _at(cond, rest[0]), tr
        return _make(rest, cond), tr


def _at(node: Any, path: _Path) -> Any:
    for name in path:
        node = getattr(node, name)
    return node


def _make(recipe: tuple, cond: A.Expr | None) -> A.Expr:
    if len(recipe) == 1:
        return _at(cond, recipe[0])
    if recipe[0] is None:
        return A.ParenExpr(_make(recipe[1], cond))
    return A.BinaryExpr(recipe[0], _make(recipe[1], cond), _make(recipe[2], cond))


def validate_condition(e: A.Expr | None) -> None:
    if isinstance(e, A.BinaryExpr):
        validate_condition(e.lhs)
        validate_condition(e.rhs)
    elif isinstance(e, A.ParenExpr):
        validate_condition(e.expr)
    elif isinstance(e, A.Call):
        if e.name not in MATH_FUNCTIONS:
            raise QueryError(f"invalid function call in condition: {e}")
        n = 2 if e.name in ("atan2", "pow") else 1
        if len(e.args) != n:
            raise QueryError(f"invalid number of arguments for {e.name}, expected {n}, got {len(e.args)}")
        for a in e.args:
            validate_condition(a)


# -- the compiled statement -------------------------------------------------------------------------------------
@dataclass
class Compiled:
    stmt: A.SelectStatement
    condition: A.Expr | None
    time_range: TimeRange
    interval: int = 0  # ns; 0 = no GROUP BY time
    offset: int = 0
    tz: dt.tzinfo = dt.UTC
    time_name: str = "time"
    fields: list[A.Field] = field(default_factory=list)  # without the time field
    calls: list[A.Call] = field(default_factory=list)
    only_selectors: bool = True
    has_distinct: bool = False
    has_aux: bool = False
    top_bottom: str = ""
    extra_intervals: int = 0
    inherited_interval: bool = False
    ascending: bool = True

    @property
    def tmin(self) -> int:
        return MIN_TIME if self.time_range.min is None else self.time_range.min

    @property
    def tmax(self) -> int:
        return MAX_TIME if self.time_range.max is None else self.time_range.max


def compile_select(
    stmt: A.SelectStatement,
    now: int,
    *,
    parent: Compiled | None = None,
    condition: tuple[A.Expr | None, TimeRange] | None = None,
) -> Compiled:
    """``condition``: what ``condition_expr(stmt.condition, now, UTC)`` gave, when the caller has it
    (the HTTP handler computes it to decide where the query runs); not used with tz()."""
    tz: dt.tzinfo = dt.UTC
    if stmt.location and stmt.location != "UTC":
        import zoneinfo

        tz = zoneinfo.ZoneInfo(stmt.location)
        condition = None
    if condition is not None:
        cond, tr = condition[0], TimeRange(condition[1].min, condition[1].max)  # (changed below)
    else:
        cond, tr = condition_expr(stmt.condition, now, tz)
    validate_condition(cond)
    c = Compiled(stmt, cond, tr, tz=tz, ascending=not stmt.sort_desc)
    _compile_dimensions(c, now)
    if parent is not None:
        if stmt.sort_given and c.ascending != parent.ascending:
            raise QueryError("subqueries must be ordered in the same direction as the query itself")
        c.ascending = parent.ascending
        c.time_range = c.time_range.intersect(parent.time_range)
        if c.interval and stmt.fill == "null":
            stmt.fill = "none"
        if parent.interval and not c.interval:
            c.interval, c.offset = parent.interval, parent.offset
            c.inherited_interval = True
    if c.time_range.max is None and c.interval:
        c.time_range.max = now
    _compile_fields(c)
    _validate_fields(c)
    return c


def _compile_dimensions(c: Compiled, now: int) -> None:
    for d in c.stmt.dimensions:
        e = d.expr
        while isinstance(e, A.ParenExpr):
            e = e.expr
        if isinstance(e, A.VarRef):
            if e.name.lower() == "time":
                raise QueryError("time() is a function and expects at least one argument")
        elif isinstance(e, A.Call):
            if e.name != "time":
                raise QueryError("only time() calls allowed in dimensions")
            if len(e.args) not in (1, 2):
                raise QueryError("time dimension expected 1 or 2 arguments")
            lit = e.args[0]
            if not isinstance(lit, A.DurationLiteral):
                raise QueryError("time dimension must have duration argument")
            if c.interval:
                raise QueryError("multiple time dimensions not allowed")
            if lit.value <= 0:
                raise QueryError("group by interval must be positive")
            c.interval = lit.value
            if len(e.args) == 2:
                off = e.args[1]
                if isinstance(off, A.DurationLiteral):
                    c.offset = _go_mod(off.value, c.interval)
                elif isinstance(off, A.Call):
                    if off.name != "now":
                        raise QueryError("time dimension offset function must be now()")
                    if off.args:
                        raise QueryError("time dimension offset now() function requires no arguments")
                    c.offset = now % c.interval
                    e.args[1] = A.DurationLiteral(c.offset)
                elif isinstance(off, A.StringLiteral) and is_time_string(off.value):
                    t = parse_time(off.value, c.tz)
                    c.offset = t % c.interval
                else:
                    raise QueryError("time dimension offset must be duration or now()")
        elif isinstance(e, A.Wildcard | A.RegexLiteral):
            pass
        else:
            raise QueryError("only time and tag dimensions allowed")
        d.expr = e


def _go_mod(a: int, b: int) -> int:
    """Go's % (the sign follows the dividend)."""
    r = abs(a) % abs(b)
    return -r if a < 0 else r


def _is_literal(e: A.Expr) -> bool:
    return isinstance(e, A.Literal)


class _FieldCompiler:
    def __init__(self, c: Compiled, f: A.Field) -> None:
        self.c = c
        self.field = f
        self.allow_wildcard = True

    def expr(self, e: A.Expr) -> None:
        c = self.c
        if isinstance(e, A.VarRef):
            c.has_aux = True
            return
        if isinstance(e, A.Wildcard):
            c.has_aux = True
            if not self.allow_wildcard:
                raise QueryError("unable to use wildcard in a binary expression")
            return
        if isinstance(e, A.RegexLiteral):
            if not self.allow_wildcard:
                raise QueryError("unable to use regex in a binary expression")
            c.has_aux = True
            return
        if isinstance(e, A.Call):
            if e.name in MATH_FUNCTIONS:
                self._math(e)
                return
            c.calls.append(e)
            name = e.name
            if name == "percentile":
                return self._percentile(e.args)
            if name == "sample":
                return self._sample(e.args)
            if name == "distinct":
                return self._distinct(e.args, nested=False)
            if name in ("top", "bottom"):
                return self._top_bottom(e)
            if name in ("derivative", "non_negative_derivative", "elapsed"):
                return self._derivative(e)
            if name in ("difference", "non_negative_difference", "cumulative_sum"):
                return self._difference(e)
            if name == "moving_average":
                return self._moving_average(e)
            if name in TECHNICAL:
                return self._technical(e)
            if name == "integral":
                return self._integral(e.args)
            return self._function(e)
        if isinstance(e, A.Distinct):
            call = e.as_call()
            c.calls.append(call)
            return self._distinct(call.args, nested=False)
        if isinstance(e, A.BinaryExpr):
            self.allow_wildcard = False
            if _is_literal(e.lhs):
                if _is_literal(e.rhs):
                    raise QueryError("cannot perform a binary expression on two literals")
                return self.expr(e.rhs)
            if _is_literal(e.rhs):
                return self.expr(e.lhs)
            self.expr(e.lhs)
            self.expr(e.rhs)
            return
        if isinstance(e, A.ParenExpr):
            return self.expr(e.expr)
        if isinstance(e, A.Literal):
            raise QueryError("field must contain at least one variable")
        raise QueryError("unimplemented")

    def _nested(self, e: A.Expr) -> None:
        if isinstance(e, A.Call) and e.name == "distinct":
            return self._distinct(e.args, nested=True)
        if isinstance(e, A.Distinct):
            return self._distinct(e.as_call().args, nested=True)
        return self.expr(e)

    def _symbol(self, name: str, arg: A.Expr) -> None:
        if isinstance(arg, A.VarRef):
            return
        if isinstance(arg, A.Wildcard):
            if not self.allow_wildcard:
                raise QueryError(f"unsupported expression with wildcard: {name}()")
            self.c.only_selectors = False
            return
        if isinstance(arg, A.RegexLiteral):
            if not self.allow_wildcard:
                raise QueryError(f"unsupported expression with regex field: {name}()")
            self.c.only_selectors = False
            return
        raise QueryError(f"expected field argument in {name}()")

    def _function(self, e: A.Call) -> None:
        if e.name in ("max", "min", "first", "last"):
            pass
        elif e.name in ("count", "sum", "mean", "median", "mode", "stddev", "spread"):
            self.c.only_selectors = False
        else:
            raise QueryError(f"undefined function {e.name}()")
        if len(e.args) != 1:
            raise QueryError(f"invalid number of arguments for {e.name}, expected 1, got {len(e.args)}")
        if e.name == "count":
            a0 = e.args[0]
            if isinstance(a0, A.Call) and a0.name == "distinct":
                return self._distinct(a0.args, nested=True)
            if isinstance(a0, A.Distinct):
                e.args[0] = a0.as_call()
                return self._distinct(e.args[0].args, nested=True)  # type: ignore[attr-defined]
        self._symbol(e.name, e.args[0])

    def _percentile(self, args: list[A.Expr]) -> None:
        if len(args) != 2:
            raise QueryError(f"invalid number of arguments for percentile, expected 2, got {len(args)}")
        if not isinstance(args[1], A.IntegerLiteral | A.NumberLiteral):
            raise QueryError("expected float argument in percentile()")
        self._symbol("percentile", args[0])

    def _sample(self, args: list[A.Expr]) -> None:
        if len(args) != 2:
            raise QueryError(f"invalid number of arguments for sample, expected 2, got {len(args)}")
        a1 = args[1]
        if not isinstance(a1, A.IntegerLiteral):
            raise QueryError("expected integer argument in sample()")
        if a1.value <= 0:
            raise QueryError(f"sample window must be greater than 1, got {a1.value}")
        self._symbol("sample", args[0])

    def _derivative(self, e: A.Call) -> None:
        name = e.name
        args = e.args
        if not 1 <= len(args) <= 2:
            raise QueryError(
                f"invalid number of arguments for {name}, expected at least 1 but no more than 2, got {len(args)}"
            )
        if len(args) == 2:
            a1 = args[1]
            if isinstance(a1, A.DurationLiteral):
                if a1.value <= 0:
                    raise QueryError(f"duration argument must be positive, got {a1}")
            else:
                raise QueryError(
                    f"second argument to {name} must be a duration, got *influxql.{type(a1).__name__}"
                )
        self._transform(name, args[0], 1)

    def _difference(self, e: A.Call) -> None:
        if len(e.args) != 1:
            raise QueryError(f"invalid number of arguments for {e.name}, expected 1, got {len(e.args)}")
        # InfluxDB 1.x reads one window before the range for these (none for cumulative_sum)
        self._transform(e.name, e.args[0], 0 if e.name == "cumulative_sum" else 1)

    def _moving_average(self, e: A.Call) -> None:
        if len(e.args) != 2:
            raise QueryError(f"invalid number of arguments for moving_average, expected 2, got {len(e.args)}")
        a1 = e.args[1]
        if not isinstance(a1, A.IntegerLiteral):
            raise QueryError(
                f"second argument for moving_average must be an integer, got *influxql.{type(a1).__name__}"
            )
        if a1.value <= 1:
            raise QueryError(f"moving_average window must be greater than 1, got {a1.value}")
        self._transform("moving_average", e.args[0], 1)

    def _technical(self, e: A.Call) -> None:
        """exponential_moving_average(field, period[, hold_period[, warmup_type]]) and its kin."""
        name = e.name
        args = e.args
        most = 4 if name in WITH_WARMUP else 3
        if not 2 <= len(args) <= most:
            raise QueryError(
                f"invalid number of arguments for {name}, expected at least 2 but no more than {most}, got {len(args)}"
            )
        if not isinstance(args[1], A.IntegerLiteral):
            raise QueryError(f"{name} period must be an integer")
        if args[1].value < 1:
            raise QueryError(f"{name} period must be greater than or equal to 1")
        if len(args) > 2:
            if not isinstance(args[2], A.IntegerLiteral):
                raise QueryError(f"{name} hold period must be an integer")
            least = MIN_HOLD.get(name, 0)
            if args[2].value != -1 and args[2].value < least:
                raise QueryError(f"{name} hold period must be greater than or equal to {least}")
        if len(args) > 3:
            if not isinstance(args[3], A.StringLiteral):
                raise QueryError(f"{name} warmup type must be a string")
            kinds = (
                ("none", "exponential", "simple")
                if name == "chande_momentum_oscillator"
                else ("exponential", "simple")
            )
            if args[3].value not in kinds:
                raise QueryError(f"{name} warmup type must be one of: " + " ".join(f"'{k}'" for k in kinds))
        self._transform(name, args[0], 1)

    def _transform(self, name: str, arg: A.Expr, extra: int) -> None:
        c = self.c
        c.only_selectors = False
        c.extra_intervals = max(c.extra_intervals, extra)
        if isinstance(arg, A.Call):
            if not c.interval:
                raise QueryError(f"{name} aggregate requires a GROUP BY interval")
            if arg.name in TRANSFORMS and (name in TECHNICAL or arg.name in TECHNICAL):
                # a technical analysis function answers on the window before the range, which the
                # transformation around it reads: InfluxDB reads one window more
                c.extra_intervals = max(c.extra_intervals, extra + 1)
            return self._nested(arg)
        if c.interval and not c.inherited_interval:
            raise QueryError(f"aggregate function required inside the call to {name}")
        self._symbol(name, arg)

    def _integral(self, args: list[A.Expr]) -> None:
        if not 1 <= len(args) <= 2:
            raise QueryError(
                f"invalid number of arguments for integral, expected at least 1 but no more than 2, got {len(args)}"
            )
        if len(args) == 2:
            a1 = args[1]
            if isinstance(a1, A.DurationLiteral):
                if a1.value <= 0:
                    raise QueryError(f"duration argument must be positive, got {a1}")
            else:
                raise QueryError("second argument must be a duration")
        self.c.only_selectors = False
        self._symbol("integral", args[0])

    def _distinct(self, args: list[A.Expr], nested: bool) -> None:
        if not args:
            raise QueryError("distinct function requires at least one argument")
        if len(args) != 1:
            raise QueryError("distinct function can only have one argument")
        if not isinstance(args[0], A.VarRef):
            raise QueryError("expected field argument in distinct()")
        if not nested:
            self.c.has_distinct = True
        self.c.only_selectors = False

    def _top_bottom(self, e: A.Call) -> None:
        c = self.c
        if c.top_bottom:
            raise QueryError(f"selector function {c.top_bottom}() cannot be combined with other functions")
        if len(e.args) < 2:
            raise QueryError(
                f"invalid number of arguments for {e.name}, expected at least 2, got {len(e.args)}"
            )
        limit = e.args[-1]
        if not isinstance(limit, A.IntegerLiteral):
            raise QueryError(f"expected integer as last argument in {e.name}(), found {limit}")
        if limit.value <= 0:
            raise QueryError(f"limit ({limit.value}) in {e.name} function must be at least 1")
        if c.stmt.limit > 0 and limit.value > c.stmt.limit:
            raise QueryError(
                f"limit ({limit.value}) in {e.name} function can not be larger than the LIMIT "
                f"({c.stmt.limit}) in the select statement"
            )
        if not isinstance(e.args[0], A.VarRef):
            raise QueryError(f"expected first argument to be a field in {e.name}(), found {e.args[0]}")
        for v in e.args[1:-1]:
            if not isinstance(v, A.VarRef):
                raise QueryError(f"only fields or tags are allowed in {e.name}(), found {v}")
            c.has_aux = c.has_aux or False
        c.top_bottom = e.name

    def _math(self, e: A.Call) -> None:
        n = MATH_FUNCTIONS[e.name]
        if len(e.args) != n:
            raise QueryError(f"invalid number of arguments for {e.name}, expected {n}, got {len(e.args)}")
        for a in e.args:
            if _is_literal(a):
                continue
            self.expr(a)


def _compile_fields(c: Compiled) -> None:
    for f in c.stmt.fields:
        if isinstance(f.expr, A.VarRef) and f.expr.name == "time":
            if f.alias:
                c.time_name = f.alias
            continue
        f.expr = fold(_rewrite_distinct(f.expr))
        c.fields.append(f)
        _FieldCompiler(c, f).expr(f.expr)


def fold(e: A.Expr) -> A.Expr:
    """Constant arithmetic on number literals evaluated, as InfluxDB reduces fields before compiling."""
    if isinstance(e, A.Call):
        return A.Call(e.name, [fold(a) for a in e.args])
    if isinstance(e, A.ParenExpr):
        inner = fold(e.expr)
        return inner if isinstance(inner, A.IntegerLiteral | A.NumberLiteral) else A.ParenExpr(inner)
    if isinstance(e, A.BinaryExpr):
        lhs, rhs = fold(e.lhs), fold(e.rhs)
        nums = (A.IntegerLiteral, A.NumberLiteral)
        if isinstance(lhs, nums) and isinstance(rhs, nums) and e.op in (T.ADD, T.SUB, T.MUL, T.DIV):
            a, b = lhs.value, rhs.value
            ints = isinstance(lhs, A.IntegerLiteral) and isinstance(rhs, A.IntegerLiteral)
            if e.op is T.ADD:
                v: float = a + b
            elif e.op is T.SUB:
                v = a - b
            elif e.op is T.MUL:
                v = a * b
            else:
                v = 0.0 if b == 0 else a / b
                ints = False
            return A.IntegerLiteral(int(v)) if ints else A.NumberLiteral(float(v))
        return A.BinaryExpr(e.op, lhs, rhs)
    return e


def _rewrite_distinct(e: A.Expr) -> A.Expr:
    """``DISTINCT x`` -> ``distinct(x)`` (also inside count()), as InfluxDB's RewriteDistinct."""
    if isinstance(e, A.Distinct):
        return e.as_call()
    if isinstance(e, A.Call):
        return A.Call(e.name, [_rewrite_distinct(a) for a in e.args])
    if isinstance(e, A.BinaryExpr):
        return A.BinaryExpr(e.op, _rewrite_distinct(e.lhs), _rewrite_distinct(e.rhs))
    if isinstance(e, A.ParenExpr):
        return A.ParenExpr(_rewrite_distinct(e.expr))
    return e


def _validate_fields(c: Compiled) -> None:
    if not c.fields:
        raise QueryError("at least 1 non-time field must be queried")
    if len(c.calls) > 1 and c.top_bottom:
        raise QueryError(f"selector function {c.top_bottom}() cannot be combined with other functions")
    if not c.calls:
        if c.stmt.fill == "none":
            raise QueryError("fill(none) must be used with a function")
        if c.stmt.fill == "linear":
            raise QueryError("fill(linear) must be used with a function")
        if c.interval and not c.inherited_interval:
            raise QueryError("GROUP BY requires at least one aggregate function")
    if c.has_distinct and (len(c.calls) != 1 or c.has_aux):
        raise QueryError("aggregate function distinct() cannot be combined with other functions or fields")
    if c.has_aux:
        if not c.only_selectors:
            raise QueryError("mixing aggregate and non-aggregate queries is not supported")
        if len(c.calls) > 1:
            raise QueryError("mixing multiple selector functions with tags or fields is not supported")


def literal_value(e: A.Expr) -> Any:
    if isinstance(e, A.IntegerLiteral | A.NumberLiteral | A.UnsignedLiteral | A.StringLiteral):
        return e.value
    if isinstance(e, A.BooleanLiteral):
        return e.value
    if isinstance(e, A.DurationLiteral):
        return e.value
    return None
