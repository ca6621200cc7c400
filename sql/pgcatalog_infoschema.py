"""The rows of the emulated information_schema views, built from the same snapshot as pg_catalog.

Values follow PostgreSQL 15's view definitions (data_type from format_type, 'ARRAY' for arrays,
numeric precision and radix, datetime precision, character lengths from the typmod). Views that
describe what we do not have (triggers, referential constraints ...) are empty; routines lists the
user-defined functions only.
"""

from __future__ import annotations

from sql.pgcatalog import Row, generates
from sql.pgcatalog_model import (
    LANG_PLPGSQL,
    LANG_SQL,
    NS_CATALOG,
    Attribute,
    Relation,
    Snapshot,
)
from sql.roles import ALL_OF, LETTER_PRIV, effective_roles_from
from sql.roles import memberships as role_memberships
from sql.sequences import normalised

_INT_PRECISION = {21: 16, 23: 32, 20: 64, 700: 24, 701: 53}
_DATETIME = {1082, 1083, 1266, 1114, 1184, 1186}
_CHARLIKE = {1042, 1043, 25, 19}


def _column_type(s: Snapshot, att: Attribute) -> Row:
    t = s.type_by_oid.get(att.type_oid)
    mod = att.typmod
    if t is None:
        return {"data_type": "USER-DEFINED"}
    row: Row = {
        "data_type": _data_type(s, att.type_oid),
        "udt_catalog": s.database,
        "udt_schema": s.schema_names.get(t.namespace, "pg_catalog"),
        "udt_name": t.name,
    }
    if t.oid in _INT_PRECISION:
        row.update(numeric_precision=_INT_PRECISION[t.oid], numeric_precision_radix=2)
        if t.oid in (20, 21, 23):
            row["numeric_scale"] = 0
    elif t.oid == 1700:
        row["numeric_precision_radix"] = 10
        if mod >= 0:
            row.update(numeric_precision=((mod - 4) >> 16) & 0xFFFF, numeric_scale=(mod - 4) & 0xFFFF)
    elif t.oid in _DATETIME:
        row["datetime_precision"] = 0 if t.oid == 1082 else (6 if mod < 0 else mod & 0xFFFF)
    if t.oid in (1042, 1043) and mod >= 0:
        row.update(character_maximum_length=mod - 4, character_octet_length=(mod - 4) * 4)
    elif t.oid in _CHARLIKE and t.oid != 19:
        row["character_octet_length"] = 1073741824
    return row


def _rels(s: Snapshot) -> list[Relation]:
    """Tables and views, but not other sessions' temporary ones (as PostgreSQL's views leave out)."""
    return [r for r in s.relations if r.kind in ("r", "v") and r.schema.temp != "other"]


@generates("information_schema.schemata")
def schemata(s: Snapshot) -> list[Row]:
    return [
        {"catalog_name": s.database, "schema_name": n.name, "schema_owner": "postgres"}
        for n in s.schemas
        if n.name != "pg_toast"
    ]


@generates("information_schema.tables", split=True)
def tables(s: Snapshot) -> list[Row]:
    return [
        {
            "table_catalog": s.database,
            "table_schema": r.schema.name,
            "table_name": r.name,
            "table_type": "VIEW" if r.kind == "v" else "LOCAL TEMPORARY" if r.schema.temp else "BASE TABLE",
            "is_insertable_into": "YES" if r.kind == "r" else "NO",
            "is_typed": "NO",
        }
        for r in _rels(s)
    ]


