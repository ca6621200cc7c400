"""PostgreSQL catalog emulation: pg_catalog and information_schema generated from our catalog.

Clients (psql, JDBC, SQLAlchemy, Grafana ...) learn about a database by querying pg_catalog and
information_schema. We answer those queries as real SQL: every catalog relation a query names is
generated as an Arrow table from the storage catalog (databases, retention policies = schemas,
tables and their declared column types, views, extensions), registered in the query's DuckDB cursor
under a unique name, and the reference is renamed to it (keeping its alias), as sql/binder.py does for
our tables. Catalog functions and syntax (``::regclass``, ``format_type``, ``OPERATOR(pg_catalog.~)``
...) are rewritten by sql/rewrite/catalog_syntax.py into SQL over the same generated tables.

OIDs are stable across restarts, derived from catalog ids:

=============================  =========================================================
builtin types, functions,      PostgreSQL 15's own OIDs (sql/pgcatalog_builtins.py), so
catalog relations              they match what drivers have compiled in
pg_catalog / public /          11 / 2200 / 13207 / 99, as in PostgreSQL
information_schema / pg_toast
table with catalog id ``t``    16384 + 16 t; its row type +1, the row type's array +2,
                               key index k (PRIMARY KEY / UNIQUE, k < 6) +3+2k and its
                               constraint +4+2k
database with id ``d``         900000000 + d
schema of a non-default        1000000000 + crc32(name) mod 10^9 (views the same over
retention policy, view         "database:schema:name"); no id exists to derive them from
=============================  =========================================================

Private helper relations (``pg_catalog.tsgres_*``, not listed in pg_class) carry what the rewritten
functions look up: names accepted by regclass/regtype input, index/constraint/view definitions,
relation sizes and type display names.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import pyarrow as pa
from sqlglot import exp

from sql import errors as E
from sql.pgcatalog_model import Part, Snapshot
from sql.pgcatalog_schema import RELATIONS

if TYPE_CHECKING:
    from sql.engine import SqlSession

# column types of the catalog relations -> Arrow (the rest are text)
_ARROW: dict[str, pa.DataType] = {
    "oid": pa.int64(),
    "xid": pa.int64(),
    "int8": pa.int64(),
    "int4": pa.int32(),
    "int2": pa.int16(),
    "bool": pa.bool_(),
    "float4": pa.float32(),
    "float8": pa.float64(),
    "numeric": pa.float64(),
    "timestamptz": pa.timestamp("us", tz="UTC"),
    "interval": pa.month_day_nano_interval(),
    "int2vector": pa.list_(pa.int16()),
    "_int2": pa.list_(pa.int16()),
    "_int4": pa.list_(pa.int32()),
    "oidvector": pa.list_(pa.int64()),
    "_oid": pa.list_(pa.int64()),
    "_float4": pa.list_(pa.float32()),
    "_text": pa.list_(pa.string()),
    "_name": pa.list_(pa.string()),
    "_aclitem": pa.list_(pa.string()),
    "_char": pa.list_(pa.string()),
}
_DEFAULTS: dict[str, object] = {"bool": False, "oid": 0, "xid": 0, "int2": 0, "int4": 0, "int8": 0}

# The private relations behind the rewritten catalog functions (sql/rewrite/catalog_functions.py).
PRIVATE: dict[str, str] = {
    "pg_catalog.tsgres_names": (
        "tsg_kind:char tsg_name:text tsg_oid:oid tsg_display:text tsg_canonical:bool tsg_visible:bool"
    ),
    "pg_catalog.tsgres_defs": "tsg_kind:char tsg_oid:oid tsg_sub:int4 tsg_def:text",
    # what each role may do on each of our tables and views (c), schemas (n) and databases (d):
    # aclitem letters, all of them for a superuser (sql/roles.py)
    "pg_catalog.tsgres_privileges": "tsg_kind:char tsg_role:text tsg_roleid:oid tsg_oid:oid tsg_privs:text",
    "pg_catalog.tsgres_sizes": (
        "tsg_oid:oid tsg_chunk:text tsg_hyper:bool tsg_bytes:int8 tsg_rows:int8 tsg_mem_bytes:int8 "
        "tsg_mem_rows:int8 tsg_compressed:bool tsg_raw_bytes:int8"
    ),
    "pg_catalog.tsgres_types": (
        "tsg_oid:oid tsg_fmt:text tsg_fmt_nomod:text tsg_pre:text tsg_post:text tsg_modkind:text"
    ),
}
COLUMNS: dict[str, list[tuple[str, str]]] = {
    key: [(c.split(":", 1)[0], c.split(":", 1)[1]) for c in spec.split()]
    for key, spec in {**{k: v[2] for k, v in RELATIONS.items()}, **PRIVATE}.items()
}
_SCHEMAS: dict[str, pa.Schema] = {
    k: pa.schema([pa.field(n, _ARROW.get(t, pa.string())) for n, t in cols]) for k, cols in COLUMNS.items()
}

Row = dict[str, object]
Generator = Callable[[Snapshot], list[Row]]
GENERATORS: dict[str, Generator] = {}
SPLIT: set[str] = set()  # relations whose constant rows (the catalog's own objects) are cached
_constant: dict[tuple[str, str], pa.Table] = {}
_constant_lock = threading.Lock()
_names = itertools.count(1)


def generates(*names: str, split: bool = False) -> Callable[[Generator], Generator]:
    """Register the function that lists the rows of the named relations (``pg_catalog.`` unless
    qualified). ``split``: the function only iterates the snapshot's lists (relations, types, procs
    ...), so its rows for the constant part can be generated once and cached."""

    def register(fn: Generator) -> Generator:
        for n in names:
            key = n if "." in n else "pg_catalog." + n
            GENERATORS[key] = fn
            if split:
                SPLIT.add(key)
        return fn

    return register


def to_arrow(name: str, rows: list[Row]) -> pa.Table:
    """Rows (dicts) as the relation's Arrow table. Absent columns are NULL, or in pg_catalog false / 0
    for booleans and numbers (its columns are NOT NULL)."""
    schema = _SCHEMAS[name]
    if not rows:
        return schema.empty_table()
    defaults = _DEFAULTS if name.startswith("pg_catalog.") else {}  # information_schema: NULL
    arrays = [
        pa.array([r.get(col, defaults.get(typ)) for r in rows], type=fld.type)
        for (col, typ), fld in zip(COLUMNS[name], schema, strict=True)
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def generate(snap: Snapshot, key: str) -> pa.Table:
    """The relation's rows for this snapshot; UndefinedTable for a catalog relation we do not have."""
    if key not in COLUMNS:
        raise E.UndefinedTable(f'relation "{key}" does not exist')
    gen = GENERATORS.get(key)
    if gen is None:
        return _SCHEMAS[key].empty_table()
    if key not in SPLIT:
        return to_arrow(key, gen(snap))
    cache_key = (key, snap.database)  # information_schema rows name the database
    with _constant_lock:
        constant = _constant.get(cache_key)
    if constant is None:
        constant = to_arrow(key, gen(Part(snap, constant=True)))  # type: ignore[arg-type]
        with _constant_lock:
            _constant[cache_key] = constant
    ours = to_arrow(key, gen(Part(snap, constant=False)))  # type: ignore[arg-type]
    return pa.concat_tables([ours, constant]) if ours.num_rows else constant


