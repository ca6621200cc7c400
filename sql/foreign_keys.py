"""FOREIGN KEY constraints: kept in the referencing table's options, enforced on SQL writes.

The referencing (child) table's options hold ``"foreign_keys"``: a list of ``{"name", "columns",
"schema", "table", "ref_columns", "on_delete", "on_update"}`` (actions as PostgreSQL's one-letter
codes: ``a`` no action, ``r`` restrict, ``c`` cascade, ``n`` set null, ``d`` set default). The
referenced columns must be a PRIMARY KEY or UNIQUE key of the referenced (parent) table (42830).

Enforced as PostgreSQL does, MATCH SIMPLE (a key with a NULL in it references nothing):
- rows written to a child (INSERT, UPDATE, COPY, upserts) whose key is not in the parent: 23503;
- a parent's rows deleted, or their key updated, while a child still references the old key: 23503
  for NO ACTION and RESTRICT. ON DELETE CASCADE / SET NULL / SET DEFAULT delete or set the child's
  referencing rows through DELETE and UPDATE, which select them exactly when the referencing columns
  are tags or the child has a key of tags, and answer 0A000 otherwise (a hypertable whose
  referencing column is a field); ON UPDATE CASCADE / SET NULL / SET DEFAULT answer 0A000;
- TRUNCATE of a parent a child references: 0A000; DROP TABLE of one: 2BP01 (PostgreSQL's answers
  without CASCADE).
Line-protocol writes are InfluxDB's and know no constraints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa
from sqlglot import exp

from sql import errors as E
from sql.constraints import distinct_keys, present_keys

if TYPE_CHECKING:
    from sql.engine import SqlSession

ACTIONS = {"NO ACTION": "a", "RESTRICT": "r", "CASCADE": "c", "SET NULL": "n", "SET DEFAULT": "d"}
_WORDS = {v: k for k, v in ACTIONS.items()}


def _actions(options: list) -> tuple[str, str]:
    on_delete = on_update = "a"
    for o in options or []:
        text = str(o).upper().split()
        if len(text) >= 3 and text[0] == "ON" and text[1] in ("DELETE", "UPDATE"):
            code = ACTIONS.get(" ".join(text[2:]))
            if code is None:
                raise E.SyntaxError_(f'syntax error at or near "{" ".join(text[2:])}"')
            if text[1] == "DELETE":
                on_delete = code
            else:
                on_update = code
    return on_delete, on_update


def of_reference(
    session: SqlSession,
    table: str,
    columns: list[str],
    ref: exp.Reference,
    name: str | None,
    taken: list[dict],
    self_key: list[list[str]] | None = None,
) -> dict:
    """The entry for ``FOREIGN KEY (columns) REFERENCES ...`` of ``table`` (``self_key``: the keys of
    ``table`` itself, for a reference to the table being created)."""
    from sql.binder import resolve_table

    target = ref.this.this if isinstance(ref.this, exp.Schema) else ref.this
    ref_columns = [i.name for i in ref.this.expressions] if isinstance(ref.this, exp.Schema) else []
    if target.name == table and self_key is not None:
        keys, primary = self_key, self_key[0] if self_key else []
    else:
        _rp, parent = resolve_table(session.storage, session.database, target)
        keys = [list(k) for k in parent.options.get("keys") or []]
        primary = list(parent.options.get("primary_key") or [])
    if not ref_columns:
        if not primary:
            raise E.InvalidForeignKey(f'there is no primary key for referenced table "{target.name}"')
        ref_columns = primary
    if len(ref_columns) != len(columns):
        raise E.InvalidForeignKey("number of referencing and referenced columns for foreign key disagree")
    if not any(sorted(k) == sorted(ref_columns) for k in keys):
        raise E.InvalidForeignKey(
            f'there is no unique constraint matching given keys for referenced table "{target.name}"'
        )
    names = {f["name"] for f in taken}
    if name is None:
        base = f"{table}_{'_'.join(columns)}_fkey"
        name, k = base, 0
        while name in names:
            k += 1
            name = f"{base}{k}"
    elif name in names:
        raise E.DuplicateObject(f'constraint "{name}" for relation "{table}" already exists')
    on_delete, on_update = _actions(ref.args.get("options"))
    return {
        "name": name,
        "columns": columns,
        "schema": target.db or "",
        "table": target.name,
        "ref_columns": ref_columns,
        "on_delete": on_delete,
        "on_update": on_update,
    }


def of_table(options: dict) -> list[dict]:
    return list(options.get("foreign_keys") or [])


def definition(fk: dict) -> str:
    """pg_get_constraintdef of a foreign key, as PostgreSQL writes it."""
    cols = ", ".join(fk["columns"])
    refs = ", ".join(fk["ref_columns"])
    target = f"{fk['schema']}.{fk['table']}" if fk["schema"] not in ("", "public") else fk["table"]
    text = f"FOREIGN KEY ({cols}) REFERENCES {target}({refs})"
    if fk["on_update"] != "a":
        text += f" ON UPDATE {_WORDS[fk['on_update']]}"
    if fk["on_delete"] != "a":
        text += f" ON DELETE {_WORDS[fk['on_delete']]}"
    return text


def _table_ref(schema: str, name: str) -> exp.Table:
    return exp.Table(this=exp.to_identifier(name), db=exp.to_identifier(schema) if schema else None)


def _key_text(columns: list[str], key: tuple) -> str:
    return f"Key ({', '.join(columns)})=({', '.join(str(v) for v in key)})"


def check_references(session: SqlSession, table: str, fks: list[dict], rows: pa.Table) -> None:
    """23503 when a row about to be written to ``table`` references a key its parent lacks."""
    for fk in fks:
        keys = distinct_keys(rows, fk["columns"])
        if not keys:
            continue
        missing = keys - present_keys(session, _table_ref(fk["schema"], fk["table"]), fk["ref_columns"], keys)
        if missing:
            raise E.ForeignKeyViolation(
                f'insert or update on table "{table}" violates foreign key constraint "{fk["name"]}"',
                detail=f'{_key_text(fk["columns"], sorted(missing, key=str)[0])} is not present in table "{fk["table"]}".',
            )


def referencing(session: SqlSession, parent) -> list[tuple]:
    """(child meta, foreign key) of every foreign key of the database that references ``parent``."""
    out = []
    db = session.storage.catalog.database(session.database)
    for meta in session.storage.catalog.tables(db.id):
        for fk in of_table(meta.options):
            if fk["table"] == parent.name and (fk["schema"] or "public") in ("public", parent.rp):
                out.append((meta, fk))
    return out


def check_removed(session: SqlSession, parent, old: pa.Table, new: pa.Table | None, deleting: bool) -> None:
    """``old`` rows of ``parent`` are deleted (``new`` None) or replaced by ``new``: 23503 when a child
    still references a key that goes away (NO ACTION / RESTRICT), 0A000 when its action would have to
    change the child's rows."""
    for child, fk in referencing(session, parent):
        gone = distinct_keys(old, fk["ref_columns"]) - (
            set() if new is None else distinct_keys(new, fk["ref_columns"])
        )
        if not gone:
            continue
        table = _table_ref("" if child.rp in ("autogen",) else child.rp, child.name)
        used = present_keys(session, table, fk["columns"], gone)
        if not used:
            continue
        action = fk["on_delete"] if deleting else fk["on_update"]
        if deleting and action in ("c", "n", "d"):
            _apply(session, child, table, fk, used, action)
            continue
        if action not in ("a", "r"):
            raise E.FeatureNotSupported(
                f'ON {"DELETE" if deleting else "UPDATE"} {_WORDS[action]} of foreign key "{fk["name"]}" '
                f'on table "{child.name}" is not supported: rows of "{child.name}" reference the rows changed'
            )
        raise E.ForeignKeyViolation(
            f'update or delete on table "{parent.name}" violates foreign key constraint "{fk["name"]}" '
            f'on table "{child.name}"',
            detail=f'{_key_text(fk["ref_columns"], sorted(used, key=str)[0])} is still referenced from table "{child.name}".',
        )


