"""Temporary tables: ``CREATE TEMP | TEMPORARY TABLE ... [ON COMMIT PRESERVE ROWS | DELETE ROWS | DROP]``
(and ``CREATE TEMP TABLE ... AS``, ``SELECT ... INTO TEMP``, ``CREATE TABLE pg_temp.t``).

As in PostgreSQL, a session's temporary tables live in a schema of its own, ``pg_temp_N`` (N: the
smallest number no other live session holds), a retention policy like every other schema, made when
the session makes its first temporary table and dropped when the session ends. Names resolve through
it by rewriting the statement's tree once, at prepare (:func:`qualify`): an unqualified name of one
of the session's temporary tables, and ``pg_temp.x``, become ``pg_temp_N.x``, so binding, DML, DDL
and the native executor see an ordinary schema-qualified table. The session's temporary tables
thereby shadow permanent tables of the same name (pg_temp is searched first for relations, as in
PostgreSQL), other sessions do not find them by name, and two sessions may each have one of the same
name. Views over them (and ``CREATE TEMP VIEW``) are temporary too, recorded and dropped with
them. A session that holds a temporary schema plans under a key of its own (``plan_scope``): the plan
cache is shared by text, and the same text means another table there. Sessions without one pay
nothing per query.

The session drops its temporary tables when it ends (disconnects, or ``DISCARD TEMP`` / ``DISCARD
ALL``, which keep the schema, as PostgreSQL does); ``ON COMMIT DROP`` drops it, and ``ON COMMIT DELETE
ROWS`` empties it, when the transaction block it is in ends (outside a block: when each statement
ends, as PostgreSQL's implicit transactions do). Each is recorded in the catalog's meta until then, so
a server that stopped without its sessions ending drops them, and the temporary schemas, when it
starts.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from typing import TYPE_CHECKING

from sqlglot import exp

from columnar.errors import StorageError
from sql import errors as E

if TYPE_CHECKING:
    from sql.engine import SqlEngine, SqlSession

log = logging.getLogger("tsgres.sql")

_META = "temp_table:"
ALIAS = "pg_temp"  # a session's own temporary schema, whatever its number
_SCHEMA = re.compile(r"pg_temp_[0-9]+")
_held_lock = threading.Lock()  # (guards each SqlEngine's temp_numbers)


def is_temp_schema(name: str) -> bool:
    """Whether ``name`` is a session's temporary schema (``pg_temp_N``)."""
    return name.startswith("pg_temp_") and _SCHEMA.fullmatch(name) is not None


def schema_of(session: SqlSession) -> str:
    """The session's temporary schema's name, given to it on first use (made in the catalog by
    :func:`ensure_schema`); from then on the session plans under a key of its own."""
    name = session.temp_schema
    if name is not None:
        return name
    # (the smallest N free, as PostgreSQL numbers them by backend slot; one a stopped server left
    # in the catalog is not taken)
    taken = {rp.name for rp in session.storage.catalog.retention_policies(session.database)}
    with _held_lock:
        n = 1
        held = session.sql_engine.temp_numbers
        while n in held or f"pg_temp_{n}" in taken:
            n += 1
        held.add(n)
    name = session.temp_schema = f"pg_temp_{n}"
    session.plan_scope = (session.database, name)
    return name


def ensure_schema(session: SqlSession) -> str:
    """The session's temporary schema, made in the catalog (a retention policy) if it is not yet."""
    name = schema_of(session)
    try:
        session.storage.catalog.retention_policy(session.database, name)
    except StorageError:
        session.storage.catalog.create_retention_policy(session.database, name, 0)
        session.sql_engine.schema_changed()
    return name


def schema_named(session: SqlSession, schema: str | None, name: str, sequence: bool = False) -> str | None:
    """The schema a relation name given as text means (COMMENT ON, nextval('s')): ``pg_temp`` is the
    session's temporary schema, and an unqualified name of one of its temporary tables (or, with
    ``sequence``, of a sequence there: a SERIAL's) is there; else ``schema`` as given."""
    own = session.temp_schema
    if own is None:
        return schema
    if schema == ALIAS:
        return own
    if schema is None:
        if (own, name) in session.temp_tables:
            return own
        if sequence:
            from sql import sequences

            if sequences.exists(session, own, name):
                return own
    return schema


