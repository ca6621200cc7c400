"""Enum types, as PostgreSQL 15 has them: CREATE TYPE name AS ENUM (...), DROP TYPE, ALTER TYPE ...
ADD VALUE / RENAME VALUE / RENAME TO.

A type is a storage catalog meta entry ``enum:<database>:<name>`` holding its OID and its labels with
their sort orders (pg_enum.enumsortorder: 1, 2, 3 ... as created; a value added BEFORE/AFTER another
gets the midpoint of its neighbours, as PostgreSQL's AddEnumLabel gives it).

A column of an enum type is stored as text (a tag by tsgres's rules for text columns, sql/ddl.py).
The table's options keep, under ``enums``, each such column's type OID, name and labels, so that
sql/tables.py (which sees the table only) reports the type and checks written values (22P02), and
the binder (sql/binder.py) reads the column through DuckDB's ``ENUM(...)`` of those labels: ordering,
comparisons and min/max follow the order of declaration. ALTER TYPE writes the new labels into
every table that uses the type.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa
from sqlglot import exp, tokens
from sqlglot.dialects.postgres import Postgres

from columnar.types import FieldType
from sql import errors as E
from sql import types as pgt
from sql.session import Result, UserType

if TYPE_CHECKING:
    from columnar.catalog import TableMeta
    from sql.engine import SqlSession

OPTION = "enums"  # table option: column -> {"oid", "name", "labels"}
NAMEDATALEN = 63


@dataclass
class EnumType:
    name: str
    oid: int
    labels: list[str]
    orders: list[float]

    def column_option(self) -> dict:
        return {"oid": self.oid, "name": self.name, "labels": list(self.labels)}

    def to_json(self) -> str:
        return json.dumps({"oid": self.oid, "labels": self.labels, "orders": self.orders})


def column_type(option: dict) -> pgt.PgType:
    """The PgType a column of the enum ``option`` (a table's ``enums`` entry) is reported with."""
    return pgt.PgType(
        option["name"], option["oid"], option["oid"] + 1, FieldType.STRING, pa.string(), (), option["name"]
    )


def user_types(storage, database: str, oids: set[int]) -> tuple[UserType, ...]:
    """The enum types among ``oids`` (a statement's parameter and column types; an array type names
    its element's), for pgwire to code their values (pgwire/types/enum.py)."""
    if not any(o >= pgt.USER_OIDS for o in oids):
        return ()
    return tuple(
        UserType(t.oid, t.name, "e", t.oid + 1)
        for t in types_of(storage, database).values()
        if t.oid in oids or t.oid + 1 in oids
    )


def cast_oid(storage, database: str, to: exp.Expression) -> int | None:
    """The OID of the enum type (or array of one) a cast is to, if it is to one."""
    array = isinstance(to, exp.DataType) and to.this == exp.DataType.Type.ARRAY and len(to.expressions) == 1
    element = to.expressions[0] if array else to
    if not isinstance(element, exp.DataType) or element.this != exp.DataType.Type.USERDEFINED:
        return None
    kind = element.args.get("kind")
    found = lookup(storage, database, kind.sql("postgres") if kind is not None else element.sql("postgres"))
    return None if found is None else found.oid + (1 if array else 0)


def _key(database: str, name: str) -> str:
    return f"enum:{database}:{name}"


def types_of(storage, database: str) -> dict[str, EnumType]:
    """The database's enum types by name, in OID order."""
    return types_in(storage.catalog, database)


def types_in(catalog, database: str) -> dict[str, EnumType]:
    """:func:`types_of` from the storage catalog ``catalog``."""
    out = []
    for key, value in catalog.meta_items(f"enum:{database}:"):
        v = json.loads(value)
        out.append(EnumType(key.split(":", 2)[2], v["oid"], v["labels"], v["orders"]))
    return {t.name: t for t in sorted(out, key=lambda t: t.oid)}


def lookup(storage, database: str, declared: str) -> EnumType | None:
    """The enum type a column type as declared names (``mood``, ``public.mood``, ``"mood"``)."""
    name = declared.strip()
    if name.lower().startswith("public."):
        name = name[len("public.") :]
    name = name.strip('"')
    got = storage.catalog.get_meta(_key(database, name))
    if got is None:
        return None
    v = json.loads(got)
    return EnumType(name, v["oid"], v["labels"], v["orders"])


def _save(storage, database: str, t: EnumType) -> None:
    storage.catalog.set_meta(_key(database, t.name), t.to_json())


def duck_type(labels: list[str]) -> str:
    """DuckDB's type for values of these labels, ordered as listed."""
    return "ENUM(" + ", ".join("'" + v.replace("'", "''") + "'" for v in labels) + ")"


def check_values(meta: TableMeta, column: str, arr: pa.Array) -> None:
    """22P02 for a value of ``arr`` (written into the enum column ``column``) that is no label."""
    option = (meta.options.get(OPTION) or {}).get(column)
    if option is not None:
        check_option(option, arr)


def check_option(option: dict, arr: pa.Array) -> None:
    """:func:`check_values` for a table's ``enums`` entry ``option``."""
    labels = set(option["labels"])
    if not pa.types.is_string(arr.type):
        arr = arr.cast(pa.string())
    for v in arr.unique().to_pylist():
        if v is not None and v not in labels:
            raise E.InvalidTextRepresentation(f'invalid input value for enum {option["name"]}: "{v}"')


def users(storage, database: str, oid: int) -> list[tuple[TableMeta, str]]:
    """(table, column) of every column of the enum type ``oid``."""
    return [
        (meta, col)
        for meta in storage.tables(database)
        for col, option in (meta.options.get(OPTION) or {}).items()
        if option.get("oid") == oid and meta.column(col) is not None
    ]


def _sync(storage, database: str, t: EnumType) -> None:
    """Write the type's (new) name and labels into the tables that use it."""
    for meta in {m.id: m for m, _ in users(storage, database, t.oid)}.values():
        opts = dict(meta.options)
        opts[OPTION] = {
            col: (t.column_option() if o.get("oid") == t.oid else o) for col, o in opts[OPTION].items()
        }
        storage.catalog.set_table_options(meta.id, meta.time_column, opts)
    storage.invalidate_tables()


# -- statements ------------------------------------------------------------------------------------
def is_statement(sql: str) -> bool:
    """CREATE TYPE / DROP TYPE / ALTER TYPE (the statements this module runs)."""
    words = sql.split(None, 2)
    return len(words) >= 2 and words[0].upper() in ("CREATE", "DROP", "ALTER") and words[1].upper() == "TYPE"


def run(session: SqlSession, sql: str) -> Result:
    toks = [t for t in Postgres.Tokenizer().tokenize(sql) if t.token_type != tokens.TokenType.SEMICOLON]
    first = toks[0].text.upper()
    session.sql_engine.schema_changed()
    if first == "CREATE":
        return _create(session, sql)
    if first == "DROP":
        return _drop(session, toks[2:])
    return _alter(session, toks[2:])


def _name(tok: tokens.Token) -> str:
    return tok.text if tok.token_type == tokens.TokenType.IDENTIFIER else tok.text.lower()


def _create(session: SqlSession, sql: str) -> Result:
    from sql.parse import parse

    tree = parse(sql)
    kind = tree.args.get("expression") if isinstance(tree, exp.Create) else None
    if not isinstance(kind, exp.DataType) or kind.this != exp.DataType.Type.ENUM:
        raise E.FeatureNotSupported("CREATE TYPE is supported for enum types only (AS ENUM (...))")
    table = tree.this
    if table.db not in ("", "public"):
        raise E.FeatureNotSupported(f'schema "{table.db}" for a type is not supported')
    name = table.name
    labels = []
    for v in kind.expressions:
        if not isinstance(v, exp.Literal) or not v.is_string:
            raise E.SyntaxError_(f'syntax error at or near "{v.sql("postgres")}"')
        labels.append(v.this)
    _check_labels(labels)
    storage, database = session.storage, session.database
    if name in types_of(storage, database) or _is_builtin(name) or _is_table(session, name):
        raise E.DuplicateObject(f'type "{name}" already exists')
    oid = _new_oid(storage, database, name)
    _save(storage, database, EnumType(name, oid, labels, [float(i + 1) for i in range(len(labels))]))
    return Result(None, tag="CREATE TYPE")


def _check_labels(labels: list[str]) -> None:
    seen = set()
    for v in labels:  # (an empty label is one, as in PostgreSQL 15)
        if len(v.encode()) > NAMEDATALEN:
            raise E.InvalidName(f'invalid enum label "{v}"', detail="Labels must be 63 bytes or less.")
        if v in seen:
            raise E.UniqueViolation(f'enum label "{v}" used more than once')
        seen.add(v)


def _is_builtin(name: str) -> bool:
    return name in pgt.BY_NAME


def _is_table(session: SqlSession, name: str) -> bool:
    """A table's row type has the table's name (pg_type), so a type cannot take it."""
    return any(m.name == name for m in session.storage.tables(session.database))


def _new_oid(storage, database: str, name: str) -> int:
    from sql.pgcatalog_model import hashed_oid

    taken = {t.oid for t in types_of(storage, database).values()}
    oid = hashed_oid(database, "enum", name)
    oid -= oid % 2  # (the type and its array: oid, oid + 1)
    while oid in taken or oid + 1 in taken:
        oid += 2
    return oid


def _drop(session: SqlSession, toks: list[tokens.Token]) -> Result:
    words = [t.text.upper() for t in toks]
    exists = words[:2] == ["IF", "EXISTS"]
    if exists:
        toks, words = toks[2:], words[2:]
    cascade = bool(words) and words[-1] == "CASCADE"
    if words and words[-1] in ("CASCADE", "RESTRICT"):
        toks = toks[:-1]
    names = [_name(t) for t in toks if t.token_type != tokens.TokenType.COMMA]
    names = [n for n in names if n.lower() != "public" and n != "."]
    storage, database = session.storage, session.database
    known = types_of(storage, database)
    dropping = []
    for name in names:
        t = known.get(name)
        if t is None:
            if exists:
                session.notice(E.Notice_(f'type "{name}" does not exist, skipping'))
                continue
            raise E.UndefinedObject(f'type "{name}" does not exist')
        used = users(storage, database, t.oid)
        if used and not cascade:
            meta, col = used[0]
            raise E.DependentObjectsStillExist(
                f"cannot drop type {name} because other objects depend on it",
                detail=f"column {col} of table {meta.name} depends on type {name}",
                hint="Use DROP ... CASCADE to drop the dependent objects too.",
            )
        if used:
            raise E.FeatureNotSupported(
                f"DROP TYPE {name} CASCADE would drop columns that use it: dropping a tag column is not "
                "supported"
            )
        dropping.append(t)
    db_id = storage.catalog.database(database).id
    for t in dropping:
        storage.catalog.set_meta(_key(database, t.name), None)
        for oid in (t.oid, t.oid + 1):  # (its and its array's descriptions: sql/comments.py)
            storage.catalog.drop_comments(db_id, "type", str(oid))
    return Result(None, tag="DROP TYPE")


def _string(tok: tokens.Token | None) -> str:
    if tok is None or tok.token_type != tokens.TokenType.STRING:
        near = "end of input" if tok is None else f'"{tok.text}"'
        raise E.SyntaxError_(f"syntax error at or near {near}" if tok else "syntax error at end of input")
    return tok.text


def _alter(session: SqlSession, toks: list[tokens.Token]) -> Result:
    if not toks:
        raise E.SyntaxError_("syntax error at end of input")
    i = 0
    if len(toks) > 2 and toks[0].text.lower() == "public" and toks[1].text == ".":
        i = 2
    name = _name(toks[i])
    rest = toks[i + 1 :]
    words = [t.text.upper() for t in rest]
    storage, database = session.storage, session.database
    t = types_of(storage, database).get(name)
    if t is None:
        raise E.UndefinedObject(f'type "{name}" does not exist')

    def at(k: int) -> tokens.Token | None:
        return rest[k] if k < len(rest) else None

    if words[:2] == ["ADD", "VALUE"]:
        k = 2
        if words[2:5] == ["IF", "NOT", "EXISTS"]:
            k = 5
        label = _string(at(k))
        where, neighbour = None, None
        if k + 1 < len(words):
            where = words[k + 1]
            if where not in ("BEFORE", "AFTER"):
                raise E.SyntaxError_(f'syntax error at or near "{rest[k + 1].text}"')
            neighbour = _string(at(k + 2))
        if label in t.labels:
            if k == 5:
                session.notice(E.ObjectExistsSkipping(f'enum label "{label}" already exists, skipping'))
                return Result(None, tag="ALTER TYPE")
            raise E.DuplicateObject(f'enum label "{label}" already exists')
        _check_labels([label])
        _add(t, label, where, neighbour)
    elif words[:2] == ["RENAME", "VALUE"]:
        old = _string(at(2))
        if words[3:4] != ["TO"]:
            raise E.SyntaxError_(
                "syntax error at or near " + (f'"{rest[3].text}"' if at(3) else "end of input")
            )
        new = _string(at(4))
        if old not in t.labels:
            raise E.InvalidParameterValue(f'"{old}" is not an existing enum label')
        if new in t.labels:
            raise E.DuplicateObject(f'enum label "{new}" already exists')
        _check_labels([new])
        t.labels[t.labels.index(old)] = new
        _rename_values(session, t, old, new)
    elif words[:2] == ["RENAME", "TO"] and at(2) is not None:
        new_name = _name(rest[2])
        if new_name in types_of(storage, database) or _is_builtin(new_name) or _is_table(session, new_name):
            raise E.DuplicateObject(f'type "{new_name}" already exists')
        storage.catalog.set_meta(_key(database, t.name), None)
        t.name = new_name
    elif words[:2] == ["OWNER", "TO"] and at(2) is not None and len(words) == 3:
        from sql.roles import unchanged_owner

        unchanged_owner(session, _name(rest[2]), "a type")
        return Result(None, tag="ALTER TYPE")
    else:
        raise E.FeatureNotSupported(f"ALTER TYPE {' '.join(w.lower() for w in words[:2])} is not supported")
    _save(storage, database, t)
    _sync(storage, database, t)
    return Result(None, tag="ALTER TYPE")


def _add(t: EnumType, label: str, where: str | None, neighbour: str | None) -> None:
    """Insert ``label`` with PostgreSQL's sort order (AddEnumLabel): after the last one, max + 1;
    before the first, its order - 1; between two, the midpoint (renumbering 1..n when float4 cannot
    tell it from a neighbour)."""
    import numpy as np

    if where is None:
        t.labels.append(label)
        t.orders.append((t.orders[-1] + 1) if t.orders else 1.0)
        return
    if neighbour not in t.labels:
        raise E.InvalidParameterValue(f'"{neighbour}" is not an existing enum label')
    n = t.labels.index(neighbour)
    at = n if where == "BEFORE" else n + 1
    if at == 0:
        order = t.orders[0] - 1
    elif at == len(t.labels):
        order = t.orders[-1] + 1
    else:
        lo, hi = t.orders[at - 1], t.orders[at]
        order = float(np.float32((lo + hi) / 2))
        if order in (lo, hi):
            t.orders = [float(i + 1) for i in range(len(t.orders))]
            lo, hi = t.orders[at - 1], t.orders[at]
            order = float(np.float32((lo + hi) / 2))
    t.labels.insert(at, label)
    t.orders.insert(at, order)


def _rename_values(session: SqlSession, t: EnumType, old: str, new: str) -> None:
    """The rows that hold ``old`` in columns of ``t`` hold ``new`` now (they are stored as text)."""
    for meta, col in users(session.storage, session.database, t.oid):
        q = exp.to_identifier(col, quoted=True).sql("postgres")
        tbl = exp.to_identifier(meta.name, quoted=True).sql("postgres")
        rp = meta.rp
        if rp != session.storage.catalog.database(session.database).default_rp:
            tbl = exp.to_identifier(rp, quoted=True).sql("postgres") + "." + tbl
        lit = "'" + old.replace("'", "''") + "'"
        # (the new label is not valid for the table yet: its options still hold the old labels)
        opts = dict(meta.options)
        opts[OPTION] = {**opts[OPTION], col: {**opts[OPTION][col], "labels": [*t.labels, old]}}
        session.storage.catalog.set_table_options(meta.id, meta.time_column, opts)
        session.storage.invalidate_tables()
        from sql.dml import update
        from sql.parse import parse

        update(session, parse(f"UPDATE {tbl} SET {q} = {_lit(new)} WHERE {q} = {lit}"), [])


def _lit(v: str) -> str:
    return "'" + v.replace("'", "''") + "'"


# -- reads -----------------------------------------------------------------------------------------
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ, exp.NullSafeNEQ)


