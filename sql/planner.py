"""Planning: which queries the native vectorised executor answers, as a printable plan.

A native plan is data (EXPLAIN prints it) built once per prepared statement from the rewritten
tree. Three shapes are native; every other query is a DuckDB plan over bound scans:

- BucketAggregate: one table, WHERE fully pushed down (time range + tag predicate),
  GROUP BY time_bucket(constant width, time [, offset | origin]), date_bin(width, time, origin) or
  date_trunc(second..day, time) and/or tags, min/max/sum/avg/count/first/last of
  integer and float fields, and InfluxQL's selectors (ARG_MIN / ARG_MAX over a ROW key: the selected
  point's value and time), ORDER BY output columns, LIMIT; the WHERE may also compare int/float8
  fields with numbers (only the rows satisfying that count) and require one field IS NOT NULL when
  every aggregate is of that field.
  Executed from the storage's aggregate scan: block statistics where a block lies inside one
  bucket, decoding only the others.
- LastPoint: SELECT DISTINCT ON (tags) ... ORDER BY tags, time DESC: the newest row group of each
  series only.
- FilteredScan: SELECT columns or * FROM one table WHERE comparisons of int/float8 fields with number
  constants (or none) AND what storage applies exactly (time range, tags) [ORDER BY time] [LIMIT]
  (only the columns shown are read): the field conditions are
  evaluated per row group in a kernel (row groups whose block statistics exclude a match skipped),
  other columns decoded only for groups with matches.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

import duckdb
from sqlglot import exp

from columnar.catalog import TableMeta
from sql.rewrite.pushdown import STRUCTURE, conjuncts, table_pushdown
from sql.tables import TIME_NS, SqlColumn, sql_columns, time_ns_column

_AGGS = {
    "MIN": "min",
    "MAX": "max",
    "SUM": "sum",
    "AVG": "avg",
    "COUNT": "count",
    "ARG_MIN_NULL": "first_null",  # first(value, time): the value at the smallest time, NULL or not
    "ARG_MAX_NULL": "last_null",
    "STDDEV": "stddev_samp",
    "STDDEVSAMP": "stddev_samp",
    "STDDEVPOP": "stddev_pop",
    "VARIANCE": "var_samp",
    "VARIANCEPOP": "var_pop",
}
SPREAD_FUNCS = frozenset({"stddev_samp", "stddev_pop", "var_samp", "var_pop"})
# InfluxQL's selectors (sql/influxql/calls.py): ARG_MIN / ARG_MAX of a field or of the time over a key
# ROW(field or its negation, the time or its negation as EPOCH_US) that picks one point; by (function,
# the key's parts as "f", "-f", "t", "-t") the aggregate of the selected value and of its time.
# Rows without the field must not count (the key of such a row is not NULL): each needs the field IS
# NOT NULL, in the WHERE or in the aggregate's FILTER.
_SELECTORS: dict[tuple[str, str, str], tuple[str, str]] = {
    ("argmax", "f", "-t"): ("max", "max_time"),  # the largest value, its first time
    ("argmin", "f", "t"): ("min", "min_time"),  # the smallest value, its first time
    ("argmin", "t", "-f"): ("first_hi", "first_time"),  # the first time, its largest value
    ("argmax", "t", "f"): ("last_hi", "last_time"),  # the last time, its largest value
}
SELECTOR_FUNCS = frozenset(f for pair in _SELECTORS.values() for f in pair) - {"max", "min"}
_FLOAT = {"float4", "float8"}
_TRUNC_US = {"SECOND": 10**6, "MINUTE": 60 * 10**6, "HOUR": 3600 * 10**6, "DAY": 86_400 * 10**6}
_INT = {"int2", "int4", "int8"}


@dataclass
class Agg:
    # min | max | sum | avg | count | first | last | first_null | last_null, or a selector's:
    # max_time | min_time | first_time | last_time (the selected point's time) | first_hi | last_hi;
    # or of the rows, field "": rows (count(*)) | time_max | time_min (max / min of the time);
    # stddev_samp | stddev_pop | var_samp | var_pop; pct_cont | pct_disc (percentile_cont /
    # percentile_disc(fraction) WITHIN GROUP (ORDER BY field)) | count_distinct: of the values themselves;
    # count_tags: COUNT(DISTINCT tag ``value``), of the series of the rows;
    # aux: the value of another column (``value``) at the point a selector of the field picks
    # (``selects``, its time aggregate): InfluxQL's SELECT max(f), g
    func: str
    field: str
    name: str  # output column name
    column: SqlColumn
    # only rows with the field count (FILTER (WHERE field IS NOT NULL), or the WHERE's IS NOT NULL)
    needs_value: bool = False
    fraction: float = 0.0  # percentile_cont / percentile_disc (pct_cont | pct_disc) WITHIN GROUP
    value: str = ""  # aux: the field or tag shown
    selects: str = ""  # aux: max_time | min_time | first_time | last_time
    # FILTER (WHERE ...): (field conditions, the tag / time conjuncts or None, the text as its key)
    filter: tuple | None = None


@dataclass
class BucketAggregate:
    table: exp.Table
    meta: TableMeta
    rp: str | None
    where: exp.Expression | None
    every_us: int | None  # time_bucket width in µs (None: no time bucket)
    bucket_name: str | None
    group_tags: list[tuple[str, str]]  # (tag column, output name)
    aggs: list[Agg]
    outputs: list[tuple[str, int]]  # select order: ("bucket"|"tag"|"agg"|"expr", index)
    # (output name, descending, NULLs first)
    order: list[tuple[str, bool, bool]] = field(default_factory=list)
    limit: int | None = None
    offset: int = 0
    tz_sensitive: bool = False  # date_trunc buckets follow the session TimeZone: native only in UTC
    # field <op> number conditions only the rows satisfying which count (as FilteredScan's)
    conditions: list[tuple[str, str, exp.Expr]] = field(default_factory=list)
    # the WHERE's field IS NOT NULL: only rows with a value of this field count (every aggregate is
    # of this field, so a group without such a row is no group)
    not_null: str | None = None
    # buckets start at this timestamptz (evaluated at execution: a text's zone is the session's;
    # None: TimescaleDB's 2000-01-03) plus this offset
    bucket_origin: exp.Expression | None = None
    bucket_offset_us: int = 0
    # outputs ("expr", i): (name, tree, in doubles) of arithmetic over aggregates (sql/planner.py
    # _arithmetic); their aggregates are in ``aggs``, not shown themselves
    exprs: list[tuple[str, tuple, bool]] = field(default_factory=list)
    epoch_seconds: bool = False  # the bucket is shown as its start in epoch seconds (numeric)
    # HAVING (sql/planner.py _having): a tree over aggregates in ``aggs`` (those only it uses are not
    # shown); None: no HAVING
    having: tuple | None = None

    def explain(self) -> list[str]:
        lines = [f"Native BucketAggregate on {self.meta.name}"]
        if self.every_us:
            lines.append(f"  time_bucket: {self.every_us} us as {self.bucket_name}")
        if self.group_tags:
            lines.append(f"  group by tags: {', '.join(t for t, _ in self.group_tags)}")
        lines.append(f"  aggregates: {', '.join(f'{a.func}({a.field})' for a in self.aggs)}")
        if self.exprs:
            lines.append(f"  arithmetic: {', '.join(name for name, _, _ in self.exprs)}")
        if self.conditions:
            conds = " AND ".join(f"{f} {op} {e.sql('postgres')}" for f, op, e in self.conditions)
            lines.append(f"  field conditions: {conds}")
        if self.not_null:
            lines.append(f"  not null: {self.not_null}")
        if self.having is not None:
            lines.append(f"  having: {_having_text(self.having, self.aggs)}")
        if self.order:
            lines.append(f"  order: {', '.join(n + (' DESC' if d else '') for n, d, _ in self.order)}")
        if self.limit is not None:
            lines.append(f"  limit: {self.limit} offset {self.offset}")
        return lines


@dataclass
class LastPoint:
    table: exp.Table
    meta: TableMeta
    rp: str | None
    where: exp.Expression | None
    distinct_tags: list[str]
    columns: list[SqlColumn]  # output columns, in order

    def explain(self) -> list[str]:
        return [f"Native LastPoint on {self.meta.name}", f"  distinct on: {', '.join(self.distinct_tags)}"]


@dataclass
class FilteredScan:
    table: exp.Table
    meta: TableMeta
    rp: str | None
    where: exp.Expression | None  # the conjuncts storage applies exactly (time, tags)
    conditions: list[tuple[str, str, exp.Expr]]  # (field, op, number literal or parameter)
    columns: list[SqlColumn]  # output columns, in order
    names: list[str]  # their output names
    limit: int | None = None
    offset: int = 0
    time_order: bool | None = None  # ORDER BY time: False ASC, True DESC, None no ORDER BY
    # conjuncts (f IS NOT NULL [OR g IS NOT NULL ...]): a row shown has a value of one field of each
    not_null: list[tuple[str, ...]] = field(default_factory=list)

    def explain(self) -> list[str]:
        conds = " AND ".join(f"{f} {op} {e.sql('postgres')}" for f, op, e in self.conditions)
        lines = [f"Native FilteredScan on {self.meta.name}", f"  field conditions: {conds}"]
        if self.not_null:
            lines.append(f"  not null: {', '.join(' OR '.join(g) for g in self.not_null)}")
        lines.append(f"  columns: {', '.join(c.name for c in self.columns)}")
        if self.time_order is not None:
            lines.append(f"  order: {self.meta.time_column}{' DESC' if self.time_order else ''}")
        if self.limit is not None or self.offset:
            lines.append(f"  limit: {self.limit} offset {self.offset}")
        return lines


class RunsItself(Protocol):
    """A native plan that runs itself on the native executor (sql/gapfill.py's Gapfill)."""

    @property
    def tz_sensitive(self) -> bool: ...

    def explain(self) -> list[str]: ...

    def execute(self, session: Any, params: list) -> Any: ...


NativePlan = BucketAggregate | LastPoint | FilteredScan | RunsItself


def output_order(tree: exp.Select, names: list[str]) -> list[tuple[str, bool, bool]] | None:
    """ORDER BY as (output name, descending, NULLs first), each item an output's name or position;
    None when an item is anything else."""
    order = tree.args.get("order")
    out: list[tuple[str, bool, bool]] = []
    for item in order.expressions if order is not None else []:
        key = item.this
        if isinstance(key, exp.Literal) and not key.is_string and key.name.isdigit():
            if not 1 <= int(key.name) <= len(names):
                return None
            name = names[int(key.name) - 1]
        elif (
            isinstance(key, exp.Column)
            and key.name in names
            and (not key.table or _is_output(tree, names, key))
        ):
            name = key.name
        else:
            return None
        desc = bool(item.args.get("desc"))
        nulls_first = item.args.get("nulls_first")  # (PostgreSQL's default: first when DESC)
        out.append((name, desc, desc if nulls_first is None else bool(nulls_first)))
    return out


def _is_output(tree: exp.Select, names: list[str], key: exp.Column) -> bool:
    """Whether ``t.c`` in ORDER BY is the output named c: it names the input column c of the FROM
    table t (ORMs qualify every column), which is that output only when the output is that column."""
    frm = tree.args.get("from_")
    if frm is None or not isinstance(frm.this, exp.Table) or key.table != frm.this.alias_or_name:
        return False
    if len(names) != len(tree.expressions):
        return False
    for e, name in zip(tree.expressions, names, strict=True):
        if name == key.name:
            inner = e.this if isinstance(e, exp.Alias) else e
            return isinstance(inner, exp.Column) and inner.name == key.name and inner.table in ("", key.table)
    return False


def _reads_enum_order(tree: exp.Select, meta) -> bool:
    """Whether the query uses an enum column (sql/enums.py) other than by showing it: ordering,
    grouping, comparisons and min/max follow the labels' order, and a literal compared with it is
    checked, which DuckDB does over the binder's ENUM(...) reads (the native executor orders text)."""
    enum_columns = meta.options.get("enums")
    if not enum_columns:
        return False
    shown = {id(e) for e in tree.expressions if isinstance(e, exp.Column)}
    shown |= {
        id(e.this) for e in tree.expressions if isinstance(e, exp.Alias) and isinstance(e.this, exp.Column)
    }
    return any(c.name in enum_columns and id(c) not in shown for c in tree.find_all(exp.Column))


def plan(session, tree: exp.Expression) -> NativePlan | None:
    """A native plan for the rewritten tree, or None when DuckDB must run it."""
    if not isinstance(tree, exp.Select):
        return None
    for banned in (exp.Join, exp.Subquery, exp.Window, exp.Union, exp.With, exp.Lateral, exp.TableSample):
        if tree.find(banned) is not None:
            return None
    frm = tree.args.get("from_")
    if frm is None or not isinstance(frm.this, exp.Table) or not isinstance(frm.this.this, exp.Identifier):
        return None
    table = frm.this
    from sql.binder import is_catalog_ref, resolve_table

    if is_catalog_ref(table):
        return None
    try:
        rp, meta = resolve_table(session.storage, session.database, table)
    except Exception:
        return None
    cols = {c.name: c for c in sql_columns(meta)}
    if _reads_enum_order(tree, meta):
        return None
    where = tree.args.get("where")
    tags = {c.name for c in cols.values() if c.kind == "tag"}
    # comparisons of numeric fields with constants: a filtered scan applies them
    conditions, rest = _field_conditions(where, table.alias_or_name, cols)
    # field IS NOT NULL, or several such ORed (InfluxQL's raw queries add them): a filtered scan drops
    # the rows without one
    not_null = [g for g in (_not_null_fields(c, table.alias_or_name, cols) for c in rest) if g is not None]
    if not_null:
        rest = [c for c in rest if _not_null_fields(c, table.alias_or_name, cols) is None]
    if conditions or not_null:
        where = exp.Where(this=exp.and_(*rest)) if rest else None
    # structure only (values come at execution): is every condition one storage can apply exactly?
    pd = table_pushdown(where, table.alias_or_name, meta.time_column, tags, lambda e: 0, STRUCTURE)
    if not pd.exact:
        return None
    if not_null:
        scan = _filtered_scan(tree, table, meta, rp, where, cols, conditions)
        if scan is not None:
            scan.not_null = not_null
            return scan
        if tree.args.get("distinct") is not None:
            return None
        agg = _bucket_aggregate(tree, table, meta, rp, where, cols)
        # exact when every aggregate is of the one field that must have a value and skips rows
        # without one: a piece of rows then counts iff it holds a value of that field
        if (
            agg is None
            or len(set(not_null)) != 1
            or len(not_null[0]) != 1
            or any(a.field != not_null[0][0] or a.func in ("first_null", "last_null") for a in agg.aggs)
        ):
            return None
        agg.conditions = conditions
        agg.not_null = not_null[0][0]
        for a in agg.aggs:
            a.needs_value = True
        return _selectors_covered(agg)
    if conditions:
        scan = _filtered_scan(tree, table, meta, rp, where, cols, conditions)
        if scan is not None or tree.args.get("distinct") is not None:
            return scan
        agg = _selectors_covered(_bucket_aggregate(tree, table, meta, rp, where, cols))
        if agg is not None:
            agg.conditions = conditions
        return agg
    distinct = tree.args.get("distinct")
    if distinct is not None and distinct.args.get("on") is not None:
        return _last_point(tree, table, meta, rp, where, cols)
    agg = _selectors_covered(_bucket_aggregate(tree, table, meta, rp, where, cols))
    if agg is None and distinct is None:
        # rows of a time range and tags [ORDER BY time] [LIMIT n]: a filtered scan without conditions
        return _filtered_scan(tree, table, meta, rp, where, cols, [])
    return agg


_CMP: dict[type, str] = {exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<=", exp.EQ: "=", exp.NEQ: "<>"}
_FLIP = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "=": "=", "<>": "<>"}
_COMPARABLE = {"int2", "int4", "int8", "float8"}  # stored as they are read: compared exactly


def _constant(e: exp.Expr) -> bool:
    """A number literal, its negation, or a parameter (its value comes at execution)."""
    if isinstance(e, exp.Paren):
        return _constant(e.this)
    if isinstance(e, exp.Neg):
        return _constant(e.this)
    if isinstance(e, exp.Literal):
        return not e.is_string
    return isinstance(e, exp.Parameter) and e.this is not None and e.this.name.isdigit()


def _field_conditions(
    where: exp.Expression | None, alias: str, cols: dict[str, SqlColumn]
) -> tuple[list[tuple[str, str, exp.Expr]], list[exp.Expression]]:
    """Split the WHERE's conjuncts into (field, op, constant) comparisons and the rest."""
    conds: list[tuple[str, str, exp.Expr]] = []
    rest: list[exp.Expression] = []

    def field(e: exp.Expr) -> str | None:
        if isinstance(e, exp.Column) and e.table in ("", alias):
            c = cols.get(e.name)
            if c is not None and c.kind == "field" and c.type.name in _COMPARABLE:
                return c.name
        return None

    for c in conjuncts(where):
        op = _CMP.get(type(c)) if isinstance(c, exp.Binary) else None
        if op is not None and isinstance(c, exp.Binary):
            f, other = field(c.left), c.right
            if f is None:
                f, other, op = field(c.right), c.left, _FLIP[op]
            if f is not None and _constant(other):
                conds.append((f, op, other))
                continue
        elif isinstance(c, exp.Between) and not c.args.get("symmetric"):
            f = field(c.this)
            lo, hi = c.args.get("low"), c.args.get("high")
            if f is not None and lo is not None and hi is not None and _constant(lo) and _constant(hi):
                conds.extend([(f, ">=", lo), (f, "<=", hi)])
                continue
        rest.append(c)
    return conds, rest


def _not_null_field(c: exp.Expression, alias: str, cols: dict[str, SqlColumn]) -> str | None:
    """The field of a ``field IS NOT NULL`` conjunct (None for anything else)."""
    if isinstance(c, exp.Not) and isinstance(c.this, exp.Is) and not c.this.args.get("negate"):
        c = exp.Is(this=c.this.this, expression=c.this.expression, negate=True)  # NOT (x IS NULL)
    if isinstance(c, exp.Is) and c.args.get("negate") and isinstance(c.expression, exp.Null):
        col = c.this
        if isinstance(col, exp.Column) and col.table in ("", alias):
            sc = cols.get(col.name)
            if sc is not None and sc.kind == "field":
                return sc.name
    return None


def _not_null_fields(c: exp.Expression, alias: str, cols: dict[str, SqlColumn]) -> tuple[str, ...] | None:
    """The fields of a conjunct ``f IS NOT NULL [OR g IS NOT NULL ...]`` (None for anything else)."""
    while isinstance(c, exp.Paren):
        c = c.this
    if isinstance(c, exp.Or):
        left = _not_null_fields(c.this, alias, cols)
        right = _not_null_fields(c.expression, alias, cols) if left is not None else None
        return None if right is None else tuple(dict.fromkeys(left + right))  # type: ignore[operator]
    f = _not_null_field(c, alias, cols)
    return None if f is None else (f,)


def _limit_offset(tree: exp.Select) -> tuple[int | None, int | None] | None:
    """LIMIT and OFFSET as numbers (None where absent); None when either is not a number literal."""
    out: list[int | None] = []
    for key in ("limit", "offset"):
        node = tree.args.get(key)
        if node is None:
            out.append(None)
            continue
        value = node.expression
        if not (isinstance(value, exp.Literal) and not value.is_string):
            return None
        out.append(int(value.name))
    return out[0], out[1]


def _filtered_scan(tree, table, meta, rp, where, cols, conditions) -> FilteredScan | None:
    for banned in ("group", "distinct", "having", "qualify"):
        if tree.args.get(banned) is not None:
            return None
    time_order = None  # ORDER BY the time column (never NULL) only: ASC False, DESC True
    if tree.args.get("order") is not None:
        items = tree.args["order"].expressions
        key = items[0].this if len(items) == 1 else None
        if not (
            isinstance(key, exp.Column)
            and key.name == meta.time_column
            and key.table in ("", table.alias_or_name)
            and meta.time_column in cols
        ):
            return None
        time_order = bool(items[0].args.get("desc"))
    out: list[SqlColumn] = []
    names: list[str] = []
    for e in tree.expressions:
        inner = e.this if isinstance(e, exp.Alias) else e
        if isinstance(inner, exp.Star):
            if isinstance(e, exp.Alias):
                return None
            out.extend(cols.values())
            names.extend(cols)
        elif (
            isinstance(inner, exp.Column)
            and inner.table in ("", table.alias_or_name)
            and (inner.name in cols or inner.name == TIME_NS)
        ):
            # TIME_NS: the stored nanoseconds (InfluxQL's raw times)
            out.append(cols[inner.name] if inner.name in cols else time_ns_column())
            names.append(e.alias_or_name)
        else:
            return None
    bounds = _limit_offset(tree)
    if bounds is None:
        return None
    limit, offset = bounds
    return FilteredScan(table, meta, rp, where, conditions, out, names, limit, offset or 0, time_order)


def _last_point(tree, table, meta, rp, where, cols) -> LastPoint | None:
    distinct = tree.args["distinct"]
    on = distinct.args.get("on")
    if on is None:
        return None
    keys = on.expressions if isinstance(on, exp.Tuple) else [on]
    if not all(isinstance(k, exp.Column) and cols.get(k.name) and cols[k.name].kind == "tag" for k in keys):
        return None
    distinct_tags = [k.name for k in keys]
    order = tree.args.get("order")
    if order is None or tree.args.get("limit") or tree.args.get("group") or tree.args.get("having"):
        return None
    items = order.expressions
    if len(items) != len(distinct_tags) + 1:
        return None
    for item, tag in zip(items, distinct_tags, strict=False):
        if not (isinstance(item.this, exp.Column) and item.this.name == tag and not item.args.get("desc")):
            return None
    last = items[-1]
    if not (
        isinstance(last.this, exp.Column) and last.this.name == meta.time_column and last.args.get("desc")
    ):
        return None
    out: list[SqlColumn] = []
    for e in tree.expressions:
        if isinstance(e, exp.Star):
            out.extend(cols.values())
        elif isinstance(e, exp.Column) and e.name in cols:
            out.append(cols[e.name])
        else:
            return None
    return LastPoint(table, meta, rp, where, distinct_tags, out)


def _epoch_bucket(e: exp.Expression, time_column: str) -> int | None:
    """N of floor(extract(epoch from time) / N) * N (N a whole number of seconds), as the planner
    receives it (sql/rewrite has written the epoch as a decimal of EPOCH_US); None otherwise."""
    if not (isinstance(e, exp.Mul) and isinstance(e.this, exp.Floor) and isinstance(e.this.this, exp.Div)):
        return None
    div = e.this.this
    n1, n2 = _whole(div.expression), _whole(e.expression)
    if n1 is None or n1 != n2 or n1 <= 0:
        return None
    epoch = div.this
    col = exp.column(time_column, quoted=True).sql("postgres")
    want = {
        f"CAST(CAST(EPOCH_US({c}) AS DECIMAL(24, 0)) * 0.000001 AS DECIMAL(24, 6))"
        for c in (col, time_column)
    }
    return n1 if epoch.sql("postgres") in want else None


def _whole(e: exp.Expression) -> int | None:
    """A positive integer literal, or one cast to INT / BIGINT."""
    if isinstance(e, exp.Cast) and e.to.this in (exp.DType.INT, exp.DType.BIGINT):
        e = e.this
    if isinstance(e, exp.Literal) and not e.is_string and e.name.isdigit():
        return int(e.name)
    return None


def _time_bucket(
    e: exp.Expression, cols: dict[str, SqlColumn], time_column: str
) -> tuple[int, exp.Expression | None, int] | None:
    """time_bucket(width, time [, offset interval | origin timestamptz]) or date_bin(stride, time,
    origin) of the table's timestamptz time, as (width in us, origin or None, offset in us); None for
    other forms (a time zone, months, a timestamp column)."""
    if isinstance(e, exp.DateBin):
        width, ts = exp.Cast(this=e.this, to=exp.DataType.build("INTERVAL")), e.expression
        third = e.args.get("unit") or e.args.get("origin")
        if isinstance(third, exp.Var | exp.Literal):  # (sqlglot reads the origin's text as a Var)
            third = exp.Cast(this=exp.Literal.string(third.name), to=exp.DataType.build("TIMESTAMPTZ"))
        if third is None:
            return None
    else:
        if len(e.expressions) not in (2, 3):
            return None
        width, ts, third = e.expressions[0], e.expressions[1], (e.expressions[2:] or [None])[0]
    if not (isinstance(ts, exp.Column) and ts.name == time_column):
        return None
    every_us = interval_us(width)
    if every_us is None:
        return None
    if third is None:
        return every_us, None, 0
    if cols[time_column].type.name != "timestamptz":
        return None  # (a timestamp's origin is not the session's zone's)
    if isinstance(third, exp.Interval) or (
        isinstance(third, exp.Cast) and third.to.this is exp.DType.INTERVAL
    ):
        shift = interval_us(third)  # (None for a month, a negative or a zero offset)
        return None if shift is None else (every_us, None, shift)
    if (
        isinstance(third, exp.Cast)
        and third.to.this is exp.DType.TIMESTAMPTZ
        and isinstance(third.this, exp.Literal)
        and third.this.is_string
    ):
        return every_us, third, 0
    return None


def interval_us(e: exp.Expression) -> int | None:
    """A constant interval (CAST('5 minutes' AS INTERVAL) / INTERVAL '5' MINUTE) in µs; None for months."""
    try:
        text = e.sql("duckdb")
    except Exception:
        return None
    return _interval_text_us(text)


@functools.lru_cache(maxsize=1024)
def _interval_text_us(text: str) -> int | None:
    """Evaluated once per distinct interval text, on one shared private DuckDB connection."""
    upper = text.upper()
    if "MONTH" in upper or "YEAR" in upper or "MON" in upper:
        return None
    sql = (
        "SELECT DATEDIFF('microsecond', CAST('2000-01-01' AS TIMESTAMP), "
        f"CAST('2000-01-01' AS TIMESTAMP) + ({text}))"
    )
    with _interval_lock:
        global _interval_con
        if _interval_con is None:
            _interval_con = duckdb.connect()
        try:
            row = _interval_con.execute(sql).fetchone()
        except Exception:
            return None
    v = row[0] if row is not None else None
    return int(v) if v and v > 0 else None


_interval_lock = threading.Lock()
_interval_con: duckdb.DuckDBPyConnection | None = None


def _bucket_aggregate(tree, table, meta, rp, where, cols) -> BucketAggregate | None:
    """GROUP BY a time bucket and/or tags with aggregates; also SELECT DISTINCT of tags and a bucket
    (or GROUP BY them without aggregates): the groups that hold rows."""
    distinct = tree.args.get("distinct")
    if distinct is not None and (distinct.args.get("on") is not None or tree.args.get("group") is not None):
        return None
    every_us = None
    bucket_name = None
    origin: exp.Expression | None = None
    shift_us = 0
    epoch_seconds = False
    tz_sensitive = False
    group_tags: list[tuple[str, str]] = []
    aggs: list[Agg] = []
    exprs: list[tuple[str, tuple, bool]] = []
    outputs: list[tuple[str, int]] = []
    bucket_expr: exp.Expression | None = None
    for e in tree.expressions:
        name = e.alias_or_name
        inner = e.this if isinstance(e, exp.Alias) else e
        if (isinstance(inner, exp.Anonymous) and inner.name.upper() == "TIME_BUCKET") or isinstance(
            inner, exp.DateBin
        ):
            bucket = _time_bucket(inner, cols, meta.time_column)
            if bucket is None or bucket_expr is not None:
                return None
            every_us, origin, shift_us = bucket
            bucket_expr, bucket_name = inner, name
            outputs.append(("bucket", 0))
        elif (seconds := _epoch_bucket(inner, meta.time_column)) is not None:
            # Grafana's $__timeGroup without TimescaleDB: floor(extract(epoch from time)/N)*N, the
            # bucket's start in epoch seconds (numeric)
            if bucket_expr is not None:
                return None
            every_us, bucket_expr, bucket_name, epoch_seconds = seconds * 10**6, inner, name, True
            origin = exp.Cast(
                this=exp.Literal.string("1970-01-01 00:00:00+00"), to=exp.DataType.build("TIMESTAMPTZ")
            )
            outputs.append(("bucket", 0))
        elif isinstance(inner, exp.TimestampTrunc) and inner.args.get("unit") is not None:
            unit_us = _TRUNC_US.get(inner.args["unit"].name.upper())
            ts = inner.this
            if (
                unit_us is None
                or bucket_expr is not None
                or not (isinstance(ts, exp.Column) and ts.name == meta.time_column)
                or inner.args.get("zone") is not None  # (date_trunc(unit, time, zone): that zone's)
            ):
                return None
            if cols[meta.time_column].type.name != "timestamptz":
                return None
            every_us, bucket_expr, bucket_name, tz_sensitive = unit_us, inner, name, True
            outputs.append(("bucket", 0))
        elif isinstance(inner, exp.Column) and inner.name in cols and cols[inner.name].kind == "tag":
            group_tags.append((inner.name, name))
            outputs.append(("tag", len(group_tags) - 1))
        else:
            agg = _agg(inner, name, cols, meta)
            if agg is not None:
                aggs.append(agg)
                outputs.append(("agg", len(aggs) - 1))
                continue
            # arithmetic over aggregates (max(x) - min(x): InfluxQL's spread())
            found = _arithmetic(inner, cols, meta, aggs)
            if found is None:
                return None
            exprs.append((name, *found))
            outputs.append(("expr", len(exprs) - 1))
    if any(a.filter is not None for a in aggs) and any(
        a.func in ("pct_cont", "pct_disc", "count_distinct", "count_tags", "aux") or a.func in SELECTOR_FUNCS
        for a in aggs
    ):
        return None  # (what reads values or rows itself sees the statement's rows only)
    having = None
    if tree.args.get("having") is not None:
        having = _having(tree.args["having"].this, cols, meta, aggs)
        if having is None:
            return None
    if (distinct is not None and aggs) or (not aggs and distinct is None and tree.args.get("group") is None):
        return None  # (no aggregates and no groups: rows, a filtered scan's)
    # GROUP BY must name exactly the selected bucket and tags (by output name, ordinal or expression)
    out_names = [e.alias_or_name for e in tree.expressions]
    keys = {
        name
        for kind, i in outputs
        if kind in ("bucket", "tag")
        for name in [bucket_name if kind == "bucket" else group_tags[i][1]]
    }
    tag_of_output = {n: t for t, n in group_tags}
    grouped: set[str] = set()
    group = tree.args.get("group")
    for g in group.expressions if group is not None else []:
        if isinstance(g, exp.Literal) and not g.is_string:
            name = out_names[int(g.name) - 1]
        elif isinstance(g, exp.Column):
            name = (
                g.name
                if g.name in keys
                else next((n for n, t in tag_of_output.items() if t == g.name), g.name)
            )
        elif bucket_expr is not None and g == bucket_expr:
            name = bucket_name
        else:
            return None
        if name not in keys:
            return None
        grouped.add(name)
    if grouped != keys and distinct is None:
        return None
    order = output_order(tree, out_names)
    if order is None:
        return None
    bounds = _limit_offset(tree)
    if bounds is None:
        return None
    limit, offset = bounds
    return BucketAggregate(
        table,
        meta,
        None if rp is None else rp,
        where,
        every_us,
        bucket_name,
        group_tags,
        aggs,
        outputs,
        order,
        limit,
        offset or 0,
        tz_sensitive,
        bucket_origin=origin,
        bucket_offset_us=shift_us,
        exprs=exprs,
        epoch_seconds=epoch_seconds,
        having=having,
    )


_COMPARE: dict[type, str] = {
    exp.GT: "greater",
    exp.GTE: "greater_equal",
    exp.LT: "less",
    exp.LTE: "less_equal",
    exp.EQ: "equal",
    exp.NEQ: "not_equal",
}


def _having(e: exp.Expression, cols: dict[str, SqlColumn], meta: TableMeta, aggs: list[Agg]) -> tuple | None:
    """HAVING as AND / OR / NOT of comparisons between aggregates (or +, -, * of them, as
    _arithmetic) and number literals, and of aggregate IS [NOT] NULL: a tree of ("and" | "or", left,
    right) / ("not", x) / ("cmp", op, left, right) / ("null", side, negated), with sides ("agg", index)
    / ("lit", number) / ("expr", arithmetic tree, in doubles). Its aggregates are added to ``aggs``.
    None for anything else. Comparisons are made in the native results' types: a numeric avg of
    integers compares as the double it is computed (and shown) from."""
    if isinstance(e, exp.Paren):
        return _having(e.this, cols, meta, aggs)
    if isinstance(e, exp.And | exp.Or):
        left = _having(e.this, cols, meta, aggs)
        right = _having(e.expression, cols, meta, aggs) if left is not None else None
        return None if right is None else ("and" if isinstance(e, exp.And) else "or", left, right)
    if isinstance(e, exp.Not):
        inner = _having(e.this, cols, meta, aggs)
        return None if inner is None else ("not", inner)
    if isinstance(e, exp.Is) and isinstance(e.expression, exp.Null):
        side = _having_side(e.this, cols, meta, aggs)
        return None if side is None or side[0] == "lit" else ("null", side, bool(e.args.get("negate")))
    op = _COMPARE.get(type(e))
    if op is None:
        return None
    left = _having_side(e.this, cols, meta, aggs)
    right = _having_side(e.expression, cols, meta, aggs) if left is not None else None
    if right is None or (left[0] == "lit" and right[0] == "lit"):  # type: ignore[index]
        return None
    return ("cmp", op, left, right)


def _having_text(node: tuple, aggs: list[Agg]) -> str:
    """EXPLAIN's form of a HAVING tree."""
    kind = node[0]
    if kind in ("and", "or"):
        return f"({_having_text(node[1], aggs)} {kind.upper()} {_having_text(node[2], aggs)})"
    if kind == "not":
        return f"NOT {_having_text(node[1], aggs)}"
    if kind == "null":
        return f"{_having_text(node[1], aggs)} IS {'NOT ' if node[2] else ''}NULL"
    if kind == "cmp":
        op = _CMP[next(t for t, n in _COMPARE.items() if n == node[1])]
        return f"{_having_text(node[2], aggs)} {op} {_having_text(node[3], aggs)}"
    if kind == "agg":
        return f"{aggs[node[1]].func}({aggs[node[1]].field})"
    if kind == "expr":
        return "(arithmetic)"
    return str(node[1])


def _having_side(
    e: exp.Expression, cols: dict[str, SqlColumn], meta: TableMeta, aggs: list[Agg]
) -> tuple | None:
    """A number literal (or its negation), an aggregate of a number, or arithmetic over aggregates."""
    if isinstance(e, exp.Paren):
        return _having_side(e.this, cols, meta, aggs)
    sign, x = (-1, e.this) if isinstance(e, exp.Neg) else (1, e)
    if isinstance(x, exp.Literal) and not x.is_string:
        try:
            return ("lit", sign * Decimal(x.name))
        except ArithmeticError:
            return None
    if (
        isinstance(x, exp.Cast)
        and x.to.this in (exp.DType.DOUBLE, exp.DType.FLOAT)
        and isinstance(x.this, exp.Literal)
        and x.this.is_string
    ):
        try:  # ('NaN'::float8, 'Infinity'::float8, '1.5'::float8)
            return ("lit", sign * float(x.this.name))
        except ValueError:
            return None
    a = _agg(e, "", cols, meta)
    if a is not None:
        if _result_type(a) == "other" and a.func not in ("avg", "sum", *SPREAD_FUNCS):
            return None  # (times, float4 and booleans stay with DuckDB)
        aggs.append(a)
        return ("agg", len(aggs) - 1)
    found = _arithmetic(e, cols, meta, aggs)
    return None if found is None else ("expr", *found)


_ARITHMETIC: dict[type, str] = {exp.Add: "add", exp.Sub: "sub", exp.Mul: "mul"}


def _result_type(a: Agg) -> str:
    """The PostgreSQL type of an aggregate's result: int8, float8 or other (numeric, float4, time)."""
    t = a.column.type.name
    if a.func in ("count", "rows", "count_distinct", "count_tags"):
        return "int8"
    if a.func == "pct_cont":
        return "float8"
    if a.func in ("avg", *SPREAD_FUNCS) or (a.func == "sum" and t in _INT):
        return "float8" if t == "float8" else "other"  # (of integers: numeric)
    if a.func in (
        "sum",
        "min",
        "max",
        "first",
        "last",
        "first_null",
        "last_null",
        "first_hi",
        "last_hi",
        "pct_disc",
    ):
        return t if t in ("int8", "float8") else "other"
    return "other"


def _arithmetic(
    e: exp.Expression, cols: dict[str, SqlColumn], meta: TableMeta, aggs: list[Agg]
) -> tuple[tuple, bool] | None:
    """+, - and * (and unary minus, parentheses, number literals) over aggregates of bigint or double
    results: (a tree of ("agg", index) / ("lit", value) / (op, left, right) / ("neg", x), computed in
    doubles); the aggregates are added to ``aggs``. None for anything else, and for what PostgreSQL
    computes as numeric or integer (int4 literals alone) or whose type DuckDB's arithmetic may change."""
    types: set[str] = set()
    leaves: list[Agg] = []

    def walk(x: exp.Expression) -> tuple | None:
        if isinstance(x, exp.Paren):
            return walk(x.this)
        if isinstance(x, exp.Neg):
            inner = walk(x.this)
            return None if inner is None else ("neg", inner)
        op = _ARITHMETIC.get(type(x))
        if op is not None:
            left, right = walk(x.this), walk(x.expression)
            return None if left is None or right is None else (op, left, right)
        width = None
        if isinstance(x, exp.Cast) and x.to.this in (exp.DType.INT, exp.DType.BIGINT):
            width, x = ("int4" if x.to.this is exp.DType.INT else "int8"), x.this  # (2 typed by pg_types)
        if isinstance(x, exp.Literal) and not x.is_string:
            if not x.name.isdigit():
                return None  # (1.5 is numeric)
            types.add(width or ("int8" if int(x.name) >= 2**31 else "int4"))
            return ("lit", int(x.name))
        if width is not None:
            return None
        a = _agg(x, "", cols, meta)
        if a is None:
            return None
        t = _result_type(a)
        if t == "other":
            return None
        types.add(t)
        leaves.append(a)
        return ("agg", len(aggs) + len(leaves) - 1)

    tree = walk(e)
    if tree is None or not leaves or not types <= {"int8", "int4", "float8"}:
        return None
    if "float8" not in types and "int8" not in types:
        return None  # (int4 arithmetic: PostgreSQL's int4 range)
    aggs.extend(leaves)
    return tree, "float8" in types


def _selectors_covered(agg: BucketAggregate | None) -> BucketAggregate | None:
    """``agg``, unless a selector's aggregate would count rows without its field (see _SELECTORS)."""
    if agg is None or any(
        (a.func in SELECTOR_FUNCS or a.func == "aux") and not a.needs_value for a in agg.aggs
    ):
        return None
    return agg


def _key_part(e: exp.Expression, time_column: str) -> tuple[str, str | None] | None:
    """One part of a selector's key: ("f", field) / ("-f", field) for a column or its negation,
    ("t", None) / ("-t", None) for the time (the column or EPOCH_US of it) or its negation."""
    sign = ""
    if isinstance(e, exp.Neg):
        sign, e = "-", e.this
    if isinstance(e, exp.Anonymous) and e.name.upper() == "EPOCH_US" and len(e.expressions) == 1:
        e = e.expressions[0]
        if not (isinstance(e, exp.Column) and e.name == time_column):
            return None
    if not isinstance(e, exp.Column):
        return None
    if e.name == time_column:
        return sign + "t", None
    return sign + "f", e.name


def _percentile(e: exp.WithinGroup, name: str, cols: dict[str, SqlColumn]) -> Agg | None:
    """percentile_cont / percentile_disc(constant fraction) WITHIN GROUP (ORDER BY a field ASC)."""
    fn = e.this
    if not isinstance(fn, exp.PercentileCont | exp.PercentileDisc) or not isinstance(e.expression, exp.Order):
        return None
    keys = e.expression.expressions
    frac = fn.this
    if len(keys) != 1 or keys[0].args.get("desc") or not isinstance(keys[0].this, exp.Column):
        return None
    if not (isinstance(frac, exp.Literal) and not frac.is_string):
        return None
    fraction = float(frac.name)
    col = _numeric_field(keys[0].this, cols)
    if not 0.0 <= fraction <= 1.0 or col is None:
        return None
    func = "pct_cont" if isinstance(fn, exp.PercentileCont) else "pct_disc"
    return Agg(func, col.name, name, col, fraction=fraction)


def _selector(
    e: exp.ArgMin | exp.ArgMax, name: str, cols: dict[str, SqlColumn], meta: TableMeta
) -> Agg | None:
    """ARG_MIN / ARG_MAX: of a field by the time (first / last), or an InfluxQL selector (_SELECTORS)."""
    value, key = e.this, e.expression
    if not isinstance(value, exp.Column):
        return None
    time = meta.time_column
    if isinstance(key, exp.Column) and key.name == time and value.name != time:
        # the value at the smallest / largest time among rows with one
        col = _numeric_field(value, cols)
        if col is None:
            return None
        return Agg("first" if isinstance(e, exp.ArgMin) else "last", col.name, name, col)
    if not (isinstance(key, exp.Anonymous) and key.name.upper() == "ROW" and len(key.expressions) == 2):
        return None
    first, second = (_key_part(k, time) for k in key.expressions)
    if first is None or second is None:
        return None
    (k1, f1), (k2, f2) = first, second
    field_name = f1 or f2
    funcs = _SELECTORS.get((e.key, k1, k2))
    if funcs is None or field_name is None:
        return None
    col = _numeric_field(exp.column(field_name), cols)
    if col is None:
        return None
    if value.name == time:
        return Agg(funcs[1], col.name, name, col)
    if value.name != field_name:
        return None
    return Agg(funcs[0], col.name, name, col)


def _aux(
    fn: str, args: list[exp.Expression], name: str, cols: dict[str, SqlColumn], meta: TableMeta
) -> Agg | None:
    """ARG_MAX_NULL / ARG_MIN_NULL(column, a selector's key): the column's value, NULL or not, at the
    point the selector of that key picks (InfluxQL's other columns beside a selector)."""
    shown, key = args
    if not isinstance(shown, exp.Column) or not (key.name.upper() == "ROW" and len(key.expressions) == 2):
        return None
    first, second = (_key_part(k, meta.time_column) for k in key.expressions)
    if first is None or second is None:
        return None
    (k1, f1), (k2, f2) = first, second
    funcs = _SELECTORS.get(("argmax" if fn == "ARG_MAX_NULL" else "argmin", k1, k2))
    field_name = f1 or f2
    picked = _numeric_field(exp.column(field_name), cols) if field_name else None
    col = cols.get(shown.name)
    if funcs is None or picked is None or col is None or col.kind not in ("field", "tag"):
        return None
    return Agg("aux", picked.name, name, col, value=col.name, selects=funcs[1])


# aggregates a FILTER (WHERE ...) may narrow: what masking the other pieces out computes exactly
_FILTERABLE = frozenset({"count", "sum", "avg", "min", "max", "first", "last", "rows", *SPREAD_FUNCS})


def _filtered(agg: Agg, cond: exp.Expression, cols: dict[str, SqlColumn], meta: TableMeta) -> Agg | None:
    """``agg FILTER (WHERE cond)`` where cond is field comparisons with numbers, tag tests and time
    bounds that storage applies exactly (as a WHERE's): the rows it counts are another scan's, whose
    pieces the executor aggregates alone (sql/executor.py _filter_scan)."""
    if agg.func not in _FILTERABLE or agg.filter is not None:
        return None
    conds, rest = _field_conditions(cond, "", cols)
    where = exp.and_(*rest) if rest else None
    tags = {c.name for c in cols.values() if c.kind == "tag"}
    if where is not None:
        pd = table_pushdown(exp.Where(this=where), "", meta.time_column, tags, lambda e: 0, STRUCTURE)
        if not pd.exact:
            return None
    agg.filter = (tuple(conds), where, cond.sql("postgres"))
    return agg


def _agg(e: exp.Expression, name: str, cols: dict[str, SqlColumn], meta: TableMeta) -> Agg | None:
    if isinstance(e, exp.Filter):
        if not isinstance(e.expression, exp.Where):
            return None
        inner = _agg(e.this, name, cols, meta)
        if inner is None:
            return None
        cond = e.expression.this
        if inner.field and _not_null_field(cond, "", cols) == inner.field:
            # FILTER (WHERE field IS NOT NULL) of an aggregate of that field: only rows with it count
            if inner.func in ("first_null", "last_null"):
                return None
            inner.needs_value = True
            return inner
        return _filtered(inner, cond, cols, meta)
    if isinstance(e, (exp.ArgMin, exp.ArgMax)):
        return _selector(e, name, cols, meta)
    if isinstance(e, exp.WithinGroup):
        return _percentile(e, name, cols)
    time = cols.get(meta.time_column)
    if isinstance(e, exp.Count) and isinstance(e.this, exp.Distinct) and len(e.this.expressions) == 1:
        arg = e.this.expressions[0]
        tag = cols.get(arg.name) if isinstance(arg, exp.Column) else None
        if tag is not None and tag.kind == "tag":
            # COUNT(DISTINCT tag): of the series that hold rows (their tag values, from the index)
            return Agg("count_tags", "", name, tag, value=tag.name)
        # COUNT(DISTINCT field): of the values themselves, as percentiles
        col = _numeric_field(arg, cols)
        return None if col is None else Agg("count_distinct", col.name, name, col)
    if isinstance(e, exp.Count) and not e.args.get("distinct") and time is not None:
        arg = e.this
        if (
            isinstance(arg, exp.Star)
            or (isinstance(arg, exp.Literal) and not arg.is_string)
            or (isinstance(arg, exp.Column) and arg.name == meta.time_column)
        ):
            return Agg("rows", "", name, time)  # count(*): the rows (the time is never NULL)
    if (
        isinstance(e, (exp.Max, exp.Min))
        and not e.expressions
        and isinstance(e.this, exp.Column)
        and e.this.name == meta.time_column
        and time is not None
    ):
        return Agg("time_max" if isinstance(e, exp.Max) else "time_min", "", name, time)
    if isinstance(e, exp.Cast) and e.to.this is exp.DType.BIGINT:
        # CAST(SUM(integer field) AS BIGINT) (InfluxQL's integer sums): the native sum is int64 already
        # (the executor checks that it cannot overflow)
        inner = _agg(e.this, name, cols, meta)
        if inner is None or inner.func != "sum" or inner.column.type.name not in _INT:
            return None
        return inner
    if isinstance(e, exp.Anonymous):
        fn = e.name.upper()
        args = e.expressions
        if fn in ("ARG_MAX_NULL", "ARG_MIN_NULL") and len(args) == 2 and isinstance(args[1], exp.Anonymous):
            return _aux(fn, args, name, cols, meta)
    elif isinstance(e, exp.AggFunc):
        fn = e.key.upper()
        args = [e.this] + ([e.args["expression"]] if e.args.get("expression") is not None else [])
    else:
        return None
    func = _AGGS.get(fn)
    if (
        func in SPREAD_FUNCS
        and args
        and isinstance(args[0], exp.Cast)
        and args[0].to.this is exp.DType.DOUBLE
    ):
        args = [args[0].this]  # (InfluxQL's STDDEV_SAMP(CAST(f AS DOUBLE PRECISION)): computed in doubles)
    if func is None or not args or not isinstance(args[0], exp.Column) or isinstance(args[0], exp.Star):
        return None
    if isinstance(e, exp.Count) and (e.args.get("distinct") or isinstance(e.this, exp.Star)):
        return None
    col = _numeric_field(args[0], cols)
    if col is None:
        return None
    if func in ("first_null", "last_null"):
        if len(args) != 2 or not (isinstance(args[1], exp.Column) and args[1].name == meta.time_column):
            return None
    elif len(args) != 1:
        return None
    return Agg(func, col.name, name, col)


def _numeric_field(e: exp.Expression, cols: dict[str, SqlColumn]) -> SqlColumn | None:
    """The integer or float field ``e`` names (the native aggregates' inputs); None otherwise."""
    col = cols.get(e.name) if isinstance(e, exp.Column) else None
    if col is None or col.kind != "field" or col.type.name not in _FLOAT | _INT:
        return None
    return col
