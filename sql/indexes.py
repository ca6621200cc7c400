"""Indexes: ``CREATE [UNIQUE] INDEX``, ``DROP INDEX``, ``ALTER INDEX`` and what the catalog shows of them.

Storage indexes every tag (the series index) and keeps each series sorted by time, so an index adds
no access path of its own. What clients, ORMs and migration tools need of an index is that it is an
object of the catalog, as in PostgreSQL: named (PostgreSQL's default name when none is given:
``<table>_<columns>_idx``, numbered when taken), listed (pg_class relkind ``i``, pg_index,
pg_indexes, psql's ``\\d`` and ``\\di``, pg_get_indexdef, pg_dump), renamed, and dropped, with
PostgreSQL's errors: 42P07 for a name any relation of the schema has, 42704 for DROP INDEX of none,
42809 for a table named, 2BP01 for the index of a PRIMARY KEY or UNIQUE constraint (dropped with its
constraint). Alembic's and Django's autogenerators compare the indexes they declared with these.

An index is kept in its table's options (``indexes``: name, UNIQUE, method, key columns or
expressions with their order, INCLUDE columns, WHERE), so it goes with the table (DROP TABLE), follows
a renamed column and goes with a dropped one, as PostgreSQL's does. What it does to storage, made
when the table holds no rows yet: its text-like, integer and uuid columns become tags (TSBS indexes
``tags_id``); a UNIQUE index on plain columns makes them a key (``keys``), enforced as a UNIQUE
constraint's and inferred by ON CONFLICT (dropping the index drops that key). The indexes of PRIMARY
KEY and UNIQUE constraints are the constraints' own (sql/pgcatalog_model.py lists them); ``ALTER INDEX
... RENAME`` of one renames the constraint too, as in PostgreSQL (kept in ``key_names``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlglot import exp

from sql import errors as E
from sql import types as pgt
from sql.constraints import key_name
from sql.session import Result

if TYPE_CHECKING:
    from columnar.catalog import TableMeta
    from sql.engine import SqlSession

OPTION = "indexes"  # table option: the CREATE INDEX definitions, in creation order
KEY_NAMES = "key_names"  # table option: a constraint's index renamed ("a,b" -> its name)
NAME_MAX = 63  # NAMEDATALEN - 1
_TAGGABLE = {"text", "varchar", "bpchar", "name", "int2", "int4", "int8", "uuid"}
# PostgreSQL 15's index access methods: their pg_am OIDs, by name
INDEX_AMS = {"btree": 403, "hash": 405, "gist": 783, "gin": 2742, "spgist": 4000, "brin": 3580}
_ON_ONLY = re.compile(r"(\bON\s+)ONLY\s+", re.IGNORECASE)


def is_statement(sql: str) -> str | None:
    """``DROP INDEX`` / ``ALTER INDEX``: its tag; else None (CREATE INDEX is parsed by sqlglot)."""
    words = sql.split(None, 2)
    if len(words) >= 2 and words[1].upper() == "INDEX" and words[0].upper() in ("DROP", "ALTER"):
        return f"{words[0].upper()} INDEX"
    return None


def normalised_create(sql: str) -> str:
    """CREATE INDEX's text as sqlglot reads it: ``ON ONLY t`` (no partitions here) is ``ON t``."""
    return _ON_ONLY.sub(r"\1", sql, count=1)


# ------------------------------------------------------------------ finding indexes by name


@dataclass
class Found:
    meta: TableMeta
    name: str
    spec: dict | None  # a CREATE INDEX definition; None: the index of a key constraint
    key: list[str] | None = None  # the constraint's columns


def _schema_rp(session: SqlSession, schema: str | None) -> str:
    """The retention policy that holds schema ``schema`` (None or public: the default one)."""
    rp = None if schema in (None, "", "public") else schema
    try:
        return session.storage.catalog.retention_policy(session.database, rp).name
    except Exception:  # (StorageError: no such schema)
        raise E.InvalidSchemaName(f'schema "{schema}" does not exist') from None


def made_keys(meta: TableMeta) -> set[tuple[str, ...]]:
    """The table's keys a CREATE UNIQUE INDEX made (listed as that index, not as a constraint's)."""
    return {tuple(s["key"]) for s in meta.options.get(OPTION) or [] if s.get("key")}