@generates("information_schema.columns", split=True)
def columns(s: Snapshot) -> list[Row]:
    out = []
    # an identity column's sequence (its options are the identity's)
    identities = {q.owner_column: q.sequence for q in s.sequences if q.identity_of and q.owner_column}
    for r in _rels(s):
        for att in s.columns_of(r):
            out.append(
                {
                    "table_catalog": s.database,
                    "table_schema": r.schema.name,
                    "table_name": r.name,
                    "column_name": att.name,
                    "ordinal_position": att.num,
                    "column_default": None if att.generated else att.default,
                    "is_nullable": "NO" if att.not_null else "YES",
                    "dtd_identifier": str(att.num),
                    "is_self_referencing": "NO",
                    "is_identity": "NO",
                    "identity_cycle": "NO",
                    "is_generated": "ALWAYS" if att.generated else "NEVER",
                    "generation_expression": att.default if att.generated else None,
                    "is_updatable": "YES" if r.kind == "r" and r.meta is not None else "NO",
                    **_column_type(s, att),
                    **(_identity(att, identities.get((r.oid, att.num))) if att.identity else {}),
                }
            )
    return out


def _identity(att, state: dict | None) -> Row:
    """information_schema's identity columns of an identity column (its sequence's options)."""
    row: Row = {
        "is_identity": "YES",
        "identity_generation": "ALWAYS" if att.identity == "a" else "BY DEFAULT",
    }
    if state is not None:
        q = normalised(state)
        row.update(
            identity_start=str(q["start"]),
            identity_increment=str(q["inc"]),
            identity_maximum=str(q["max"]),
            identity_minimum=str(q["min"]),
            identity_cycle="YES" if q["cycle"] else "NO",
        )
    return row


@generates("information_schema.views")
def views(s: Snapshot) -> list[Row]:
    return [
        {
            "table_catalog": s.database,
            "table_schema": v.schema.name,
            "table_name": v.name,
            "view_definition": v.view_sql,
            "check_option": "NONE",
            "is_updatable": "NO",
            "is_insertable_into": "NO",
            "is_trigger_updatable": "NO",
            "is_trigger_deletable": "NO",
            "is_trigger_insertable_into": "NO",
        }
        for v in s.views
    ]


def _data_type(s: Snapshot, oid: int) -> str:
    """A column's or routine's data_type: format_type of a builtin type, 'ARRAY', or 'USER-DEFINED'."""
    t = s.type_by_oid.get(oid)
    if t is None:
        return "USER-DEFINED"
    if t.category == "A":
        return "ARRAY"
    return s.type_format(t) if t.namespace == NS_CATALOG else "USER-DEFINED"


_LANGUAGES = {LANG_SQL: "SQL", LANG_PLPGSQL: "PLPGSQL"}  # external_language: the name in upper case


@generates("information_schema.routines")
def routines(s: Snapshot) -> list[Row]:
    """The database's user-defined functions (PostgreSQL also lists every builtin: not here)."""
    return [
        {
            "specific_catalog": s.database,
            "specific_schema": s.schema_names.get(p.namespace, "public"),
            "specific_name": f"{p.name}_{p.oid}",
            "routine_catalog": s.database,
            "routine_schema": s.schema_names.get(p.namespace, "public"),
            "routine_name": p.name,
            "routine_type": "PROCEDURE" if p.kind == "p" else "FUNCTION",
            "data_type": None if p.kind == "p" else _data_type(s, p.rettype),
            "type_udt_catalog": s.database,
            "type_udt_schema": "pg_catalog",
            "type_udt_name": t.name if (t := s.type_by_oid.get(p.rettype)) is not None else None,
            "dtd_identifier": "0",
            "routine_body": "SQL" if p.lang == LANG_SQL else "EXTERNAL",
            "routine_definition": p.src,
            "external_language": _LANGUAGES.get(p.lang, "INTERNAL"),
            "parameter_style": "GENERAL",
            "is_deterministic": "YES" if p.volatile == "i" else "NO",
            "sql_data_access": "MODIFIES",
            "is_null_call": "YES" if p.strict else "NO",
            "schema_level_routine": "YES",
            "max_dynamic_result_sets": 0,
            "is_user_defined_cast": "NO",
            "is_implicitly_invocable": "NO",
            "security_type": "INVOKER",
            "as_locator": "NO",
            "is_udt_dependent": "NO",
        }
        for p in s.user_procs
    ]


def _constraint(s: Snapshot, i) -> Row:
    return {
        "constraint_catalog": s.database,
        "constraint_schema": i.table.schema.name,
        "constraint_name": i.constraint_name,
        "table_catalog": s.database,
        "table_schema": i.table.schema.name,
        "table_name": i.table.name,
    }


