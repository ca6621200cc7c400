"""The objects pg_catalog describes, as one statement sees them: schemas, relations, columns, key
indexes, types, functions, roles, extensions (OIDs in sql/pgcatalog.py's docstring).

:class:`Snapshot` reads our catalog lazily, once per statement. The catalog's own relations, builtin
types and functions never change; :class:`Part` splits a snapshot into that constant part (whose
generated rows sql/pgcatalog.py caches) and the part that is ours, so large relations such as
pg_attribute are not rebuilt from scratch for every query.
"""

from __future__ import annotations

import json
import re
import threading
import zlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from sqlglot import exp

from columnar.errors import DatabaseNotFound
from sql import column_defaults, constraints, enums, indexes
from sql import errors as E
from sql import types as pgt
from sql.pgcatalog_builtins import PROCS, TYPES
from sql.pgcatalog_schema import RELATIONS
from sql.roles import Acl, Role
from sql.roles import acls as stored_acls
from sql.roles import roles as stored_roles
from sql.roles import table_key as table_acl_key
from sql.roles import view_key as view_acl_key
from sql.tables import sql_columns
from sql.temp_tables import is_temp_schema

if TYPE_CHECKING:
    from columnar.catalog import DatabaseMeta, TableMeta
    from columnar.shard import TableStats
    from sql.engine import SqlSession

NS_CATALOG, NS_PUBLIC, NS_INFO, NS_TOAST = 11, 2200, 13207, 99
NS_TIMESCALEDB_INFO = 13610  # timescaledb_information (sql/pgcatalog_timescale.py)
SEARCH_PATH = (NS_CATALOG, NS_PUBLIC)
ROLE_SUPERUSER, ROLE_DB_OWNER = 10, 6171
AM_HEAP, AM_BTREE = 2, 403
TABLESPACE_DEFAULT = 1663
COLL_DEFAULT, COLL_C = 100, 950
ENCODING_UTF8 = 6
LANG_INTERNAL, LANG_SQL, LANG_PLPGSQL = 12, 14, 13576
CLASS_PG_CLASS, CLASS_PG_EXTENSION = 1259, 3079
CLASS_PG_NAMESPACE, CLASS_PG_PROC, CLASS_PG_DATABASE = 2615, 1255, 1262
CLASS_PG_TYPE = 1247
TABLE_OID_BASE, TABLE_OID_STRIDE, MAX_KEYS = 16384, 16, 6
DATABASE_OID_BASE = 900_000_000
HASHED_OID_BASE = 1_000_000_000
EXTENSIONS = {  # name -> (oid, schema oid, default version, description)
    "plpgsql": (13577, NS_CATALOG, "1.0", "PL/pgSQL procedural language"),
    "timescaledb": (
        13600,
        NS_PUBLIC,
        "2.14.2",
        "Enables scalable inserts and complex queries for time-series data (Community Edition)",
    ),
    "timescaledb_toolkit": (13601, NS_PUBLIC, "1.18.0", "Library of analytical hyperfunctions"),
    "pg_stat_statements": (
        13602,
        NS_PUBLIC,
        "1.10",
        "track planning and execution statistics of all SQL statements executed",
    ),
}
# Descriptions PostgreSQL 15 ships with (initdb): shown until COMMENT ON replaces or removes them
DEFAULT_SCHEMA_COMMENTS = {
    "pg_catalog": "system catalog schema",
    "pg_toast": "reserved schema for TOAST tables",
    "public": "standard public schema",
}
DEFAULT_DATABASE_COMMENTS = {"postgres": "default administrative connection database"}
# Listed whether or not CREATE EXTENSION ran: time_bucket, first/last and create_hypertable always
# work, and Grafana turns its TimescaleDB query builder on when it finds timescaledb here.
ALWAYS_INSTALLED = ("plpgsql", "timescaledb")


def table_oid(table_id: int) -> int:
    return TABLE_OID_BASE + TABLE_OID_STRIDE * table_id


def database_oid(database_id: int) -> int:
    return DATABASE_OID_BASE + database_id


def hashed_oid(*parts: str) -> int:
    return HASHED_OID_BASE + zlib.crc32(":".join(parts).encode()) % 1_000_000_000


# PostgreSQL 15's keywords that are not "unreserved": quote_ident() quotes them
KEYWORDS = frozenset(
    """all analyse analyze and any array as asc asymmetric authorization between bigint binary bit
    boolean both case cast char character check coalesce collate collation column concurrently constraint
    create cross current_catalog current_date current_role current_schema current_time current_timestamp
    current_user dec decimal default deferrable desc distinct do else end except exists extract false
    fetch float for foreign freeze from full grant greatest group grouping having ilike in initially
    inner inout int integer intersect interval into is isnull join lateral leading least left like limit
    localtime localtimestamp national natural nchar none normalize not notnull null nullif numeric offset
    on only or order out outer overlaps overlay placing position precision primary real references
    returning right row select session_user setof similar smallint some substring symmetric table
    tablesample then time timestamp to trailing treat trim true union unique user using values varchar
    variadic verbose when where window with xmlattributes xmlconcat xmlelement xmlexists xmlforest
    xmlnamespaces xmlparse xmlpi xmlroot xmlserialize xmltable""".split()
)
_PLAIN = re.compile(r"^[a-z_][a-z0-9_]*$")