def relation_key(ref: exp.Table) -> str:
    return f"{(ref.db or 'pg_catalog').lower()}.{ref.name.lower()}"


# System columns of the catalog tables (PostgreSQL's heap tuples carry them; pg_dump reads tableoid
# of every object it dumps): the relation's own OID, and the bootstrap transaction as their creator.
SYSTEM_COLUMNS: dict[str, pa.DataType] = {"tableoid": pa.int64(), "xmin": pa.int64(), "cmin": pa.int64()}
_FROZEN_XID = 1  # BootstrapTransactionId: the xmin initdb's rows carry


def with_system_columns(key: str, table: pa.Table, wanted: set[str]) -> pa.Table:
    """``table`` (the rows of catalog table ``key``) with the system columns in ``wanted`` appended."""
    n = table.num_rows
    for col in sorted(wanted):
        value = RELATIONS[key][0] if col == "tableoid" else _FROZEN_XID if col == "xmin" else 0
        table = table.append_column(pa.field(col, SYSTEM_COLUMNS[col]), pa.array([value] * n, pa.int64()))
    return table


def _system_columns_used(refs: list[exp.Table]) -> dict[str, set[str]]:
    """The system columns the statement names, by the alias they are qualified with ("" if none)."""
    if not refs:
        return {}
    out: dict[str, set[str]] = {}
    for c in refs[0].root().find_all(exp.Column):
        if c.name.lower() in SYSTEM_COLUMNS:
            out.setdefault(c.table.lower(), set()).add(c.name.lower())
    return out


def _hide_from_stars(ref: exp.Table, alias: str, hidden: set[str]) -> None:
    """``*`` and ``alias.*`` over ``ref`` do not list its system columns, as in PostgreSQL."""
    select = ref.parent_select
    if select is None:
        return
    for e in select.expressions:
        star = e if isinstance(e, exp.Star) else e.this if isinstance(e, exp.Column) and e.is_star else None
        if star is None or (isinstance(e, exp.Column) and e.table.lower() != alias.lower()):
            continue
        listed = {c.name for c in star.args.get("except_") or []}
        star.set("except_", [exp.column(c) for c in sorted(listed | hidden)])


def bind(session: SqlSession, cur, refs: list[exp.Table]) -> None:
    """Register each referenced catalog relation in the DuckDB cursor ``cur`` under a unique name and
    point the references at it, keeping their aliases. Catalog tables (relkind r) also get the system
    columns the statement names, unqualified or qualified with its alias (``x.tableoid``), hidden
    from ``*``."""
    _load_generators()
    snap = Snapshot(session)
    registered: dict[tuple[str, frozenset[str]], str] = {}
    system = _system_columns_used(refs)
    for ref in refs:
        key = relation_key(ref)
        alias = ref.args.get("alias") or exp.TableAlias(this=exp.to_identifier(ref.name))
        hidden: set[str] = set()
        if key in RELATIONS and RELATIONS[key][1] == "r":
            hidden = system.get("", set()) | system.get(alias.name.lower(), set())
        name = registered.get((key, frozenset(hidden)))
        if name is None:
            name = f"__tsgres_pg_{key.replace('.', '_')}_{next(_names)}"
            table = generate(snap, key)
            cur.register(name, with_system_columns(key, table, hidden) if hidden else table)
            registered[(key, frozenset(hidden))] = name
        if hidden:
            _hide_from_stars(ref, alias.name, hidden)
        # joins: in `((pg_class c JOIN pg_namespace n ...) JOIN ...)` (psqlODBC's SQLColumns) they hang here
        ref.replace(exp.Table(this=exp.to_identifier(name), alias=alias.copy(), joins=ref.args.get("joins")))


def _load_generators() -> None:
    """The generator modules register themselves when imported."""
    from sql import pgcatalog_infoschema, pgcatalog_tables, pgcatalog_timescale  # noqa: F401
