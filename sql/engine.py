"""The SQL engine: parse -> rewrite -> bind -> run, behind the :class:`sql.session.Session` protocol.

``SqlEngine`` is shared by all connections (storage engine, one in-memory DuckDB database);
``SqlSession`` is one client's session: settings, transaction status, cursors. Statements are
classified once at prepare time:

- session statements (SET, SHOW, BEGIN, DECLARE ...) -> sql/commands.py
- queries -> rewrite rules (sql/rewrite), binding of our tables to pushed-down storage scans
  (sql/binder.py), then DuckDB streams the result as Arrow batches
- INSERT / DELETE / UPDATE -> sql/dml.py; COPY -> sql/copy.py; DDL -> sql/ddl.py
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as _dt
import itertools
import json
import logging
import re
import threading
import time as _time
import zoneinfo
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import NoReturn, TypeVar

import duckdb
import pyarrow as pa
from sqlglot import exp

from columnar.engine import Engine
from columnar.errors import DatabaseNotFound, StorageError, TableNotFound
from sql import activity as _activity
from sql import (
    arrays,
    column_origin,
    commands,
    comments,
    constraints,
    ddl,
    dml,
    duck,
    enums,
    executor,
    foreign_keys,
    gapfill,
    generated,
    identity,
    indexes,
    maintenance,
    modifying_ctes,
    plan_cache,
    planner,
    plpgsql,
    privileges,
    procedures,
    roles,
    sequences,
    temp_tables,
    timescale,
    transaction,
    user_functions,
)
from sql import errors as E
from sql import immediate as _immediate
from sql import settings as S
from sql.binder import (
    Binding,
    BoundPlan,
    NativeBody,
    bind,
    bind_plan,
    is_catalog_ref,
    native_bodies,
    open_scans,
)
from sql.copy import parse_copy, read_chunks
from sql.deadlines import DEADLINES, Deadline
from sql.explain import JSON_OID, ExplainOptions, as_json, parse_explain
from sql.parse import command_word, parse
from sql.pgcatalog_model import Snapshot
from sql.planner import NativePlan
from sql.read_ahead import read_ahead
from sql.rewrite import RewriteContext, pg_json, rewrite
from sql.rewrite.pg_types import carrier
from sql.session import ColumnDesc, CopyRequest, Result, Statement
from sql.tables import TIME_NS, instant_ns, sql_columns, to_write_batch
from sql.types import BY_OID, TEXT, from_arrow, from_duckdb

BATCH_ROWS = 65536
_CREATE_INDEX = re.compile(r"\s*CREATE\s+(?:UNIQUE\s+)?INDEX\b", re.I)
_DECLARE_QUERY = re.compile(r"\bCURSOR\s+(?:WITH(?:OUT)?\s+HOLD\s+)?FOR\s+(.*)$", re.I | re.S)
VERSION = "0.1.0"
_pids = itertools.count(1000)


@dataclass
class Prepared(Statement):
    # command | query | insert | delete | update | ddl | copy | hypertable | extension | comment | explain
    kind: str = ""
    tree: exp.Expression | None = None
    native: NativePlan | None = None  # set when the native executor answers the query
    # values of parameters the plan cache lifted out of the client's text (sql/plan_cache.py),
    # appended to the client's own parameters at execution
    extra_params: tuple = ()
    constant: pa.Table | None = None  # a query of constants only: its result, computed once
    # shared by the plan-cache instances of one plan: the rewritten tree for execution, when the
    # rewrite put no session values into it (key "rewritten")
    memo: dict = dataclasses.field(default_factory=dict)
    version: int = -1  # the catalog version it was planned at (SqlEngine.catalog_version)


_TIMESTAMP = exp.DataType.Type.TIMESTAMP
_R = TypeVar("_R")


def _body_type(t: pa.DataType) -> bool:
    """A native body's column type that the native executor and DuckDB give alike (an interval or a
    list is DuckDB's to compute)."""
    return (
        pa.types.is_floating(t)
        or pa.types.is_integer(t)
        or pa.types.is_boolean(t)
        or pa.types.is_string(t)
        or pa.types.is_decimal(t)  # (numeric: the same decimal both ways, checked per result)
        or (pa.types.is_timestamp(t) and t.unit == "us")
    )


class SqlEngine:
    def __init__(self, storage: Engine) -> None:
        self.storage = storage
        self.duck = duck.connect()
        self._row_time_lock = threading.Lock()
        self._row_time = 0
        self._plans: OrderedDict[tuple, Prepared] = OrderedDict()
        self._plans_lock = threading.Lock()
        self._views: dict[tuple, str | None] = {}
        self.activity = _activity.Activity()  # live sessions: pg_stat_activity, pg_cancel_backend
        self.activity.install(self.duck)  # (pg_cancel_backend / pg_terminate_backend, per row)
        sequences.install(self.duck)  # (nextval / currval / setval / lastval, per row)
        self.roles_epoch = object()  # replaced by every role or privilege change (sql/roles.py)
        # (table id, columns) -> (its TableMeta, the arrow schema DuckDB cast INSERT VALUES to: sql/dml.py)
        self.values_schemas: dict[tuple[int, tuple[str, ...]], tuple[object, pa.Schema]] = {}
        self.temp_numbers: set[int] = set()  # the N of live sessions' pg_temp_N (sql/temp_tables.py)

    PLAN_CACHE_SIZE = 1000

    @property
    def catalog_version(self) -> int:
        """The storage catalog's schema version: bumped by DDL, and also by a line-protocol write that
        adds a field or a table, an InfluxQL DROP ...; cached plans and views of older versions are
        not used."""
        return self.storage.catalog.schema_version

    def schema_changed(self) -> None:
        self.storage.catalog.schema_changed()

    def roles_changed(self) -> None:
        """Roles, memberships or privileges changed: sessions check their user again (sql/privileges.py)."""
        self.roles_epoch = object()
        self.schema_changed()

    def cached_plan(self, key: tuple) -> Prepared | None:
        with self._plans_lock:
            p = self._plans.get(key)
            if p is not None:
                self._plans.move_to_end(key)
            return p

    def cache_plan(self, key: tuple, prepared: Prepared | list) -> None:
        with self._plans_lock:
            self._plans[key] = prepared
            while len(self._plans) > self.PLAN_CACHE_SIZE:
                self._plans.popitem(last=False)

    def template_variants(self, key: tuple) -> list[plan_cache.Variant] | None:
        """The plans of one statement template (sql/plan_cache.py); an empty list: not liftable."""
        return self.cached_plan(("template", *key))  # type: ignore[return-value]

    def add_template_variant(self, key: tuple, variant: plan_cache.Variant | None) -> None:
        with self._plans_lock:
            variants = self._plans.get(("template", *key))
        variants = list(variants or [])
        if variant is not None:
            variants = [variant, *variants][: plan_cache.MAX_VARIANTS]
        self.cache_plan(("template", *key), variants)

    def view_sql(self, database: str, schema: str, name: str) -> str | None:
        """A view's stored query (None: no such view), remembered until the next DDL."""
        key = (database, schema, name, self.catalog_version)
        hit = self._views.get(key, self)
        if hit is not self:
            return hit  # type: ignore[return-value]
        sql = self.storage.catalog.get_meta(ddl.view_key(database, schema, name))
        if len(self._views) > 10_000:
            self._views.clear()
        self._views[key] = sql
        return sql

    def user_functions(self, database: str) -> dict[tuple[str, str], list]:
        """The user-defined SQL functions of ``database`` by (schema, name), remembered until the next DDL."""
        key = ("functions", database, self.catalog_version)
        hit = self._views.get(key)
        if hit is None:
            hit = {}
            for fn in user_functions.all_functions(self.storage.catalog, database):
                hit.setdefault((fn.schema, fn.name), []).append(fn)
            if len(self._views) > 10_000:
                self._views.clear()
            self._views[key] = hit
        return hit

    def session(
        self, database: str, user: str = "postgres", options: dict[str, str] | None = None
    ) -> SqlSession:
        return SqlSession(self, database, user, options or {})

    def close(self) -> None:
        self.duck.close()

    def next_row_times(self, n: int) -> int:
        """The first of n increasing row times for tables without a timestamp column (insert order)."""
        with self._row_time_lock:
            start = max(self._row_time, _time.time_ns())
            self._row_time = start + n
            return start


def _datetime_of(e: exp.Expression, params: list) -> _dt.datetime | None:
    """The datetime of a timestamp literal (ISO text) or of a ``$n`` parameter bound to one; None for
    anything else."""
    if isinstance(e, exp.Literal) and e.is_string:
        try:
            return _dt.datetime.fromisoformat(e.this)
        except ValueError:
            return None
    if isinstance(e, exp.Parameter) and e.this.name.isdigit() and int(e.this.name) <= len(params):
        value = params[int(e.this.name) - 1]
        return value if isinstance(value, _dt.datetime) else None
    return None


def _zone(tz: str) -> _dt.tzinfo | None:
    """The session TimeZone setting as a tzinfo; None for a zone Python does not know."""
    if tz == "UTC":
        return _dt.UTC
    try:
        return zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


# interval units whose length the session's zone decides (a day across a DST change)
_CALENDAR = re.compile(r"(?<![A-Z])(DAYS?|WEEKS?|D|W)(?![A-Z])", re.IGNORECASE)


SUBQUERY_PUSHDOWN_VALUES = 10_000  # tag IN (SELECT ...): at most this many values narrow the scan