def quote_ident(name: str) -> str:
    if _PLAIN.match(name) and name not in KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


# -- types ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TypeRow:
    oid: int
    name: str
    len: int
    byval: bool
    typtype: str
    category: str
    preferred: bool
    elem: int
    array: int
    input: str
    modin: str
    align: str
    storage: str
    collation: int
    subscript: str
    namespace: int = NS_CATALOG
    relid: int = 0

    @property
    def is_array(self) -> bool:
        """A true array, as PostgreSQL's format_type tells one (IsTrueArrayType, not plain storage):
        not int2vector / oidvector, which print as such; _record is one (record[])."""
        return self.elem != 0 and self.subscript == "array_subscript_handler" and self.storage != "p"


def _builtin_types() -> list[TypeRow]:
    out = []
    for line in TYPES.strip().split("\n"):
        oid, name, ln, byval, tt, cat, pref, elem, arr, tin, modin, align, storage, coll, sub = line.split()
        out.append(
            TypeRow(
                int(oid),
                name,
                int(ln),
                byval == "t",
                tt,
                cat,
                pref == "t",
                int(elem),
                int(arr),
                tin,
                modin,
                align,
                storage,
                int(coll),
                sub,
            )  # fmt: skip
        )
    return out


BUILTIN_TYPES: list[TypeRow] = _builtin_types()
TYPE_BY_OID: dict[int, TypeRow] = {t.oid: t for t in BUILTIN_TYPES}
TYPE_BY_NAME: dict[str, TypeRow] = {t.name: t for t in BUILTIN_TYPES}
_FORMAT = {"char": '"char"', "timetz": "time with time zone", "any": '"any"', "bpchar": "character"}


def format_name(t: TypeRow) -> str:
    """format_type(oid, NULL) of a builtin type."""
    if t.is_array and t.elem in TYPE_BY_OID:
        return format_name(TYPE_BY_OID[t.elem]) + "[]"
    if t.name in _FORMAT:
        return _FORMAT[t.name]
    known = pgt.BY_NAME.get(t.name)
    return known.sql_name if known is not None and known.oid == t.oid and known.sql_name else t.name


def typmod_of(declared: str, type_name: str) -> int:
    """atttypmod of a declared type: varchar(20) -> 24, numeric(10,2) -> 655366, timestamptz(3) -> 3."""
    base = type_name.removesuffix("[]")
    m = re.search(r"\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)", declared)
    if base in ("varchar", "bpchar"):
        if m:
            return int(m.group(1)) + 4
        return 5 if base == "bpchar" and re.match(r"^\s*(char|character)\s*$", declared) else -1
    if m is None:
        return -1
    if base == "numeric":
        return ((int(m.group(1)) << 16) | int(m.group(2) or 0)) + 4
    if base in ("time", "timetz", "timestamp", "timestamptz"):
        return int(m.group(1))
    return -1


# -- functions -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Proc:
    oid: int
    name: str
    kind: str  # f function, a aggregate, w window
    rettype: int
    argtypes: tuple[int, ...]
    volatile: str = "i"
    strict: bool = False
    retset: bool = False
    variadic: int = 0
    namespace: int = NS_CATALOG
    # a user-defined function's (sql/user_functions.py): its language, body, argument names, texts
    # of its arguments and result, and its CREATE statement (pg_get_functiondef)
    lang: int = 0  # 0: internal (builtins)
    src: str = ""
    argnames: tuple[str, ...] = ()
    arguments: str | None = None
    identity: str | None = None  # its arguments without defaults (pg_get_function_identity_arguments)
    result: str | None = None  # pg_get_function_result
    definition: str | None = None


RECORD_OID = 2249
VOID_OID = 2278  # a procedure's prorettype


def _type_oid(shown: str) -> int:
    """The OID of a type by its format_type name (``integer[]``: the array type's)."""
    t = pgt.lookup(shown.removesuffix("[]"))
    return t.array_oid if shown.endswith("[]") else t.oid


def _builtin_procs() -> list[Proc]:
    out = []
    for line in PROCS.strip().split("\n"):
        oid, name, kind, ret, args, flags = line.split()
        variadic = re.search(r"V(\d+)", flags)
        argtypes = tuple(int(a) for a in args.split(",")) if args != "-" else ()
        out.append(
            Proc(
                int(oid),
                name,
                kind,
                int(ret),
                argtypes,
                flags[0],
                "S" in flags,
                "R" in flags,
                int(variadic.group(1)) if variadic else 0,
            )  # fmt: skip
        )
    return out


