"""Identity columns: ``GENERATED {ALWAYS | BY DEFAULT} AS IDENTITY [(sequence options)]``.

An identity column is kept as a SERIAL is (sql/column_defaults.py): the table's options hold
``"defaults"[column] = {"seq": name, "identity": "a" | "d", "options": {...}}``, and its sequence
(sql/sequences.py) is owned by the column; INSERT fills an omitted column or a DEFAULT from it
(sql/dml.py). What makes it an identity:

- it is NOT NULL and has no DEFAULT of its own: pg_attribute.attidentity is ``a`` / ``d``,
  information_schema.columns says ``is_identity`` YES with the sequence's options, its sequence
  depends on it with deptype ``i`` (pg_get_serial_sequence finds it, pg_dump dumps it as an
  identity);
- GENERATED ALWAYS refuses a value in INSERT (428C9) unless ``OVERRIDING SYSTEM VALUE``; ``OVERRIDING
  USER VALUE`` ignores the values given, the sequence filling them; UPDATE may only set it to
  DEFAULT (428C9);
- ``ALTER TABLE t ALTER [COLUMN] c`` ``ADD GENERATED {ALWAYS | BY DEFAULT} AS IDENTITY [( [SEQUENCE
  NAME s] options )]`` (what pg_dump writes), ``DROP IDENTITY [IF EXISTS]``, ``SET GENERATED
  {ALWAYS | BY DEFAULT}``, ``RESTART [[WITH] n]`` and ``SET`` sequence options (INCREMENT BY, START
  WITH, MINVALUE, MAXVALUE, CYCLE, CACHE).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlglot import exp

from sql import errors as E
from sql import sequences

if TYPE_CHECKING:
    from columnar.catalog import TableMeta
    from sql.engine import SqlSession
    from sql.session import Result

_ALTER = re.compile(
    r"""(?is)^\s*ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(?:"(?:[^"]|"")+"|[\w$]+)(?:\s*\.\s*(?:"(?:[^"]|"")+"|[\w$]+))?"""
    r"""\s+ALTER\s+(?:COLUMN\s+)?(?:"(?:[^"]|"")+"|[\w$]+)\s+(?:ADD\s+GENERATED|DROP\s+IDENTITY|SET\s+GENERATED|RESTART\b"""
    r"""|SET\s+(?:INCREMENT|START|MINVALUE|MAXVALUE|NO\s|CYCLE|CACHE))"""
)


_AS_IDENTITY = re.compile(r"(?is)\bAS\s+IDENTITY\b(\s*\()?")
OPTIONS_META = "identity_options"  # a CREATE TABLE tree's meta: the identities' option texts, in order


def cut_options(sql: str) -> tuple[str, list[str]]:
    """A CREATE TABLE's text without its identities' ``(sequence options)``, and per identity, in
    order, its options' text ("" for none): sqlglot reads only some orders of them; sql/sequences.py
    reads them as CREATE SEQUENCE's."""
    texts: list[str] = []
    out, at = [], 0
    for m in _AS_IDENTITY.finditer(sql):
        if m.start() < at or sql[: m.start()].count("'") % 2:
            continue  # (inside a string, or in options already cut)
        if m.group(1) is None:
            texts.append("")
            continue
        depth, i = 1, m.end()
        while i < len(sql) and depth:
            depth += {"(": 1, ")": -1}.get(sql[i], 0)
            i += 1
        if depth:
            break
        out.append(sql[at : m.start(1)])
        texts.append(sql[m.end() : i - 1])
        at = i
    out.append(sql[at:])
    return "".join(out), texts