def _apply(session: SqlSession, child, table: exp.Table, fk: dict, keys: set[tuple], action: str) -> None:
    """ON DELETE CASCADE / SET NULL / SET DEFAULT: the child's rows referencing ``keys`` deleted, or
    their referencing columns set, through DELETE and UPDATE (so their own constraints apply, and
    they answer 0A000 where the storage cannot select those rows exactly)."""
    from sql import dml

    cols = fk["columns"]
    where = exp.Where(
        this=exp.or_(
            *[
                exp.and_(
                    *[exp.column(c, quoted=True).eq(exp.convert(v)) for c, v in zip(cols, k, strict=True)]
                )
                for k in keys
            ]
        )
    )
    if action == "c":
        dml.delete(session, exp.Delete(this=table, where=where), [])
        return
    defaults = child.options.get("defaults") or {}

    def value(c: str) -> exp.Expression:
        d = defaults.get(c) if action == "d" else None
        return exp.maybe_parse(d["sql"], dialect="postgres") if d and "sql" in d else exp.Null()

    sets = [exp.EQ(this=exp.column(c, quoted=True), expression=value(c)) for c in cols]
    dml.update(session, exp.Update(this=table, expressions=sets, where=where), [])


def check_drop(session: SqlSession, parent, truncate: bool) -> None:
    """DROP TABLE (2BP01) or TRUNCATE (0A000) of a table another one references."""
    others = [(c, fk) for c, fk in referencing(session, parent) if c.id != parent.id]
    if not others:
        return
    child, fk = others[0]
    if truncate:
        raise E.FeatureNotSupported(
            "cannot truncate a table referenced in a foreign key constraint",
            detail=f'Table "{child.name}" references "{parent.name}".',
            hint=f'Truncate table "{child.name}" at the same time, or use TRUNCATE ... CASCADE.',
        )
    raise E.DependentObjectsStillExist(
        f"cannot drop table {parent.name} because other objects depend on it",
        detail=f"constraint {fk['name']} on table {child.name} depends on table {parent.name}",
        hint="Use DROP ... CASCADE to drop the dependent objects too.",
    )
