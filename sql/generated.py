"""Generated columns: ``c type GENERATED ALWAYS AS (expression) STORED``, computed from the row's other
columns whenever a row is written (INSERT, UPDATE, upsert, COPY), as PostgreSQL computes them.

A table's options hold ``"generated"``: column -> ``{"sql": expression}``, the expression as sqlglot
writes it in PostgreSQL's dialect. Before the constraints are checked, :func:`fill` evaluates the
expressions over the rows about to be written (one DuckDB statement over them, as Arrow) and puts the
results in place, cast to the columns' types; the stored value is what queries read. What PostgreSQL
refuses is refused here too: a value given for a generated column (428C9) on INSERT or UPDATE other
than DEFAULT, an expression naming a column that does not exist (42703) or another generated column
(42P17).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa
import sqlglot
from sqlglot import exp

from sql import errors as E

if TYPE_CHECKING:
    from columnar.catalog import TableMeta

_DETAIL = 'Column "{0}" is a generated column.'


def of_column(column: exp.ColumnDef) -> dict | None:
    """What the options keep for a column definition's GENERATED ALWAYS AS (...) STORED, or None."""
    for c in column.args.get("constraints") or []:
        kind = c.args.get("kind")
        if isinstance(kind, exp.ComputedColumnConstraint):
            return {"sql": kind.this.sql("postgres")}
    return None


def check_definitions(generated: dict[str, dict], columns: list[str]) -> None:
    """42703 for an expression naming a column the table lacks, 42P17 for one naming a generated
    column (PostgreSQL: "cannot use generated column ... in column generation expression")."""
    for g in generated.values():
        for col in exp.maybe_parse(g["sql"], dialect="postgres").find_all(exp.Column):
            if col.name not in columns:
                raise E.UndefinedColumn(f'column "{col.name}" does not exist')
            if col.name in generated:
                raise E.InvalidObjectDefinition(
                    f'cannot use generated column "{col.name}" in column generation expression',
                    detail="A generated column cannot reference another generated column.",
                )


def of_table(meta: TableMeta) -> dict[str, dict]:
    return meta.options.get("generated") or {}


def check_insert(meta: TableMeta, names: list[str], source: exp.Expression) -> None:
    """428C9 for an INSERT giving a generated column anything but DEFAULT."""
    from sql.identity import all_default

    for i, n in enumerate(names):
        if n not in of_table(meta) or all_default(source, i):
            continue
        raise E.GeneratedAlways(
            f'cannot insert a non-DEFAULT value into column "{n}"', detail=_DETAIL.format(n)
        )


def check_update(meta: TableMeta, sets: dict[str, exp.Expression]) -> None:
    """428C9 for an UPDATE setting a generated column to anything but DEFAULT."""
    from sql.identity import is_default

    for name, value in sets.items():
        if name in of_table(meta) and not is_default(value):
            raise E.GeneratedAlways(
                f'column "{name}" can only be updated to DEFAULT', detail=_DETAIL.format(name)
            )


def fill(session: Any, meta: TableMeta, rows: pa.Table) -> pa.Table:
    """``rows`` with every generated column computed from the others (the columns of the table that
    ``rows`` lacks are NULL to the expressions)."""
    generated = of_table(meta)
    if not generated or rows.num_rows == 0:
        return rows
    from sql.duck import duck_type, translate
    from sql.tables import sql_columns

    by_name = {c.name: c for c in sql_columns(meta)}
    inputs = rows
    for name, c in by_name.items():
        if name not in inputs.column_names and name not in generated:
            inputs = inputs.append_column(name, pa.nulls(rows.num_rows, c.type.arrow))
    selects = [
        f'CAST(({_duckdb(g["sql"])}) AS {duck_type(by_name[name].type)}) AS "{name}"'
        for name, g in generated.items()
        if name in by_name
    ]
    cur = session.sql_engine.duck.cursor()
    try:
        cur.register(
            "__generated_rows", inputs.drop_columns([n for n in generated if n in inputs.column_names])
        )
        computed = cur.sql(f"SELECT {', '.join(selects)} FROM __generated_rows").to_arrow_table()
    except Exception as exc:  # noqa: BLE001 - DuckDB's error, as PostgreSQL words it
        import duckdb

        if isinstance(exc, duckdb.Error):
            raise translate(exc) from None
        raise
    finally:
        cur.close()
    out = rows
    for name in computed.column_names:
        column = computed.column(name).cast(by_name[name].type.arrow)
        if name in out.column_names:
            out = out.set_column(out.column_names.index(name), name, column)
        else:
            out = out.append_column(name, column)
    return out


def _duckdb(sql: str) -> str:
    return sqlglot.transpile(sql, read="postgres", write="duckdb")[0]