# TimescaleDB's functions that tsgres answers, in schema public as the extension installs them
TIMESCALEDB_PROCS = [
    Proc(12001, "time_bucket", "f", 1184, (1186, 1184), strict=True, namespace=NS_PUBLIC),
    Proc(12002, "time_bucket", "f", 1114, (1186, 1114), strict=True, namespace=NS_PUBLIC),
    Proc(12003, "time_bucket", "f", 1082, (1186, 1082), strict=True, namespace=NS_PUBLIC),
    Proc(12004, "time_bucket", "f", 20, (20, 20), strict=True, namespace=NS_PUBLIC),
    Proc(12005, "time_bucket", "f", 23, (23, 23), strict=True, namespace=NS_PUBLIC),
    Proc(12006, "time_bucket", "f", 1184, (1186, 1184, 1184), strict=True, namespace=NS_PUBLIC),
    Proc(12007, "first", "a", 2283, (2283, 2276), namespace=NS_PUBLIC),
    Proc(12008, "last", "a", 2283, (2283, 2276), namespace=NS_PUBLIC),
    Proc(12009, "create_hypertable", "f", 2249, (2205, 19), "v", namespace=NS_PUBLIC),
]
PROCS_ALL: list[Proc] = _builtin_procs() + TIMESCALEDB_PROCS


# -- relations -------------------------------------------------------------------------------------------
@dataclass
class Schema:
    oid: int
    name: str
    owner: int = ROLE_SUPERUSER
    rp: str | None = None  # the retention policy it shows (None: a catalog schema)
    temp: str = ""  # a pg_temp_N: "own" (the session's, searched first), "other" (another session's)


@dataclass
class Attribute:
    name: str
    num: int
    type_oid: int
    typmod: int = -1
    not_null: bool = False
    default: str | None = None  # its DEFAULT as pg_get_expr shows it (sql/column_defaults.py)
    identity: str = ""  # pg_attribute.attidentity: "a" GENERATED ALWAYS, "d" BY DEFAULT AS IDENTITY
    generated: str = ""  # pg_attribute.attgenerated: "s" for a stored generated column (its default
    # is then the generation expression, as pg_attrdef holds it)


@dataclass
class Relation:
    oid: int
    name: str
    schema: Schema
    kind: str  # r table, v view, i index, S sequence
    columns: list[Attribute] = field(default_factory=list)
    meta: TableMeta | None = None  # ours: the storage table
    indexes: list[Index] = field(default_factory=list)
    view_sql: str | None = None
    row_type: int = 0
    checks: list[dict] = field(default_factory=list)  # CHECK constraints (sql/constraints.py)
    foreign_keys: list[dict] = field(default_factory=list)  # sql/foreign_keys.py
    sequence: dict | None = None  # a sequence's state (sql/sequences.py)
    owner_column: tuple[int, int] | None = None  # a sequence's OWNED BY: (table oid, attnum)
    identity_of: str = ""  # a sequence's: its owner column's attidentity (an identity's sequence)
    shadowed: bool = False  # one of the session's temporary tables has its name (searched first)
    am: int = 0  # an index's access method (0: btree)

    @property
    def visible(self) -> bool:
        """Whether its name alone finds it (pg_table_is_visible): on the search path, the session's
        own temporary schema first, as PostgreSQL searches it."""
        return (self.schema.oid in SEARCH_PATH or self.schema.temp == "own") and not self.shadowed

    @property
    def display(self) -> str:
        """regclass output: the name, schema-qualified when not on the search path."""
        return quote_ident(self.name) if self.visible else self.qualified

    @property
    def qualified(self) -> str:
        return quote_ident(self.schema.name) + "." + quote_ident(self.name)


