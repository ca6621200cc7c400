"""The rows of the emulated pg_catalog relations (see sql/pgcatalog.py for OIDs and binding).

Each generator lists one relation's rows as dicts; columns left out take their type's default
(false, 0 or NULL). Relations without a generator are empty (pg_trigger, pg_policy, pg_enum ...).
``regproc`` columns hold function names, as PostgreSQL prints them ('-' for none).
"""

from __future__ import annotations

import datetime as dt
import re

from sqlglot import exp

from sql import constraints, foreign_keys, indexes
from sql import settings as S
from sql import types as pgt
from sql.pgcatalog import Row, generates
from sql.pgcatalog_model import (
    AM_BTREE,
    AM_HEAP,
    CATALOG_RELATIONS,
    CLASS_PG_CLASS,
    CLASS_PG_EXTENSION,
    CLASS_PG_NAMESPACE,
    CLASS_PG_PROC,
    CLASS_PG_TYPE,
    COLL_C,
    COLL_DEFAULT,
    ENCODING_UTF8,
    EXTENSIONS,
    LANG_INTERNAL,
    LANG_PLPGSQL,
    LANG_SQL,
    NS_CATALOG,
    NS_PUBLIC,
    NS_TIMESCALEDB_INFO,
    NS_TOAST,
    ROLE_SUPERUSER,
    TABLESPACE_DEFAULT,
    TIMESCALEDB_PROCS,
    TYPE_BY_OID,
    Relation,
    Schema,
    Snapshot,
    database_oid,
    hashed_oid,
    quote_ident,
)
from sql.roles import ALL_OF, Acl, Role, aclitems, effective_roles_from, privileges_of
from sql.roles import database_key as database_acl_key
from sql.roles import memberships as role_memberships
from sql.roles import schema_key as schema_acl_key
from sql.tables import is_hypertable, sql_columns

STARTED = dt.datetime.now(dt.UTC)


@generates("pg_namespace")
def pg_namespace(s: Snapshot) -> list[Row]:
    return [
        {"oid": n.oid, "nspname": n.name, "nspowner": n.owner, "nspacl": _nspacl(s, n)} for n in s.schemas
    ]


# the ACLs initdb gives (PostgreSQL 15): pg_dump compares public's with its own idea of them
_CATALOG_NSPACL = ["postgres=UC/postgres", "=U/postgres"]
_PUBLIC_NSPACL = ["pg_database_owner=UC/pg_database_owner", "=U/pg_database_owner"]


@generates("pg_init_privs")
def pg_init_privs(s: Snapshot) -> list[Row]:
    """The schemas' ACLs as initdb (privtype 'i': pg_catalog, public) or the timescaledb extension
    ('e': timescaledb_information) made them: pg_dump dumps an ACL where it differs from these."""
    initial = (
        (NS_CATALOG, "i", _CATALOG_NSPACL),
        (NS_PUBLIC, "i", _PUBLIC_NSPACL),
        (NS_TIMESCALEDB_INFO, "e", _CATALOG_NSPACL),
    )
    return [
        {"objoid": oid, "classoid": CLASS_PG_NAMESPACE, "objsubid": 0, "privtype": kind, "initprivs": acl}
        for oid, kind, acl in initial
    ]


def _nspacl(s: Snapshot, n: Schema) -> list[str] | None:
    if n.rp is None:
        return None if n.oid == NS_TOAST else _CATALOG_NSPACL
    stored = aclitems(s.acls.get(schema_acl_key(s.database, n.name)) or Acl(), "schema")
    return stored if stored is not None or n.oid != NS_PUBLIC else _PUBLIC_NSPACL


@generates("pg_database")
def pg_database(s: Snapshot) -> list[Row]:
    return [
        {
            "oid": database_oid(d.id),
            "datname": d.name,
            "datdba": ROLE_SUPERUSER,
            "encoding": ENCODING_UTF8,
            "datlocprovider": "c",
            "datallowconn": True,
            "datconnlimit": -1,
            "dattablespace": TABLESPACE_DEFAULT,
            "datcollate": "C.UTF-8",
            "datctype": "C.UTF-8",
        }
        for d in s.databases
    ]


def _relkind_defaults(rel: Relation) -> Row:
    if rel.kind == "i":
        return {"relam": rel.am or AM_BTREE, "relreplident": "n", "reltype": 0}
    if rel.kind == "v":
        return {"relam": 0, "relreplident": "n", "relhasrules": True}
    if rel.kind == "S":
        return {"relam": AM_HEAP, "relreplident": "n", "reltype": 0}
    return {"relam": AM_HEAP, "relreplident": "d"}


def _ownership(s: Snapshot, rel: Relation) -> Row:
    """relowner and relacl: what GRANT / REVOKE / OWNER TO made of ours (sql/roles.py)."""
    if rel.kind == "i" or (rel.meta is None and rel.view_sql is None):
        return {"relowner": ROLE_SUPERUSER}
    _key, a = s.acl_of(rel)
    return {
        "relowner": s.role_oids.get(a.owner_name(), ROLE_SUPERUSER),
        "relacl": aclitems(a, "table"),
    }


