"""COMMENT ON: descriptions of tables, columns, views, continuous aggregates, key indexes, sequences,
types (enum types, tables' row types, built-in types, and their arrays), schemas, databases,
extensions and functions, kept in the storage catalog (columnar/catalog.py's ``comments``) and
shown by pg_description / pg_shdescription and obj_description & co. (sql/pgcatalog_tables.py).

The statement is read here, token by token (sqlglot's tokenizer), as PostgreSQL 15's grammar reads
it: sqlglot's own parser takes neither ``IS NULL`` nor ``E'...'`` nor EXTENSION. Each object is
looked up as PostgreSQL looks it up, with its errors: 42P01 for a relation that does not exist,
42809 for one of another kind, 42703 for a column, 3F000 for a schema, 42704 for an extension or a
type, 42883 / 42725 for a function; a database that does not exist is only a warning, as in
PostgreSQL. tsgres has no domains: COMMENT ON DOMAIN finds a type (42809, not a domain) or none.
``IS NULL`` and ``IS ''`` remove the description.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlglot.errors import TokenError
from sqlglot.tokens import Token, TokenType

from columnar.errors import StorageError
from sql import errors as E
from sql import temp_tables
from sql import types as pgt
from sql.parse import DIALECT
from sql.pgcatalog_model import (
    DEFAULT_DATABASE_COMMENTS,
    DEFAULT_SCHEMA_COMMENTS,
    EXTENSIONS,
    PROCS_ALL,
    TYPE_BY_NAME,
    TYPE_BY_OID,
    Snapshot,
    format_name,
)
from sql.session import Result
from sql.tables import sql_columns

if TYPE_CHECKING:
    from columnar.catalog import TableMeta
    from sql.engine import SqlSession

# The objects PostgreSQL can describe that tsgres has none of (0A000 rather than a syntax error).
_OTHER_KINDS = {
    "ACCESS METHOD", "AGGREGATE", "CAST", "COLLATION", "CONSTRAINT", "CONVERSION",
    "EVENT TRIGGER", "FOREIGN DATA WRAPPER", "FOREIGN TABLE", "LANGUAGE", "LARGE OBJECT", "OPERATOR",
    "POLICY", "PROCEDURAL LANGUAGE", "PROCEDURE", "PUBLICATION", "ROLE", "ROUTINE", "RULE",
    "SERVER", "STATISTICS", "SUBSCRIPTION", "TABLESPACE", "TEXT SEARCH", "TRANSFORM", "TRIGGER",
}  # fmt: skip
_KINDS = ("MATERIALIZED VIEW", "TABLE", "COLUMN", "VIEW", "SCHEMA", "DATABASE", "INDEX", "EXTENSION",
          "FUNCTION", "SEQUENCE", "TYPE", "DOMAIN")  # fmt: skip
_TYPE_KINDS = ("TYPE", "DOMAIN")  # (named by a type name: ``int4[]``, ``character varying(10)``)
_STRINGS = {TokenType.STRING, TokenType.BYTE_STRING, TokenType.HEREDOC_STRING, TokenType.RAW_STRING}
_RESERVED = {"IS", "NULL", "ON"}  # (reserved words that may not start an object's name here)
_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


@dataclass(frozen=True)
class Comment:
    kind: str  # one of _KINDS
    names: list[str]  # the dotted name, each part as PostgreSQL folds it
    args: list[str] | None  # FUNCTION: the argument types as written (None: no list given)
    text: str | None  # None: remove
    written: str = ""  # TYPE, DOMAIN: the type name as written


def parse(sql: str) -> Comment:
    """``COMMENT ON kind name IS 'text' | NULL``; 42601 for what PostgreSQL's grammar refuses."""
    try:
        tokens = [t for t in DIALECT.tokenize(sql) if t.token_type != TokenType.SEMICOLON]
    except TokenError as exc:
        raise E.SyntaxError_(f"syntax error: {exc}") from None
    words = [t.text.upper() for t in tokens]
    if words[:2] != ["COMMENT", "ON"]:
        raise E.SyntaxError_("syntax error " + _near(tokens, 0))
    at = 2
    kind = next((k for k in _KINDS if words[at : at + len(k.split())] == k.split()), None)
    if kind is None:
        other = next((k for k in _OTHER_KINDS if words[at : at + len(k.split())] == k.split()), None)
        if other is not None:
            raise E.FeatureNotSupported(f"COMMENT ON {other} is not supported")
        raise E.SyntaxError_("syntax error " + _near(tokens, at))
    at += len(kind.split())
    if kind in _TYPE_KINDS:
        return _type_comment(sql, tokens, words, kind, at)
    names: list[str] = []
    while True:
        if at >= len(tokens) or not _is_name(tokens[at]) or (not names and words[at] in _RESERVED):
            raise E.SyntaxError_("syntax error " + _near(tokens, at))
        names.append(_name(tokens[at]))
        at += 1
        if at < len(tokens) and tokens[at].token_type == TokenType.DOT:
            at += 1
            continue
        break
    args = None
    if kind == "FUNCTION" and at < len(tokens) and tokens[at].token_type == TokenType.L_PAREN:
        args, at = _arguments(sql, tokens, at)
    if words[at : at + 1] != ["IS"]:
        raise E.SyntaxError_("syntax error " + _near(tokens, at))
    if at + 2 != len(tokens):
        raise E.SyntaxError_("syntax error " + _near(tokens, min(at + 2, len(tokens))))
    text = _value(tokens, at + 1)
    if kind in ("SCHEMA", "DATABASE", "EXTENSION") and len(names) > 1:
        raise E.SyntaxError_('syntax error at or near "."')
    return Comment(kind, names, args, text)


