"""SELECT without calls: the selected fields' and tags' rows per series.

    SELECT "time", <group tags>, <referenced columns> FROM <rp>.<m> WHERE <range> AND <condition>

Rows with none of the selected fields are no points: dropped after the query, or by SQL when a LIMIT
must count only points. LIMIT 1 per series is ``DISTINCT ON (<group tags>)`` (the native LastPoint
plan when every field is selected); other limits number rows per series with a window function. The
expressions are evaluated once over the whole result, which is then split into series."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sql.influxql import ast as A
from sql.influxql.columns import arrow_col, cast_col, evaluate, nan_to_null, text_cols, time_ns
from sql.influxql.compile import QueryError
from sql.influxql.functions import NUMERIC, STRING, Col
from sql.influxql.plan import (
    Plan,
    full_key,
    present_dims,
    row_limit,
    series_groups,
    split_series,
    sql_params,
    where_sql,
)
from sql.influxql.series import Series
from sql.influxql.source import Context, Source
from sql.influxql.translate import ident
from sql.tables import TIME_NS


def run_raw(ctx: Context, plan: Plan, src: Source) -> list[Series]:
    c = plan.c
    stmt = c.stmt
    kept = plan.memo.get(("raw", *src.key))
    if kept is None:
        kept = plan.memo[("raw", *src.key)] = _raw_select(plan, src)
    if kept is None:
        return []
    dims_here, limit, last, select, field_names, not_null, part, every = kept
    order = "DESC" if not c.ascending else "ASC"
    # points of one time in several series of a group come in series key order (reversed when
    # descending): the group's other tags order them, unless each group is one series
    ties = ""
    if dims_here and not (last and _one_series_per_group(ctx, src, dims_here)):
        ties = "".join(
            f", COALESCE({ident(t)}, '') {order}" for t in sorted(src.schema.tags - set(dims_here))
        )
    params = sql_params(src)
    if last:
        # each series' newest (oldest) point
        where = (
            where_sql(plan, src, params=params) if every else where_sql(plan, src, 0, not_null, params=params)
        )
        sql = f'SELECT DISTINCT ON ({part}) {select} FROM {src.sql_from}{where} ORDER BY {part}, "time" {order}{ties}'
    elif limit and not dims_here:
        where = where_sql(plan, src, 0, not_null, params=params)
        sql = f'SELECT {select} FROM {src.sql_from}{where} ORDER BY "time" {order}'
        sql += f" LIMIT {limit}" + (f" OFFSET {stmt.offset}" if stmt.offset else "")
    elif limit:
        rn = f'row_number() OVER (PARTITION BY {part} ORDER BY "time" {order}{ties}) AS __rn'
        inner = f"SELECT {rn}, {select} FROM {src.sql_from}{where_sql(plan, src, 0, not_null, params=params)}"
        sql = (
            f"SELECT * FROM ({inner}) AS __q WHERE __rn > {stmt.offset} AND __rn <= {stmt.offset + limit} "
            f'ORDER BY "time" {order}'
        )
    else:  # ordered by time below (cheaper than an ORDER BY of every column in SQL)
        sql = f"SELECT {select} FROM {src.sql_from}{where_sql(plan, src, params=params)}"
    table = ctx.sql(src, sql, params)
    if table.num_rows and (not limit or (last and every)):
        # rows without any selected field are no points (filtered here when SQL did not)
        present = np.zeros(table.num_rows, bool)
        for f in field_names:
            col = table.column(f)
            if not col.null_count:  # a field of every row: all are points
                present[:] = True
                break
            present |= np.asarray(col.is_valid().to_numpy(zero_copy_only=False), bool)
        if present.all():
            pass
        elif limit:  # a newest row without a field would hide an older point: ask SQL to filter
            params = sql_params(src)
            where = where_sql(plan, src, 0, not_null, params=params)
            sql = f'SELECT DISTINCT ON ({part}) {select} FROM {src.sql_from}{where} ORDER BY {part}, "time" {order}{ties}'
            table = ctx.sql(src, sql, params)
        else:
            table = table.filter(pa.array(present))
    if not table.num_rows:
        return []
    times = time_ns(table.column("time"))
    if not limit and len(times) > 1:
        in_order = (times[1:] >= times[:-1]) if c.ascending else (times[1:] <= times[:-1])
        if not in_order.all():  # (rows already in order: the stable sort would keep them so)
            by_time = np.argsort(times if c.ascending else -times, kind="stable")
            table = table.take(pa.array(by_time))
            times = times[by_time]
    n = table.num_rows
    texts = text_cols(table)
    names = set(table.schema.names)  # (column_names costs ~14 us for SELECT *'s 21 columns, this ~3)

    def lookup(e: A.Expr) -> Col:
        if isinstance(e, A.VarRef):
            return _ref_col(src, table, e, texts, names)
        raise QueryError(f"unsupported expression: {e}")

    values = [nan_to_null(evaluate(f.expr, n, lookup)) for f in plan.fields]
    groups = series_groups(table, present_dims(table, plan.dims))
    keys = [full_key(plan.dims, table, key) for key, _ in groups]
    return split_series(plan, src, keys, [idx for _, idx in groups], times, values)


def _raw_select(plan: Plan, src: Source) -> tuple | None:
    """What run_raw's query takes from the plan and ``src`` alone (None: no field of ``src`` is
    selected): the dimensions that are its tags, the row limit, whether it is each series' last
    point, the SELECT list, the selected fields, the test that a row has one of them, the
    PARTITION BY list, whether every field of ``src`` is selected."""
    c = plan.c
    stmt = c.stmt
    field_refs, other_refs = _field_refs(plan, src)
    if not field_refs:
        return None
    selected = []
    for r in field_refs + other_refs:
        if (r.name in src.schema.fields or r.name in src.schema.tags) and r.name not in selected:
            selected.append(r.name)
    dims_here = [d for d in plan.dims if d in src.schema.tags]
    limit = row_limit(stmt)
    last = limit == 1 and not stmt.offset and bool(dims_here)
    # SQL's timestamps stop at microseconds: a stored measurement's time comes as its nanoseconds
    # (sql.tables.TIME_NS), except for LIMIT 1 per series, which the native LastPoint plan answers
    # from plain columns only
    time_col = '"time"' if last or src.arrow is not None else f'{ident(TIME_NS)} AS "time"'
    cols = [time_col] + [ident(d) for d in dims_here]
    cols += [ident(n) for n in selected if n not in plan.dims or n in src.schema.fields]
    select = ", ".join(dict.fromkeys(cols))
    field_names = [r.name for r in _unique(field_refs)]
    # a point is a row with one of the selected fields: with a LIMIT, SQL must count only those
    not_null = "(" + " OR ".join(f"{ident(f)} IS NOT NULL" for f in field_names) + ")"
    part = ", ".join(ident(d) for d in dims_here)
    # every field selected: a stored row always has one, so SQL need not ask (which keeps the
    # WHERE to what the scan applies: the native executor answers DISTINCT ON from the newest blocks)
    every = set(field_names) >= set(src.schema.fields)
    return dims_here, limit, last, select, field_names, not_null, part, every


def _one_series_per_group(ctx: Context, src: Source, dims: list[str]) -> bool:
    """Whether no two series of ``src`` share their values of ``dims`` (one dimension has as many
    values as the measurement has series, as ``hostname`` in TSBS's cpu)."""
    if src.arrow is not None:
        return False
    try:
        index = ctx.storage.index(ctx.storage.catalog.database(src.database).id)
        n = index.series_count(src.name)
        return any(len(index.tag_values(src.name, d)) == n for d in dims)
    except Exception:  # no index to ask: order the ties
        return False


def _field_refs(plan: Plan, src: Source) -> tuple[list[A.VarRef], list[A.VarRef]]:
    """VarRefs of the statement's fields, split into (fields of this source, tags/others)."""
    fields: list[A.VarRef] = []
    others: list[A.VarRef] = []
    for f in plan.fields:
        for n in A.walk(f.expr):
            if isinstance(n, A.VarRef):
                (fields if _is_field_ref(src, n) else others).append(n)
    return fields, others


def _is_field_ref(src: Source, v: A.VarRef) -> bool:
    """Whether a reference reads a field of this source (a cast to another kind reads nothing)."""
    kind = src.schema.fields.get(v.name)
    if kind is None or v.type == "tag":
        return False
    return v.type in (None, "field", kind) or (v.type in NUMERIC and kind in NUMERIC)


def _ref_col(src: Source, table: pa.Table, v: A.VarRef, texts: dict[str, Col], names: set[str]) -> Col:
    """The column a reference reads, over all of ``table``'s rows (``texts``: its text columns,
    ``names``: its column names)."""
    name = v.name
    n = table.num_rows
    if v.type == "tag":
        if name in src.schema.tags and name in names:
            return _text_col(table, name, texts)
        return Col.nulls(n, STRING)
    if name in src.schema.fields:
        if v.type not in (None, "field") and not (v.type in NUMERIC and src.schema.fields[name] in NUMERIC):
            if v.type != src.schema.fields[name]:
                return Col.nulls(n)
        kind = src.schema.fields[name]
        col = _text_col(table, name, texts) if kind == STRING else arrow_col(table.column(name), kind)
        return cast_col(col, v.type)
    if v.type in (None,) and name in src.schema.tags and name in names:
        return _text_col(table, name, texts)
    return Col.nulls(n)


def _text_col(table: pa.Table, name: str, texts: dict[str, Col]) -> Col:
    col = texts.get(name)
    return arrow_col(table.column(name), STRING) if col is None else col


def _unique(refs: list[A.VarRef]) -> list[A.VarRef]:
    seen: set[str] = set()
    out = []
    for r in refs:
        if r.name not in seen:
            seen.add(r.name)
            out.append(r)
    return out