@generates("pg_class", split=True)
def pg_class(s: Snapshot) -> list[Row]:
    out = []
    # PostgreSQL enforces foreign keys with triggers, and psql lists a table's foreign keys (and
    # what references it) only when relhastriggers says it has some
    referenced = {(fk["schema"] or "public", fk["table"]) for t in s.tables for fk in t.foreign_keys}
    for rel in s.relations:
        size, rows = s.sizes.get(rel.oid, (0, 0))
        row: Row = {
            "oid": rel.oid,
            "relname": rel.name,
            "relnamespace": rel.schema.oid,
            "reltype": rel.row_type,
            **_ownership(s, rel),
            "relfilenode": rel.oid if rel.kind != "v" else 0,
            "relpages": size // 8192 if rel.kind != "i" else 1,
            # like an unanalysed table: -1 until chunk files hold rows (the memtable is not counted)
            "reltuples": float(rows) if rows else (0.0 if rel.kind == "i" else -1.0),
            "relhasindex": bool(rel.indexes),
            "relchecks": len(rel.checks),
            "relhastriggers": bool(rel.foreign_keys) or (rel.schema.name, rel.name) in referenced,
            "relpersistence": "t" if rel.schema.temp else "p",
            "relkind": rel.kind,
            "relnatts": len(s.columns_of(rel)),
            "relispopulated": True,
            **_relkind_defaults(rel),
        }
        out.append(row)
    return out


def _attribute_row(s: Snapshot, relid: int, att) -> Row:
    t = s.type_by_oid.get(att.type_oid) or TYPE_BY_OID[25]
    return {
        "attrelid": relid,
        "attname": att.name,
        "atttypid": att.type_oid,
        "attstattarget": -1,
        "attlen": t.len,
        "attnum": att.num,
        "attndims": 1 if t.is_array else 0,
        "attcacheoff": -1,
        "atttypmod": att.typmod,
        "attbyval": t.byval,
        "attalign": t.align,
        "attstorage": t.storage,
        "attcompression": "",
        "attnotnull": att.not_null,
        "atthasdef": att.default is not None,
        "attidentity": att.identity,
        "attgenerated": att.generated,
        "attislocal": True,
        "attcollation": t.collation,
    }


@generates("pg_attribute", split=True)
def pg_attribute(s: Snapshot) -> list[Row]:
    out = []
    for rel in s.relations:
        for att in s.columns_of(rel):
            out.append(_attribute_row(s, rel.oid, att))
    return out


@generates("pg_attrdef")
def pg_attrdef(s: Snapshot) -> list[Row]:
    """Column defaults; ``adbin`` holds the text pg_get_expr gives (sql/column_defaults.py)."""
    return [
        {
            "oid": _attrdef_oid(rel, att.num),
            "adrelid": rel.oid,
            "adnum": att.num,
            "adbin": att.default,
        }
        for rel in s.tables
        for att in rel.columns
        if att.default is not None
    ]


# types without binary input and output (typreceive / typsend "-" in PostgreSQL 15's pg_type)
_NO_BINARY_IO = frozenset(
    """aclitem any anyelement anynonarray anyenum anyrange anymultirange anycompatible
    anycompatiblenonarray anycompatiblerange anycompatiblemultirange trigger event_trigger internal
    language_handler fdw_handler table_am_handler index_am_handler tsm_handler pg_ddl_command""".split()
)


@generates("pg_type", split=True)
def pg_type(s: Snapshot) -> list[Row]:
    out = []
    for t in s.types:
        stem = t.input[:-2] if t.input.endswith("in") else t.input
        out.append(
            {
                "oid": t.oid,
                "typname": t.name,
                "typnamespace": t.namespace,
                "typowner": ROLE_SUPERUSER,
                "typlen": t.len,
                "typbyval": t.byval,
                "typtype": t.typtype,
                "typcategory": t.category,
                "typispreferred": t.preferred,
                "typisdefined": True,
                "typdelim": ",",
                "typrelid": t.relid,
                "typsubscript": t.subscript,
                "typelem": t.elem,
                "typarray": t.array,
                "typinput": t.input,
                "typoutput": stem + "out",
                "typreceive": "-" if t.name in _NO_BINARY_IO else stem + "recv",
                "typsend": "-" if t.name in _NO_BINARY_IO else stem + "send",
                "typmodin": t.modin,
                "typmodout": t.modin.replace("typmodin", "typmodout"),
                "typanalyze": "array_typanalyze" if t.is_array else "-",
                "typalign": t.align,
                "typstorage": t.storage,
                "typtypmod": -1,
                "typcollation": t.collation,
            }
        )
    return out


@generates("pg_enum")
def pg_enum(s: Snapshot) -> list[Row]:
    """The labels of the enum types (sql/enums.py), with their sort orders."""
    return [
        {
            "oid": hashed_oid("enum", str(e.oid), label),
            "enumtypid": e.oid,
            "enumsortorder": order,
            "enumlabel": label,
        }
        for e in s.enum_types
        for label, order in zip(e.labels, e.orders, strict=True)
    ]


@generates("pg_index")
def pg_index(s: Snapshot) -> list[Row]:
    rows = []
    for i in s.indexes:
        spec = i.spec or {}
        nkeys = len(spec["columns"]) if spec else len(i.keys)
        options = [indexes.option_bits(c) for c in spec["columns"]] if spec else [0] * nkeys
        exprs = [c["expr"] for c in spec.get("columns") or [] if "expr" in c]
        rows.append(
            {
                "indexrelid": i.relation.oid,
                "indrelid": i.table.oid,
                "indnatts": len(i.keys),
                "indnkeyatts": nkeys,
                "indisunique": i.unique,
                "indisprimary": i.primary,
                "indimmediate": True,
                "indisvalid": True,
                "indisready": True,
                "indislive": True,
                "indkey": i.keys,
                "indcollation": [s.type_by_oid[a.type_oid].collation for a in i.relation.columns][:nkeys],
                "indclass": [0] * nkeys,
                "indoption": options,
                "indexprs": ", ".join(exprs) if exprs else None,
                "indpred": spec.get("where"),
            }
        )
    return rows


def check_oid(table_oid: int, name: str) -> int:
    return hashed_oid("check", str(table_oid), name)


