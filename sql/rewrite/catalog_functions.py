"""PostgreSQL's catalog and system functions as DuckDB expressions over the generated catalog.

Clients call pg_table_is_visible, format_type, pg_get_indexdef, pg_get_userbyid, quote_ident,
pg_size_pretty ... in their catalog queries. Each call is expanded in place from a template: pure
ones into plain expressions, those that need our catalog into scalar subqueries over the private
relations ``pg_catalog.tsgres_*`` that sql/pgcatalog.py generates (their columns are prefixed with
``tsg_`` so an unqualified outer column in an argument never resolves to them). DuckDB's own
``pg_catalog`` macros never run: they answer for DuckDB's catalog, not ours.

    SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
    -> SELECT (SELECT MIN(CASE ... tsg_pre || '(' || CAST(a.atttypmod - 4 AS TEXT) || ')' ...)
               FROM pg_catalog.tsgres_types WHERE tsg_oid = a.atttypid) FROM pg_attribute AS a
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from functools import cache
from typing import cast

import sqlglot
from sqlglot import exp

from sql.pgcatalog_model import KEYWORDS
from sql.pgcatalog_schema import RELATIONS

STARTED = dt.datetime.now(dt.UTC)
_xids = itertools.count(1000)

# -- the regclass family -----------------------------------------------------------------------------
REG_KINDS = {
    "regclass": "c",
    "regtype": "t",
    "regnamespace": "n",
    "regrole": "r",
    "regproc": "p",
    "regprocedure": "p",
    "regoper": "p",
    "regoperator": "p",
    "regconfig": "p",
    "regdictionary": "p",
    "regcollation": "p",
}
_NORM = {
    # relation, schema and role names: quoted parts keep their case, unquoted ones fold to lower case
    "c": "CASE WHEN contains(_v, '\"') THEN replace(_v, '\"', '') ELSE lower(_v) END",
    "n": "CASE WHEN contains(_v, '\"') THEN replace(_v, '\"', '') ELSE lower(_v) END",
    "r": "CASE WHEN contains(_v, '\"') THEN replace(_v, '\"', '') ELSE lower(_v) END",
    # type names: typmods dropped ('varchar(20)'), '"char"' kept quoted (unquoted char is bpchar)
    "t": "regexp_replace(CASE WHEN contains(_v, '\"') THEN _v ELSE lower(_v) END, '\\s*\\([^)]*\\)', '', 'g')",
    # function names: the schema and argument list dropped
    "p": "regexp_replace(regexp_replace(_v, '\\(.*$', ''), '^.*\\.', '')",
}
_WHAT = {"c": "relation", "t": "type", "n": "schema", "r": "role", "p": "function"}
# the SQLSTATE of an unknown name: undefined_table, undefined_object, invalid_schema_name
_UNKNOWN = {"c": "42P01", "t": "42704", "n": "3F000", "r": "42704"}


@cache
def _datatype(sql: str, dialect: str = "duckdb") -> exp.DataType:
    return exp.DataType.build(sql, dialect=dialect)


def datatype(sql: str, dialect: str = "duckdb") -> exp.DataType:
    """A DataType parsed once per spelling (callers get a copy to place in their tree)."""
    return _datatype(sql, dialect).copy()


@cache
def _parsed(template: str) -> exp.Expr:
    return sqlglot.parse_one(template, read="duckdb")


@cache
def _uses(template: str) -> tuple[dict[str, int], bool]:
    """How often each placeholder occurs in the template, and whether it holds a subquery."""
    tree = _parsed(template)
    counts: dict[str, int] = {}
    for col in tree.find_all(exp.Column):
        if not col.table and col.name.startswith("_"):
            counts[col.name] = counts.get(col.name, 0) + 1
    return counts, tree.find(exp.Subquery, exp.Select) is not None


def _simple(e: exp.Expr | None) -> bool:
    return e is None or isinstance(e, exp.Column | exp.Literal | exp.Parameter | exp.Null | exp.Boolean)


def expand(template: str, *args: exp.Expr | None, **named: exp.Expr) -> exp.Expr:
    """The template (DuckDB SQL) with ``_1``, ``_2`` ... replaced by the arguments (NULL if absent)
    and ``_name`` by the named expressions; parenthesised.

    An argument that is more than a column or constant and appears several times is evaluated once:
    the template becomes the body of a lambda applied to it (``list_transform([arg], LAMBDA a:
    ...)[1]``), unless the lambda's body would hold a subquery (DuckDB allows none there)."""
    values: dict[str, exp.Expr | None] = {f"_{i + 1}": a for i, a in enumerate(args)}
    values |= {f"_{k}": v for k, v in named.items()}
    counts, has_subquery = _uses(template)
    shared = [k for k, n in counts.items() if n > 1 and not _simple(values.get(k))]
    inlined = [v for k, v in values.items() if k in counts and k not in shared and v is not None]
    if has_subquery or any(v.find(exp.Subquery, exp.Select) for v in inlined):
        shared = []
    bound = {k: exp.column(f"__let{i}") for i, k in enumerate(shared)}

    def sub(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and not node.table and node.name.startswith("_"):
            if node.name in bound:
                return bound[node.name].copy()
            if node.name in values or node.name[1:].isdigit():
                value = values.get(node.name)
                return value.copy() if value is not None else exp.null()
        return node

    body = _parsed(template).transform(sub)
    for k in reversed(shared):
        value = values[k]
        assert value is not None
        lam = exp.Lambda(this=body, expressions=[bound[k].this])
        applied = exp.Anonymous(
            this="list_transform", expressions=[exp.Array(expressions=[value.copy()]), lam]
        )
        body = exp.Bracket(this=applied, expressions=[exp.Literal.number(0)], offset=0)
    return exp.Paren(this=body)


def _text(x: exp.Expr) -> exp.Expr:
    return exp.Cast(this=x, to=datatype("VARCHAR"))


def lookup_name(kind: str, x: exp.Expr) -> exp.Expr:
    """The OID a name has in our catalog (NULL if none); for regproc & co. the bare function name."""
    norm = expand(_NORM[kind], v=_text(x))
    if kind == "p":
        return norm
    return expand(
        f"(SELECT MIN(tsg_oid) FROM pg_catalog.tsgres_names WHERE tsg_kind = '{kind}' AND tsg_name = _n)",
        n=norm,
    )


def _texty(x: exp.Expr) -> bool:
    """Whether x may be a name rather than an OID (string literals, parameters, text functions...)."""
    if isinstance(x, exp.Literal):
        return x.is_string
    if isinstance(x, exp.Column):
        name = x.name.lower()
        return (
            name.endswith("name")
            or name in ("table_schema", "schema", "table", "relation")
            or name in _REGPROCS
        )
    if isinstance(x, exp.Cast):
        return not isinstance(x.to, exp.ObjectIdentifier) and x.to.is_type(*exp.DataType.TEXT_TYPES)
    return not isinstance(x, exp.Null | exp.Subquery | exp.Neg)


def reg_in(kind: str, x: exp.Expr) -> exp.Expr:
    """``x::regclass`` (or regtype, ...): an OID stays an OID (a numeric string becomes one), a name
    is looked up and raises PostgreSQL's error when unknown. regproc & co. stay function names."""
    if kind == "p":
        if _texty(x):
            return lookup_name("p", x)
        return expand(
            "COALESCE((SELECT MIN(tsg_display) FROM pg_catalog.tsgres_names "
            "WHERE tsg_kind = 'p' AND tsg_oid = _1), CAST(_1 AS VARCHAR))",
            x,
        )
    if not _texty(x):
        return exp.Cast(this=x, to=datatype("BIGINT"))
    return expand(
        "CASE WHEN _v IS NULL THEN NULL ELSE COALESCE(TRY_CAST(_v AS BIGINT), _found, "
        f"error('pgsql {_UNKNOWN[kind]}: {_WHAT[kind]} \"' || _v || '\" does not exist')) END",
        v=_text(x),
        found=lookup_name(kind, x),
    )


def proc_oid(x: exp.Expr) -> exp.Expr:
    """``x::regproc::oid``: the OID of the function named x (an OID stays one)."""
    if not _texty(x):
        return exp.Cast(this=x, to=datatype("BIGINT"))
    return expand(
        "COALESCE(TRY_CAST(CAST(_1 AS VARCHAR) AS BIGINT), (SELECT MIN(tsg_oid) FROM pg_catalog.tsgres_names "
        "WHERE tsg_kind = 'p' AND tsg_name = _n))",
        x,
        n=lookup_name("p", x),
    )


def reg_out(kind: str, x: exp.Expr) -> exp.Expr:
    """``x::regclass::text``: the name PostgreSQL prints (schema-qualified when not on the path)."""
    if kind == "p":
        return reg_in("p", x)
    return reg_display(kind, reg_in(kind, x))


def reg_display(kind: str, oid: exp.Expr) -> exp.Expr:
    """The name an OID of that kind prints as (the number when unknown, ``-`` for 0, NULL for NULL)."""
    return expand(
        "COALESCE((SELECT MIN(tsg_display) FROM pg_catalog.tsgres_names WHERE tsg_kind = "
        f"'{kind}' AND tsg_canonical AND tsg_oid = _o), CASE WHEN _o = 0 THEN '-' ELSE CAST(_o AS VARCHAR) END)",
        o=oid,
    )


# catalog columns of type regproc (pg_am.amhandler, pg_type.typinput ...) hold function names
_REGPROCS = frozenset(
    c.split(":", 1)[0]
    for _oid, _kind, spec in RELATIONS.values()
    for c in spec.split()
    if c.endswith(":regproc")
)

TO_REG = {"to_regclass": "c", "to_regtype": "t", "to_regnamespace": "n", "to_regrole": "r"}


# -- function templates --------------------------------------------------------------------------------
_QUOTE_IDENT = (
    "CASE WHEN regexp_full_match(_1, '[a-z_][a-z0-9_]*') AND NOT regexp_full_match(_1, '"
    + "|".join(sorted(KEYWORDS))
    + "') THEN _1 ELSE '\"' || replace(_1, '\"', '\"\"') || '\"' END"
)
# quote_literal (PostgreSQL's quote_literal_cstr): quotes and backslashes doubled, E'...' when the text
# holds a backslash (chr(92): a backslash the template does not have to escape)
_QUOTE_LITERAL = (
    "CASE WHEN strpos(CAST(_1 AS VARCHAR), chr(92)) > 0 THEN 'E' ELSE '' END || '''' || "
    "replace(replace(CAST(_1 AS VARCHAR), chr(92), chr(92) || chr(92)), '''', '''''') || ''''"
)
# format_type: a typmod shows as (n - 4) for character types, (p,s) for numeric, (p) for the
# time types, not at all for bool, integers and floats, and as itself for the rest, as PostgreSQL's
# format_type_extended prints it
_FORMAT_TYPE = (
    "(SELECT MIN(CASE WHEN _2 IS NULL THEN tsg_fmt WHEN _2 < 0 THEN tsg_fmt_nomod "
    "WHEN tsg_modkind = 'len' AND _2 > 4 THEN tsg_pre || '(' || CAST(_2 - 4 AS VARCHAR) || ')' || tsg_post "
    "WHEN tsg_modkind = 'num' AND _2 >= 4 THEN tsg_pre || '(' || CAST(((_2 - 4) >> 16) & 65535 AS VARCHAR) "
    "|| ',' || CAST((_2 - 4) & 65535 AS VARCHAR) || ')' || tsg_post "
    "WHEN tsg_modkind IN ('len', 'num', 'none') THEN tsg_pre || tsg_post "
    "ELSE tsg_pre || '(' || CAST(_2 AS VARCHAR) || ')' || tsg_post END) "
    "FROM pg_catalog.tsgres_types WHERE tsg_oid = _1)"
)
# pg_size_pretty: bytes below 10 kB, then each unit while below 20 units (half-rounded), as PostgreSQL 15
_SIZE_PRETTY = (
    "CASE WHEN _1 IS NULL THEN NULL "
    "WHEN abs(_1) < 10240 THEN CAST(_1 AS VARCHAR) || ' bytes' "
    "WHEN abs(_1) // 512 < 20479 THEN CAST(sign(_1) * ((abs(_1) // 512 + 1) // 2) AS VARCHAR) || ' kB' "
    "WHEN abs(_1) // 524288 < 20479 THEN CAST(sign(_1) * ((abs(_1) // 524288 + 1) // 2) AS VARCHAR) || ' MB' "
    "WHEN abs(_1) // 536870912 < 20479 "
    "THEN CAST(sign(_1) * ((abs(_1) // 536870912 + 1) // 2) AS VARCHAR) || ' GB' "
    "WHEN abs(_1) // 549755813888 < 20479 "
    "THEN CAST(sign(_1) * ((abs(_1) // 549755813888 + 1) // 2) AS VARCHAR) || ' TB' "
    "ELSE CAST(sign(_1) * ((abs(_1) // 562949953421312 + 1) // 2) AS VARCHAR) || ' PB' END"
)


def _def(kind: str, sub: str = "0") -> str:
    return (
        f"(SELECT MIN(tsg_def) FROM pg_catalog.tsgres_defs WHERE tsg_kind = '{kind}' "
        f"AND tsg_oid = _1 AND tsg_sub = {sub})"
    )


# obj_description(oid, catalog): the tsgres_defs kind of each catalog's descriptions
_DESCRIPTION_KINDS = {
    "pg_class": "d",
    "pg_namespace": "n",
    "pg_extension": "e",
    "pg_proc": "p",
    "pg_type": "t",
}


def _obj_description(args: list[exp.Expr]) -> exp.Expr:
    """obj_description(oid [, catalog]): the description of that object in that catalog; without a
    catalog (deprecated in PostgreSQL) in any of them."""
    if len(args) < 2:
        kinds = ", ".join(f"'{k}'" for k in _DESCRIPTION_KINDS.values())
        return expand(
            f"(SELECT MIN(tsg_def) FROM pg_catalog.tsgres_defs WHERE tsg_kind IN ({kinds}) "
            "AND tsg_oid = _1 AND tsg_sub = 0)",
            *args,
        )
    catalog = args[1]
    if isinstance(catalog, exp.Literal) and catalog.is_string:
        kind = _DESCRIPTION_KINDS.get(catalog.name.removeprefix("pg_catalog."), "?")
        return expand(_def(kind), args[0])
    whens = " ".join(f"WHEN '{c}' THEN '{k}'" for c, k in _DESCRIPTION_KINDS.items())
    return expand(
        "(SELECT MIN(tsg_def) FROM pg_catalog.tsgres_defs WHERE tsg_kind = "
        f"(CASE CAST(_2 AS VARCHAR) {whens} END) AND tsg_oid = _1 AND tsg_sub = 0)",
        *args,
    )


def _visible(kind: str) -> str:
    return (
        f"(SELECT BOOL_OR(tsg_visible) FROM pg_catalog.tsgres_names WHERE tsg_kind = '{kind}' "
        "AND tsg_oid = _1)"
    )


def _size(args: list[exp.Expr]) -> exp.Expr:
    return expand(
        "COALESCE((SELECT SUM(tsg_bytes) FROM pg_catalog.tsgres_sizes WHERE tsg_oid = _o), 0)",
        o=reg_in("c", args[0]),
    )


# TimescaleDB's size functions: a hypertable's chunks, their files and memtables (NULL, or no rows,
# for another relation, as TimescaleDB 2.x answers)
_HYPER_BYTES = "CAST(SUM(tsg_bytes + tsg_mem_bytes) AS BIGINT)"


def _hypertable_size(args: list[exp.Expr]) -> exp.Expr:
    return expand(
        f"(SELECT CASE WHEN BOOL_OR(tsg_hyper) THEN {_HYPER_BYTES} END FROM pg_catalog.tsgres_sizes "
        "WHERE tsg_oid = _o)",
        o=reg_in("c", args[0]),
    )


def _approximate_row_count(args: list[exp.Expr]) -> exp.Expr:
    return expand(
        "(SELECT CAST(COALESCE(SUM(tsg_rows + tsg_mem_rows), 0) AS BIGINT) FROM pg_catalog.tsgres_sizes "
        "WHERE tsg_oid = _o)",
        o=reg_in("c", args[0]),
    )


def _hypertable_detailed_size(args: list[exp.Expr]) -> exp.Expr:
    return expand(
        f"(SELECT {_HYPER_BYTES} AS table_bytes, CAST(0 AS BIGINT) AS index_bytes, "
        f"CAST(0 AS BIGINT) AS toast_bytes, {_HYPER_BYTES} AS total_bytes, CAST(NULL AS VARCHAR) AS node_name "
        "FROM pg_catalog.tsgres_sizes WHERE tsg_oid = _o HAVING BOOL_OR(tsg_hyper))",
        o=reg_in("c", args[0]),
    )


def _per_chunk(columns: str, args: list[exp.Expr]) -> exp.Expr:
    """One row per chunk of a hypertable: its schema and name, then ``columns`` (of tsgres_sizes)."""
    return expand(
        f"(SELECT '_timescaledb_internal' AS chunk_schema, tsg_chunk AS chunk_name, {columns}, "
        "CAST(NULL AS VARCHAR) AS node_name FROM pg_catalog.tsgres_sizes "
        "WHERE tsg_oid = _o AND tsg_hyper AND tsg_chunk IS NOT NULL)",
        o=reg_in("c", args[0]),
    )


def _chunks_detailed_size(args: list[exp.Expr]) -> exp.Expr:
    return _per_chunk(
        "CAST(tsg_bytes + tsg_mem_bytes AS BIGINT) AS table_bytes, CAST(0 AS BIGINT) AS index_bytes, "
        "CAST(0 AS BIGINT) AS toast_bytes, CAST(tsg_bytes + tsg_mem_bytes AS BIGINT) AS total_bytes",
        args,
    )


# TimescaleDB's compression statistics (and their 2.18 columnstore names): a compressed chunk's
# chunk files are its size after compression; before compression is its rows' size in a PostgreSQL
# heap, estimated (tsg_raw_bytes, sql/pgcatalog_tables.py); no index or TOAST bytes of their own
_BEFORE_AFTER = ("before_compression_table_bytes", "before_compression_index_bytes",
                 "before_compression_toast_bytes", "before_compression_total_bytes",
                 "after_compression_table_bytes", "after_compression_index_bytes",
                 "after_compression_toast_bytes", "after_compression_total_bytes")  # fmt: skip


def _compression_bytes(raw: str, files: str, zero: str) -> str:
    values = (raw, zero, zero, raw, files, zero, zero, files)
    return ", ".join(f"CAST({v} AS BIGINT) AS {name}" for v, name in zip(values, _BEFORE_AFTER, strict=True))


def _hypertable_compression_stats(args: list[exp.Expr]) -> exp.Expr:
    some = "COUNT(tsg_chunk) FILTER (WHERE tsg_compressed)"
    bytes_ = _compression_bytes(
        "SUM(tsg_raw_bytes) FILTER (WHERE tsg_compressed)",
        "SUM(tsg_bytes) FILTER (WHERE tsg_compressed)",
        f"CASE WHEN {some} > 0 THEN 0 END",
    )
    return expand(
        f"(SELECT CAST(COUNT(tsg_chunk) AS BIGINT) AS total_chunks, CAST({some} AS BIGINT) AS "
        f"number_compressed_chunks, {bytes_}, CAST(NULL AS VARCHAR) AS node_name "
        "FROM pg_catalog.tsgres_sizes WHERE tsg_oid = _o HAVING BOOL_OR(tsg_hyper))",
        o=reg_in("c", args[0]),
    )


def _chunk_compression_stats(args: list[exp.Expr]) -> exp.Expr:
    bytes_ = _compression_bytes(
        "CASE WHEN tsg_compressed THEN tsg_raw_bytes END",
        "CASE WHEN tsg_compressed THEN tsg_bytes END",
        "CASE WHEN tsg_compressed THEN 0 END",
    )
    status = "CASE WHEN tsg_compressed THEN 'Compressed' ELSE 'Uncompressed' END AS compression_status"
    return _per_chunk(f"{status}, {bytes_}", args)


def _database_size(args: list[exp.Expr]) -> exp.Expr:
    x = args[0]
    oid = (
        expand("(SELECT MIN(tsg_oid) FROM pg_catalog.tsgres_names WHERE tsg_kind = 'd' AND tsg_name = _1)", x)
        if _texty(x)
        else x
    )
    return expand(
        "COALESCE((SELECT SUM(tsg_bytes) FROM pg_catalog.tsgres_sizes WHERE tsg_oid = _o), 0)", o=oid
    )


# the sequence a column owns (SERIAL, OWNED BY: pg_depend's 'a' rows), schema-qualified
# (the catalog's columns renamed __s_*: an argument that is a column of the caller's query, as
# pg_get_serial_sequence('t', attname) over pg_attribute, must not bind to the lookup's own tables)
_SERIAL_SEQUENCE = (
    "(SELECT MIN(__s_name) FROM (SELECT n.nspname || '.' || s.relname AS __s_name, d.refobjid AS __s_rel, "
    "a.attname AS __s_att FROM pg_catalog.pg_depend d "
    "JOIN pg_catalog.pg_class s ON s.oid = d.objid JOIN pg_catalog.pg_namespace n ON n.oid = s.relnamespace "
    "JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid "
    "WHERE d.deptype IN ('a', 'i')) AS __s WHERE __s_rel = _1 AND __s_att = _2)"
)


# acldefault(kind, owner): the ACL an object of that kind has while its ACL column is NULL, as
# PostgreSQL 15's acldefault() (an owner name as aclitem prints it: quoted unless [a-z0-9_$])
_ROLE_NAME = (
    "(SELECT MIN(CASE WHEN regexp_full_match(tsg_name, '[a-z_][a-z0-9_$]*') THEN tsg_name "
    "ELSE '\"' || replace(tsg_name, '\"', '\"\"') || '\"' END) FROM pg_catalog.tsgres_names "
    "WHERE tsg_kind = 'r' AND tsg_oid = _2)"
)
_ACL_DEFAULTS = {  # kind -> (PUBLIC's privileges, the owner's)
    "r": ("", "arwdDxt"),
    "s": ("", "rwU"),
    "d": ("Tc", "CTc"),
    "f": ("X", "X"),
    "l": ("U", "U"),
    "L": ("", "rw"),
    "n": ("", "UC"),
    "t": ("", "C"),
    "F": ("", "U"),
    "S": ("", "U"),
    "T": ("U", "U"),
    "p": ("", "sA"),
}


def _acl_list(pub: str, own: str) -> str:
    items = ([f"'={pub}/'"] if pub else []) + ([f"'{own}'"] if own else [])
    return "[" + ", ".join(items) + "]" if items else "CAST([] AS VARCHAR[])"


_ACLDEFAULT = (
    "CASE WHEN _2 IS NULL THEN NULL ELSE list_transform(CASE _1 "
    + " ".join(f"WHEN '{k}' THEN {_acl_list(pub, own)}" for k, (pub, own) in _ACL_DEFAULTS.items())
    + " END, LAMBDA __i: CASE WHEN starts_with(__i, '=') THEN __i || _o "
    "ELSE _o || '=' || __i || '/' || _o END) END"
)


def _acldefault(args: list[exp.Expr]) -> exp.Expr:
    owner = expand(_ROLE_NAME, *args)
    return expand(_ACLDEFAULT, *args, o=owner)


def _proc_oid(x: exp.Expr) -> exp.Expr:
    """A function's OID: ``p.oid`` as it is; a name (``'f'::regproc``, which stays a name here) looked up."""
    if not _texty(x):
        return x
    return expand(
        "(SELECT MIN(tsg_oid) FROM pg_catalog.tsgres_names WHERE tsg_kind = 'p' AND tsg_display = _1)",
        x,
    )


def _template(t: str) -> Callable[[list[exp.Expr]], exp.Expr]:
    return lambda args: expand(t, *args)


TRUE, FALSE = "TRUE", "FALSE"
FUNCTIONS: dict[str, Callable[[list[exp.Expr]], exp.Expr]] = {
    "pg_table_is_visible": _template(_visible("c")),
    "pg_type_is_visible": _template(_visible("t")),
    "pg_function_is_visible": _template(_visible("p")),
    "pg_get_userbyid": _template(
        "COALESCE((SELECT MIN(tsg_name) FROM pg_catalog.tsgres_names WHERE tsg_kind = 'r' "
        "AND tsg_oid = _1), 'unknown (OID=' || CAST(_1 AS VARCHAR) || ')')"
    ),
    "format_type": _template(_FORMAT_TYPE),
    "acldefault": _acldefault,
    "pg_get_expr": _template("CAST(_1 AS VARCHAR)"),
    # (pretty, column 0: tsg_sub -1, sql/pgcatalog_tables.py's PRETTY_INDEX_DEF)
    "pg_get_indexdef": _template(
        _def(
            "i",
            "CASE WHEN COALESCE(_2, 0) = 0 AND COALESCE(CAST(_3 AS BOOLEAN), FALSE) THEN -1 ELSE COALESCE(_2, 0) END",
        )
    ),
    "pg_get_constraintdef": _template(_def("c")),
    "pg_get_viewdef": lambda args: expand(_def("v"), reg_in("c", args[0])),
    "pg_get_function_result": _template(_def("r")),
    "pg_get_function_arguments": _template(_def("a")),
    "pg_get_function_identity_arguments": _template(f"COALESCE({_def('y')}, {_def('a')})"),
    "obj_description": lambda args: _obj_description(args),
    "col_description": _template(_def("d", "_2")),
    "shobj_description": _template(
        "CASE WHEN _2 = 'pg_database' THEN " + _def("s") + " ELSE CAST(NULL AS VARCHAR) END"
    ),
    "pg_get_serial_sequence": lambda args: expand(_SERIAL_SEQUENCE, reg_in("c", args[0]), *args[1:2]),
    "pg_get_partkeydef": _template("CAST(NULL AS VARCHAR)"),
    "pg_get_statisticsobjdef_columns": _template("CAST(NULL AS VARCHAR)"),
    "pg_get_triggerdef": _template("CAST(NULL AS VARCHAR)"),
    "pg_get_function_sqlbody": _template("CAST(NULL AS VARCHAR)"),
    # (a user-defined function's; a builtin's is NULL here, where PostgreSQL prints an internal stub)
    "pg_get_functiondef": lambda args: expand(_def("f"), _proc_oid(args[0])),
    "pg_get_ruledef": _template("CAST(NULL AS VARCHAR)"),
    "pg_describe_object": _template("CAST(NULL AS VARCHAR)"),
    "pg_identify_object": _template("CAST(NULL AS VARCHAR)"),
    "pg_relation_is_publishable": _template(TRUE),
    "pg_encoding_to_char": _template("CASE _1 WHEN 6 THEN 'UTF8' WHEN 0 THEN 'SQL_ASCII' ELSE '' END"),
    "pg_char_to_encoding": _template("CASE upper(_1) WHEN 'UTF8' THEN 6 WHEN 'SQL_ASCII' THEN 0 ELSE -1 END"),
    # a relation that is no partition is its own only ancestor and root (psql's \d "Referenced by")
    "pg_partition_ancestors": lambda args: reg_in("c", args[0]),
    "pg_partition_root": lambda args: reg_in("c", args[0]),
    "pg_relation_size": _size,
    "pg_table_size": _size,
    "pg_total_relation_size": _size,
    "pg_indexes_size": _template("CAST(0 AS BIGINT)"),
    "pg_database_size": _database_size,
    "pg_tablespace_size": _template("CAST(0 AS BIGINT)"),
    # pg_default and pg_global, the only tablespaces, live in the data directory: ''
    "pg_tablespace_location": _template("CASE WHEN _1 IS NULL THEN NULL ELSE '' END"),
    "pg_size_pretty": _template(_SIZE_PRETTY),
    "pg_is_in_recovery": _template(FALSE),
    "pg_postmaster_start_time": lambda args: exp.cast(
        exp.Literal.string(STARTED.isoformat()), datatype("TIMESTAMPTZ")
    ),
    "pg_conf_load_time": lambda args: exp.cast(
        exp.Literal.string(STARTED.isoformat()), datatype("TIMESTAMPTZ")
    ),
    "txid_current": lambda args: exp.cast(exp.Literal.number(next(_xids)), datatype("BIGINT")),
    "pg_current_xact_id": lambda args: exp.cast(exp.Literal.number(next(_xids)), datatype("BIGINT")),
    "quote_ident": _template(_QUOTE_IDENT.replace("_1", "CAST(_1 AS VARCHAR)")),
    "quote_literal": _template(_QUOTE_LITERAL),
    "quote_nullable": _template(f"COALESCE({_QUOTE_LITERAL}, 'NULL')"),
    "parse_ident": _template(
        "list_transform(string_split(_1, '.'), LAMBDA __p: CASE WHEN __p LIKE '\"%\"' "
        "THEN replace(substr(__p, 2, length(__p) - 2), '\"\"', '\"') ELSE lower(__p) END)"
    ),
    "to_regclass": lambda args: lookup_name("c", args[0]),
    "to_regtype": lambda args: lookup_name("t", args[0]),
    "to_regnamespace": lambda args: lookup_name("n", args[0]),
    "to_regrole": lambda args: lookup_name("r", args[0]),
    "to_regproc": lambda args: expand(
        "(SELECT MIN(tsg_display) FROM pg_catalog.tsgres_names WHERE tsg_kind = 'p' AND tsg_name = _n)",
        n=lookup_name("p", args[0]),
    ),
    "_pg_expandarray": _template("UNNEST(LIST_TRANSFORM(_1, LAMBDA __v, __k: {'x': __v, 'n': __k}))"),
    "hypertable_size": _hypertable_size,
    "hypertable_approximate_size": _hypertable_size,  # (TimescaleDB 2.12's estimate: exact here)
    "approximate_row_count": _approximate_row_count,
    # an index of ours takes no bytes of its own (the series index is the table's)
    "hypertable_index_size": lambda args: expand(
        "(SELECT CAST(0 AS BIGINT) WHERE _o IS NOT NULL)", o=reg_in("c", args[0])
    ),
}
# functions returning rows, called in FROM: each expands to a subquery
TABLE_FUNCTIONS: dict[str, Callable[[list[exp.Expr]], exp.Expr]] = {
    # (relid [, the depth WITH ORDINALITY adds]): psql's trigger list reads it so
    "pg_partition_ancestors": lambda args: exp.select(
        exp.alias_(reg_in("c", args[0]), "relid"), exp.alias_(exp.Literal.number(1), "depth")
    ),
    # (text[] of 'name=value'): the options of a foreign-data wrapper, server, user mapping ...
    "pg_options_to_table": _template(
        "SELECT split_part(__o, '=', 1) AS option_name, substr(__o, strpos(__o, '=') + 1) AS option_value "
        "FROM (SELECT UNNEST(_1) AS __o)"
    ),
    "hypertable_detailed_size": _hypertable_detailed_size,
    "chunks_detailed_size": _chunks_detailed_size,
    "hypertable_compression_stats": _hypertable_compression_stats,
    "hypertable_columnstore_stats": _hypertable_compression_stats,
    "chunk_compression_stats": _chunk_compression_stats,
    "chunk_columnstore_stats": _chunk_compression_stats,
}


def _has_privilege(kind: str) -> Callable[[list[exp.Expr]], exp.Expr]:
    """has_table_privilege([user,] object, privilege) & co.: from pg_catalog.tsgres_privileges (what
    GRANT and REVOKE made, sql/roles.py); an object it does not list (a catalog table) is allowed.
    The two-argument form asks for current_user (sql/rewrite/session_functions.py supplies it)."""

    def build(args: list[exp.Expr]) -> exp.Expr:
        if len(args) < 3:
            return exp.true()  # (session_functions made the two-argument form a three-argument one)
        user, obj, priv = args[0], args[1], args[2]
        who = "tsg_role = CAST(_u AS VARCHAR)" if _texty(user) else "tsg_roleid = _u"
        if not _texty(obj):
            oid = obj
        elif kind == "d":
            oid = expand(
                "(SELECT MIN(tsg_oid) FROM pg_catalog.tsgres_names WHERE tsg_kind = 'd' AND tsg_name = _v)",
                v=_text(obj),
            )
        else:
            oid = lookup_name(kind, obj)
        letters = _privilege_letters(priv)
        if letters is None:
            return exp.true()
        test = " OR ".join(f"strpos(tsg_privs, '{c}') > 0" for c in letters) or "TRUE"
        return expand(
            f"COALESCE((SELECT bool_or({test}) FROM pg_catalog.tsgres_privileges "
            f"WHERE tsg_kind = '{kind}' AND {who} AND tsg_oid = _o), TRUE)",
            u=user,
            o=oid,
        )

    return build


def _privilege_letters(priv: exp.Expr) -> str | None:
    """'SELECT', 'select, insert', 'USAGE WITH GRANT OPTION' ... as aclitem letters (any of them
    answers true in PostgreSQL: a list means any of them)."""
    from sql.roles import PRIV_LETTER

    if not (isinstance(priv, exp.Literal) and priv.is_string):
        return None
    out = ""
    for part in priv.name.split(","):
        word = part.strip().upper().removesuffix(" WITH GRANT OPTION").strip()
        letter = PRIV_LETTER.get(word)
        if letter is None:
            return None
        out += letter
    return out


for _name in (
    "has_column_privilege "
    "has_any_column_privilege has_function_privilege has_sequence_privilege has_language_privilege "
    "has_tablespace_privilege has_type_privilege has_server_privilege pg_has_role "
    "pg_collation_is_visible pg_opclass_is_visible pg_operator_is_visible pg_conversion_is_visible "
    "pg_ts_config_is_visible pg_ts_dict_is_visible pg_ts_parser_is_visible pg_ts_template_is_visible "
    "pg_opfamily_is_visible"
).split():
    FUNCTIONS[_name] = _template(TRUE)
FUNCTIONS["has_table_privilege"] = _has_privilege("c")
FUNCTIONS["has_schema_privilege"] = _has_privilege("n")
FUNCTIONS["has_database_privilege"] = _has_privilege("d")


def catalog_functions(tree: exp.Expression, ctx: object) -> exp.Expression:
    """Expand calls of catalog functions (children first, so nested calls expand too)."""
    for node in reversed(list(tree.walk())):
        if not isinstance(node, exp.Anonymous):
            continue
        name = node.name.lower()
        parent = node.parent
        if isinstance(parent, exp.Table) and name in TABLE_FUNCTIONS:
            _from_function(parent, node, TABLE_FUNCTIONS[name])
            continue
        fn = FUNCTIONS.get(name)
        if fn is None:
            continue
        new = _keep_parameters(node, fn(list(node.expressions)))
        if node is tree:
            return cast(exp.Expression, new)
        node.replace(new)
    return tree


def _from_function(table: exp.Table, call: exp.Anonymous, fn: Callable[[list[exp.Expr]], exp.Expr]) -> None:
    """``FROM f(...) [AS a]`` -> ``FROM (SELECT ...) AS a`` (alias: the function's name, as PostgreSQL's)."""
    body = _keep_parameters(call, fn(list(call.expressions)))
    query = body.this if isinstance(body, exp.Paren) else exp.select("*").from_(exp.Subquery(this=body))
    alias = table.args.get("alias")
    if alias is None or not alias.name:
        alias = exp.TableAlias(this=exp.to_identifier(call.name.lower()))
    table.replace(exp.Subquery(this=query, alias=alias.copy()))


def _keep_parameters(call: exp.Expr, new: exp.Expr) -> exp.Expr:
    """The executor needs every $n of the statement: an argument the expansion ignores (the pretty
    flag of pg_get_indexdef ...) still appears, in a condition that is always true."""
    kept = {p.sql() for p in new.find_all(exp.Parameter)}
    dropped = [p for p in call.find_all(exp.Parameter) if p.sql() not in kept]
    if not dropped:
        return new
    cond = exp.and_(
        *(exp.Paren(this=exp.or_(exp.Is(this=p.copy(), expression=exp.null()), exp.true())) for p in dropped)
    )
    return exp.Case(ifs=[exp.If(this=cond, true=new)])
