"""PostgreSQL syntax of catalog queries, turned into what DuckDB runs with the same meaning.

- ``OPERATOR(pg_catalog.~)`` and friends -> the operator itself; ``COLLATE pg_catalog.default`` /
  ``COLLATE "C"`` dropped (DuckDB compares bytes, as "C" does).
- ``x::regclass`` (regtype, regnamespace, regrole): a name is looked up in the generated catalog,
  an OID stays an OID; ``x::regclass::text`` and a bare ``x::regclass`` select item print the name.
  ``x::regproc`` values are function names, as pg_type.typinput & co. hold them.
- casts to catalog types: oid/xid -> BIGINT, name/"char"/pg_node_tree -> VARCHAR, int2vector /
  oidvector -> lists, ``pg_catalog.int4`` and information_schema domains -> their base types.
- ``polroles <> '{0}'``: array text compared with a catalog array column -> a list literal.
- int2vector and oidvector columns (pg_index.indkey, pg_proc.proargtypes ...) are zero-based in
  PostgreSQL: subscripts, generate_subscripts and array_upper/array_lower over them are shifted.
- functions in FROM: ``unnest(x) u`` (``pg_catalog.unnest``: the parser drops the schema); a scalar function
  (``string_to_array(...) s``) -> ``(SELECT string_to_array(...) AS s) AS s``.
- bare ``user`` (Grafana's search-path query) -> the session user.

    SELECT c.oid::pg_catalog.regclass FROM pg_catalog.pg_class c WHERE c.relname OPERATOR(pg_catalog.~) '^(cpu)$' COLLATE pg_catalog.default
    -> SELECT (COALESCE((SELECT MIN(tsg_display) FROM pg_catalog.tsgres_names WHERE ... tsg_oid = CAST(c.oid AS BIGINT)), ...))
       FROM pg_catalog.pg_class AS c WHERE REGEXP_MATCHES(c.relname, '^(cpu)$')
"""

from __future__ import annotations

from collections.abc import Collection
from typing import cast

from sqlglot import exp

from sql.pgcatalog_schema import RELATIONS
from sql.rewrite.catalog_functions import (
    REG_KINDS,
    TO_REG,
    datatype,
    expand,
    lookup_name,
    proc_oid,
    reg_display,
    reg_in,
    reg_out,
)

_OPERATORS: dict[str, type[exp.Expr]] = {
    "=": exp.EQ,
    "<>": exp.NEQ,
    "!=": exp.NEQ,
    "<": exp.LT,
    "<=": exp.LTE,
    ">": exp.GT,
    ">=": exp.GTE,
    "~": exp.RegexpLike,
    "~~": exp.Like,
    "~~*": exp.ILike,
    "||": exp.DPipe,
    "+": exp.Add,
    "-": exp.Sub,
    "*": exp.Mul,
    "/": exp.Div,
}
# catalog types -> the DuckDB type that holds them here
_TYPES = {
    "oid": "BIGINT",
    "xid": "BIGINT",
    "xid8": "BIGINT",
    "cid": "BIGINT",
    "name": "VARCHAR",
    "char": "VARCHAR",
    "pg_node_tree": "VARCHAR",
    "aclitem": "VARCHAR",
    "pg_lsn": "VARCHAR",
    "tid": "VARCHAR",
    "int2vector": "SMALLINT[]",
    "oidvector": "BIGINT[]",
    "sql_identifier": "VARCHAR",
    "character_data": "VARCHAR",
    "yes_or_no": "VARCHAR",
    "cardinal_number": "INTEGER",
    "time_stamp": "TIMESTAMPTZ",
}
# zero-based array columns of the catalog
VECTOR_COLUMNS = frozenset(
    "indkey indclass indcollation indoption proargtypes stxkeys partattrs partclass partcollation".split()
)
# pg_catalog's columns of type name: a fixed-size char array in PostgreSQL, so that pg_dump's
# ``typname[0] = '_'`` reads its first character (DuckDB subscripts strings from 1)
NAME_COLUMNS = frozenset(
    c.split(":", 1)[0]
    for key, (_oid, _kind, spec) in RELATIONS.items()
    if key.startswith("pg_catalog.")
    for c in spec.split()
    if c.endswith(":name")
)
# schemas whose relations are the catalog emulation's (sql/binder.py reads the same tuple)
CATALOG_SCHEMAS = ("pg_catalog", "information_schema", "timescaledb_information")
# array columns of the catalog that clients compare with array text ('{0}')
ARRAY_COLUMNS = frozenset(
    """polroles datacl relacl attacl nspacl proacl typacl lanacl spcacl reloptions attoptions
    proargnames proargmodes proallargtypes conkey confkey confdelsetcols stxkind extconfig extcondition rolconfig
    useconfig setconfig""".split()
)
# PostgreSQL functions returning one value that catalog queries put in FROM (sqlglot parses most
# others into typed nodes, such as string_to_array)
_SCALAR_IN_FROM = frozenset(
    (
        "generate_subscripts",
        "current_schemas",
        "parse_ident",
        "array_length",
        "hypertable_size",
        "hypertable_approximate_size",
        "hypertable_index_size",
        "approximate_row_count",
    )
)
_TABLE_FUNCTIONS = (exp.Unnest, exp.Explode, exp.GenerateSeries, exp.ExplodingGenerateSeries)