def _check_rows(s: Snapshot) -> list[Row]:
    out = []
    for t in s.tables:
        nums = {a.name: a.num for a in t.columns}
        for c in t.checks:
            cols = exp.maybe_parse(c["sql"], dialect="postgres").find_all(exp.Column)
            out.append(
                {
                    "oid": check_oid(t.oid, c["name"]),
                    "conname": c["name"],
                    "connamespace": t.schema.oid,
                    "contype": "c",
                    "convalidated": True,
                    "conrelid": t.oid,
                    "confupdtype": " ",
                    "confdeltype": " ",
                    "confmatchtype": " ",
                    "conislocal": True,
                    "conkey": sorted({nums[x.name] for x in cols if x.name in nums}),
                    "conbin": constraints.definition(c),
                }
            )
    return out


def foreign_key_oid(table_oid: int, name: str) -> int:
    return hashed_oid("fkey", str(table_oid), name)


def _foreign_key_rows(s: Snapshot) -> list[Row]:
    out = []
    by_name = {(t.schema.name, t.name): t for t in s.tables}
    for t in s.tables:
        nums = {a.name: a.num for a in t.columns}
        for fk in t.foreign_keys:
            parent = by_name.get((fk["schema"] or "public", fk["table"]))
            if parent is None:
                continue  # (the referenced table was dropped with CASCADE's semantics pending)
            pnums = {a.name: a.num for a in parent.columns}
            key = next(
                (
                    i
                    for i in parent.indexes
                    if i.unique and sorted(i.column_names()) == sorted(fk["ref_columns"])
                ),
                None,
            )
            out.append(
                {
                    "oid": foreign_key_oid(t.oid, fk["name"]),
                    "conname": fk["name"],
                    "connamespace": t.schema.oid,
                    "contype": "f",
                    "convalidated": True,
                    "conrelid": t.oid,
                    "conindid": key.relation.oid if key is not None else 0,
                    "confrelid": parent.oid,
                    "confupdtype": fk["on_update"],
                    "confdeltype": fk["on_delete"],
                    "confmatchtype": "s",
                    "conislocal": True,
                    "connoinherit": True,
                    "conkey": [nums.get(c, 0) for c in fk["columns"]],
                    "confkey": [pnums.get(c, 0) for c in fk["ref_columns"]],
                    "confdelsetcols": [nums.get(c, 0) for c in fk["on_delete_columns"]]
                    if fk.get("on_delete_columns")
                    else None,
                }
            )
    return out


@generates("pg_constraint")
def pg_constraint(s: Snapshot) -> list[Row]:
    return (
        _check_rows(s)
        + _foreign_key_rows(s)
        + [
            {
                "oid": i.constraint_oid,
                "conname": i.constraint_name,
                "connamespace": i.table.schema.oid,
                "contype": "p" if i.primary else "u",
                "convalidated": True,
                "conrelid": i.table.oid,
                "conindid": i.relation.oid,
                "confupdtype": " ",
                "confdeltype": " ",
                "confmatchtype": " ",
                "conislocal": True,
                "connoinherit": True,
                "conkey": i.keys,
            }
            for i in s.key_indexes
        ]
    )


@generates("pg_indexes")
def pg_indexes(s: Snapshot) -> list[Row]:
    return [
        {
            "schemaname": i.table.schema.name,
            "tablename": i.table.name,
            "indexname": i.relation.name,
            "indexdef": i.index_def(),
        }
        for i in s.indexes
    ]


@generates("pg_tables", split=True)
def pg_tables(s: Snapshot) -> list[Row]:
    return [
        {
            "schemaname": r.schema.name,
            "tablename": r.name,
            "tableowner": "postgres",
            "hasindexes": bool(r.indexes),
        }
        for r in s.relations
        if r.kind == "r"
    ]


@generates("pg_views", split=True)
def pg_views(s: Snapshot) -> list[Row]:
    return [
        {"schemaname": r.schema.name, "viewname": r.name, "viewowner": "postgres", "definition": r.view_sql}
        for r in s.relations
        if r.kind == "v"
    ]


@generates("pg_am")
def pg_am(s: Snapshot) -> list[Row]:
    return [
        {"oid": AM_HEAP, "amname": "heap", "amhandler": "heap_tableam_handler", "amtype": "t"},
        {"oid": AM_BTREE, "amname": "btree", "amhandler": "bthandler", "amtype": "i"},
        {"oid": 405, "amname": "hash", "amhandler": "hashhandler", "amtype": "i"},
        {"oid": 783, "amname": "gist", "amhandler": "gisthandler", "amtype": "i"},
        {"oid": 2742, "amname": "gin", "amhandler": "ginhandler", "amtype": "i"},
        {"oid": 4000, "amname": "spgist", "amhandler": "spghandler", "amtype": "i"},
        {"oid": 3580, "amname": "brin", "amhandler": "brinhandler", "amtype": "i"},
    ]


@generates("pg_collation")
def pg_collation(s: Snapshot) -> list[Row]:
    common = {"collnamespace": NS_CATALOG, "collowner": ROLE_SUPERUSER, "collisdeterministic": True}
    return [
        {"oid": COLL_DEFAULT, "collname": "default", "collprovider": "d", "collencoding": -1, **common},
        {"oid": COLL_C, "collname": "C", "collprovider": "c", "collencoding": -1, **common}
        | {"collcollate": "C", "collctype": "C"},
        {"oid": 951, "collname": "POSIX", "collprovider": "c", "collencoding": -1, **common}
        | {"collcollate": "POSIX", "collctype": "POSIX"},
    ]


@generates("pg_tablespace")
def pg_tablespace(s: Snapshot) -> list[Row]:
    return [
        {"oid": TABLESPACE_DEFAULT, "spcname": "pg_default", "spcowner": ROLE_SUPERUSER},
        {"oid": 1664, "spcname": "pg_global", "spcowner": ROLE_SUPERUSER},
    ]


