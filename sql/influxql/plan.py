"""One SELECT over one source: its :class:`Plan` (compiled statement, expanded fields, dimensions,
columns, windows), the SQL ``WHERE`` of its range and condition, the split of a result into series by
tag values, and LIMIT/OFFSET per series.

A WHERE takes time bounds and the values compared with tags and fields as parameters
(``"time" >= $1``, ``"host" = $3``: translate.SqlParams), so statements that differ only in them
are one SQL text with one prepared plan; a subquery's rows, read by DuckDB from text, get literals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pyarrow as pa

from sql.influxql import ast as A
from sql.influxql.compile import Compiled
from sql.influxql.functions import STRING, Col
from sql.influxql.lexer import T
from sql.influxql.series import Block, Series
from sql.influxql.source import Source
from sql.influxql.translate import TAG, Schema, SqlParams, ident, lifted_value, time_literal
from sql.influxql.values import MAX_TIME, MIN_TIME
from sql.influxql.windows import Windows
from sql.tables import TIME_NS


@dataclass
class Plan:
    c: Compiled
    fields: list[A.Field]
    dims: list[str]
    columns: list[str]
    windows: Windows | None
    calls: dict[str, A.Call] = field(default_factory=dict)  # top-level non-math calls by text
    # what the run derives from the plan alone, kept for the next statements of its template
    # (select.py's memo; a fresh dict when there is none), by whoever derives it
    memo: dict[Any, Any] = field(default_factory=dict)


def where_sql(
    plan: Plan, src: Source, extra_back: int = 0, *more: str, params: SqlParams | None = None
) -> str:
    """`` WHERE <range> AND <condition> AND <more>``, or nothing when there is no condition.

    Time bounds and tag values are compared with their columns as parameters (``params`` gets
    them), so that statements that differ only in them have the same text and the SQL engine finds
    their plan by it; without ``params`` (a subquery's rows, read by DuckDB) they are plain literals,
    which the SQL engine's plan cache would lift into parameters itself."""
    c = plan.c
    parts = []
    lo = c.tmin
    if extra_back and c.ascending and c.time_range.min is not None and plan.windows is not None:
        lo = max(MIN_TIME, lo - extra_back * c.interval)  # InfluxDB moves the bound, not the window
    hi = c.tmax
    if extra_back and not c.ascending and plan.windows is not None and hi < MAX_TIME:
        hi = hi + extra_back * c.interval
    # SQL's time is in microseconds; a bound between two microseconds also compares the stored
    # nanoseconds (sql.tables.TIME_NS: exact, though no longer a plain range the native plan takes)
    exact = src.arrow is None
    at: Callable[[int], str]
    ns: Callable[[int], str]
    if params is None:
        at, ns = time_literal, str
    else:
        at = params.time
        ns = params.int8
    if lo > MIN_TIME:
        if lo % 1000 and exact:
            parts.append(f'"time" >= {at(lo)} AND {ident(TIME_NS)} >= {ns(lo)}')
        else:
            parts.append(f'"time" >= {at(lo + 999)}')
    if hi < MAX_TIME:
        parts.append(f'"time" <= {at(hi)}')
        if hi % 1000 != 999 and exact:
            parts.append(f"{ident(TIME_NS)} <= {ns(hi)}")
    if c.condition is not None:
        parts.append(
            src.schema.condition(c.condition) if params is None else _condition_sql(plan, src, params)
        )
    parts.extend(more)
    return " WHERE " + " AND ".join(parts) if parts else ""


def _condition_sql(plan: Plan, src: Source, params: SqlParams) -> str:
    """``src.schema.condition(plan.c.condition, params)``, its text kept by template (plan.memo) when
    the condition is comparisons of a column (a tag or a field) with a literal, under AND, OR and
    parentheses (a dashboard's or a benchmark's host filter, a threshold): every text of the
    template has a condition of that shape (ConditionPlan), whose SQL differs only in the
    parameters' values while each literal becomes a parameter (translate.lifted_value: not an empty
    string, not a negative number, which stay in Schema.condition's own text). Kept by the number
    of parameters before it (the time bounds'), which numbers its own; not kept when a literal of
    the first text stays in the text (a number compared with an integer field never becomes one)."""
    cond = plan.c.condition
    assert cond is not None
    key = ("where", *src.key, len(params.values))
    kept = plan.memo.get(key)
    if kept is None:
        found = _column_comparisons(src.schema, cond, ())
        kept = plan.memo[key] = (
            False if found is None else _kept_sql(src.schema, cond, found, len(params.values))
        )
    if kept:
        text, literals = kept
        lifted = _lifted_values(cond, literals)
        if lifted is not None:
            for value, oid in lifted:
                params.add(value, oid)
            return text
    return src.schema.condition(cond, params)


_COMPARISONS = (T.EQ, T.NEQ, T.LT, T.LTE, T.GT, T.GTE)
_LITERALS = (A.StringLiteral, A.IntegerLiteral, A.NumberLiteral)
_Literals = list[
    tuple[tuple[str, ...], str]
]  # (path to a literal, the kind of the column it is compared with)


def _column_comparisons(schema: Schema, e: A.Expr, path: tuple[str, ...]) -> _Literals | None:
    """The literals of a condition of comparisons of a plain column with a literal under AND, OR and
    parentheses, left to right, each with the kind of its column (a tag's: STRING); None for a
    condition of any other shape."""
    t = type(e)
    if t is A.ParenExpr:
        return _column_comparisons(schema, e.expr, (*path, "expr"))  # type: ignore[attr-defined]
    if t is not A.BinaryExpr:
        return None
    assert isinstance(e, A.BinaryExpr)
    if e.op is T.AND or e.op is T.OR:
        lhs = _column_comparisons(schema, e.lhs, (*path, "lhs"))
        rhs = None if lhs is None else _column_comparisons(schema, e.rhs, (*path, "rhs"))
        return None if lhs is None or rhs is None else lhs + rhs
    if e.op not in _COMPARISONS:
        return None
    if type(e.lhs) is A.VarRef and type(e.rhs) in _LITERALS:
        ref, side = e.lhs, "rhs"
    elif type(e.rhs) is A.VarRef and type(e.lhs) in _LITERALS:
        ref, side = e.rhs, "lhs"
    else:
        return None
    sql, kind = schema.ref(ref)
    if sql[:1] != '"':
        return None  # (not a plain column: nothing becomes a parameter)
    return [((*path, side), STRING if kind == TAG else kind)]


def _kept_sql(
    schema: Schema, cond: A.Expr, literals: _Literals, before: int
) -> tuple[str, _Literals] | Literal[False]:
    """Schema.condition's text of a condition whose literals all become parameters numbered after
    ``before`` others, and the literals; False when one of them stays in the text or the
    parameters are not the literals'."""
    lifted = _lifted_values(cond, literals)
    if lifted is None:
        return False
    params = SqlParams()
    params.values = [None] * before
    params.oids = [0] * before
    text = schema.condition(cond, params)
    if list(zip(params.values[before:], params.oids[before:], strict=True)) != lifted:
        return False
    return text, literals


def _lifted_values(cond: A.Expr, literals: _Literals) -> list[tuple[Any, int]] | None:
    """The parameter each literal becomes (lifted_value), None when one stays in the text."""
    out = []
    for path, kind in literals:
        node: Any = cond
        for name in path:
            node = getattr(node, name)
        lifted = lifted_value(node, kind)
        if lifted is None:
            return None
        out.append(lifted)
    return out


def sql_params(src: Source) -> SqlParams | None:
    """The parameters of a query of ``src`` (None: a subquery's rows, which DuckDB reads from text)."""
    return SqlParams() if src.arrow is None else None


def series_groups(table: pa.Table, dims: list[str]) -> list[tuple[tuple[str, ...], np.ndarray]]:
    """(tag values, row indexes in table order) per series, sorted by tag values (a missing tag is "")."""
    n = table.num_rows
    if not dims:
        return [((), np.arange(n))] if n else []
    codes = np.zeros(n, np.int64)
    for i, d in enumerate(dims):
        arr = table.column(d)
        arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
        if not pa.types.is_dictionary(arr.type):
            if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
                arr = arr.cast(pa.string())
            arr = arr.dictionary_encode()
        words = ["" if v is None else v for v in arr.dictionary.to_pylist()]
        # one code per distinct value ("" and NULL are one; a dictionary may repeat a value)
        canon: dict[str, int] = {}
        remap = np.array(
            [canon.setdefault(w, len(canon)) for w in words] + [canon.setdefault("", len(canon))]
        )
        idx = arr.indices.fill_null(len(words)).to_numpy(zero_copy_only=False).astype(np.int64)
        codes = codes * len(canon) + remap[idx]
        if i:
            codes = np.unique(codes, return_inverse=True)[1].reshape(-1)
    # the key of each combined code, from one row that has it
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.concatenate(([True], sorted_codes[1:] != sorted_codes[:-1])))
    ends = np.append(starts[1:], n)
    cols = []
    for d in dims:
        arr = table.column(d).take(pa.array(order[starts]))
        cols.append(["" if v is None else v for v in arr.to_pylist()])
    groups = [(tuple(k), order[s:e]) for k, s, e in zip(zip(*cols, strict=True), starts, ends, strict=True)]
    groups.sort(key=lambda g: g[0])
    return groups