def _type_name(to: exp.Expr) -> tuple[str | None, exp.DataType | None]:
    """(catalog type name, or None) and the equivalent plain DataType for a qualified builtin type."""
    if isinstance(to, exp.ObjectIdentifier):
        return to.name.lower(), None
    if not isinstance(to, exp.DataType):
        return None, None
    if to.this == exp.DType.NAME:
        return "name", None
    if to.this != exp.DType.USERDEFINED:
        return None, None
    kind = to.args.get("kind")
    if isinstance(kind, exp.Dot):
        schema, name = kind.this.name.lower(), kind.expression.name
        if schema not in ("pg_catalog", "information_schema"):
            return None, None
    elif isinstance(kind, exp.Identifier):
        name = kind.name
    else:
        return None, None
    low = name.lower()
    if low in _TYPES or low in REG_KINDS:
        return low, None
    params = to.expressions
    try:
        plain = datatype(
            name + (f"({', '.join(p.sql('postgres') for p in params)})" if params else ""), "postgres"
        )
    except Exception:  # noqa: BLE001 - not a builtin type: leave it to the executor's error
        return None, None
    return (None, plain) if plain.this != exp.DType.USERDEFINED else (None, None)


def _reg_kind(to: exp.Expr) -> str | None:
    name, _ = _type_name(to)
    return REG_KINDS.get(name or "")


def _reg_output(e: exp.Expr) -> exp.Expr | None:
    """What a regclass-like value prints as: ``x::regclass``, ``to_regtype('int')`` ...; None if e is
    not one."""
    if isinstance(e, exp.Cast) and (kind := _reg_kind(e.to)):
        return reg_out(kind, e.this)
    if isinstance(e, exp.Anonymous) and e.name.lower() in TO_REG and e.expressions:
        kind = TO_REG[e.name.lower()]
        return reg_display(kind, lookup_name(kind, e.expressions[0]))
    return None


def _is_text(to: exp.Expr) -> bool:
    name, plain = _type_name(to)
    dt = plain or to
    return name == "name" or (isinstance(dt, exp.DataType) and dt.is_type(*exp.DataType.TEXT_TYPES))


def _vector_names(tree: exp.Expr) -> set[str]:
    """Names that hold a zero-based array: the catalog's vector columns and aliases of them."""
    names = set(VECTOR_COLUMNS)
    for alias in tree.find_all(exp.Alias):
        if isinstance(alias.this, exp.Column) and alias.this.name.lower() in names:
            names.add(alias.alias.lower())
    return names


def _is_vector(e: exp.Expr, vectors: Collection[str]) -> bool:
    return isinstance(e, exp.Column) and e.name.lower() in vectors


def _plus(e: exp.Expr, n: int) -> exp.Expr:
    if isinstance(e, exp.Literal) and not e.is_string:
        return exp.Literal.number(int(e.name) + n)
    return exp.Add(this=exp.Paren(this=e), expression=exp.Literal.number(n))


def catalog_syntax(tree: exp.Expression, ctx) -> exp.Expression:
    # regclass output first, while the cast to text still shows what it prints
    for c in list(tree.find_all(exp.Cast)):
        if _is_text(c.to) and (shown := _reg_output(c.this)) is not None:
            c.replace(shown)
        elif _type_name(c.to)[0] == "oid" and isinstance(c.this, exp.Cast):
            if _reg_kind(c.this.to) == "p":  # 'f'::regproc::oid: regproc values are names here
                c.replace(proc_oid(c.this.this))
    vectors = _vector_names(tree)
    for c in list(tree.find_all(exp.Cast)):
        if _is_text(c.to) and _is_vector(c.this, vectors):  # indkey::text: '1 2', as PostgreSQL prints it
            c.replace(expand("array_to_string(_1, ' ')", c.this))
    for select in list(tree.find_all(exp.Select)):
        for item in select.expressions:
            inner = item.this if isinstance(item, exp.Alias) else item
            if (shown := _reg_output(inner)) is not None:
                inner.replace(shown)
    vectors = _vector_names(tree)
    for node in reversed(list(tree.walk())):
        new = _fix(node, ctx, vectors)
        if new is not node:
            if node is tree:
                return cast(exp.Expression, new)
            node.replace(new)
    return tree