@generates("pg_language")
def pg_language(s: Snapshot) -> list[Row]:
    return [
        {"oid": LANG_INTERNAL, "lanname": "internal", "lanowner": ROLE_SUPERUSER, "lanvalidator": 2246},
        {"oid": 13, "lanname": "c", "lanowner": ROLE_SUPERUSER, "lanvalidator": 2247},
        {"oid": LANG_SQL, "lanname": "sql", "lanowner": ROLE_SUPERUSER, "lanpltrusted": True},
        {"oid": LANG_PLPGSQL, "lanname": "plpgsql", "lanowner": ROLE_SUPERUSER, "lanispl": True}
        | {"lanpltrusted": True},
    ]


@generates("pg_extension")
def pg_extension(s: Snapshot) -> list[Row]:
    return [
        {
            "oid": oid,
            "extname": name,
            "extowner": ROLE_SUPERUSER,
            "extnamespace": ns,
            "extrelocatable": False,
            "extversion": version,
        }
        for oid, name, ns, version in s.extensions
    ]


@generates("pg_available_extensions")
def pg_available_extensions(s: Snapshot) -> list[Row]:
    installed = {name: version for _oid, name, _ns, version in s.extensions}
    return [
        {"name": name, "default_version": v, "installed_version": installed.get(name), "comment": desc}
        for name, (_oid, _ns, v, desc) in sorted(EXTENSIONS.items())
    ]


@generates("pg_description")
def pg_description(s: Snapshot) -> list[Row]:
    return [
        {"objoid": oid, "classoid": cls, "objsubid": sub, "description": text}
        for oid, cls, sub, text in s.descriptions
    ]


@generates("pg_shdescription")
def pg_shdescription(s: Snapshot) -> list[Row]:
    return [{"objoid": oid, "classoid": cls, "description": text} for oid, cls, text in s.shared_descriptions]


# tsgres_defs' kind of a description by its catalog (as sql/rewrite/catalog_functions.py's
# obj_description reads them); databases' (pg_shdescription, shobj_description) are 's'
_KIND_OF_CLASS = {
    CLASS_PG_CLASS: "d",
    CLASS_PG_NAMESPACE: "n",
    CLASS_PG_EXTENSION: "e",
    CLASS_PG_PROC: "p",
    CLASS_PG_TYPE: "t",
}


def _role(s: Snapshot, oid: int, name: str, login: bool) -> Row:
    r = s.role_attributes.get(name)
    if r is None:  # the bootstrap superuser, pg_database_owner, a password-file user
        superuser = oid == ROLE_SUPERUSER or name != "pg_database_owner"
        r = Role(name, oid, superuser, login, superuser, superuser, True, superuser, superuser)
    return {
        "oid": oid,
        "rolname": name,
        "rolsuper": r.superuser,
        "rolinherit": r.inherit,
        "rolcreaterole": r.createrole,
        "rolcreatedb": r.createdb,
        "rolcanlogin": r.login,
        "rolreplication": r.replication,
        "rolbypassrls": r.bypassrls,
        "rolconnlimit": r.connlimit,
        "rolvaliduntil": r.valid_until,
        "rolpassword": r.password,
    }


@generates("pg_authid")
def pg_authid(s: Snapshot) -> list[Row]:
    return [_role(s, *r) for r in s.roles]


@generates("pg_roles")
def pg_roles(s: Snapshot) -> list[Row]:
    return [_role(s, *r) | {"rolpassword": "********"} for r in s.roles]


@generates("pg_user", "pg_shadow")
def pg_user(s: Snapshot) -> list[Row]:
    out = []
    for r in s.roles:
        row = _role(s, *r)
        if not row["rolcanlogin"]:
            continue
        out.append(
            {
                "usename": row["rolname"],
                "usesysid": row["oid"],
                "usecreatedb": row["rolcreatedb"],
                "usesuper": row["rolsuper"],
                "userepl": row["rolreplication"],
                "usebypassrls": row["rolbypassrls"],
                "passwd": "********",
                "valuntil": row["rolvaliduntil"],
            }
        )
    return out


@generates("pg_auth_members")
def pg_auth_members(s: Snapshot) -> list[Row]:
    oids = s.role_oids
    return [
        {"roleid": oids[r], "member": oids[m], "grantor": oids.get(g, ROLE_SUPERUSER), "admin_option": admin}
        for r, m, admin, g in role_memberships(s.catalog)
        if r in oids and m in oids
    ]


@generates("pg_proc", split=True)
def pg_proc(s: Snapshot) -> list[Row]:
    return [
        {
            "oid": p.oid,
            "proname": p.name,
            "pronamespace": p.namespace,
            "proowner": ROLE_SUPERUSER,
            "prolang": p.lang or LANG_INTERNAL,
            "procost": 100.0 if p.lang else 1.0,  # (a user's SQL function: PostgreSQL's default cost)
            "prorows": 1000.0 if p.retset else 0.0,
            "provariadic": p.variadic,
            "prosupport": "-",
            "prokind": p.kind,
            "proisstrict": p.strict,
            "proretset": p.retset,
            "provolatile": p.volatile,
            "proparallel": "u" if p.lang else "s",
            "pronargs": len(p.argtypes),
            "prorettype": p.rettype,
            "proargtypes": list(p.argtypes),
            "prosrc": p.src or (p.name if p.kind == "f" else "aggregate_dummy"),
            "proargnames": list(p.argnames) if any(p.argnames) else None,
            "pronargdefaults": p.arguments.count(" DEFAULT ") if p.arguments else 0,
        }
        for p in s.procs
    ]


@generates("pg_aggregate", split=True)
def pg_aggregate(s: Snapshot) -> list[Row]:
    return [
        {
            "aggfnoid": p.name,
            "aggkind": "n",
            "aggtransfn": "-",
            "aggfinalfn": "-",
            "aggcombinefn": "-",
            "aggserialfn": "-",
            "aggdeserialfn": "-",
            "aggmtransfn": "-",
            "aggminvtransfn": "-",
            "aggmfinalfn": "-",
            "aggfinalmodify": "r",
            "aggmfinalmodify": "r",
            "aggtranstype": p.rettype,
        }
        for p in s.procs
        if p.kind == "a"
    ]


