"""SHOW statements and management statements, answered from the storage catalog and series index.

Meta queries never scan data: databases, retention policies and shards come from the catalog
(columnar/catalog.py); measurements, tag keys, tag values, series and their cardinalities from the
database's series index (columnar/index.py), with WHERE clauses on tags evaluated by the index as
tag predicates (columnar/predicate.py). Estimated cardinalities use the index's HyperLogLog sketch.
Management statements (CREATE/DROP DATABASE, retention policies, DROP MEASUREMENT/SERIES, DELETE)
call the storage engine; users and privileges (SHOW USERS, SHOW GRANTS, CREATE USER, GRANT ...)
live in sql/influxql/users.py's store, kept in the catalog.
"""

from __future__ import annotations

from typing import Any

from columnar.errors import DatabaseNotFound, RetentionPolicyNotFound, StorageError, TableNotFound
from columnar.predicate import And, Or, TagEq, TagNe, TagPredicate, TagRegex
from retention import continuous
from sql.influxql import ast as A
from sql.influxql import cq, stats
from sql.influxql.compile import QueryError, condition_expr
from sql.influxql.lexer import T, go_duration
from sql.influxql.regex import _translate
from sql.influxql.series import Series
from sql.influxql.source import Context, resolve_database
from sql.influxql.users import NO_PRIVILEGES, PRIVILEGE_NAMES, UserError, users_of
from sql.influxql.values import format_time
from sql.temp_tables import is_temp_schema

_MEASUREMENT_ESCAPES = str.maketrans({",": "\\,", " ": "\\ "})
_TAG_ESCAPES = str.maketrans({",": "\\,", " ": "\\ ", "=": "\\="})


def _policies_in_creation_order(ctx: Context, db: str) -> list[Any]:
    """Retention policies as InfluxDB lists them: in the order they were created (not the SQL
    sessions' temporary schemas, sql/temp_tables.py)."""
    return [
        r for r in ctx.storage.catalog.retention_policies(db, order="created") if not is_temp_schema(r.name)
    ]


def _tables(ctx: Context, db: str) -> list[str]:
    """The measurements of the database's index, but not those that are only SQL sessions'
    temporary tables (private to their session, sql/temp_tables.py)."""
    names = _index(ctx, db).tables()
    cat = ctx.storage.catalog
    if not any(is_temp_schema(r.name) for r in cat.retention_policies(db)):
        return names
    shared = {t.name for t in cat.tables(cat.database(db).id) if not is_temp_schema(t.rp)}
    return [n for n in names if n in shared]


def _meta_series(name: str | None, columns: list[str], values: list[list[Any]]) -> Series:
    return Series(name or "", None, columns, values, time_index=None)


def _index(ctx: Context, db: str) -> Any:
    return ctx.storage.index(ctx.storage.catalog.database(db).id)


def tag_predicate(cond: A.Expr | None) -> TagPredicate | None:
    """A WHERE clause over tags as an index predicate (conditions on other things are dropped)."""
    if cond is None:
        return None
    if isinstance(cond, A.ParenExpr):
        return tag_predicate(cond.expr)
    if isinstance(cond, A.BinaryExpr):
        if cond.op in (T.AND, T.OR):
            a, b = tag_predicate(cond.lhs), tag_predicate(cond.rhs)
            if a is None:
                return b if cond.op is T.AND else None
            if b is None:
                return a if cond.op is T.AND else None
            return And((a, b)) if cond.op is T.AND else Or((a, b))
        lhs, rhs = cond.lhs, cond.rhs
        if isinstance(rhs, A.VarRef) and not isinstance(lhs, A.VarRef):
            lhs, rhs = rhs, lhs
        if not isinstance(lhs, A.VarRef) or lhs.name.lower() in ("time", "_name"):
            return None
        if cond.op in (T.EQ, T.NEQ) and isinstance(rhs, A.StringLiteral):
            return TagEq(lhs.name, rhs.value) if cond.op is T.EQ else TagNe(lhs.name, rhs.value)
        if cond.op in (T.EQREGEX, T.NEQREGEX) and isinstance(rhs, A.RegexLiteral):
            return TagRegex(lhs.name, _translate(rhs.pattern), negate=cond.op is T.NEQREGEX)
    return None