def _fix(node: exp.Expr, ctx, vectors: set[str]) -> exp.Expr:
    if isinstance(node, exp.Operator):
        op = node.args.get("operator")
        symbol = (op.name if isinstance(op, exp.Expr) else str(op)).rsplit(".", 1)[-1]
        cls = _OPERATORS.get(symbol)
        if cls is None:
            return node
        return cls(this=node.this, expression=node.expression)
    if isinstance(node, exp.Collate):
        return node.this
    if isinstance(node, exp.Cast):
        return _cast(node)
    if isinstance(node, exp.EQ | exp.NEQ):
        for side, other in (("this", node.expression), ("expression", node.this)):
            if _is_array_column(other) and (arr := _array_literal(node.args[side])) is not None:
                node.set(side, arr)
    if (
        isinstance(node, exp.Bracket)
        and (_is_vector(node.this, vectors) or _is_vector(node.this, NAME_COLUMNS))
        and node.expressions
    ):
        node.set("expressions", [_plus(node.expressions[0], 1), *node.expressions[1:]])
        return node
    if isinstance(node, exp.Anonymous) and node.expressions and _is_vector(node.expressions[0], vectors):
        name = node.name.lower()
        if name == "generate_subscripts":
            return exp.Paren(this=exp.Sub(this=node.copy(), expression=exp.Literal.number(1)))
        if name == "array_upper":
            return expand("CASE WHEN LEN(_1) > 0 THEN LEN(_1) - 1 END", node.expressions[0])
        if name == "array_lower":
            return expand("CASE WHEN LEN(_1) > 0 THEN 0 END", node.expressions[0])
    if isinstance(node, exp.Anonymous) and node.name.lower() in ("array_upper", "array_lower"):
        arr = node.expressions[0] if node.expressions else exp.null()
        if node.name.lower() == "array_upper":
            return expand("CASE WHEN LEN(_1) > 0 THEN LEN(_1) END", arr)
        return expand("CASE WHEN LEN(_1) > 0 THEN 1 END", arr)
    if isinstance(node, exp.Table) and isinstance(node.this, exp.Func):
        return _from_function(node)
    if isinstance(node, exp.Column) and (node.text("db") or "").lower() in CATALOG_SCHEMAS:
        node.set("db", None)  # pg_catalog.pg_class.relname: the relation is renamed, alias pg_class
        return node
    if (
        isinstance(node, exp.Column)
        and not node.table
        and node.name.lower() == "user"
        and not node.this.args.get("quoted")
    ):
        ctx.session_dependent = True
        return exp.Literal.string(ctx.user)
    return node


def _is_array_column(e: exp.Expr) -> bool:
    return isinstance(e, exp.Column) and e.name.lower() in ARRAY_COLUMNS


def _array_literal(e: exp.Expr) -> exp.Expr | None:
    """'{0}' compared with an array column of the catalog: the array it spells ({} is empty)."""
    if not (isinstance(e, exp.Literal) and e.is_string):
        return None
    text = e.name.strip()
    if not (text.startswith("{") and text.endswith("}")):
        return None
    items = [i.strip().strip('"') for i in text[1:-1].split(",") if i.strip()]
    if all(i.lstrip("-").isdigit() for i in items):
        return (
            exp.Array(expressions=[exp.Literal.number(i) for i in items])
            if items
            else exp.cast(exp.Array(expressions=[]), datatype("BIGINT[]"))
        )
    return exp.Array(expressions=[exp.Literal.string(i) for i in items])


def _cast(node: exp.Cast) -> exp.Expr:
    name, plain = _type_name(node.to)
    if name in REG_KINDS:
        return reg_in(REG_KINDS[name], node.this)
    if name in _TYPES:
        return exp.Cast(this=node.this, to=datatype(_TYPES[name]))
    if plain is not None:
        return exp.Cast(this=node.this, to=plain)
    to = node.to
    if isinstance(to, exp.DataType) and to.this == exp.DType.ARRAY and to.expressions:
        elem_name, elem_plain = _type_name(to.expressions[0])
        elem = (
            datatype(_TYPES[elem_name])
            if elem_name in _TYPES
            else datatype("BIGINT")
            if elem_name in REG_KINDS
            else elem_plain
        )
        if elem is not None:
            return exp.Cast(
                this=node.this, to=exp.DataType(this=exp.DType.ARRAY, expressions=[elem], nested=True)
            )
    return node


def _from_function(table: exp.Table) -> exp.Expr:
    fn = table.this
    alias = table.args.get("alias")
    if isinstance(fn, exp.Explode):  # pg_catalog.unnest(x) parses as a qualified Explode
        return exp.Unnest(expressions=[fn.this], alias=alias)
    if isinstance(fn, _TABLE_FUNCTIONS) or (
        isinstance(fn, exp.Anonymous) and fn.name.lower() not in _SCALAR_IN_FROM
    ):
        return table  # a table function DuckDB knows (or reports unknown) itself
    # a scalar function in FROM is one row whose column is named after the alias
    fn_name = fn.name if isinstance(fn, exp.Anonymous) else fn.sql_name()
    table_alias = alias.name if alias is not None and alias.name else fn_name.lower()
    columns = alias.columns if alias is not None else []
    column = columns[0].name if columns else table_alias
    select = exp.select(exp.alias_(fn, column, quoted=True))
    return exp.Subquery(this=select, alias=exp.TableAlias(this=exp.to_identifier(table_alias)))