_VARTYPES = {"on": "bool", "off": "bool"}  # (a custom option's type, by its value)


@generates("pg_settings")
def pg_settings(s: Snapshot) -> list[Row]:
    """Every parameter PostgreSQL 15 has (sql/pg_gucs.py), tsgres's own and the session's custom
    ones: the session's value where it set one."""
    out: list[Row] = []
    defaults = S.every_default()
    for name, value in sorted({**defaults, **s.session.settings}.items()):
        default = defaults.get(name)
        known = S.described(name)
        setting = value
        if known is not None:
            vartype, raw, unit, context, enums, bounds = known
            if raw is not None and value == default:
                setting = raw  # (in the unit: work_mem's 4096 where SHOW says 4MB)
            elif value != default:
                setting = S.setting_in_unit(name, value)
        else:
            vartype = _VARTYPES.get(value) or ("integer" if value.lstrip("-").isdigit() else "string")
            unit, context, enums, bounds = None, "user", None, None
        out.append(
            {
                "name": S.spelled(name),
                "setting": setting,
                "unit": unit or None,
                "category": "Customized Options" if "." in name else "Client Connection Defaults",
                "short_desc": "",
                "context": context,
                "vartype": vartype,
                "source": "default" if value == default else "session",
                "min_val": None if bounds is None else str(bounds[0]),
                "max_val": None if bounds is None else str(bounds[1]),
                "enumvals": None if enums is None else list(enums),
                "boot_val": default if known is None or known[1] is None else known[1],
                "reset_val": default if default is not None else value,
                "pending_restart": False,
            }
        )
    return out


@generates("pg_stat_activity")
def pg_stat_activity(s: Snapshot) -> list[Row]:
    """Every client session of the server (sql/activity.py), the caller's own included."""
    own = s.session
    sessions = own.sql_engine.activity.sessions()
    if own not in sessions:
        sessions.append(own)  # a session no protocol attached (tests, HTTP)
    databases = {d.name: d.id for d in s.catalog.databases()}
    users = {name: oid for oid, name, _ in s.roles}
    out: list[Row] = []
    for session in sessions:
        conn = session.connection
        if session is own or (conn is not None and conn.busy()):
            state = "active"
        else:
            state = {"T": "idle in transaction", "E": "idle in transaction (aborted)"}.get(
                session.transaction_status, "idle"
            )
        started = (
            None if session.query_start is None else dt.datetime.fromtimestamp(session.query_start, dt.UTC)
        )
        db = databases.get(session.database)
        out.append(
            {
                "datid": None if db is None else database_oid(db),
                "datname": session.database,
                "pid": session.backend_pid,
                "usesysid": users.get(session.user, ROLE_SUPERUSER),
                "usename": session.user,
                "application_name": session.settings.get("application_name", ""),
                "client_addr": None if conn is None else conn.client_addr,
                "client_port": None if conn is None else conn.client_port,
                "backend_start": STARTED if conn is None else conn.backend_start,
                # an autocommit statement is its transaction; when a block began is not kept
                "xact_start": started if state == "active" and session.transaction_status == "I" else None,
                "query_start": started,
                "state_change": started,
                "state": state,
                "query": session.query,
                "backend_type": "client backend",
            }
        )
    return out


@generates("pg_cursors")
def pg_cursors(s: Snapshot) -> list[Row]:
    """This session's open cursors (DECLARE; protocol-level portals live in pgwire and are not listed)."""
    return [
        {
            "name": c.name,
            "statement": c.statement,
            "is_holdable": c.hold,
            "is_binary": c.binary,
            "is_scrollable": False,
            "creation_time": c.created,
        }
        for c in s.session.commands.cursors.values()
    ]


@generates("pg_stat_database")
def pg_stat_database(s: Snapshot) -> list[Row]:
    return [{"datid": database_oid(d.id), "datname": d.name} for d in s.databases]


def _table_stats(s: Snapshot) -> list[Row]:
    return [
        {
            "relid": t.oid,
            "schemaname": t.schema.name,
            "relname": t.name,
            "n_live_tup": s.sizes.get(t.oid, (0, 0))[1],
        }
        for t in s.tables
    ]


generates("pg_stat_user_tables", "pg_stat_all_tables", "pg_statio_user_tables")(_table_stats)


@generates("pg_stat_user_indexes")
def pg_stat_user_indexes(s: Snapshot) -> list[Row]:
    return [
        {
            "relid": i.table.oid,
            "indexrelid": i.relation.oid,
            "schemaname": i.table.schema.name,
            "relname": i.table.name,
            "indexrelname": i.relation.name,
        }
        for i in s.indexes
    ]


@generates("pg_timezone_names")
def pg_timezone_names(s: Snapshot) -> list[Row]:
    return [{"name": "UTC", "abbrev": "UTC", "utc_offset": dt.timedelta(0), "is_dst": False}]


# -- private relations behind the rewritten functions ---------------------------------------------------
@generates("tsgres_privileges")
def tsgres_privileges(s: Snapshot) -> list[Row]:
    """has_table_privilege & co. read it: every role's privileges on our relations, schemas and
    databases (catalog relations are not listed: everybody may read them)."""
    out: list[Row] = []
    members = role_memberships(s.catalog)
    objects: list[tuple[str, int, str, Acl]] = []
    for rel in s.tables + s.views:
        _key, a = s.acl_of(rel)
        objects.append(("c", rel.oid, "table", a))
    for sch in s.schemas:
        if sch.rp is not None:
            objects.append(
                ("n", sch.oid, "schema", s.acls.get(schema_acl_key(s.database, sch.name)) or Acl())
            )
    for d in s.databases:
        objects.append(("d", database_oid(d.id), "database", s.acls.get(database_acl_key(d.id)) or Acl()))
    for oid, name, _login in s.roles:
        r = s.role_attributes.get(name)
        superuser = name != "pg_database_owner" and (r is None or r.superuser)
        who = effective_roles_from(name, s.role_attributes, members)
        for kind, obj, what, a in objects:
            privs = ALL_OF[what] if superuser else privileges_of(a, what, who)
            out.append(
                {"tsg_kind": kind, "tsg_role": name, "tsg_roleid": oid, "tsg_oid": obj, "tsg_privs": privs}
            )
    return out


