"""Result column names as PostgreSQL chooses them (FigureColname), made explicit as aliases.

A column reference keeps its name, a function call takes the function's name, a cast takes its
operand's name (or the type's, for a constant), CASE is "case", anything else "?column?". This runs
first, before other rules replace functions (last() -> arg_max()) and change what DuckDB would call
the column. Also drops the pg_catalog qualifier of function calls.

    SELECT count(*), avg(v), v::int, 1 + 2 FROM t
    -> SELECT COUNT(*) AS "count", AVG(v) AS "avg", CAST(v AS INT) AS "v", 1 + 2 AS "?column?" FROM t
"""

from __future__ import annotations

from sqlglot import exp

_SPECIAL = {
    exp.CurrentTimestamp: "now",
    exp.CurrentDate: "current_date",
    exp.CurrentTime: "current_time",
    exp.CurrentVersion: "version",
    exp.CurrentUser: "current_user",
    exp.CurrentSchema: "current_schema",
    exp.Case: "case",
    exp.If: "case",
    exp.Array: "array",
    exp.Exists: "exists",
    exp.Coalesce: "coalesce",
    exp.Greatest: "greatest",
    exp.Least: "least",
    exp.Nullif: "nullif",
    exp.Count: "count",
    exp.First: "first",
    exp.Last: "last",
}


def pg_name(e: exp.Expression) -> str:
    return _figure(e)[0]


def _type_name(to: exp.DataType) -> str:
    """pg_type.typname of a cast target as PostgreSQL's grammar names it (int -> int4, boolean -> bool;
    an array type by its element type's name: int[] -> int4)."""
    from sql.types import lookup

    written = to.sql("postgres")
    try:
        name = lookup(written).name
    except KeyError:
        name = written.lower().split("(")[0]
    while name.endswith("[]"):
        name = name[:-2]
    return name


_TRIM = {"LEADING": "ltrim", "TRAILING": "rtrim"}


def _figure(e: exp.Expression) -> tuple[str, int]:
    """PostgreSQL's FigureColnameInternal: a name and its strength (0 none, 1 weak, 2 strong)."""
    if isinstance(e, exp.Paren | exp.Window | exp.Filter | exp.WithinGroup | exp.Bracket):
        return _figure(e.this)
    if isinstance(e, exp.Column):
        return (e.name, 2) if not isinstance(e.this, exp.Star) else ("?column?", 0)
    if isinstance(e, exp.Cast):
        name, strength = _figure(e.this)
        return (name, strength) if strength > 1 else (_type_name(e.to), 1)
    if isinstance(e, exp.Interval) and isinstance(e.this, exp.Literal):
        return "interval", 1
    if isinstance(e, exp.Case | exp.If):
        default = e.args.get("default") if isinstance(e, exp.Case) else e.args.get("false")
        if default is not None:
            name, strength = _figure(default)
            if strength > 1:
                return name, strength
        return "case", 1
    if isinstance(e, exp.Subquery) and isinstance(e.this, exp.Select) and len(e.this.expressions) == 1:
        inner = e.this.expressions[0]
        return (inner.alias, 2) if isinstance(inner, exp.Alias) else _figure(inner)
    written = e.meta.get("pg_name") if isinstance(e, exp.Func | exp.Binary) else None
    if written:  # a call, as spelled (mod(a, b) but not a % b)
        return written, 2
    if isinstance(e, exp.Func):
        if isinstance(e, exp.Trim):
            return _TRIM.get(str(e.args.get("position") or "").upper(), "btrim"), 2
    for cls, name in _SPECIAL.items():
        if isinstance(e, cls):
            return name, 2
    if isinstance(e, exp.Anonymous):
        return e.name.lower(), 2
    if isinstance(e, exp.StrPosition):
        return "position", 2
    if isinstance(e, exp.Substring):
        return "substring", 2
    if isinstance(e, exp.Func) and not isinstance(e, exp.Binary | exp.Unary | exp.Connector):
        return e.sql("postgres").split("(")[0].strip().lower(), 2
    return "?column?", 0


def output_names(tree: exp.Expression, ctx: object) -> exp.Expression:
    for select in tree.find_all(exp.Select):
        new = []
        for e in select.expressions:
            if isinstance(e, exp.Alias | exp.Star) or (
                isinstance(e, exp.Column) and not isinstance(e.this, exp.Star)
            ):
                new.append(e)
            elif isinstance(e, exp.Column):
                new.append(e)
            else:
                new.append(exp.alias_(e, pg_name(e), quoted=True))
        select.set("expressions", new)
    return tree