@dataclass
class Index:
    """An index of one of our tables: a PRIMARY KEY's or UNIQUE constraint's (shown as its index and
    its constraint), or one CREATE INDEX made (``spec``: its definition, sql/indexes.py; no
    constraint)."""

    relation: Relation  # the index's own pg_class entry (kind i)
    table: Relation
    keys: list[int]  # attnums in the table (0: an expression)
    primary: bool
    constraint_oid: int | None  # None: no constraint (CREATE INDEX)
    spec: dict | None = None

    @property
    def constraint_name(self) -> str:
        return self.relation.name

    @property
    def unique(self) -> bool:
        return self.spec is None or bool(self.spec.get("unique"))

    def column_names(self) -> list[str]:
        """The key columns' names (an expression's text for an expression)."""
        if self.spec is not None:
            return [c.get("column") or c["expr"] for c in self.spec["columns"]]
        by_num = {a.num: a.name for a in self.table.columns}
        return [by_num[k] for k in self.keys]

    def column_defs(self) -> list[str]:
        """pg_get_indexdef(index, k): each key column (then each INCLUDE column) as it prints."""
        if self.spec is None:
            return [quote_ident(n) for n in self.column_names()]
        keys = [indexes.column_text(c, quote_ident) for c in self.spec["columns"]]
        return keys + [quote_ident(n) for n in self.spec.get("include") or []]

    def comment_key(self) -> str:
        """What a COMMENT ON INDEX is kept under, beside its table's id (sql/comments.py)."""
        return ",".join(self.column_names()) if self.spec is None else "index:" + self.relation.name

    def constraint_def(self) -> str:
        cols = ", ".join(quote_ident(c) for c in self.column_names())
        return f"{'PRIMARY KEY' if self.primary else 'UNIQUE'} ({cols})"

    def index_def(self, pretty: bool = False) -> str:
        """pg_get_indexdef(index [, 0, pretty]): pretty names the table as regclass shows it."""
        table = self.table.display if pretty else self.table.qualified
        if self.spec is not None:
            return indexes.definition(self.spec, table, quote_ident, pretty)
        cols = ", ".join(quote_ident(c) for c in self.column_names())
        name = quote_ident(self.relation.name)
        return f"CREATE UNIQUE INDEX {name} ON {table} USING btree ({cols})"


@dataclass
class Chunk:
    """A time partition (shard) holding rows of one of our tables: a TimescaleDB chunk."""

    table: Relation
    name: str  # _hyper_<table id>_<shard id>_chunk, in schema _timescaledb_internal
    start_ns: int
    end_ns: int
    stats: TableStats

    @property
    def compressed(self) -> bool:
        """Whether TimescaleDB would call it compressed: its hypertable has compression enabled and
        none of its rows wait in memory (chunk files are compressed columnar)."""
        meta = self.table.meta
        return bool(meta is not None and meta.options.get("compress")) and self.stats.mem_rows == 0


CATALOG_SCHEMAS = [
    Schema(NS_CATALOG, "pg_catalog"),
    Schema(NS_TOAST, "pg_toast"),
    Schema(NS_INFO, "information_schema"),
    Schema(NS_TIMESCALEDB_INFO, "timescaledb_information"),
]


def _catalog_relations() -> list[Relation]:
    schemas = {s.name: s for s in CATALOG_SCHEMAS}
    out = []
    for key, (oid, kind, spec) in RELATIONS.items():
        ns, name = key.split(".", 1)
        cols = []
        for i, col in enumerate(spec.split()):
            cname, typ = col.split(":", 1)
            t = TYPE_BY_NAME.get(typ)
            cols.append(Attribute(cname, i + 1, t.oid if t else pgt.TEXT.oid, -1, kind == "r"))
        out.append(Relation(oid, name, schemas[ns], kind, cols))
    return out


CATALOG_RELATIONS = _catalog_relations()


