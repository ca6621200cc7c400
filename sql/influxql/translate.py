"""InfluxQL pieces as PostgreSQL-dialect SQL text for the SQL engine (sql/engine.py).

The SQL engine parses this text with sqlglot, pushes the time range and tag predicates down into the
storage scan, and runs it natively or in DuckDB. What this module knows is InfluxQL's meaning:

- a tag that a series lacks is the empty string (``host = ''`` is ``host IS NULL``; ``host != 'a'``
  keeps series without the tag), a name that is neither a field nor a tag is such a tag;
- comparing values of different types is false (a float field with a string, a tag with a number),
  math functions in a WHERE clause compare as false (InfluxDB 1.x), ``::integer`` etc. convert;
- integer division yields a float and division by zero yields 0.

    >>> Schema({"usage": "float"}, {"host"}).condition(parse_expr("host = 'a' AND usage > 1"))
    '("host" = \\'a\\' AND "usage" > 1)'
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

from sql.influxql import ast as A
from sql.influxql.functions import BOOLEAN, FLOAT, INTEGER, NUMERIC, STRING, UNSIGNED
from sql.influxql.lexer import T


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def timestamp(ns: int) -> str:
    """A timestamptz literal; sub-microsecond parts are cut (the SQL engine counts microseconds)."""
    from sql.influxql.values import format_time

    us = ns // 1000 * 1000
    return f"CAST({string(format_time(us))} AS TIMESTAMPTZ)"


def time_literal(ns: int) -> str:
    """A time bound as a plain string literal (``'2016-01-01T00:00:00Z'``) for ``"time" >= <it>``.

    For SQL read from text (a subquery's rows; SqlParams.time otherwise); sub-microsecond parts
    are cut as in :func:`timestamp`."""
    from sql.influxql.values import format_time

    return string(format_time(ns // 1000 * 1000))


class SqlParams:
    """Values a SQL text takes as ``$1``, ``$2`` ... instead of literals, with their type OIDs.

    Time bounds and the values compared with tags and fields change from one statement of a
    template to the next; as parameters they leave the text the same, so the SQL engine finds its
    prepared plan by the text alone instead of cutting a new text into a template of literals
    (sql/plan_cache.py). Only what the plan cache would lift becomes a parameter, with the type it
    would give it: a timestamp compared with ``"time"``, an integer with the nanosecond column, a
    non-empty string with a tag or string field, a number with a float field, an integer with an
    integer field."""

    __slots__ = ("oids", "values")

    def __init__(self) -> None:
        self.values: list[Any] = []
        self.oids: list[int] = []

    def add(self, value: Any, oid: int) -> str:
        self.values.append(value)
        self.oids.append(oid)
        return f"${len(self.values)}"

    def int8(self, value: int) -> str:
        return self.add(value, INT8_OID)

    def time(self, ns: int) -> str:
        """A time bound as a timestamptz parameter (sub-microsecond parts cut, as :func:`time_literal`)."""
        # (timedelta's positional days, seconds, microseconds: half the cost of its keyword form)
        return self.add(_EPOCH_UTC + _dt.timedelta(0, 0, ns // 1000), TIMESTAMPTZ_OID)


TIMESTAMPTZ_OID, INT8_OID, FLOAT8_OID, TEXT_OID = 1184, 20, 701, 25
_EPOCH_UTC = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)


def _guard(cond: str, expr: str) -> str:
    return f"(CASE WHEN {cond} THEN {expr} END)"


# Math in WHERE, NULL (compares false) where InfluxDB's result is NaN
_SQL_MATH: dict[str, Any] = {
    "abs": lambda x: f"abs({x})",
    "floor": lambda x: f"floor({x})",
    "ceil": lambda x: f"ceil({x})",
    "round": lambda x: f"(sign({x}) * floor(abs({x}) + 0.5))",
    "sin": lambda x: f"sin({x})",
    "cos": lambda x: f"cos({x})",
    "tan": lambda x: f"tan({x})",
    "asin": lambda x: _guard(f"{x} BETWEEN -1 AND 1", f"asin({x})"),
    "acos": lambda x: _guard(f"{x} BETWEEN -1 AND 1", f"acos({x})"),
    "atan": lambda x: f"atan({x})",
    "atan2": lambda y, x: f"atan2({y}, {x})",
    "exp": lambda x: f"exp({x})",
    "ln": lambda x: _guard(f"{x} > 0", f"ln({x})"),
    "log2": lambda x: _guard(f"{x} > 0", f"ln({x}) / ln(2.0)"),
    "log10": lambda x: _guard(f"{x} > 0", f"ln({x}) / ln(10.0)"),
    "log": lambda x, b: _guard(f"{x} > 0 AND {b} > 0 AND {b} <> 1", f"ln({x}) / ln({b})"),
    "sqrt": lambda x: _guard(f"{x} >= 0", f"sqrt({x})"),
    "pow": lambda x, y: f"power({x}, {y})",
}

SQL_TYPE = {
    FLOAT: "DOUBLE PRECISION",
    INTEGER: "BIGINT",
    UNSIGNED: "NUMERIC",
    STRING: "TEXT",
    BOOLEAN: "BOOLEAN",
}
TAG = "tag"
NULL = "null"
_AND_OR = {T.AND: T.AND.value, T.OR: T.OR.value}


@dataclass
class Schema:
    """A measurement's fields (name -> kind) and tag keys."""

    fields: dict[str, str] = field(default_factory=dict)
    tags: set[str] = field(default_factory=set)
    hidden: set[str] = field(default_factory=set)  # a subquery's implicit tags: not in SELECT *

    # -- references ---------------------------------------------------------------------------------------
    def ref(self, v: A.VarRef) -> tuple[str, str]:
        """SQL text and kind of a reference: a field kind, 'tag', or 'null' (nothing by that name)."""
        t = v.type
        if t == "tag":
            return (ident(v.name), TAG) if v.name in self.tags else ("NULL", TAG)
        if v.name in self.fields:
            kind = self.fields[v.name]
            if t in (None, "field") or t == kind:
                return ident(v.name), kind
            if t in (FLOAT, INTEGER, UNSIGNED) and kind in NUMERIC:
                if t == INTEGER:
                    return f"CAST(TRUNC({ident(v.name)}) AS BIGINT)", INTEGER
                return f"CAST({ident(v.name)} AS {SQL_TYPE[t]})", t
            return "NULL", NULL
        if t in (None,) and v.name not in self.fields:
            return (ident(v.name), TAG) if v.name in self.tags else ("NULL", TAG)
        return "NULL", NULL

    # -- conditions ---------------------------------------------------------------------------------------
    def condition(self, e: A.Expr, params: SqlParams | None = None) -> str:
        """The SQL of a condition; with ``params``, the values compared with columns as parameters."""
        if type(e) is A.BinaryExpr:  # (most nodes: isinstance's checks below come to it)
            word = _AND_OR.get(e.op)
            if word is not None:
                return f"({self.condition(e.lhs, params)} {word} {self.condition(e.rhs, params)})"
        if isinstance(e, A.ParenExpr):
            return self.condition(e.expr, params)
        if isinstance(e, A.BooleanLiteral):
            return "TRUE" if e.value else "FALSE"
        if isinstance(e, A.BinaryExpr):
            if e.op in (T.EQREGEX, T.NEQREGEX):
                return self._regex(e)
            if e.op in (T.EQ, T.NEQ, T.LT, T.LTE, T.GT, T.GTE):
                return self._compare(e, params)
        return "FALSE"

    def _regex(self, e: A.BinaryExpr) -> str:
        lhs = e.lhs
        while isinstance(lhs, A.ParenExpr):
            lhs = lhs.expr
        rx = e.rhs
        if not isinstance(rx, A.RegexLiteral) or not isinstance(lhs, A.VarRef):
            return "FALSE"
        sql, kind = self.ref(lhs)
        negate = e.op is T.NEQREGEX
        pat = string(rx.pattern)
        if kind == TAG:
            empty_matches = rx.compiled.search("") is not None
            if sql == "NULL":
                return "TRUE" if empty_matches != negate else "FALSE"
            if not negate:
                return f"({sql} IS NULL OR {sql} ~ {pat})" if empty_matches else f"{sql} ~ {pat}"
            if empty_matches:
                return f"({sql} IS NOT NULL AND NOT ({sql} ~ {pat}))"
            return f"({sql} IS NULL OR NOT ({sql} ~ {pat}))"
        if kind == STRING:
            return f"NOT ({sql} ~ {pat})" if negate else f"{sql} ~ {pat}"
        return "FALSE"

    def value(self, e: A.Expr) -> tuple[str, str]:
        """SQL text and kind of a value expression in a condition."""
        if isinstance(e, A.ParenExpr):
            sql, kind = self.value(e.expr)
            return f"({sql})", kind
        if isinstance(e, A.VarRef):
            return self.ref(e)
        if isinstance(e, A.IntegerLiteral):
            return str(e.value), INTEGER
        if isinstance(e, A.UnsignedLiteral):
            return str(e.value), UNSIGNED
        if isinstance(e, A.NumberLiteral):
            return repr(float(e.value)), FLOAT
        if isinstance(e, A.StringLiteral):
            return string(e.value), STRING
        if isinstance(e, A.BooleanLiteral):
            return ("TRUE" if e.value else "FALSE"), BOOLEAN
        if isinstance(e, A.DurationLiteral):
            return str(e.value), INTEGER
        if isinstance(e, A.Call) and e.name in _SQL_MATH:
            # InfluxDB 1.x evaluates math calls in WHERE only over plain references and literals
            if not all(isinstance(a, A.VarRef | A.IntegerLiteral | A.NumberLiteral) for a in e.args):
                return "NULL", NULL
            args = [self.value(a) for a in e.args]
            if any(k not in NUMERIC for _, k in args):
                return "NULL", NULL
            xs = [f"CAST({a} AS DOUBLE PRECISION)" for a, _ in args]
            return _SQL_MATH[e.name](*xs), FLOAT
        if isinstance(e, A.BinaryExpr) and e.op in (T.ADD, T.SUB, T.MUL, T.DIV, T.MOD):
            ls, lk = self.value(e.lhs)
            rs, rk = self.value(e.rhs)
            if lk == TAG or rk == TAG or lk not in NUMERIC or rk not in NUMERIC:
                if e.op is T.ADD and lk == STRING and rk == STRING:
                    return f"({ls} || {rs})", STRING
                return "NULL", NULL
            ints = lk in (INTEGER, UNSIGNED) and rk in (INTEGER, UNSIGNED)
            if e.op is T.DIV:
                return (
                    f"(CASE WHEN {rs} = 0 THEN 0.0 ELSE CAST({ls} AS DOUBLE PRECISION) / {rs} END)",
                    FLOAT,
                )
            if e.op is T.MOD:
                return f"(CASE WHEN {rs} = 0 THEN 0 ELSE {ls} % {rs} END)", INTEGER if ints else FLOAT
            if ints:
                return f"({ls} {e.op.value} {rs})", INTEGER
            return f"(CAST({ls} AS DOUBLE PRECISION) {e.op.value} {rs})", FLOAT
        return "NULL", NULL

    def _compare(self, e: A.BinaryExpr, params: SqlParams | None = None) -> str:
        lhs, rhs = e.lhs, e.rhs
        if (  # a tag = / != a non-empty string (dashboards' host filters): the general path's text
            type(lhs) is A.VarRef
            and type(rhs) is A.StringLiteral
            and (e.op is T.EQ or e.op is T.NEQ)
            and lhs.type is None
            and rhs.value
            and lhs.name in self.tags
            and lhs.name not in self.fields
        ):
            col = ident(lhs.name)
            value = string(rhs.value) if params is None else params.add(rhs.value, TEXT_OID)
            return f"{col} = {value}" if e.op is T.EQ else f"({col} <> {value} OR {col} IS NULL)"
        ls, lk = self.value(e.lhs)
        rs, rk = self.value(e.rhs)
        op = {T.EQ: "=", T.NEQ: "<>", T.LT: "<", T.LTE: "<=", T.GT: ">", T.GTE: ">="}[e.op]
        if lk == NULL or rk == NULL:
            return "FALSE"
        if lk == TAG or rk == TAG:
            if lk == TAG and rk == TAG:
                return f"COALESCE({ls}, '') {op} COALESCE({rs}, '')"
            tag_sql, other_sql, other_kind = (ls, rs, rk) if lk == TAG else (rs, ls, lk)
            if lk != TAG:
                op = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(op, op)
            if other_kind != STRING:
                return "FALSE"
            if tag_sql == "NULL":
                return f"'' {op} {other_sql}"
            if other_sql == "''":
                if op == "=":
                    return f"{tag_sql} IS NULL"
                if op == "<>":
                    return f"{tag_sql} IS NOT NULL"
            if op in ("=", "<>") and params is not None:
                other_sql = _lifted(e.rhs if lk == TAG else e.lhs, tag_sql, STRING, other_sql, params)
            if op == "=":
                return f"{tag_sql} = {other_sql}"
            if op == "<>":
                return f"({tag_sql} <> {other_sql} OR {tag_sql} IS NULL)"
            return f"COALESCE({tag_sql}, '') {op} {other_sql}"
        if params is not None:
            ls = _lifted(e.lhs, rs, rk, ls, params)
            rs = _lifted(e.rhs, ls, lk, rs, params)
        if lk in NUMERIC and rk in NUMERIC:
            return f"{ls} {op} {rs}"
        if lk == rk and lk in (STRING, BOOLEAN):
            return f"{ls} {op} {rs}"
        return "FALSE"


def _lifted(e: A.Expr, column_sql: str, column_kind: str, sql: str, params: SqlParams) -> str:
    """``sql`` (the text of literal ``e``, compared with ``column_sql`` of ``column_kind``) as a
    parameter when the SQL engine's plan cache would lift it there (sql/plan_cache.py: lift,
    _accepts, value), with the value and type it would give it; else ``sql`` unchanged. Only a
    literal compared directly with a plain column of a tag or a field qualifies: not one in
    parentheses or arithmetic, not a negative number or an empty string (both left in the text)."""
    if column_sql[:1] != '"':  # a plain column reference: ident()'s quoted name
        return sql
    lifted = lifted_value(e, column_kind)
    return sql if lifted is None else params.add(*lifted)


def lifted_value(e: A.Expr, column_kind: str) -> tuple[Any, int] | None:
    """The parameter (value, type OID) that literal ``e`` compared with a plain column of
    ``column_kind`` (a tag's: STRING) becomes; None when it stays in the text."""
    t = type(e)
    if t is A.StringLiteral:
        if column_kind == STRING and e.value:  # type: ignore[attr-defined]
            return e.value, TEXT_OID  # type: ignore[attr-defined]
    elif t is A.IntegerLiteral:
        v = e.value  # type: ignore[attr-defined]
        if v >= 0 and column_kind == FLOAT:
            return float(str(v)), FLOAT8_OID  # (the float of its text, as the plan cache reads it)
        if 0 <= v < 2**63 and column_kind == INTEGER:
            return int(v), INT8_OID
    elif t is A.NumberLiteral:
        v = float(e.value)  # type: ignore[attr-defined]
        text = repr(v)  # (its text in the SQL, Schema.value's)
        if column_kind == FLOAT and 0 <= v < float("inf") and text[:1].isdigit():
            return float(text), FLOAT8_OID
    return None


def bucket_expr(interval: int, origin_ns: int, time_col: str = '"time"') -> str:
    """time_bucket() of the time column on InfluxDB's windows (epoch + offset aligned)."""
    width = f"INTERVAL '{interval // 1000} microseconds'"
    timescale_origin = 946_857_600 * 10**9  # the default origin of time_bucket (2000-01-03)
    if (timescale_origin - origin_ns) % interval == 0:
        return f"time_bucket({width}, {time_col})"
    return f"time_bucket({width}, {time_col}, {timestamp(origin_ns)})"
