"""PostgreSQL's result types where DuckDB's differ, decided from the types of the arguments.

This pass runs after binding (sql/binder.py), when every table reference is a scan with known
column types: it infers each expression's PostgreSQL type (columns, literals, casts, operators,
functions, derived tables and CTEs) and fixes the calls whose PostgreSQL result type depends on it:

- sum(int2/int4) -> int8, sum(float4) -> float4, sum(int8) -> numeric (DuckDB: int128 / double /
  int128, which divides as an integer)
- avg, stddev*, var* of integers or numeric -> numeric (DuckDB: double); also as window functions
- round(float8) rounds half to even (rint), sign(x) keeps PostgreSQL's type
- sqrt/exp/ln/log/power of numeric -> numeric; numeric division -> numeric (DuckDB: double)
- float4 op int/numeric/float8 -> float8 (DuckDB keeps float4); also compared (=, <, BETWEEN; not IN):
  real = 1.3 is false, as 1.3 is not a real
- percentile_cont of integers, numeric or float4 -> float8, interpolated in doubles (DuckDB: the
  key's type)
- coalesce / greatest / least / CASE of integers -> the widest branch's type (DuckDB fits integer
  literals to the column's: coalesce(int2, -1) is int4, not int2)
- date - date -> int4, interval / n, timestamptz::time, date_bin(), gcd/lcm of int4,
  generate_series over int4 -> int4
- JSON calls and casts (to_json, json_agg, jsonb_build_object, ::jsonb, -> ...): json or jsonb
  written as PostgreSQL writes them, in sql/rewrite/pg_json.py

    SELECT sum(cores), avg(cores) FROM cpu            -- cores int4
    -> SELECT CAST(SUM(cores) AS BIGINT), CAST(AVG(cores) AS DECIMAL(38, 16)) FROM cpu
"""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlglot import exp

from sql.rewrite import pg_json
from sql.rewrite.pg_semantics import bottom_up
from sql.types import BY_NAME, USER_OIDS

INTS = ("int2", "int4", "int8")
NUMERIC_SCALE = 16  # PostgreSQL gives avg/division at least 16 significant digits

_DTYPE = exp.DataType.Type
_FROM_DATATYPE = {
    _DTYPE.TINYINT: "int2",
    _DTYPE.SMALLINT: "int2",
    _DTYPE.INT: "int4",
    _DTYPE.BIGINT: "int8",
    _DTYPE.INT128: "numeric",
    _DTYPE.DECIMAL: "numeric",
    _DTYPE.FLOAT: "float4",
    _DTYPE.DOUBLE: "float8",
    _DTYPE.VARCHAR: "varchar",
    _DTYPE.TEXT: "text",
    _DTYPE.CHAR: "text",
    _DTYPE.NCHAR: "text",
    _DTYPE.NVARCHAR: "text",
    _DTYPE.BOOLEAN: "bool",
    _DTYPE.DATE: "date",
    _DTYPE.TIME: "time",
    _DTYPE.TIMESTAMP: "timestamp",
    _DTYPE.TIMESTAMPTZ: "timestamptz",
    _DTYPE.INTERVAL: "interval",
    _DTYPE.JSON: "json",
    _DTYPE.JSONB: "jsonb",
    _DTYPE.VARBINARY: "bytea",
    _DTYPE.BLOB: "bytea",
}


def datatype_name(dt: exp.DataType) -> str | None:
    if dt.this == _DTYPE.ARRAY:
        inner = dt.expressions[0] if dt.expressions else None
        name = datatype_name(inner) if isinstance(inner, exp.DataType) else None
        return name + "[]" if name else None
    return _FROM_DATATYPE.get(dt.this)


def _cast(e: exp.Expression, to: str) -> exp.Cast:
    return exp.Cast(this=e, to=exp.DataType.build(to, dialect="duckdb"))


def _fn(name: str, *args: exp.Expression) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


def _numeric_decimal() -> str:
    return f"DECIMAL(38, {NUMERIC_SCALE})"


# DuckDB casts a DOUBLE to DECIMAL(38, 16) through double * 10^16, which is off in the 17th digit
# (5680225.0 -> 5680224.9999999997837312, and floor() then lands in the wrong bucket); through the
# double's shortest text the digits are the ones the double stands for.
NUMERIC_FROM_DOUBLE = "CAST(CAST({} AS VARCHAR) AS DECIMAL(38, " + str(NUMERIC_SCALE) + "))"


def _numeric(e: exp.Expression) -> exp.Expression:
    """A double-valued expression as PostgreSQL's numeric (see NUMERIC_FROM_DOUBLE)."""
    return _cast(_cast(e, "TEXT"), _numeric_decimal())


# -- type algebra -----------------------------------------------------------------------------------------
_NUMBER_RANK = {"int2": 0, "int4": 1, "int8": 2, "numeric": 3, "float4": 4, "float8": 5}


def promote(types: Sequence[str | None]) -> str | None:
    """The type PostgreSQL resolves a mix of numeric operands (or CASE/COALESCE branches) to."""
    known = [t for t in types if t is not None and t != "unknown"]
    if not known:
        return "text" if any(t == "unknown" for t in types) else None
    if all(t in _NUMBER_RANK for t in known):
        floats = [t for t in known if t in ("float4", "float8")]
        if floats:
            return "float4" if all(t == "float4" for t in known) else "float8"
        return max(known, key=lambda t: _NUMBER_RANK[t])
    first = known[0]
    return first if all(t == first for t in known) else None