def _key_indexes(meta: TableMeta) -> list[tuple[str, list[str]]]:
    """(name, columns) of the constraint indexes: the keys no CREATE UNIQUE INDEX made."""
    made = made_keys(meta)
    return [
        (key_name(meta, list(k)), list(k))
        for k in meta.options.get("keys") or []
        if k and tuple(k) not in made
    ]


def in_schema(session: SqlSession, schema: str | None) -> list[Found]:
    rp = _schema_rp(session, schema)
    out: list[Found] = []
    for meta in session.storage.tables(session.database, rp):
        out.extend(Found(meta, name, None, key) for name, key in _key_indexes(meta))
        out.extend(Found(meta, s["name"], s) for s in meta.options.get(OPTION) or [])
    return out


def find(session: SqlSession, table: exp.Table) -> Found | None:
    return next((f for f in in_schema(session, table.db or None) if f.name == table.name), None)


def name_taken(session: SqlSession, schema: str | None, name: str) -> bool:
    """Whether an index of the schema has ``name`` (tables, views and sequences share its namespace)."""
    return any(f.name == name for f in in_schema(session, schema))


def relation_taken(session: SqlSession, schema: str | None, name: str) -> bool:
    from sql.sequences import _relation_exists  # noqa: PLC2701  (the one namespace of relations)

    return _relation_exists(session, schema or "public", name)


# ------------------------------------------------------------------ CREATE INDEX


def _column_spec(ordered: exp.Expression, meta: TableMeta) -> dict:
    desc = bool(ordered.args.get("desc")) if isinstance(ordered, exp.Ordered) else False
    nulls_first = ordered.args.get("nulls_first") if isinstance(ordered, exp.Ordered) else None
    this = ordered.this if isinstance(ordered, exp.Ordered) else ordered
    while isinstance(this, exp.Paren):
        this = this.this
    spec: dict = {"desc": desc}
    # sqlglot sets nulls_first to the default when none is written: keep only a non-default order
    if nulls_first is not None and bool(nulls_first) != desc:
        spec["nulls_first"] = bool(nulls_first)
    if isinstance(this, exp.Column) and not this.table:
        if meta.column(this.name) is None:
            raise E.UndefinedColumn(f'column "{this.name}" does not exist')
        spec["column"] = this.name
    else:
        for c in this.find_all(exp.Column):
            if meta.column(c.name) is None:
                raise E.UndefinedColumn(f'column "{c.name}" does not exist')
        spec["expr"] = _text(this)
    return spec


def _text(e: exp.Expression) -> str:
    """An expression's text as stored and shown (function names in lower case, as PostgreSQL prints)."""
    return e.sql("postgres", normalize_functions="lower")


# storage parameters of PostgreSQL's index methods, accepted and shown (storage has no use for them)
PARAMETERS = frozenset(
    "fillfactor deduplicate_items fastupdate gin_pending_list_limit buffering pages_per_range "
    "autosummarize".split()
)


def _parameters(given: dict) -> dict[str, str]:
    out = {}
    for k, v in given.items():
        if k not in PARAMETERS:
            raise E.InvalidParameterValue(f'unrecognized parameter "{k}"')
        text = v.name if isinstance(v, exp.Literal | exp.Var | exp.Identifier) else (v.sql() if v else "true")
        out[k] = text.lower() if isinstance(v, exp.Var | exp.Identifier | exp.Boolean) else text
    return out


def default_name(table: str, parts: list[str], taken) -> str:
    """PostgreSQL's name for an unnamed index: ``<table>_<col>_<col>_idx`` (``expr`` for an
    expression), both parts shortened to fit 63 bytes (the longer first), then ``idx1``, ``idx2`` ...
    while ``taken(name)``."""
    addition = "_".join(parts)
    k = 0
    while True:
        label = "idx" if k == 0 else f"idx{k}"
        name1, name2 = table, addition
        avail = NAME_MAX - len(label) - 1 - (1 if name2 else 0)
        while len(name1.encode()) + len(name2.encode()) > avail:
            if len(name1) > len(name2):
                name1 = name1[:-1]
            else:
                name2 = name2[:-1]
        name = f"{name1}_{name2}_{label}" if name2 else f"{name1}_{label}"
        if not taken(name):
            return name
        k += 1


