"""Functions answered from the session: current_setting, set_config, version(), current_database(),
current_user/session_user, current_schema(s), pg_backend_pid(), pg_my_temp_schema(),
pg_is_other_temp_schema(oid), pg_advisory_unlock_all(),
pg_cancel_backend(pid) / pg_terminate_backend(pid [, timeout]) (calls of a DuckDB function that acts
per row when executed: sql/activity.py) ...

    SELECT current_setting('server_version_num')::int / 100
    -> SELECT CAST('150006' AS INT) / 100
"""

from __future__ import annotations

from sqlglot import exp

from sql import errors as E
from sql import sequences
from sql import settings as S
from sql.activity import SIGNAL_FUNCTION


def _temp_schema_oid(ctx) -> int:
    from sql.pgcatalog_model import hashed_oid

    return hashed_oid(ctx.database, ctx.temp_schema) if ctx.temp_schema else 0


def _other_temp_schema(oid: exp.Expression, ctx) -> exp.Expression:
    """pg_is_other_temp_schema(oid): whether it is another session's pg_temp_N (pg_namespace lists
    them all, sql/pgcatalog_model.py)."""
    others = exp.maybe_parse(
        "SELECT oid FROM pg_catalog.pg_namespace WHERE nspname LIKE 'pg_temp_%' AND oid <> "
        f"{_temp_schema_oid(ctx)}",
        dialect="postgres",
    )
    found = exp.In(this=exp.Cast(this=oid, to=exp.DataType.build("bigint")), query=exp.Subquery(this=others))
    return exp.Coalesce(this=exp.Paren(this=found), expressions=[exp.false()])


def session_functions(tree: exp.Expression, ctx) -> exp.Expression:
    settings: dict[str, str] = ctx.settings

    def lit(v: str | None) -> exp.Expression:
        return exp.null() if v is None else exp.Literal.string(v)

    def fix(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.CurrentUser) or (
            isinstance(node, exp.Column)
            and node.name.lower() in ("session_user", "current_role")
            and not node.table
        ):
            return lit(ctx.user)
        if isinstance(node, exp.CurrentSchema):
            return lit("public")
        if isinstance(node, exp.CurrentVersion):
            return lit(ctx.version)
        if not isinstance(node, exp.Anonymous | exp.Func):
            return node
        name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
        args = (
            list(node.expressions)
            if isinstance(node, exp.Anonymous)
            else [a for a in node.args.values() if isinstance(a, exp.Expression)]
        )
        if name == "current_setting":
            key = args[0].name.lower() if args and isinstance(args[0], exp.Literal) else None
            missing_ok = len(args) > 1 and (args[1].this is True or args[1].name.lower() in ("true", "t"))
            if key is None and args:  # a name known at run time (SQLAlchemy binds it): look it up
                unknown = exp.Anonymous(
                    this="error", expressions=[lit("unrecognized configuration parameter")]
                )
                return exp.Case(
                    this=exp.Lower(this=args[0].copy()),
                    ifs=[
                        exp.If(this=lit(k), true=lit(v)) for k, v in {**S.every_default(), **settings}.items()
                    ],
                    default=exp.null() if missing_ok else unknown,
                )
            if key is None:
                raise E.FeatureNotSupported("current_setting() needs a constant name")
            value = settings.get(key, S.default_shown(key))
            if value is None and not missing_ok:
                raise E.UndefinedObject(f'unrecognized configuration parameter "{key}"')
            return lit(value)
        if name == "set_config" and len(args) >= 2:
            if not (isinstance(args[0], exp.Literal) and isinstance(args[1], exp.Literal)):
                # a name or value read from rows (pg_dump: set_config(name, ...) FROM pg_settings
                # WHERE name = '...'): not set, one value per row has no place here; the value
                return args[1].copy()
            key, value = args[0].name.lower(), args[1].name
            if not ctx.describe:
                ctx.set_setting(key, value)
            return lit(value)
        if name in ("nextval", "currval", "setval", "lastval"):
            return sequence_call(name, args, ctx)
        if name == "version":
            return lit(ctx.version)
        if name in ("current_database", "current_catalog"):
            return lit(ctx.database)
        if name in ("current_user", "session_user", "user", "current_role"):
            return lit(ctx.user)
        if (
            name in ("has_table_privilege", "has_schema_privilege", "has_database_privilege")
            and len(args) == 2
        ):
            node.set("expressions", [lit(ctx.user), *(a.copy() for a in args)])  # (catalog_functions.py)
            return node
        if name == "current_schema":
            return lit("public")
        if name == "current_schemas":
            return (
                exp.Array(expressions=[exp.Literal.string("pg_catalog"), exp.Literal.string("public")])
                if args and args[0].name.lower() in ("true", "t")
                else exp.Array(expressions=[exp.Literal.string("public")])
            )
        if name == "pg_backend_pid":
            return exp.Literal.number(ctx.backend_pid)
        if name == "pg_my_temp_schema" and not args:  # (0 until the session has one)
            ctx.session_dependent = True
            return exp.Literal.number(_temp_schema_oid(ctx))
        if name == "pg_is_other_temp_schema" and len(args) == 1:
            ctx.session_dependent = True
            return _other_temp_schema(args[0].copy(), ctx)
        if name in ("pg_cancel_backend", "pg_terminate_backend"):
            # (transform does not go into what replaced a node: the pid's own calls, pg_backend_pid(), here)
            return signal_backend(name, [a.transform(marked) for a in args], ctx)
        if name in ("pg_advisory_unlock_all", "pg_advisory_lock", "pg_advisory_xact_lock"):
            return exp.null()
        if name in ("pg_try_advisory_lock", "pg_advisory_unlock", "pg_try_advisory_xact_lock"):
            return exp.true()
        if name == "inet_server_addr":
            return lit("127.0.0.1")
        return node

    def marked(node: exp.Expression) -> exp.Expression:
        new = fix(node)
        if new is not node:
            ctx.session_dependent = True  # the result holds this session's values: not reusable
        return new

    return tree.transform(marked, copy=False)


