"""Casts to an enum type (sql/enums.py): ``'ok'::mood``, ``CAST(x AS mood)``, ``NULL::mood`` become
casts to DuckDB's ``ENUM('sad', 'ok', 'happy')`` of the type's labels, so comparisons and ordering of
the values follow the labels' order, and ``enum_range(NULL::mood)``, ``enum_first`` / ``enum_last``
work as DuckDB has them (``enum_range(a, b)``: DuckDB's ``enum_range_boundary``). A string literal
that is no label is 22P02, as PostgreSQL's enum input reports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from sql.errors import InvalidTextRepresentation

if TYPE_CHECKING:
    from sql.rewrite import RewriteContext


def enum_casts(tree: exp.Expression, ctx: RewriteContext) -> exp.Expression:
    casts = [
        c
        for c in tree.find_all(exp.Cast)
        if isinstance(c.to, exp.DataType) and c.to.this == exp.DataType.Type.USERDEFINED
    ]
    if not casts:
        return tree
    from sql.enums import duck_type

    for cast in casts:
        name = cast.to.args["kind"].name if cast.to.args.get("kind") is not None else cast.to.sql("postgres")
        labels = ctx.enum_labels(name)
        if labels is None:
            continue
        value = cast.this
        if isinstance(value, exp.Literal) and value.is_string and value.this not in labels:
            raise InvalidTextRepresentation(f'invalid input value for enum {name}: "{value.this}"')
        cast.set("to", exp.DataType.build(duck_type(labels), dialect="duckdb"))
    for call in list(tree.find_all(exp.Anonymous)):
        if call.name.lower() == "enum_range" and len(call.expressions) == 2:
            call.set("this", "enum_range_boundary")
    return tree