def _value(tokens: list[Token], at: int) -> str | None:
    """The description at ``at`` (after IS): its text, None for NULL (and '')."""
    value = tokens[at]
    if value.token_type == TokenType.NULL:
        return None
    if value.token_type in _STRINGS:
        return value.text or None
    raise E.SyntaxError_("syntax error " + _near(tokens, at))


def _type_comment(sql: str, tokens: list[Token], words: list[str], kind: str, at: int) -> Comment:
    """``COMMENT ON TYPE <type name> IS ...``: the name is whatever lies before IS."""
    if len(tokens) < at + 3 or words[-2] != "IS":  # (no name, no IS, nothing after it, or more)
        last_is = max((i for i in range(at + 1, len(tokens)) if words[i] == "IS"), default=None)
        raise E.SyntaxError_("syntax error " + _near(tokens, at + 1 if last_is is None else last_is + 2))
    written = sql[tokens[at].start : tokens[-2].start].strip()
    return Comment(kind, [], None, _value(tokens, len(tokens) - 1), written)


def _near(tokens: list[Token], at: int) -> str:
    """PostgreSQL's wording for where a syntax error is: ``at or near "x"`` or ``at end of input``."""
    if at >= len(tokens):
        return "at end of input"
    t = tokens[at]
    return "at or near " + (f'"{t.text}"' if t.token_type not in _STRINGS else f"\"'{t.text}'\"")


def _is_name(t: Token) -> bool:
    return t.token_type == TokenType.IDENTIFIER or (
        t.token_type not in _STRINGS and bool(_WORD.match(t.text))
    )


def _name(t: Token) -> str:
    return t.text if t.token_type == TokenType.IDENTIFIER else t.text.lower()


def _arguments(sql: str, tokens: list[Token], at: int) -> tuple[list[str], int]:
    """The argument types between the parentheses at ``at``, as written; the index after them."""
    depth, start = 0, tokens[at].end + 1
    out: list[str] = []
    for i in range(at, len(tokens)):
        t = tokens[i]
        if t.token_type == TokenType.L_PAREN:
            depth += 1
        elif t.token_type == TokenType.R_PAREN:
            depth -= 1
            if depth == 0:
                piece = sql[start : t.start].strip()
                if piece or out:
                    out.append(piece)
                return out, i + 1
        elif t.token_type == TokenType.COMMA and depth == 1:
            out.append(sql[start : t.start].strip())
            start = t.end + 1
    raise E.SyntaxError_("syntax error at end of input")


def view_dropped(session: SqlSession, schema: str, name: str) -> None:
    """Forget the descriptions of a dropped view (or continuous aggregate) and of its columns."""
    catalog = session.storage.catalog
    catalog.drop_comments(catalog.database(session.database).id, "view", json.dumps([schema, name]))


