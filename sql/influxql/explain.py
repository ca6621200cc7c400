"""EXPLAIN and EXPLAIN ANALYZE of an InfluxQL SELECT, in InfluxDB 1.x's shape.

EXPLAIN prints, per measurement read and per expression (each call of the SELECT; for a raw SELECT
one block, ``EXPRESSION: <nil>`` with its fields as AUXILIARY FIELDS), what the scan would read,
with InfluxDB's labels: shards, series, values in the cache (our memtables), files, blocks and
their bytes (columnar.scan.footprint: our chunk files and their blocks, where InfluxDB counts TSM
files and blocks). A measurement that does not exist gets a block of zeros, as InfluxDB prints.

    EXPRESSION: mean(usage_user::float)
    NUMBER OF SHARDS: 1
    NUMBER OF SERIES: 3
    CACHED VALUES: 50
    NUMBER OF FILES: 0
    NUMBER OF BLOCKS: 0
    SIZE OF BLOCKS: 0

EXPLAIN ANALYZE runs the statement and prints InfluxDB's tree (``.``, ``└── select`` ...) with the
execution, planning and total times, the statement with its types, and per measurement what was
read. Its numbers are tsgres's own: InfluxDB's iterator counters (cursors, blocks decoded by type)
have no counterpart here.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from columnar.scan import Footprint, ScanRequest, footprint
from sql.influxql import ast as A
from sql.influxql.compile import QueryError, compile_select
from sql.influxql.expand import expand_dimensions, expand_fields, union_schema
from sql.influxql.meta import tag_predicate
from sql.influxql.series import Series
from sql.influxql.source import Context, Source, measurements


def explain(ctx: Context, stmt: A.Explain) -> list[Series]:
    select = stmt.statement
    if select is None:
        raise QueryError("EXPLAIN needs a SELECT statement")
    if any(isinstance(s, A.SubQuery) for s in select.sources):
        raise QueryError("EXPLAIN of a SELECT over a subquery is not supported")
    if stmt.analyze:
        return [_analyze(ctx, select)]
    blocks = [_block(expr, aux, fp) for expr, aux, fp in _reads(ctx, select)]
    lines = [line for k, block in enumerate(blocks) for line in ([""] if k else []) + block]
    return [Series("", None, ["QUERY PLAN"], [[line] for line in lines], time_index=None)]


def _reads(ctx: Context, select: A.SelectStatement) -> list[tuple[str, str | None, Footprint]]:
    """(expression, auxiliary fields or None, footprint) per source as written and expression: as
    InfluxDB, a regex's measurements make one source (their footprints summed); references are
    typed by the statement's measurements together."""
    c = compile_select(select, ctx.now)
    per_source = [measurements(ctx, s) for s in select.sources]
    found: list[Source] = [src for group in per_source for src in group]
    schema = union_schema(found)
    fields = expand_fields(c, schema, expand_dimensions(c, schema)) if found else list(select.fields)
    predicate = tag_predicate(c.condition)
    expressions = _expressions(fields, schema.fields)  # (the same for every source)
    out = []
    for group in per_source:
        for expr, refs in expressions:
            fp = Footprint()
            for src in group:
                req = ScanRequest(
                    src.database, src.name, rp=src.rp, tmin=c.tmin, tmax=c.tmax, predicate=predicate
                )
                one = footprint(ctx.storage, req, refs)
                for k, v in dataclasses.asdict(one).items():
                    setattr(fp, k, getattr(fp, k) + v)
            aux = None if expr is not None else ", ".join(_typed(r, schema.fields) for r in sorted(refs))
            out.append((expr or "<nil>", aux, fp))
    return out


def _expressions(fields: list[A.Field], types: dict[str, str]) -> list[tuple[str | None, list[str]]]:
    """(the call as InfluxDB prints it, with its fields' types; the fields it reads) per call of
    the fields, outermost calls in order; without calls one (None, every field read)."""
    calls: list[A.Call] = []
    for f in fields:
        calls.extend(_outer_calls(f.expr))
    if not calls:
        refs = [r.name for f in fields for r in _refs(f.expr) if r.name in types]
        return [(None, list(dict.fromkeys(refs)))]
    return [
        (str(_with_types(call, types)), [r.name for r in _refs(call) if r.name in types]) for call in calls
    ]


def _outer_calls(e: Any) -> list[A.Call]:
    if isinstance(e, A.Call):
        return [e]
    if isinstance(e, A.BinaryExpr):
        return _outer_calls(e.lhs) + _outer_calls(e.rhs)
    if isinstance(e, A.ParenExpr):
        return _outer_calls(e.expr)
    return []


def _refs(e: Any) -> list[A.VarRef]:
    return [n for n in A.walk(e) if isinstance(n, A.VarRef)]


