"""Data-modifying statements in WITH: ``WITH moved AS (DELETE FROM a WHERE ... RETURNING *) INSERT
INTO b SELECT * FROM moved``, as archiving jobs and upserts that report what they did write it.

The INSERT / UPDATE / DELETE of each such CTE runs first, in the order written, each as a statement of
its own (its parameters those of the whole statement); what its RETURNING gave stands in for its body,
as a VALUES list of the returned rows cast to their columns' types; then the rest of the statement
runs over them. Described at Parse the same way, with no rows.

What differs from PostgreSQL: there, every part of the statement sees the tables as they were before
it (a snapshot), so ``WITH d AS (DELETE FROM t RETURNING *) SELECT count(*) FROM t`` counts the rows
deleted; here the main statement, and each later CTE, sees the changes of the earlier ones. A CTE's
rows are held in memory as literals: meant for the rows one statement moves, not for millions.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from typing import TYPE_CHECKING

from sqlglot import exp

from sql import errors as E
from sql.types import BY_OID

if TYPE_CHECKING:
    from sql.engine import Prepared, SqlSession
    from sql.session import ColumnDesc, Result

_DML = (exp.Insert, exp.Update, exp.Delete)


def has_modifying(tree: exp.Expression) -> bool:
    return any(isinstance(c.this, _DML) for c in tree.find_all(exp.CTE))


def _modifying(tree: exp.Expression) -> list[exp.CTE]:
    """The top-level WITH's data-modifying CTEs, in order (0A000 for one nested deeper, as PostgreSQL
    refuses them there too)."""
    with_ = tree.args.get("with_")
    top = [c for c in (with_.expressions if with_ is not None else []) if isinstance(c.this, _DML)]
    if sum(isinstance(c.this, _DML) for c in tree.find_all(exp.CTE)) != len(top):
        raise E.FeatureNotSupported(
            "WITH clause containing a data-modifying statement must be at the top level"
        )
    return top


def describe(session: SqlSession, sql: str, tree: exp.Expression, param_oids: list[int]) -> Prepared:
    """The statement prepared: its columns and command as the statement with each data-modifying CTE
    replaced by its RETURNING columns, without rows."""
    from sql.engine import Prepared

    stand_in = tree.copy()
    for cte in _modifying(stand_in):
        body_sql = cte.this.sql("postgres")
        columns = session.prepare(body_sql, param_oids).columns
        cte.set("this", _rows_of(columns or [], []))
    described = session.prepare(stand_in.sql("postgres"), param_oids)
    word = described.command
    return Prepared(sql, list(param_oids), described.columns, word, kind="modifying_with", tree=tree)


def run(session: SqlSession, stmt: Prepared, params: list) -> Result:
    assert stmt.tree is not None
    tree = stmt.tree.copy()
    for cte in _modifying(tree):
        part = session.prepare(cte.this.sql("postgres"), stmt.param_oids)
        result = session.execute(part, _used(cte.this, params))
        rows = [tuple(r.values()) for b in (result.batches or ()) for r in b.to_pylist()]
        cte.set("this", _rows_of(result.columns or [], rows))
    main = session.prepare(tree.sql("postgres"), stmt.param_oids)
    return session.execute(main, _used(tree, params))


def _used(tree: exp.Expression, params: list) -> list:
    """The statement's parameters for a part of it: none when the part names none (DuckDB refuses
    parameters a statement does not use)."""
    return params if tree.find(exp.Parameter) is not None else []


def _rows_of(columns: list[ColumnDesc], rows: list[tuple]) -> exp.Select:
    """``SELECT * FROM (VALUES ...) AS v(c1, ...)`` of ``rows``, each value cast to its column's type;
    for no rows (or no RETURNING) the typed columns of no row."""
    types = [_type_name(c.type_oid) for c in columns]
    names = [c.name for c in columns]
    if not rows:
        return exp.select(
            *[exp.alias_(exp.cast(exp.null(), t), n, quoted=True) for n, t in zip(names, types, strict=True)]
        ).where(exp.false())
    values = exp.values(
        [tuple(exp.cast(_literal(v), t) for v, t in zip(row, types, strict=True)) for row in rows],
        alias="__returned",
        columns=names,
    )
    return exp.select("*").from_(values)


def _type_name(oid: int) -> str:
    t = BY_OID.get(oid)
    return t.name if t is not None else "text"


def _literal(v: object) -> exp.Expression:
    if v is None:
        return exp.null()
    if isinstance(v, bool):
        return exp.true() if v else exp.false()
    if isinstance(v, int | float | decimal.Decimal):
        return exp.Literal.number(str(v)) if v == v else exp.Literal.string("NaN")
    if isinstance(v, dt.datetime | dt.date | dt.time):
        return exp.Literal.string(v.isoformat(sep=" ") if isinstance(v, dt.datetime) else v.isoformat())
    if isinstance(v, dict | list):
        return exp.Literal.string(json.dumps(v))
    if isinstance(v, str):
        return exp.Literal.string(v)
    raise E.FeatureNotSupported(f"a data-modifying WITH returning a {type(v).__name__} is not supported")