def sequence_call(name: str, args: list[exp.Expression], ctx) -> exp.Expression:
    """nextval / currval / setval / lastval as a call of sql/sequences.py's DuckDB function, made per
    row (``SELECT nextval('s') FROM generate_series(1, 3)`` takes three values); the name may be any
    text expression (``'s'::regclass`` reads as its text)."""
    counts = {"nextval": (1, 1), "currval": (1, 1), "setval": (2, 3), "lastval": (0, 0)}[name]
    if not counts[0] <= len(args) <= counts[1]:
        types = ", ".join(["regclass", "bigint", "boolean"][: len(args)])
        raise E.UndefinedFunction(
            f"function {name}({types}) does not exist",
            hint=E.NO_FUNCTION_HINT,
        )
    if ctx.describe:
        return exp.Cast(this=exp.Literal.number(0), to=exp.DataType.build("BIGINT"))
    seq = args[0] if args else exp.Literal.string("")
    if isinstance(seq, exp.Cast) and seq.to.sql().lower() == "regclass":
        seq = seq.this
    return exp.Anonymous(
        this=sequences.FUNCTION,
        expressions=[
            exp.Literal.number(ctx.backend_pid),
            exp.Literal.string(name),
            exp.cast(seq, exp.DataType.build("VARCHAR")),
            exp.cast(args[1] if len(args) > 1 else exp.Literal.number(0), exp.DataType.build("BIGINT")),
            exp.cast(args[2] if len(args) > 2 else exp.true(), exp.DataType.build("BOOLEAN")),
        ],
    )


def signal_backend(name: str, args: list[exp.Expression], ctx) -> exp.Expression:
    """``pg_cancel_backend(pid)`` / ``pg_terminate_backend(pid [, timeout])`` as a call of
    sql/activity.py's DuckDB function, for this execution's SignalCall: any pid expression (a column,
    a subquery, a parameter) is signalled row by row. PostgreSQL's argument types: the pid an
    integer (a text constant is cast, a bigint beyond int4 is out of range), the timeout a bigint of
    milliseconds."""
    most = 2 if name == "pg_terminate_backend" else 1
    if not 1 <= len(args) <= most:
        raise E.UndefinedFunction(
            f"function {name}({', '.join('integer' for _ in args)}) does not exist",
            hint="No function matches the given name and argument types.",
        )
    ctx.signals = True
    timeout = args[1] if len(args) > 1 else exp.Literal.number(0)
    return exp.Anonymous(
        this=SIGNAL_FUNCTION,
        expressions=[
            exp.Literal.number(0 if ctx.describe else ctx.signal_call),
            exp.Literal.string("cancel" if name == "pg_cancel_backend" else "terminate"),
            exp.cast(args[0], exp.DataType.build("INT")),
            exp.cast(timeout, exp.DataType.build("BIGINT")),
        ],
    )