def series_tags(dims: list[str], key: tuple[str, ...]) -> dict[str, str] | None:
    if not dims:
        return None
    return dict(sorted(zip(dims, key, strict=True)))


def present_dims(table: pa.Table, dims: list[str]) -> list[str]:
    if not dims:
        return []
    names = table.schema.names  # (once, not per dimension: ~3 us; column_names ~14)
    return [d for d in dims if d in names]


def full_key(dims: list[str], table: pa.Table, key: tuple[str, ...]) -> tuple[str, ...]:
    if len(key) == len(dims):  # every dimension is a column
        return key
    m = dict(zip(present_dims(table, dims), key, strict=True))
    return tuple(m.get(d, "") for d in dims)


def row_limit(stmt: A.SelectStatement) -> int:
    """Rows per series; as InfluxDB 1.x, OFFSET without LIMIT gives one row."""
    return stmt.limit or (1 if stmt.offset else 0)


def limit_rows(rows: list[list[Any]], stmt: A.SelectStatement) -> list[list[Any]]:
    limit = row_limit(stmt)
    if stmt.offset:
        rows = rows[stmt.offset :]
    if limit:
        rows = rows[:limit]
    return rows


def limit_slice(n: int, stmt: A.SelectStatement) -> slice:
    """The rows of a series of ``n`` rows that LIMIT/OFFSET keep."""
    limit = row_limit(stmt)
    start = min(stmt.offset, n)
    return slice(start, start + limit if limit else n)


