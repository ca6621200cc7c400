"""SELECT with calls: aggregates, selectors, functions and transformations, per series and window.

- aggregates: ``SELECT time_bucket(<interval>, time), <group tags>, max(f), avg(f), ... GROUP BY``
  (native block-statistics path); count() and stddev() also read the count, integer mean() is
  SUM / COUNT; max/min/first/last that report their point (no interval, or other columns selected)
  take ``arg_max`` / ``arg_min`` with InfluxDB's tie rules;
- functions SQL has no shape for (percentile, top, bottom, sample, distinct, mode, integral) read the
  field's points ordered by time and reduce them per window in numpy (sql/influxql/functions.py).

Each call yields a :class:`Stream` per series; assembling a series fills the window grid (fill()),
applies transformations (derivative, difference, moving_average, ...), joins the calls on time and
evaluates the fields' arithmetic and math. When every call has one value per window and the fill is
null, none or a number, all series are assembled at once on a flattened (series x window) grid."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from sql.influxql import ast as A
from sql.influxql.columns import arrow_col, cast_col, evaluate, every_valid, nan_to_null, time_ns
from sql.influxql.compile import MATH_FUNCTIONS, TRANSFORMS, Compiled, QueryError
from sql.influxql.functions import (
    _DTYPES,
    FLOAT,
    INTEGER,
    NUMERIC,
    STRING,
    Col,
    Points,
    distinct_points,
    fill_at,
    fill_series,
    integral_points,
    mode_points,
    positions,
    select_points,
    top_bottom_by_tags,
    transform,
)
from sql.influxql.plan import (
    Plan,
    full_key,
    limit_slice,
    series_groups,
    series_tags,
    split_block,
    split_series,
    sql_params,
    where_sql,
)
from sql.influxql.series import Series
from sql.influxql.source import Context, Source
from sql.influxql.technical import TECHNICAL, default_hold, default_warmup
from sql.influxql.translate import bucket_expr, ident
from sql.influxql.values import MAX_TIME, MIN_TIME

SQL_AGGS = {"count", "sum", "mean", "min", "max", "first", "last", "spread", "stddev", "median"}
POINT_FUNCS = {"percentile", "top", "bottom", "sample", "distinct", "mode", "integral"}
SELECTOR_FUNCS = {"max", "min", "first", "last"}


@dataclass
class Stream:
    """One call's output for one series: times, values, and for selectors the chosen points' columns."""

    times: np.ndarray
    values: Col
    aux: dict[str, Col] | None = None
    extra: dict[str, Col] | None = None  # top/bottom tag columns


def _top_calls(plan: Plan) -> list[A.Call]:
    calls: list[A.Call] = []

    def visit(e: A.Expr) -> None:
        if isinstance(e, A.ParenExpr):
            visit(e.expr)
        elif isinstance(e, A.BinaryExpr):
            visit(e.lhs)
            visit(e.rhs)
        elif isinstance(e, A.Call):
            if e.name in MATH_FUNCTIONS:
                for a in e.args:
                    visit(a)
            else:
                calls.append(e)

    for f in plan.fields:
        visit(f.expr)
    return calls


def _call_field(call: A.Call) -> A.VarRef:
    a = call.args[0]
    while isinstance(a, A.Call):
        if a.name == "distinct" or not a.args:
            break
        a = a.args[0]
    if isinstance(a, A.Call) and a.name == "distinct":
        a = a.args[0]
    if isinstance(a, A.Distinct):
        return A.VarRef(a.name)
    assert isinstance(a, A.VarRef), a
    return a


def _aux_refs(plan: Plan) -> list[A.VarRef]:
    refs: list[A.VarRef] = []
    for f in plan.fields:
        if isinstance(f.expr, A.VarRef):
            refs.append(f.expr)
    return refs


def run_calls(ctx: Context, plan: Plan, src: Source) -> list[Series]:
    kept = plan.memo.get(("calls", *src.key))
    if kept is None:
        kept = plan.memo[("calls", *src.key)] = _classify(plan, src)
    calls, aux, single_selector, agg_calls, sql_calls, dims_here, windowed = kept
    results: dict[int, dict[tuple[str, ...], Stream]] = {}
    if sql_calls:
        done, exprs, table = _aggregates_table(ctx, plan, src, sql_calls, dims_here)
        if table is not None and not done and len(sql_calls) == len(agg_calls) and windowed:
            batched = _assemble_aggregates(plan, src, calls, exprs, table, dims_here)
            if batched is not None:
                return batched
        results.update(done if table is None else _aggregate_streams(plan, exprs, table, dims_here, done))
    for a in agg_calls:
        if id(a) in results:
            continue
        if a.name in TRANSFORMS:
            results[id(a)] = _raw_points_stream(ctx, plan, src, a, dims_here)
        elif a.name in SELECTOR_FUNCS:
            results[id(a)] = _sql_selector(ctx, plan, src, a, dims_here, aux)
        else:
            results[id(a)] = _points_call(ctx, plan, src, a, dims_here, aux)
    # per series: fill, transforms, join, evaluate
    keys: set[tuple[str, ...]] = set()
    for r in results.values():
        keys |= set(r)
    if windowed:
        batched = _assemble_windows(plan, src, sorted(keys), calls, results)
        if batched is not None:
            return batched
    out: list[Series] = []
    for key in sorted(keys):
        series = _assemble(plan, src, key, calls, agg_calls, results, aux, single_selector)
        if series is not None:
            out.append(series)
    return out


def _classify(plan: Plan, src: Source) -> tuple:
    """What run_calls reads from the plan: the top-level calls, the fields that are plain references,
    whether one selector stands alone, the aggregate inside each call's transformations, those that
    go to SQL together, the dimensions that are tags of ``src``, whether the calls give one value per
    window (_windowed_values)."""
    c = plan.c
    calls = _top_calls(plan)
    aux = _aux_refs(plan)
    single_selector = len(calls) == 1 and calls[0].name in SELECTOR_FUNCS | {
        "percentile",
        "sample",
        "top",
        "bottom",
    }
    agg_calls: list[A.Call] = []
    for call in calls:
        inner = call
        while inner.name in TRANSFORMS and inner.args and isinstance(inner.args[0], A.Call):
            inner = inner.args[0]
        agg_calls.append(inner)
    sql_calls = [
        a
        for a in agg_calls
        if a.name in SQL_AGGS
        and not (a.name in SELECTOR_FUNCS and single_selector and (not c.interval or aux))
        and a.name not in TRANSFORMS
    ]
    dims_here = [d for d in plan.dims if d in src.schema.tags]
    windowed = _windowed_values(plan, calls, agg_calls, aux)
    return calls, aux, single_selector, agg_calls, sql_calls, dims_here, windowed


_POINT_TIMES = {"top", "bottom", "distinct", "sample"}  # calls whose rows keep their points' times
MAX_BATCH_CELLS = 4_000_000  # series x windows of one batched assembly


def _windowed_values(plan: Plan, calls: list[A.Call], agg_calls: list[A.Call], aux: list[A.VarRef]) -> bool:
    """Whether every call gives one value per window, filled by null, none or a number: then all
    series are assembled at once (:func:`_assemble_windows`) instead of one by one."""
    return (
        plan.windows is not None
        and not aux
        and plan.c.stmt.fill in ("null", "none", "number")
        and all(
            call is agg and agg.name not in _POINT_TIMES | TRANSFORMS
            for call, agg in zip(calls, agg_calls, strict=True)
        )
    )


def _assemble_windows(
    plan: Plan,
    src: Source,
    keys: list[tuple[str, ...]],
    calls: list[A.Call],
    results: dict[int, dict[tuple[str, ...], Stream]],
) -> list[Series] | None:
    """:func:`_assemble` for every series at once, on a (series x window) grid flattened to one axis.

    A series' windows start at the range's start (without one: at its first window); each call's
    values are placed on the grid and filled as :func:`fill_series` fills one series; fill(none)
    keeps the windows where some call has a value. None when the grid would be too large."""
    c = plan.c
    stmt = c.stmt
    w = plan.windows
    assert w is not None
    if not keys:
        return []
    nser = len(keys)
    key_index = {k: i for i, k in enumerate(keys)}
    firsts = np.full(nser, np.iinfo(np.int64).max, np.int64)
    for r in results.values():
        for k, st in r.items():
            if len(st.times):
                i = key_index[k]
                firsts[i] = min(firsts[i], int(st.times[0]))  # streams are in window order
    lo = c.time_range.min
    start = lo if lo is not None else int(firsts.min())
    grid = w.grid(max(start, MIN_TIME + 1), c.tmax)  # ascending
    ngrid = len(grid)
    if not ngrid or nser * ngrid > MAX_BATCH_CELLS:
        return None
    first_pos = np.zeros(nser, np.int64) if lo is not None else np.searchsorted(grid, firsts)
    filled: dict[int, Col] = {}
    present_any = np.zeros(nser * ngrid, bool)
    # (grid cells, rows inside the grid) by the streams' times arrays: calls computed by one SQL
    # query share them (_sql_aggregates), and are placed once
    layouts: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray | None]] = {}  # rows None: all
    for call in calls:
        streams = results[id(call)]
        parts = [(key_index[k], st) for k, st in streams.items() if len(st.times)]
        kinds = {st.values.kind for _, st in parts}
        if len(kinds) > 1:
            return None
        if parts:
            sig = tuple(id(st.times) for _, st in parts)
            layout = layouts.get(sig)
            if layout is None:
                ser = np.concatenate([np.full(len(st.times), i, np.int64) for i, st in parts])
                pos = positions(grid, np.concatenate([st.times for _, st in parts]))
                inside = pos >= 0
                every = bool(inside.all())
                layout = layouts[sig] = (
                    ser * ngrid + pos if every else ser[inside] * ngrid + pos[inside],
                    None if every else np.flatnonzero(inside),
                )
            flat, rows = layout
            if len(parts) == 1:  # one series: its stream's column as it is
                vals = parts[0][1].values
            else:
                vals = Col(
                    np.concatenate([st.values.values for _, st in parts]),
                    np.concatenate([st.values.valid for _, st in parts]),
                    kinds.pop(),
                )
            if rows is not None:
                vals = vals.take(rows)
        else:
            flat = np.zeros(0, np.int64)
            vals = Col.nulls(0)
        present_any[flat] = True
        # flat indexes the flattened grid: the positions fill_series would search for
        filled[id(call)] = fill_at(nser * ngrid, flat, vals, stmt.fill, stmt.fill_value, call.name == "count")
    return _window_series(plan, src, keys, grid, first_pos, filled, present_any)


def _window_series(
    plan: Plan,
    src: Source,
    keys: list[tuple[str, ...]],
    grid: np.ndarray,
    first_pos: np.ndarray | None,
    filled: dict[int, Col],
    present_any: np.ndarray | None,
) -> list[Series]:
    """The series of a (series x window) grid whose calls' values are placed and filled: the fields
    evaluated on it, each series' windows from its first, fill(none)'s windows with a value, the
    order, LIMIT and OFFSET. ``first_pos`` None: every series from the grid's first window;
    ``present_any`` None: every cell has a value."""
    c = plan.c
    stmt = c.stmt
    nser = len(keys)
    ngrid = len(grid)
    n = nser * ngrid

    def lookup(e: A.Expr) -> Col:
        if isinstance(e, A.Call):
            col = filled.get(id(e))
            if col is None:
                raise QueryError(f"unsupported call {e}")
            return col
        if isinstance(e, A.VarRef):
            return Col.nulls(n)
        raise QueryError(f"unsupported expression {e}")

    colvals = []
    for f in plan.fields:  # (a field that is a call, the usual one: its column, as evaluate gives it)
        col = filled.get(id(f.expr))
        colvals.append(nan_to_null(evaluate(f.expr, n, lookup) if col is None else col))
    times = grid if nser == 1 else np.tile(grid, nser)
    if first_pos is None:
        if c.ascending and stmt.fill != "none" and not stmt.limit and not stmt.offset:
            return split_block(plan, src, keys, [ngrid] * nser, None, times, colvals)
        first_pos = np.zeros(nser, np.int64)
    if present_any is None:
        present_any = np.ones(n, bool)
    if stmt.fill != "none" and not stmt.limit and not stmt.offset:
        # every series' windows from its first: the row indexes of all of them at once
        lengths = ngrid - first_pos
        if c.ascending and not first_pos.any():
            return split_block(plan, src, keys, lengths.tolist(), None, times, colvals)
        some = lengths > 0
        if not some.all():
            keys = [k for k, x in zip(keys, some.tolist(), strict=True) if x]
            lengths, first_pos = lengths[some], first_pos[some]
            bases = np.flatnonzero(some) * ngrid
        else:
            bases = np.arange(nser, dtype=np.int64) * ngrid
        starts = np.cumsum(lengths) - lengths
        step = np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(starts, lengths)
        if c.ascending:
            at = np.repeat(bases + first_pos, lengths) + step
        else:
            at = np.repeat(bases + ngrid - 1, lengths) - step
        return split_block(plan, src, keys, lengths.tolist(), at, times, colvals)
    picked: list[tuple[tuple[str, ...], np.ndarray]] = []
    for i, key in enumerate(keys):
        rows = np.arange(int(first_pos[i]), ngrid, dtype=np.int64)
        if stmt.fill == "none":
            rows = rows[present_any[i * ngrid + rows]]
        if not c.ascending:
            rows = rows[::-1]
        rows = rows[limit_slice(len(rows), stmt)]
        if len(rows):
            picked.append((key, rows + i * ngrid))
    return split_series(plan, src, [k for k, _ in picked], [a for _, a in picked], times, colvals)


_NO_TIME = np.iinfo(np.int64).max


def _assemble_aggregates(
    plan: Plan,
    src: Source,
    calls: list[A.Call],
    exprs: list[tuple],
    table: pa.Table,
    dims_here: list[str],
) -> list[Series] | None:
    """:func:`_assemble_windows` of the streams :func:`_aggregate_streams` makes of ``table`` (every
    call one of its aggregates), placed on the grid from the result's columns at once instead of a
    stream per call and series. None when the grid would be too large."""
    c = plan.c
    stmt = c.stmt
    w = plan.windows
    assert w is not None
    nrows = table.num_rows
    if not nrows:
        return []
    # (every_row: the calls that count each row)
    wins, cols, keeps, means, every_row = _aggregate_columns(plan, exprs, table)
    by_call = {
        id(call): (keeps[id(call)], means.get(id(call), cols[alias])) for call, _k, alias, _n, _m in exprs
    }
    counted: np.ndarray | None = None  # rows some call counts (None: all): a series without any has no stream
    for i, (keep, _col) in by_call.items():
        if every_row[i]:
            counted = None
            break
        counted = keep if counted is None else counted | keep
    lo = c.time_range.min
    firsts: np.ndarray | None = None  # each series' first window with a value (needed without a start)
    if dims_here:
        groups = series_groups(table, dims_here)  # sorted by their tags, as the streams' keys
        every_key = [full_key(plan.dims, table, k) for k, _ in groups]
        ser: np.ndarray | None = np.empty(nrows, np.int64)
        for g, (_k, idx) in enumerate(groups):
            ser[idx] = g  # type: ignore[index]
        if counted is None:
            has = np.ones(len(every_key), bool)
            at_series: np.ndarray | None = None
        else:
            has = np.bincount(ser[counted], minlength=len(every_key)) > 0  # type: ignore[index]
            at_series = np.cumsum(has) - 1  # a result series' index among those with values
        keys = [k for k, h in zip(every_key, has.tolist(), strict=True) if h]
        if lo is None:
            firsts = np.full(len(every_key), _NO_TIME, np.int64)
            if counted is None:
                np.minimum.at(firsts, ser, wins)  # type: ignore[arg-type]
            else:
                np.minimum.at(firsts, ser[counted], wins[counted])  # type: ignore[index]
            firsts = firsts[has]
    else:  # one series
        ser = at_series = None
        if counted is not None and not counted.any():
            return []
        keys = [("",) * len(plan.dims)]
        if lo is None:
            firsts = np.array([(wins if counted is None else wins[counted]).min()], np.int64)
    if not keys:
        return []
    start = lo if lo is not None else int(firsts.min())  # type: ignore[union-attr]
    grid = w.grid(max(start, MIN_TIME + 1), c.tmax)  # ascending
    ngrid = len(grid)
    nser = len(keys)
    if not ngrid or nser * ngrid > MAX_BATCH_CELLS:
        return None
    first_pos = None if firsts is None else np.searchsorted(grid, firsts)  # (None: all from the first)
    n = nser * ngrid
    filled: dict[int, Col] = {}
    if ser is None and all(every_row.values()) and nrows == ngrid and bool((wins == grid).all()):
        # one series with a row for every window, in order (a dashboard's usual answer): each
        # call's column is already its grid's (what placing and fill_at would give)
        for call in calls:
            col = by_call[id(call)][1]
            if col.values.dtype != _DTYPES.get(col.kind, object):
                col = fill_at(n, np.arange(n), col, stmt.fill, stmt.fill_value, call.name == "count")
            filled[id(call)] = col
        return _window_series(plan, src, keys, grid, first_pos, filled, None)
    present_any = np.zeros(n, bool)
    # (cells, rows; None: all) by the rows a call counts: every row (most often), or which
    layouts: dict[int | None, tuple[np.ndarray, np.ndarray | None]] = {}
    for call in calls:
        keep, col = by_call[id(call)]
        every = every_row[id(call)]
        layout = layouts.get(None if every else id(keep))
        if layout is None:
            rows = None if every else np.flatnonzero(keep)
            pos = positions(grid, wins if rows is None else wins[rows])
            if ser is None:
                flat = pos
            else:
                s_ = ser if rows is None else ser[rows]
                flat = (s_ if at_series is None else at_series[s_]) * ngrid + pos
            inside = pos >= 0
            if not inside.all():
                rows = np.flatnonzero(inside) if rows is None else rows[inside]
                flat = flat[inside]
            if len(flat) > 1 and not (flat[1:] > flat[:-1]).all():
                order = np.argsort(flat)  # (cells in grid order: fill_at then keeps a full column)
                flat = flat[order]
                rows = order if rows is None else rows[order]
            layout = layouts[None if every else id(keep)] = (flat, rows)
        flat, rows = layout
        if rows is None:
            vals = col
        elif len(rows) or keep.any():
            vals = col.take(rows)
        else:
            vals = Col.nulls(0)  # a call without any value: as _assemble_windows
        present_any[flat] = True
        filled[id(call)] = fill_at(n, flat, vals, stmt.fill, stmt.fill_value, call.name == "count")
    return _window_series(plan, src, keys, grid, first_pos, filled, present_any)


def _assemble(
    plan: Plan,
    src: Source,
    key: tuple[str, ...],
    calls: list[A.Call],
    agg_calls: list[A.Call],
    results: dict[int, dict[tuple[str, ...], Stream]],
    aux: list[A.VarRef],
    single_selector: bool,
) -> Series | None:
    c = plan.c
    stmt = c.stmt
    w = plan.windows
    per_call: list[Stream] = []
    grid = None
    ext_grid = None
    if w is not None:
        firsts = [r[key].times[0] for r in results.values() if key in r and len(r[key].times)]
        if not firsts:
            return None
        lo = c.time_range.min
        start = lo if lo is not None else min(int(x) for x in firsts)
        grid = w.grid(max(start, MIN_TIME + 1), c.tmax)
        ext_grid = grid
        if c.extra_intervals:
            # transformations read extra windows before (after, descending) the range
            if c.ascending and lo is not None:
                ext_grid = w.grid(lo - c.extra_intervals * c.interval, c.tmax)
            elif not c.ascending:
                ext_grid = w.grid(max(start, MIN_TIME + 1), c.tmax + c.extra_intervals * c.interval)
        if not c.ascending:
            grid = grid[::-1]
            ext_grid = ext_grid[::-1]
    for call, agg in zip(calls, agg_calls, strict=True):
        s = results[id(agg)].get(key)
        if s is None:
            s = Stream(np.zeros(0, np.int64), Col.nulls(0))
        is_transformed = call is not agg
        if w is not None and grid is not None and agg.name not in ("top", "bottom", "distinct", "sample"):
            g = ext_grid if is_transformed and ext_grid is not None else grid
            if stmt.fill != "none":
                vals = fill_series(g, s.times, s.values, stmt.fill, stmt.fill_value, agg.name == "count")
                aux_f = None
                if s.aux:
                    aux_f = {k: fill_series(g, s.times, v, "null", None, False) for k, v in s.aux.items()}
                s = Stream(g.copy(), vals, aux_f)
            else:
                order = np.argsort(s.times, kind="stable")
                if not c.ascending:
                    order = order[::-1]
                if not is_transformed:
                    inside = set(grid.tolist())
                    order = np.array([i for i in order.tolist() if int(s.times[i]) in inside], dtype=np.int64)
                s = Stream(
                    s.times[order],
                    s.values.take(order),
                    {k: v.take(order) for k, v in (s.aux or {}).items()} or None,
                )
        elif (
            w is not None and not c.ascending and agg.name in ("top", "bottom", "sample") and len(s.times) > 1
        ):
            # windows last to first, each window's points in time order (InfluxDB)
            order = np.lexsort((s.times, -w.starts(s.times)))
            s = Stream(
                s.times[order],
                s.values.take(order),
                {k: v.take(order) for k, v in (s.aux or {}).items()} or None,
                {k: v.take(order) for k, v in (s.extra or {}).items()} or None,
            )
        elif w is None and not c.ascending and len(s.times) > 1 and agg.name not in ("top", "bottom"):
            order = np.argsort(s.times, kind="stable")[::-1]
            s = Stream(
                s.times[order],
                s.values.take(order),
                {k: v.take(order) for k, v in (s.aux or {}).items()} or None,
                {k: v.take(order) for k, v in (s.extra or {}).items()} or None,
            )
        if w is None and agg.name == "integral" and src.schema.fields.get(_call_field(agg).name) == FLOAT:
            # InfluxDB 1.6's float integral stamps its result 0; the integer one, the range start
            s = Stream(np.zeros(len(s.times), np.int64), s.values, s.aux, s.extra)
        elif w is None and agg.name not in TRANSFORMS and (not single_selector or agg.name == "distinct"):
            # an aggregate over the whole range is stamped with the range's start (0 without one)
            s = Stream(
                np.full(len(s.times), c.tmin if c.time_range.min is not None else 0, np.int64),
                s.values,
                s.aux,
                s.extra,
            )
        # transforms, innermost first
        chain = []
        node = call
        while node.name in TRANSFORMS:
            chain.append(node)
            if not isinstance(node.args[0], A.Call):
                break
            node = node.args[0]
        for tcall in reversed(chain):
            arg = _transform_arg(tcall, c)
            t2, v2 = transform(tcall.name, s.times, s.values, arg, c.ascending)
            s = Stream(t2, v2)
        if chain and w is not None and grid is not None and len(grid) and chain[0].name not in TECHNICAL:
            # (InfluxDB answers the technical analysis functions on the window it reads before the range)
            lo_w, hi_w = int(grid.min()), int(grid.max())
            idx = np.flatnonzero((s.times >= lo_w) & (s.times <= hi_w))
            s = Stream(s.times[idx], s.values.take(idx))
        per_call.append(s)
    # join on time
    if len(per_call) == 1:
        times = per_call[0].times
        joined = [per_call[0]]
    else:
        all_t = np.unique(np.concatenate([s.times for s in per_call])) if per_call else np.zeros(0, np.int64)
        if not c.ascending:
            all_t = all_t[::-1]
        joined = []
        for s in per_call:
            order = np.argsort(s.times, kind="stable")
            idx = positions(s.times[order], all_t)
            if len(order):
                idx = np.where(idx >= 0, order[np.maximum(idx, 0)], -1)
            ok = idx >= 0
            vals = Col.nulls(len(all_t), s.values.kind)
            if ok.any():
                vals.values[ok] = s.values.values[idx[ok]]
                vals.valid[ok] = s.values.valid[idx[ok]]
            joined.append(Stream(all_t, vals))
        times = all_t
    n = len(times)
    if not n:
        return None
    by_call = {id(call): s for call, s in zip(calls, joined, strict=True)}
    first = joined[0]

    def lookup(e: A.Expr) -> Col:
        if isinstance(e, A.Call):
            s = by_call.get(id(e))
            if s is None:
                raise QueryError(f"unsupported call {e}")
            return s.values
        if isinstance(e, A.VarRef):
            if first.aux is not None and e.name in first.aux:
                return cast_col(first.aux[e.name], e.type if e.type != "tag" else None)
            return Col.nulls(n)
        raise QueryError(f"unsupported expression {e}")

    colvals = [nan_to_null(evaluate(f.expr, n, lookup)) for f in plan.fields]
    out_cols: list[Col] = []
    for f, col in zip(plan.fields, colvals, strict=True):
        out_cols.append(col)
        if isinstance(f.expr, A.Call) and f.expr.name in ("top", "bottom") and stmt.target is None:
            for a in f.expr.args[1:-1]:
                if isinstance(a, A.VarRef):
                    ex = (first.extra or {}).get(a.name)
                    out_cols.append(ex if ex is not None else Col.nulls(n, STRING))
    keep = limit_slice(n, stmt)
    times = times[keep]
    if not len(times):
        return None
    return Series(
        src.name,
        series_tags(plan.dims, key),
        plan.columns,
        times=times,
        cols=[c.take(keep) for c in out_cols],
    )


def _transform_arg(call: A.Call, c: Compiled) -> int | tuple[int, int, str] | None:
    if call.name in ("derivative", "non_negative_derivative"):
        if len(call.args) == 2:
            return int(call.args[1].value)  # type: ignore[attr-defined]
        if c.interval and isinstance(call.args[0], A.Call):
            return c.interval
        return 10**9
    if call.name == "elapsed":
        return int(call.args[1].value) if len(call.args) == 2 else 1  # type: ignore[attr-defined]
    if call.name == "moving_average":
        return int(call.args[1].value)  # type: ignore[attr-defined]
    if call.name in TECHNICAL:
        period = int(call.args[1].value)  # type: ignore[attr-defined]
        hold = int(call.args[2].value) if len(call.args) > 2 else -1  # type: ignore[attr-defined]
        warmup = str(call.args[3].value) if len(call.args) > 3 else default_warmup(call.name)  # type: ignore[attr-defined]
        if hold == -1:
            hold = default_hold(call.name, period, warmup)
        return period, hold, warmup
    return None


def _group_select(plan: Plan, dims_here: list[str]) -> tuple[str, str]:
    """(select prefix, group by) for the window and the series' tags."""
    sel = []
    grp = []
    w = plan.windows
    if w is not None:
        origin = w.sql_origin()
        if origin is None:
            raise _NeedPoints()
        sel.append(f"{bucket_expr(w.interval, origin)} AS __w")
        grp.append("__w")
    for d in dims_here:
        sel.append(ident(d))
        grp.append(ident(d))
    return ", ".join(sel), ", ".join(grp)