def _arith(op: exp.Expression, left: str | None, right: str | None) -> str | None:
    times = ("timestamp", "timestamptz")
    if isinstance(op, exp.Add | exp.Sub) and "time" in (left, right):
        if left == "time" and right == "time" and isinstance(op, exp.Sub):
            return "interval"
        if {left, right} == {"time", "interval"}:
            return "time"
    if isinstance(op, exp.Sub):
        if left in times and right in times:
            return "interval"
        if left == "date" and right == "date":
            return "int4"
        if left == "date" and right in INTS:
            return "date"
        if left in times and right == "interval":
            return left
        if left == "date" and right == "interval":
            return "timestamp"
    if isinstance(op, exp.Add):
        pair = {left, right}
        if "interval" in pair and (pair & set(times)):
            return (pair & set(times)).pop()
        if pair == {"date", "interval"}:
            return "timestamp"
        if "date" in pair and pair & set(INTS):
            return "date"
    if left == "interval" or right == "interval":
        return "interval"
    if left in _NUMBER_RANK and right in _NUMBER_RANK:
        return promote([left, right])
    if left in _NUMBER_RANK and right in (None, "unknown"):
        return left
    if right in _NUMBER_RANK and left in (None, "unknown"):
        return right
    return None


_TEXT_FUNCS = {
    "lower",
    "upper",
    "initcap",
    "replace",
    "translate",
    "concat",
    "concat_ws",
    "lpad",
    "rpad",
    "left",
    "right",
    "reverse",
    "repeat",
    "md5",
    "chr",
    "split_part",
    "regexp_replace",
    "btrim",
    "ltrim",
    "rtrim",
    "trim",
    "to_char",
    "format",
    "printf",
    "pg_substr",
    "string_agg",
    "to_hex",
    "quote_ident",
    "quote_literal",
}
_SAME_AS_ARG = (exp.Min, exp.Max, exp.Abs, exp.Ceil, exp.Floor, exp.AnyValue, exp.Lag, exp.Lead)
_NUMERIC_OR_FLOAT = (exp.Sqrt, exp.Exp, exp.Ln, exp.Log, exp.Pow)
_STDDEV = (exp.Stddev, exp.StddevSamp, exp.StddevPop, exp.Variance, exp.VariancePop)
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)
_STDDEV_NAMES = ("variance", "var_samp", "var_pop", "stddev", "stddev_samp", "stddev_pop")


_JSON_FUNCS = {
    **dict.fromkeys(
        (
            "to_json",
            "row_to_json",
            "json_build_object",
            "json_build_array",
            "json_agg",
            "pg_json_agg",
            "json_extract_path",
        ),
        "json",
    ),
    **dict.fromkeys(
        (
            "to_jsonb",
            "jsonb_build_object",
            "jsonb_build_array",
            "jsonb_agg",
            "pg_jsonb_agg",
            "jsonb_extract_path",
            "jsonb_set",
            "jsonb_insert",
            "jsonb_strip_nulls",
            "jsonb_array_elements",
        ),
        "jsonb",
    ),
    **dict.fromkeys(
        (
            "json_typeof",
            "jsonb_typeof",
            "jsonb_pretty",
            "json_extract_path_text",
            "jsonb_extract_path_text",
            "json_array_elements_text",
            "jsonb_array_elements_text",
            "json_object_keys",
            "jsonb_object_keys",
        ),
        "text",
    ),
    **dict.fromkeys(("json_array_length", "jsonb_array_length"), "int4"),
    "json_array_elements": "json",
}