def qualify(session: SqlSession, tree: exp.Expression) -> exp.Expression:
    """Resolve the names of ``tree`` (just parsed) through the session's temporary schema, as
    PostgreSQL's search path does with pg_temp first: a table the session made temporary, named
    unqualified, and ``pg_temp.x``, become ``pg_temp_N.x``. The target of CREATE TEMP TABLE | VIEW
    (or of SELECT ... INTO TEMP) goes there too; a CREATE TABLE into ``pg_temp``, and a view over
    the session's temporary relations, are made temporary. 42P16 for a temporary relation in another
    schema; 0A000 for reading or writing another
    session's temporary tables. Called only when the session has a temporary schema or the text
    says "temp" (TEMP, TEMPORARY, pg_temp)."""
    own = session.temp_schema
    names = {name for schema, name in session.temp_tables if schema == own}
    target, temporary = _created(tree)
    ctes: set[str] | None = None
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier) or table is target:
            continue
        schema = table.db
        if schema == ALIAS:
            if own is None:
                raise E.UndefinedTable(f'relation "{ALIAS}.{table.name}" does not exist')
            table.set("db", exp.to_identifier(own))
        elif schema:
            if schema != own and is_temp_schema(schema) and isinstance(tree, _READS_OR_WRITES):
                raise E.FeatureNotSupported("cannot access temporary tables of other sessions")
        elif table.name in names:
            if ctes is None:
                ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
            if table.name not in ctes:
                table.set("db", exp.to_identifier(own))
    if target is None:
        return tree
    if not temporary and own is not None and _view_over_temporary(tree, own):
        # a view over the session's temporary relations is temporary too, as in PostgreSQL
        if not target.db:
            session.notice(E.Notice_(f'view "{target.name}" will be a temporary view'))
        _mark_temporary(tree)
        temporary = True
    if temporary:  # (else a permanent relation, made in its schema whatever temporary one has the name)
        if target.db and target.db != ALIAS and target.db != own:
            raise E.InvalidTableDefinition("cannot create temporary relation in non-temporary schema")
        target.set("db", exp.to_identifier(schema_of(session)))
    return tree


def _view_over_temporary(tree: exp.Expression, own: str) -> bool:
    if not isinstance(tree, exp.Create) or (tree.args.get("kind") or "").upper() != "VIEW":
        return False
    body = tree.expression
    return body is not None and any(t.db == own for t in body.find_all(exp.Table))


def _mark_temporary(tree: exp.Create) -> None:
    props = tree.args.get("properties")
    if props is None:
        props = exp.Properties(expressions=[])
        tree.set("properties", props)
    props.append("expressions", exp.TemporaryProperty())


_READS_OR_WRITES = (exp.Query, exp.Insert, exp.Update, exp.Delete)


def _created(tree: exp.Expression) -> tuple[exp.Table | None, bool]:
    """The table or view a CREATE TABLE | VIEW or SELECT ... INTO makes, and whether it is temporary
    (TEMP, or made in ``pg_temp``: then it is marked temporary here, as PostgreSQL makes it); (None,
    False) for any other statement."""
    if isinstance(tree, exp.Select):
        into = tree.args.get("into")
        if into is None or not isinstance(into.this, exp.Table):
            return None, False
        if into.this.db == ALIAS:
            into.set("temporary", True)
        return into.this, bool(into.args.get("temporary"))
    if not isinstance(tree, exp.Create):
        return None, False
    table = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
    if not isinstance(table, exp.Table):
        return None, False
    if (tree.args.get("kind") or "").upper() not in ("TABLE", "VIEW"):
        return table, False  # (an index, a sequence ...: made where named)
    props = tree.args.get("properties")
    if props is not None and any(isinstance(p, exp.TemporaryProperty) for p in props.expressions):
        return table, True
    if table.db != ALIAS:
        return table, False
    _mark_temporary(tree)
    return table, True


def session_ended(session: SqlSession) -> None:
    """The session ends: its temporary tables go, then its temporary schema, and its number is free."""
    if session.temp_tables:
        drop_all(session)
    name = session.temp_schema
    if name is None:
        return
    try:
        session.storage.catalog.drop_retention_policy(session.database, name)
        session.sql_engine.schema_changed()
    except StorageError:
        pass  # (never made: a CREATE TEMP TABLE prepared, not run)
    except Exception:  # the session ends all the same; the server drops it when it starts next
        log.warning("dropping temporary schema %s failed", name, exc_info=True)
    with _held_lock:
        session.sql_engine.temp_numbers.discard(int(name.rsplit("_", 1)[1]))
    session.temp_schema = None
    session.plan_scope = session.database


def created(session: SqlSession, schema: str, name: str, on_commit: str) -> None:
    """Table ``schema.name`` was just created temporary (``on_commit``: preserve, delete or drop), or
    is a temporary view (``on_commit`` "view": dropped with the session's tables)."""
    key = f"{_META}{session.database}:{schema}:{name}"
    spec = {"schema": schema, "name": name, **({"view": True} if on_commit == "view" else {})}
    session.storage.catalog.set_meta(key, json.dumps(spec))
    session.temp_tables[(schema, name)] = on_commit


def statement_ended(session: SqlSession) -> None:
    """A statement ended outside a transaction block (COMMIT or ROLLBACK ended one, or it was its own
    transaction): the ON COMMIT actions."""
    if session.temp_cleanup:
        return  # (the cleanup's own statements)
    session.temp_cleanup = True
    try:
        for (schema, name), on_commit in list(session.temp_tables.items()):
            if on_commit == "drop":
                _drop(session, schema, name)
            elif on_commit == "delete":
                _run(session, f"TRUNCATE {_qualified(schema, name)}")
    finally:
        session.temp_cleanup = False