class _NeedPoints(Exception):
    pass


def _agg_sql(call: A.Call, src: Source, merged: bool = True) -> tuple[str, str] | None:
    """SQL aggregate text and its output kind, None when the field is not in this source."""
    ref = _call_field(call)
    kind = src.schema.fields.get(ref.name)
    if kind is None or ref.type == "tag":
        return None
    f = ident(ref.name)
    name = call.name
    if name == "count":
        a0 = call.args[0]
        if isinstance(a0, A.Call | A.Distinct):
            return f"COUNT(DISTINCT {f})", INTEGER
        return f"COUNT({f})", INTEGER
    if name == "sum":
        return (f"CAST(SUM({f}) AS BIGINT)", INTEGER) if kind == INTEGER else (f"SUM({f})", FLOAT)
    if name == "mean":
        if kind == FLOAT:
            return f"AVG({f})", FLOAT  # the native executor's form
        if kind == INTEGER:  # SUM / COUNT (_sql_aggregates divides): native, and no numeric type
            return f"SUM({f})", FLOAT
        return f"AVG(CAST({f} AS DOUBLE PRECISION))", FLOAT
    if name in ("min", "max"):
        return f"{name.upper()}({f})", kind
    if name == "spread":
        return f"MAX({f}) - MIN({f})", kind
    if name == "stddev":
        return f"STDDEV_SAMP(CAST({f} AS DOUBLE PRECISION))", FLOAT
    if name == "median":
        return f"PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY {f})", FLOAT
    if name in ("first", "last") and not merged:
        # one series per group: no two points share a time
        return f'{"ARG_MIN" if name == "first" else "ARG_MAX"}({f}, "time")', kind
    if name == "first":
        # points of one time from several series: the larger value wins (InfluxDB's reducer)
        if kind in NUMERIC:
            return f'ARG_MIN({f}, ROW("time", -{f})) FILTER (WHERE {f} IS NOT NULL)', kind
        return f'ARG_MIN({f}, "time") FILTER (WHERE {f} IS NOT NULL)', kind
    if name == "last":
        return f'ARG_MAX({f}, ROW("time", {f})) FILTER (WHERE {f} IS NOT NULL)', kind
    return None