# -- snapshots -------------------------------------------------------------------------------------------
class Snapshot:
    """What our catalog holds for one statement, read on first use."""

    def __init__(self, session: SqlSession) -> None:
        self.session = session
        self.catalog = session.storage.catalog
        self.database = session.database

    @cached_property
    def db(self) -> DatabaseMeta:
        return self.catalog.database(self.database)

    @cached_property
    def databases(self) -> list[DatabaseMeta]:
        return self.catalog.databases()

    @cached_property
    def user_schemas(self) -> list[Schema]:
        """public (the default retention policy) and one schema per other retention policy."""
        out = [Schema(NS_PUBLIC, "public", ROLE_DB_OWNER, self.db.default_rp)]
        own = self.session.temp_schema
        for rp in self.catalog.retention_policies(self.database):
            if rp.name != self.db.default_rp:
                temp = ("own" if rp.name == own else "other") if is_temp_schema(rp.name) else ""
                out.append(Schema(hashed_oid(self.database, rp.name), rp.name, ROLE_SUPERUSER, rp.name, temp))
        return out

    @cached_property
    def schemas(self) -> list[Schema]:
        return CATALOG_SCHEMAS + self.user_schemas

    @cached_property
    def schema_names(self) -> dict[int, str]:
        return {s.oid: s.name for s in self.schemas}

    @cached_property
    def tables(self) -> list[Relation]:
        by_rp = {s.rp: s for s in self.user_schemas}
        return [_table(meta, by_rp[meta.rp]) for meta in self.catalog.tables(self.db.id) if meta.rp in by_rp]

    @cached_property
    def views(self) -> list[Relation]:
        by_name = {s.name: s for s in self.user_schemas}
        out = []
        for key, sql in self.catalog.meta_items(f"view:{self.database}:"):
            _, _, schema_name, name = key.split(":", 3)
            if schema_name in by_name:
                oid = hashed_oid(self.database, schema_name, name)
                out.append(Relation(oid, name, by_name[schema_name], "v", view_sql=sql))
        return out

    @cached_property
    def sequences(self) -> list[Relation]:
        """CREATE SEQUENCE's and SERIAL columns' sequences (sql/sequences.py), relkind S."""
        from sql import sequences as seqs

        by_name = {s.name: s for s in self.user_schemas}
        by_table = {(t.schema.name, t.name): t for t in self.tables}
        out = []
        for key, state in seqs.all_states(self.session):
            _db, schema_name, name = seqs.split_key(self.session, key)
            if schema_name not in by_name:
                continue
            rel = Relation(
                hashed_oid("sequence", self.database, schema_name, name), name, by_name[schema_name], "S"
            )
            rel.columns = [
                Attribute("last_value", 1, 20, -1, True),
                Attribute("log_cnt", 2, 20, -1, True),
                Attribute("is_called", 3, 16, -1, True),
            ]
            rel.sequence = state
            owned = state.get("owned")
            table = by_table.get((schema_name, owned[0])) if owned else None
            col = next((a for a in table.columns if a.name == owned[1]), None) if table else None
            rel.owner_column = (table.oid, col.num) if col is not None else None
            rel.identity_of = col.identity if col is not None else ""
            out.append(rel)
        return out

    @cached_property
    def indexes(self) -> list[Index]:
        return [i for t in self.tables for i in t.indexes]

    @cached_property
    def key_indexes(self) -> list[Index]:
        """The indexes of PRIMARY KEY and UNIQUE constraints (each with its constraint)."""
        return [i for i in self.indexes if i.constraint_oid is not None]

    @cached_property
    def user_relations(self) -> list[Relation]:
        """Ours, in pg_class order: each table then its key indexes, then the views and sequences."""
        out: list[Relation] = []
        for t in self.tables:
            out.append(t)
            out.extend(i.relation for i in t.indexes)
        out += self.views + self.sequences
        temporary = {r.name for r in out if r.schema.temp == "own"}
        if temporary:  # the session's temporary relations hide those of their names in public
            for r in out:
                if r.name in temporary and r.schema.oid == NS_PUBLIC:
                    r.shadowed = True
        return out

    @cached_property
    def relations(self) -> list[Relation]:
        return self.user_relations + CATALOG_RELATIONS

    @cached_property
    def relation_by_oid(self) -> dict[int, Relation]:
        return {r.oid: r for r in self.relations}

    def columns_of(self, rel: Relation) -> list[Attribute]:
        if rel.kind == "v" and not rel.columns and rel.view_sql:
            rel.columns = _view_columns(self, rel)
        return rel.columns

    @cached_property
    def user_types(self) -> list[TypeRow]:
        """The row type of each of our tables, and its array type."""
        out = []
        for t in self.tables:
            common = dict(len=-1, byval=False, preferred=False, modin="-", align="d", storage="x")
            common |= dict(collation=0, namespace=t.schema.oid)
            out.append(
                TypeRow(t.row_type, t.name, typtype="c", category="C", elem=0, array=t.row_type + 1,
                        input="record_in", subscript="-", relid=t.oid, **common)  # type: ignore[arg-type]
            )  # fmt: skip
            out.append(
                TypeRow(t.row_type + 1, "_" + t.name, typtype="b", category="A", elem=t.row_type, array=0,
                        input="array_in", subscript="array_subscript_handler", **common)  # type: ignore[arg-type]
            )  # fmt: skip
        for e in self.enum_types:  # sql/enums.py: as PostgreSQL 15 lists an enum type and its array
            out.append(
                TypeRow(e.oid, e.name, 4, True, "e", "E", False, 0, e.oid + 1, "enum_in", "-", "i", "p", 0,
                        "-", namespace=NS_PUBLIC)
            )  # fmt: skip
            out.append(
                TypeRow(e.oid + 1, "_" + e.name, -1, False, "b", "A", False, e.oid, 0, "array_in", "-", "i",
                        "x", 0, "array_subscript_handler", namespace=NS_PUBLIC)
            )  # fmt: skip
        return out

    @cached_property
    def enum_types(self) -> list[enums.EnumType]:
        return list(enums.types_in(self.catalog, self.database).values())

    @cached_property
    def types(self) -> list[TypeRow]:
        return BUILTIN_TYPES + self.user_types

    @cached_property
    def type_by_oid(self) -> dict[int, TypeRow]:
        return {t.oid: t for t in self.types}

    def type_format(self, t: TypeRow) -> str:
        """format_type(oid, NULL)."""
        if t.relid:
            rel = self.relation_by_oid.get(t.relid)
            return rel.display if rel is not None else t.name
        if t.is_array and t.elem not in TYPE_BY_OID and t.elem in self.type_by_oid:
            return self.type_format(self.type_by_oid[t.elem]) + "[]"
        return format_name(t)

    @property
    def procs(self) -> list[Proc]:
        return PROCS_ALL + self.user_procs

    @cached_property
    def user_procs(self) -> list[Proc]:
        """The database's user-defined SQL functions (sql/user_functions.py)."""
        from sql.user_functions import oid_of

        schemas = {sc.name: sc.oid for sc in self.user_schemas}
        row_types = {t.name: t.oid for t in self.user_types if t.relid}
        out = []
        # (the engine's read of them, kept until the next DDL: sql/engine.py)
        user_functions = self.session.sql_engine.user_functions(self.database).values()
        for fn in (fn for overloads in user_functions for fn in overloads):
            argtypes = tuple(_type_oid(a.type) for a in fn.args)
            if fn.kind == "p":
                rettype = VOID_OID  # (a procedure)
            elif fn.columns is None:
                rettype = _type_oid(fn.base)
            else:  # rows: TABLE (...) is a record, SETOF a table its row type
                rettype = RECORD_OID if fn.base == "record" else row_types.get(fn.base, RECORD_OID)
            out.append(
                Proc(
                    oid_of(self.database, fn),
                    fn.name,
                    fn.kind,
                    rettype,
                    argtypes,
                    volatile=fn.volatility,
                    strict=fn.strict,
                    retset=fn.retset,
                    namespace=schemas.get(fn.schema, NS_PUBLIC),
                    lang=LANG_PLPGSQL if fn.language == "plpgsql" else LANG_SQL,
                    src=fn.written,
                    argnames=tuple(a.name for a in fn.args),
                    arguments=fn.arguments(),
                    identity=fn.arguments(defaults=False),
                    result=None if fn.kind == "p" else fn.returns,
                    definition=fn.definition(),
                )
            )
        return out

    @cached_property
    def chunks(self) -> list[Chunk]:
        """Each of our tables' chunks, as TimescaleDB names them (sql/timescale.py), with their sizes."""
        from sql.timescale import chunk_name, table_chunks

        shards = self.session.storage.shards(self.database)
        return [
            Chunk(t, chunk_name(t.meta, shard), shard.meta.start_ns, shard.meta.end_ns, stats)
            for t in self.tables
            if t.meta is not None
            for shard, stats in table_chunks(shards, t.meta)
        ]

    @cached_property
    def sizes(self) -> dict[int, tuple[int, int]]:
        """Bytes and rows of each of our tables' chunk files (rows still in memory are not counted)."""
        out: dict[int, tuple[int, int]] = {}
        for c in self.chunks:
            size, rows = out.get(c.table.oid, (0, 0))
            out[c.table.oid] = (size + c.stats.file_bytes, rows + c.stats.file_rows)
        return out

    @cached_property
    def roles(self) -> list[tuple[int, str, bool]]:
        """(oid, name, can log in): the built-in roles, CREATE ROLE's (sql/roles.py) and the session's
        user when it is neither (a pg_password_file user, or a name loopback trust let in)."""
        out = [(ROLE_SUPERUSER, "postgres", True), (ROLE_DB_OWNER, "pg_database_owner", False)]
        out += [(r.oid, r.name, r.login) for r in self.role_attributes.values()]
        if self.session.user != "postgres" and self.session.user not in self.role_attributes:
            out.append((hashed_oid("role", self.session.user), self.session.user, True))
        return out

    @cached_property
    def role_attributes(self) -> dict[str, Role]:
        """The catalog's roles (sql/roles.py) by name."""
        return stored_roles(self.catalog)

    @cached_property
    def role_oids(self) -> dict[str, int]:
        return {name: oid for oid, name, _login in self.roles}

    @cached_property
    def acls(self) -> dict[str, Acl]:
        """Owners and ACLs by key (sql/roles.py)."""
        return stored_acls(self.catalog)

    def acl_of(self, rel: Relation) -> tuple[str, Acl]:
        """The ACL key and ACL of a table or view."""
        if rel.meta is not None:
            key = table_acl_key(rel.meta.id)
        else:
            key = view_acl_key(self.database, rel.schema.name, rel.name)
        return key, self.acls.get(key) or Acl()

    @cached_property
    def extensions(self) -> list[tuple[int, str, int, str]]:
        """(oid, name, schema oid, version) of the installed extensions."""
        installed = {name: EXTENSIONS[name][2] for name in ALWAYS_INSTALLED}
        prefix = f"extension:{self.database}:"
        for key, value in self.catalog.meta_items(prefix):
            name = key[len(prefix) :]
            installed[name] = _json_field(value, "version") or EXTENSIONS.get(name, (0, 0, "1.0"))[2]
        out = []
        for name, version in sorted(installed.items()):
            oid, ns, _v, _d = EXTENSIONS.get(name, (hashed_oid("extension", name), NS_PUBLIC, "", ""))
            out.append((oid, name, ns, version))
        return out

    @cached_property
    def descriptions(self) -> list[tuple[int, int, int, str]]:
        """pg_description: (objoid, classoid, objsubid, text) of this database's described objects:
        COMMENT ON's (sql/comments.py) and the built-in ones they have not replaced."""
        stored = self.catalog.comments(self.db.id)
        out = []
        for sch in self.schemas:
            text = stored.get(("schema", sch.name, ""), DEFAULT_SCHEMA_COMMENTS.get(sch.name))
            if text:
                out.append((sch.oid, CLASS_PG_NAMESPACE, 0, text))
        for oid, name, _ns, _v in self.extensions:
            text = stored.get(("extension", name, ""), EXTENSIONS.get(name, (0, 0, "", None))[3])
            if text:
                out.append((oid, CLASS_PG_EXTENSION, 0, text))
        if stored:  # (tables without comments cost nothing more)
            out.extend(self._stored_descriptions(stored))
        return out

    def _stored_descriptions(self, stored: dict[tuple[str, str, str], str]):
        tables = {str(t.meta.id): t for t in self.tables if t.meta is not None}
        views = {json.dumps([v.schema.name, v.name]): v for v in self.views}
        for (kind, obj, sub), text in stored.items():
            rel = (
                tables.get(obj)
                if kind in ("table", "index", "rowtype")
                else views.get(obj)
                if kind == "view"
                else self._sequence_by_id.get(obj)
                if kind == "sequence"
                else None
            )
            if not text:
                continue
            if kind == "function":
                yield int(obj), CLASS_PG_PROC, 0, text
            elif kind == "type":
                if int(obj) in self.type_by_oid:  # (a built-in type, or an enum type or its array)
                    yield int(obj), CLASS_PG_TYPE, 0, text
            elif rel is None:
                continue
            elif kind == "rowtype":  # (sub "[]": its array type)
                yield rel.row_type + (1 if sub else 0), CLASS_PG_TYPE, 0, text
            elif kind == "index":
                for i in rel.indexes:
                    if i.comment_key() == sub:
                        yield i.relation.oid, CLASS_PG_CLASS, 0, text
            elif not sub:
                yield rel.oid, CLASS_PG_CLASS, 0, text
            else:
                num = next((a.num for a in self.columns_of(rel) if a.name == sub), None)
                if num is not None:
                    yield rel.oid, CLASS_PG_CLASS, num, text

    @cached_property
    def _sequence_by_id(self) -> dict[str, Relation]:
        """Sequences by the id their descriptions are kept by (sql/comments.py)."""
        return {rel.sequence["id"]: rel for rel in self.sequences if rel.sequence and rel.sequence.get("id")}

    @cached_property
    def shared_descriptions(self) -> list[tuple[int, int, str]]:
        """pg_shdescription: (objoid, classoid, text) of the described databases. (Every statement
        that expands obj_description & co. lists them: the comments and the database lookups are
        answered from memory until the catalog changes.)"""
        stored = self.catalog.comments(None)
        out = [(database_oid(int(obj)), CLASS_PG_DATABASE, text) for (_k, obj, _s), text in stored.items()]
        for name, text in DEFAULT_DATABASE_COMMENTS.items():
            try:
                db = self.catalog.database(name)
            except DatabaseNotFound:
                continue
            if ("database", str(db.id), "") not in stored:
                out.append((database_oid(db.id), CLASS_PG_DATABASE, text))
        return [row for row in out if row[2]]


