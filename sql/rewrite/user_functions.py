"""Calls of user-defined SQL functions (sql/user_functions.py) become their bodies, arguments in place.

Runs after output_names, so a call's result column keeps the function's name.

    CREATE FUNCTION c_to_f(c double precision) RETURNS double precision LANGUAGE sql AS 'SELECT c * 9 / 5 + 32';
    SELECT c_to_f(t) FROM w  ->  SELECT CAST((CAST(t AS DOUBLE PRECISION) * 9 / 5 + 32) AS DOUBLE PRECISION) AS c_to_f FROM w

A body with a FROM (or WHERE, GROUP BY ...) becomes a scalar subquery. An argument replaces each
reference to its parameter: ``name``, ``function.name`` or ``$n``; inside a body with a FROM, a name
that is a column of one of its tables is that column (PostgreSQL's precedence). Missing trailing
arguments take their defaults. A STRICT function's result is NULL when an argument is. A builtin of
the same name wins, as pg_catalog comes first on PostgreSQL's search path.
"""

from __future__ import annotations

import functools
import itertools

from sqlglot import exp

from sql import errors as E

_MAX_DEPTH = 16  # functions calling functions, bounded (a recursive one cannot be inlined)
_CLAUSES = ("from_", "where", "group", "having", "order", "limit", "offset", "with_", "distinct", "qualify")
_ALIASES = itertools.count(1)


def user_functions(tree: exp.Expression, ctx) -> exp.Expression:
    if not ctx.has_functions():
        return tree
    builtins = _builtin_names()
    for _ in range(_MAX_DEPTH):
        calls = []
        for node in tree.find_all(exp.Anonymous):
            name = node.name.lower()
            if name in builtins:
                continue
            parent = node.parent
            schema = "public"
            if isinstance(parent, exp.Dot) and parent.expression is node:
                schema = parent.this.name
            elif isinstance(parent, exp.Table) and parent.this is node and parent.args.get("db"):
                schema = parent.db
            found = ctx.functions(schema, name)
            routines = [f for f in found if f.kind != "p"]
            if found and not routines:
                raise E.WrongObjectType(
                    f"{name}({', '.join(_arg_type(a) for a in node.expressions)}) is a procedure",
                    hint="To call a procedure, use CALL.",
                )
            if routines:
                calls.append((node, routines))
        if not calls:
            return tree
        for node, found in calls:
            fn = _overload(found, node)
            args = _positional(fn, node)
            parent = node.parent
            from_item = isinstance(parent, exp.Table | exp.Lateral) and parent.this is node
            if fn.retset != from_item:
                raise E.FeatureNotSupported(
                    f"set-returning function {fn.name} is called in FROM only here"
                    if fn.retset
                    else f"function {fn.name} returns no set: calling it in FROM is not supported"
                )
            if from_item:
                alias = parent.args.get("alias")
                sub = inline_set(fn, args, ctx.table_columns, alias.name if alias is not None else fn.name)
                if isinstance(parent, exp.Lateral):
                    parent.replace(exp.Lateral(this=exp.Subquery(this=sub), alias=alias or _alias(fn.name)))
                else:
                    parent.replace(exp.Subquery(this=sub, alias=alias or _alias(fn.name)))
                continue
            target = parent if isinstance(parent, exp.Dot) and parent.expression is node else node
            new = inline_call(fn, args, ctx.table_columns)
            if target is tree:
                return new
            target.replace(new)
    raise E.FeatureNotSupported("recursive SQL functions are not supported (they cannot be inlined)")


def _arg_type(e: exp.Expression) -> str:
    """An argument's type as PostgreSQL names it in an error about the call, where the SQL says it."""
    if isinstance(e, exp.Cast):
        return e.to.sql("postgres").lower()
    if isinstance(e, exp.Boolean):
        return "boolean"
    if isinstance(e, exp.Literal) and not e.is_string:
        return "integer" if e.this.lstrip("-").isdigit() else "numeric"
    return "unknown"


def _alias(name: str) -> exp.TableAlias:
    return exp.TableAlias(this=exp.to_identifier(name))


@functools.cache
def _builtin_names() -> frozenset[str]:
    from sql.pgcatalog_model import PROCS_ALL

    return frozenset(p.name for p in PROCS_ALL)


def _overload(found: list, call: exp.Anonymous):
    n = len(call.expressions)
    names = {a.this.name for a in call.expressions if isinstance(a, exp.Kwarg)}
    fits = [
        f
        for f in found
        if n <= len(f.args)
        and names <= {a.name for a in f.args}
        and all(a.default is not None or k < n - len(names) or a.name in names for k, a in enumerate(f.args))
    ]
    if not fits:
        types = ", ".join("unknown" for _ in call.expressions)
        raise E.UndefinedFunction(
            f"function {call.name}({types}) does not exist",
            hint=E.NO_FUNCTION_HINT,
        )
    return fits[0]


def _positional(fn, call: exp.Anonymous) -> list[exp.Expression]:
    """The call's arguments in parameter order, one per parameter: named ones (``b => 2``) put in
    their places, those not given taken from their defaults."""
    given = list(call.expressions)
    named = [a for a in given if isinstance(a, exp.Kwarg)]
    first = given.index(named[0]) if named else len(given)
    if any(not isinstance(a, exp.Kwarg) for a in given[first:]):
        raise E.SyntaxError_("positional argument cannot follow named argument")
    out: list[exp.Expression | None] = [*given[:first], *([None] * (len(fn.args) - first))]
    names = [a.name for a in fn.args]
    for a in named:
        name = a.this.name
        k = names.index(name) if name in names else -1
        if k < first or out[k] is not None:
            raise E.UndefinedFunction(
                f"function {call.name}({', '.join('unknown' for _ in given)}) does not exist",
                hint="No function matches the given name and argument types.",
            )
        out[k] = a.expression
    for k, v in enumerate(out):
        if v is None:
            default = fn.args[k].default
            if default is None:
                raise E.UndefinedFunction(f"function {call.name} has no default for its argument {k + 1}")
            out[k] = _default(default)
    return out  # type: ignore[return-value]