def _with_types(e: Any, types: dict[str, str]) -> Any:
    if isinstance(e, A.VarRef):
        return A.VarRef(e.name, e.type or types.get(e.name))
    if isinstance(e, A.Call):
        return A.Call(e.name, [_with_types(a, types) for a in e.args])
    if isinstance(e, A.BinaryExpr):
        return A.BinaryExpr(e.op, _with_types(e.lhs, types), _with_types(e.rhs, types))
    if isinstance(e, A.ParenExpr):
        return A.ParenExpr(_with_types(e.expr, types))
    return e


def _typed(name: str, types: dict[str, str]) -> str:
    return str(A.VarRef(name, types.get(name)))


def _block(expr: str, aux: str | None, fp: Footprint) -> list[str]:
    lines = [f"EXPRESSION: {expr}"]
    if aux is not None:
        lines.append(f"AUXILIARY FIELDS: {aux}")
    return lines + [
        f"NUMBER OF SHARDS: {fp.shards}",
        f"NUMBER OF SERIES: {fp.series}",
        f"CACHED VALUES: {fp.cached_values}",
        f"NUMBER OF FILES: {fp.files}",
        f"NUMBER OF BLOCKS: {fp.blocks}",
        f"SIZE OF BLOCKS: {fp.block_bytes}",
    ]


# -- EXPLAIN ANALYZE ------------------------------------------------------------------------------------
def _analyze(ctx: Context, select: A.SelectStatement) -> Series:
    from sql.influxql.select import execute_select

    started = time.perf_counter()
    reads = _reads(ctx, select)
    planned = time.perf_counter()
    series = execute_select(ctx, select)
    done = time.perf_counter()
    children: list[tuple[str, list]] = [
        ("labels", [(f"statement: {_typed_statement(ctx, select)}", [])]),
        ("rows", [(f"series: {len(series)}", []), (f"points: {sum(len(s.values) for s in series)}", [])]),
    ]
    for expr, aux, fp in reads:
        labels = [(f"expr: {expr}", [])] + ([(f"auxiliary_fields: {aux}", [])] if aux is not None else [])
        children.append(
            (
                "create_iterator",
                [
                    ("labels", labels),
                    (f"shards: {fp.shards}", []),
                    (f"series: {fp.series}", []),
                    (f"cached_values: {fp.cached_values}", []),
                    (f"files: {fp.files}", []),
                    (f"blocks: {fp.blocks}", []),
                    (f"blocks_size_bytes: {fp.block_bytes}", []),
                ],
            )
        )
    tree = (
        "select",
        [
            (f"execution_time: {_duration(done - planned)}", []),
            (f"planning_time: {_duration(planned - started)}", []),
            (f"total_time: {_duration(done - started)}", []),
            ("build_cursor", children),
        ],
    )
    lines = ["."] + _draw([tree], "")
    return Series("", None, ["EXPLAIN ANALYZE"], [[line] for line in lines], time_index=None)


def _typed_statement(ctx: Context, select: A.SelectStatement) -> A.SelectStatement:
    """The SELECT as InfluxDB prints it in EXPLAIN ANALYZE: references typed (fields by their type,
    tags ::tag), measurements qualified with their database and retention policy."""
    sources = [src for s in select.sources for src in measurements(ctx, s)]
    schema = union_schema(sources)
    types: dict[str, str] = {**dict.fromkeys(schema.tags, "tag"), **schema.fields}
    qualified = [A.Measurement(src.database, src.rp, src.name) for src in sources] or list(select.sources)
    return dataclasses.replace(
        select,
        fields=[dataclasses.replace(f, expr=_with_types(f.expr, types)) for f in select.fields],
        sources=qualified,
        condition=_with_types(select.condition, types) if select.condition is not None else None,
    )


def _draw(nodes: list[tuple[str, list]], prefix: str) -> list[str]:
    """A tree as InfluxDB prints it (its box characters and non-breaking spaces)."""
    out = []
    for k, (text, kids) in enumerate(nodes):
        last = k == len(nodes) - 1
        out.append(prefix + ("└── " if last else "├── ") + text)
        out.extend(_draw(kids, prefix + ("    " if last else "│\u00a0\u00a0 ")))
    return out


def _duration(seconds: float) -> str:
    """A duration as Go prints one (``13.41µs``, ``2.25823ms``, ``1.5s``)."""
    ns = round(seconds * 1e9)
    if ns < 1000:
        return f"{ns}ns"
    for unit, size in (("µs", 1e3), ("ms", 1e6), ("s", 1e9)):
        if ns < size * 1000 or unit == "s":
            return f"{ns / size:.6g}{unit}"
    return f"{ns}ns"