def _name_filter(cond: A.Expr | None) -> Any:
    """Conditions on _name (the measurement) in SHOW queries, as a predicate over names."""
    if cond is None:
        return None
    if isinstance(cond, A.ParenExpr):
        return _name_filter(cond.expr)
    if isinstance(cond, A.BinaryExpr):
        if cond.op in (T.AND, T.OR):
            a, b = _name_filter(cond.lhs), _name_filter(cond.rhs)
            if a is None or b is None:
                return a or b if cond.op is T.AND else None
            if cond.op is T.AND:
                return lambda n, a=a, b=b: a(n) and b(n)
            return lambda n, a=a, b=b: a(n) or b(n)
        if isinstance(cond.lhs, A.VarRef) and cond.lhs.name == "_name":
            r = cond.rhs
            if cond.op is T.EQ and isinstance(r, A.StringLiteral):
                return lambda n, v=r.value: n == v
            if cond.op is T.NEQ and isinstance(r, A.StringLiteral):
                return lambda n, v=r.value: n != v
            if cond.op is T.EQREGEX and isinstance(r, A.RegexLiteral):
                return lambda n, rx=r.compiled: rx.search(n) is not None
            if cond.op is T.NEQREGEX and isinstance(r, A.RegexLiteral):
                return lambda n, rx=r.compiled: rx.search(n) is None
    return None


def _strip_time(ctx: Context, cond: A.Expr | None) -> A.Expr | None:
    expr, _tr = condition_expr(cond, ctx.now, __import__("datetime").UTC)
    return expr


def _measurements(ctx: Context, db: str, sources: list[A.Source]) -> list[str]:
    names = _tables(ctx, db)
    if not sources:
        return names
    out: set[str] = set()
    for s in sources:
        if isinstance(s, A.Measurement):
            if s.regex is not None:
                out |= {n for n in names if s.regex.compiled.search(n)}
            elif s.name in names:
                out.add(s.name)
    return sorted(out)


def _matching(ctx: Context, db: str, table: str, pred: TagPredicate | None) -> bool:
    return len(_index(ctx, db).select(table, pred)) > 0


def _limit(values: list, limit: int, offset: int) -> list:
    if offset:
        values = values[offset:]
    if limit:
        values = values[:limit]
    return values


def series_key(table: str, tags: tuple[tuple[str, str], ...]) -> str:
    parts = [table.translate(_MEASUREMENT_ESCAPES)]
    for k, v in sorted(tags):
        parts.append(f"{k.translate(_TAG_ESCAPES)}={v.translate(_TAG_ESCAPES)}")
    return ",".join(parts)


# -- SHOW ---------------------------------------------------------------------------------------------------------
def show(ctx: Context, stmt: A.Statement) -> list[Series]:
    if isinstance(stmt, A.ShowDatabases):
        dbs = sorted(ctx.storage.catalog.databases(), key=lambda d: d.id)
        if ctx.user is not None and not ctx.user.admin:  # (authentication on) those it may use
            dbs = [d for d in dbs if ctx.user.privilege(d.name) != NO_PRIVILEGES]
        return [_meta_series("databases", ["name"], [[d.name] for d in dbs])]
    if isinstance(stmt, A.ShowRetentionPolicies):
        db = resolve_database(ctx, stmt.database)
        default = ctx.storage.catalog.database(db).default_rp
        rows = [
            [
                rp.name,
                go_duration(rp.duration_ns),
                go_duration(rp.shard_duration_ns),
                rp.replication,
                rp.name == default,
            ]
            for rp in _policies_in_creation_order(ctx, db)
        ]
        return [_meta_series(None, ["name", "duration", "shardGroupDuration", "replicaN", "default"], rows)]
    if isinstance(stmt, A.ShowMeasurements):
        return _show_measurements(ctx, stmt)
    if isinstance(stmt, A.ShowTagKeys):
        return _show_tag_keys(ctx, stmt)
    if isinstance(stmt, A.ShowTagValues):
        return _show_tag_values(ctx, stmt)
    if isinstance(stmt, A.ShowFieldKeys):
        return _show_field_keys(ctx, stmt)
    if isinstance(stmt, A.ShowSeries):
        return _show_series(ctx, stmt)
    if isinstance(stmt, A.ShowCardinality):
        return _show_cardinality(ctx, stmt)
    if isinstance(stmt, A.ShowShards):
        return _show_shards(ctx)
    if isinstance(stmt, A.ShowShardGroups):
        return _show_shard_groups(ctx)
    if isinstance(stmt, A.ShowSimple):
        if stmt.what == "users":
            rows = [[u.name, u.admin] for u in users_of(ctx.storage).users()]
            return [_meta_series(None, ["user", "admin"], rows)]
        if stmt.what == "continuous queries":
            return cq.show(ctx)
        if stmt.what == "queries":  # (this one included, as in InfluxDB)
            rows = [
                [q.qid, q.text, q.database, q.duration(), "running"]
                for q in ctx.sql_engine.activity.influxql.running()
            ]
            return [_meta_series(None, ["qid", "query", "database", "duration", "status"], rows)]
        if stmt.what == "subscriptions":
            return []
        if stmt.what == "stats":
            return stats.show_stats(ctx.storage, ctx.sql_engine, stmt.arg)
        if stmt.what == "diagnostics":
            from sql.engine import VERSION

            return stats.show_diagnostics(VERSION, stmt.arg)
        if stmt.what == "grants":
            try:
                user = users_of(ctx.storage).user(stmt.arg)
            except UserError as e:
                raise QueryError(str(e)) from None
            rows = [[db, PRIVILEGE_NAMES[p]] for db, p in user.privileges.items()]
            return [_meta_series(None, ["database", "privilege"], rows)]
        raise QueryError(f"SHOW {stmt.what.upper()} is not supported")
    raise QueryError("unsupported statement")