def default_of(table: str, column: str, declared: str, spec: exp.GeneratedAsIdentityColumnConstraint,
               options_text: str = "") -> dict:  # fmt: skip
    """What a table's options keep for a column declared ``declared`` with identity ``spec`` and the
    sequence options ``options_text`` (START WITH 10 INCREMENT BY 5 ...)."""
    options = _type_option(declared)
    if options_text.strip():
        given = sequences.options(sequences.tokens(options_text), alter=False)
        if "type" in given or "owned" in given:
            raise E.SyntaxError_(
                'syntax error at or near "AS"' if "type" in given else 'syntax error at or near "OWNED"'
            )
        options.update(given)
    return {"seq": f"{table}_{column}_seq", "identity": "a" if spec.this else "d", "options": options}


def _type_option(declared: str) -> dict:
    typ = sequences.TYPE_NAMES.get(declared.lower())
    if typ is None:
        raise E.InvalidParameterValue("identity column type must be smallint, integer, or bigint")
    return {"type": typ}


def _identity(meta: TableMeta, column: str) -> str:
    return ((meta.options.get("defaults") or {}).get(column) or {}).get("identity", "")


def is_default(e: exp.Expression) -> bool:
    """A VALUES item or SET value that is the keyword DEFAULT (sqlglot reads it in SET as a column)."""
    if isinstance(e, exp.Column) and not e.table and not e.this.quoted:
        return e.name.upper() == "DEFAULT"
    return isinstance(e, exp.Var) and e.name.upper() == "DEFAULT"


def all_default(source: exp.Expression, i: int) -> bool:
    """Whether every row of an INSERT's VALUES gives DEFAULT at position ``i`` (a query: no)."""
    return isinstance(source, exp.Values) and all(is_default(t.expressions[i]) for t in source.expressions)


def insert_values(
    meta: TableMeta, names: list[str], source: exp.Expression, overriding: str | None
) -> list[str]:
    """The identity columns an INSERT gives values whose values are ignored (OVERRIDING USER VALUE:
    they take their next values); 428C9 for a GENERATED ALWAYS one given anything but DEFAULT without
    OVERRIDING SYSTEM VALUE, as PostgreSQL refuses it."""
    given = [n for n in names if _identity(meta, n)]
    if not given or overriding == "system":
        return []
    if overriding == "user":
        return given
    for n in given:
        if _identity(meta, n) != "a":
            continue
        i = names.index(n)
        if all_default(source, i):
            continue
        raise E.GeneratedAlways(
            f'cannot insert a non-DEFAULT value into column "{n}"',
            detail=f'Column "{n}" is an identity column defined as GENERATED ALWAYS.',
            hint="Use OVERRIDING SYSTEM VALUE to override.",
        )
    return []


def check_update(meta: TableMeta, sets: dict[str, exp.Expression]) -> None:
    """UPDATE may set a GENERATED ALWAYS column only to DEFAULT (428C9)."""
    for name, value in sets.items():
        if _identity(meta, name) == "a" and not is_default(value):
            raise E.GeneratedAlways(
                f'column "{name}" can only be updated to DEFAULT',
                detail=f'Column "{name}" is an identity column defined as GENERATED ALWAYS.',
            )


# -- ALTER TABLE ... ALTER COLUMN ... (identity) ------------------------------------------------------------
def is_statement(sql: str) -> bool:
    return _ALTER.match(sql) is not None