class Part:
    """A snapshot restricted, for listing, to the constant catalog part or to ours.

    The lists generators iterate (relations, types, procs, tables, schemas ...) hold one part only;
    every lookup (type_by_oid, relation_by_oid ...) still sees the whole snapshot.
    """

    def __init__(self, snap: Snapshot, constant: bool) -> None:
        self.snap = snap
        self.constant = constant
        self.relations = CATALOG_RELATIONS if constant else snap.user_relations
        self.types = BUILTIN_TYPES if constant else snap.user_types
        self.procs = PROCS_ALL if constant else snap.user_procs
        if constant:  # the rest is ours only
            self.tables: list[Relation] = []
            self.views: list[Relation] = []
            self.indexes: list[Index] = []
            self.key_indexes: list[Index] = []
            self.schemas: list[Schema] = []
            self.roles: list[tuple[int, str, bool]] = []
            self.databases: list[DatabaseMeta] = []
            self.extensions: list[tuple[int, str, int, str]] = []
            self.descriptions: list[tuple[int, int, int, str]] = []
            self.shared_descriptions: list[tuple[int, int, str]] = []

    def __getattr__(self, name: str):
        return getattr(self.snap, name)


def _json_field(value: str, key: str) -> str | None:
    try:
        v = json.loads(value)
    except ValueError:
        return None
    return str(v[key]) if isinstance(v, dict) and key in v else None