@generates("information_schema.table_constraints")
def table_constraints(s: Snapshot) -> list[Row]:
    return [
        _constraint(s, i)
        | {
            "constraint_type": "PRIMARY KEY" if i.primary else "UNIQUE",
            "is_deferrable": "NO",
            "initially_deferred": "NO",
            "enforced": "YES",
            "nulls_distinct": "YES",
        }
        for i in s.key_indexes
    ]


@generates("information_schema.key_column_usage")
def key_column_usage(s: Snapshot) -> list[Row]:
    return [
        _constraint(s, i) | {"column_name": name, "ordinal_position": k}
        for i in s.key_indexes
        for k, name in enumerate(i.column_names(), 1)
    ]


@generates("information_schema.constraint_column_usage")
def constraint_column_usage(s: Snapshot) -> list[Row]:
    return [_constraint(s, i) | {"column_name": name} for i in s.key_indexes for name in i.column_names()]


@generates("information_schema.character_sets")
def character_sets(s: Snapshot) -> list[Row]:
    return [
        {
            "character_set_name": "UTF8",
            "character_repertoire": "UCS",
            "form_of_use": "UTF8",
            "default_collate_catalog": s.database,
            "default_collate_schema": "pg_catalog",
            "default_collate_name": "C.UTF-8",
        }
    ]


@generates("information_schema.information_schema_catalog_name")
def catalog_name(s: Snapshot) -> list[Row]:
    return [{"catalog_name": s.database}]


@generates("information_schema.enabled_roles")
def enabled_roles(s: Snapshot) -> list[Row]:
    return [{"role_name": name} for _oid, name, _login in s.roles]


@generates("information_schema.sequences")
def sequences(s: Snapshot) -> list[Row]:
    bits = {"smallint": 16, "integer": 32, "bigint": 64}
    return [
        {
            "sequence_catalog": s.database,
            "sequence_schema": r.schema.name,
            "sequence_name": r.name,
            "data_type": q["type"],
            "numeric_precision": bits[q["type"]],
            "numeric_precision_radix": 2,
            "numeric_scale": 0,
            "start_value": str(q["start"]),
            "minimum_value": str(q["min"]),
            "maximum_value": str(q["max"]),
            "increment": str(q["inc"]),
            "cycle_option": "YES" if q["cycle"] else "NO",
        }
        for r in s.sequences
        if (q := r.sequence) is not None
    ]


def _table_grants(s: Snapshot, public: bool) -> list[Row]:
    """One row per privilege granted on our tables and views (sql/roles.py's ACLs; an owner's default
    ones when there is no ACL), granted to or by one of the session user's roles, as PostgreSQL's view."""
    mine = effective_roles_from(s.session.user, s.role_attributes, role_memberships(s.catalog))
    out: list[Row] = []
    for rel in s.tables + s.views:
        _key, a = s.acl_of(rel)
        owner = a.owner_name()
        items = a.items if a.items is not None else [[owner, ALL_OF["table"], owner]]
        for grantee, privs, grantor in items:
            if grantee == "" and not public:
                continue
            if grantee not in mine and grantor not in mine and not (public and grantee == ""):
                continue
            for letter in privs:
                word = LETTER_PRIV[letter]
                out.append(
                    {
                        "grantor": grantor,
                        "grantee": grantee or "PUBLIC",
                        "table_catalog": s.database,
                        "table_schema": rel.schema.name,
                        "table_name": rel.name,
                        "privilege_type": word,
                        "is_grantable": "YES" if grantee == owner else "NO",
                        "with_hierarchy": "YES" if word == "SELECT" else "NO",
                    }
                )
    return out


@generates("information_schema.table_privileges")
def table_privileges(s: Snapshot) -> list[Row]:
    return _table_grants(s, public=True)


@generates("information_schema.role_table_grants")
def role_table_grants(s: Snapshot) -> list[Row]:
    return _table_grants(s, public=False)