def _show_measurements(ctx: Context, stmt: A.ShowMeasurements) -> list[Series]:
    try:
        db = resolve_database(ctx, stmt.database)
    except QueryError:
        if stmt.database or ctx.database:
            return []  # InfluxDB 1.x: an unknown database has no measurements, not an error
        raise
    names = _tables(ctx, db)
    if stmt.source is not None:
        if stmt.source.regex is not None:
            names = [n for n in names if stmt.source.regex.compiled.search(n)]
        else:
            names = [n for n in names if n == stmt.source.name]
    cond = _strip_time(ctx, stmt.condition)
    name_ok = _name_filter(cond)
    if name_ok is not None:
        names = [n for n in names if name_ok(n)]
    pred = tag_predicate(cond)
    if pred is not None:
        names = [n for n in names if _matching(ctx, db, n, pred)]
    names = _limit(names, stmt.limit, stmt.offset)
    if not names:
        return []
    return [_meta_series("measurements", ["name"], [[n] for n in names])]


def _show_tag_keys(ctx: Context, stmt: A.ShowTagKeys) -> list[Series]:
    db = resolve_database(ctx, stmt.database)
    idx = _index(ctx, db)
    pred = tag_predicate(_strip_time(ctx, stmt.condition))
    out = []
    for m in _measurements(ctx, db, stmt.sources):
        if pred is None:
            keys = idx.tag_keys(m)
        else:
            ids = idx.select(m, pred)
            keys = sorted({k for _, ts in idx.series_tags(list(ids)) for k, _ in ts}) if len(ids) else []
        keys = _limit(keys, stmt.limit, stmt.offset)
        if keys:
            out.append(_meta_series(m, ["tagKey"], [[k] for k in keys]))
    return out  # InfluxDB 1.x ignores SLIMIT/SOFFSET here


def _tag_keys_for(op: T, key_expr: Any, keys: list[str]) -> list[str]:
    if op is T.EQ:
        return [k for k in keys if k == key_expr]
    if op is T.NEQ:
        return [k for k in keys if k != key_expr]
    if op is T.IN:
        return [k for k in keys if k in key_expr]
    if op is T.EQREGEX:
        return [k for k in keys if key_expr.compiled.search(k)]
    if op is T.NEQREGEX:
        return [k for k in keys if not key_expr.compiled.search(k)]
    return []


def _show_tag_values(ctx: Context, stmt: A.ShowTagValues) -> list[Series]:
    db = resolve_database(ctx, stmt.database)
    idx = _index(ctx, db)
    pred = tag_predicate(_strip_time(ctx, stmt.condition))
    out = []
    for m in _measurements(ctx, db, stmt.sources):
        rows: list[list[str]] = []
        for k in _tag_keys_for(stmt.op, stmt.key_expr, idx.tag_keys(m)):
            rows.extend([k, v] for v in idx.tag_values(m, k, pred))
        rows = _limit(rows, stmt.limit, stmt.offset)
        if rows:
            out.append(_meta_series(m, ["key", "value"], rows))
    return out


