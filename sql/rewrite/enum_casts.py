"""Casts to an enum type (sql/enums.py): ``'ok'::mood``, ``CAST(x AS mood)``, ``NULL::mood`` become
casts to DuckDB's ``ENUM('sad', 'ok', 'happy')`` of the type's labels, so comparisons and ordering of
the values follow the labels' order, and ``enum_range(NULL::mood)``, ``enum_first`` / ``enum_last``
work as DuckDB has them (``enum_range(a, b)``: DuckDB's ``enum_range_boundary``). A string literal
that is no label is 22P02, as PostgreSQL's enum input reports it, and so is one in the text of an
array of the type (``'{ok,nope}'::mood[]``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from sql.errors import InvalidTextRepresentation
from sql.rewrite.pg_json import array_items

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
        if isinstance(value, exp.Literal) and value.is_string:
            items = _array_literal(value.this) if array else [value.this]
            for label in items:
                if label is not None and label not in labels:
                    raise InvalidTextRepresentation(f'invalid input value for enum {name}: "{label}"')
            if array:  # (DuckDB reads no PostgreSQL array text)
                cast.set(
                    "this",
                    exp.Array(
                        expressions=[exp.null() if i is None else exp.Literal.string(i) for i in items]
                    ),
                )
        new = exp.DataType.build(duck_type(labels) + ("[]" if array else ""), dialect="duckdb")
        # what the value is to PostgreSQL, for the result's type (sql/rewrite/pg_types.py)
        new.meta["pg_type"] = name + ("[]" if array else "")
        cast.set("to", new)
    for call in list(tree.find_all(exp.Anonymous)):
        if call.name.lower() == "enum_range" and len(call.expressions) == 2:
            call.set("this", "enum_range_boundary")
    return tree


def _array_literal(text: str) -> list[str | None]:
    """The elements of an array's text, as written or as sql/rewrite/pg_semantics.py has turned a
    flat, unquoted one into DuckDB's list text (``{a,b}`` -> ``[a,b]``)."""
    if text.startswith("[") and text.endswith("]"):
        text = "{" + text[1:-1] + "}"
    return array_items(text)