def split_series(
    plan: Plan,
    src: Source,
    keys: list[tuple[str, ...]],
    rows: list[np.ndarray],
    times: np.ndarray,
    values: list[Col],
) -> list[Series]:
    """One series per key, of the given rows of ``times`` and ``values``: each column is taken
    once for all series, whose rows are ranges of one :class:`Block` of them."""
    if not rows:
        return []
    return split_block(plan, src, keys, [len(r) for r in rows], np.concatenate(rows), times, values)


def split_block(
    plan: Plan,
    src: Source,
    keys: list[tuple[str, ...]],
    lengths: list[int],
    at: np.ndarray | None,
    times: np.ndarray,
    values: list[Col],
) -> list[Series]:
    """:func:`split_series` of the series' rows given as their numbers of rows and the row indexes of
    all of them in order (``at``; None: every row of ``times``, in order)."""
    if at is not None and (len(at) != len(times) or (len(at) and (at[0] != 0 or (np.diff(at) != 1).any()))):
        times = times[at]
        values = [v.take(at) for v in values]  # else the rows are all of them, in order
    block = Block(times, values)
    out: list[Series] = []
    lo = 0
    dims, name, columns = plan.dims, src.name, plan.columns
    in_order = dims == sorted(dims)  # (series_tags' dict without a sort per series)
    for key, n in zip(keys, lengths, strict=True):
        tags = (dict(zip(dims, key, strict=True)) if in_order else series_tags(dims, key)) if dims else None
        out.append(Series(name, tags, columns, times=times[lo : lo + n], block=(block, lo)))
        lo += n
    return out
