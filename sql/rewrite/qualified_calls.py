"""Function calls still qualified with a schema: PostgreSQL's errors for them.

The parser reads a call qualified with one of the schemas that hold our functions (pg_catalog,
public, TimescaleDB's: sql/parse.py's FUNCTION_SCHEMAS) as the unqualified call. Any other schema
holds no function tsgres knows, so what is left qualified is an error, as PostgreSQL reports it: an
unknown schema is 3F000, a schema that exists (a retention policy, pg_toast) has no such function
(42883), and a database other than this one cannot be named (0A000; nor, here, this one).

    SELECT nosuch.lower(name) FROM t      -> 3F000 schema "nosuch" does not exist
    SELECT pg_toast.lower(name) FROM t    -> 42883 function pg_toast.lower does not exist
    SELECT * FROM other.public.f(1)       -> 0A000 cross-database references are not implemented
"""

from __future__ import annotations

from sqlglot import exp

from sql import errors as E


def _names(e: exp.Expr) -> list[str]:
    """``a.b`` in front of a call, as names."""
    if isinstance(e, exp.Dot):
        return _names(e.this) + _names(e.expression)
    return [e.name]


def _called(call: exp.Expr) -> str:
    """The function's name as written (sql/parse.py keeps it: generate_series, not its node's)."""
    return call.meta.get("pg_name") or call.name.lower()


def _qualified(node: exp.Expr) -> tuple[list[str], str] | None:
    """(the qualifying names, the function's name) of a call still qualified, else None."""
    if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Func):
        return _names(node.this), _called(node.expression)
    if isinstance(node, exp.Column) and isinstance(node.this, exp.Filter):  # nosuch.count(*) FILTER (...)
        return [p.name for p in node.parts[:-1]], _called(node.this.this)
    if isinstance(node, exp.Table) and isinstance(node.this, exp.Func) and node.args.get("db"):
        return [p.name for p in node.parts[:-1]], _called(node.this)
    return None


def qualified_calls(tree: exp.Expression, ctx) -> exp.Expression:
    for node in tree.walk():
        found = _qualified(node)
        if found is None:
            continue
        names, function = found
        written = ".".join([*names, function])
        if len(names) > 1:
            if names[0] != ctx.database:
                raise E.FeatureNotSupported(f"cross-database references are not implemented: {written}")
            raise E.FeatureNotSupported(f"a function qualified with its database is not supported: {written}")
        schema = names[0]
        if ctx.functions(schema, function):
            continue  # a user-defined function of that schema (sql/rewrite/user_functions.py inlines it)
        if schema not in ctx.schemas():
            raise E.InvalidSchemaName(f'schema "{schema}" does not exist')
        raise E.UndefinedFunction(f"function {schema}.{function} does not exist")
    return tree