@generates("tsgres_names", split=True)
def tsgres_names(s: Snapshot) -> list[Row]:
    """Every spelling regclass/regtype/regnamespace/regrole input accepts, each OID's output, and
    whether it is visible on the search path."""
    out: list[Row] = []

    def add(kind: str, oid: int, display: str, names: list[str], visible: bool = True) -> None:
        for i, n in enumerate(dict.fromkeys(names)):
            out.append(
                {
                    "tsg_kind": kind,
                    "tsg_name": n,
                    "tsg_oid": oid,
                    "tsg_display": display,
                    "tsg_canonical": i == 0,
                    "tsg_visible": visible,
                }
            )

    for rel in s.relations:
        names = [f"{rel.schema.name}.{rel.name}"] + ([rel.name] if rel.visible else [])
        if rel.schema.temp == "own":  # (pg_temp: the session's own temporary schema)
            names.append(f"pg_temp.{rel.name}")
        add("c", rel.oid, rel.display, names, rel.visible)
    for t in s.types:
        fmt = s.type_format(t)
        visible = t.namespace in (NS_CATALOG, NS_PUBLIC)
        names = [f"{s.schema_names.get(t.namespace, 'pg_catalog')}.{t.name}"]
        if visible:
            names += [fmt] if t.oid == 18 else [t.name, fmt]  # unquoted char is bpchar
        if t.is_array and t.elem in s.type_by_oid and visible:
            names.append(s.type_by_oid[t.elem].name + "[]")
        names += _TYPE_ALIASES.get(t.oid, [])
        add("t", t.oid, fmt, names, visible)
    for n in s.schemas:
        add("n", n.oid, quote_ident(n.name), [n.name])
    for oid, name, _login in s.roles:
        add("r", oid, name, [name])
    for p in s.procs:
        add("p", p.oid, p.name, [p.name], p.namespace in (NS_CATALOG, NS_PUBLIC))
    for d in s.databases:
        add("d", database_oid(d.id), d.name, [d.name])
    return out


def _type_aliases() -> dict[int, list[str]]:
    """The names sql/types.py accepts for each type (and its array), first owner of a name wins."""
    owner: dict[str, int] = {}
    for t in pgt.TYPES:
        for a in (t.name, *t.aliases, t.sql_name):
            owner.setdefault(a, t.oid)
            owner.setdefault(a + "[]", t.array_oid)
    out: dict[int, list[str]] = {}
    for name, oid in owner.items():
        out.setdefault(oid, []).append(name)
    return out


_TYPE_ALIASES = _type_aliases()


PRETTY_INDEX_DEF = -1  # tsg_sub of pg_get_indexdef(index, 0, true) (sql/rewrite/catalog_functions.py)


def _def(kind: str, oid: int, text: str | None, sub: int = 0) -> Row:
    return {"tsg_kind": kind, "tsg_oid": oid, "tsg_sub": sub, "tsg_def": text}


@generates("tsgres_defs", split=True)
def tsgres_defs(s: Snapshot) -> list[Row]:
    """Definitions: index (i; column k, or 0 for the whole index), constraint (c), view (v), function
    result (r), arguments (a), a user-defined function's arguments without defaults (y) and CREATE
    statement (f), descriptions (d of relations, sub = column number; n of schemas, e of
    extensions, p of functions, s of databases)."""
    out: list[Row] = []
    for i in s.indexes:
        out.append(_def("i", i.relation.oid, i.index_def()))
        out.append(_def("i", i.relation.oid, i.index_def(pretty=True), PRETTY_INDEX_DEF))
        out.extend(_def("i", i.relation.oid, text, k) for k, text in enumerate(i.column_defs(), 1))
        if i.constraint_oid is not None:
            out.append(_def("c", i.constraint_oid, i.constraint_def()))
    for t in s.tables:
        out.extend(_def("c", check_oid(t.oid, c["name"]), constraints.definition(c)) for c in t.checks)
        out.extend(
            _def("c", foreign_key_oid(t.oid, fk["name"]), foreign_keys.definition(fk))
            for fk in t.foreign_keys
        )
    for v in s.views:
        out.append(_def("v", v.oid, " " + (v.view_sql or "").rstrip(";") + ";"))
    fmt = {t.oid: s.type_format(t) for t in s.types}
    for p in s.procs:
        args = [fmt.get(a, "unknown") for a in p.argtypes]
        if p.variadic and args:
            args[-1] = "VARIADIC " + args[-1]
        if p.result is not None:  # (a user-defined function's, SETOF or TABLE (...) included)
            out.append(_def("r", p.oid, p.result))
        elif p.kind == "p":
            pass  # (a procedure has no result: pg_get_function_result is NULL)
        else:
            out.append(_def("r", p.oid, ("SETOF " if p.retset else "") + fmt.get(p.rettype, "unknown")))
        out.append(_def("a", p.oid, p.arguments if p.arguments is not None else ", ".join(args)))
        if p.definition is not None:  # (a user-defined function: sql/user_functions.py)
            out.append(_def("y", p.oid, p.identity))
            out.append(_def("f", p.oid, p.definition))
    out.extend(_def(_KIND_OF_CLASS.get(cls, "?"), oid, text, sub) for oid, cls, sub, text in s.descriptions)
    out.extend(_def("s", oid, text) for oid, _cls, text in s.shared_descriptions)
    return out