def read_in_order(tree: exp.Expression, scans: list[tuple[str, TableMeta, list[str]]]) -> None:
    """Make DuckDB read the enum columns of the registered scans (name, table, columns read) as
    ``ENUM(labels)``, so ORDER BY, comparisons and min/max follow the labels' order: each reference
    becomes ``(SELECT * REPLACE (CAST(c AS ENUM(...)) AS c) FROM scan) AS alias``. A string literal
    or parameter compared with such a column is cast to its type, as PostgreSQL resolves an unknown
    literal to the column's type (22P02 for a literal that is no label)."""
    by_scan = {}
    for name, meta, wanted in scans:
        options = meta.options.get(OPTION) or {}
        cols = {c: options[c]["labels"] for c in wanted if c in options}
        if cols:
            by_scan[name] = (meta, cols)
    if not by_scan:
        return
    refs = [t for t in tree.find_all(exp.Table) if not t.db and t.name in by_scan]
    by_alias = {t.alias_or_name: by_scan[t.name][1] for t in refs}
    # an unqualified name is an enum column's when no other scan has a plain column of that name
    others = {c for name, _meta, wanted in scans for c in wanted if c not in by_scan.get(name, (None, {}))[1]}
    names = {c: labels for cols in by_alias.values() for c, labels in cols.items() if c not in others}

    def labels_of(node: exp.Expression) -> list[str] | None:
        if not isinstance(node, exp.Column):
            return None
        if node.table:
            return by_alias.get(node.table, {}).get(node.name)
        return names.get(node.name)

    def typed(value: exp.Expression, labels: list[str], column: exp.Column) -> exp.Expression:
        if isinstance(value, exp.Literal) and value.is_string:
            if value.this not in labels:
                option = _option_named(by_scan, column.name, labels)
                raise E.InvalidTextRepresentation(f'invalid input value for enum {option}: "{value.this}"')
        elif not isinstance(value, exp.Parameter | exp.Placeholder):
            return value
        return exp.Cast(this=value, to=exp.DataType.build(duck_type(labels), dialect="duckdb"))

    for node in list(tree.find_all(*_COMPARISONS, exp.In, exp.Between)):
        if isinstance(node, _COMPARISONS):
            for col, other in ((node.this, "expression"), (node.expression, "this")):
                labels = labels_of(col)
                if labels is not None:
                    node.set(other, typed(node.args[other], labels, col))
        else:
            labels = labels_of(node.this)
            if labels is None:
                continue
            if isinstance(node, exp.In):
                node.set("expressions", [typed(v, labels, node.this) for v in node.expressions])
            else:
                node.set("low", typed(node.args["low"], labels, node.this))
                node.set("high", typed(node.args["high"], labels, node.this))
    for t in refs:
        cols = by_scan[t.name][1]
        replace = ", ".join(
            f"CAST({_ident(c)} AS {duck_type(labels)}) AS {_ident(c)}" for c, labels in cols.items()
        )
        body = exp.maybe_parse(f"SELECT * REPLACE ({replace}) FROM {_ident(t.name)}", dialect="duckdb")
        t.replace(
            exp.Subquery(
                this=body,
                alias=exp.TableAlias(this=exp.to_identifier(t.alias_or_name)),
                joins=t.args.get("joins"),
            )
        )


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _option_named(by_scan: dict, column: str, labels: list[str]) -> str:
    for meta, cols in by_scan.values():
        if cols.get(column) == labels:
            return meta.options[OPTION][column]["name"]
    return column