class Types:
    """Infers PostgreSQL type names (int4, numeric, timestamptz, text[] ...; None: unknown)."""

    def __init__(
        self,
        tree: exp.Expression,
        tables: Mapping[str, Mapping[str, str]],
        catalog: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self.tables = tables  # registered scan name -> column -> type
        self.catalog = catalog or {}  # catalog relation ("pg_catalog.pg_type") -> column -> type
        self.ctes: dict[str, tuple[exp.Expression, list[str]]] = {}
        for cte in tree.find_all(exp.CTE):
            alias = cte.args.get("alias")
            names = [c.name for c in alias.columns] if isinstance(alias, exp.TableAlias) else []
            self.ctes.setdefault(cte.alias_or_name, (cte.this, names))
        self._scopes: dict[int, list[tuple[str, dict[str, str | None]]]] = {}
        self._outputs: dict[int, list[tuple[str, str | None]]] = {}
        self._busy: set[int] = set()

    # -- relations ----------------------------------------------------------------------------------
    def outputs(self, query: exp.Expr) -> list[tuple[str, str | None]]:
        """(name, type) of each column a query returns."""
        key = id(query)
        if key in self._outputs:
            return self._outputs[key]
        if key in self._busy:  # a recursive CTE refers to itself
            return []
        self._busy.add(key)
        try:
            out: list[tuple[str, str | None]] = []
            if isinstance(query, exp.Subquery):
                out = self.outputs(query.this)
            elif isinstance(query, exp.SetOperation):
                out = self.outputs(query.left)
            elif isinstance(query, exp.Select):
                for e in query.expressions:
                    if isinstance(e, exp.Star) or (
                        isinstance(e, exp.Column) and isinstance(e.this, exp.Star)
                    ):
                        table = e.table if isinstance(e, exp.Column) else ""
                        for alias, cols in self.scope(query):
                            if not table or alias == table:
                                out.extend(cols.items())
                    else:
                        out.append((e.alias_or_name, self.type(e)))
            elif isinstance(query, exp.Values):
                rows = query.expressions
                if rows and isinstance(rows[0], exp.Tuple):
                    out = [(f"column{i + 1}", self.type(v)) for i, v in enumerate(rows[0].expressions)]
        finally:
            self._busy.discard(key)
        self._outputs[key] = out
        return out

    def _source(self, src: exp.Expression) -> tuple[str, dict[str, str | None]] | None:
        alias = src.args.get("alias")
        names = [c.name for c in alias.columns] if isinstance(alias, exp.TableAlias) and alias.columns else []
        cols: list[tuple[str, str | None]]
        if isinstance(src, exp.Table) and isinstance(src.this, exp.Identifier):
            if src.name in self.tables:
                cols = list(self.tables[src.name].items())
            elif not src.db and src.name in self.ctes:
                query, cte_names = self.ctes[src.name]
                cols = self.outputs(query)
                if cte_names:
                    cols = [(n, t) for n, (_, t) in zip(cte_names, cols, strict=False)]
            elif (
                relation := self.catalog.get(f"{(src.db or 'pg_catalog').lower()}.{src.name.lower()}")
            ) is not None:
                cols = list(relation.items())
            else:
                return None
        elif pg_json.set_columns(src) is not None:
            cols = list(pg_json.set_columns(src) or [])
        elif isinstance(src, exp.Subquery | exp.Values):
            cols = self.outputs(src.this if isinstance(src, exp.Subquery) else src)
        else:
            return None
        if names:
            cols = [(n, t) for n, (_, t) in zip(names, cols, strict=False)]
        return src.alias_or_name, dict(cols)

    def scope(self, select: exp.Select) -> list[tuple[str, dict[str, str | None]]]:
        key = id(select)
        if key not in self._scopes:
            self._scopes[key] = []
            sources = []
            from_ = select.args.get("from_") or select.args.get("from")
            if from_ is not None:
                sources.append(from_.this)
            sources.extend(j.this for j in select.args.get("joins") or [])
            self._scopes[key] = [s for s in (self._source(x) for x in sources) if s is not None]
        return self._scopes[key]

    def column(self, col: exp.Column) -> str | None:
        select = col.find_ancestor(exp.Select)
        while select is not None:
            found = [
                cols[col.name]
                for alias, cols in self.scope(select)
                if (not col.table or alias == col.table) and col.name in cols
            ]
            if len(found) == 1:
                return found[0]
            if found:
                return promote(found)
            if not col.table:
                for e in select.expressions:
                    if (
                        isinstance(e, exp.Alias)
                        and e.alias == col.name
                        and col.find_ancestor(exp.Order, exp.Group, exp.Having)
                    ):
                        return self.type(e.this)
            select = select.find_ancestor(exp.Select)
        return None

    # -- expressions --------------------------------------------------------------------------------
    def type(self, e: exp.Expr | None) -> str | None:
        if e is None:
            return None
        try:
            return self._type(e)
        except RecursionError:
            return None

    def _type(self, e: Any) -> str | None:
        t = self.type
        if isinstance(e, exp.Neg) and _is_number_literal(e.this) and e.this.this.isdigit():
            v = -int(e.this.this)  # the folded literal's type
            return "int4" if v >= -(2**31) else "int8" if v >= -(2**63) else "numeric"
        if isinstance(e, exp.Alias | exp.Paren | exp.Neg):
            return t(e.this)
        if isinstance(e, exp.Distinct):  # sum(DISTINCT x)
            return t(e.expressions[0]) if e.expressions else None
        if isinstance(e, exp.Column):
            return None if isinstance(e.this, exp.Star) else self.column(e)
        if isinstance(e, exp.Literal):
            if e.is_string:
                return "unknown"
            if e.this.isdigit():
                v = int(e.this)
                return "int4" if v < 2**31 else "int8" if v < 2**63 else "numeric"
            return "numeric"
        if isinstance(e, exp.Boolean):
            return "bool"
        if isinstance(e, exp.Cast):  # (a cast to an enum type names it: sql/rewrite/enum_casts.py)
            return e.to.meta.get("pg_type") or datatype_name(e.to)
        if isinstance(e, exp.Interval):
            return "interval"
        if isinstance(e, exp.Sub) and t(e.this) == "jsonb":  # (jsonb - key / index / keys)
            return "jsonb"
        if isinstance(e, exp.Add | exp.Sub | exp.Mul | exp.Div | exp.Mod | exp.IntDiv):
            return _arith(e, t(e.this), t(e.expression))
        if isinstance(e, exp.Pow):
            return (
                "numeric"
                if "numeric" in (t(e.this), t(e.expression)) and not self._any_float(e)
                else "float8"
            )
        if isinstance(e, exp.Predicate | exp.Connector | exp.Not | exp.Exists):
            return "bool"
        if isinstance(e, exp.DPipe):
            kinds = {t(e.this), t(e.expression)}
            arrays = [k for k in kinds if k and k.endswith("[]")]
            if arrays:  # array || array, array || element, element || array
                return arrays[0]
            return "jsonb" if "jsonb" in kinds and kinds <= {"jsonb", "unknown"} else "text"
        if isinstance(e, exp.JSONBDeleteAtPath):
            return "jsonb"
        if isinstance(e, exp.Array):
            inner = promote([t(x) for x in e.expressions])
            return inner + "[]" if inner and inner != "unknown" else None
        if isinstance(e, exp.ArrayAgg):
            inner = t(e.this.this if isinstance(e.this, exp.Order) else e.this)
            return inner + "[]" if inner and inner != "unknown" else None
        if isinstance(e, exp.Case):
            branches = [i.args.get("true") for i in e.args.get("ifs") or []] + [e.args.get("default")]
            return promote([t(b) for b in branches if b is not None])
        if isinstance(e, exp.Coalesce | exp.Greatest | exp.Least):
            return promote([t(e.this), *(t(x) for x in e.expressions)])
        if isinstance(e, exp.Nullif):
            return t(e.this)
        if isinstance(e, exp.WithinGroup) and isinstance(e.this, exp.PercentileCont | exp.PercentileDisc):
            key = _ordered_key(e)
            kind = t(key) if isinstance(e.this, exp.PercentileDisc) or t(key) == "interval" else "float8"
            return kind + "[]" if kind and isinstance(e.this.this, exp.Array) else kind
        if isinstance(e, exp.Window | exp.Filter | exp.WithinGroup):
            return t(e.this)
        if isinstance(e, exp.Subquery):
            outs = self.outputs(e)
            return outs[0][1] if outs else None
        if isinstance(e, exp.Count) or isinstance(e, exp.RowNumber | exp.Rank | exp.DenseRank):
            return "int8"
        if isinstance(e, exp.Ntile):
            return "int4"
        if isinstance(e, exp.PercentRank | exp.CumeDist):
            return "float8"
        if isinstance(e, exp.Sum):
            a = t(e.this)
            return {"int2": "int8", "int4": "int8", "int8": "numeric"}.get(a or "", a)
        if isinstance(e, exp.Avg):
            a = t(e.this)
            return "numeric" if a in (*INTS, "numeric") else "float8" if a in ("float4", "float8") else a
        if isinstance(e, _STDDEV):
            return "numeric" if t(e.this) in (*INTS, "numeric") else "float8"
        if isinstance(e, exp.Min | exp.Max):  # min/max(varchar) run as min/max(text)
            a = t(e.this)
            return "text" if a in ("varchar", "bpchar") else a
        if isinstance(e, exp.TimestampTrunc):
            a = t(e.this)
            return "timestamptz" if a in ("date", "timestamptz", "unknown") else a
        if isinstance(e, (*_SAME_AS_ARG, exp.FirstValue, exp.LastValue, exp.NthValue, exp.DateTrunc)):
            return t(e.this) if not isinstance(e, exp.DateTrunc) else t(e.this) or t(e.args.get("unit"))
        if isinstance(e, exp.Round):
            a = t(e.this)
            return "numeric" if a in INTS else a
        if isinstance(e, exp.Sign):
            a = t(e.this)
            return "numeric" if a == "numeric" else "float8"
        if isinstance(e, _NUMERIC_OR_FLOAT):
            args = [t(x) for x in (e.this, e.args.get("expression")) if x is not None]
            return (
                "numeric"
                if "numeric" in args and not any(a in ("float4", "float8") for a in args)
                else "float8"
            )
        if isinstance(e, exp.CurrentTimestamp):
            return "timestamptz"
        if isinstance(e, exp.Localtimestamp):
            return "timestamp"
        if isinstance(e, exp.Localtime):
            return "time"
        if isinstance(e, exp.JSONExtract | exp.JSONBExtract):
            return "jsonb" if t(e.this) == "jsonb" else "json"
        if isinstance(e, exp.JSONExtractScalar | exp.JSONBExtractScalar):
            return "text"
        if isinstance(e, exp.JSONObjectAgg | exp.JSONArrayAgg):
            return "json"
        if isinstance(e, exp.JSONBObjectAgg):
            return "jsonb"
        if isinstance(e, exp.Anonymous):
            return self._anonymous(e)
        if isinstance(e, exp.Func) and e.sql_name().lower() in _TEXT_FUNCS:
            return "text"
        if isinstance(e, exp.Lower | exp.Upper | exp.Concat | exp.Initcap | exp.Trim | exp.Substring):
            return "text"
        return None

    def _any_float(self, e: exp.Expression) -> bool:
        return any(self.type(x) in ("float4", "float8") for x in (e.this, e.args.get("expression")))

    def _anonymous(self, e: exp.Anonymous) -> str | None:
        name = e.name.lower()
        args = list(e.expressions)
        if name in _TEXT_FUNCS:
            return "text"
        if name in _STDDEV_NAMES and args:
            return "numeric" if self.type(args[0]) in (*INTS, "numeric") else "float8"
        if name in ("arg_min", "arg_max", "arg_min_null", "arg_max_null", "first", "last") and args:
            return self.type(args[0])
        if name in ("time_bucket",) and len(args) >= 2:
            return self.type(args[1])
        if name in ("enum_first", "enum_last") and args:
            return self.type(args[0])
        if name in ("enum_range", "enum_range_boundary") and args:
            kind = promote([self.type(a) for a in args])
            return kind + "[]" if kind and kind != "unknown" else None
        if name in ("pg_sqrt", "pg_ln", "pg_log10", "power", "pow", "exp") and args:
            kinds = [self.type(a) for a in args]
            return "numeric" if "numeric" in kinds and not {"float4", "float8"} & set(kinds) else "float8"
        if name in ("bool_and", "bool_or"):
            return "bool"
        if name in _JSON_FUNCS:
            return _JSON_FUNCS[name]
        return None


# -- the fixes ----------------------------------------------------------------------------------------------
def _aggregate_core(node: exp.Expression) -> exp.Expression:
    while isinstance(node, exp.Window | exp.Filter):
        node = node.this
    return node


def _wrapped_by_window(node: exp.Expression) -> bool:
    p = node.parent
    return isinstance(p, exp.Window | exp.Filter) and p.this is node


def _result_cast(types: Types, node: exp.Expression) -> str | None:
    """The DuckDB type an aggregate call (bare, FILTERed or windowed) must be cast to, if any."""
    core = _aggregate_core(node)
    if isinstance(core, exp.Sum):
        a = types.type(core.this)
        if a == "int8":  # (DuckDB's HUGEINT is an integer: divided by one, an integer division)
            return "DECIMAL(38, 0)"
        return "BIGINT" if a in ("int2", "int4") else "FLOAT" if a == "float4" else None
    if isinstance(core, (exp.Avg, *_STDDEV)) or (
        isinstance(core, exp.Anonymous) and core.name.lower() in _STDDEV_NAMES and core.expressions
    ):
        arg = core.this if not isinstance(core, exp.Anonymous) else core.expressions[0]
        return _numeric_decimal() if types.type(arg) in (*INTS, "numeric") else None
    return None


def _ordered_key(w: exp.WithinGroup) -> exp.Expression | None:
    """The ORDER BY expression of ``agg(...) WITHIN GROUP (ORDER BY x)`` (None for several keys)."""
    order = w.expression
    keys = order.expressions if isinstance(order, exp.Order) else []
    return keys[0].this if len(keys) == 1 and isinstance(keys[0], exp.Ordered) else None


def _as_text(kind: str | None, e: exp.Expression, output: bool = False) -> exp.Expression | None:
    """PostgreSQL's text of a float, array or interval, where DuckDB's differs (54.0, [1, 2], -1 day);
    ``output``: the type's output text (format()'s arguments), where a boolean is t / f, not the
    true / false of a cast to text."""
    if kind == "bool" and output:
        return exp.Case(
            ifs=[
                exp.If(this=e, true=exp.Literal.string("t")),
                exp.If(this=exp.Not(this=e.copy()), true=exp.Literal.string("f")),
            ]
        )
    if kind in ("float4", "float8"):
        return _fn("pg_float_text", e)
    if kind is not None and kind.endswith("[]"):
        return _fn("pg_array_text", e)
    if kind == "interval":
        return _fn("pg_interval_text", e)
    return None


_CATEGORY = {
    **{t: "number" for t in _NUMBER_RANK},
    "text": "string",
    "varchar": "string",
    "bpchar": "string",
    "bool": "boolean",
    "date": "datetime",
    "timestamp": "datetime",
    "timestamptz": "datetime",
    "interval": "timespan",
}
_SQL_NAME = {
    "int2": "smallint",
    "int4": "integer",
    "int8": "bigint",
    "float4": "real",
    "float8": "double precision",
    "bool": "boolean",
    "varchar": "character varying",
    "timestamptz": "timestamp with time zone",
    "timestamp": "timestamp without time zone",
}


def _type_shown(name: str | None) -> str | None:
    """What pg_typeof prints for an inferred type (format_type's name; None: not a builtin)."""
    if name is None:
        return None
    elem = name.removesuffix("[]")
    t = BY_NAME.get(elem)
    if t is None or not t.sql_name:
        return None
    return t.sql_name + "[]" * (elem != name)


def _check_set_operation(types: Types, op: exp.SetOperation) -> None:
    """UNION/INTERSECT/EXCEPT columns must share a type category (42804); DuckDB unifies to text."""
    from sql.errors import DatatypeMismatch

    word = {exp.Union: "UNION", exp.Intersect: "INTERSECT", exp.Except: "EXCEPT"}.get(type(op), "UNION")
    for (_, a), (_, b) in zip(types.outputs(op.left), types.outputs(op.right), strict=False):
        ca, cb = _CATEGORY.get(a or ""), _CATEGORY.get(b or "")
        if ca and cb and ca != cb:
            raise DatatypeMismatch(
                f"{word} types {_SQL_NAME.get(a or '', a)} and {_SQL_NAME.get(b or '', b)} cannot be matched"
            )


def _check_comparison(types: Types, cmp: exp.Binary) -> None:
    """text compared with a number or boolean has no operator in PostgreSQL (42883); DuckDB casts
    the text and fails at run time (22P02), or not at all. Untyped literals ('1') are fine."""
    from sql.errors import UndefinedFunction

    if isinstance(cmp.left, exp.Any | exp.All) or isinstance(cmp.right, exp.Any | exp.All):
        return
    a, b = types.type(cmp.left), types.type(cmp.right)
    ca, cb = _CATEGORY.get(a or ""), _CATEGORY.get(b or "")
    if {ca, cb} in ({"string", "number"}, {"string", "boolean"}):
        op = {exp.EQ: "=", exp.NEQ: "<>", exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<="}[type(cmp)]
        raise UndefinedFunction(
            f"operator does not exist: {_SQL_NAME.get(a or '', a)} {op} {_SQL_NAME.get(b or '', b)}"
        )


def _check_conditions(types: Types, tree: exp.Expression) -> None:
    """WHERE, HAVING, JOIN ... ON, CASE WHEN and FILTER take a boolean (42804); DuckDB casts a
    number or a text to one. Untyped literals ('t') and NULL are fine, as in PostgreSQL."""
    from sql.errors import DatatypeMismatch

    def check(cond: exp.Expression | None, clause: str) -> None:
        if cond is None or isinstance(cond, exp.Null) or (isinstance(cond, exp.Literal) and cond.is_string):
            return
        kind = types.type(cond)
        if kind is not None and kind != "bool" and _CATEGORY.get(kind) is not None:
            raise DatatypeMismatch(
                f"argument of {clause} must be type boolean, not type {_SQL_NAME.get(kind, kind)}"
            )

    for select in tree.find_all(exp.Select):
        where, having = select.args.get("where"), select.args.get("having")
        check(where.this if where is not None else None, "WHERE")
        check(having.this if having is not None else None, "HAVING")
        for join in select.args.get("joins") or []:
            check(join.args.get("on"), "JOIN/ON")
    for case in tree.find_all(exp.Case):
        if case.this is None:  # (CASE x WHEN v: compared with x, not a condition)
            for branch in case.args.get("ifs") or []:
                check(branch.this, "CASE/WHEN")
    for f in tree.find_all(exp.Filter):
        where = f.expression
        check(where.this if isinstance(where, exp.Where) else None, "FILTER")


def _check_positions(tree: exp.Expression) -> None:
    """ORDER BY / GROUP BY n past the select list (42P10, with n, as PostgreSQL words it); a list
    with * is left to DuckDB, which knows its width."""
    from sql.errors import InvalidColumnReference

    for select in tree.find_all(exp.Select):
        outputs = select.expressions
        if any(
            isinstance(o, exp.Star) or (isinstance(o, exp.Column) and isinstance(o.this, exp.Star))
            for o in outputs
        ):
            continue
        group, order = select.args.get("group"), select.args.get("order")
        clauses = [("GROUP BY", e) for e in (group.expressions if group is not None else [])]
        clauses += [("ORDER BY", o.this) for o in (order.expressions if order is not None else [])]
        for clause, e in clauses:
            if _is_number_literal(e) and e.name.isdigit() and not 1 <= int(e.name) <= len(outputs):
                raise InvalidColumnReference(f"{clause} position {e.name} is not in select list")


def _check_aggregate_arity(types: Types, tree: exp.Expression) -> None:
    """max, min: one argument in PostgreSQL (42883); DuckDB's max(x, n) is a list of the n largest."""
    from sql.errors import NO_FUNCTION_HINT, UndefinedFunction

    for agg in tree.find_all(exp.Max, exp.Min):
        extra = agg.expressions
        if extra:
            names = [_SQL_NAME.get(t or "", t or "unknown") for t in map(types.type, [agg.this, *extra])]
            raise UndefinedFunction(
                f"function {agg.sql_name().lower()}({', '.join(names)}) does not exist",
                hint=NO_FUNCTION_HINT,
            )


def _check_aliases(types: Types, select: exp.Select) -> None:
    """WHERE and HAVING see the FROM clause's columns, not the select list's aliases (42703);
    DuckDB resolves an alias there. Checked only where every source's columns are known."""
    aliases = {e.alias for e in select.expressions if isinstance(e, exp.Alias)}
    if not aliases:
        return
    scope = types.scope(select)
    from_ = select.args.get("from_") or select.args.get("from")
    n_sources = (1 if from_ is not None else 0) + len(select.args.get("joins") or [])
    if len(scope) != n_sources:
        return
    known = {c for _, cols in scope for c in cols}
    for clause in (select.args.get("where"), select.args.get("having")):
        if clause is None:
            continue
        for col in clause.find_all(exp.Column):
            if col.table or col.name in known or col.name not in aliases:
                continue
            if col.find_ancestor(exp.Select) is not select:
                continue
            from sql.errors import UndefinedColumn

            raise UndefinedColumn(f'column "{col.name}" does not exist')


_INT_DUCK = {"int2": "SMALLINT", "int4": "INTEGER", "int8": "BIGINT"}


def _bare_numeric(to: exp.DataType) -> bool:
    """A cast to ``numeric`` without a typmod (sql/rewrite/pg_semantics.py wrote it DECIMAL(38, 12))."""
    if to.this != _DTYPE.DECIMAL:
        return False
    return not to.expressions or [e.name for e in to.expressions] == ["38", "12"]


def _numeric_cast(t: Any, node: exp.Cast) -> exp.Expression:
    """``x::numeric`` keeps x's digits in PostgreSQL (1::numeric is 1, 1.50::numeric 1.50); DuckDB's
    decimals have one scale per column, so the cast takes the operand's: an integer's 0, a numeric's
    own (no cast), a text literal's as written. Other operands (floats, text columns) keep 12 places."""
    source = node.this
    kind = t(source)
    if kind in INTS:
        node.set("to", exp.DataType.build("DECIMAL(38, 0)", dialect="duckdb"))
        return node
    if kind == "numeric" and not isinstance(source, exp.Literal | exp.Null):
        return source
    if isinstance(source, exp.Literal):
        try:
            value = Decimal(source.this.strip())
        except (InvalidOperation, ValueError):
            return node  # (DuckDB's cast says what is wrong with it)
        if not value.is_finite():
            return node
        digits, exponent = len(value.as_tuple().digits), int(value.as_tuple().exponent)
        scale = max(0, -exponent)
        if digits - min(exponent, 0) <= 38 and scale <= 38:
            node.set("to", exp.DataType.build(f"DECIMAL(38, {scale})", dialect="duckdb"))
    return node


def _is_number_literal(e: exp.Expression) -> bool:
    """-2147483648 is one literal to PostgreSQL (its parser folds the sign in): typed by its value."""
    return isinstance(e, exp.Literal) and not e.is_string


def _fix(types: Types, node: exp.Expression) -> exp.Expression:
    t = types.type
    as_json = pg_json.fix(types, node)
    if as_json is not None:
        return as_json
    if isinstance(node, exp.Cast) and _bare_numeric(node.to):
        return _numeric_cast(t, node)
    if isinstance(node, exp.Anonymous) and node.name.lower() == "pg_typeof" and len(node.expressions) == 1:
        arg = node.expressions[0]
        untyped = isinstance(arg, exp.Null) or (isinstance(arg, exp.Literal) and arg.is_string)
        shown = "unknown" if untyped else _type_shown(t(arg))
        if shown is not None:  # (DuckDB's typeof names its own types: DECIMAL(2,1), VARCHAR ...)
            return exp.Literal.string(shown)
    if isinstance(node, (exp.Sum, exp.Avg, exp.Window, exp.Filter, exp.Anonymous, *_STDDEV)):
        if not _wrapped_by_window(node):
            to = _result_cast(types, node)
            if to == _numeric_decimal():
                return _numeric(node)
            if to is not None:
                return _cast(node, to)
    if isinstance(node, exp.WithinGroup) and isinstance(node.this, exp.PercentileCont):
        # percentile_cont(float8) WITHIN GROUP (ORDER BY float8): integers, numeric and float4 are cast
        # (DuckDB interpolates in the key's own type: a float4 or a numeric result)
        key = _ordered_key(node)
        if key is not None and t(key) in (*INTS, "float4", "numeric"):
            key.replace(_cast(key.copy(), "DOUBLE"))
        return node
    if isinstance(node, exp.Sum) and not _wrapped_by_window(node) and t(node.this) == "interval":
        # sum(interval): DuckDB has none; PostgreSQL adds months, days and microseconds apart
        x = node.this
        parts = [
            ("to_months", "pg_interval_months", "INTEGER"),
            ("to_days", "pg_interval_days", "INTEGER"),
            ("to_microseconds", "pg_interval_micros", "BIGINT"),
        ]
        terms = [_fn(to, _cast(exp.Sum(this=_fn(part, x.copy())), ty)) for to, part, ty in parts]
        return exp.Paren(this=exp.Add(this=exp.Add(this=terms[0], expression=terms[1]), expression=terms[2]))
    if (
        isinstance(node, exp.Round)
        and node.args.get("decimals") is None
        and t(node.this) in ("float4", "float8")
    ):
        return _fn("ROUND_EVEN", node.this, exp.Literal.number(0))
    if isinstance(node, exp.Neg) and not _is_number_literal(node.this) and t(node.this) in _INT_DUCK:
        # DuckDB widens -x (-(-32768::int2) is 32768 as INTEGER); PostgreSQL keeps the type and
        # raises 22003 where the result does not fit
        return _cast(node, _INT_DUCK[t(node.this)])
    if isinstance(node, exp.Coalesce | exp.Greatest | exp.Least | exp.Case) and t(node) in _INT_DUCK:
        # coalesce(int2, -1) is int4 (the literal's type); DuckDB fits the literal to SMALLINT
        return _cast(node, _INT_DUCK[t(node)])  # type: ignore[index]
    if isinstance(node, exp.Sign):
        a = t(node.this)
        return _cast(node, "DECIMAL(38, 0)" if a == "numeric" else "DOUBLE")
    if isinstance(node, _NUMERIC_OR_FLOAT) or (
        isinstance(node, exp.Anonymous) and node.name.lower() in ("pg_sqrt", "pg_ln", "pg_log10")
    ):
        if t(node) == "numeric" or (
            isinstance(node, exp.Log) and node.args.get("expression") is not None and t(node.this) != "float8"
        ):
            return _numeric(node)
        return node
    if isinstance(node, (*_COMPARISONS, exp.Between)):
        # real compared with a number of another type: PostgreSQL's operator is float48 (real = 1.3 is
        # false: 1.3 is no real); DuckDB casts the number to float4 instead. (Not IN: its list and
        # the real take one common type first, which is real.)
        this = node.this if isinstance(node, exp.Between) else node.left
        others = (
            [node.args.get("low"), node.args.get("high")] if isinstance(node, exp.Between) else [node.right]
        )
        kinds = [t(x) for x in others if x is not None]
        if t(this) == "float4" and any(k in _NUMBER_RANK and k != "float4" for k in kinds):
            this.replace(_cast(this.copy(), "DOUBLE"))
        elif isinstance(node, _COMPARISONS) and kinds[0] == "float4" and t(this) in _NUMBER_RANK:
            node.right.replace(_cast(node.right.copy(), "DOUBLE"))
        return node
    if isinstance(node, exp.Add | exp.Sub | exp.Mul | exp.Div | exp.Mod):
        left, right = t(node.this), t(node.expression)
        if left == "float4" and right in _NUMBER_RANK and right != "float4":
            node.set("this", _cast(node.this, "DOUBLE"))
        if right == "float4" and left in _NUMBER_RANK and left != "float4":
            node.set("expression", _cast(node.expression, "DOUBLE"))
        if isinstance(node, exp.Sub) and left == "date" and right == "date":
            return _cast(node, "INTEGER")
        if isinstance(node, exp.Sub) and left == "time" and right == "time":
            # time - time is an interval (DuckDB has no such operator): the microseconds between them
            us = [_fn("epoch_us", exp.Add(this=_cast(exp.Literal.string("1970-01-01"), "DATE"), expression=x))
                  for x in (node.this, node.expression)]  # fmt: skip
            return _fn("to_microseconds", exp.Sub(this=us[0], expression=us[1]))
        if isinstance(node, exp.Div) and left == "interval" and right in _NUMBER_RANK:
            factor = exp.Div(this=exp.Literal.number("1.0"), expression=_cast(node.expression, "DOUBLE"))
            return exp.Mul(this=node.this, expression=exp.Paren(this=factor))
        if isinstance(node, exp.Div) and _arith(node, left, right) == "numeric":
            return _numeric(node)
        return node
    if isinstance(node, exp.Length) and t(node.this) == "bytea":
        return _fn("octet_length", node.this)  # (length of bytea counts bytes; DuckDB has no length(BLOB))
    if (
        isinstance(node, exp.Anonymous)
        and node.name.lower() == "strlen"
        and t(node.expressions[0]) == "bytea"
    ):
        return _fn("octet_length", node.expressions[0])  # (pg_semantics' octet_length of text)
    if isinstance(node, exp.Cast) and node.to.this == _DTYPE.TIME and t(node.this) == "timestamptz":
        node.set("this", _cast(node.this, "TIMESTAMP"))
        return node
    if isinstance(node, exp.Cast) and node.to.this == _DTYPE.DECIMAL and t(node.this) in ("float4", "float8"):
        # through the double's text: DuckDB's DOUBLE -> DECIMAL cast is off in the last digits
        node.set("this", _cast(node.this, "TEXT"))
        return node
    if isinstance(node, exp.Cast) and node.to.this in (_DTYPE.TEXT, _DTYPE.VARCHAR):
        text = _as_text(t(node.this), node.this, output=bool(node.meta.get("pg_output")))
        return text if text is not None else node
    if isinstance(node, exp.DPipe):
        left, right = (bool(k and k.endswith("[]")) for k in (t(node.this), t(node.expression)))
        if left or right:  # arrays concatenate: array || array, array || element, element || array
            fn = "list_concat" if left and right else "list_append" if left else "list_prepend"
            return _fn(fn, node.this, node.expression)
        for key in ("this", "expression"):
            operand = node.args.get(key)
            text = _as_text(t(operand), operand) if operand is not None else None
            if text is not None:
                node.set(key, text)
        return node
    if isinstance(node, exp.TimestampTrunc) and t(node.this) == "date":
        node.set("this", _cast(node.this, "TIMESTAMPTZ"))  # date_trunc(unit, date) is timestamptz
        return node
    if isinstance(node, exp.DateBin):
        origin = node.args.get("unit") or node.args.get("origin")
        ts_type = t(node.expression)
        duck_ts = "TIMESTAMP" if ts_type == "timestamp" else "TIMESTAMPTZ"
        args = [_cast(node.this, "INTERVAL"), node.expression]
        if origin is not None:
            origin_text = origin.name if isinstance(origin, exp.Var | exp.Literal) else None
            args.append(
                _cast(exp.Literal.string(origin_text), duck_ts) if origin_text is not None else origin
            )
        return _fn("TIME_BUCKET", *args)
    if isinstance(node, exp.Anonymous) and node.name.lower() in ("gcd", "lcm"):
        kinds = {t(a) for a in node.expressions}
        if kinds <= {"int2", "int4"}:
            return _cast(node, "INTEGER")
        return node
    if isinstance(node, exp.ExplodingGenerateSeries | exp.GenerateSeries):
        return _generate_series(types, node)
    return node


def _generate_series(types: Types, node: exp.Expression) -> exp.Expression:
    """generate_series over int4 yields int4 (DuckDB: int8); over numeric, numeric (DuckDB: none)."""
    start, end, step = (node.args.get(k) for k in ("start", "end", "step"))
    if step is not None and _is_number_literal(step) and float(step.name) == 0:
        from sql.errors import InvalidParameterValue

        raise InvalidParameterValue("step size cannot equal zero")
    bounds = [b for b in (start, end, step) if b is not None]
    kinds = {types.type(b) for b in bounds}
    if bounds and kinds <= {"int2", "int4"}:
        series: exp.Expression = exp.Table(this=node.copy())
        values = _cast(exp.column("generate_series"), "INTEGER")
    elif start is not None and end is not None and "numeric" in kinds and kinds <= {*INTS, "numeric"}:
        # start + i * step for i in 0 .. floor((end - start) / step)
        step = step or exp.Literal.number(1)
        count = exp.Add(
            this=_cast(
                _fn(
                    "floor",  # rounded first: DuckDB divides decimals in double ((1.0 - 0.1) / 0.1 < 9)
                    _fn(
                        "round",
                        exp.Div(this=exp.Paren(this=exp.Sub(this=end, expression=start)), expression=step),
                        exp.Literal.number(9),
                    ),
                ),
                "BIGINT",
            ),
            expression=exp.Literal.number(1),
        )
        series = exp.Table(this=_fn("range", exp.Literal.number(0), count))
        values = _cast(
            exp.Add(this=start.copy(), expression=exp.Mul(this=exp.column("range"), expression=step.copy())),
            "DECIMAL(38, 12)",
        )
    else:
        return node
    parent = node.parent
    if isinstance(parent, exp.Table) and parent.this is node:
        # FROM generate_series(1, 5) AS g[(i)]: the column is i, else g, else generate_series
        alias = parent.args.get("alias")
        if isinstance(alias, exp.TableAlias) and alias.columns:
            column = alias.columns[0].name
        elif isinstance(alias, exp.TableAlias) and alias.this is not None:
            column = alias.this.name
        else:
            column = "generate_series"
        inner = exp.select(exp.alias_(values, column, quoted=True)).from_(series)
        new_alias = (
            alias.copy()
            if isinstance(alias, exp.TableAlias)
            else exp.TableAlias(this=exp.to_identifier("generate_series"))
        )
        parent.replace(exp.Subquery(this=inner, alias=new_alias))
        return node
    if "numeric" in kinds:  # in a select list: the values' list unnested (DuckDB has no numeric series)
        at = exp.to_identifier("__r")
        value = values.transform(
            lambda n: exp.column("__r") if isinstance(n, exp.Column) and n.name == "range" else n
        )
        return _fn(
            "unnest", _fn("list_transform", series.this.copy(), exp.Lambda(this=value, expressions=[at]))
        )
    return _cast(node, "INTEGER")


def pg_types(tree: exp.Expression, tables: Mapping[str, Mapping[str, str]]) -> exp.Expression:
    """Fix result types of a bound tree; ``tables`` maps each registered scan to its column types."""
    types = Types(tree, tables)
    for select in tree.find_all(exp.Select):
        _check_aliases(types, select)
    for op in tree.find_all(exp.SetOperation):
        _check_set_operation(types, op)
    for cmp in tree.find_all(exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE):
        _check_comparison(types, cmp)
    _check_conditions(types, tree)
    _check_aggregate_arity(types, tree)
    _check_positions(tree)
    return bottom_up(tree, lambda node: _fix(types, node))


_REFINED_OIDS = {"varchar": 1043, "bpchar": 1042, "name": 19, "uuid": 2950, "json": 114, "jsonb": 3802}
TEXT_LIKE_OIDS = frozenset(_REFINED_OIDS.values())  # results carry these types as Arrow strings
_REFINED_ARRAYS = {"varchar[]": 1015, "bpchar[]": 1014}  # (carried as lists of strings: text[])
# the catalog's own column types (sql/pgcatalog_schema.py), which results carry as int8 / text values:
# drivers read the catalog by them (asyncpg compares pg_type.typtype, a "char", with b"e"; its type
# introspection knows oid[], not int8[])
# int2vector / oidvector (pg_index.indkey, pg_proc.proargtypes): lists, printed as PostgreSQL prints
# them ("1186 1184", pgwire/types/array.py)
_CATALOG_OIDS = {
    "oid": 26,
    "char": 18,
    "oid[]": 1028,
    "name[]": 1003,
    "char[]": 1002,
    "int2vector": 22,
    "oidvector": 30,
}
_CARRIERS = {26: 20, 1028: 1016, 1003: 1009, 1002: 1009, 22: 1005, 30: 1016, 1015: 1009, 1014: 1009}
TEXT_OID, TEXT_ARRAY_OID = 25, 1009


def carrier(oid: int, user_arrays: Container[int] = ()) -> int:
    """The OID of the type whose Arrow values a result column of type ``oid`` holds: text for the
    string types above and enums, int8 for oid, their arrays for arrays (``user_arrays``: the array
    types of enums); else ``oid`` itself."""
    if oid in user_arrays:
        return TEXT_ARRAY_OID
    if oid in TEXT_LIKE_OIDS or oid == 18 or oid >= USER_OIDS:
        return TEXT_OID
    return _CARRIERS.get(oid, oid)


def catalog_types(spec: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Column name -> type name (``_oid`` as ``oid[]``) of a catalog relation's columns."""
    return {name: (t[1:] + "[]" if t.startswith("_") else t) for name, t in spec}


def output_oids(
    tree: exp.Expression,
    tables: Mapping[str, Mapping[str, str]],
    more: Mapping[str, int] | None = None,
    catalog: Mapping[str, Mapping[str, str]] | None = None,
) -> list[int | None]:
    """Per output column, the OID of a type that Arrow results cannot tell from text or int8
    (varchar, bpchar, name, and uuid/json/jsonb, stored as text; ``more``: enum types by name,
    sql/enums.py; the catalog's oid and "char" columns, ``catalog`` having the column types of the
    catalog relations the query reads), else None: the engine announces these instead."""
    refined = {**_REFINED_OIDS, **_REFINED_ARRAYS, **(more or {})}
    if catalog:
        refined = {**_CATALOG_OIDS, **refined}
    return [refined.get(t or "") for _, t in Types(tree, tables, catalog).outputs(tree)]


def scan_types(columns: Sequence[Any]) -> dict[str, str]:
    """Column name -> PostgreSQL type name for a bound scan's sql.tables.SqlColumn list."""
    return {c.name: c.type.name for c in columns}
