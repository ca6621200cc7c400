"""Table privileges, enforced for sessions whose user is not a superuser (sql/roles.py).

SqlSession.execute asks only whether its user was found a superuser at the current roles epoch (one
attribute comparison); the rest runs for other users. What a statement needs is worked out once per
plan (``Prepared.memo["privileges"]``: plans are cached, and a plan is per catalog version, so the
tables it names stay the ones it reads) and checked against the ACLs at each execution:

- a query: SELECT on every table and view it names; the tables of a view's query are checked as the
  view's owner (as PostgreSQL does);
- INSERT: INSERT on the target (UPDATE too with ON CONFLICT DO UPDATE), SELECT on what it reads
  (and on the target with RETURNING); UPDATE / DELETE: UPDATE / DELETE, and SELECT when a WHERE,
  SET expression or RETURNING reads the target's columns; TRUNCATE: TRUNCATE;
- COPY FROM: INSERT; COPY TO: SELECT; EXPLAIN: what the explained statement needs;
- CREATE TABLE / VIEW: CREATE on the schema (the creator then owns it); ALTER / DROP: ownership;
- CREATE EXTENSION, CREATE/ALTER/DROP SEQUENCE and TYPE, TimescaleDB's management calls and COMMENT ON:
  superusers only in tsgres.

A failure is PostgreSQL's 42501 ``permission denied for table t`` (``must be owner of table t``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import sqlglot.expressions as exp

from sql import errors as E
from sql import roles

if TYPE_CHECKING:
    from sql.engine import Prepared, SqlSession
    from sql.session import Result

OWNER = "owner"


class Need(NamedTuple):
    key: str  # the object's ACL key (sql/roles.py)
    kind: str  # table | view | schema
    privilege: str  # an aclitem letter, or OWNER
    label: str  # "t", "s.t"
    via: str | None  # the ACL key of the view through which it is read (checked as its owner)


def run_checked(session: SqlSession, stmt: Prepared, params: list) -> Result:
    """``stmt`` run for a user who may not be a superuser: its privileges are checked first."""
    catalog = session.storage.catalog
    epoch = session.sql_engine.roles_epoch
    if roles.is_superuser(catalog, session.user):
        session.trusted_epoch = epoch  # (execute() skips all this from now on)
        return session._dispatch(stmt, params)
    needs = stmt.memo.get("privileges")
    if needs is None:
        needs = stmt.memo["privileges"] = needs_of(session, stmt)
    _check(session, needs)
    result = session._dispatch(stmt, params)
    if stmt.kind == "ddl" and isinstance(stmt.tree, exp.Create):
        own_created(session, stmt.tree)
    return result


def check(session: SqlSession, stmt: Prepared) -> None:
    """42501 unless the session's user may run ``stmt`` (a superuser may run anything)."""
    if not roles.is_superuser(session.storage.catalog, session.user):
        _check(session, needs_of(session, stmt))


def _check(session: SqlSession, needs: list[Need]) -> None:
    catalog = session.storage.catalog
    who_cache: dict[str, set[str] | None] = {}

    def who(user: str) -> set[str] | None:  # None: a superuser, who needs nothing
        if user not in who_cache:
            who_cache[user] = (
                None if roles.is_superuser(catalog, user) else roles.effective_roles(catalog, user)
            )
        return who_cache[user]

    for need in needs:
        user = session.user if need.via is None else roles.acl(catalog, need.via).owner_name()
        members = who(user)
        if members is None:
            continue
        a = roles.acl(catalog, need.key)
        if need.privilege == OWNER:
            if a.owner_name() not in members:
                raise E.InsufficientPrivilege(f"must be owner of {need.kind} {need.label}")
            continue
        if need.privilege not in roles.privileges_of(a, need.kind, members):
            raise E.InsufficientPrivilege(f"permission denied for {need.kind} {need.label}")


def needs_of(session: SqlSession, stmt: Prepared) -> list[Need]:
    kind = stmt.kind
    if kind in ("query", "signal"):
        return _reads(session, stmt.tree, None, set())
    if kind in ("insert", "update", "delete"):
        return _write(session, stmt.tree)
    if kind == "ddl":
        return _ddl(session, stmt.tree)
    if kind == "copy":
        return _copy(session, stmt.sql)
    if kind == "explain":
        from sql.explain import parse_explain
        from sql.parse import parse

        _opts, inner = parse_explain(stmt.sql)
        tree = parse(inner)
        if isinstance(tree, exp.Insert | exp.Update | exp.Delete):
            return _write(session, tree)
        return _reads(session, tree, None, set())
    if kind == "maintenance":
        from sql import maintenance

        return maintenance.needs(session, stmt.sql)
    if kind == "index":  # DROP / ALTER INDEX: the owner of its table
        from sql import indexes

        return [n for t in indexes.tables_named(session, stmt.sql) if (n := _owner_of(session, t))]
    if kind in ("extension", "timescale", "timescale_call", "timescale_rows", "comment", "sequence", "enum"):
        raise E.InsufficientPrivilege(f"permission denied: {stmt.command} needs a superuser in tsgres")
    return []


def _owner_of(session: SqlSession, table: exp.Table) -> Need | None:
    found = target(session, table)
    return None if found is None else Need(found[0], found[1], OWNER, found[2], None)