def create(session: SqlSession, tree: exp.Create) -> Result:
    from sql.binder import resolve_table

    storage = session.storage
    index = tree.this
    table = index.args.get("table")
    params = index.args.get("params")
    if not isinstance(table, exp.Table) or params is None:
        raise E.SyntaxError_("syntax error in CREATE INDEX")
    if tree.args.get("concurrently") and session.transaction_status != "I":
        raise E.ActiveSqlTransaction("CREATE INDEX CONCURRENTLY cannot run inside a transaction block")
    _rp, meta = resolve_table(storage, session.database, table)
    columns = [_column_spec(c, meta) for c in params.args.get("columns") or []]
    if not columns:
        raise E.SyntaxError_('syntax error at or near ")"')
    include = [c.name for c in params.args.get("include") or []]
    for n in include:
        if meta.column(n) is None:
            raise E.UndefinedColumn(f'column "{n}" does not exist')
    where = params.args.get("where")
    using = params.args.get("using")
    schema = table.db or None
    unique = bool(tree.args.get("unique"))
    name = index.name if isinstance(index.this, exp.Identifier) else ""
    if name and relation_taken(session, schema, name):
        if tree.args.get("exists"):
            session.notice(E.ExistsSkipping(f'relation "{name}" already exists, skipping'))
            return Result(None, tag="CREATE INDEX")
        raise E.DuplicateTable(f'relation "{name}" already exists')
    if not name:
        parts = [c.get("column") or "expr" for c in columns]
        name = default_name(meta.name, parts, lambda n: relation_taken(session, schema, n))
    method = (using.name if using else "btree").lower()
    if method not in INDEX_AMS:
        raise E.UndefinedObject(f'access method "{method}" does not exist')
    if unique and method != "btree":
        raise E.FeatureNotSupported(f'access method "{method}" does not support unique indexes')
    spec: dict = {"name": name, "unique": unique, "method": method}
    spec["columns"] = columns
    if include:
        spec["include"] = include
    with_ = params.args.get("with_storage")
    if isinstance(with_, list) and with_:
        spec["with"] = _parameters({p.name.lower(): p.args.get("value") for p in with_})
    if where is not None:
        cond = where.this
        while isinstance(cond, exp.Paren):  # (pg_dump writes WHERE (...): kept once, not twice)
            cond = cond.this
        spec["where"] = _text(cond)
    plain = [c["column"] for c in columns if "column" in c]
    keys = [list(k) for k in meta.options.get("keys") or []]
    if unique and where is None and len(plain) == len(columns) and plain not in keys:
        spec["key"] = plain  # ON CONFLICT infers it; enforced as a UNIQUE constraint's columns
    _store(session, meta, spec)
    return Result(None, tag="CREATE INDEX")


def add_time_index(
    session: SqlSession, schema: str | None, meta: TableMeta, options: dict, time: str
) -> None:
    """create_hypertable's default index, as TimescaleDB makes it: ``<table>_<time>_idx`` on (time
    DESC), unless an index of the table already starts with the time column (into ``options``)."""
    firsts = [k[0] for k in options.get("keys") or [] if k]
    firsts += [s["columns"][0].get("column") for s in options.get(OPTION) or []]
    if time in firsts:
        return
    name = default_name(meta.name, [time], lambda n: relation_taken(session, schema, n))
    spec = {"name": name, "unique": False, "method": "btree", "columns": [{"desc": True, "column": time}]}
    options[OPTION] = [*(options.get(OPTION) or []), spec]


def _store(session: SqlSession, meta: TableMeta, spec: dict) -> None:
    storage = session.storage
    opts = json.loads(json.dumps(meta.options))
    opts[OPTION] = [*(opts.get(OPTION) or []), spec]
    if spec.get("key"):
        opts["keys"] = [*(opts.get("keys") or []), spec["key"]]
    storage.catalog.set_table_options(meta.id, meta.time_column, opts)
    storage.invalidate_tables()
    meta = storage.catalog.table_by_id(meta.id)
    empty = not any(s.table_stats(meta.id, meta.name).holds for s in storage.shards(session.database))
    if not (empty and meta.options.get("sql")):
        return
    changed = False
    for c in spec["columns"]:
        col = meta.column(c.get("column", ""))
        if col is not None and col.kind == "field" and pgt.lookup(col.pg_type or "text").name in _TAGGABLE:
            storage.catalog.set_column_kind(meta.id, col.name, "tag", None)
            changed = True
    if changed:
        storage.invalidate_tables()


# ------------------------------------------------------------------ DROP INDEX / ALTER INDEX


def _tokens(sql: str):
    from sql.maintenance import _Tokens  # noqa: PLC2701  (the one tokenizer of hand-parsed statements)

    return _Tokens(sql)


