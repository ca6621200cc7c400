"""time_bucket_gapfill natively: the aggregate by the native executor, the filling in numpy.

sql/rewrite/gapfill.py lowers any gapfill statement to window SQL DuckDB runs (a few milliseconds of
DuckDB's own per statement, even over the native aggregate: sql/binder.py's native bodies). The
statement Grafana's TimescaleDB dashboards send most is simpler:

    SELECT time_bucket_gapfill('5 minutes', time) AS t, hostname, locf(avg(usage_user)) AS v
    FROM cpu WHERE hostname IN (...) AND time >= $1 AND time < $2 GROUP BY t, hostname ORDER BY t

For that shape :func:`plan` (given the statement before its rewrite) builds :class:`Gapfill`: the
aggregate with ``time_bucket`` as a native BucketAggregate, the range the rewrite would infer, and per
output what fills it. :meth:`Gapfill.execute` runs the aggregate and lays its rows on the grid of
buckets ``[time_bucket(width, start), finish)`` x the groups present, as the rewrite's SQL does:

- a bucket without a row shows NULL for a plain aggregate (count(*) too, as in TimescaleDB);
- ``locf(agg)``: the value of the group's latest real row at or before the bucket (a NULL one too),
  NULL before the first;
- ``interpolate(agg)`` of a float8: ``(y0*(x1-x) + y1*(x-x0)) / (x1-x0)`` between the group's real
  rows before and after, x in microseconds (``y0`` when ``y0 = y1``), NULL when either is missing
  or NULL;
- without ORDER BY, rows come by group, then time.

Everything else stays with the rewrite: start/finish/timezone/origin arguments, integer time,
locf/interpolate with more arguments or around expressions, expressions over aggregates, HAVING,
LIMIT, DISTINCT, joins, subqueries, a NULL tag in a group, data outside the range.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from sql import errors as E
from sql import executor, planner
from sql.planner import BucketAggregate
from sql.rewrite.gapfill import _infer_bounds, _is_aggregate, _parse_call, resolve_group
from sql.rewrite.time_bucket import call_args, call_name

if TYPE_CHECKING:
    from sql.engine import SqlSession

_FLOAT8 = 701


@dataclass
class Gapfill:
    inner: BucketAggregate  # buckets and groups: outputs "__gf_b", the tags, "__gf_a<k>"
    inner_oids: list[int]
    start: exp.Expression  # the range the buckets cover: [time_bucket(width, start), finish)
    finish: exp.Expression
    tags: list[str]  # the group columns (tags), in the inner plan's order
    # per output: (kind, index, name); kind "bucket" | "tag" (index into tags) | "agg" | "locf" |
    # "interpolate" (index into the inner aggregates)
    outputs: list[tuple[str, int, str]]
    order: list[tuple[str, bool, bool]] = field(default_factory=list)  # (output, desc, nulls first)

    @property
    def tz_sensitive(self) -> bool:
        return self.inner.tz_sensitive

    def explain(self) -> list[str]:
        fills = [f"{k}({n})" for k, _, n in self.outputs if k in ("locf", "interpolate")]
        lines = [f"Native Gapfill of {self.inner.meta.name}"]
        lines.append(f"  range: [{self.start.sql('postgres')}, {self.finish.sql('postgres')})")
        if fills:
            lines.append(f"  fill: {', '.join(fills)}")
        return lines + ["  " + line for line in self.inner.explain()]

    def execute(self, session: SqlSession, params: list) -> pa.Table:
        every = (self.inner.every_us or 0) * 1000
        lo, hi = session.evaluate_ns(self.start, params), session.evaluate_ns(self.finish, params)
        if lo is None or hi is None:
            raise executor.NotNative("a gapfill bound without a value: the rewrite reports it")
        data = executor.run(session, self.inner, params, self.inner_oids)
        assert isinstance(data, pa.Table)
        offset = executor.bucket_offset(session, self.inner, every)
        first = (lo - offset) // every * every + offset
        nb = max(0, -(-(hi - first) // every))
        times = data.column(0).cast(pa.int64()).to_numpy(zero_copy_only=False) * 1000
        k = (times - first) // every
        if len(k) and (int(k.min()) < 0 or int(k.max()) >= nb):
            raise executor.NotNative("rows outside the gapfill range: the rewrite passes them through")
        group, keys = self._groups(data)
        n = keys * nb
        row_of = np.full(n, -1, np.int64)  # the data row of each output row, -1 in a gap
        row_of[group * nb + k] = np.arange(data.num_rows)
        present = row_of >= 0
        idx = np.arange(n)
        start_of = idx // nb * nb if nb else idx  # each output row's group's first row
        before = np.maximum.accumulate(np.where(present, idx, -1)) if n else idx
        before[before < start_of] = -1
        after = np.minimum.accumulate(np.where(present, idx, n)[::-1])[::-1] if n else idx
        after[after >= start_of + nb] = n
        bucket_us = (first + (idx % nb if nb else idx) * every) // 1000  # each output row's bucket
        # a data row of each group (groups are numbered 0, 1, ...), for its tags on every row
        group_rows = pa.array(np.repeat(np.unique(group, return_index=True)[1], nb))
        columns = []
        for kind, i, _name in self.outputs:
            if kind == "bucket":
                columns.append(pa.array(bucket_us, pa.timestamp("us", tz="UTC")))
            elif kind == "tag":
                columns.append(data.column(1 + i).take(group_rows))
            else:
                col = data.column(1 + len(self.tags) + i)
                if kind == "agg":
                    columns.append(_take(col, row_of))
                elif kind == "locf":
                    columns.append(_take(col, np.where(before >= 0, row_of[np.maximum(before, 0)], -1)))
                else:
                    columns.append(_interpolate(col, row_of, before, after, bucket_us))
        table = pa.table(columns, names=[name for _, _, name in self.outputs])
        return executor.sort_rows(table, self.order) if self.order else table

    def _groups(self, data: pa.Table) -> tuple[np.ndarray, int]:
        """Each row's group (numbered in the order of its tag values) and how many there are: without
        tags one group, rows or not (all of its buckets gaps then); with tags, the groups present."""
        if not self.tags or not data.num_rows:
            return np.zeros(data.num_rows, np.int64), 0 if self.tags else 1
        codes = []
        for i in range(len(self.tags)):
            col = data.column(1 + i)
            if col.null_count:
                raise executor.NotNative("a NULL tag in a gapfill group: the rewrite orders it")
            enc = col.combine_chunks().dictionary_encode()  # codes in order of first appearance
            rank = np.empty(len(enc.dictionary), np.int64)  # ... renumbered in the values' order
            rank[pc.array_sort_indices(enc.dictionary).to_numpy()] = np.arange(len(rank))
            codes.append(rank[enc.indices.to_numpy()])
        stacked = np.stack(codes, axis=1)
        uniq, inverse = np.unique(stacked, axis=0, return_inverse=True)
        return inverse.reshape(-1).astype(np.int64), len(uniq)


def _take(col: pa.ChunkedArray, rows: np.ndarray) -> pa.ChunkedArray:
    return col.take(pa.array(rows, mask=rows < 0))


def _interpolate(
    col: pa.ChunkedArray,
    row_of: np.ndarray,
    before: np.ndarray,
    after: np.ndarray,
    bucket_us: np.ndarray,
) -> pa.Array:
    """interpolate(): real rows keep their value; a gap between two real rows of its group (before,
    after) is TimescaleDB's linear interpolation, x the buckets' microseconds."""
    n = len(row_of)
    values = col.to_numpy(zero_copy_only=False).astype(np.float64)
    valid = ~np.asarray(col.is_null().to_numpy(zero_copy_only=False), bool)
    own = row_of >= 0
    y = np.zeros(n)
    ok = np.zeros(n, bool)
    y[own], ok[own] = values[row_of[own]], valid[row_of[own]]
    gap = ~own & (before >= 0) & (after < n)
    if gap.any():
        r0, r1 = row_of[before[gap]], row_of[after[gap]]
        x, x0, x1 = bucket_us[gap], bucket_us[before[gap]], bucket_us[after[gap]]
        y0, y1 = values[r0], values[r1]
        with np.errstate(all="ignore"):
            v = (y0 * (x1 - x).astype(np.float64) + y1 * (x - x0).astype(np.float64)) / (x1 - x0)
        y[gap] = np.where(y0 == y1, y0, v)
        ok[gap] = valid[r0] & valid[r1]
    return pa.array(y, pa.float64(), mask=~ok)


def plan(
    session: SqlSession, tree: exp.Expression, param_oids: list[int], names: list[str]
) -> Gapfill | None:
    """The native plan of a gapfill statement (before its rewrite) of the shape above, else None.
    ``names``: its result columns' names, as described."""
    if not isinstance(tree, exp.Select):
        return None
    calls = [c for c in tree.find_all(exp.Anonymous) if call_name(c) == "time_bucket_gapfill"]
    if len(calls) != 1 or calls[0].find_ancestor(exp.Select) is not tree:
        return None
    for banned in (exp.Join, exp.Subquery, exp.Window, exp.With, exp.Lateral, exp.Union, exp.TableSample):
        if tree.find(banned) is not None:
            return None
    if any(tree.args.get(k) is not None for k in ("having", "limit", "offset", "distinct", "with_")):
        return None
    try:
        call = _parse_call(calls[0])
        groups = resolve_group(tree)
        if (
            not groups
            or call.integer
            or any(x is not None for x in (call.start, call.finish, call.timezone, call.origin))
        ):
            return None
        start, finish = _infer_bounds(tree, call)
    except E.SqlError:
        return None  # (the rewrite reports it)
    if not isinstance(call.ts, exp.Column):
        return None
    tags: list[str] = []
    for g in groups:
        if g == calls[0]:
            continue
        if not isinstance(g, exp.Column) or g.name in tags:
            return None
        tags.append(g.name)
    if sum(1 for g in groups if g == calls[0]) != 1:
        return None
    aggs: list[exp.Expression] = []
    outputs: list[tuple[str, int, str]] = []
    if len(names) != len(tree.expressions) or len(set(names)) != len(names):
        return None
    for item, name in zip(tree.expressions, names, strict=True):
        e = item.this if isinstance(item, exp.Alias) else item
        kind, inner = "agg", e
        if e is calls[0]:
            outputs.append(("bucket", 0, name))
            continue
        if isinstance(e, exp.Column) and not e.table and e.name in tags:
            outputs.append(("tag", tags.index(e.name), name))
            continue
        if call_name(e) in ("locf", "interpolate"):
            pos, named = call_args(e)
            if len(pos) != 1 or named:
                return None
            kind, inner = call_name(e), pos[0]
        if not _is_aggregate(inner) or any(
            _is_aggregate(a) for a in inner.find_all(exp.Expression) if a is not inner
        ):
            return None
        aggs.append(inner)
        outputs.append((kind, len(aggs) - 1, name))
    if not aggs:
        return None
    data = exp.select(
        exp.alias_(
            exp.Anonymous(this="time_bucket", expressions=[call.width.copy(), call.ts.copy()]), "__gf_b"
        ),
        *[exp.column(t) for t in tags],
        *[exp.alias_(a.copy(), f"__gf_a{i}") for i, a in enumerate(aggs)],
    ).from_(tree.args["from_"].copy())
    if tree.args.get("where") is not None:
        data.set("where", tree.args["where"].copy())
    data.set("group", exp.Group(expressions=[exp.column("__gf_b"), *[exp.column(t) for t in tags]]))
    try:
        rewritten = session._prepared_tree(data, describe=True)
        inner = planner.plan(session, rewritten)
        if not isinstance(inner, BucketAggregate) or not inner.every_us or inner.tz_sensitive:
            return None
        oids = [c.type_oid for c in session._describe(rewritten, param_oids)]
    except E.SqlError:
        return None
    if any(oids[1 + len(tags) + i] != _FLOAT8 for k, i, _ in outputs if k == "interpolate"):
        return None  # (integers and numerics interpolate with rounding: the rewrite's)
    order = planner.output_order(tree, names)
    if order is None:
        return None
    return Gapfill(inner, oids, start, finish, tags, outputs, order)