@generates("tsgres_sizes")
def tsgres_sizes(s: Snapshot) -> list[Row]:
    """Per chunk of each of our tables: its chunk files' bytes and rows (what pg_relation_size & co.
    sum) and its memtables' (tsg_mem_*, which TimescaleDB's size functions add); whether it counts as
    compressed (tsg_compressed: the hypertable's compression enabled and no row of the chunk waiting
    in memory, as timescaledb_information.chunks says) and its rows' size uncompressed (tsg_raw_bytes,
    see :func:`_heap_row_bytes`); a row of zeros per hypertable, so that one without chunks is known
    as one; the database's total."""
    widths: dict[int, int] = {}
    out: list[Row] = []
    for c in s.chunks:
        t = c.table
        if t.oid not in widths:
            widths[t.oid] = _heap_row_bytes(s, t)
        out.append(
            {
                "tsg_oid": t.oid,
                "tsg_chunk": c.name,
                "tsg_hyper": _is_hypertable(t),
                "tsg_bytes": c.stats.file_bytes,
                "tsg_rows": c.stats.file_rows,
                "tsg_mem_bytes": c.stats.mem_bytes,
                "tsg_mem_rows": c.stats.mem_rows,
                "tsg_compressed": c.compressed,
                "tsg_raw_bytes": (c.stats.file_rows + c.stats.mem_rows) * widths[t.oid],
            }
        )
    out.extend({"tsg_oid": t.oid, "tsg_hyper": True} for t in s.tables if _is_hypertable(t))
    total = sum(b for b, _r in s.sizes.values())
    out.append({"tsg_oid": database_oid(s.db.id), "tsg_bytes": total})
    return out


# What a row of a table would take in a PostgreSQL heap, for TimescaleDB's "before compression"
# sizes: a heap tuple's header (23 bytes, aligned to 24) and its line pointer (4), then each column:
# its fixed length, or for text a one-byte header and the average length of the tag's values (a
# sample of them; a string field, whose values only the chunk files know, counts 16).
_HEAP_TUPLE_BYTES = 28
_FIXED_BYTES = {"bool": 1, "int2": 2, "int4": 4, "float4": 4, "date": 4, "oid": 4, "int8": 8, "float8": 8,
                "timestamptz": 8, "timestamp": 8, "time": 8, "money": 8, "timetz": 12, "interval": 16,
                "uuid": 16}  # fmt: skip
_TEXT_GUESS_BYTES = 16
_TAG_SAMPLE = 1000