def _existing(session: SqlSession, table: exp.Table, *, if_exists: bool, alter: bool = False) -> Found | None:
    """The index ``table`` names; for none, DROP INDEX's errors (42809 for a table, 42704) or ALTER
    INDEX's (42P01), or with IF EXISTS their NOTICE and None."""
    found = find(session, table)
    if found is not None:
        return found
    shown = f"{table.db}.{table.name}" if table.db else table.name
    if not alter and relation_taken(session, table.db or None, table.name):
        raise E.WrongObjectType(f'"{table.name}" is not an index', hint="Use DROP TABLE to remove a table.")
    kind = "relation" if alter else "index"
    if if_exists:
        session.notice(E.Notice_(f'{kind} "{shown}" does not exist, skipping'))
        return None
    if alter:
        raise E.UndefinedTable(f'relation "{shown}" does not exist')
    raise E.UndefinedObject(f'index "{shown}" does not exist')


def _parse_drop(sql: str) -> tuple[bool, bool, list[exp.Table]]:
    """DROP INDEX's (CONCURRENTLY, IF EXISTS, names)."""
    toks = _tokens(sql)
    toks.next_word(), toks.next_word()  # DROP INDEX
    concurrently = toks.peek_word() == "CONCURRENTLY"
    if concurrently:
        toks.next_word()
    if_exists = toks.peek_word() == "IF"
    if if_exists:
        toks.next_word()
        if toks.next_word() != "EXISTS":
            raise toks.syntax_error(1)
    names = [toks.table()]
    while toks.peek() == ",":
        toks.take()
        names.append(toks.table())
    if toks.peek_word() in ("CASCADE", "RESTRICT"):
        toks.next_word()
    toks.end()
    return concurrently, if_exists, names


def _parse_alter(sql: str) -> tuple[bool, exp.Table | None, str | None, tuple[str, list] | None]:
    """ALTER INDEX's (IF EXISTS, index: None for ALL IN TABLESPACE, new name for RENAME TO, storage
    parameters for SET (...) / RESET (...): ("set", [(name, value)]) / ("reset", [name]))."""
    toks = _tokens(sql)
    toks.next_word(), toks.next_word()  # ALTER INDEX
    if toks.peek_word() == "ALL":
        return False, None, None, None
    if_exists = toks.peek_word() == "IF"
    if if_exists:
        toks.next_word()
        if toks.next_word() != "EXISTS":
            raise toks.syntax_error(1)
    table = toks.table()
    action = toks.next_word()
    new = None
    params: tuple[str, list] | None = None
    if action == "RENAME":
        if toks.peek_word() != "TO":
            raise E.FeatureNotSupported("ALTER INDEX ... RENAME COLUMN is not supported")
        toks.next_word()
        new = toks.name()
        toks.end()
    elif action in ("SET", "RESET") and toks.peek() == "(":
        toks.take()
        items: list = []
        while True:
            name = toks.name()
            value = None
            if action == "SET" and toks.peek() == "=":
                toks.take()
                value = toks.take().strip("'")
            items.append((name, value) if action == "SET" else name)
            if toks.peek() == ",":
                toks.take()
                continue
            if toks.take() != ")":
                raise toks.syntax_error(1)
            break
        toks.end()
        params = (action.lower(), items)
    elif action not in ("SET", "ALTER", "ATTACH", "NO", "DEPENDS"):
        raise toks.syntax_error(1)
    return if_exists, table, new, params


def tables_named(session: SqlSession, sql: str) -> list[exp.Table]:
    """The tables of the indexes a DROP / ALTER INDEX names (for its privilege check: their owner's)."""
    names = _parse_drop(sql)[2] if sql.split(None, 1)[0].upper() == "DROP" else [_parse_alter(sql)[1]]
    out = []
    for t in names:
        found = find(session, t) if t is not None else None
        if found is not None:
            out.append(
                exp.Table(this=exp.to_identifier(found.meta.name), db=t.db and exp.to_identifier(t.db))
            )
    return out