def drop_all(session: SqlSession) -> None:
    """The session ends (or DISCARD TEMP): every temporary table of it goes."""
    session.temp_cleanup = True
    try:
        for schema, name in list(session.temp_tables):
            try:
                _drop(session, schema, name)
            except Exception:  # (a table another session dropped first ...): the rest still go
                log.warning("dropping temporary table %s.%s failed", schema, name, exc_info=True)
                session.temp_tables.pop((schema, name), None)
    finally:
        session.temp_cleanup = False


def forget(session: SqlSession, schema: str, name: str) -> None:
    """A temporary table was dropped by DROP TABLE (or renamed away)."""
    if session.temp_tables.pop((schema, name), None) is not None:
        session.storage.catalog.set_meta(f"{_META}{session.database}:{schema}:{name}", None)


def rename_records(session: SqlSession, schema: str, name: str, new: str) -> dict[str, str | None]:
    """The catalog meta changes (key -> value, None deletes) that record temporary table
    ``schema.name`` as ``schema.new`` (ALTER TABLE ... RENAME TO: it stays temporary); empty when it
    is not one. :func:`renamed` follows once they are stored."""
    key = f"{_META}{session.database}:{schema}:{name}"
    if session.storage.catalog.get_meta(key) is None:
        return {}
    value = json.dumps({"schema": schema, "name": new})
    return {key: None, f"{_META}{session.database}:{schema}:{new}": value}


def renamed(session: SqlSession, schema: str, name: str, new: str) -> None:
    """Temporary table ``schema.name`` was renamed ``new`` (its records: :func:`rename_records`)."""
    on_commit = session.temp_tables.pop((schema, name), None)
    if on_commit is not None:
        session.temp_tables[(schema, new)] = on_commit


def drop_leftovers(engine: SqlEngine) -> None:
    """At start-up: the temporary tables of sessions a stopped server did not end, and their
    temporary schemas (what goes wrong is logged: the server starts all the same)."""
    try:
        items = engine.storage.catalog.meta_items(_META)
    except Exception:
        log.warning("temporary tables left from before could not be listed", exc_info=True)
        return
    for key, value in items:
        database = key[len(_META) :].split(":", 1)[0]
        spec = json.loads(value)
        try:
            session = engine.session(database)
            session.temp_tables[(spec["schema"], spec["name"])] = "view" if spec.get("view") else "drop"
            _drop(session, spec["schema"], spec["name"])
        except Exception:  # a database dropped meanwhile: only the record is left
            log.warning("temporary table %s left from before could not be dropped", key, exc_info=True)
            engine.storage.catalog.set_meta(key, None)
    try:
        catalog = engine.storage.catalog
        for db in catalog.databases():
            for rp in catalog.retention_policies(db.name):
                if is_temp_schema(rp.name):
                    catalog.drop_retention_policy(db.name, rp.name)
    except Exception:
        log.warning("temporary schemas left from before could not be dropped", exc_info=True)


def _drop(session: SqlSession, schema: str, name: str) -> None:
    kind = "VIEW" if session.temp_tables.get((schema, name)) == "view" else "TABLE"
    _run(session, f"DROP {kind} IF EXISTS {_qualified(schema, name)}")
    forget(session, schema, name)


def _run(session: SqlSession, sql: str) -> None:
    status = session.transaction_status
    session.transaction_status = "I"  # (a failed block's ROLLBACK still cleans up)
    try:
        result = session.execute(session.prepare(sql, []), [])
        for _ in result.batches:
            pass
    finally:
        session.transaction_status = status


def _qualified(schema: str, name: str) -> str:  # (schema: pg_temp_N, or public for older records)
    table = exp.Table(this=exp.to_identifier(name, quoted=True))
    if schema != "public":
        table.set("db", exp.to_identifier(schema, quoted=True))
    return table.sql("postgres")


def on_commit(tree: exp.Create, sql: str) -> str | None:
    """The ON COMMIT action of a CREATE TABLE (None: not temporary); 42P16 for ON COMMIT on a
    permanent table."""
    from sql.parse import ON_COMMIT_DROP

    props = (tree.args.get("properties") or exp.Properties()).expressions
    temporary = any(isinstance(p, exp.TemporaryProperty) for p in props)
    commit = next((p for p in props if isinstance(p, exp.OnCommitProperty)), None)
    if commit is not None and not temporary:
        raise E.InvalidTableDefinition("ON COMMIT can only be used on temporary tables")
    if not temporary:
        return None
    if ON_COMMIT_DROP.search(sql):
        return "drop"
    return "delete" if commit is not None and commit.args.get("delete") else "preserve"