def _edge_windows(plan: Plan, dims_here: list[str]) -> int:
    """How many windows at the query's start (its end, descending) decide a LIMIT's rows; 0: all.

    One series whose rows are its windows, filled by null, a number or the previous window: its
    first OFFSET + LIMIT windows of the grid hold no data but that of the first OFFSET + LIMIT
    windows that have any (fill(none) might skip windows whose points lack these fields; linear
    fill and transformations read beyond)."""
    c = plan.c
    stmt = c.stmt
    if plan.windows is None or dims_here or not stmt.limit or c.extra_intervals:
        return 0
    if stmt.fill not in ("null", "number", "previous"):
        return 0
    if any(call.name in TRANSFORMS or call.name in _POINT_TIMES for call in c.calls):
        return 0
    return stmt.offset + stmt.limit


def _aggregates_select(plan: Plan, src: Source, calls: list[A.Call], dims_here: list[str]) -> tuple:
    """_sql_aggregates' query but its WHERE: (calls whose field ``src`` lacks, (call, kind, alias,
    count alias, mean) of the others, the SELECT list (None: the windows need the points), the GROUP
    BY list)."""
    missing = []
    exprs = []
    parts: dict[str, str] = {}  # SQL -> alias (one aggregate computed once)
    for call in calls:
        ref = _call_field(call)
        s = _agg_sql(call, src, merged=not src.schema.tags <= set(dims_here))
        if s is None:
            missing.append(call)
            continue
        alias = parts.setdefault(s[0], f"__a{len(parts)}")
        # a window without the field's points has no row: the aggregate is NULL there, except
        # count (0) and stddev (NULL for one point, which is a row), which need the count
        count = None
        mean = call.name == "mean" and s[0].startswith("SUM(")
        if call.name in ("count", "stddev") or mean:
            count = parts.setdefault(f"COUNT({ident(ref.name)})", f"__a{len(parts)}")
        exprs.append((call, s[1], alias, count, mean))
    if not parts:
        return missing, [], None, ""
    try:
        prefix, group = _group_select(plan, dims_here)
    except _NeedPoints:
        return missing, exprs, None, ""
    select = ", ".join(p for p in [prefix, *(f"{sql} AS {a}" for sql, a in parts.items())] if p)
    return missing, exprs, select, group