def _show_field_keys(ctx: Context, stmt: A.ShowFieldKeys) -> list[Series]:
    db = resolve_database(ctx, stmt.database)
    dbm = ctx.storage.catalog.database(db)
    rp = ctx.storage.catalog.retention_policy(db, ctx.rp or None).name
    tables = {t.name: t for t in ctx.storage.catalog.tables(dbm.id, rp)}
    names = sorted(tables)
    if stmt.sources:
        chosen: set[str] = set()
        for s in stmt.sources:
            if isinstance(s, A.Measurement):
                if s.regex is not None:
                    chosen |= {n for n in names if s.regex.compiled.search(n)}
                elif s.name in tables:
                    chosen.add(s.name)
        names = sorted(chosen)
    out = []
    for n in names:
        fields = tables[n].fields
        rows = [[k, fields[k].influx_name] for k in sorted(fields)]
        rows = _limit(rows, stmt.limit, stmt.offset)
        if rows:
            out.append(_meta_series(n, ["fieldKey", "fieldType"], rows))
    return out


def _show_series(ctx: Context, stmt: A.ShowSeries) -> list[Series]:
    db = resolve_database(ctx, stmt.database)
    idx = _index(ctx, db)
    pred = tag_predicate(_strip_time(ctx, stmt.condition))
    keys: list[str] = []
    for m in _measurements(ctx, db, stmt.sources):
        ids = idx.select(m, pred)
        keys.extend(series_key(t, ts) for t, ts in idx.series_tags(list(ids)))
    keys = _limit(sorted(keys), stmt.limit, stmt.offset)
    if not keys:
        return []
    return [_meta_series(None, ["key"], [[k] for k in keys])]


def _show_cardinality(ctx: Context, stmt: A.ShowCardinality) -> list[Series]:
    db = resolve_database(ctx, stmt.database)
    idx = _index(ctx, db)
    pred = tag_predicate(_strip_time(ctx, stmt.condition))
    measurements = _measurements(ctx, db, stmt.sources)
    if stmt.what == "measurement":
        if pred is not None:
            measurements = [m for m in measurements if _matching(ctx, db, m, pred)]
        col = "count" if stmt.exact else "cardinality estimation"
        return [_meta_series(None, [col], [[len(measurements)]])]
    if stmt.what == "series" and not stmt.exact and not stmt.sources and pred is None:
        return [_meta_series(None, ["cardinality estimation"], [[idx.estimate_series_cardinality()]])]
    out = []
    for m in measurements:
        if stmt.what == "series":
            n = len(idx.select(m, pred)) if pred is not None else idx.series_count(m)
        elif stmt.what == "tag_key":
            n = len(idx.tag_keys(m))
        elif stmt.what == "field_key":
            dbm = ctx.storage.catalog.database(db)
            rp = ctx.storage.catalog.retention_policy(db, ctx.rp or None).name
            meta = ctx.storage.table(dbm.id, rp, m)
            n = len(meta.fields) if meta is not None else 0
        else:
            n = sum(
                len(idx.tag_values(m, k, pred))
                for k in _tag_keys_for(stmt.op or T.EQ, stmt.key_expr, idx.tag_keys(m))
            )
        if n:
            out.append(_meta_series(m, ["count"], [[n]]))
    return _limit(out, stmt.limit, stmt.offset)


def _shard_rows(ctx: Context) -> list[tuple[Any, Any, Any]]:
    names = {d.id: d.name for d in ctx.storage.catalog.databases()}
    rows = []
    for shard in ctx.storage.catalog.shards():
        db = names.get(shard.database_id)
        if db is None:
            continue
        try:
            rp = ctx.storage.catalog.retention_policy(db, shard.rp)
        except RetentionPolicyNotFound:
            continue
        expiry = shard.end_ns + rp.duration_ns if rp.duration_ns else shard.end_ns
        rows.append((db, shard, expiry))
    return rows


def _show_shards(ctx: Context) -> list[Series]:
    by_db: dict[str, list[list[Any]]] = {
        d.name: [] for d in sorted(ctx.storage.catalog.databases(), key=lambda d: d.id)
    }
    for db, shard, expiry in _shard_rows(ctx):
        by_db[db].append(
            [
                shard.id,
                db,
                shard.rp,
                shard.id,
                format_time(shard.start_ns),
                format_time(shard.end_ns),
                format_time(expiry),
                "",
            ]
        )
    cols = [
        "id",
        "database",
        "retention_policy",
        "shard_group",
        "start_time",
        "end_time",
        "expiry_time",
        "owners",
    ]
    return [_meta_series(db, cols, rows) for db, rows in by_db.items()]


