"""CHECK constraints: how a table keeps them, checks the rows written, and names them.

A table's options hold ``"checks"``: a list of ``{"name": ..., "sql": expression}`` in PostgreSQL's
dialect, in the order they were made. Every SQL write (INSERT, UPDATE, COPY) evaluates each one over
the rows it is about to write, with DuckDB, after the query rewrite a SELECT gets; a row for which
one is false (not NULL: NULL passes, as in PostgreSQL) fails the statement with 23514 and nothing of
it is written. Adding one to a table that holds rows checks them first (23514 too). Line-protocol
writes are InfluxDB's and know no constraints.

Names are PostgreSQL's: the one given, else ``<table>_<column>_check`` for an expression over one
column and ``<table>_check`` otherwise, numbered from 1 when taken.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa
from sqlglot import exp

from sql import errors as E
from sql.enums import check_option as enum_values

if TYPE_CHECKING:
    from sql.engine import SqlSession


def auto_name(table: str, expr: exp.Expression, taken: set[str]) -> str:
    """PostgreSQL's name for an unnamed CHECK over ``expr`` of ``table``."""
    columns = list(dict.fromkeys(c.name for c in expr.find_all(exp.Column)))
    base = f"{table}_{columns[0]}_check" if len(columns) == 1 else f"{table}_check"
    name, k = base, 0
    while name in taken:
        k += 1
        name = f"{base}{k}"
    return name


def of_table(options: dict) -> list[dict]:
    """What a write to the table checks: its CHECKs, then that the values of its enum columns are
    labels of their types (sql/enums.py; 22P02)."""
    enum_columns = options.get("enums") or {}
    return list(options.get("checks") or []) + [{"enum": c, **o} for c, o in enum_columns.items()]


def check(expr: exp.Expression, name: str | None, table: str, taken: list[dict]) -> dict:
    """The entry for a new CHECK (42710 when its name is taken)."""
    names = {c["name"] for c in taken}
    if name is None:
        name = auto_name(table, expr, names)
    elif name in names:
        raise E.DuplicateObject(f'constraint "{name}" for relation "{table}" already exists')
    while isinstance(expr, exp.Paren):  # CHECK ((x < 1)), as pg_dump writes it back, is CHECK (x < 1)
        expr = expr.this
    return {"name": name, "sql": expr.sql("postgres")}


def enforce(session: SqlSession, table: str, checks: list[dict], rows: pa.Table) -> None:
    """23514 when a row of ``rows`` (about to be written to ``table``) makes a CHECK false."""
    if not checks or rows.num_rows == 0:
        return
    for c in checks:
        if "enum" in c and c["enum"] in rows.column_names:
            enum_values(c, rows.column(c["enum"]).combine_chunks())
    checks = [c for c in checks if "enum" not in c]
    if not checks:
        return
    cur = session._cursor()
    try:
        cur.register("__tsgres_check", rows)
        for c in checks:
            tree = (
                exp.select(exp.Literal.number(1))
                .from_(
                    exp.Table(
                        this=exp.to_identifier("__tsgres_check"),
                        alias=exp.TableAlias(this=exp.to_identifier(table)),
                    )
                )
                .where(exp.Not(this=exp.Paren(this=exp.maybe_parse(c["sql"], dialect="postgres"))))
                .limit(1)
            )
            sql = session._execution_tree(tree, None).sql("duckdb")
            if cur.sql(sql).fetchall():
                raise E.CheckViolation(
                    f'new row for relation "{table}" violates check constraint "{c["name"]}"'
                )
    finally:
        cur.close()


def validate(session: SqlSession, table: exp.Table, c: dict) -> None:
    """23514 when a row already in ``table`` makes the new CHECK ``c`` false."""
    tree = (
        exp.select(exp.Literal.number(1))
        .from_(table.copy())
        .where(exp.Not(this=exp.Paren(this=exp.maybe_parse(c["sql"], dialect="postgres"))))
        .limit(1)
    )
    if session.query_arrow(tree, []).num_rows:
        raise E.CheckViolation(
            f'check constraint "{c["name"]}" of relation "{table.name}" is violated by some row'
        )


