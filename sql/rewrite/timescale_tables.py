"""TimescaleDB's set-returning management calls in FROM: ``show_chunks`` / ``drop_chunks`` as tables.

Its documentation compresses old chunks with

    SELECT compress_chunk(c, if_not_compressed => true) FROM show_chunks('metrics', older_than => ...) c

The call becomes the rows it returns (``ctx.table_function``, sql/timescale.py), as a VALUES list
whose one column is named as PostgreSQL names a scalar function's column in FROM (the alias, else the
function): ``(VALUES ('_timescaledb_internal._hyper_1_2_chunk')) AS c(c)``. The rows depend on the data
(and drop_chunks deletes), so such a rewrite is never reused for another execution; while only
describing, drop_chunks deletes nothing and gives no rows. ``compress_chunk(x, ...)`` /
``decompress_chunk(x, ...)`` in a query are their chunk, as text (every chunk file is compressed
already; alone in a SELECT, the call never gets here: sql/timescale.py runs it); ``reorder_chunk(x,
...)`` is void (a chunk file's rows are in (series, time) order already).
"""

from __future__ import annotations

from sqlglot import exp

NAMES = ("show_chunks", "drop_chunks")
_CHUNK_CALLS = ("compress_chunk", "decompress_chunk", "reorder_chunk")


def function_name(e: exp.Expression) -> str:
    """The lower-case name of a TimescaleDB function call (the parser drops ``public.``), else ''."""
    return e.name.lower() if isinstance(e, exp.Anonymous) else ""


def timescale_tables(tree: exp.Expression, ctx) -> exp.Expression:
    for table in list(tree.find_all(exp.Table)):
        call = table.this
        if not isinstance(call, exp.Anonymous) or function_name(call) not in NAMES:
            continue
        values = ctx.table_function(call)
        if values is None:
            continue
        ctx.session_dependent = True
        column = table.alias_or_name if table.args.get("alias") is not None else function_name(call)
        if values:
            body: exp.Expression = exp.select(exp.column(column)).from_(
                exp.values([(v,) for v in values], alias="__v", columns=[column])
            )
        else:
            body = exp.select(exp.alias_(exp.cast(exp.null(), "TEXT"), column)).where(exp.false())
        table.replace(
            exp.Subquery(
                this=body,
                alias=exp.TableAlias(this=exp.to_identifier(column), columns=[exp.to_identifier(column)]),
            )
        )
    if any(function_name(c) in _CHUNK_CALLS for c in tree.find_all(exp.Anonymous)):

        def chunk(node: exp.Expression) -> exp.Expression:
            name = function_name(node)
            if name in _CHUNK_CALLS and node.expressions:
                value = node.expressions[0].copy() if name != "reorder_chunk" else exp.Literal.string("")
                cast: exp.Expression = exp.cast(value, "TEXT")  # (reorder_chunk: void)
                if isinstance(node.parent, exp.Select) and node.arg_key == "expressions":
                    cast = exp.alias_(cast, name)  # (the column is named after the function)
                return cast
            return node

        tree = tree.transform(chunk, copy=False)
    return tree
