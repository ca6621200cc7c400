"""Sequences read as relations: ``SELECT last_value, is_called FROM s`` (pg_dump reads each sequence's
state so), from the state sql/sequences.py keeps, at the time the statement runs.

SELECT last_value, is_called FROM public.order_no
-> SELECT last_value, is_called FROM (SELECT CAST(1010 AS BIGINT) AS last_value,
     CAST(0 AS BIGINT) AS log_cnt, TRUE AS is_called) AS order_no
"""

from __future__ import annotations

from sqlglot import exp


def sequence_relations(tree: exp.Expression, ctx) -> exp.Expression:
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    for table in list(tree.find_all(exp.Table)):
        if not isinstance(table.this, exp.Identifier) or (not table.db and table.name in ctes):
            continue
        if (table.db or "").lower() in ("pg_catalog", "information_schema"):
            continue
        state = ctx.sequence(table.db or "public", table.name)
        if state is None:
            continue
        row = exp.select(
            exp.alias_(exp.cast(exp.Literal.number(int(state["last"])), "BIGINT"), "last_value"),
            exp.alias_(exp.cast(exp.Literal.number(0), "BIGINT"), "log_cnt"),
            exp.alias_(exp.Boolean(this=bool(state.get("called"))), "is_called"),
        )
        sub = exp.Subquery(this=row, alias=exp.TableAlias(this=exp.to_identifier(table.alias_or_name)))
        ctx.session_dependent = True  # the values of this execution
        if table is tree:
            return row
        table.replace(sub)
    return tree