def target(session: SqlSession, table: exp.Table) -> tuple[str, str, str] | None:
    """(ACL key, kind, label) of a table or view reference; None: a catalog table, or nothing."""
    from sql.binder import is_catalog_ref, resolve_table

    if not isinstance(table, exp.Table) or not table.name or is_catalog_ref(table):
        return None
    schema = table.db or "public"
    label = table.name if not table.db else f"{table.db}.{table.name}"
    if session.sql_engine.view_sql(session.database, schema, table.name) is not None:
        return roles.view_key(session.database, schema, table.name), "view", label
    try:
        _rp, meta = resolve_table(session.storage, session.database, table)
    except E.SqlError:
        return None  # (the statement fails on it itself)
    return roles.table_key(meta.id), "table", label


def _reads(session: SqlSession, tree: exp.Expression | None, via: str | None, seen: set[str]) -> list[Need]:
    from sql.parse import parse

    if tree is None:
        return []
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    out: list[Need] = []
    for t in tree.find_all(exp.Table):
        if not t.db and t.name in ctes:
            continue
        found = target(session, t)
        if found is None:
            continue
        key, kind, label = found
        out.append(Need(key, kind, "r", label, via))
        if kind == "view" and key not in seen:
            seen.add(key)
            sql = session.sql_engine.view_sql(session.database, t.db or "public", t.name)
            if sql:
                out.extend(_reads(session, parse(sql), key, seen))
    return out


def _write(session: SqlSession, tree: exp.Expression) -> list[Need]:
    written = tree.this
    if isinstance(written, exp.Schema):
        written = written.this
    out: list[Need] = []
    found = target(session, written) if isinstance(written, exp.Table) else None
    if found is not None:
        key, kind, label = found
        letter = {exp.Insert: "a", exp.Update: "w", exp.Delete: "d"}[type(tree)]
        out.append(Need(key, kind, letter, label, None))
        reads_target = tree.args.get("returning") is not None
        if isinstance(tree, exp.Insert):
            conflict = tree.args.get("conflict")
            if conflict is not None and conflict.args.get("expressions"):
                out.append(Need(key, kind, "w", label, None))
        else:
            where = tree.args.get("where")
            sets = tree.expressions if isinstance(tree, exp.Update) else []
            reads_target = reads_target or (where is not None and where.find(exp.Column) is not None)
            reads_target = reads_target or any(
                isinstance(s, exp.EQ) and s.expression.find(exp.Column) is not None for s in sets
            )
        if reads_target:
            out.append(Need(key, kind, "r", label, None))
    rest = tree.copy()
    rest.set("this", None)
    return out + _reads(session, rest, None, set())


def _ddl(session: SqlSession, tree: exp.Expression) -> list[Need]:
    if isinstance(tree, exp.TruncateTable):
        out = []
        for t in tree.expressions:
            found = target(session, t)
            if found is not None:
                out.append(Need(found[0], found[1], "D", found[2], None))
        return out
    if isinstance(tree, exp.Create):
        what = (tree.args.get("kind") or "").upper()
        if what in ("TABLE", "VIEW"):
            table = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
            schema = table.db if isinstance(table, exp.Table) and table.db else "public"
            props = (tree.args.get("properties") or exp.Properties()).expressions
            if any(isinstance(p, exp.TemporaryProperty) for p in props):  # TEMPORARY on the database
                db = session.storage.catalog.database(session.database)
                return [Need(roles.database_key(db.id), "database", "T", session.database, None)]
            return [Need(roles.schema_key(session.database, schema), "schema", "C", schema, None)]
        if what == "INDEX":
            table = tree.this.args.get("table") if isinstance(tree.this, exp.Index) else None
            found = target(session, table) if isinstance(table, exp.Table) else None
            return [] if found is None else [Need(found[0], found[1], OWNER, found[2], None)]
        raise E.InsufficientPrivilege(f"permission denied to create {what.lower() or 'object'}")
    if isinstance(tree, exp.Drop | exp.Alter):
        out = []
        tables = (
            [tree.this]
            if isinstance(tree, exp.Alter)
            else tree.expressions or tree.args.get("tables") or [tree.this]
        )
        for t in tables:
            found = target(session, t) if isinstance(t, exp.Table) else None
            if found is not None:
                out.append(Need(found[0], found[1], OWNER, found[2], None))
        if (
            not out
            and isinstance(tree, exp.Drop)
            and (tree.args.get("kind") or "").upper()
            not in (
                "TABLE",
                "VIEW",
            )
        ):
            raise E.InsufficientPrivilege(
                f"permission denied to drop {(tree.args.get('kind') or '').lower()}"
            )
        return out
    return []


def _copy(session: SqlSession, sql: str) -> list[Need]:
    from sql.copy import parse_copy
    from sql.parse import parse

    cmd = parse_copy(sql)
    if cmd.query is not None:
        return _reads(session, parse(cmd.query), None, set())
    table = exp.Table(
        this=exp.to_identifier(cmd.table), db=exp.to_identifier(cmd.schema) if cmd.schema else None
    )
    found = target(session, table)
    if found is None:
        return []
    return [Need(found[0], found[1], "r" if cmd.direction == "out" else "a", found[2], None)]


def own_created(session: SqlSession, tree: exp.Create) -> None:
    """A table or view a non-superuser created is theirs."""
    table = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
    if not isinstance(table, exp.Table):
        return
    found = target(session, table)
    if found is None:
        return
    catalog = session.storage.catalog
    a = roles.acl(catalog, found[0])
    a.owner, a.items = session.user, None
    roles.save_acl(catalog, found[0], a)
    session.sql_engine.roles_changed()