def definition(c: dict) -> str:
    """pg_get_constraintdef of a CHECK: the expression as written, not with PostgreSQL's casts."""
    return f"CHECK (({c['sql']}))"


# -- PRIMARY KEY / UNIQUE keys without the time column -----------------------------------------------
# A key over the time column makes a table keep one row per key: a later write replaces the earlier
# one (docs/sql.md). A key without it (a metadata table's id, a UNIQUE name) is checked as PostgreSQL
# checks it: a row whose key is already stored, or twice in one statement, fails with 23505.


def plain_keys(meta) -> list[list[str]]:
    """The table's PRIMARY KEY / UNIQUE keys that do not include the time column."""
    return [list(k) for k in meta.options.get("keys") or [] if k and meta.time_column not in k]


def key_name(meta, key: list[str]) -> str:
    """The name of a key's constraint and index: the CREATE UNIQUE INDEX's that made it, the name
    ALTER INDEX gave it (``key_names``), else PostgreSQL's ``<table>_pkey`` / ``<table>_<cols>_key``."""
    for spec in meta.options.get("indexes") or []:  # (sql/indexes.py)
        if list(spec.get("key") or []) == list(key):
            return spec["name"]
    named = (meta.options.get("key_names") or {}).get(",".join(key))
    if named:
        return named
    primary = list(meta.options.get("primary_key") or [])
    return f"{meta.name}_pkey" if list(key) == primary else f"{meta.name}_{'_'.join(key)}_key"


def distinct_keys(rows: pa.Table, columns: list[str]) -> set[tuple]:
    """The distinct keys of ``rows`` in ``columns`` without a NULL in them (NULLs are never equal)."""
    if not rows.num_rows or any(c not in rows.column_names for c in columns):
        return set()
    values = zip(*[rows.column(c).to_pylist() for c in columns], strict=True)
    return {t for t in values if all(v is not None for v in t)}


def present_keys(
    session: SqlSession,
    table: exp.Table,
    columns: list[str],
    keys: set[tuple],
    among: exp.Expression | None = None,
) -> set[tuple]:
    """Which of ``keys`` the stored rows of ``table`` (those ``among`` selects) hold in ``columns``."""
    where = exp.and_(
        *[
            exp.column(c, quoted=True).isin(*[exp.convert(v) for v in {k[i] for k in keys}])
            for i, c in enumerate(columns)
        ],
        *([among] if among is not None else []),
    )
    q = exp.select(*[exp.column(c, quoted=True) for c in columns]).from_(table.copy()).where(where).distinct()
    return distinct_keys(session.query_arrow(q, []), columns) & keys


def check_unique(
    session: SqlSession, table: exp.Table, meta, rows: pa.Table, replaced: pa.Table | None = None
) -> None:
    """23505 when ``rows`` (about to be written; ``replaced``: the stored rows they replace, for an
    UPDATE) repeat a key without the time column, among themselves or with a stored row."""
    for key in plain_keys(meta):
        if not rows.num_rows or any(k not in rows.column_names for k in key):
            continue  # (a key column left to its default, a SERIAL: new by construction)
        values = zip(*[rows.column(k).to_pylist() for k in key], strict=True)
        new = [t for t in values if all(v is not None for v in t)]
        if not new:
            continue
        seen: set[tuple] = set()
        for t in new:
            if t in seen:
                _duplicate(meta, key, t)
            seen.add(t)
        gone = distinct_keys(replaced, key) if replaced is not None else set()
        stored = present_keys(session, table, key, seen) - gone
        clash = next((t for t in new if t in stored), None)  # (the first row that clashes)
        if clash is not None:
            _duplicate(meta, key, clash)


def _duplicate(meta, key: list[str], t: tuple) -> None:
    raise E.UniqueViolation(
        f'duplicate key value violates unique constraint "{key_name(meta, key)}"',
        detail=f"Key ({', '.join(key)})=({', '.join(str(v) for v in t)}) already exists.",
    )