def function_dropped(session: SqlSession, oid: int) -> None:
    """Forget the description of a dropped user-defined function (sql/user_functions.py)."""
    catalog = session.storage.catalog
    catalog.drop_comments(catalog.database(session.database).id, "function", str(oid))


# -- running ----------------------------------------------------------------------------------------
def run(session: SqlSession, sql: str) -> Result:
    c = parse(sql)
    handler = {
        "TABLE": _relation,
        "VIEW": _relation,
        "MATERIALIZED VIEW": _relation,
        "INDEX": _index,
        "COLUMN": _column,
        "SCHEMA": _schema,
        "DATABASE": _database,
        "EXTENSION": _extension,
        "FUNCTION": _function,
        "SEQUENCE": _relation,
        "TYPE": _type,
        "DOMAIN": _type,
    }[c.kind]
    handler(session, c)
    return Result(None, tag="COMMENT")


def _set(session: SqlSession, kind: str, obj: str, sub: str, text: str | None, default: bool = False) -> None:
    """Store (or remove) a description; removing one that has a built-in default hides the default."""
    catalog = session.storage.catalog
    database_id = catalog.database(session.database).id
    catalog.set_comment(database_id, kind, obj, sub, "" if text is None and default else text)


def _split(session: SqlSession, names: list[str]) -> tuple[str | None, str]:
    """(schema or None, name) of a relation name of 1-3 parts, PostgreSQL's errors for the rest."""
    if len(names) > 3:
        raise E.SyntaxError_(f"improper relation name (too many dotted names): {'.'.join(names)}")
    if len(names) == 3 and names[0] != session.database:
        raise E.FeatureNotSupported(f'cross-database references are not implemented: "{".".join(names)}"')
    schema = names[-2] if len(names) > 1 else None
    if session.temp_schema is not None:  # its temporary schema first (sql/temp_tables.py)
        schema = temp_tables.schema_named(session, schema, names[-1])
    return schema, names[-1]


@dataclass(frozen=True)
class _Found:
    kind: str  # table | view | cagg | index | sequence
    schema: str  # as shown: public for the default retention policy
    name: str
    key: str  # the comments row's object
    table: TableMeta | None = None  # of a table or a key index
    columns: str = ""  # a key index's columns, joined by ',' (its comments row's sub)


def _lookup(session: SqlSession, schema: str | None, name: str) -> _Found | None:
    """The relation ``schema.name`` (unqualified: in public) among ours: table, view, continuous
    aggregate or key index; None if none. 3F000 for a schema that does not exist."""
    from sql import ddl, timescale  # (they import this module)

    storage, database = session.storage, session.database
    shown = schema or "public"
    try:
        rpm = storage.catalog.retention_policy(database, None if shown == "public" else shown)
    except StorageError:
        raise E.InvalidSchemaName(f'schema "{schema}" does not exist') from None
    meta = storage.table(rpm.database_id, rpm.name, name)
    if meta is not None:
        return _Found("table", shown, name, str(meta.id), meta)
    if storage.catalog.get_meta(ddl.view_key(database, shown, name)) is not None:
        cagg = timescale.continuous_aggregate(storage.catalog, database, shown, name) is not None
        return _Found("cagg" if cagg else "view", shown, name, json.dumps([shown, name]))
    from sql import sequences

    key = sequences.sequence_key(session, shown, name)
    if storage.catalog.get_meta(key) is not None:
        return _Found("sequence", shown, name, key)
    for index in Snapshot(session).indexes:
        if index.relation.name == name and index.table.schema.name == shown:
            meta = index.table.meta
            assert meta is not None
            return _Found("index", shown, name, str(meta.id), meta, index.comment_key())
    return None


_WANTS = {"TABLE": ("table", "a table"), "VIEW": ("view", "a view"), "INDEX": ("index", "an index"),
          "MATERIALIZED VIEW": ("cagg", "a materialized view"),
          "SEQUENCE": ("sequence", "a sequence")}  # fmt: skip


def _relation_named(session: SqlSession, names: list[str]) -> _Found:
    schema, name = _split(session, names)
    found = _lookup(session, schema, name)
    if found is None:
        raise E.UndefinedTable(f'relation "{".".join(names[-2:])}" does not exist')
    return found