def _default(sql: str) -> exp.Expression:
    from sql.parse import parse

    return parse(f"SELECT {sql}").expressions[0]


def _bare(body: exp.Select) -> bool:
    """Whether a body is a SELECT of an expression alone (no FROM, WHERE, GROUP BY ...)."""
    return not any(body.args.get(k) for k in _CLAUSES)


def _type(name: str) -> exp.DataType:
    return exp.DataType.build(name, dialect="postgres")


def _bound(
    fn, args: list[exp.Expression], table_columns
) -> tuple[exp.Select, list[exp.Expression], exp.Expression | None]:
    """The body of ``fn`` with its parameters bound to ``args`` (one per parameter): (the body, the
    arguments cast to the parameters' types, and the one-row table of them the body's references
    read, None when they were put in place instead: a body without a FROM)."""
    from sql.user_functions import body_select

    values = [exp.Cast(this=arg.copy(), to=_type(p.type)) for arg, p in zip(args, fn.args, strict=True)]
    by_name = {p.name: k for k, p in enumerate(fn.args) if p.name}
    body = body_select(fn).copy()
    bare = _bare(body)
    columns: set[str] = set()
    for table in body.find_all(exp.Table):
        if isinstance(table.this, exp.Identifier):
            columns |= table_columns(table) or set()
    # A body with a FROM reads the arguments as the columns of a one-row table around it,
    # (SELECT (body) FROM (SELECT arg1 AS p1, ...) AS args): an argument is evaluated where no table
    # of the body is in scope, so its column references still mean the caller's columns
    # (``host_avg(host)`` over a body reading a table with a host column of its own), and inside the
    # body, aggregates included, a parameter is an outer reference: a constant per call
    alias = f"__fn_args{next(_ALIASES)}"

    def value(k: int, node: exp.Expression) -> exp.Expression:
        if bare or node.find_ancestor(exp.Limit, exp.Offset, exp.Fetch) is not None:
            # (DuckDB takes no outer reference in LIMIT / OFFSET: the argument itself goes there)
            return exp.Paren(this=values[k].copy())
        return exp.column(f"p{k + 1}", table=alias)

    def argument(node: exp.Expression) -> exp.Expression | None:
        if isinstance(node, exp.Parameter):
            name = node.this.name if isinstance(node.this, exp.Expression) else ""
            if name.isdigit() and 1 <= int(name) <= len(values):
                return value(int(name) - 1, node)
            raise E.UndefinedParameter(f"there is no parameter ${name}")
        if isinstance(node, exp.Column) and node.name in by_name and not isinstance(node.this, exp.Star):
            qualifier = node.table
            if qualifier == fn.name or (not qualifier and node.name not in columns):
                return value(by_name[node.name], node)
        return None

    body = body.transform(lambda n: argument(n) or n, copy=False)
    if bare or not values:
        return body, values, None
    row = exp.select(*(exp.alias_(v, f"p{k + 1}") for k, v in enumerate(values)))
    return body, values, exp.Subquery(this=row, alias=_alias(alias))


def inline_set(fn, args: list[exp.Expression], table_columns, name: str) -> exp.Select:
    """A set-returning ``fn`` called in FROM with ``args``, as the SELECT to put there: its columns
    cast to the declared types and named as declared (one column: ``name``, the call's alias or the
    function's name, as PostgreSQL names it)."""
    body, _, args_table = _bound(fn, args, table_columns)
    declared = fn.columns if fn.columns is not None else [[name, fn.base]]
    inner = [f"c{k + 1}" for k in range(len(declared))]
    rows = exp.TableAlias(this=exp.to_identifier("__fn_rows"), columns=[exp.to_identifier(c) for c in inner])
    select = exp.select(
        *(
            exp.alias_(exp.Cast(this=exp.column(c, table="__fn_rows"), to=_type(t)), n, quoted=True)
            for c, (n, t) in zip(inner, declared, strict=True)
        )
    )
    if args_table is None:
        return select.from_(exp.Subquery(this=body, alias=rows))
    return select.from_(args_table).join(exp.Lateral(this=exp.Subquery(this=body), alias=rows))


def inline_call(fn, args: list[exp.Expression], table_columns) -> exp.Expression:
    """The body of a scalar ``fn`` with ``args`` in place, cast to its result type."""
    body, values, args_table = _bound(fn, args, table_columns)
    if _bare(body):
        item = body.expressions[0]
        result: exp.Expression = item.this if isinstance(item, exp.Alias) else item
    elif args_table is not None:
        result = exp.Subquery(this=exp.select(exp.alias_(exp.Subquery(this=body), "v")).from_(args_table))
    else:
        result = exp.Subquery(this=body)
    result = exp.Cast(this=exp.Paren(this=result), to=_type(fn.base))
    if fn.strict and values:
        any_null = exp.or_(*(exp.Is(this=exp.Paren(this=v.copy()), expression=exp.Null()) for v in values))
        result = exp.Case(
            ifs=[exp.If(this=any_null, true=exp.Cast(this=exp.Null(), to=_type(fn.base)))], default=result
        )
    return result