def _sql_aggregates(
    ctx: Context, plan: Plan, src: Source, calls: list[A.Call], dims_here: list[str]
) -> dict[int, dict[tuple[str, ...], Stream]]:
    done, exprs, table = _aggregates_table(ctx, plan, src, calls, dims_here)
    return done if table is None else _aggregate_streams(plan, exprs, table, dims_here, done)


def _aggregates_table(
    ctx: Context, plan: Plan, src: Source, calls: list[A.Call], dims_here: list[str]
) -> tuple[dict[int, dict[tuple[str, ...], Stream]], list[tuple], pa.Table | None]:
    """The calls' SQL query and its result: (the streams of calls answered without it: fields
    ``src`` lacks, or every call when SQL cannot form the windows; each SQL call's (call, kind,
    alias, count alias, mean); the result, None when there was no query)."""
    c = plan.c
    key = ("aggregates", *src.key, tuple(map(id, calls)))
    kept = plan.memo.get(key)
    if kept is None:
        missing, exprs, select, group = _aggregates_select(plan, src, calls, dims_here)
        head = tail = ""  # the query's text before and after its WHERE (the plan's alone)
        if select is not None:
            head = f"SELECT {select} FROM {src.sql_from}"
            tail = f" GROUP BY {group}" if group else ""
            edge = _edge_windows(plan, dims_here)
            if edge:
                # the native executor then reads only the windows at that end of the range
                tail += f" ORDER BY __w {'ASC' if c.ascending else 'DESC'} LIMIT {edge}"
        kept = plan.memo[key] = (missing, exprs, select, head, tail)
    missing, exprs, select, head, tail = kept
    done: dict[int, dict[tuple[str, ...], Stream]] = {id(call): {} for call in missing}
    if not exprs:
        return done, exprs, None
    if select is None:  # windows SQL cannot form
        for call in calls:
            done[id(call)] = _points_call(ctx, plan, src, call, dims_here, [])
        return done, exprs, None
    params = sql_params(src)
    sql = head + where_sql(plan, src, c.extra_intervals, params=params) + tail
    return done, exprs, ctx.sql(src, sql, params)