def _relation(session: SqlSession, c: Comment) -> None:
    found = _relation_named(session, c.names)
    want, article = _WANTS[c.kind]
    # a continuous aggregate is a view in TimescaleDB too: COMMENT ON VIEW takes it
    if found.kind != want and not (want == "view" and found.kind == "cagg"):
        raise E.WrongObjectType(f'"{found.name}" is not {article}')
    if found.kind == "sequence":
        _set(session, "sequence", _sequence_id(session, found.key), "", c.text)
        return
    _set(session, "table" if found.kind == "table" else "view", found.key, "", c.text)


def _sequence_id(session: SqlSession, key: str) -> str:
    """The id of the sequence at ``key`` (which its description is kept by, so that it follows a
    rename); a sequence made before sequences had ids is given one."""
    import secrets

    def identified(state: dict | None):
        assert state is not None
        if state.get("id"):
            return state, state["id"]
        state = {**state, "id": secrets.token_hex(8)}
        return state, state["id"]

    return session.storage.catalog.sequence_update(key, identified)


def _index(session: SqlSession, c: Comment) -> None:
    found = _relation_named(session, c.names)
    if found.kind != "index":
        raise E.WrongObjectType(f'"{found.name}" is not an index')
    _set(session, "index", found.key, found.columns, c.text)


def _column(session: SqlSession, c: Comment) -> None:
    if len(c.names) < 2:
        raise E.SyntaxError_("column name must be qualified")
    found = _relation_named(session, c.names[:-1])
    column = c.names[-1]
    if found.kind in ("index", "sequence"):
        raise E.WrongObjectType(f'cannot set comment on relation "{found.name}"')
    if found.kind == "table":
        assert found.table is not None
        names = {col.name for col in sql_columns(found.table)}
    else:
        snap = Snapshot(session)
        view = next(v for v in snap.views if v.name == found.name and v.schema.name == found.schema)
        names = {a.name for a in snap.columns_of(view)}
    if column not in names:
        raise E.UndefinedColumn(f'column "{column}" of relation "{found.name}" does not exist')
    _set(session, "table" if found.kind == "table" else "view", found.key, column, c.text)


def _schema(session: SqlSession, c: Comment) -> None:
    name = c.names[0]
    if name not in {s.name for s in Snapshot(session).schemas}:
        raise E.InvalidSchemaName(f'schema "{name}" does not exist')
    _set(session, "schema", name, "", c.text, name in DEFAULT_SCHEMA_COMMENTS)


def _database(session: SqlSession, c: Comment) -> None:
    name = c.names[0]
    catalog = session.storage.catalog
    try:
        db = catalog.database(name)
    except StorageError:
        conn = session.connection  # PostgreSQL only warns (WARNING, 3D000)
        if conn is not None and conn.notice is not None:
            conn.notice(_DatabaseWarning(f'database "{name}" does not exist'))
        return
    text = "" if c.text is None and name in DEFAULT_DATABASE_COMMENTS else c.text
    catalog.set_comment(db.id, "database", "", "", text)


class _DatabaseWarning(E.Warning_, sqlstate="3D000"):
    """COMMENT ON DATABASE of one that does not exist: a WARNING, as PostgreSQL sends."""


def _extension(session: SqlSession, c: Comment) -> None:
    name = c.names[0]
    if name not in {e[1] for e in Snapshot(session).extensions}:
        raise E.UndefinedObject(f'extension "{name}" does not exist')
    _set(session, "extension", name, "", c.text, name in EXTENSIONS)