class SqlSession:
    # pgwire's event loop (sql/immediate.py): the deadline of an execution there (0: none), and the
    # template instance the last lookup found for the next prepare
    loop_deadline: float = 0.0
    looked_up: tuple | None = None
    # a native execution's statement_timeout, as a perf_counter() time (0: none): the native scan
    # notices a timeout only at its interrupt() anyway, so no timer thread is armed for it
    native_deadline: float = 0.0
    # set by EXPLAIN ANALYZE while it runs a native plan: what the executor's scans report
    analysis: executor.Analysis | None = None
    # while a statement that calls pg_cancel_backend / pg_terminate_backend runs (_run_signal): the
    # token of its SignalCall, which the rewrite puts into its calls (0: none)
    _signal_call: int = 0

    def __init__(self, engine: SqlEngine, database: str, user: str, options: dict[str, str]) -> None:
        self.sql_engine = engine
        self.storage = engine.storage
        try:
            self.storage.catalog.database(database)
        except DatabaseNotFound:
            raise E.InvalidCatalogName(f'database "{database}" does not exist') from None
        self.database = database
        self.user = user
        roles.check_login(self.storage.catalog, user, database)
        self.trusted_epoch: object = None  # the roles epoch at which user was found a superuser
        self.backend_pid = next(_pids)
        sequences.attach(self)  # (its currval / lastval)
        self.settings: dict[str, str] = dict(S.DEFAULTS)
        self.settings["session_authorization"] = user
        self.parameters: dict[str, str] = {}
        for key, value in options.items():
            if key.lower() in ("user", "database", "replication"):
                continue
            if key.lower() == "options":
                for part in value.split():
                    if part.startswith("-c") or "=" in part:
                        k, _, v = part.removeprefix("-c").partition("=")
                        self.settings[k.strip().lower()] = v
                continue
            self.settings[key.lower()] = S.normalise(key, value)
        self.parameters = {label: self.settings[key] for key, label in S.REPORTED.items()}
        self.transaction_status = "I"
        self.txn: transaction.Transaction | None = None  # the open block's undo log (sql/transaction.py)
        self.commands = commands.CommandState()
        self.sql_prepared: dict[str, Prepared] = {}
        self.temp_tables: dict[tuple[str, str], str] = {}  # (schema, name) -> ON COMMIT (sql/temp_tables.py)
        self.temp_cleanup = False  # dropping or emptying them now
        self.temp_schema: str | None = None  # its pg_temp_N, once it has one (sql/temp_tables.py)
        # what its plans are cached under with their text: the database, or (database, pg_temp_N)
        # once it has a temporary schema, whose tables its names may mean
        self.plan_scope: object = database
        self.current_params: list = []
        self._running: duckdb.DuckDBPyConnection | None = None
        self._cancelled = False
        # pg_stat_activity: the protocol's connection (None until attached), the current or last
        # statement and when it began
        self.connection: _activity.Connection | None = None
        self.query = ""
        self.query_start: float | None = None

    def notice(self, notice: E.SqlError) -> None:
        """A WARNING or NOTICE (``E.Warning_``, ``E.Notice_``) for the client, sent ahead of the
        statement's answer as PostgreSQL sends it; a session without a client drops it."""
        conn = self.connection
        if conn is not None and conn.notice is not None:
            conn.notice(notice)

    # -- settings ------------------------------------------------------------------------------------
    def set_setting(self, name: str, value: str) -> dict[str, str]:
        """SET ``name`` TO ``value`` (and set_config): checked as PostgreSQL checks it first."""
        name = name.lower()
        S.check(name, value)
        if name == "statement_timeout":
            try:
                S.parse_duration_ms(value)
            except ValueError:
                raise E.InvalidParameterValue(
                    f'invalid value for parameter "statement_timeout": "{value}"'
                ) from None
        value = S.normalise(name, value)
        if name == "client_encoding" and value != "UTF8":
            raise E.FeatureNotSupported(f'conversion to encoding "{value}" is not supported; use UTF8')
        if name == "timezone" and value != "UTC":
            self._check_zone(value)
        return self._store_setting(name, value)

    def _check_zone(self, tz: str) -> None:
        """22023 for a zone DuckDB cannot set (every later statement would fail on it instead)."""
        cur = self.sql_engine.duck.cursor()
        try:
            cur.execute("SET TimeZone = '" + tz.replace("'", "''") + "'")
        except duckdb.Error:
            raise E.InvalidParameterValue(f'invalid value for parameter "TimeZone": "{tz}"') from None
        finally:
            cur.close()

    def _store_setting(self, name: str, value: str) -> dict[str, str]:
        self.settings[name] = value
        label = S.REPORTED.get(name)
        if label is not None:
            self.parameters[label] = value
            return {label: value}
        return {}

    def reset_setting(self, name: str) -> dict[str, str]:
        name = {"time zone": "timezone"}.get(name, name)
        if not S.known(name):
            raise E.UndefinedObject(f'unrecognized configuration parameter "{name}"')
        default = S.DEFAULTS.get(name)
        if name == "session_authorization":
            default = self.user
        if default is None:
            self.settings.pop(name, None)
            return {}
        return self._store_setting(name, S.normalise(name, default))

    # -- Session protocol ------------------------------------------------------------------------------
    def split(self, sql: str) -> list[str]:
        return _immediate.cached_split(sql)  # clients send the same few texts again and again

    def immediate(self, what: str | Statement) -> bool:
        """Whether pgwire may answer ``what`` on its event loop (sql/immediate.py)."""
        return _immediate.immediate(self, what)

    def constant(self, statement: Statement) -> bool:
        """Whether ``statement``'s result was computed at prepare: pgwire may replay its answer."""
        return _immediate.constant(statement)

    def try_execute(self, statement: Statement, params: list[object | None]) -> Result | None:
        """``execute`` on pgwire's event loop: None when it ran too long there (sql/immediate.py)."""
        return _immediate.try_execute(self, statement, params)

    def prepare(self, sql: str, param_oids: list[int]) -> Prepared:
        try:
            prepared = self._prepare(sql, param_oids)
            if not prepared.user_types:
                # (once per plan: the instances of a cached plan are copies sharing its memo)
                found = prepared.memo.get(_USER_TYPES)
                if found is None:
                    found = prepared.memo[_USER_TYPES] = enums.user_types(
                        self.storage, self.database, _type_oids(prepared)
                    )
                prepared.user_types = found
            return prepared
        except E.SqlError:
            self._fail()  # an error in a transaction block fails it, at Parse as at Execute
            raise
        except duckdb.Error as exc:
            self._fail()
            raise duck.translate(exc) from exc

    def _prepare(self, sql: str, param_oids: list[int]) -> Prepared:
        version = self.sql_engine.catalog_version
        key = (self.plan_scope, sql, tuple(param_oids), version)
        cached = self.sql_engine.cached_plan(key)
        if cached is not None:
            return cached  # type: ignore[return-value]
        found = _immediate.taken(self, sql, param_oids)  # a template instance immediate() looked up
        if found is not None:
            return found
        if command_word(sql) in ("SELECT", "WITH") and self.settings.get("tsgres.shared_plans") != "off":
            tpl = plan_cache.template(sql, len(param_oids))
            if tpl is not None:
                shared = self._prepare_template(sql, param_oids, tpl)
                if shared is not None:
                    shared.version = version  # (an instance of its own: see _instance)
                    return shared
        prepared = self._prepare_new(sql, param_oids)
        prepared.version = version
        if prepared.kind in ("query", "signal", "insert", "delete", "update"):
            self.sql_engine.cache_plan(key, prepared)
        return prepared

    def _prepare_template(self, sql: str, param_oids: list[int], tpl: plan_cache.Template) -> Prepared | None:
        """The plan of ``sql`` shared with texts that differ only in comparison constants (None: not
        shareable; the caller prepares the text itself, and reports its errors)."""
        tz = self.settings.get("timezone", "UTC")
        key = (self.plan_scope, tpl.text, tuple(param_oids), self.sql_engine.catalog_version)
        variants = self.sql_engine.template_variants(key)
        if variants is not None and not variants:
            return None  # known not to share
        for v in variants or ():
            values = v.values(tpl, tz)
            if values is not None:
                return self._instance(v, sql, values)
        try:
            tree = parse(tpl.text)
            if (
                not isinstance(tree, exp.Query)
                or timescale.management_call(tree) is not None
                or tree.args.get("into") is not None  # (SELECT ... INTO: a CREATE TABLE AS)
            ):
                self.sql_engine.add_template_variant(key, None)
                return None
            lifted = plan_cache.lift(tree, tpl, self._column_oid_resolver())
            if not lifted:
                self.sql_engine.add_template_variant(key, None)
                return None
            oids = list(param_oids) + [0] * (tpl.base - len(param_oids)) + [lifted[i] for i in sorted(lifted)]
            prepared = self._prepare_tree(sql, tree, oids)
        except Exception:  # noqa: BLE001 - the client's own text is prepared instead, with its errors
            return None
        kept = {i: text for i, text in enumerate(tpl.literals) if i not in lifted}
        variant = plan_cache.Variant(lifted, kept, tpl.base, prepared)
        values = variant.values(tpl, tz)
        if values is None:
            return None
        self.sql_engine.add_template_variant(key, variant)
        return self._instance(variant, sql, values)

    @staticmethod
    def _instance(variant: plan_cache.Variant, sql: str, values: list) -> Prepared:
        p: Prepared = variant.prepared  # type: ignore[assignment]
        inst = copy.copy(p)  # (what dataclasses.replace makes, in a third of the time: no __init__)
        inst.sql, inst.param_oids, inst.extra_params = sql, p.param_oids[: variant.n_client], tuple(values)
        return inst

    def _column_oid_resolver(self):
        """Type OID of a column of one of our tables, as the SELECT it appears in reads it."""
        from sql.binder import resolve_table

        metas: dict[int, list] = {}

        def tables_of(sel: exp.Select) -> list[tuple[str, dict[str, int]]]:
            out = metas.get(id(sel))
            if out is not None:
                return out
            out = []
            frm = sel.args.get("from_")
            sources = [frm.this] if frm is not None else []
            sources += [j.this for j in sel.args.get("joins") or []]
            ctes = {c.alias_or_name for c in sel.root().find_all(exp.CTE)}
            for t in sources:
                if not isinstance(t, exp.Table) or not isinstance(t.this, exp.Identifier):
                    out.append((getattr(t, "alias_or_name", ""), {}))  # a subquery / function: unknown
                    continue
                if (not t.db and t.name in ctes) or is_catalog_ref(t):
                    out.append((t.alias_or_name, {}))
                    continue
                _rp, meta = resolve_table(self.storage, self.database, t)
                types = {TIME_NS: 20, **{c.name: c.type.oid for c in sql_columns(meta)}}
                out.append((t.alias_or_name, types))
            metas[id(sel)] = out
            return out

        def resolve(col: exp.Column) -> int | None:
            sel = col.find_ancestor(exp.Select)
            if sel is None or col.find_ancestor(exp.Where, exp.Join) is None:
                return None
            tables = tables_of(sel)
            if col.table:
                found = [cols for alias, cols in tables if alias == col.table]
            else:
                found = [cols for _alias, cols in tables]
                if len(found) != 1:  # which table a bare name means is the binder's business
                    return None
            if len(found) != 1:
                return None
            return found[0].get(col.name)

        return resolve

    def _prepare_new(self, sql: str, param_oids: list[int]) -> Prepared:
        word = command_word(sql)
        if word in commands.WORDS:
            oids = self._declare_param_oids(sql, param_oids) if word == "DECLARE" else []
            return Prepared(sql, oids, commands.describe(self, sql), word, kind="command")
        if word == "COPY":
            return Prepared(sql, [], None, "COPY", kind="copy")
        if plpgsql.is_statement(word):  # DO blocks (sql/plpgsql.py)
            return Prepared(sql, [], None, "DO", kind="do")
        if maintenance.is_statement(word):  # VACUUM, ANALYZE, CHECKPOINT ... (sql/maintenance.py)
            return Prepared(sql, [], None, word, kind="maintenance")
        if word == "ALTER" and identity.is_statement(sql):  # ALTER COLUMN ... identity (sql/identity.py)
            return Prepared(sql, [], None, "ALTER TABLE", kind="identity")
        index_tag = indexes.is_statement(sql) if word in ("DROP", "ALTER") else None
        if index_tag is not None:  # DROP INDEX, ALTER INDEX (sql/indexes.py)
            return Prepared(sql, [], None, index_tag, kind="index")
        tag = timescale.statement(sql) if word in ("CREATE", "ALTER", "DROP", "CALL") else None
        if tag is not None:  # continuous aggregates, compression settings (sql/timescale.py)
            return Prepared(sql, [], None, tag, kind="timescale")
        if word in ("CREATE", "ALTER", "DROP") and sequences.is_statement(sql):
            return Prepared(sql, [], None, f"{word} SEQUENCE", kind="sequence")
        if word == "CREATE" and sql.split()[1:2] and sql.split()[1].upper() == "EXTENSION":
            return Prepared(sql, [], None, "CREATE EXTENSION", kind="extension")
        if user_functions.is_statement(sql):  # CREATE / DROP FUNCTION (sql/user_functions.py)
            return Prepared(sql, [], None, user_functions.tag_of(sql), kind="function")
        if enums.is_statement(sql):  # CREATE / DROP / ALTER TYPE (sql/enums.py)
            return Prepared(sql, [], None, f"{word} TYPE", kind="enum")
        if roles.is_role_statement(sql) or word in ("GRANT", "REVOKE"):
            return Prepared(sql, [], None, roles.tag_of(sql), kind="role")
        if word == "COMMENT":
            comments.parse(sql)  # (a syntax error fails here, at Parse, as in PostgreSQL)
            return Prepared(sql, [], None, "COMMENT", kind="comment")
        if word == "EXPLAIN":
            opts, _ = parse_explain(sql)  # (bad options fail here, at Parse, as in PostgreSQL)
            oid = JSON_OID if opts.format == "json" else TEXT.oid
            return Prepared(sql, [], [ColumnDesc("QUERY PLAN", oid)], "EXPLAIN", kind="explain")
        if word == "CREATE" and _CREATE_INDEX.match(sql):  # (``ON ONLY t``: sql/indexes.py)
            return self._prepare_tree(sql, parse(indexes.normalised_create(sql)), param_oids)
        return self._prepare_tree(sql, parse(sql), param_oids)

    def _prepare_tree(self, sql: str, tree: exp.Expression, param_oids: list[int]) -> Prepared:
        word = command_word(sql)
        if self.temp_schema is not None or "temp" in sql.lower():  # TEMP, pg_temp (sql/temp_tables.py)
            tree = temp_tables.qualify(self, tree)
        if isinstance(tree, exp.Values):  # a top-level VALUES list: columns column1, column2 ...
            width = len(tree.expressions[0].expressions) if tree.expressions else 0
            alias = exp.TableAlias(
                this=exp.to_identifier("*VALUES*", quoted=True),
                columns=[exp.to_identifier(f"column{i + 1}") for i in range(width)],
            )
            tree = exp.select("*").from_(exp.Subquery(this=tree, alias=alias))
        if modifying_ctes.has_modifying(
            tree
        ):  # WITH d AS (DELETE ... RETURNING ...) ... (sql/modifying_ctes.py)
            return modifying_ctes.describe(self, sql, tree, param_oids)
        if isinstance(tree, exp.Select) and tree.args.get("into") is not None:  # SELECT ... INTO t
            return Prepared(sql, [], None, "SELECT", kind="ddl", tree=_select_into(tree))
        call = timescale.management_call(tree)
        if call is not None:  # SELECT create_hypertable(...), add_retention_policy(...) ...
            return Prepared(sql, [], timescale.describe(call), "SELECT", kind="timescale_call", tree=tree)
        call = timescale.per_row_call(tree)
        if call is not None:  # SELECT alter_job(job_id, ...) FROM timescaledb_information.jobs ...
            return Prepared(sql, [], timescale.describe(call), "SELECT", kind="timescale_rows", tree=tree)
        if isinstance(tree, exp.Query):
            oids = self._param_oids(tree, param_oids)
            ctx = self._ctx(True)
            rewritten = rewrite(tree.copy(), ctx)  # describe and plan read it, unchanged
            columns = column_origin.annotate(self, tree, self._describe(rewritten, oids))
            if ctx.signals:  # pg_cancel_backend / pg_terminate_backend: DuckDB calls them per row
                return Prepared(sql, oids, columns, "SELECT", kind="signal", tree=tree)
            native = planner.plan(self, rewritten)
            if native is None and "time_bucket_gapfill" in sql.lower():
                native = gapfill.plan(self, tree, oids, [c.name for c in columns])
            prepared = Prepared(sql, oids, columns, "SELECT", kind="query", tree=tree, native=native)
            prepared.memo["param_oids"] = oids
            if _constant_only(tree):
                prepared.constant = self.query_arrow(tree, [])
            return prepared
        kinds = {exp.Insert: "insert", exp.Delete: "delete", exp.Update: "update"}
        for cls, kind in kinds.items():
            if isinstance(tree, cls):
                columns = dml.returning_columns(self, tree)
                return Prepared(
                    sql, self._param_oids(tree, param_oids), columns, kind.upper(), kind=kind, tree=tree
                )
        if isinstance(tree, exp.Create | exp.Drop | exp.Alter | exp.TruncateTable):
            return Prepared(sql, [], None, word, kind="ddl", tree=tree)
        if isinstance(tree, exp.Set):
            return Prepared(sql, [], None, "SET", kind="command")
        if isinstance(tree, exp.Transaction | exp.Commit | exp.Rollback):
            return Prepared(sql, [], None, word, kind="command")
        if procedures.is_call(word):  # user procedures (sql/procedures.py; TimescaleDB's: above)
            procedures.find(self, sql)  # (no such procedure: the error is Parse's, as PostgreSQL's)
            return Prepared(sql, [], None, "CALL", kind="call")
        raise E.FeatureNotSupported(f"{word} is not supported")

    def execute(self, statement: Statement, params: list[object | None]) -> Result:
        stmt = (
            statement
            if isinstance(statement, Prepared)
            else self.prepare(statement.sql, statement.param_oids)
        )
        if self.transaction_status == "E" and not (
            stmt.kind == "command" and command_word(stmt.sql) in ("ROLLBACK", "ABORT", "COMMIT", "END")
        ):
            raise E.InFailedTransaction(
                "current transaction is aborted, commands ignored until end of transaction block"
            )
        if (
            stmt.kind == "query" or (self.temp_schema is not None and stmt.kind in _DML)
        ) and stmt.version != self.sql_engine.catalog_version:
            # (a DML statement's names may mean another table once a temporary table came or went)
            stmt = self._replan(stmt)
        self.current_params = list(params)
        self._cancelled = False
        self.query = stmt.sql
        self.query_start = _time.time()
        try:
            if self.trusted_epoch is not self.sql_engine.roles_epoch:  # not known to be a superuser
                result = privileges.run_checked(self, stmt, [*params, *stmt.extra_params])
            else:
                result = self._dispatch(stmt, [*params, *stmt.extra_params])
        except (E.SqlError, StorageError, duckdb.Error) as exc:
            self._raise_failed(exc)
        if self.temp_tables and self.transaction_status == "I":  # a transaction ended: ON COMMIT
            temp_tables.statement_ended(self)
        return result

    def _raise_failed(self, exc: Exception) -> NoReturn:
        """Report ``exc``, raised by a statement: the transaction fails; storage's and DuckDB's
        errors are raised as SQL errors (chained to them), SQL errors as they are."""
        self._fail()
        if isinstance(exc, StorageError):
            raise E.InternalError(str(exc)) from exc
        if isinstance(exc, duckdb.Error):
            raise duck.translate(exc) from exc
        raise exc

    def _replan(self, stmt: Prepared) -> Prepared:
        """A statement prepared before a schema change (DDL, a write that added a field or table,
        a dropped measurement) is planned again, as PostgreSQL does; its result must keep the
        columns the client was told about (0A000 as in PostgreSQL otherwise: ``SELECT *`` over a table
        that gained a column)."""
        fresh = self.prepare(stmt.sql, stmt.param_oids)
        old = [(c.name, c.type_oid) for c in stmt.columns or ()]
        if [(c.name, c.type_oid) for c in fresh.columns or ()] != old:
            self._fail()
            raise E.FeatureNotSupported("cached plan must not change result type")
        return fresh

    def _fail(self) -> None:
        if self.transaction_status == "T":
            self.transaction_status = "E"

    def _dispatch(self, stmt: Prepared, params: list) -> Result:
        kind = stmt.kind
        if kind == "command":
            return commands.run(self, stmt.sql)
        if kind == "query":
            return self._run_query(stmt, params)
        if kind == "signal":
            return self._run_signal(stmt, params)
        if kind == "insert":
            plain = stmt.memo.get("unchanged_by_insert")
            if plain is None:
                plain = stmt.memo["unchanged_by_insert"] = dml.unchanged_by_insert(stmt.tree)
            return dml.insert(self, stmt.tree if plain else stmt.tree.copy(), params)
        if kind == "delete":
            return dml.delete(self, stmt.tree.copy(), params)
        if kind == "update":
            return dml.update(self, stmt.tree.copy(), params)
        if kind == "ddl":
            return self._ddl(stmt.tree.copy(), stmt.sql)
        if kind == "extension":
            return ddl.create_extension(self, stmt.sql)
        if kind == "comment":
            return comments.run(self, stmt.sql)
        if kind == "enum":
            return enums.run(self, stmt.sql)
        if kind == "function":
            return user_functions.run(self, stmt.sql)
        if kind == "sequence":
            return sequences.run(self, stmt.sql)
        if kind == "modifying_with":
            return modifying_ctes.run(self, stmt, params)
        if kind == "do":
            return plpgsql.run(self, stmt.sql)
        if kind == "call":
            return procedures.call(self, stmt.sql)
        if kind == "identity":
            self.sql_engine.schema_changed()
            return identity.alter(self, stmt.sql)
        if kind == "role":
            return roles.run(self, stmt.sql)
        if kind == "timescale_call":
            self.sql_engine.schema_changed()
            call = timescale.management_call(stmt.tree)
            assert call is not None
            return timescale.run_call(self, call)
        if kind == "timescale_rows":
            self.sql_engine.schema_changed()
            return timescale.run_per_row(self, stmt.tree)
        if kind == "timescale":
            self.sql_engine.schema_changed()
            return timescale.run_statement(self, stmt.sql)
        if kind == "copy":
            return self._copy(stmt.sql)
        if kind == "maintenance":
            return maintenance.run(self, stmt.sql)
        if kind == "index":
            self.sql_engine.schema_changed()
            return (
                indexes.drop(self, stmt.sql)
                if stmt.command == "DROP INDEX"
                else indexes.alter(self, stmt.sql)
            )
        if kind == "explain":
            return self._explain(stmt.sql, params)
        raise E.FeatureNotSupported(f"{stmt.command} is not supported")

    def is_superuser(self) -> bool:
        return roles.is_superuser(self.storage.catalog, self.user)

    def _ddl(self, tree: exp.Expression, sql: str) -> Result:
        self.sql_engine.schema_changed()
        if isinstance(tree, exp.Create):
            if (tree.args.get("kind") or "").upper() == "TABLE":
                return ddl.create_table(self, tree, sql)
            return ddl.create_other(self, tree)
        if isinstance(tree, exp.Drop):
            return ddl.drop(self, tree)
        if isinstance(tree, exp.Alter):
            return ddl.alter(self, tree, sql)
        return ddl.truncate(self, tree)

    # -- queries ---------------------------------------------------------------------------------------
    def _ctx(self, describe: bool) -> RewriteContext:
        return RewriteContext(
            self.database,
            user=self.user,
            settings=self.settings,
            version=f"PostgreSQL {S.SERVER_VERSION} (tsgres {VERSION}) on x86_64-pc-linux-gnu, compiled by CPython, 64-bit",
            backend_pid=self.backend_pid,
            temp_schema=self.temp_schema or "",
            describe=describe,
            signal_call=self._signal_call,
            set_setting=self.set_setting,
            view=lambda schema, name: self.sql_engine.view_sql(self.database, schema, name),
            table_function=lambda call: timescale.table_function(self, call, describe),
            schemas=lambda: [s.name for s in Snapshot(self).schemas],
            enum_labels=self._enum_labels,
            sequence=self._sequence_state,
            has_functions=lambda: bool(self.sql_engine.user_functions(self.database)),
            functions=lambda schema, name: self.sql_engine.user_functions(self.database).get(
                (schema, name), []
            ),
            table_columns=self.table_columns,
        )

    def table_columns(self, table: exp.Table) -> set[str] | None:
        """The column names of one of our tables (a user function's body reads it), None if unknown."""
        from sql.binder import resolve_table

        try:
            _, meta = resolve_table(self.storage, self.database, table)
        except Exception:  # noqa: BLE001 - a view, a CTE, a catalog table ...: not known here
            return None
        return {c.name for c in sql_columns(meta)}

    def _sequence_state(self, schema: str, name: str) -> dict | None:
        key = sequences.sequence_key(self, schema, name)
        raw = self.storage.catalog.get_meta(key)
        return None if raw is None else sequences.normalised(json.loads(raw))

    def _enum_labels(self, name: str) -> list[str] | None:
        found = enums.lookup(self.storage, self.database, name)
        return None if found is None else found.labels

    def _declare_param_oids(self, sql: str, given: list[int]) -> list[int]:
        """DECLARE ... CURSOR FOR <query> over the extended protocol: the query's parameter types."""
        m = _DECLARE_QUERY.search(sql)
        if m is None or "$" not in m.group(1):
            return list(given)
        try:
            return self._param_oids(parse(m.group(1)), given)
        except E.SqlError:
            return list(given)

    def _param_oids(self, tree: exp.Expression, given: list[int]) -> list[int]:
        n = max((int(p.this.name) for p in tree.find_all(exp.Parameter) if p.this.name.isdigit()), default=0)
        oids = list(given) + [0] * (n - len(given))
        inferred = _infer_params(self, tree)
        return [o or inferred.get(i + 1, TEXT.oid) for i, o in enumerate(oids)]

    def _prepared_tree(self, tree: exp.Expression, *, describe: bool) -> exp.Expression:
        return rewrite(tree.copy(), self._ctx(describe))

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection for one execution, in this session's time zone."""
        cur = self.sql_engine.duck.cursor()
        tz = self.settings.get("timezone", "UTC")
        if tz != "UTC":
            try:
                cur.execute("SET TimeZone = '" + tz.replace("'", "''") + "'")
            except duckdb.Error:
                cur.close()
                raise E.InvalidParameterValue(f'invalid value for parameter "TimeZone": "{tz}"') from None
        return cur

    def _describe(self, rewritten: exp.Expression, oids: list[int]) -> list[ColumnDesc]:
        """Result columns of a rewritten query (left as it is: binding works on a copy)."""

        def columns(binding: Binding, rel: duckdb.DuckDBPyRelation) -> list[ColumnDesc]:
            refined = binding.output_oids if len(binding.output_oids) == len(rel.columns) else []
            out = []
            for i, (n, ty) in enumerate(zip(rel.columns, rel.types, strict=True)):
                oid = from_duckdb(str(ty)).oid
                # (a refined type whose values are DuckDB's: varchar from text, oid from int8 ...)
                if refined and refined[i] and carrier(refined[i], binding.user_arrays) == carrier(oid):  # type: ignore[arg-type]
                    oid = refined[i]  # type: ignore[assignment]
                out.append(ColumnDesc(n, oid))
            return out

        return self._described(rewritten, oids, columns)

    def _described(
        self,
        rewritten: exp.Expression,
        oids: list[int],
        read: Callable[[Binding, duckdb.DuckDBPyRelation], _R],
    ) -> _R:
        """What ``read`` finds in DuckDB's relation of a rewritten query bound to empty scans."""
        t = _params_as_nulls(rewritten, oids)
        cur = self._cursor()
        try:
            binding = bind(self.storage, self.database, t, lambda e: None, describe_only=True)
            self._bind_catalog(cur, binding)
            for s in binding.scans:
                cur.register(s.name, s.reader)
            return read(binding, cur.sql(binding.tree.sql("duckdb")))
        except duckdb.Error as exc:
            raise duck.translate(exc) from exc
        finally:
            cur.close()

    def _native_body(self, body: exp.Select, oids: list[int]) -> tuple[NativePlan, pa.Schema] | None:
        """For sql/binder.py's native bodies: the native plan of ``body`` (a CTE's or FROM's subquery,
        rewritten; left as it is) and the schema of DuckDB's result of it, when the native executor
        computes it as DuckDB would. Only aggregates (a row scan would be materialised whole) with
        result columns of types both give alike, and uniquely named (DuckDB reads them by name)."""
        try:
            plan = planner.plan(self, body.copy())
        except Exception:  # noqa: BLE001 - DuckDB runs it (and reports what is wrong with it)
            return None
        if plan is None or isinstance(plan, planner.FilteredScan):
            return None
        try:
            schema = self._described(body, oids, lambda _b, rel: rel.limit(0).to_arrow_table().schema)
        except E.SqlError:
            return None
        if len(set(schema.names)) != len(schema.names) or not all(_body_type(f.type) for f in schema):
            return None
        return plan, schema

    def _body_tables(self, bodies: list[NativeBody], params: list) -> list[tuple[str, pa.Table]] | None:
        """The native bodies' results for this execution; None when one cannot be computed natively
        now (native executor off, a zone, this execution's values): DuckDB then runs all of it."""
        out = []
        for b in bodies:
            if not self._takes_native(b.plan):
                return None
            got = self._run_native(b.plan, params, [from_arrow(f.type).oid for f in b.schema])
            if not isinstance(got, pa.Table) or got.num_columns != len(b.schema):
                return None  # (NotNative, or rows streamed in pieces)
            for t, want in zip(got.schema.types, b.schema.types, strict=True):
                if (pa.types.is_decimal(t) or pa.types.is_decimal(want)) and t != want:
                    return None  # (a cast would round, or fail on a NaN)
            try:
                out.append((b.name, got.rename_columns(b.schema.names).cast(b.schema)))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                return None
        return out

    def _bind_catalog(self, cur: duckdb.DuckDBPyConnection, binding) -> None:
        if binding.catalog_refs:
            from sql import pgcatalog

            pgcatalog.bind(self, cur, binding.catalog_refs)

    def evaluate_ns(self, e: exp.Expression, params: list) -> int | None:
        """Epoch nanoseconds of a column-free expression (pushdown bounds), None if it has no such value."""
        fast = self._literal_ns(e, params)
        if fast is not None:
            return fast
        q = exp.select(
            exp.Anonymous(
                this="epoch_ns",
                expressions=[
                    exp.Cast(
                        this=self._prepared_tree(e, describe=False), to=exp.DataType.build("TIMESTAMPTZ")
                    )
                ],
            )
        )
        cur = self._cursor()
        try:
            # DuckDB refuses values for parameters the expression does not use
            used = params if e.find(exp.Parameter) is not None else []
            row = cur.execute(q.sql("duckdb"), _duck_params(used) or None).fetchone()
        except duckdb.Error:
            return None
        finally:
            cur.close()
        return None if row is None or row[0] is None else int(row[0])

    def _literal_ns(self, e: exp.Expression, params: list) -> int | None:
        """Timestamp literals and timestamp parameters without a round trip to DuckDB (~0.7 ms);
        also now() and either plus or minus a constant interval (``time > now() - interval '1
        hour'``): days and weeks only in UTC sessions, where a day is 24 hours (DuckDB's calendar
        arithmetic follows the session's zone), never months."""
        if isinstance(e, exp.Add | exp.Sub) and isinstance(e.expression, exp.Interval):
            base = self._literal_ns(e.this, params)
            if base is None:
                return None
            us = planner.interval_us(e.expression)
            if us is None or (
                self.settings.get("timezone", "UTC") != "UTC" and _CALENDAR.search(e.expression.sql())
            ):
                return None
            return base + us * 1000 if isinstance(e, exp.Add) else base - us * 1000
        if isinstance(e, exp.CurrentTimestamp):
            return _time.time_ns() // 1000 * 1000  # (DuckDB's now(): this statement's, in µs)
        if isinstance(e, exp.AtTimeZone) and isinstance(e.this, exp.Cast) and e.this.to.this is _TIMESTAMP:
            # a timestamp literal or parameter AT TIME ZONE 'zone' (sql/rewrite/pushdown.py's bounds
            # on a timestamp without time zone): its wall-clock time in that zone
            zone, value = e.args.get("zone"), self._timestamp_value(e.this.this, params)
            if not (isinstance(zone, exp.Literal) and zone.is_string) or value is None:
                return None
            return self._ns(value, zone.name)
        if isinstance(e, exp.Cast) and e.to.this in (
            exp.DataType.Type.TIMESTAMPTZ,
            exp.DataType.Type.TIMESTAMP,
        ):
            e = e.this
        value = _datetime_of(e, params)
        if value is None:
            return None
        return self._ns(value, self.settings.get("timezone", "UTC"))

    def _timestamp_value(self, e: exp.Expression, params: list) -> _dt.datetime | None:
        """A timestamp (without time zone) literal or parameter as a naive datetime: a text's zone is
        ignored as PostgreSQL's timestamp input ignores it; a timestamptz parameter's wall clock is the
        session zone's. None for anything else."""
        value = _datetime_of(e, params)
        if value is None or value.tzinfo is None or isinstance(e, exp.Literal):
            return None if value is None else value.replace(tzinfo=None)
        zone = _zone(self.settings.get("timezone", "UTC"))
        return None if zone is None else value.astimezone(zone).replace(tzinfo=None)

    @staticmethod
    def _ns(value: _dt.datetime, tz: str) -> int | None:
        """Epoch nanoseconds of ``value``, read in zone ``tz`` when it has none."""
        if value.tzinfo is None:
            zone = _zone(tz)
            if zone is None:
                return None
            value = value.replace(tzinfo=zone)
        return instant_ns(value)

    def query_arrow(self, tree: exp.Expression, params: list) -> pa.Table:
        """Run a query to completion (INSERT sources, DELETE counts)."""
        res = self._stream(tree, params)
        return pa.Table.from_batches(list(res[1]), schema=res[0])

    def _execution_tree(self, tree: exp.Expression, memo: dict | None) -> exp.Expression:
        """The rewritten tree to bind and run; rewritten once per plan unless it holds session values."""
        done = memo.get("rewritten") if memo is not None else None
        if done is not None:
            return done.copy()
        ctx = self._ctx(False)
        t = rewrite(tree.copy(), ctx)
        if memo is not None and not ctx.session_dependent:
            memo["rewritten"] = t.copy()
        return t

    def _bound_plan(
        self, tree: exp.Expression, memo: dict | None
    ) -> tuple[BoundPlan | None, exp.Expression | None]:
        """The plan's binding for every execution (sql/binder.py's BoundPlan), made once; None when
        each execution binds anew (no plan, a rewrite that depends on the session, catalog tables).
        Also the rewritten tree when this call rewrote one it could not keep: that execution's own,
        to be used instead of rewriting again (a rewrite may act: drop_chunks in FROM drops)."""
        if memo is None:
            return None, None
        made = None
        if "bound" not in memo:
            t = self._execution_tree(tree, memo)  # (memoises the rewrite unless it holds session values)
            oids = memo.get("param_oids")  # (native bodies need them for DuckDB's schema of a body)
            body = (lambda sub: self._native_body(sub, oids)) if oids is not None else None
            memo["bound"] = bind_plan(self.storage, self.database, t, body) if "rewritten" in memo else None
            made = None if "rewritten" in memo else t
        return memo["bound"], made

    def _stream(
        self, tree: exp.Expression, params: list, memo: dict | None = None
    ) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
        bound, rewritten = self._bound_plan(tree, memo)
        bodies = self._body_tables(bound.bodies, params) if bound is not None and bound.bodies else []
        cur = self._cursor()
        try:
            evaluate = lambda e: self.evaluate_ns(e, params)  # noqa: E731
            values = lambda sub: self._subquery_values(sub, params)  # noqa: E731
            duck_params = params
            if bound is not None and bodies is not None:
                scans = open_scans(self.storage, self.database, bound, evaluate, params, values)
                text, duck_params = bound.sql, bound.duck_params(params)
                for name, table in bodies:
                    cur.register(name, table)
            else:
                t = rewritten if rewritten is not None else self._execution_tree(tree, memo)
                binding = bind(
                    self.storage,
                    self.database,
                    t,
                    evaluate,
                    describe_only=False,
                    params=params,
                    subquery_values=values,
                )
                self._bind_catalog(cur, binding)
                scans, text = binding.scans, binding.tree.sql("duckdb")
            for s in scans:
                cur.register(s.name, s.reader)
            self._running = cur
            timer = self._deadline(lambda: self._timeout(cur))
            reader = cur.sql(text, params=_duck_params(duck_params) or None).to_arrow_reader(BATCH_ROWS)
        except BaseException:
            cur.close()
            self._running = None
            raise

        def batches() -> Iterator[pa.RecordBatch]:
            try:
                while True:
                    try:
                        b = reader.read_next_batch()
                    except StopIteration:
                        return
                    except duckdb.Error as exc:
                        raise self._canceled_or(exc) from exc
                    except pa.ArrowException as exc:
                        raise self._canceled_or(exc) from exc
                    yield b
            finally:
                if timer is not None:
                    timer.cancel()
                self._running = None
                cur.close()

        return reader.schema, batches()

    def _subquery_values(self, sub: exp.Expression, params: list) -> list[str] | None:
        """The values of the subquery of a ``tag IN (SELECT ...)`` (rewritten already), run alone for
        the outer scan's pushdown (sql/rewrite/pushdown.py): ``hostname IN (SELECT hostname FROM cpu
        WHERE region = 'x')`` reads those hosts' series, not the table. None when it cannot run alone
        (it refers to the outer query), gives more than SUBQUERY_PUSHDOWN_VALUES rows or other than
        text: the outer scan then reads every series. The query itself still applies the IN."""
        # its own parameters, renumbered from $1 (DuckDB refuses values a statement does not use)
        sub = sub.copy()
        used: dict[int, int] = {}
        for node in list(sub.find_all(exp.Parameter)):
            if not node.this.name.isdigit() or not 0 < int(node.this.name) <= len(params):
                return None
            k = used.setdefault(int(node.this.name), len(used) + 1)
            node.replace(exp.Parameter(this=exp.Literal.number(k)))
        own = [params[i - 1] for i in used]
        try:
            native = planner.plan(self, sub)
        except Exception:  # noqa: BLE001 - (a column of the outer query, say): DuckDB's turn below
            native = None
        got: Iterable[pa.Table | pa.RecordBatch] | None = None
        if native is not None and self._takes_native(native):
            try:  # (SELECT DISTINCT hostname ... WHERE region = 'x': the groups that hold rows)
                found = self._run_native(native, own, [TEXT.oid])
            except E.QueryCanceled:
                raise
            except (E.SqlError, StorageError):
                found = None
            if isinstance(found, executor.Streamed):
                got = itertools.chain([found.first], found.rest)
            elif found is not None:
                got = [found]
        schema = None
        try:
            if got is None:  # DuckDB runs it (already rewritten: the memo says so), streaming
                schema, got = self._stream(sub, own, {"rewritten": sub})
            column = _first_column(got, SUBQUERY_PUSHDOWN_VALUES + 1, schema)
        except Exception:  # noqa: BLE001 - not computable alone: nothing is pushed
            column = None
        if self._cancelled:
            raise self._canceled_or(RuntimeError("cancelled"))
        return _text_values(column)

    def _canceled_or(self, exc: Exception) -> E.SqlError:
        if self._cancelled == "timeout":
            return E.QueryCanceled("canceling statement due to statement timeout")
        if self._cancelled:
            return E.QueryCanceled("canceling statement due to user request")
        return duck.translate(exc) if isinstance(exc, duckdb.Error) else E.InternalError(str(exc))

    def _timeout_s(self) -> float:
        """statement_timeout in seconds (0: none)."""
        return S.parse_duration_ms(self.settings.get("statement_timeout", "0")) / 1000

    def _deadline(self, callback: Callable[[], None]) -> Deadline | None:
        """``callback`` after statement_timeout (None: no timeout)."""
        timeout = self._timeout_s()
        return DEADLINES.after(timeout, callback) if timeout > 0 else None

    def _takes_native(self, plan: NativePlan) -> bool:
        """Whether the native executor answers ``plan`` in this session (not turned off; a plan whose
        buckets follow the session's zone only in UTC)."""
        return self.settings.get("tsgres.native_executor") != "off" and not (
            getattr(plan, "tz_sensitive", False) and self.settings.get("timezone") != "UTC"
        )

    def _run_native(
        self, plan: NativePlan, params: list, oids: list[int]
    ) -> pa.Table | executor.Streamed | None:
        """The native executor's answer, under statement_timeout (:attr:`native_deadline`, which the
        scan's :meth:`interrupt` keeps); None when this execution's values make storage's filter
        inexact (NotNative): DuckDB runs the statement then."""
        timeout = self._timeout_s()
        self.native_deadline = _time.perf_counter() + timeout if timeout > 0 else 0.0
        try:
            return executor.run(self, plan, params, oids)
        except executor.NotNative:
            return None
        finally:
            self.native_deadline = 0.0

    def _timeout(self, cur: duckdb.DuckDBPyConnection | None) -> None:
        """statement_timeout passed: stop DuckDB's statement ``cur`` (the native executor's scan has
        :attr:`native_deadline` instead, which :meth:`interrupt` compares between pieces of work)."""
        if self._running is not cur:
            return  # that statement is over (its result was abandoned unread)
        self._cancelled = "timeout"  # type: ignore[assignment]
        if cur is not None:
            cur.interrupt()

    def interrupt(self) -> Callable[[], None]:
        """What a native scan of the statement executing now calls between pieces of work: it raises
        QueryCanceled once the statement is cancelled or past its deadline (:attr:`native_deadline`
        now), and Overrun once it has run on pgwire's event loop too long (:attr:`loop_deadline` now).
        It keeps those deadlines: the pieces of a streamed result, computed later and in another
        thread (sql/read_ahead.py), are held to them."""
        native, loop = self.native_deadline, self.loop_deadline
        if not native and not loop:
            return self._check_cancelled

        def check() -> None:
            now = _time.perf_counter()
            if native and now > native:
                self._cancelled = "timeout"  # type: ignore[assignment]
            self._check_cancelled()
            if loop and now > loop:
                raise _immediate.Overrun()  # on pgwire's event loop for too long: run again in a thread

        return check

    def _check_cancelled(self) -> None:
        if self._cancelled:
            raise self._canceled_or(RuntimeError("cancelled"))

    def _run_query(self, stmt: Prepared, params: list) -> Result:
        if stmt.constant is not None and stmt.columns is not None:
            table = stmt.constant
            return Result(stmt.columns, iter(table.to_batches()), tag=f"SELECT {table.num_rows}", table=table)
        if stmt.native is not None and stmt.columns is not None and self._takes_native(stmt.native):
            self._running = None
            started = _time.thread_time()
            table = self._run_native(stmt.native, params, [c.type_oid for c in stmt.columns])
            if isinstance(table, executor.Streamed):
                return self._streamed(stmt, table, _time.thread_time() - started)
            if table is not None:
                _immediate.record(stmt, _time.thread_time() - started)
                return Result(
                    stmt.columns,
                    iter(table.to_batches(BATCH_ROWS)),
                    tag=f"SELECT {table.num_rows}",
                    table=table,
                )
        if self.loop_deadline:
            raise _immediate.Overrun()  # DuckDB never runs on pgwire's event loop
        try:
            schema, it = self._stream(stmt.tree, params, stmt.memo)
        except duckdb.Error as exc:
            raise self._canceled_or(exc) from exc
        columns = [ColumnDesc(f.name, from_arrow(f.type).oid) for f in schema]
        if stmt.columns is not None and len(stmt.columns) == len(columns):
            # varchar/bpchar/name/uuid/json and enums (user OIDs) travel as Arrow strings, the catalog's
            # oids as int8: keep the type prepare() announced
            arrays = {t.array_oid for t in stmt.user_types}
            columns = [
                d if carrier(d.type_oid, arrays) == carrier(c.type_oid) else c
                for c, d in zip(columns, stmt.columns, strict=True)
            ]
        result = Result(columns)

        def counted() -> Iterator[pa.RecordBatch]:
            n = 0
            for b in it:
                n += b.num_rows
                yield b
            result.tag = f"SELECT {n}"

        result.batches = counted()
        result.tag = "SELECT 0"
        return result

    def _run_signal(self, stmt: Prepared, params: list) -> Result:
        """A query that calls pg_cancel_backend / pg_terminate_backend (kind "signal"): DuckDB calls
        them row by row (sql/activity.py) for a SignalCall of this execution, which gathers their
        WARNINGs and what stops the statement. It runs to its end here, so every call has acted
        before the answer goes out; the WARNINGs go to the client (``Connection.notice``) before its
        rows or its error, as in PostgreSQL. A statement that cancels its own session fails (57014),
        one that terminates it ends it (FATAL 57P01)."""
        activity = self.sql_engine.activity
        call = activity.begin(self)
        self._signal_call = call.token
        try:
            result = self._run_query(stmt, params)
            batches = list(result.batches)  # (its generator sets result.tag at the end)
        except (E.SqlError, duckdb.Error) as exc:
            if call.error is not None:
                raise call.error from exc
            raise
        finally:
            self._signal_call = 0
            activity.end(call)
            conn = self.connection
            if conn is not None and conn.notice is not None:
                for notice in call.notices:
                    conn.notice(notice)
        result.batches = iter(batches)
        return result

    def _streamed(self, stmt: Prepared, pieces: executor.Streamed, cpu: float) -> Result:
        """A native result whose later pieces are computed as the client reads (each next one while
        the client reads the one before: sql/read_ahead.py), under the statement's deadline (the scan's
        :meth:`interrupt` keeps it), errors as execute() reports them; the CPU time of all pieces is the
        execution's (sql/immediate.py)."""
        result = Result(stmt.columns, tag="SELECT 0")
        spent = cpu

        def piece() -> pa.Table | None:
            nonlocal spent
            started = _time.thread_time()  # (in whichever thread computes it: read_ahead)
            try:
                return next(pieces.rest, None)
            except (E.SqlError, StorageError) as exc:
                self._raise_failed(exc)
            finally:
                spent += _time.thread_time() - started

        def batches() -> Iterator[pa.RecordBatch]:
            n = pieces.first.num_rows
            rest = read_ahead(piece)  # (the second piece is computed while the first is sent)
            try:
                yield from pieces.first.to_batches(BATCH_ROWS)
                for table in rest:
                    n += table.num_rows
                    yield from table.to_batches(BATCH_ROWS)
            finally:
                rest.close()
            result.tag = f"SELECT {n}"
            _immediate.record(stmt, spent)

        result.batches = batches()
        return result

    def _explain(self, sql: str, params: list) -> Result:
        opts, body = parse_explain(sql)
        analyze = opts.analyze
        tree = parse(body)
        if self.temp_schema is not None or "temp" in body.lower():  # TEMP, pg_temp (sql/temp_tables.py)
            tree = temp_tables.qualify(self, tree)
        lines: list[str] = []
        analyzed = None
        if isinstance(tree, exp.Select):
            prepared = self._prepare_tree(body, tree.copy(), [0] * len(params))
            if prepared.native is not None:
                lines.extend(prepared.native.explain())
                if analyze and self._takes_native(prepared.native):
                    analyzed = self._analyze_native(prepared, params)
        t = self._prepared_tree(tree, describe=False)

        def scans(tree: exp.Expression, indent: str) -> Binding:
            binding = bind(
                self.storage,
                self.database,
                tree,
                lambda e: self.evaluate_ns(e, params),
                describe_only=False,  # scans are lazy: plain EXPLAIN never reads them
            )
            for s in binding.scans:
                r = s.request
                lines.append(f"{indent}Scan {s.table} (rp {r.rp or 'default'})")
                lines.append(f"{indent}  time range: [{r.tmin}, {r.tmax}] ns")
                lines.append(f"{indent}  tag predicate: {r.predicate}")
                lines.append(f"{indent}  columns: {', '.join(c.name for c in s.columns)}")
                for p in s.pushdown.pushed or []:
                    lines.append(f"{indent}  pushed down: {p.sql('postgres')}")
            return binding

        if analyzed is not None:  # the native executor ran it: its scans, and what it found
            scans(t, "")
            lines.extend(analyzed)
            return _plan_result(lines, opts)
        # subqueries the native executor computes (as a bound plan's native bodies): their plans, and
        # for ANALYZE their results (DuckDB's EXPLAIN reads only their schema)
        whole = t.copy()
        bodies = native_bodies(t, lambda sub: self._native_body(sub, [0] * len(params)))
        tables = None
        if not all(self._takes_native(b.plan) for b in bodies):
            t, bodies = whole, []  # not natively in this session: DuckDB computes all of it
        elif analyze and bodies:
            tables = self._body_tables(bodies, params)
            if tables is None:
                t, bodies = whole, []

        for b in bodies:
            lines.append(f"Native subquery {b.name}:")
            lines.extend("  " + line for line in b.plan.explain())
            scans(b.source.copy(), "  ")
        binding = scans(t, "")
        cur = self._cursor()
        try:
            self._bind_catalog(cur, binding)
            for s in binding.scans:
                cur.register(s.name, s.reader)
            for name, table in tables or [(b.name, b.schema.empty_table()) for b in bodies]:
                cur.register(name, table)
            start = _time.perf_counter()
            if analyze:
                rows = cur.execute("EXPLAIN ANALYZE " + binding.tree.sql("duckdb"), params or None).fetchall()
                lines.append(f"Execution time: {(_time.perf_counter() - start) * 1e3:.3f} ms")
            else:
                rows = cur.execute("EXPLAIN " + binding.tree.sql("duckdb"), params or None).fetchall()
            for row in rows:
                lines.extend(str(row[-1]).splitlines())
        except duckdb.Error as exc:
            raise duck.translate(exc) from exc
        finally:
            cur.close()
        return _plan_result(lines, opts)

    def _analyze_native(self, prepared: Prepared, params: list) -> list[str] | None:
        """EXPLAIN ANALYZE's lines of a native execution (None: it was not native for these values)."""
        analysis = self.analysis = executor.Analysis()
        started = _time.perf_counter()
        try:
            assert prepared.native is not None and prepared.columns is not None
            got = self._run_native(prepared.native, params, [c.type_oid for c in prepared.columns])
            if got is None:
                return None
            rows = got.num_rows if isinstance(got, pa.Table) else got.first.num_rows
            if isinstance(got, executor.Streamed):
                rows += sum(t.num_rows for t in got.rest)
        finally:
            self.analysis = None
        total = _time.perf_counter() - started
        lines = [f"Native execution: {total * 1e3:.3f} ms, {rows} rows"]
        if analysis.scans:
            st = analysis.stats
            lines.append(
                f"  aggregate scans: {analysis.scans}, {analysis.scan_s * 1e3:.3f} ms: "
                f"{st.blocks_from_stats} row groups from block statistics, {st.groups_decoded} decoded "
                f"({st.rows_decoded} rows)"
            )
            lines.append(f"  the rest (plan values, result): {(total - analysis.scan_s) * 1e3:.3f} ms")
        return lines

    # -- COPY ------------------------------------------------------------------------------------------
    def _copy(self, sql: str) -> Result:
        cmd = parse_copy(sql)
        if cmd.direction == "out":
            if cmd.query is not None:
                stmt = self.prepare(cmd.query, [])
            else:
                cols = (
                    ", ".join(exp.to_identifier(c, quoted=True).sql("postgres") for c in cmd.columns)
                    if cmd.columns
                    else "*"
                )
                table = f'"{cmd.schema}"."{cmd.table}"' if cmd.schema else f'"{cmd.table}"'
                stmt = self.prepare(f"SELECT {cols} FROM {table}", [])
            res = self._run_signal(stmt, []) if stmt.kind == "signal" else self._run_query(stmt, [])
            res.copy = CopyRequest("out", cmd.format, res.columns or [], cmd.options)
            return res
        from sql.binder import resolve_table

        target = exp.Table(
            this=exp.to_identifier(cmd.table), db=exp.to_identifier(cmd.schema) if cmd.schema else None
        )
        if self.temp_schema is not None or cmd.schema == temp_tables.ALIAS:  # (sql/temp_tables.py)
            target = temp_tables.qualify(self, exp.Insert(this=target)).this
            cmd.schema = target.db or None
        _rp, meta = resolve_table(self.storage, self.database, target)
        cols = {c.name: c for c in sql_columns(meta)}
        names = cmd.columns or list(cols)
        for n in names:
            if n not in cols:
                raise E.UndefinedColumn(f'column "{n}" of relation "{meta.name}" does not exist')
        desc = [ColumnDesc(n, cols[n].type.oid) for n in names]
        return Result(
            None,
            tag="COPY",
            copy=CopyRequest(
                "in", cmd.format, desc, {**cmd.options, "__table": cmd.table, "__schema": cmd.schema or ""}
            ),
        )

    def copy_in(self, request: CopyRequest, data: Iterator[bytes]) -> str:
        from sql.binder import resolve_table

        schema = request.options.get("__schema") or None
        table = exp.Table(
            this=exp.to_identifier(request.options["__table"]),
            db=exp.to_identifier(schema) if schema else None,
        )
        rp, meta = resolve_table(self.storage, self.database, table)
        names = [c.name for c in request.columns]
        cols = {c.name: c for c in sql_columns(meta)}
        checks = constraints.of_table(meta.options)
        fks = foreign_keys.of_table(meta.options)
        dml.no_arrays(meta.name, [cols[n] for n in names if n in cols])
        total = 0
        cur = self._cursor()
        try:
            oids = [c.type_oid for c in request.columns]
            for part in read_chunks(data, request.format, request.options, names, oids):
                part = arrays.read_texts(part, {n: cols[n].type.name for n in names})
                cur.register("__copy_in", part)
                casts = ", ".join(
                    f"CAST({exp.to_identifier(n, quoted=True).sql('duckdb')} AS {duck.duck_type(cols[n].type)}) AS {exp.to_identifier(n, quoted=True).sql('duckdb')}"
                    for n in names
                )
                typed = cur.sql(f"SELECT {casts} FROM __copy_in").to_arrow_table()
                cur.unregister("__copy_in")
                typed = generated.fill(self, meta, typed)
                constraints.enforce(self, meta.name, checks, typed)
                foreign_keys.check_references(self, meta.name, fks, typed)
                constraints.check_unique(self, table, meta, typed)
                start = (
                    self.sql_engine.next_row_times(typed.num_rows)
                    if meta.time_column == "_tsgres_rowtime"
                    else None
                )
                batch = to_write_batch(meta, typed, start)
                if self.txn is not None:
                    transaction.before_write(self, rp, meta, batch)
                try:
                    res = self.storage.write(
                        self.database, batch, rp=rp, table_id=meta.id, sync=self.txn is None
                    )
                except TableNotFound:  # (renamed or dropped meanwhile)
                    raise E.UndefinedTable(f'relation "{meta.name}" does not exist') from None
                if self.txn is not None:  # (COMMIT waits for its fsync: sql/transaction.py)
                    self.txn.wrote(res.wal_seq)
                if res.errors:
                    raise E.DatatypeMismatch(str(res.errors[0]))
                total += typed.num_rows
        except duckdb.Error as exc:
            self._fail()  # (a failed COPY fails its block, whose ROLLBACK undoes what it wrote)
            raise duck.translate(exc) from exc
        except BaseException:  # (a CopyFail from the client, a cancel, a storage error ...)
            self._fail()
            raise
        finally:
            cur.close()
        return f"COPY {total}"

    def cancel(self) -> None:
        self._cancelled = True
        cur = self._running
        if cur is not None:
            cur.interrupt()

    def attach(self, backend_pid: int, connection: _activity.Connection) -> None:
        """A protocol's client is connected: list the session in pg_stat_activity under the pid the
        client was given, where pg_cancel_backend / pg_terminate_backend reach it."""
        self.backend_pid = backend_pid
        self.connection = connection
        self.sql_engine.activity.attach(self)
        sequences.attach(self)  # (nextval & co. find it by that pid)

    def close(self) -> None:
        self.sql_engine.activity.detach(self)
        if self.txn is not None:  # a session ending in a block: the block is rolled back
            txn, self.txn = self.txn, None
            self.transaction_status = "I"
            try:
                txn.undo(self)
            except E.SqlError:
                logging.getLogger("tsgres.sql").warning(
                    "rolling back the open transaction of a closing session failed", exc_info=True
                )
        self.commands.cursors.clear()
        if self.temp_tables or self.temp_schema is not None:
            temp_tables.session_ended(self)