def drop(session: SqlSession, sql: str) -> Result:
    """``DROP INDEX [CONCURRENTLY] [IF EXISTS] name [, ...] [CASCADE | RESTRICT]``: every name is
    checked before any index goes."""
    concurrently, if_exists, names = _parse_drop(sql)
    if concurrently and len(names) > 1:
        raise E.FeatureNotSupported("DROP INDEX CONCURRENTLY does not support dropping multiple objects")
    if concurrently and session.transaction_status != "I":
        raise E.ActiveSqlTransaction("DROP INDEX CONCURRENTLY cannot run inside a transaction block")
    found = [f for f in (_existing(session, t, if_exists=if_exists) for t in names) if f is not None]
    for f in found:
        if f.spec is None:
            raise E.DependentObjectsStillExist(
                f"cannot drop index {f.name} because constraint {f.name} on table {f.meta.name} requires it",
                hint=f"You can drop constraint {f.name} on table {f.meta.name} instead.",
            )
    for f in found:
        _change(session, f.meta, _without_index, f.name)
        _move_comment(session, f.meta, f.name, None)
    return Result(None, tag="DROP INDEX")


def _move_comment(session: SqlSession, meta: TableMeta, old: str, new: str | None) -> None:
    """An index's description (COMMENT ON INDEX, kept by its name: sql/comments.py) under its new name,
    or gone with it."""
    catalog = session.storage.catalog
    database_id = catalog.database(session.database).id
    text = catalog.comments(database_id).get(("index", str(meta.id), f"index:{old}"))
    if text is None:
        return
    catalog.set_comment(database_id, "index", str(meta.id), f"index:{old}", None)
    if new is not None:
        catalog.set_comment(database_id, "index", str(meta.id), f"index:{new}", text)


def _without_index(options: dict, name: str) -> None:
    kept, gone = [], []
    for s in options.get(OPTION) or []:
        (gone if s["name"] == name else kept).append(s)
    options[OPTION] = kept
    for s in gone:
        if s.get("key"):
            options["keys"] = [k for k in options.get("keys") or [] if list(k) != list(s["key"])]


def _change(session: SqlSession, meta: TableMeta, change, *args) -> None:
    from sql.ddl import _set_options  # noqa: PLC2701  (ddl imports this module)

    _set_options(session.storage, meta.id, change, *args)


def alter(session: SqlSession, sql: str) -> Result:
    """``ALTER INDEX [IF EXISTS] name RENAME TO new``; ``SET TABLESPACE``, ``SET (...)``, ``RESET
    (...)``, ``ALTER [COLUMN] n SET STATISTICS n`` and ``ALL IN TABLESPACE`` are accepted (storage
    has no such settings) once the index is found."""
    if_exists, table, new, params = _parse_alter(sql)
    if table is None:
        return Result(None, tag="ALTER INDEX")
    if (
        new is not None
        and find(session, table) is None
        and relation_taken(session, table.db or None, table.name)
    ):
        # another relation: PostgreSQL renames it all the same (ALTER INDEX's RENAME takes any)
        renamed = exp.Table(this=exp.to_identifier(new))
        session.execute(
            session.prepare(
                exp.Alter(this=table, kind="TABLE", actions=[exp.AlterRename(this=renamed)]).sql("postgres"),
                [],
            ),
            [],
        )
        return Result(None, tag="ALTER INDEX")
    found = _existing(session, table, if_exists=if_exists, alter=True)
    if found is None:
        return Result(None, tag="ALTER INDEX")
    if params is not None:
        if params[0] == "set":
            given = _parameters({k: exp.Var(this=v) if v is not None else None for k, v in params[1]})
        else:
            for k in params[1]:
                if k not in PARAMETERS:
                    raise E.InvalidParameterValue(f'unrecognized parameter "{k}"')
            given = {k: None for k in params[1]}
        if found.spec is not None:
            _change(session, found.meta, _with_parameters, found.name, given)
        return Result(None, tag="ALTER INDEX")
    if new is None:
        return Result(None, tag="ALTER INDEX")
    schema = table.db or None
    if new != found.name and relation_taken(session, schema, new):
        raise E.DuplicateTable(f'relation "{new}" already exists')
    if found.spec is not None:
        _change(session, found.meta, _index_renamed, found.name, new)
        _move_comment(session, found.meta, found.name, new)
    else:
        assert found.key is not None
        _change(session, found.meta, _key_renamed, found.key, new)
    return Result(None, tag="ALTER INDEX")


def _with_parameters(options: dict, name: str, given: dict) -> None:
    for s in options.get(OPTION) or []:
        if s["name"] == name:
            merged = {**(s.get("with") or {}), **given}
            s["with"] = {k: v for k, v in merged.items() if v is not None}
            if not s["with"]:
                s.pop("with")


