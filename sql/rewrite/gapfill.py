"""TimescaleDB's time_bucket_gapfill with locf() and interpolate(), as window-function SQL.

    SELECT time_bucket_gapfill('1 day', time) AS day, device, locf(avg(v)) AS v
    FROM m WHERE time >= '2022-01-01' AND time < '2022-01-05' GROUP BY day, device ORDER BY day
    ->
    WITH __gf_data AS (
      SELECT TIME_BUCKET(CAST('1 day' AS INTERVAL), time) AS __gf_time, device AS __gf_g1,
             AVG(v) AS __gf_a1
      FROM m WHERE time >= '2022-01-01' AND time < '2022-01-05'
      GROUP BY TIME_BUCKET(CAST('1 day' AS INTERVAL), time), device),
    __gf_series AS (
      SELECT r.__gf_time, g.__gf_g1
      FROM RANGE(TIME_BUCKET(..., CAST('2022-01-01' AS TIMESTAMPTZ)), CAST('2022-01-05' AS TIMESTAMPTZ),
                 CAST('1 day' AS INTERVAL)) AS r(__gf_time)
      CROSS JOIN (SELECT DISTINCT __gf_g1 FROM __gf_data) AS g),
    __gf_filled AS (
      SELECT COALESCE(d.__gf_time, CAST_TO_TYPE(s.__gf_time, d.__gf_time)) AS __gf_time,
             COALESCE(d.__gf_g1, s.__gf_g1) AS __gf_g1, d.__gf_a1, d.__gf_time IS NOT NULL AS __gf_real
      FROM __gf_series AS s FULL OUTER JOIN __gf_data AS d
        ON s.__gf_time = d.__gf_time AND s.__gf_g1 IS NOT DISTINCT FROM d.__gf_g1),
    __gf_win AS (
      SELECT *, LAST_VALUE(CASE WHEN __gf_real THEN {'v': __gf_a1} END IGNORE NULLS)
                OVER (PARTITION BY __gf_g1 ORDER BY __gf_time ROWS BETWEEN UNBOUNDED PRECEDING
                      AND CURRENT ROW) AS __gf_w1
      FROM __gf_filled)
    SELECT __gf_time AS day, __gf_g1 AS device, STRUCT_EXTRACT(__gf_w1, 'v') AS v
    FROM __gf_win ORDER BY day

Semantics, as TimescaleDB's gapfill node (tsl/src/nodes/gapfill) has them:

- Buckets run from time_bucket(width, start) while < finish; start/finish come from the call
  (NULL = absent) or are inferred from the WHERE clause (and inner-join conditions): conjuncts
  comparing the ts column with a column-free expression; ``>`` adds one unit (1 microsecond, or 1
  for integer time), ``<=`` too; several bounds combine with GREATEST / LEAST. No bound: an error.
- Groups are the other GROUP BY expressions; only groups present in the aggregated data get gap
  rows (no data and groups: no rows; no data and no groups: all-gap rows). Rows outside
  [start, finish) pass through unchanged.
- Gap rows carry the bucket, the group values and, in every other column, the expression with its
  aggregates replaced by NULL (``coalesce(count(*), 0)`` is 0 in a gap).
- locf(v [, prev [, treat_null_as_missing]]): the value of the latest real row of the group (a NULL
  one included, unless treat_null_as_missing), or prev when there is none.
- interpolate(v [, prev [, next]]): linear between the adjacent real rows of the group (NULL if
  either is NULL); prev / next are (time, value) records used when there is no real row before /
  after. x is microseconds for timestamps, the value for integer time.
- locf/interpolate outside such a query, nested or multiple time_bucket_gapfill calls: errors.
- Without ORDER BY the result is ordered by the group columns, then time (the gapfill node's order).
- Without GROUP BY, time_bucket_gapfill is plain time_bucket (no filling), as in TimescaleDB.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp

from sql import errors as E
from sql.rewrite.pushdown import conjuncts
from sql.rewrite.time_bucket import call_args, call_name, integer_width, interval, third_argument_kind

HINT = "Specify start and finish as arguments or in the WHERE clause."
# Aggregates sqlglot parses as anonymous calls (TimescaleDB / toolkit / DuckDB names).
ANONYMOUS_AGGREGATES = {
    "first",
    "last",
    "histogram",
    "delta",
    "rate",
    "percentile_agg",
    "approx_percentile",
    "arg_min",
    "arg_max",
    "arg_min_null",
    "arg_max_null",
    "bool_and",
    "bool_or",
    "every",
    "string_agg",
    "array_agg",
    "json_agg",
    "jsonb_agg",
    "bit_and",
    "bit_or",
    "mode",
}


def _col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table)


def _fn(name: str, *args: exp.Expression) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


def _duck(sql: str, **subst: exp.Expression) -> exp.Expression:
    """Parse a DuckDB fragment and put expressions in place of its ``__p_<name>`` columns."""
    tree = sqlglot.parse_one(sql, read="duckdb")

    def put(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table and node.name.startswith("__p_"):
            return subst[node.name[4:]].copy()
        return node

    return tree.transform(put, copy=False)


def _is_gapfill(e: exp.Expression) -> bool:
    return call_name(e) == "time_bucket_gapfill"


def _unalias(e: exp.Expression) -> exp.Expression:
    return e.this if isinstance(e, exp.Alias) else e


def _is_aggregate(e: exp.Expression) -> bool:
    return isinstance(e, exp.AggFunc | exp.WithinGroup | exp.Filter) or call_name(e) in ANONYMOUS_AGGREGATES


def _column_free(e: exp.Expression) -> bool:
    return not any(isinstance(n, exp.Column | exp.Subquery | exp.Select | exp.Star) for n in e.walk())


@dataclass
class _Call:
    width: exp.Expression
    ts: exp.Expression
    start: exp.Expression | None
    finish: exp.Expression | None
    timezone: exp.Expression | None
    origin: exp.Expression | None
    integer: bool

    def bucket(self, ts: exp.Expression) -> exp.Anonymous:
        """time_bucket(width, ts, ...) for the time_bucket rule to lower."""
        args: list[exp.Expression] = [self.width.copy(), ts]
        if self.timezone is not None:
            args.append(exp.Kwarg(this=exp.var("timezone"), expression=self.timezone.copy()))
        if self.origin is not None:
            args.append(exp.Kwarg(this=exp.var("origin"), expression=self.origin.copy()))
        return _fn("time_bucket", *args)


def _absent(e: exp.Expression | None) -> bool:
    return e is None or isinstance(e, exp.Null)


def _parse_call(call: exp.Anonymous) -> _Call:
    pos, named = call_args(call)
    if len(pos) < 2:
        raise E.UndefinedFunction("function time_bucket_gapfill needs bucket_width and ts")
    width, ts, rest = pos[0], pos[1], list(pos[2:])
    if isinstance(width, exp.Null):
        raise E.InvalidParameterValue("invalid time_bucket_gapfill argument: bucket_width cannot be NULL")
    tz = named.get("timezone")
    if rest and tz is None and third_argument_kind(rest[0]) == "timezone":
        tz = rest.pop(0)
    start = named.get("start", rest.pop(0) if rest else None)
    finish = named.get("finish", rest.pop(0) if rest else None)
    origin = named.get("origin", rest.pop(0) if rest else None)
    n = integer_width(width)
    if n is not None and n <= 0:
        raise E.InvalidParameterValue(
            "invalid time_bucket_gapfill argument: bucket_width must be greater than 0"
        )
    return _Call(
        width,
        ts,
        None if _absent(start) else start,
        None if _absent(finish) else finish,
        None if _absent(tz) else tz,
        None if _absent(origin) else origin,
        n is not None,
    )


def _same_column(a: exp.Column, b: exp.Column) -> bool:
    return a.name == b.name and (not a.table or not b.table or a.table == b.table)


def _infer_bounds(sel: exp.Select, call: _Call) -> tuple[exp.Expression, exp.Expression]:
    """(start, finish) from the call or the WHERE / inner-join conditions on the ts column."""
    start, finish = call.start, call.finish
    if start is not None and finish is not None:
        return start, finish
    ts = call.ts
    if not isinstance(ts, exp.Column):
        raise E.InvalidParameterValue(
            "invalid time_bucket_gapfill argument: ts needs to refer to a single column if no start "
            "or finish is supplied",
            hint=HINT,
        )
    quals = conjuncts(sel.args.get("where"))
    for j in sel.args.get("joins") or []:
        if not j.side and j.args.get("on") is not None:
            quals.extend(conjuncts(j.args["on"]))
    one = exp.Literal.number(1) if call.integer else exp.Interval(this=exp.Literal.string("1 microsecond"))
    lows: list[exp.Expression] = []
    highs: list[exp.Expression] = []

    def bound(op: type, value: exp.Expression) -> None:
        if not _column_free(value):
            return
        v = value.copy()
        if op in (exp.GT, exp.LTE):
            v = exp.Add(this=v, expression=one.copy())
        (lows if op in (exp.GT, exp.GTE) else highs).append(v)

    flipped: dict[type, type] = {exp.GT: exp.LT, exp.GTE: exp.LTE, exp.LT: exp.GT, exp.LTE: exp.GTE}
    for q in quals:
        if isinstance(q, exp.Between) and isinstance(q.this, exp.Column) and _same_column(q.this, ts):
            bound(exp.GTE, q.args["low"])
            bound(exp.LTE, q.args["high"])
            continue
        op: type = type(q)
        if op not in flipped:
            continue
        left, right = q.this, q.expression
        if isinstance(left, exp.Column) and _same_column(left, ts):
            bound(op, right)
        elif isinstance(right, exp.Column) and _same_column(right, ts):
            bound(flipped[op], left)
    if start is None:
        if not lows:
            raise E.InvalidParameterValue(
                "missing time_bucket_gapfill argument: could not infer start from WHERE clause", hint=HINT
            )
        start = lows[0] if len(lows) == 1 else exp.Greatest(this=lows[0], expressions=lows[1:])
    if finish is None:
        if not highs:
            raise E.InvalidParameterValue(
                "missing time_bucket_gapfill argument: could not infer finish from WHERE clause",
                hint=HINT,
            )
        finish = highs[0] if len(highs) == 1 else exp.Least(this=highs[0], expressions=highs[1:])
    return start, finish


@dataclass
class _Lifter:
    """Rewrites select-list expressions of the grouped query for the outer (filled) query."""

    call: _Call
    groups: list[tuple[str, exp.Expression]]
    outer_names: set[str]
    data: list[tuple[str, exp.Expression]] = field(default_factory=list)
    windows: list[tuple[str, exp.Expression]] = field(default_factory=list)

    def data_column(self, e: exp.Expression) -> exp.Column:
        key = e.sql("postgres")
        for name, d in self.data:
            if d.sql("postgres") == key:
                return _col(name)
        name = f"__gf_a{len(self.data) + 1}"
        self.data.append((name, e.copy()))
        return _col(name)

    def window(self, e: exp.Expression) -> exp.Column:
        """A column computed over the filled rows (a window function, or a locf/interpolate lookup)."""
        name = f"__gf_w{len(self.windows) + 1}"
        self.windows.append((name, e))
        return _col(name)

    def spec(self, frame: str = "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW") -> str:
        part = ", ".join(n for n, _ in self.groups)
        return f"({'PARTITION BY ' + part + ' ' if part else ''}ORDER BY __gf_time {frame})"

    def x(self, t: exp.Expression) -> exp.Expression:
        """The number interpolation measures time in: microseconds, or the integer itself."""
        return t if self.call.integer else _fn("EPOCH_US", t)

    def lift(self, e: exp.Expression) -> exp.Expression:
        return e.copy().transform(self._node)

    def _node(self, e: exp.Expression) -> exp.Expression:
        if _is_gapfill(e):
            return _col("__gf_time")
        for name, g in self.groups:
            if e == g:
                return _col(name)
        name = call_name(e)
        if name == "locf":
            return self._locf(e)
        if name == "interpolate":
            return self._interpolate(e)
        if isinstance(e, exp.Window):
            return self._window_function(e)
        if _is_aggregate(e):
            return self.data_column(e)
        if isinstance(e, exp.Column):
            for gname, g in self.groups:
                if isinstance(g, exp.Column) and _same_column(e, g):
                    return _col(gname)
            return e
        if isinstance(e, exp.Subquery | exp.Select):
            return self._correlate(e)
        return e

    def _window_function(self, w: exp.Window) -> exp.Expression:
        """A window over the filled rows: keep the function, lift its arguments and the spec."""
        out = w.copy()
        func = out.this
        inner = func.this if isinstance(func, exp.Filter | exp.IgnoreNulls | exp.RespectNulls) else func
        for key, value in list(inner.args.items()):
            if isinstance(value, exp.Expression):
                inner.set(key, self.lift(value))
            elif isinstance(value, list):
                inner.set(key, [self.lift(v) if isinstance(v, exp.Expression) else v for v in value])
        out.set("partition_by", [self.lift(p) for p in out.args.get("partition_by") or []])
        order = out.args.get("order")
        if order is not None:
            for o in order.expressions:
                o.set("this", self.lift(o.this))
        elif out.args.get("spec") is not None:
            # a ROWS frame without ORDER BY counts rows in arrival order, which from TimescaleDB's
            # gapfill node is time order within each group
            out.set("order", exp.Order(expressions=[exp.Ordered(this=_col("__gf_time"))]))
        return out

    def _correlate(self, sub: exp.Expression) -> exp.Expression:
        """Outer references of a locf/interpolate lookup subquery -> the filled group columns."""
        inner = {t.alias_or_name for t in sub.find_all(exp.Table)}

        def fix(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Column) and node.table in self.outer_names and node.table not in inner:
                for gname, g in self.groups:
                    if isinstance(g, exp.Column) and g.name == node.name:
                        return _col(gname)
            return node

        return sub.copy().transform(fix)

    def _args(self, e: exp.Expression, names: tuple[str, ...]) -> list[exp.Expression | None]:
        pos, named = call_args(e)
        out: list[exp.Expression | None] = []
        for i, n in enumerate(names):
            v = named.get(n, pos[i] if i < len(pos) else None)
            out.append(None if v is None else v)
        return out

    def _locf(self, e: exp.Expression) -> exp.Expression:
        value, prev, missing = self._args(e, ("value", "prev", "treat_null_as_missing"))
        if value is None:
            raise E.UndefinedFunction("function locf() needs a value")
        if missing is not None and not isinstance(missing, exp.Boolean | exp.Null):
            raise E.FeatureNotSupported("invalid locf argument: treat_null_as_missing must be a BOOL literal")
        v = self.data_column(value)
        lookup = None if prev is None or isinstance(prev, exp.Null) else self.window(self.lift(prev))
        if isinstance(missing, exp.Boolean) and missing.this:
            w = self.window(_duck(f"LAST_VALUE(__p_v IGNORE NULLS) OVER {self.spec()}", v=v))
            return w if lookup is None else exp.Coalesce(this=w, expressions=[lookup])
        w = self.window(
            _duck(
                f"LAST_VALUE(CASE WHEN __gf_real THEN {{'v': __p_v}} END IGNORE NULLS) OVER {self.spec()}",
                v=v,
            )
        )
        if lookup is None:
            return _fn("STRUCT_EXTRACT", w, exp.Literal.string("v"))
        return _duck(
            "CASE WHEN __p_w IS NULL THEN __p_prev ELSE STRUCT_EXTRACT(__p_w, 'v') END", w=w, prev=lookup
        )

    def _interpolate(self, e: exp.Expression) -> exp.Expression:
        value, prev, nxt = self._args(e, ("value", "prev", "next"))
        if value is None:
            raise E.UndefinedFunction("function interpolate() needs a value")
        v = self.data_column(value)
        point = "CASE WHEN __gf_real THEN {'x': __p_x, 'y': __p_v} END"
        x = self.x(_col("__gf_time"))
        before = self.window(
            _duck(
                f"LAST_VALUE({point} IGNORE NULLS) OVER "
                + self.spec("ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING"),
                x=x,
                v=v,
            )
        )
        after = self.window(
            _duck(
                f"FIRST_VALUE({point} IGNORE NULLS) OVER "
                + self.spec("ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING"),
                x=x,
                v=v,
            )
        )

        def end(w: exp.Column, lookup: exp.Column | None, field_: str, index: int) -> exp.Expression:
            own = _fn("STRUCT_EXTRACT", w.copy(), exp.Literal.string(field_))
            if lookup is None:
                return own
            theirs: exp.Expression = _fn("STRUCT_EXTRACT", lookup.copy(), exp.Literal.number(index))
            if field_ == "x":
                theirs = self.x(theirs)
            return _duck(
                "CASE WHEN __p_w IS NULL THEN __p_theirs ELSE __p_own END", w=w, theirs=theirs, own=own
            )

        # a lookup is computed once, as a column beside the windows, and read twice (x and y)
        before_lookup = None if prev is None or isinstance(prev, exp.Null) else self.window(self.lift(prev))
        after_lookup = None if nxt is None or isinstance(nxt, exp.Null) else self.window(self.lift(nxt))
        return _duck(
            "CASE WHEN __gf_real THEN __p_v ELSE TSGRES_INTERPOLATE(__p_x, __p_x0, __p_y0, __p_x1, __p_y1) END",
            v=v,
            x=x,
            x0=end(before, before_lookup, "x", 1),
            y0=end(before, before_lookup, "y", 2),
            x1=end(after, after_lookup, "x", 1),
            y1=end(after, after_lookup, "y", 2),
        )


def resolve_group(sel: exp.Select) -> list[exp.Expression]:
    """GROUP BY items as expressions: positions and output names replaced by what they name."""
    group = sel.args.get("group")
    if group is None:
        return []
    if any(group.args.get(k) for k in ("grouping_sets", "cube", "rollup")):
        raise E.FeatureNotSupported("time_bucket_gapfill does not support GROUPING SETS, CUBE or ROLLUP")
    items = sel.expressions
    aliases = {e.alias: e.this for e in items if isinstance(e, exp.Alias)}
    out: list[exp.Expression] = []
    for g in group.expressions:
        if isinstance(g, exp.Literal) and not g.is_string and g.name.isdigit():
            n = int(g.name)
            if not 1 <= n <= len(items):
                raise E.InvalidParameterValue(f"GROUP BY position {n} is not in select list")
            out.append(_unalias(items[n - 1]).copy())
        elif isinstance(g, exp.Column) and not g.table and g.name in aliases:
            out.append(aliases[g.name].copy())
        else:
            out.append(g.copy())
    return out


def _output_name(e: exp.Expression) -> exp.Identifier:
    if isinstance(e, exp.Alias):
        return e.args["alias"].copy()
    return exp.to_identifier(e.name if isinstance(e, exp.Column) else "?column?", quoted=True)


def _rewrite_select(sel: exp.Select, ctx: object) -> exp.Expression:
    calls = [c for c in sel.find_all(exp.Anonymous) if _is_gapfill(c) and c.find_ancestor(exp.Select) is sel]
    if len(calls) > 1:
        raise E.FeatureNotSupported("multiple time_bucket_gapfill calls not allowed")
    call_node = calls[0]
    call = _parse_call(call_node)
    groups_resolved = resolve_group(sel)
    if not groups_resolved:
        call_node.replace(call.bucket(call.ts.copy()))
        return sel
    if not any(_is_gapfill(g) for g in groups_resolved) or not any(
        _is_gapfill(_unalias(e)) for e in sel.expressions
    ):
        raise E.FeatureNotSupported("no top level time_bucket_gapfill in group by clause")
    if any(isinstance(e, exp.Star) for e in sel.expressions):
        raise E.FeatureNotSupported("SELECT * is not supported with time_bucket_gapfill")
    start, finish = _infer_bounds(sel, call)

    groups: list[tuple[str, exp.Expression]] = []
    for g in groups_resolved:
        if _is_gapfill(g) or any(g == x for _, x in groups):
            continue
        groups.append((f"__gf_g{len(groups) + 1}", g))
    outer_names = {t.alias_or_name for t in sel.find_all(exp.Table) if t.find_ancestor(exp.Select) is sel}
    lifter = _Lifter(call, groups, outer_names)

    final_items = [exp.alias_(lifter.lift(_unalias(e)), _output_name(e)) for e in sel.expressions]
    output_names = {_output_name(e).name for e in sel.expressions}
    order = sel.args.get("order")
    if order is not None:
        order = order.copy()
        for o in order.expressions:
            t = o.this
            positional = isinstance(t, exp.Literal) and not t.is_string
            by_name = isinstance(t, exp.Column) and not t.table and t.name in output_names
            if not positional and not by_name:
                o.set("this", lifter.lift(t))
    else:
        order = exp.Order(
            expressions=[exp.Ordered(this=_col(n)) for n, _ in groups] + [exp.Ordered(this=_col("__gf_time"))]
        )

    bucket = call.bucket(call.ts.copy())
    data = sel.copy()
    for key in ("order", "limit", "offset", "with_", "distinct"):
        data.set(key, None)
    data.set(
        "expressions",
        [exp.alias_(bucket.copy(), "__gf_time")]
        + [exp.alias_(g.copy(), n) for n, g in groups]
        + [exp.alias_(d.copy(), n) for n, d in lifter.data],
    )
    data.set("group", exp.Group(expressions=[bucket.copy()] + [g.copy() for _, g in groups]))
    having = data.args.get("having")
    if having is not None:
        having.set("this", having.this.transform(lambda n: bucket.copy() if _is_gapfill(n) else n))

    gnames = [n for n, _ in groups]
    series = _series(call, start, finish, gnames)
    on = ["s.__gf_time = d.__gf_time"] + [f"s.{n} IS NOT DISTINCT FROM d.{n}" for n in gnames]
    filled_cols = (
        ["COALESCE(d.__gf_time, CAST_TO_TYPE(s.__gf_time, d.__gf_time)) AS __gf_time"]
        + [f"COALESCE(d.{n}, s.{n}) AS {n}" for n in gnames]
        + [f"d.{n}" for n, _ in lifter.data]
        + ["d.__gf_time IS NOT NULL AS __gf_real"]
    )
    filled = _duck(
        f"SELECT {', '.join(filled_cols)} FROM __gf_series AS s FULL OUTER JOIN __gf_data AS d "
        f"ON {' AND '.join(on)}"
    )
    # MATERIALIZED: read once (the series takes the groups from it too; scans are one-shot streams)
    ctes = [exp.CTE(this=data, alias=exp.TableAlias(this=exp.to_identifier("__gf_data")), materialized=True)]
    ctes.append(exp.CTE(this=series, alias=exp.TableAlias(this=exp.to_identifier("__gf_series"))))
    ctes.append(exp.CTE(this=filled, alias=exp.TableAlias(this=exp.to_identifier("__gf_filled"))))
    source = "__gf_filled"
    if lifter.windows:
        win = exp.select(exp.Star(), *[exp.alias_(w, n) for n, w in lifter.windows]).from_("__gf_filled")
        ctes.append(exp.CTE(this=win, alias=exp.TableAlias(this=exp.to_identifier("__gf_win"))))
        source = "__gf_win"
    original_with = sel.args.get("with_")
    if original_with is not None:
        ctes = [c.copy() for c in original_with.expressions] + ctes

    out = exp.Select(expressions=final_items).from_(source)
    out.set(
        "with_",
        exp.With(expressions=ctes, recursive=original_with.args.get("recursive") if original_with else None),
    )
    out.set("order", order)
    for key in ("limit", "offset", "distinct"):
        if sel.args.get(key) is not None:
            out.set(key, sel.args[key].copy())
    if hasattr(ctx, "notes"):
        ctx.notes.append(f"gapfill: {len(groups)} group column(s), {len(lifter.windows)} window(s)")
    return out


def _series(call: _Call, start: exp.Expression, finish: exp.Expression, gnames: list[str]) -> exp.Expression:
    """Every bucket start in [time_bucket(width, start), finish), crossed with the data's groups."""
    times = "r.__gf_time"
    first: exp.Expression
    stop: exp.Expression
    step: exp.Expression
    if call.integer:  # BIGINT bounds: the series holds any integer time; COALESCE casts it back
        first = exp.Cast(this=call.bucket(start.copy()), to=exp.DataType.build("BIGINT"))
        step = exp.Cast(this=call.width.copy(), to=exp.DataType.build("BIGINT"))
        stop = exp.Cast(this=finish.copy(), to=exp.DataType.build("BIGINT"))
    else:
        tz = call.timezone
        start_tz = exp.Cast(this=start.copy(), to=exp.DataType.build("TIMESTAMPTZ"))
        stop = exp.Cast(this=finish.copy(), to=exp.DataType.build("TIMESTAMPTZ"))
        first = call.bucket(start_tz)
        step = interval(call.width.copy())
        if tz is not None:  # step in local time, as the buckets are local midnights / hours
            first = _fn("TIMEZONE", tz.copy(), first)
            stop = _fn("TIMEZONE", tz.copy(), stop)
            times = "TIMEZONE(__p_tz, r.__gf_time) AS __gf_time"
    groups = ""
    if gnames:
        groups = f" CROSS JOIN (SELECT DISTINCT {', '.join(gnames)} FROM __gf_data) AS g"
    cols = ", ".join([times] + [f"g.{n}" for n in gnames])
    subst: dict[str, exp.Expression] = {"first": first, "stop": stop, "step": step}
    if call.timezone is not None and not call.integer:
        subst["tz"] = call.timezone
    return _duck(f"SELECT {cols} FROM RANGE(__p_first, __p_stop, __p_step) AS r(__gf_time){groups}", **subst)


def _check_markers(tree: exp.Expression) -> None:
    for node in tree.find_all(exp.Anonymous):
        name = call_name(node)
        if name in ("locf", "interpolate"):
            raise E.FeatureNotSupported(
                f"{name} can only be used in an aggregation query with time_bucket_gapfill"
            )


def gapfill(tree: exp.Expression, ctx: object) -> exp.Expression:
    selects = [
        s
        for s in tree.find_all(exp.Select)
        if any(_is_gapfill(c) and c.find_ancestor(exp.Select) is s for c in s.find_all(exp.Anonymous))
    ]
    # innermost (smallest) first, so an outer query copies its subqueries already rewritten
    for sel in sorted(selects, key=lambda s: len(list(s.walk()))):
        new = _rewrite_select(sel, ctx)
        if new is not sel:
            if sel is tree:
                tree = new
            else:
                sel.replace(new)
    _check_markers(tree)
    return tree
