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


def _user_type(to: exp.Expression) -> exp.DataType | None:
    """The user-defined type a cast is to, or the element type of an array of one."""
    if isinstance(to, exp.DataType) and to.this == exp.DataType.Type.ARRAY and len(to.expressions) == 1:
        return _user_type(to.expressions[0])
    if isinstance(to, exp.DataType) and to.this == exp.DataType.Type.USERDEFINED:
        return to
    return None


def enum_casts(tree: exp.Expression, ctx: RewriteContext) -> exp.Expression:
    casts = [c for c in tree.find_all(exp.Cast) if _user_type(c.to) is not None]
    if not casts:
        return tree
    from sql.enums import duck_type

    for cast in casts:
        to = _user_type(cast.to)
        assert to is not None
        name = to.args["kind"].name if to.args.get("kind") is not None else to.sql("postgres")
        labels = ctx.enum_labels(name)
        if labels is None:
            continue
        value = cast.this
        array = to is not cast.to
        if not array and isinstance(value, exp.Literal) and value.is_string and value.this not in labels:
            raise InvalidTextRepresentation(f'invalid input value for enum {name}: "{value.this}"')
        new = exp.DataType.build(duck_type(labels) + ("[]" if array else ""), dialect="duckdb")
        # what the value is to PostgreSQL, for the result's type (sql/rewrite/pg_types.py)
        new.meta["pg_type"] = name + ("[]" if array else "")
        cast.set("to", new)
    for call in list(tree.find_all(exp.Anonymous)):
        if call.name.lower() == "enum_range" and len(call.expressions) == 2:
            call.set("this", "enum_range_boundary")
    return tree