def _table(meta: TableMeta, schema: Schema) -> Relation:
    oid = table_oid(meta.id)
    columns = []
    defaults = meta.options.get("defaults") or {}
    generations = meta.options.get("generated") or {}
    enum_columns = meta.options.get("enums") or {}
    for c in sql_columns(meta):
        col = meta.column(c.name)
        declared = (col.pg_type if col is not None else None) or c.type.name
        d = defaults.get(c.name) or generations.get(c.name)
        enum = enum_columns.get(c.name)
        if d and enum and "seq" not in d:  # its constant is of the enum type: 'ok'::mood
            d = {**d, "type": quote_ident(enum["name"])}
        identity = (d or {}).get("identity", "")
        columns.append(
            Attribute(
                c.name,
                c.position,
                c.type.oid,
                typmod_of(declared, c.type.name),
                c.not_null,
                column_defaults.shown(d, c.type) if d and not identity else None,  # (an identity has none)
                identity,
                "s" if c.name in generations else "",
            )
        )
    rel = Relation(oid, meta.name, schema, "r", columns, meta, row_type=oid + 1)
    rel.checks = list(meta.options.get("checks") or [])
    rel.foreign_keys = list(meta.options.get("foreign_keys") or [])
    made = indexes.made_keys(meta)
    keys: list[list[str]] = meta.options.get("keys") or []
    primary = list(meta.options.get("primary_key") or [])
    by_name = {a.name: a for a in columns}
    for k, names in enumerate(keys[:MAX_KEYS]):
        if not names or any(n not in by_name for n in names) or tuple(names) in made:
            continue
        is_pk = list(names) == primary
        name = constraints.key_name(meta, list(names))
        if is_pk:
            for n in names:
                by_name[n].not_null = True
        idx = Relation(oid + 3 + 2 * k, name, schema, "i")
        idx.columns = [
            Attribute(n, i + 1, by_name[n].type_oid, by_name[n].typmod, by_name[n].not_null)
            for i, n in enumerate(names)
        ]
        rel.indexes.append(Index(idx, rel, [by_name[n].num for n in names], is_pk, oid + 4 + 2 * k))
    for spec in meta.options.get("indexes") or []:  # CREATE INDEX's (sql/indexes.py)
        idx = Relation(hashed_oid("index", str(oid), spec["name"]), spec["name"], schema, "i")
        idx.am = indexes.INDEX_AMS.get(spec.get("method") or "btree", AM_BTREE)
        nums, attrs = [], []
        for i, c in enumerate(spec["columns"]):
            a = by_name.get(c.get("column", ""))
            nums.append(a.num if a is not None else 0)
            name = a.name if a is not None else ("expr" if i == 0 else f"expr{i}")
            attrs.append(Attribute(name, i + 1, a.type_oid if a else 25, a.typmod if a else -1, False))
        for n in spec.get("include") or []:
            a = by_name.get(n)
            if a is not None:
                nums.append(a.num)
                attrs.append(Attribute(n, len(attrs) + 1, a.type_oid, a.typmod, False))
        idx.columns = attrs
        rel.indexes.append(Index(idx, rel, nums, False, None, spec))
    return rel