def _function(session: SqlSession, c: Comment) -> None:
    snap = Snapshot(session)
    schemas = {s.name: s.oid for s in snap.user_schemas}
    if len(c.names) > 2 or (len(c.names) == 2 and c.names[0] not in ("pg_catalog", *schemas)):
        raise E.InvalidSchemaName(f'schema "{c.names[0]}" does not exist')
    name = c.names[-1]
    # builtins, and the database's own functions (sql/user_functions.py) of the schema named
    candidates = [p for p in PROCS_ALL if p.name == name] + [
        p
        for p in snap.user_procs
        if p.name == name and (len(c.names) == 1 or p.namespace == schemas.get(c.names[0]))
    ]
    if c.args is None:
        if not candidates:
            raise E.UndefinedFunction(f'could not find a function named "{name}"')
        if len(candidates) > 1:
            raise E.AmbiguousFunction(f'function name "{name}" is not unique')
        proc = candidates[0]
    else:
        oids = []
        for written in c.args:
            oid = _type_oid(written, TYPE_BY_NAME)
            if oid is None and written.strip().endswith("]"):  # (an array: its element's array type)
                elem = _type_oid(written.strip()[:-2].strip(), TYPE_BY_NAME)
                oid = (
                    None
                    if elem is None
                    else next(
                        (t.oid for t in TYPE_BY_OID.values() if t.elem == elem and t.category == "A"), None
                    )
                )
            if oid is None:
                raise E.UndefinedObject(f'type "{written}" does not exist')
            oids.append(oid)
        found = next((p for p in candidates if list(p.argtypes) == oids), None)
        if found is None:
            shown = ", ".join(format_name(TYPE_BY_OID[o]) if o in TYPE_BY_OID else str(o) for o in oids)
            raise E.UndefinedFunction(f"function {name}({shown}) does not exist")
        proc = found
    _set(session, "function", str(proc.oid), "", c.text)


def _type_oid(written: str, by_name: dict) -> int | None:
    """The OID of an argument's type as written (``int``, ``double precision``, ``x int``, ``IN text``)."""
    words = written.split()
    if words and words[0].upper() in ("IN", "OUT", "INOUT", "VARIADIC"):
        words = words[1:]
    for candidate in (" ".join(words), " ".join(words[1:])):
        if not candidate:
            continue
        try:
            return pgt.lookup(candidate.lower()).oid
        except KeyError:
            pass
        row = by_name.get(candidate.lower().strip('"'))
        if row is not None:
            return row.oid
    return None


def _type(session: SqlSession, c: Comment) -> None:
    """A type by its name as PostgreSQL reads one (``mood``, ``public.mood``, ``_mood``, ``mood[]``,
    ``character varying(10)``): an enum type or a built-in one is described by its OID, a table's
    row type (and its array) by the table's id, so that it follows the table (its rename, its drop)."""
    snap = Snapshot(session)
    text, array = c.written, False
    while text.endswith("]") and "[" in text:
        text, array = text[: text.rindex("[")].rstrip(), True
    try:
        toks = DIALECT.tokenize(text)
    except TokenError:
        raise E.SyntaxError_(f'syntax error at or near "{text}"') from None
    schema = None
    if len(toks) == 3 and toks[1].token_type == TokenType.DOT and _is_name(toks[0]) and _is_name(toks[2]):
        schema, base = _name(toks[0]), _name(toks[2])
    elif len(toks) == 1 and _is_name(toks[0]):
        base = _name(toks[0])
    else:
        base = text.lower()
    shown = base if schema is None else f"{schema}.{base}"
    namespaces = {sch.name: sch.oid for sch in snap.schemas}
    if schema is not None and schema not in namespaces:
        raise E.InvalidSchemaName(f'schema "{schema}" does not exist')
    oid = None
    if schema in (None, "pg_catalog"):
        try:
            oid = pgt.lookup(base).oid
        except KeyError:
            row = TYPE_BY_NAME.get(base)
            oid = row.oid if row is not None else None
    if oid is None and schema != "pg_catalog":
        ns = namespaces[schema or "public"]
        oid = next((t.oid for t in snap.user_types if t.name == base and t.namespace == ns), None)
    if oid is None:
        raise E.UndefinedObject(f'type "{shown}" does not exist')
    row = snap.type_by_oid[oid]
    if array and row.array:
        row = snap.type_by_oid[row.array]
    if c.kind == "DOMAIN":
        raise E.WrongObjectType(f'"{snap.type_format(row)}" is not a domain')
    element = snap.type_by_oid.get(row.elem)
    table = snap.relation_by_oid.get(row.relid or (element.relid if element is not None else 0))
    if table is not None and table.meta is not None:
        _set(session, "rowtype", str(table.meta.id), "" if row.relid else "[]", c.text)
    else:
        _set(session, "type", str(row.oid), "", c.text)