def _heap_row_bytes(s: Snapshot, t: Relation) -> int:
    if t.meta is None:
        return _HEAP_TUPLE_BYTES
    index = s.session.storage.index(s.db.id)
    width = _HEAP_TUPLE_BYTES
    for c in sql_columns(t.meta):
        fixed = _FIXED_BYTES.get(c.type.name)
        if fixed is not None:
            width += fixed
        elif c.kind == "tag":
            values = index.tag_value_sample(t.meta.name, c.name, _TAG_SAMPLE)
            width += 1 + (sum(len(v.encode()) for v in values) // len(values) if values else 0)
        else:
            width += 1 + _TEXT_GUESS_BYTES
    return width


def _is_hypertable(t: Relation) -> bool:
    return t.meta is not None and is_hypertable(t.meta)


_MODKIND = {
    **{oid: (name, "", "none") for oid, name in ((16, "boolean"), (20, "bigint"), (21, "smallint"))},
    **{oid: (name, "", "none") for oid, name in ((23, "integer"), (700, "real"), (701, "double precision"))},
    1042: ("character", "", "len"),
    1043: ("character varying", "", "len"),
    1700: ("numeric", "", "num"),
    1083: ("time", " without time zone", "prec"),
    1266: ("time", " with time zone", "prec"),
    1114: ("timestamp", " without time zone", "prec"),
    1184: ("timestamp", " with time zone", "prec"),
}


@generates("tsgres_types", split=True)
def tsgres_types(s: Snapshot) -> list[Row]:
    """format_type() of each type: without typmod, with typmod -1, and what goes before and after
    a typmod (an array's typmod is its element's)."""
    out = []
    for t in s.types:
        fmt = s.type_format(t)
        is_array = t.is_array and t.elem in s.type_by_oid
        elem = s.type_by_oid[t.elem] if is_array else t
        suffix = "[]" if is_array else ""
        pre, post, kind = _MODKIND.get(elem.oid, (s.type_format(elem), "", ""))
        out.append(
            {
                "tsg_oid": t.oid,
                "tsg_fmt": fmt,
                "tsg_fmt_nomod": "bpchar" + suffix if elem.oid == 1042 else fmt,
                "tsg_pre": pre,
                "tsg_post": post + suffix,
                "tsg_modkind": kind,
            }
        )
    return out


@generates("pg_sequence")
def pg_sequence(s: Snapshot) -> list[Row]:
    from sql.sequences import TYPE_OIDS

    return [
        {
            "seqrelid": r.oid,
            "seqtypid": TYPE_OIDS[q["type"]],
            "seqstart": q["start"],
            "seqincrement": q["inc"],
            "seqmax": q["max"],
            "seqmin": q["min"],
            "seqcache": q["cache"],
            "seqcycle": q["cycle"],
        }
        for r in s.sequences
        if (q := r.sequence) is not None
    ]


@generates("pg_sequences")
def pg_sequences(s: Snapshot) -> list[Row]:
    return [
        {
            "schemaname": r.schema.name,
            "sequencename": r.name,
            "sequenceowner": "postgres",
            "data_type": q["type"],
            "start_value": q["start"],
            "min_value": q["min"],
            "max_value": q["max"],
            "increment_by": q["inc"],
            "cycle": q["cycle"],
            "cache_size": q["cache"],
            "last_value": q["last"] if q["called"] else None,
        }
        for r in s.sequences
        if (q := r.sequence) is not None
    ]


CLASS_PG_ATTRDEF, CLASS_PG_REWRITE = 2604, 2618
_NEXTVAL = re.compile(r"nextval\('((?:[^']|'')+)'::regclass\)")


@generates("pg_depend")
def pg_depend(s: Snapshot) -> list[Row]:
    """What PostgreSQL records and pg_dump orders its output by: a sequence owned by a column (OWNED
    BY, SERIAL: 'a', as psql's ``\\d`` reads it; an identity column's: 'i'), a column default on the sequence it calls ('n', and
    on its column 'a'), a view's rule on the view ('i') and on the relations it reads ('n'), and the
    timescaledb extension's objects ('e': pg_dump leaves them to CREATE EXTENSION)."""
    out: list[Row] = [  # (an identity column's sequence: 'i', as PostgreSQL records it)
        _dep(
            CLASS_PG_CLASS,
            r.oid,
            CLASS_PG_CLASS,
            r.owner_column[0],
            "i" if r.identity_of else "a",
            r.owner_column[1],
        )
        for r in s.sequences
        if r.owner_column is not None
    ]
    sequences = {(r.schema.name, r.name): r.oid for r in s.sequences}
    for rel in s.tables:
        for att in rel.columns:
            if att.default is None:
                continue
            oid = _attrdef_oid(rel, att.num)
            out.append(_dep(CLASS_PG_ATTRDEF, oid, CLASS_PG_CLASS, rel.oid, "a", att.num))
            for name in _NEXTVAL.findall(att.default):
                seq = _sequence_named(name.replace("''", "'"), sequences)
                if seq is not None:
                    out.append(_dep(CLASS_PG_ATTRDEF, oid, CLASS_PG_CLASS, seq, "n"))
    for view, rule, reads in _view_rules(s):
        out.append(_dep(CLASS_PG_REWRITE, rule, CLASS_PG_CLASS, view.oid, "i"))
        out.extend(_dep(CLASS_PG_REWRITE, rule, CLASS_PG_CLASS, oid, "n", num) for oid, num in reads)
    if any(name == "timescaledb" for _oid, name, _ns, _v in s.extensions):
        ext = EXTENSIONS["timescaledb"][0]
        out.append(_dep(CLASS_PG_NAMESPACE, NS_TIMESCALEDB_INFO, CLASS_PG_EXTENSION, ext, "e"))
        out.extend(
            _dep(CLASS_PG_CLASS, r.oid, CLASS_PG_EXTENSION, ext, "e")
            for r in CATALOG_RELATIONS
            if r.schema.oid == NS_TIMESCALEDB_INFO
        )
        out.extend(_dep(CLASS_PG_PROC, p.oid, CLASS_PG_EXTENSION, ext, "e") for p in TIMESCALEDB_PROCS)
    return out


def _dep(classid: int, objid: int, refclassid: int, refobjid: int, deptype: str, refsub: int = 0) -> Row:
    return {
        "classid": classid,
        "objid": objid,
        "objsubid": 0,
        "refclassid": refclassid,
        "refobjid": refobjid,
        "refobjsubid": refsub,
        "deptype": deptype,
    }


def _attrdef_oid(rel: Relation, num: int) -> int:
    return hashed_oid("attrdef", str(rel.oid), str(num))


def _sequence_named(name: str, sequences: dict[tuple[str, str], int]) -> int | None:
    """The sequence a nextval() argument names (schema-qualified, or on the search path)."""
    parts = [p[1:-1].replace('""', '"') if p.startswith('"') else p.lower() for p in name.split(".")]
    if len(parts) == 2:
        return sequences.get((parts[0], parts[1]))
    return sequences.get(("public", parts[0]))


def _view_rules(s: Snapshot) -> list[tuple[Relation, int, list[tuple[int, int]]]]:
    """Each view, the OID of its _RETURN rule, and the (relation OID, attnum) of what it reads: the
    columns it names of our tables and views (all of them for ``*``)."""
    from sql.parse import parse

    by_name: dict[tuple[str, str], Relation] = {(r.schema.name, r.name): r for r in s.tables + s.views}
    out = []
    for view in s.views:
        reads: list[tuple[int, int]] = []
        try:
            tree = parse(view.view_sql or "")
        except Exception:  # noqa: BLE001 - a view we cannot read depends on nothing we know of
            tree = None
        if tree is not None:
            ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
            named = {c.name.lower() for c in tree.find_all(exp.Column)}
            star = tree.find(exp.Star) is not None
            for ref in tree.find_all(exp.Table):
                if not ref.db and ref.name.lower() in ctes:
                    continue
                rel = by_name.get((ref.db.lower() if ref.db else view.schema.name, ref.name.lower()))
                if rel is None or rel is view or any(o == rel.oid for o, _ in reads):
                    continue
                cols = s.columns_of(rel)
                reads.extend((rel.oid, a.num) for a in cols if star or a.name.lower() in named)
                if not any(o == rel.oid for o, _ in reads):
                    reads.append((rel.oid, 0))
        out.append((view, hashed_oid("rule", str(view.oid)), reads))
    return out


@generates("pg_rewrite")
def pg_rewrite(s: Snapshot) -> list[Row]:
    """A view's ON SELECT DO INSTEAD rule (_RETURN), as PostgreSQL keeps it."""
    return [
        {
            "oid": rule,
            "rulename": "_RETURN",
            "ev_class": view.oid,
            "ev_type": "1",
            "ev_enabled": "O",
            "is_instead": True,
        }
        for view, rule, _reads in _view_rules(s)
    ]
