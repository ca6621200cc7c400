"""FOREIGN KEY constraints: kept in the referencing table's options, enforced on SQL writes.

The referencing (child) table's options hold ``"foreign_keys"``: a list of ``{"name", "columns",
"schema", "table", "ref_columns", "on_delete", "on_update"}`` (actions as PostgreSQL's one-letter
codes: ``a`` no action, ``r`` restrict, ``c`` cascade, ``n`` set null, ``d`` set default), and
``"on_delete_columns"`` for ``ON DELETE SET NULL / SET DEFAULT (a, b)``. The referenced columns must
be a PRIMARY KEY or UNIQUE key of the referenced (parent) table (42830).

Enforced as PostgreSQL does, MATCH SIMPLE (a key with a NULL in it references nothing):
- rows written to a child (INSERT, UPDATE, COPY, upserts) whose key is not in the parent: 23503;
- a parent's rows deleted, or their key updated, while a child still references the old key: 23503
  for NO ACTION (when no row of the parent holds the key at the statement's end) and RESTRICT (when
  the referenced row's key changes at all). ON DELETE and ON UPDATE CASCADE / SET NULL / SET DEFAULT
  delete or set the child's referencing rows through DELETE and UPDATE (0A000 where those cannot
  select the rows: a child without a time column or a key of tags whose referencing column is no
  tag), before the parent's rows are written, checked against the parent as it will be (Pending);
- TRUNCATE of a parent a child references: 0A000; DROP TABLE of one: 2BP01 (PostgreSQL's answers
  without CASCADE).
Line-protocol writes are InfluxDB's and know no constraints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa
from sqlglot import exp

from sql import errors as E
from sql.constraints import distinct_keys, present_keys

if TYPE_CHECKING:
    from sql.engine import SqlSession

ACTIONS = {"NO ACTION": "a", "RESTRICT": "r", "CASCADE": "c", "SET NULL": "n", "SET DEFAULT": "d"}
_WORDS = {v: k for k, v in ACTIONS.items()}


def _actions(options: list) -> tuple[str, str, list[str] | None]:
    """ON DELETE's and ON UPDATE's codes, and the columns of ``ON DELETE SET NULL / SET DEFAULT
    (a, b)`` (None: all the referencing ones); sql/parse.py reads them as ``ON DELETE SET NULL (a, b)``."""
    on_delete = on_update = "a"
    set_columns = None
    for o in options or []:
        words, _, listed = str(o).partition("(")
        text = words.upper().split()
        if len(text) >= 3 and text[0] == "ON" and text[1] in ("DELETE", "UPDATE"):
            code = ACTIONS.get(" ".join(text[2:]))
            if code is None:
                raise E.SyntaxError_(f'syntax error at or near "{" ".join(text[2:])}"')
            if text[1] == "DELETE":
                on_delete = code
                set_columns = [c.strip() for c in listed.rstrip(")").split(",")] if listed else None
            elif listed:
                raise E.FeatureNotSupported(
                    f"a column list with {' '.join(text[2:])} is only supported for ON DELETE actions"
                )
            else:
                on_update = code
    return on_delete, on_update, set_columns


def of_reference(
    session: SqlSession,
    table: str,
    columns: list[str],
    ref: exp.Reference,
    name: str | None,
    taken: list[dict],
    self_key: list[list[str]] | None = None,
    known: list[str] | None = None,
) -> dict:
    """The entry for ``FOREIGN KEY (columns) REFERENCES ...`` of ``table`` (``self_key``: the keys of
    ``table`` itself, for a reference to the table being created; ``known``: its columns)."""
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
    on_delete, on_update, set_columns = _actions(ref.args.get("options"))
    fk = {
        "name": name,
        "columns": columns,
        "schema": target.db or "",
        "table": target.name,
        "ref_columns": ref_columns,
        "on_delete": on_delete,
        "on_update": on_update,
    }
    if set_columns is not None:
        for c in set_columns:
            if known is not None and c not in known:
                raise E.UndefinedColumn(f'column "{c}" referenced in foreign key constraint does not exist')
            if c not in columns:
                raise E.InvalidColumnReference(
                    f'column "{c}" referenced in ON DELETE SET action must be part of foreign key'
                )
        fk["on_delete_columns"] = set_columns
    return fk


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
        if fk.get("on_delete_columns"):
            text += f" ({', '.join(fk['on_delete_columns'])})"
    return text


def _table_ref(schema: str, name: str) -> exp.Table:
    return exp.Table(this=exp.to_identifier(name), db=exp.to_identifier(schema) if schema else None)


def _key_text(columns: list[str], key: tuple) -> str:
    return f"Key ({', '.join(columns)})=({', '.join(str(v) for v in key)})"


@dataclass(frozen=True)
class Pending:
    """A referenced table's change that has not been written yet when its referential actions run
    (they run first, so that an error in one leaves that table unchanged): the keys in
    ``ref_columns`` of ``parent`` (a table's meta) that go away and those that come."""

    parent: object
    ref_columns: tuple[str, ...]
    removed: frozenset[tuple]
    added: frozenset[tuple]

    def of(self, fk: dict) -> bool:
        p = self.parent
        return (
            fk["table"] == p.name  # type: ignore[attr-defined]
            and (fk["schema"] or "public") in ("public", p.rp)  # type: ignore[attr-defined]
            and tuple(fk["ref_columns"]) == self.ref_columns
        )


def check_references(
    session: SqlSession, table: str, fks: list[dict], rows: pa.Table, pending: Pending | None = None
) -> None:
    """23503 when a row about to be written to ``table`` references a key its parent lacks (as it
    will be after its ``pending`` change, when these rows are that change's referential action)."""
    for fk in fks:
        keys = distinct_keys(rows, fk["columns"])
        if not keys:
            continue
        present = present_keys(session, _table_ref(fk["schema"], fk["table"]), fk["ref_columns"], keys)
        if pending is not None and pending.of(fk):
            present = (present - pending.removed) | (keys & pending.added)
        missing = keys - present
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


def check_removed(
    session: SqlSession, parent, old: pa.Table, new: pa.Table | None, deleting: bool
) -> pa.Table | None:
    """``old`` rows of ``parent`` are deleted (``new`` None) or replaced, row by row, by ``new``; each
    foreign key that references them, as PostgreSQL does: NO ACTION answers 23503 when a key still
    referenced is gone at the statement's end (no row has it any more), RESTRICT when a referenced
    row's key changes at all; CASCADE, SET NULL and SET DEFAULT change the referencing rows first
    (:func:`_apply`). Rows of the statement itself (a table referencing itself) are not those
    stored ones: they go (DELETE), or their actions apply to ``new`` (UPDATE), which is returned as
    it is to be written."""
    for child, fk in referencing(session, parent):
        ref = fk["ref_columns"]
        if any(c not in old.column_names for c in ref):
            continue
        before = list(zip(*[old.column(c).to_pylist() for c in ref], strict=True))
        after = (
            [None] * len(before)
            if new is None
            else zip(*[new.column(c).to_pylist() for c in ref], strict=True)
        )
        moves = {o: n for o, n in zip(before, after, strict=True) if o != n and None not in o}
        if not moves:
            continue
        action = fk["on_delete"] if deleting else fk["on_update"]
        gone = set(moves) - set(moves.values()) if action == "a" else set(moves)
        table = _table_ref("" if child.rp in ("autogen",) else child.rp, child.name)
        own = child.id == parent.id
        others = _none_of(ref, {k for k in before if None not in k}) if own else None
        used = present_keys(session, table, fk["columns"], gone, others) if gone else set()
        mine: set[tuple] = set()
        if own and new is not None:  # the statement's rows' own references to the keys it moves
            mine = distinct_keys(new, fk["columns"]) & gone
        if not used and not mine:
            continue
        if action in ("c", "n", "d"):
            added = frozenset(n for n in moves.values() if n is not None and None not in n)
            pending = Pending(parent, tuple(ref), frozenset(moves), added)
            if used:
                _apply(session, child, table, fk, {k: moves[k] for k in used}, action, pending, others)
            if mine:
                assert new is not None
                new = _applied(session, child, fk, new, {k: moves[k] for k in mine}, action)
            continue
        raise E.ForeignKeyViolation(
            f'update or delete on table "{parent.name}" violates foreign key constraint "{fk["name"]}" '
            f'on table "{child.name}"',
            detail=f'{_key_text(ref, sorted(used | mine, key=str)[0])} is still referenced from table "{child.name}".',
        )
    return new


def _none_of(columns: list[str], keys: set[tuple]) -> exp.Expression:
    """The rows whose ``columns`` hold none of ``keys``."""
    return exp.not_(
        exp.or_(
            *[
                exp.and_(
                    *[exp.column(c, quoted=True).eq(exp.convert(v)) for c, v in zip(columns, k, strict=True)]
                )
                for k in keys
            ]
        )
    )


def _applied(session: SqlSession, child, fk: dict, rows: pa.Table, moves: dict, action: str) -> pa.Table:
    """``rows`` (about to be written to ``child``) with ON UPDATE's action done to those whose
    referencing columns hold a key of ``moves`` (old key -> new key)."""
    cols = fk["columns"]
    keys = list(zip(*[rows.column(c).to_pylist() for c in cols], strict=True))
    hit = [k in moves for k in keys]
    defaults = child.options.get("defaults") or {}
    for i, c in enumerate(cols):
        values = rows.column(c).to_pylist()
        if action == "d" and defaults.get(c) and "sql" in defaults[c]:
            default = (
                session.query_arrow(
                    exp.select(
                        exp.Cast(
                            this=exp.maybe_parse(defaults[c]["sql"], dialect="postgres"),
                            to=exp.DataType.build(str(rows.schema.field(c).type), dialect="duckdb"),
                        )
                    ),
                    [],
                )
                .column(0)[0]
                .as_py()
            )
        else:
            default = None
        values = [
            (moves[k][i] if action == "c" else default) if h else v
            for v, k, h in zip(values, keys, hit, strict=True)
        ]
        at = rows.column_names.index(c)
        rows = rows.set_column(at, c, pa.array(values, rows.schema.field(at).type))
    return rows


def _apply(
    session: SqlSession,
    child,
    table: exp.Table,
    fk: dict,
    moves: dict[tuple, tuple | None],
    action: str,
    pending: Pending,
    among: exp.Expression | None = None,
) -> None:
    """CASCADE / SET NULL / SET DEFAULT for the child's rows that reference the keys of ``moves``
    (old key -> new key; None: deleted): those rows deleted (ON DELETE CASCADE) or their referencing
    columns set, to the new key (ON UPDATE CASCADE), NULL or their defaults (only the listed ones of
    ``ON DELETE SET NULL (a)``), through DELETE and UPDATE, so that their own constraints and
    foreign keys apply (the parent as ``pending`` leaves it), and they answer 0A000 where the
    storage cannot select those rows. ``among``: which of the child's rows may change (not the
    statement's own, when the child is the parent)."""
    from sql import dml

    cols = fk["columns"]

    def referencing(key: tuple) -> exp.Expression:
        return exp.and_(
            *[exp.column(c, quoted=True).eq(exp.convert(v)) for c, v in zip(cols, key, strict=True)]
        )

    where = exp.Where(
        this=exp.and_(exp.or_(*[referencing(k) for k in moves]), *([among] if among is not None else []))
    )
    deleting = all(n is None for n in moves.values())
    if action == "c" and deleting:
        dml.delete(session, exp.Delete(this=table, where=where), [])
        return
    defaults = child.options.get("defaults") or {}

    def value(i: int, c: str) -> exp.Expression:
        if action == "c":  # each row to its key's new value
            return exp.Case(
                ifs=[
                    exp.If(this=referencing(k), true=exp.convert(n[i]))
                    for k, n in moves.items()
                    if n is not None
                ]
            )
        d = defaults.get(c) if action == "d" else None
        return exp.maybe_parse(d["sql"], dialect="postgres") if d and "sql" in d else exp.Null()

    listed = fk.get("on_delete_columns") if deleting else None
    sets = [
        exp.EQ(this=exp.column(c, quoted=True), expression=value(i, c))
        for i, c in enumerate(cols)
        if listed is None or c in listed
    ]
    dml.update(session, exp.Update(this=table, expressions=sets, where=where), [], pending)


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
