"""Temporary tables: ``CREATE TEMP | TEMPORARY TABLE ... [ON COMMIT PRESERVE ROWS | DELETE ROWS | DROP]``
(and ``CREATE TEMP TABLE ... AS``, ``SELECT ... INTO TEMP``).

A temporary table is an ordinary table of its schema that the session which made it drops when it
ends (disconnects, or ``DISCARD TEMP`` / ``DISCARD ALL``); ``ON COMMIT DROP`` drops it, and ``ON
COMMIT DELETE ROWS`` empties it, when the transaction block it is in ends (outside a block: when
each statement ends, as PostgreSQL's implicit transactions do). Each is recorded in the catalog's
meta until then, so a server that stopped without its sessions ending drops them when it starts.

Unlike PostgreSQL's, which live in a schema of the session's own (``pg_temp_N``), they are in the
schema they are created in: other sessions see them, and one cannot have the name of a table that
exists (42P07).
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from sqlglot import exp

from sql import errors as E

if TYPE_CHECKING:
    from sql.engine import SqlEngine, SqlSession

log = logging.getLogger("tsgres.sql")

_META = "temp_table:"


def created(session: SqlSession, schema: str, name: str, on_commit: str) -> None:
    """Table ``schema.name`` was just created temporary (``on_commit``: preserve, delete or drop)."""
    key = f"{_META}{session.database}:{schema}:{name}"
    session.storage.catalog.set_meta(key, json.dumps({"schema": schema, "name": name}))
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
    """At start-up: the temporary tables of sessions a stopped server did not end (what goes wrong
    is logged: the server starts all the same)."""
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
            session.temp_tables[(spec["schema"], spec["name"])] = "drop"
            _drop(session, spec["schema"], spec["name"])
        except Exception:  # a database dropped meanwhile: only the record is left
            log.warning("temporary table %s left from before could not be dropped", key, exc_info=True)
            engine.storage.catalog.set_meta(key, None)


def _drop(session: SqlSession, schema: str, name: str) -> None:
    _run(session, f"DROP TABLE IF EXISTS {_qualified(schema, name)}")
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


def _qualified(schema: str, name: str) -> str:
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