_CONSTANT_NODES = (
    exp.Select,
    exp.Literal,
    exp.Alias,
    exp.Identifier,
    exp.Paren,
    exp.Neg,
    exp.Null,
    exp.Boolean,
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.DataType,
    exp.Cast,
)


_T = exp.DataType.Type
_CONSTANT_CASTS = {_T.INT, _T.BIGINT, _T.SMALLINT, _T.DOUBLE, _T.FLOAT, _T.TEXT, _T.VARCHAR, _T.BOOLEAN}


def _constant_only(tree: exp.Expression) -> bool:
    """SELECT of literals, arithmetic and casts only (SELECT 1, a driver's ping): the same result
    every time, whatever the session, so it is computed once at prepare."""
    if not isinstance(tree, exp.Select) or any(v for k, v in tree.args.items() if k != "expressions"):
        return False
    for n in tree.walk():
        if not isinstance(n, _CONSTANT_NODES):
            return False
        if isinstance(n, exp.Cast) and n.to.this not in _CONSTANT_CASTS:
            return False  # 'now'::timestamptz is not a constant
    return True


def _first_column(
    parts: Iterable[pa.Table | pa.RecordBatch], limit: int, schema: pa.Schema | None = None
) -> pa.ChunkedArray | None:
    """The only column of ``parts`` (tables or batches of one schema, ``schema`` when known) read until
    ``limit`` rows (or the end); closes ``parts`` when it is a generator. None when they have other
    than one column, or neither a part nor a schema tells its type."""
    chunks: list[pa.Array] = []
    n = 0
    width = len(schema) if schema is not None else 1
    try:
        for part in parts:
            width = part.num_columns
            chunks.extend(part.column(0).chunks if isinstance(part, pa.Table) else [part.column(0)])
            n += part.num_rows
            if n >= limit:
                break
    finally:
        close = getattr(parts, "close", None)
        if close is not None:
            close()
    if width != 1 or (not chunks and schema is None):
        return None
    return pa.chunked_array(chunks, type=None if chunks else schema.field(0).type)  # type: ignore[union-attr]


