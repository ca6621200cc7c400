"""TimescaleDB's time_bucket in all its argument forms, lowered to DuckDB's time_bucket or integer SQL.

    SELECT time_bucket('5 minutes', time) FROM cpu
    -> SELECT TIME_BUCKET(CAST('5 minutes' AS INTERVAL), time) FROM cpu

    SELECT time_bucket(10, n, 3) FROM t
    -> SELECT n - (((n - 3) % 10) + 10) % 10 FROM t

TimescaleDB's forms (``time_bucket(width, ts [, offset | origin | timezone [, origin [, offset]]])``)
and named arguments (``offset =>``, ``origin =>``, ``timezone =>``, also ``:=``):

- interval width, ts (date/timestamp/timestamptz): DuckDB's time_bucket has the same defaults as
  TimescaleDB: origin Monday 2000-01-03 for widths without months, 2000-01-01 for month/year widths
  (whose origin day is ignored, only its month counts); timestamptz buckets in UTC; widths mixing
  months with days or time are refused. An untyped third argument is classified by its text:
  an interval ('-2.5 minutes') is an offset, a date/timestamp ('2017-12-31') an origin, anything
  else ('Europe/Berlin') a time zone. (PostgreSQL would resolve an unknown literal to the text
  overload, i.e. a time zone; TimescaleDB's docs add ``::interval`` for that reason.) Typed
  arguments go to DuckDB positionally and its overload resolution picks the same meaning.
- untyped origins take the type of ts (``cast_to_type``), so buckets keep ts's type.
- timezone with origin and/or offset (TimescaleDB's 5-argument form): bucket the local time,
  ``timezone(tz, time_bucket(w, timezone(tz, ts) - offset, timezone(tz, origin)) + offset)``.
- integer width (a numeric literal): exact integer floor division, also for negative ts and
  offsets: ``ts - (((ts - offset) % w) + w) % w``; a width <= 0 is an error as in TimescaleDB.
"""

from __future__ import annotations

import re

from sqlglot import exp

from sql import errors as E

_DATE_TEXT = re.compile(r"^\s*\d{4}-\d{1,2}-\d{1,2}")
_INTERVAL_TEXT = re.compile(r"^\s*(@\s*)?[-+]?\s*(\d|\.\d)|^\s*P(\d|T)", re.IGNORECASE)
_INT_TYPES = {"SMALLINT", "INT", "BIGINT", "TINYINT"}


def call_name(node: exp.Expression) -> str:
    """The lower-case name of an anonymous (not built-in to sqlglot) function call, else ''."""
    return node.name.lower() if isinstance(node, exp.Anonymous) else ""


def call_args(node: exp.Expression) -> tuple[list[exp.Expression], dict[str, exp.Expression]]:
    """Positional and named (``name => v`` / ``name := v``) arguments of a call."""
    positional: list[exp.Expression] = []
    named: dict[str, exp.Expression] = {}
    for a in node.expressions:
        if isinstance(a, exp.Kwarg | exp.PropertyEQ):
            named[a.this.name.lower()] = a.expression
        else:
            positional.append(a)
    return positional, named


def integer_width(width: exp.Expression) -> int | None:
    """The value of an integer-literal bucket width (``10``, ``-1``, ``10::int8``), else None."""
    e = width
    if isinstance(e, exp.Cast) and e.to.this.name in _INT_TYPES:
        e = e.this
    if isinstance(e, exp.Paren):
        e = e.this
    sign = 1
    if isinstance(e, exp.Neg):
        sign, e = -1, e.this
    if isinstance(e, exp.Literal) and not e.is_string and re.fullmatch(r"\d+", e.name):
        return sign * int(e.name)
    return None


def interval(e: exp.Expression) -> exp.Expression:
    """An untyped string literal as an interval (PostgreSQL resolves 'unknown' from context)."""
    if isinstance(e, exp.Literal) and e.is_string:
        return exp.Cast(this=e, to=exp.DataType.build("INTERVAL"))
    return e