def _aggregate_columns(
    plan: Plan, exprs: list[tuple], table: pa.Table
) -> tuple[np.ndarray, dict[str, Col], dict[int, np.ndarray], dict[int, Col], dict[int, bool]]:
    """The window of each row of an aggregates result, its columns by alias, each call's rows that
    count (a window of the series has the call's field), the means computed as SUM / COUNT, and
    whether each call counts every row."""
    field_index = table.schema.get_field_index  # (a column by its index: ~0.6 us where its name's ~1.4)
    wins = (
        time_ns(table.column(field_index("__w")))
        if plan.windows is not None
        else np.zeros(table.num_rows, np.int64)
    )
    cols: dict[str, Col] = {}
    keeps: dict[int, np.ndarray] = {}
    means: dict[int, Col] = {}
    every: dict[int, bool] = {}
    for call, kind, alias, count, mean in exprs:
        if alias not in cols:
            vals = arrow_col(table.column(field_index(alias)), kind)
            if kind == INTEGER and vals.kind == FLOAT:
                vals = Col(vals.values.astype(np.int64), vals.valid, INTEGER)
            cols[alias] = vals
        if count is not None:
            n = np.asarray(table.column(field_index(count)).to_numpy(zero_copy_only=False))
            keep = keeps[id(call)] = n > 0
            every[id(call)] = bool(keep.all())
            if mean:
                total = cols[alias]
                avg = total.values.astype(np.float64) / np.maximum(n, 1)
                means[id(call)] = Col(avg, total.valid, FLOAT)
        else:
            valid = keeps[id(call)] = cols[alias].valid
            every[id(call)] = every_valid(valid)  # (arrow_col's validity: its nulls'; no pass without any)
    return wins, cols, keeps, means, every