_describing = threading.local()  # views being described on this thread (a view over pg_attribute)


def _view_columns(snap: Snapshot, view: Relation) -> list[Attribute]:
    """A view's columns: the declared type where a column passes through from one of our tables,
    else the type the executor describes."""
    from sql.parse import parse

    active: set[int] = _describing.__dict__.setdefault("oids", set())
    if view.oid in active:
        return []  # describing it needs its own columns: a view over the catalog's columns
    active.add(view.oid)
    try:
        desc = snap.session.prepare(view.view_sql or "", []).columns or []
        tree = parse(view.view_sql or "")
    except E.SqlError:
        return []
    finally:
        active.discard(view.oid)
    passthrough: list[Attribute | None] = []
    src = tree.args.get("from_") if isinstance(tree, exp.Select) and not tree.args.get("joins") else None
    table = (
        next((t for t in snap.tables if _names(src.this, t)), None)
        if src is not None and isinstance(src.this, exp.Table)
        else None
    )
    if table is not None:
        by_name = {a.name: a for a in table.columns}
        for e in tree.expressions:
            if isinstance(e, exp.Star):
                passthrough.extend(table.columns)
                continue
            inner = e.this if isinstance(e, exp.Alias) else e
            passthrough.append(by_name.get(inner.name) if isinstance(inner, exp.Column) else None)
    if len(passthrough) != len(desc):
        passthrough = [None] * len(desc)
    out = []
    for i, (d, src_att) in enumerate(zip(desc, passthrough, strict=True)):
        if src_att is not None:
            out.append(Attribute(d.name, i + 1, src_att.type_oid, src_att.typmod))
        else:
            out.append(Attribute(d.name, i + 1, d.type_oid, d.typmod))
    return out


def _names(ref: exp.Table, rel: Relation) -> bool:
    return ref.name == rel.name and (ref.db or "public") == rel.schema.name