def _show_shard_groups(ctx: Context) -> list[Series]:
    rows = [
        [shard.id, db, shard.rp, format_time(shard.start_ns), format_time(shard.end_ns), format_time(expiry)]
        for db, shard, expiry in _shard_rows(ctx)
    ]
    cols = ["id", "database", "retention_policy", "start_time", "end_time", "expiry_time"]
    return [_meta_series("shard groups", cols, rows)]


# -- users -------------------------------------------------------------------------------------------------------
def manage_users(ctx: Context, stmt: A.UserStatement) -> list[Series]:
    """CREATE/DROP USER, SET PASSWORD, GRANT and REVOKE, with InfluxDB's answers."""
    store = users_of(ctx.storage)
    try:
        if isinstance(stmt, A.CreateUser):
            store.create(stmt.user, stmt.password, stmt.admin)
        elif isinstance(stmt, A.DropUser):
            store.drop(stmt.user)
        elif isinstance(stmt, A.SetPassword):
            store.set_password(stmt.user, stmt.password)
        elif isinstance(stmt, A.GrantAdmin | A.RevokeAdmin):
            store.set_admin(stmt.user, isinstance(stmt, A.GrantAdmin))
        elif isinstance(stmt, A.Grant):
            store.set_privilege(
                stmt.user, stmt.database, stmt.privilege, _database_exists(ctx, stmt.database)
            )
        elif isinstance(stmt, A.Revoke):
            # InfluxDB clears the revoked bits: REVOKE READ leaves WRITE, REVOKE ALL leaves none
            left = store.user(stmt.user).privilege(stmt.database) & ~stmt.privilege
            store.set_privilege(stmt.user, stmt.database, left, _database_exists(ctx, stmt.database))
        else:
            raise QueryError("unsupported statement")
    except UserError as e:
        raise QueryError(str(e)) from None
    return []


def _database_exists(ctx: Context, name: str) -> bool:
    try:
        ctx.storage.catalog.database(name)
    except DatabaseNotFound:
        return False
    return True


# -- management -------------------------------------------------------------------------------------------------------
def manage(ctx: Context, stmt: A.Statement) -> list[Series]:
    storage = ctx.storage
    cat = storage.catalog
    try:
        if isinstance(stmt, A.CreateDatabase):
            _create_database(ctx, stmt)
        elif isinstance(stmt, A.DropDatabase):
            try:
                storage.drop_database(stmt.name)
            except DatabaseNotFound:
                pass
            users_of(storage).database_dropped(stmt.name)
            continuous.drop_database(storage, stmt.name)
        elif isinstance(stmt, A.CreateRetentionPolicy):
            resolve_database(ctx, stmt.database)
            _check_rp_durations(stmt.duration, stmt.shard_duration)
            existing = {r.name: r for r in cat.retention_policies(stmt.database)}
            if stmt.name in existing:
                r = existing[stmt.name]
                same = r.duration_ns == stmt.duration and r.replication == stmt.replication
                same = same and (not stmt.shard_duration or r.shard_duration_ns == stmt.shard_duration)
                if not same:
                    raise QueryError("retention policy already exists")
                if stmt.default:
                    cat.alter_retention_policy(stmt.database, stmt.name, default=True)
            else:
                cat.create_retention_policy(
                    stmt.database,
                    stmt.name,
                    stmt.duration,
                    shard_duration_ns=_shard_duration(stmt.shard_duration) or 0,
                    replication=stmt.replication,
                    default=stmt.default,
                )
        elif isinstance(stmt, A.AlterRetentionPolicy):
            resolve_database(ctx, stmt.database)
            try:
                r = cat.retention_policy(stmt.database, stmt.name)
            except RetentionPolicyNotFound:
                raise QueryError(f"retention policy not found: {stmt.name}") from None
            dur = stmt.duration if stmt.duration is not None else r.duration_ns
            _check_rp_durations(dur, stmt.shard_duration or 0)
            cat.alter_retention_policy(
                stmt.database,
                stmt.name,
                duration_ns=stmt.duration,
                shard_duration_ns=_shard_duration(stmt.shard_duration),
                replication=stmt.replication,
                default=stmt.default,
            )
        elif isinstance(stmt, A.DropRetentionPolicy):
            resolve_database(ctx, stmt.database)
            try:
                cat.retention_policy(stmt.database, stmt.name)
            except RetentionPolicyNotFound:
                return []
            for shard in storage.shards(stmt.database, stmt.name):
                storage.drop_shard(shard.meta.id)
            cat.drop_retention_policy(stmt.database, stmt.name)
        elif isinstance(stmt, A.DropMeasurement):
            db = resolve_database(ctx, "")
            dropped = False
            for rp in cat.retention_policies(db):
                try:
                    storage.drop_table(db, stmt.name, rp=rp.name)
                    dropped = True
                except TableNotFound:
                    pass
            if not dropped:
                _index(ctx, db).drop_table(stmt.name)  # InfluxDB 1.x: no error for an unknown name
        elif isinstance(stmt, A.DropSeries):
            _drop_series(ctx, stmt.sources, stmt.condition, drop_index=True)
        elif isinstance(stmt, A.DeleteSeries):
            _drop_series(ctx, stmt.sources, stmt.condition, drop_index=False)
        elif isinstance(stmt, A.DropShard):
            storage.drop_shard(stmt.id)
        else:
            raise QueryError("unsupported statement")
    except StorageError as e:
        raise QueryError(str(e)) from e
    finally:
        storage.invalidate_tables()
        ctx.sql_engine.schema_changed()
    return []


