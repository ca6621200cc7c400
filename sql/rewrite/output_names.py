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
    if isinstance(e, exp.Paren):
        return pg_name(e.this)
    if isinstance(e, exp.Column):
        return e.name if not isinstance(e.this, exp.Star) else "?column?"
    if isinstance(e, exp.Cast):
        inner = e.this
        if isinstance(inner, exp.Literal | exp.Null):
            return e.to.sql("postgres").lower().split("(")[0]
        return pg_name(inner)
    for cls, name in _SPECIAL.items():
        if isinstance(e, cls):
            return name
    if isinstance(e, exp.Anonymous):
        return e.name.lower()
    if isinstance(e, exp.Dot) and isinstance(e.expression, exp.Func):
        return pg_name(e.expression)
    if isinstance(e, exp.Func) and not isinstance(e, exp.Binary | exp.Unary | exp.Connector):
        return e.sql("postgres").split("(")[0].strip().lower()
    if isinstance(e, exp.Subquery) and isinstance(e.this, exp.Select) and len(e.this.expressions) == 1:
        inner = e.this.expressions[0]
        return inner.alias if isinstance(inner, exp.Alias) else pg_name(inner)
    return "?column?"


def output_names(tree: exp.Expression, ctx: object) -> exp.Expression:
    def unqualify(node: exp.Expression) -> exp.Expression:
        if (
            isinstance(node, exp.Dot)
            and isinstance(node.this, exp.Identifier)
            and node.this.name.lower() == "pg_catalog"
            and isinstance(node.expression, exp.Func)
        ):
            return node.expression
        return node

    tree = tree.transform(unqualify)
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