def _index_renamed(options: dict, old: str, new: str) -> None:
    for s in options.get(OPTION) or []:
        if s["name"] == old:
            s["name"] = new


def _key_renamed(options: dict, key: list[str], new: str) -> None:
    options.setdefault(KEY_NAMES, {})[",".join(key)] = new


# ------------------------------------------------------------------ columns renamed or dropped


def column_renamed(options: dict, old: str, new: str | None) -> None:
    """The indexes of a table whose column ``old`` is renamed ``new`` (None: dropped; its indexes go,
    as PostgreSQL drops the indexes of a dropped column); the constraint index names keyed by it too."""
    kept = []
    for s in options.get(OPTION) or []:
        used = any(c.get("column") == old for c in s["columns"]) or old in (s.get("include") or [])
        texts = [c["expr"] for c in s["columns"] if "expr" in c] + ([s["where"]] if s.get("where") else [])
        used_in_text = any(_names_column(t, old) for t in texts)
        if new is None:
            if not (used or used_in_text):
                kept.append(s)
            continue
        for c in s["columns"]:
            if c.get("column") == old:
                c["column"] = new
            elif "expr" in c:
                c["expr"] = _with_column_renamed(c["expr"], old, new)
        s["include"] = [new if n == old else n for n in s.get("include") or []] or None
        if s["include"] is None:
            s.pop("include")
        if s.get("where"):
            s["where"] = _with_column_renamed(s["where"], old, new)
        if s.get("key"):
            s["key"] = [new if n == old else n for n in s["key"]]
        kept.append(s)
    if OPTION in options:
        options[OPTION] = kept
    names = options.get(KEY_NAMES)
    if isinstance(names, dict):
        renamed = {}
        for cols, name in names.items():
            parts = cols.split(",")
            if old in parts:
                if new is None:
                    continue
                parts = [new if p == old else p for p in parts]
            renamed[",".join(parts)] = name
        options[KEY_NAMES] = renamed


def _names_column(text: str, name: str) -> bool:
    return any(c.name == name for c in exp.maybe_parse(text, dialect="postgres").find_all(exp.Column))


def _with_column_renamed(text: str, old: str, new: str) -> str:
    tree = exp.maybe_parse(text, dialect="postgres")
    for c in tree.find_all(exp.Column):
        if c.name == old:
            c.set("this", exp.to_identifier(new))
    return _text(tree)


# ------------------------------------------------------------------ definitions, as PostgreSQL prints them


def column_text(c: dict, quote) -> str:
    """One key column of pg_get_indexdef: a column's name, or an expression (a function call as it
    is, anything else in parentheses, as PostgreSQL deparses them)."""
    if "column" in c:
        return quote(c["column"])
    tree = exp.maybe_parse(c["expr"], dialect="postgres")
    call = isinstance(tree, exp.Func) and not isinstance(tree, exp.Cast | exp.Binary | exp.Case | exp.If)
    return c["expr"] if call else f"({c['expr']})"


def definition(spec: dict, table: str, quote, pretty: bool = False) -> str:
    """``CREATE [UNIQUE] INDEX name ON table USING method (...) [INCLUDE (...)] [WITH (...)] [WHERE
    (...)]``; ``pretty`` (pg_get_indexdef's third argument) drops the WHERE's parentheses."""
    cols = []
    for c in spec["columns"]:
        text = column_text(c, quote)
        if c.get("desc"):
            text += " DESC"
        if "nulls_first" in c:
            text += " NULLS FIRST" if c["nulls_first"] else " NULLS LAST"
        cols.append(text)
    out = (
        f"CREATE {'UNIQUE ' if spec.get('unique') else ''}INDEX {quote(spec['name'])} ON {table} "
        f"USING {spec.get('method') or 'btree'} ({', '.join(cols)})"
    )
    if spec.get("include"):
        out += f" INCLUDE ({', '.join(quote(n) for n in spec['include'])})"
    if spec.get("with"):
        shown = [f"{k}={v if quote(v) == v else _literal(v)}" for k, v in spec["with"].items()]
        out += f" WITH ({', '.join(shown)})"
    if spec.get("where"):
        out += f" WHERE {spec['where']}" if pretty else f" WHERE ({spec['where']})"
    return out


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def option_bits(c: dict) -> int:
    """pg_index.indoption of a key column: 1 DESC, 2 NULLS FIRST (DESC's default)."""
    desc = bool(c.get("desc"))
    return (1 if desc else 0) | (2 if c.get("nulls_first", desc) else 0)
