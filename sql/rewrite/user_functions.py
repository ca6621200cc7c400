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
from collections.abc import Callable

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
            target: exp.Expression = node
            if isinstance(parent, exp.Dot) and parent.expression is node:
                schema, target = parent.this.name, parent
            found = ctx.functions(schema, name)
            if found:
                calls.append((target, node, found))
        if not calls:
            return tree
        for target, node, found in calls:
            fn = _overload(found, node)
            new = inline_call(fn, _positional(fn, node), ctx.table_columns)
            if target is tree:
                return new
            target.replace(new)
    raise E.FeatureNotSupported("recursive SQL functions are not supported (they cannot be inlined)")


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
            hint="No function matches the given name and argument types. "
            "You might need to add explicit type casts.",
        )
    return fits[0]


def _positional(fn, call: exp.Anonymous) -> list[exp.Expression]:
    """The call's arguments in parameter order: named ones (``b => 2``) put in their places, those not
    given up to the last one given taken from their defaults."""
    given = list(call.expressions)
    named = [a for a in given if isinstance(a, exp.Kwarg)]
    if not named:
        return given
    first = given.index(named[0])
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
    while out and out[-1] is None:
        out.pop()
    for k, v in enumerate(out):
        if v is None:
            default = fn.args[k].default
            if default is None:
                raise E.UndefinedFunction(f"function {call.name} has no default for its argument {k + 1}")
            from sql.parse import parse

            out[k] = parse(f"SELECT {default}").expressions[0]
    return out  # type: ignore[return-value]


def _type(name: str) -> exp.DataType:
    return exp.DataType.build(name, dialect="postgres")


def inline_call(
    fn, args: list[exp.Expression], table_columns: Callable[[exp.Table], set[str] | None]
) -> exp.Expression:
    """The body of ``fn`` (sql/user_functions.Function) with ``args`` in place, cast to its result type."""
    from sql.parse import parse
    from sql.user_functions import body_select

    args = list(args)
    for a in fn.args[len(args) :]:  # defaults of the arguments not given
        args.append(parse(f"SELECT {a.default}").expressions[0])
    values = [exp.Cast(this=arg.copy(), to=_type(p.type)) for arg, p in zip(args, fn.args, strict=True)]
    by_name = {p.name: k for k, p in enumerate(fn.args) if p.name}
    body = body_select(fn).copy()
    bare = not any(body.args.get(k) for k in _CLAUSES)
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

    def value(k: int) -> exp.Expression:
        if bare:
            return exp.Paren(this=values[k].copy())
        return exp.column(f"p{k + 1}", table=alias)

    def argument(node: exp.Expression) -> exp.Expression | None:
        if isinstance(node, exp.Parameter):
            name = node.this.name if isinstance(node.this, exp.Expression) else ""
            if name.isdigit() and 1 <= int(name) <= len(values):
                return value(int(name) - 1)
            raise E.UndefinedParameter(f"there is no parameter ${name}")
        if isinstance(node, exp.Column) and node.name in by_name and not isinstance(node.this, exp.Star):
            qualifier = node.table
            if qualifier == fn.name or (not qualifier and node.name not in columns):
                return value(by_name[node.name])
        return None

    body = body.transform(lambda n: argument(n) or n, copy=False)
    if bare:
        item = body.expressions[0]
        result: exp.Expression = item.this if isinstance(item, exp.Alias) else item
    elif values:
        row = exp.select(*(exp.alias_(v, f"p{k + 1}") for k, v in enumerate(values)))
        args_table = exp.Subquery(this=row, alias=exp.TableAlias(this=exp.to_identifier(alias)))
        result = exp.Subquery(this=exp.select(exp.alias_(exp.Subquery(this=body), "v")).from_(args_table))
    else:
        result = exp.Subquery(this=body)
    result = exp.Cast(this=exp.Paren(this=result), to=_type(fn.returns))
    if fn.strict and values:
        nulls = [exp.Is(this=exp.Paren(this=v.copy()), expression=exp.Null()) for v in values]
        any_null = nulls[0]
        for n in nulls[1:]:
            any_null = exp.Or(this=any_null, expression=n)
        result = exp.Case(
            ifs=[exp.If(this=any_null, true=exp.Cast(this=exp.Null(), to=_type(fn.returns)))], default=result
        )
    return result