def alter(session: SqlSession, sql: str) -> Result:
    from sql.binder import resolve_table
    from sql.session import Result

    t = sequences.tokens(sql)
    t.expect("ALTER", "TABLE")
    missing_ok = t.take("IF", "EXISTS")
    t.take("ONLY")
    schema, name = t.name()
    schema = schema or "public"
    try:
        _rp, meta = resolve_table(session.storage, session.database, exp.table_(name, db=schema))
    except E.UndefinedTable:
        if missing_ok:
            session.notice(E.Notice_(f'relation "{name}" does not exist, skipping'))
            return Result(None, tag="ALTER TABLE")
        raise
    t.expect("ALTER")
    t.take("COLUMN")
    column = t.ident()
    col = meta.column(column)
    if col is None:
        raise E.UndefinedColumn(f'column "{column}" of relation "{name}" does not exist')
    d = (meta.options.get("defaults") or {}).get(column)
    current = (d or {}).get("identity", "")
    if t.take("ADD", "GENERATED"):
        kind = "a" if t.take("ALWAYS") else "d" if t.take("BY", "DEFAULT") else None
        if kind is None:
            raise t.error()
        t.expect("AS", "IDENTITY")
        _add(session, meta, schema, column, kind, t)
    elif t.take("DROP", "IDENTITY"):
        if_exists = t.take("IF", "EXISTS")
        if not t.done():
            raise t.error()
        if not current:
            if if_exists:
                session.notice(
                    E.Notice_(f'column "{column}" of relation "{name}" is not an identity column, skipping')
                )
                return Result(None, tag="ALTER TABLE")
            raise _not_identity(column, name)
        sequences.drop_owned(session, schema, meta.name, column)
        sequences.set_default(session, meta, column, None)
    else:  # SET GENERATED ..., RESTART, SET sequence options: in any order, one after another
        if not current:
            raise _not_identity(column, name)
        kind, given = current, {}
        while not t.done():
            if t.take("SET", "GENERATED"):
                kind = "a" if t.take("ALWAYS") else "d" if t.take("BY", "DEFAULT") else None
                if kind is None:
                    raise t.error()
            elif t.peek() == "RESTART":
                given.update(sequences.options(t, alter=True, single=True))
            elif t.take("SET"):
                given.update(sequences.options(t, alter=True, single=True))
            else:
                raise t.error()
        if given:
            sequences.alter_state(session, schema, d["seq"], given)
        if kind != current:
            sequences.set_default(session, meta, column, {**d, "identity": kind})
    session.storage.invalidate_tables()
    return Result(None, tag="ALTER TABLE")


def _not_identity(column: str, table: str) -> E.SqlError:
    return E.ObjectNotInPrerequisiteState(
        f'column "{column}" of relation "{table}" is not an identity column'
    )


def _add(session: SqlSession, meta: TableMeta, schema: str, column: str, kind: str, t) -> None:
    """ADD GENERATED ... AS IDENTITY [( [SEQUENCE NAME s] options )] on an existing column, as
    PostgreSQL checks it: an integer column, NOT NULL, without a default and not an identity yet."""
    from sql.tables import sql_columns

    table = meta.name
    col = next(c for c in sql_columns(meta) if c.name == column)
    options = _type_option(col.type.name)
    d = (meta.options.get("defaults") or {}).get(column)
    if d is not None and d.get("identity"):
        raise E.ObjectNotInPrerequisiteState(
            f'column "{column}" of relation "{table}" is already an identity column'
        )
    if d is not None:
        raise E.ObjectNotInPrerequisiteState(
            f'column "{column}" of relation "{table}" already has a default value'
        )
    if not col.not_null:
        raise E.ObjectNotInPrerequisiteState(
            f'column "{column}" of relation "{table}" must be declared NOT NULL before identity can be added'
        )
    seq = f"{table}_{column}_seq"
    if t.take("("):
        if t.take("SEQUENCE", "NAME"):
            sschema, seq = t.name()
            if sschema is not None and sschema != schema:
                raise E.ObjectNotInPrerequisiteState(
                    "sequence must be in same schema as table it is linked to"
                )
        inner = []
        depth = 0
        while not t.done() and (depth or t.peek() != ")"):
            depth += {"(": 1, ")": -1}.get(t.peek(), 0)
            inner.append(t.items[t.at])
            t.at += 1
        t.expect(")")
        options.update(sequences.options(sequences.Tokens(inner), alter=False))
    if not t.done():
        raise t.error()
    if sequences.relation_exists(session, schema, seq):
        raise E.DuplicateTable(f'relation "{seq}" already exists')
    spec = {"seq": seq, "identity": kind, "options": options}
    sequences.create_for_table(session, schema, table, [(column, col.type.name, None, True)], {column: spec})
    sequences.set_default(session, meta, column, spec)
