"""InfluxQL continuous queries: CREATE / DROP / SHOW CONTINUOUS QUERIES.

A continuous query is kept as InfluxDB 1.x keeps it: its name and the text of its CREATE statement
after the statement was normalized (every measurement qualified with its database and retention
policy, as ``db.rp.m``) and printed back the way InfluxDB prints statements (:func:`statement_text`:
``3.5`` is ``3.500``, ``-x`` is ``-1 * x``, ``fill(null)`` left out ...). SHOW CONTINUOUS QUERIES
shows that text, and creating a query of the same name again is accepted when its text is the same
(ignoring case), else "continuous query already exists". The queries live in the storage catalog
(retention/continuous.py), which also runs them.
"""

from __future__ import annotations

import copy
import math
from decimal import Decimal

from columnar.errors import RetentionPolicyNotFound
from retention import continuous
from sql.influxql import ast as A
from sql.influxql.compile import QueryError
from sql.influxql.lexer import format_duration
from sql.influxql.series import Series
from sql.influxql.source import Context, resolve_database


# -- InfluxDB's text of a statement -------------------------------------------------------------------------
def go_float(v: float) -> str:
    """A float as Go's %v prints it: shortest digits, exponent form below 1e-4 and from 1e21."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if v == 0:
        return "-0" if math.copysign(1.0, v) < 0 else "0"
    sign, digits, exp = Decimal(repr(v)).as_tuple()
    text = "".join(map(str, digits)).rstrip("0") or "0"
    point = len(digits) + int(exp)  # the decimal point sits after this many digits
    x = point - 1  # the exponent in d.ddd form
    head = "-" if sign else ""
    if x < -4 or x >= 21:
        mant = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{head}{mant}e{'-' if x < 0 else '+'}{abs(x):02d}"
    if point <= 0:
        return f"{head}0.{'0' * -point}{text}"
    if point >= len(text):
        return head + text + "0" * (point - len(text))
    return f"{head}{text[:point]}.{text[point:]}"


def expr_text(e: A.Expr) -> str:
    """An expression as InfluxDB prints it (its float literals with three decimals)."""
    if isinstance(e, A.NumberLiteral):
        return f"{e.value:.3f}"
    if isinstance(e, A.Call):
        return f"{e.name}({', '.join(expr_text(a) for a in e.args)})"
    if isinstance(e, A.BinaryExpr):
        return f"{expr_text(e.lhs)} {e.op.value} {expr_text(e.rhs)}"
    if isinstance(e, A.ParenExpr):
        return f"({expr_text(e.expr)})"
    return str(e)


def measurement_text(m: A.Measurement) -> str:
    out = ""
    if m.database:
        out += A.quote_ident(m.database) + "."
    if m.rp:
        out += A.quote_ident(m.rp)
    if m.database or m.rp:
        out += "."
    if m.name:
        out += A.quote_ident(m.name)
    elif m.regex is not None:
        out += str(m.regex)
    return out


def select_text(s: A.SelectStatement) -> str:
    out = "SELECT " + ", ".join(
        expr_text(f.expr) + (f" AS {A.quote_ident(f.alias)}" if f.alias else "") for f in s.fields
    )
    if s.target is not None:
        out += " INTO " + measurement_text(s.target) + ("" if s.target.name else ":MEASUREMENT")
    if s.sources:
        out += " FROM " + ", ".join(
            f"({select_text(src.statement)})" if isinstance(src, A.SubQuery) else measurement_text(src)
            for src in s.sources
        )
    if s.condition is not None:
        out += " WHERE " + expr_text(s.condition)
    if s.dimensions:
        out += " GROUP BY " + ", ".join(expr_text(d.expr) for d in s.dimensions)
    if s.fill == "number":
        v = s.fill_value
        out += f" fill({go_float(v) if isinstance(v, float) else v})"
    elif s.fill != "null":
        out += f" fill({s.fill})"
    if s.sort_given:
        out += " ORDER BY " + ("time " if s.sort_named else "") + ("DESC" if s.sort_desc else "ASC")
    for word, n in (("LIMIT", s.limit), ("OFFSET", s.offset), ("SLIMIT", s.slimit), ("SOFFSET", s.soffset)):
        if n > 0:
            out += f" {word} {n}"
    if s.location is not None:
        out += f" TZ('{s.location}')"
    return out


def statement_text(stmt: A.CreateContinuousQuery) -> str:
    out = f"CREATE CONTINUOUS QUERY {A.quote_ident(stmt.name)} ON {A.quote_ident(stmt.database)} "
    if stmt.resample_every or stmt.resample_for:
        out += "RESAMPLE "
        if stmt.resample_every:
            out += f"EVERY {format_duration(stmt.resample_every)} "
        if stmt.resample_for:
            out += f"FOR {format_duration(stmt.resample_for)} "
    return out + f"BEGIN {select_text(stmt.source)} END"


# -- the statements -----------------------------------------------------------------------------------------
def _measurements(s: A.SelectStatement) -> list[A.Measurement]:
    """The statement's measurements (its target first, then its sources, subqueries' included)."""
    out = [s.target] if s.target is not None else []
    for src in s.sources:
        out += _measurements(src.statement) if isinstance(src, A.SubQuery) else [src]
    return out


def normalize(ctx: Context, stmt: A.CreateContinuousQuery) -> A.CreateContinuousQuery:
    """A copy whose measurements name their database (the request's db, else the query's own) and
    retention policy (the request's rp, else the database's default), each of which must exist."""
    stmt = copy.deepcopy(stmt)
    default_db = ctx.database or stmt.database
    catalog = ctx.storage.catalog
    for m in _measurements(stmt.source):
        m.database = resolve_database(ctx, m.database or default_db)
        if not m.rp:
            m.rp = ctx.rp or catalog.database(m.database).default_rp
    for m in _measurements(stmt.source):
        try:
            catalog.retention_policy(m.database, m.rp)
        except RetentionPolicyNotFound:
            raise QueryError(f"retention policy not found: {m.database}.{m.rp}") from None
    return stmt


def create(ctx: Context, stmt: A.CreateContinuousQuery) -> None:
    text = statement_text(normalize(ctx, stmt))
    resolve_database(ctx, stmt.database)
    try:
        continuous.add(ctx.storage, stmt.database, stmt.name, text)
    except continuous.AlreadyExists:
        raise QueryError("continuous query already exists") from None


def drop(ctx: Context, stmt: A.DropContinuousQuery) -> None:
    """As InfluxDB 1.x: dropping a query (or a database) that does not exist is no error."""
    continuous.remove(ctx.storage, stmt.database, stmt.name)


def show(ctx: Context) -> list[Series]:
    """One series per database, in the order they were created, with its queries in theirs."""
    queries = continuous.queries(ctx.storage)
    return [
        Series(
            db.name,
            None,
            ["name", "query"],
            [[q.name, q.query] for q in queries.get(db.name, [])],
            time_index=None,
        )
        for db in sorted(ctx.storage.catalog.databases(), key=lambda d: d.id)
    ]