def third_argument_kind(e: exp.Expression) -> str | None:
    """'offset', 'origin' or 'timezone' for a third argument whose meaning the SQL shows, else None."""
    if isinstance(e, exp.Interval):
        return "offset"
    if isinstance(e, exp.Cast):
        t = e.to.this
        if t == exp.DataType.Type.INTERVAL:
            return "offset"
        if t in (
            exp.DataType.Type.DATE,
            exp.DataType.Type.TIMESTAMP,
            exp.DataType.Type.TIMESTAMPTZ,
            exp.DataType.Type.DATETIME,
        ):
            return "origin"
        if t in exp.DataType.TEXT_TYPES:
            return "timezone"
        return None
    if isinstance(e, exp.Literal) and e.is_string:
        if _DATE_TEXT.match(e.name):
            return "origin"
        if _INTERVAL_TEXT.match(e.name):
            return "offset"
        return "timezone"
    return None


def _fn(name: str, *args: exp.Expression) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


def _lower(node: exp.Expression) -> exp.Expression:
    if call_name(node) != "time_bucket":
        return node
    pos, named = call_args(node)
    if len(pos) < 2:
        return node
    width, ts, rest = pos[0], pos[1], pos[2:]
    unknown = [k for k in named if k not in ("bucket_width", "ts", "offset", "origin", "timezone")]
    if unknown:
        raise E.UndefinedFunction(f"function time_bucket has no parameter named {unknown[0]}")
    offset, origin, tz = named.get("offset"), named.get("origin"), named.get("timezone")
    n = integer_width(width)
    if n is not None:
        if n <= 0:
            raise E.InvalidParameterValue("period must be greater than 0")
        off = offset if offset is not None else (rest[0] if rest else None)
        shifted = ts.copy() if off is None else exp.Paren(this=exp.Sub(this=ts.copy(), expression=off))
        w = exp.Literal.number(n)
        floor_mod = exp.Mod(
            this=exp.Paren(this=exp.Add(this=exp.Mod(this=shifted, expression=w), expression=w.copy())),
            expression=w.copy(),
        )
        return exp.Sub(this=ts, expression=floor_mod)

    positional_extra: list[exp.Expression] = []
    if rest:
        kind = third_argument_kind(rest[0])
        if kind == "offset" and offset is None:
            offset = rest[0]
        elif kind == "origin" and origin is None:
            origin = rest[0]
        elif kind == "timezone" and tz is None:
            tz = rest[0]
            if len(rest) > 1 and origin is None:
                origin = rest[1]
            if len(rest) > 2 and offset is None:
                offset = rest[2]
        else:
            positional_extra = rest[:1]  # typed by an expression: DuckDB's overloads decide
    width = interval(width)
    if offset is not None:
        offset = interval(offset)

    if tz is not None and origin is None and offset is None:
        return _fn("TIME_BUCKET", width, ts, tz)
    if tz is not None:
        local: exp.Expression = _fn("TIMEZONE", tz, exp.Cast(this=ts, to=exp.DataType.build("TIMESTAMPTZ")))
        if offset is not None:
            local = exp.Sub(this=local, expression=offset)
        args = [width, local]
        if origin is not None:
            args.append(
                _fn("TIMEZONE", tz.copy(), exp.Cast(this=origin, to=exp.DataType.build("TIMESTAMPTZ")))
            )
        bucketed: exp.Expression = _fn("TIME_BUCKET", *args)
        if offset is not None:
            bucketed = exp.Add(this=bucketed, expression=offset.copy())
        return _fn("TIMEZONE", tz.copy(), bucketed)
    if origin is not None and isinstance(origin, exp.Literal) and origin.is_string:
        origin = _fn("CAST_TO_TYPE", origin, ts.copy())
    if origin is not None and offset is not None:
        shifted_ts = exp.Sub(this=ts, expression=offset)
        return exp.Add(this=_fn("TIME_BUCKET", width, shifted_ts, origin), expression=offset.copy())
    if origin is not None:
        return _fn("TIME_BUCKET", width, ts, origin)
    if offset is not None:
        return _fn("TIME_BUCKET", width, ts, offset)
    return _fn("TIME_BUCKET", width, ts, *positional_extra)


def time_bucket(tree: exp.Expression, ctx: object) -> exp.Expression:
    return tree.transform(_lower, copy=False)