def _aggregate_streams(
    plan: Plan,
    exprs: list[tuple],
    table: pa.Table,
    dims_here: list[str],
    out: dict[int, dict[tuple[str, ...], Stream]],
) -> dict[int, dict[tuple[str, ...], Stream]]:
    """An aggregates result as each call's stream per series (``out`` gets them)."""
    for call, *_ in exprs:
        out[id(call)] = {}
    if not table.num_rows:
        return out
    wins, cols, keeps, means, _every = _aggregate_columns(plan, exprs, table)
    for key, idx in series_groups(table, dims_here):
        full = full_key(plan.dims, table, key) if dims_here else tuple("" for _ in plan.dims)
        idx = idx[np.argsort(wins[idx], kind="stable")]
        times = wins[idx]  # one array for every call that keeps all rows (_assemble_windows)
        for call, _kind, alias, _count, _mean in exprs:
            keep = keeps[id(call)][idx]
            sel, at = (idx, times) if keep.all() else (idx[keep], wins[idx[keep]])
            if len(sel):
                out[id(call)][full] = Stream(at, means.get(id(call), cols[alias]).take(sel))
    return out


_NO_FIELD, _NEED_POINTS = "no field", "points"  # _selector_select's answers without a query


def _selector_select(plan: Plan, src: Source, call: A.Call, dims_here: list[str], aux: list[A.VarRef]) -> Any:
    """_sql_selector's query but its WHERE, from the plan and ``src`` alone: (the field's kind, the
    WHERE's test that it is there, the text before the WHERE, the text after it, the (index,
    reference) of each auxiliary column), or _NO_FIELD (``src`` lacks the field) or _NEED_POINTS
    (SQL cannot form the windows)."""
    c = plan.c
    ref = _call_field(call)
    kind = src.schema.fields.get(ref.name)
    if kind is None:
        return _NO_FIELD
    f = ident(ref.name)
    num = kind in NUMERIC
    us = 'EPOCH_US("time")'
    if call.name == "max":
        key = f"ROW({f}, -{us})"
        fn = "ARG_MAX"
    elif call.name == "min":
        key = f"ROW({f}, {us})"
        fn = "ARG_MIN"
    elif call.name == "first":
        key = f"ROW({us}, -{f})" if num else us
        fn = "ARG_MIN"
    else:
        key = f"ROW({us}, {f})"
        fn = "ARG_MAX"
    try:
        prefix, group = _group_select(plan, dims_here)
    except _NeedPoints:
        return _NEED_POINTS
    parts = [f'{fn}("time", {key}) AS __t', f"{fn}({f}, {key}) AS __v"]
    aux_names = []
    for j, a in enumerate(aux):
        if a.name in src.schema.fields or a.name in src.schema.tags:
            # the selected point's own value, NULL included (arg_max would skip to another row)
            parts.append(f"{fn}_NULL({ident(a.name)}, {key}) AS __x{j}")
            aux_names.append((j, a))
    select = ", ".join(p for p in [prefix, *parts] if p)
    head = f"SELECT {select} FROM {src.sql_from}"
    tail = f" GROUP BY {group}" if group else ""
    edge = _edge_windows(plan, dims_here)
    if edge:
        # the native executor then reads only the windows at that end of the range
        tail += f" ORDER BY __w {'ASC' if c.ascending else 'DESC'} LIMIT {edge}"
    return kind, f"{f} IS NOT NULL", head, tail, aux_names