HOUR = 3600 * 10**9


def _check_rp_durations(duration: int, shard_duration: int) -> None:
    if duration and duration < HOUR:
        raise QueryError("retention policy duration must be at least 1h0m0s")


def _shard_duration(d: int | None) -> int | None:
    """InfluxDB raises a shard group duration under an hour to an hour."""
    return None if not d else max(d, HOUR)


def _create_database(ctx: Context, stmt: A.CreateDatabase) -> None:
    cat = ctx.storage.catalog
    existed = True
    try:
        cat.database(stmt.name)
    except DatabaseNotFound:
        existed = False
    if existed:
        return
    ctx.storage.create_database(stmt.name)
    if stmt.rp_create:
        dur = stmt.rp_duration or 0
        _check_rp_durations(dur, stmt.rp_shard_duration)
        name = stmt.rp_name or "autogen"
        if name == "autogen":
            from columnar.catalog import default_shard_duration

            cat.alter_retention_policy(
                stmt.name,
                "autogen",
                duration_ns=dur,
                shard_duration_ns=stmt.rp_shard_duration or default_shard_duration(dur),
                replication=stmt.rp_replication,
            )
        else:
            cat.create_retention_policy(
                stmt.name,
                name,
                dur,
                shard_duration_ns=stmt.rp_shard_duration,
                replication=stmt.rp_replication or 1,
                default=True,
            )
            cat.drop_retention_policy(stmt.name, "autogen")


def _drop_series(
    ctx: Context, sources: list[A.Source], condition: A.Expr | None, *, drop_index: bool
) -> None:
    import datetime as dt

    db = resolve_database(ctx, "")
    cond, tr = condition_expr(condition, ctx.now, dt.UTC)
    if drop_index and (tr.min is not None or tr.max is not None):
        raise QueryError("DROP SERIES doesn't support time in WHERE clause")
    for n in A.walk(cond):
        if isinstance(n, A.BinaryExpr) and n.op not in (T.AND, T.OR):
            if not isinstance(n.rhs, A.StringLiteral | A.RegexLiteral):
                shards = ctx.storage.shards(db)
                sid = shards[0].meta.id if shards else 0
                raise QueryError(f"shard {sid}: fields not supported in WHERE clause during deletion")
    pred = tag_predicate(cond)
    tables = _measurements(ctx, db, sources) if sources else _tables(ctx, db)
    idx = _index(ctx, db)
    tmin = -(2**63) if tr.min is None else tr.min
    tmax = 2**63 - 1 if tr.max is None else tr.max
    for t in tables:
        ctx.storage.delete(db, t, tmin=tmin, tmax=tmax, predicate=pred)
        if drop_index:
            ids = idx.select(t, pred)
            if len(ids):
                idx.drop_series(list(ids))