def _text_values(column: pa.ChunkedArray | pa.Array | None) -> list[str] | None:
    """A subquery's column as the values of a tag IN list: None unless text, at most
    SUBQUERY_PUSHDOWN_VALUES of them (NULLs match no tag)."""
    if column is None or len(column) > SUBQUERY_PUSHDOWN_VALUES or not pa.types.is_string(column.type):
        return None
    return [v for v in column.to_pylist() if v is not None]


def _select_into(tree: exp.Select) -> exp.Create:
    """``SELECT ... INTO [TEMP] t ...`` as the CREATE TABLE t AS SELECT it is."""
    into = tree.args["into"]
    query = tree.copy()
    query.set("into", None)
    props = [exp.TemporaryProperty()] if into.args.get("temporary") else []
    return exp.Create(
        kind="TABLE",
        this=into.this.copy(),
        expression=query,
        properties=exp.Properties(expressions=props) if props else None,
    )


_USER_TYPES = "user_types"  # the memo key of a plan's enum types (prepare)
_DML = ("insert", "delete", "update")


def _type_oids(stmt: Prepared) -> set[int]:
    """The types of a statement's parameters and result columns."""
    return {*stmt.param_oids, *(c.type_oid for c in stmt.columns or ())}


def _duck_params(params: list) -> list:
    """Bound values as DuckDB's Python binding takes them: an interval decoded by pgwire
    (pyarrow MonthDayNano) binds as INTERVAL only as a timedelta, which has no months."""
    out = []
    for v in params:
        if isinstance(v, pa.MonthDayNano) and v.months == 0:
            v = _dt.timedelta(days=v.days, microseconds=v.nanoseconds // 1000)
        out.append(v)
    return out


def _params_as_nulls(tree: exp.Expression, oids: list[int]) -> exp.Expression:
    def fix(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Parameter) and node.this.name.isdigit():
            i = int(node.this.name) - 1
            t = BY_OID.get(oids[i]) if i < len(oids) else None
            return exp.Cast(
                this=exp.null(), to=exp.DataType.build(duck.duck_type(t or TEXT), dialect="duckdb")
            )
        return node

    return tree.transform(fix)


def _without_typmods(to: exp.DataType) -> exp.DataType:
    """varchar(255)[] as varchar[], numeric(10, 2) as numeric: a parameter's type has no typmod."""
    bare = to.copy()
    for dt in bare.find_all(exp.DataType):
        if dt.this != exp.DataType.Type.ARRAY and not dt.args.get("nested"):
            dt.set("expressions", [])
    return bare


def _infer_params(session: SqlSession, tree: exp.Expression) -> dict[int, int]:
    """Types of $n from context: compared with / assigned to a column of ours, LIMIT/OFFSET, INSERT."""
    types: dict[str, int] = {}
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier) or is_catalog_ref(table):
            continue
        try:
            from sql.binder import resolve_table

            _rp, meta = resolve_table(session.storage, session.database, table)
        except E.SqlError:
            continue
        for c in sql_columns(meta):
            types.setdefault(c.name, c.type.oid)
    out: dict[int, int] = {}
    if isinstance(tree, exp.Insert) and isinstance(tree.expression, exp.Values):
        target = tree.this
        names = [i.name for i in target.expressions] if isinstance(target, exp.Schema) else list(types)
        for row in tree.expression.expressions:
            for name, v in zip(names, row.expressions, strict=False):
                if isinstance(v, exp.Parameter) and name in types:
                    out.setdefault(int(v.this.name), types[name])
    for p in tree.find_all(exp.Parameter):
        if not p.this.name.isdigit():
            continue
        n = int(p.this.name)
        node, parent = p, p.parent
        while isinstance(parent, exp.Paren):  # (($1))::varchar[] is typed as $1::varchar[] is
            node, parent = parent, parent.parent
        if isinstance(parent, exp.Limit | exp.Offset):
            out.setdefault(n, 20)
        elif isinstance(parent, exp.Binary):
            other = parent.right if parent.left is node else parent.left
            if isinstance(other, exp.Column) and other.name in types:
                out.setdefault(n, types[other.name])
        elif isinstance(parent, exp.In) and isinstance(parent.this, exp.Column) and parent.this.name in types:
            out.setdefault(n, types[parent.this.name])
        elif (
            isinstance(parent, exp.Between)
            and isinstance(parent.this, exp.Column)
            and parent.this.name in types
            and parent.this is not node
        ):
            out.setdefault(n, types[parent.this.name])
        elif (
            isinstance(parent, exp.Anonymous)
            and parent.name.lower() == "time_bucket"
            and parent.expressions
            and parent.expressions[0] is node
        ):
            out.setdefault(n, 1186)  # time_bucket($1, ...): the bucket width is an interval
        elif isinstance(parent, exp.Cast):
            try:
                from sql.types import lookup

                out.setdefault(n, lookup(_without_typmods(parent.to).sql("postgres")).oid)
            except KeyError:
                oid = enums.cast_oid(session.storage, session.database, parent.to)
                if oid is not None:  # $1::mood, $1::mood[]
                    out.setdefault(n, oid)
        elif (json_kind := pg_json.param_type(p)) is not None:  # jsonb_set($1, $2, ...), j @> $1
            from sql.types import lookup

            out.setdefault(n, lookup(json_kind).oid)
    return out


def _plan_result(lines: list[str], opts: ExplainOptions) -> Result:
    """EXPLAIN's answer: a text line per row, or FORMAT JSON's one json row."""
    if opts.format == "json":
        table = pa.table({"QUERY PLAN": [as_json(lines, opts.analyze)]})
        return Result([ColumnDesc("QUERY PLAN", JSON_OID)], iter(table.to_batches()), tag="EXPLAIN")
    table = pa.table({"QUERY PLAN": lines})
    return Result([ColumnDesc("QUERY PLAN", TEXT.oid)], iter(table.to_batches()), tag="EXPLAIN")