def _sql_selector(
    ctx: Context, plan: Plan, src: Source, call: A.Call, dims_here: list[str], aux: list[A.VarRef]
) -> dict[tuple[str, ...], Stream]:
    """max/min/first/last with the selected point's time and columns, in SQL."""
    c = plan.c
    memo_key = ("selector", *src.key, id(call))
    kept = plan.memo.get(memo_key)
    if kept is None:
        kept = plan.memo[memo_key] = _selector_select(plan, src, call, dims_here, aux)
    if kept is _NO_FIELD:
        return {}
    if kept is _NEED_POINTS:
        return _points_call(ctx, plan, src, call, dims_here, aux)
    kind, not_null, head, tail, aux_names = kept
    params = sql_params(src)
    sql = head + where_sql(plan, src, c.extra_intervals, not_null, params=params) + tail
    table = ctx.sql(src, sql, params)
    out: dict[tuple[str, ...], Stream] = {}
    if not table.num_rows:
        return out
    chosen = table.column("__t")
    times = time_ns(chosen)
    wins = time_ns(table.column("__w")) if plan.windows is not None else times
    # each column converted once, each series taking its rows (not an Arrow take and conversion of
    # every column per series)
    valid = np.asarray(chosen.is_valid().to_numpy(zero_copy_only=False), bool) if chosen.null_count else None
    values = arrow_col(table.column("__v"), kind)
    aux_cols = [
        (a.name, arrow_col(table.column(f"__x{j}"), src.schema.fields.get(a.name, STRING)))
        for j, a in aux_names
    ]
    for key_, idx in series_groups(table, dims_here):
        full = full_key(plan.dims, table, key_) if dims_here else tuple("" for _ in plan.dims)
        if valid is not None:
            idx = idx[valid[idx]]
        if not len(idx):
            continue
        order = np.argsort(wins[idx], kind="stable")
        idx = idx[order]
        auxc = {name: col.take(idx) for name, col in aux_cols}
        for a in aux:
            auxc.setdefault(a.name, Col.nulls(len(idx)))
        out[full] = Stream(wins[idx], values.take(idx), auxc)
    return out


def _read_points(
    ctx: Context, plan: Plan, src: Source, ref: A.VarRef, dims_here: list[str], extra_cols: list[str]
) -> pa.Table | None:
    c = plan.c
    if ref.name not in src.schema.fields:
        return None
    cols = ['"time"'] + [ident(d) for d in dims_here] + [ident(ref.name)]
    cols += [ident(x) for x in extra_cols if x != ref.name and x not in dims_here]
    params = sql_params(src)
    sql = (
        f"SELECT {', '.join(dict.fromkeys(cols))} FROM {src.sql_from}"
        f"{where_sql(plan, src, c.extra_intervals, f'{ident(ref.name)} IS NOT NULL', params=params)} "
        f'ORDER BY "time" ASC'
    )
    return ctx.sql(src, sql, params)


def _raw_points_stream(
    ctx: Context, plan: Plan, src: Source, call: A.Call, dims_here: list[str]
) -> dict[tuple[str, ...], Stream]:
    """A transformation of a raw field: the field's points per series, in time order."""
    ref = _call_field(call)
    table = _read_points(ctx, plan, src, ref, dims_here, [])
    out: dict[tuple[str, ...], Stream] = {}
    if table is None or not table.num_rows:
        return out
    times = time_ns(table.column("time"))
    for key, idx in series_groups(table, dims_here):
        full = full_key(plan.dims, table, key) if dims_here else tuple("" for _ in plan.dims)
        col = cast_col(
            arrow_col(table.column(ref.name).take(pa.array(idx)), src.schema.fields[ref.name]), ref.type
        )
        out[full] = Stream(times[idx], col)
    return out


def _points_call(
    ctx: Context, plan: Plan, src: Source, call: A.Call, dims_here: list[str], aux: list[A.VarRef]
) -> dict[tuple[str, ...], Stream]:
    """Functions computed on the field's points per window in numpy."""
    c = plan.c
    ref = _call_field(call)
    tag_args = (
        [a.name for a in call.args[1:-1] if isinstance(a, A.VarRef)] if call.name in ("top", "bottom") else []
    )
    extra = [a.name for a in aux if a.name in src.schema.fields or a.name in src.schema.tags]
    table = _read_points(
        ctx,
        plan,
        src,
        ref,
        dims_here,
        extra + [t for t in tag_args if t in src.schema.tags or t in src.schema.fields],
    )
    out: dict[tuple[str, ...], Stream] = {}
    if table is None or not table.num_rows:
        return out
    times = time_ns(table.column("time"))
    w = plan.windows
    for key, idx in series_groups(table, dims_here):
        full = full_key(plan.dims, table, key) if dims_here else tuple("" for _ in plan.dims)
        t = times[idx]
        win = w.starts(t) if w is not None else np.zeros(len(t), np.int64)
        val = arrow_col(table.column(ref.name).take(pa.array(idx)), src.schema.fields[ref.name])
        val = cast_col(val, ref.type)
        pts = Points(win, t, val, {})
        name = call.name
        aux_cols: dict[str, Col] = {}
        extra_cols: dict[str, Col] = {}

        def col_of(nm: str, sel: np.ndarray, idx: np.ndarray = idx) -> Col:
            if nm in table.schema.names:
                k = src.schema.fields.get(nm, STRING)
                return arrow_col(table.column(nm).take(pa.array(idx[sel])), k)
            return Col.nulls(len(sel), STRING)

        if name in ("percentile", "sample", "top", "bottom", "max", "min", "first", "last"):
            args = [lit.value for lit in call.args[1:] if isinstance(lit, A.IntegerLiteral | A.NumberLiteral)]
            if name in ("top", "bottom") and tag_args:
                tag_cols = [col_of(tg, np.arange(len(idx))) for tg in tag_args]
                sel = top_bottom_by_tags(name, pts, tag_cols, int(args[-1]))
            else:
                sel = select_points(name, pts, args)
            point_time = name in ("top", "bottom", "sample") or w is None
            st = t[sel] if point_time else win[sel]
            for a in aux:
                aux_cols[a.name] = col_of(a.name, sel)
            for tg in tag_args:
                extra_cols[tg] = col_of(tg, sel)
            out[full] = Stream(st, val.take(sel), aux_cols or None, extra_cols or None)
        elif name == "distinct":
            sel = distinct_points(pts, c.ascending)
            out[full] = Stream(win[sel], val.take(sel))
        elif name == "mode":
            wins_, sel = mode_points(pts)
            out[full] = Stream(wins_, val.take(sel))
        elif name == "integral":
            unit = int(call.args[1].value) if len(call.args) == 2 else 10**9  # type: ignore[attr-defined]
            if w is not None:
                wins_, vals_ = integral_points(pts, unit, c.interval, w.span)
            else:
                wins_, vals_ = integral_points(pts, unit, 0, lambda _t: (0, MAX_TIME))
            out[full] = Stream(wins_, Col(vals_, np.ones(len(vals_), bool), FLOAT))
        elif name in ("count", "sum", "mean", "spread", "stddev", "median"):
            out[full] = _numpy_aggregate(name, call, pts)
        else:
            raise QueryError(f"undefined function {name}()")
    return out


def _numpy_aggregate(name: str, call: A.Call, p: Points) -> Stream:
    """The SQL aggregates for windows SQL cannot form (sub-microsecond intervals, tz() windows)."""
    order = np.lexsort((p.time, p.window))
    w = p.window[order]
    starts = np.concatenate(([0], np.flatnonzero(w[1:] != w[:-1]) + 1)) if len(w) else np.zeros(0, np.int64)
    ends = np.concatenate((starts[1:], [len(w)]))
    vals = p.value.values[order]
    out: list[Any] = []
    kind = FLOAT
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        v = vals[s:e]
        if name == "count":
            if isinstance(call.args[0], A.Call | A.Distinct):
                out.append(len(set(v.tolist())))
            else:
                out.append(e - s)
            kind = INTEGER
        elif name == "sum":
            out.append(v.sum())
            kind = p.value.kind
        elif name == "mean":
            out.append(float(np.mean(v.astype(np.float64))))
        elif name == "spread":
            out.append(v.max() - v.min())
            kind = p.value.kind
        elif name == "stddev":
            out.append(float(np.std(v.astype(np.float64), ddof=1)) if len(v) > 1 else np.nan)
        elif name == "median":
            out.append(float(np.median(v.astype(np.float64))))
    arr = np.array(out, dtype=np.int64 if kind == INTEGER else np.float64 if kind == FLOAT else None)
    valid = ~np.isnan(arr) if arr.dtype == np.float64 else np.ones(len(arr), bool)
    return Stream(w[starts], Col(arr, valid, kind))
